/**
 * Table I/O for the DynamoDB adapter: every request the store makes goes
 * through here, so every one asks for ReturnConsumedCapacity TOTAL and adds
 * what it cost to one meter.
 *
 * - BatchWriteItem takes at most 25 requests per call and BatchGetItem 100 keys
 *   (16 MB either way); both may hand back unprocessed work, retried here with
 *   exponential backoff (DynamoDB API reference, BatchWriteItem / BatchGetItem).
 * - A Query page stops at 1 MB; queryAll and queryPage follow LastEvaluatedKey.
 * - A failed conditional write is billed by DynamoDB but the error carries no
 *   ConsumedCapacity: it is estimated from the size of the item we sent.
 * - At most MAX_IN_FLIGHT requests per client are outstanding, whoever sends
 *   them; the rest wait here, in order. The SDK's HTTP handler keeps 50 sockets
 *   per client and counts the wait for a free socket against its connection
 *   timeout, so a burst of thousands of requests (say four validators each
 *   reading a 1,000-batch round) would otherwise fail as connection timeouts.
 *   Multi-item calls also keep at most PARALLEL_CALLS of their own in flight.
 */
import {
  BatchGetItemCommand,
  BatchWriteItemCommand,
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
  type ConsumedCapacity,
  type DynamoDBClient,
  type QueryCommandInput,
  type UpdateItemCommandInput,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { decodeCursor, encodeCursor, itemBytes, type Item } from './codec.ts';

/** Capacity units consumed since the last reset (RCU, WCU). */
export interface Capacity {
  read: number;
  write: number;
}

export type Condition = { expression: string; names?: Record<string, string>; values?: Item };
type QueryInput = Omit<QueryCommandInput, 'TableName' | 'ReturnConsumedCapacity' | 'ExclusiveStartKey'>;
type UpdateInput = Omit<UpdateItemCommandInput, 'TableName' | 'ReturnConsumedCapacity'>;

const BATCH_WRITE_MAX = 25;
const BATCH_GET_MAX = 100;
const MAX_RETRIES = 10;
const PARALLEL_CALLS = 8;
/** Most items a filtered listing page evaluates (reads before the filter) in one request: 2,000 items, 1 to 8 MB. */
export const FILTERED_PAGE_EVALUATED = 2_000;

/** Requests outstanding per client, below the SDK's 50 sockets per client (NodeHttpHandler default). */
export const MAX_IN_FLIGHT = 32;

const isConditionFailure = (e: unknown): boolean => (e as Error)?.name === 'ConditionalCheckFailedException';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const backoff = (attempt: number): number => Math.min(25 * 2 ** attempt, 2000) * (0.5 + Math.random() / 2);
const keyString = (k: Item): string => `${k.pk?.S}\u0000${k.sk?.S}`;

/** Run fn over items with at most `limit` calls in flight; results in input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (x: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

function chunk<T>(xs: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += size) out.push(xs.slice(i, i + size));
  return out;
}

/** At most `limit` calls running; later ones wait in FIFO order (no timer runs while they wait). */
export class Gate {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(readonly limit: number) {}

  /** Calls running now and calls waiting (for tests and diagnostics). */
  get load(): { active: number; waiting: number } {
    return { active: this.active, waiting: this.waiting.length };
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active < this.limit) this.active++;
    else await new Promise<void>((r) => this.waiting.push(r)); // the releasing call hands its slot over
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}

/** One gate per client: stores sharing a client share its sockets. */
const gates = new WeakMap<DynamoDBClient, Gate>();
export function clientGate(client: DynamoDBClient): Gate {
  let g = gates.get(client);
  if (!g) gates.set(client, (g = new Gate(MAX_IN_FLIGHT)));
  return g;
}

const conditionFields = (c: Condition | undefined) =>
  c && { ConditionExpression: c.expression, ExpressionAttributeNames: c.names, ExpressionAttributeValues: c.values };

export class TableIo {
  private readonly gate: Gate;

  constructor(
    readonly client: DynamoDBClient,
    readonly tableName: string,
    readonly capacity: Capacity,
  ) {
    this.gate = clientGate(client);
  }

  private meter(kind: keyof Capacity, cc: ConsumedCapacity | ConsumedCapacity[] | undefined): void {
    for (const c of Array.isArray(cc) ? cc : cc ? [cc] : []) this.capacity[kind] += c.CapacityUnits ?? 0;
  }

  async get(key: Item, consistent: boolean): Promise<Item | undefined> {
    const res = await this.gate.run(() => this.client.send(
      new GetItemCommand({ TableName: this.tableName, Key: key, ConsistentRead: consistent, ReturnConsumedCapacity: 'TOTAL' }),
    ));
    this.meter('read', res.ConsumedCapacity);
    return res.Item;
  }

  /** Put, optionally conditional; false when the condition failed. */
  async put(item: Item, condition?: Condition): Promise<boolean> {
    const command = new PutItemCommand({ TableName: this.tableName, Item: item, ReturnConsumedCapacity: 'TOTAL', ...conditionFields(condition) });
    return this.conditional(() => this.client.send(command), condition, Math.max(1, Math.ceil(itemBytes(item) / 1024)));
  }

  /** UpdateItem; the new item (ReturnValues ALL_NEW) or null when the condition failed. */
  async update(input: UpdateInput): Promise<Item | null> {
    try {
      const res = await this.gate.run(() => this.client.send(
        new UpdateItemCommand({ ...input, TableName: this.tableName, ReturnValues: 'ALL_NEW', ReturnConsumedCapacity: 'TOTAL' }),
      ));
      this.meter('write', res.ConsumedCapacity);
      return res.Attributes ?? {};
    } catch (e) {
      if (!input.ConditionExpression || !isConditionFailure(e)) throw e;
      this.capacity.write += 1;
      return null;
    }
  }

  /** Delete, optionally conditional; false when the condition failed. */
  async delete(key: Item, condition?: Condition): Promise<boolean> {
    const command = new DeleteItemCommand({ TableName: this.tableName, Key: key, ReturnConsumedCapacity: 'TOTAL', ...conditionFields(condition) });
    return this.conditional(() => this.client.send(command), condition, 1);
  }

  /**
   * One write; false when its condition failed. A failed condition is billed but
   * reports no ConsumedCapacity: `failedUnits` is added instead (a lower bound).
   */
  private async conditional(send: () => Promise<{ ConsumedCapacity?: ConsumedCapacity }>, condition: Condition | undefined, failedUnits: number): Promise<boolean> {
    try {
      const res = await this.gate.run(send);
      this.meter('write', res.ConsumedCapacity);
      return true;
    } catch (e) {
      if (!condition || !isConditionFailure(e)) throw e;
      this.capacity.write += failedUnits;
      return false;
    }
  }

  async query(input: QueryInput, start?: Item): Promise<{ items: Item[]; last?: Item }> {
    const res = await this.gate.run(() => this.client.send(
      new QueryCommand({ ...input, TableName: this.tableName, ExclusiveStartKey: start, ReturnConsumedCapacity: 'TOTAL' }),
    ));
    this.meter('read', res.ConsumedCapacity);
    return { items: res.Items ?? [], ...(res.LastEvaluatedKey && { last: res.LastEvaluatedKey }) };
  }

  /** Every item the query matches, following 1 MB pages (and Limit, if set, per page). */
  async queryAll(input: QueryInput, max = Infinity): Promise<Item[]> {
    const out: Item[] = [];
    let start: Item | undefined;
    do {
      const page = await this.query(input, start);
      out.push(...page.items);
      start = page.last;
    } while (start && out.length < max);
    return out.length > max ? out.slice(0, max) : out;
  }

  /**
   * One page for a public listing. Reads until it holds limit + 1 matches (or
   * the partition ends) so a cursor is returned only when another item exists;
   * the cursor is the key of the last returned item.
   *
   * With a FilterExpression, a page also stops once it has evaluated
   * `evaluate` items (FILTERED_PAGE_EVALUATED by default): a filter that matches
   * little (one validator's faults among another's thousands) must not read a
   * whole partition in one request. The page then holds fewer items than
   * `limit`, possibly none, and its cursor is the key of the last item read:
   * a client pages on until no cursor comes back (docs/api.md, Pagination).
   */
  async queryPage(
    input: QueryInput,
    opts: { limit: number; cursor?: string; keyNames: readonly string[]; partition: [string, string]; evaluate?: number },
  ): Promise<{ items: Item[]; cursor?: string }> {
    let start = opts.cursor === undefined ? undefined : decodeCursor(opts.cursor, opts.keyNames, opts.partition);
    const filtered = input.FilterExpression !== undefined;
    const budget = opts.evaluate ?? FILTERED_PAGE_EVALUATED;
    let evaluated = 0;
    const items: Item[] = [];
    do {
      const want = opts.limit + 1 - items.length;
      // Limit bounds the items a call evaluates, before the filter: the budget's remainder at most.
      const limit = filtered ? Math.min(Math.max(want, 100), budget - evaluated) : want;
      const page = await this.query({ ...input, Limit: limit }, start);
      evaluated += limit;
      items.push(...page.items);
      start = page.last;
    } while (start && items.length <= opts.limit && (!filtered || evaluated < budget));
    if (items.length <= opts.limit) return start && filtered ? { items, cursor: encodeCursor(start, opts.keyNames) } : { items };
    const kept = items.slice(0, opts.limit);
    return { items: kept, cursor: encodeCursor(kept[kept.length - 1]!, opts.keyNames) };
  }

  /** Independent puts/deletes, 25 per call, a few calls in flight, unprocessed items retried. */
  async batchWrite(requests: WriteRequest[]): Promise<void> {
    // One call may not name the same key twice; the last request for a key wins.
    const byKey = new Map<string, WriteRequest>();
    for (const r of requests) byKey.set(keyString(r.PutRequest?.Item ?? r.DeleteRequest?.Key ?? {}), r);
    await mapLimit(chunk([...byKey.values()], BATCH_WRITE_MAX), PARALLEL_CALLS, async (part) => {
      let pending = part;
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt > MAX_RETRIES) throw new Error(`store: BatchWriteItem left ${pending.length} items unprocessed`);
        if (attempt > 0) await sleep(backoff(attempt));
        const res = await this.gate.run(() => this.client.send(
          new BatchWriteItemCommand({ RequestItems: { [this.tableName]: pending }, ReturnConsumedCapacity: 'TOTAL' }),
        ));
        this.meter('write', res.ConsumedCapacity);
        pending = res.UnprocessedItems?.[this.tableName] ?? [];
      }
    });
  }

  /**
   * Items for the given keys (deduplicated), 100 per call, PARALLEL_CALLS calls
   * in flight; order not kept. Unprocessed keys are asked again: at once, and
   * only as many per call as the last call answered, when that call made
   * progress (the response size limit: 16 MB in DynamoDB, about 1.4 MB in
   * dynalite, i.e. some 40 batch items of 1,000 hashes); after a backoff
   * when it made none (throttling), at most MAX_RETRIES times in a row.
   */
  async batchGet(keys: Item[], consistent: boolean): Promise<Item[]> {
    const unique = [...new Map(keys.map((k) => [keyString(k), k])).values()];
    const pages = await mapLimit(chunk(unique, BATCH_GET_MAX), PARALLEL_CALLS, async (part) => {
      const found: Item[] = [];
      let pending = part;
      let take = part.length;
      for (let stalls = 0; pending.length > 0; ) {
        const ask = pending.slice(0, take);
        const res = await this.gate.run(() => this.client.send(
          new BatchGetItemCommand({
            RequestItems: { [this.tableName]: { Keys: ask, ConsistentRead: consistent } },
            ReturnConsumedCapacity: 'TOTAL',
          }),
        ));
        this.meter('read', res.ConsumedCapacity);
        found.push(...(res.Responses?.[this.tableName] ?? []));
        const left = res.UnprocessedKeys?.[this.tableName]?.Keys ?? [];
        pending = [...left, ...pending.slice(ask.length)];
        if (left.length === 0) continue;
        if (left.length < ask.length) {
          stalls = 0;
          take = ask.length - left.length;
          continue;
        }
        if (++stalls > MAX_RETRIES) throw new Error(`store: BatchGetItem left ${pending.length} keys unprocessed`);
        await sleep(backoff(stalls));
      }
      return found;
    });
    return pages.flat();
  }

  /** Run independent single-item calls with bounded parallelism. */
  parallel<T, R>(xs: readonly T[], fn: (x: T) => Promise<R>): Promise<R[]> {
    return mapLimit(xs, PARALLEL_CALLS, fn);
  }
}
