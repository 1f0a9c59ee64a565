/**
 * Eventually consistent reads for tests: a wrapper around a real engine's
 * client (dynalite) whose eventually consistent reads lag behind recent writes
 * the way DynamoDB allows, plus optional random delays before writes.
 *
 * DynamoDB Developer Guide, "Read consistency": a read without
 * `ConsistentRead: true` "might not reflect the results of a recently
 * completed write", and reads of a global secondary index are always
 * eventually consistent. dynalite answers every read consistently, so code
 * that is only correct with consistent reads passes on it. Requests still go
 * to the engine; only the answers to eventually consistent reads are rewritten.
 *
 * Model:
 * - A write (PutItem, UpdateItem, DeleteItem, BatchWriteItem) sent through a
 *   wrapped client waits its random delay, locks its keys (sorted, so two
 *   writes never wait on each other in a cycle), reads each item's current
 *   version consistently, sends the write and, when it succeeds, records
 *   `{ seq, before }` for every key it wrote (an item left in UnprocessedItems
 *   was not written). seq counts item writes, over every client the engine
 *   wrapped: several coordinators, validators and APIs on one table.
 * - An eventually consistent read (GetItem, a BatchGetItem table entry, Query,
 *   Scan without `ConsistentRead: true`; every Query or Scan on an index) picks
 *   a horizon H = seq - r, r uniform in 0..maxLagWrites, and shows each item
 *   as it was before its earliest write after H: an updated item as its older
 *   version, a new item not at all, a deleted item again (Get and BatchGet).
 *   With one horizon per request a read sees a prefix of the writes, never a
 *   write without an earlier one. DynamoDB promises no such prefix across
 *   items: `perItemLag` draws a horizon per item instead.
 * - History older than maxLagWrites writes is dropped: no horizon reaches it.
 *
 * Not modelled:
 * - Query and Scan never bring a deleted item back: the engine no longer
 *   returns it, and this wrapper does not evaluate key conditions. An older
 *   version takes the newer one's place in the result as it is: the key
 *   condition, filter and sort order are not evaluated on it, nor the index's
 *   projection (gsi1 projects ALL). Count follows the items served; consumed
 *   capacity is what the engine reported.
 * - Eventually consistent reads with ProjectionExpression, AttributesToGet or
 *   a Select other than all attributes are refused (an older version would
 *   need projecting); consistent ones pass through.
 * - Writes not sent through a wrapped client (the raw client, another
 *   process), transactions and PartiQL are not recorded: reads see them at
 *   once. A write that fails records nothing, even if the engine applied it.
 * - Lag is counted in writes, not time. In DynamoDB a read a second after the
 *   last write is almost always fresh; here, with no writes after it, each
 *   read is still stale with probability maxLagWrites / (maxLagWrites + 1)
 *   (each read draws its own lag, so a poll does get through).
 */
import { isDeepStrictEqual } from 'node:util';
import {
  BatchGetItemCommand,
  BatchWriteItemCommand,
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  ScanCommand,
  UpdateItemCommand,
  type AttributeValue,
  type BatchGetItemCommandOutput,
  type BatchWriteItemCommandOutput,
  type DynamoDBClient,
  type GetItemCommandOutput,
  type QueryCommandOutput,
} from '@aws-sdk/client-dynamodb';

type Item = Record<string, AttributeValue>;
type Send = (command: unknown, options?: unknown) => Promise<unknown>;

export interface LaggingOptions {
  /** How many item writes an eventually consistent read may lag behind (default 100); 0 = never stale. */
  maxLagWrites?: number;
  /** Random delay before each write request is sent, in ms, [min, max] (default none). */
  writeDelayMs?: readonly [number, number];
  /** Seed of the PRNG (xorshift32) that picks lags and delays (default 1). */
  seed?: number;
  /** One horizon per item instead of per request: a read may see a write without an earlier one (default false). */
  perItemLag?: boolean;
}

export interface LaggingStats {
  /** Item writes recorded (a BatchWriteItem counts one per item written). */
  writes: number;
  /** Eventually consistent read requests seen. */
  eventualReads: number;
  /** Items served other than the engine answered: an older version, left out, or brought back. */
  staleItems: number;
  /** Recorded writes still held (at most maxLagWrites). */
  historySize: number;
}

export interface LaggingEngine {
  /** A client that sends to `client` and lags its eventually consistent reads; every client one engine wraps shares one write history. */
  wrap(client: DynamoDBClient): DynamoDBClient;
  stats(): LaggingStats;
}

const BATCH_GET_MAX = 100;
const MAX_STALLS = 10;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** xorshift32 (Marsaglia 2003), seeded through a splitmix32 step so any seed, 0 included, gives a non-zero state; uniform in [0, 1). */
function xorshift32(seed: number): () => number {
  let z = (seed + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  let s = (z ^ (z >>> 16)) >>> 0 || 1;
  return () => {
    s = (s ^ (s << 13)) >>> 0;
    s = (s ^ (s >>> 17)) >>> 0;
    s = (s ^ (s << 5)) >>> 0;
    return s / 2 ** 32;
  };
}

/** Identity of an item: table, pk, sk (the table's key is always pk/sk strings); undefined when the item has no such key. */
function keyId(table: string | undefined, item: Item | undefined): string | undefined {
  const pk = item?.pk?.S;
  const sk = item?.sk?.S;
  return table === undefined || pk === undefined || sk === undefined ? undefined : JSON.stringify([table, pk, sk]);
}

/** Per-key FIFO locks. */
class KeyLocks {
  private readonly tails = new Map<string, Promise<void>>();

  /** Takes every key in sorted order, so requests that share keys never wait on each other in a cycle; returns the release. */
  async acquire(ids: readonly string[]): Promise<() => void> {
    const releases: (() => void)[] = [];
    for (const id of [...new Set(ids)].sort()) {
      const prev = this.tails.get(id);
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      this.tails.set(id, held);
      releases.push(() => {
        release();
        if (this.tails.get(id) === held) this.tails.delete(id);
      });
      if (prev) await prev;
    }
    return () => releases.forEach((r) => r());
  }
}

interface Write {
  seq: number;
  id: string;
  before: Item | undefined;
}

/** Recorded writes of the last maxLag seqs, per key in seq order. */
class History {
  seq = 0;
  private readonly byKey = new Map<string, Write[]>();
  private readonly queue: Write[] = [];
  private head = 0;

  constructor(private readonly maxLag: number) {}

  get size(): number {
    return this.queue.length - this.head;
  }

  record(id: string, before: Item | undefined): void {
    const w = { seq: ++this.seq, id, before };
    this.queue.push(w);
    const list = this.byKey.get(id);
    if (list) list.push(w);
    else this.byKey.set(id, [w]);
    this.prune();
  }

  /** The earliest write of `id` after `horizon`, if any: the item is served as its `before`. */
  after(id: string, horizon: number): Write | undefined {
    return this.byKey.get(id)?.find((w) => w.seq > horizon);
  }

  /** Horizons are >= seq - maxLag, so a write at or below that is never after one. */
  private prune(): void {
    while (this.head < this.queue.length && this.queue[this.head]!.seq <= this.seq - this.maxLag) {
      const w = this.queue[this.head++]!;
      const list = this.byKey.get(w.id)!;
      list.shift(); // per key, writes are recorded in seq order: the oldest is first
      if (list.length === 0) this.byKey.delete(w.id);
    }
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
  }
}

interface Target {
  id: string;
  table: string;
  key: Item;
}

/** The keys a write request names, or undefined when it is no recorded write or a key cannot be derived (the engine then judges it). */
function writeTargets(command: unknown): Target[] | undefined {
  const raw: [string | undefined, Item | undefined][] = [];
  if (command instanceof PutItemCommand) raw.push([command.input.TableName, command.input.Item]);
  else if (command instanceof UpdateItemCommand || command instanceof DeleteItemCommand) raw.push([command.input.TableName, command.input.Key]);
  else if (command instanceof BatchWriteItemCommand) {
    for (const [table, requests] of Object.entries(command.input.RequestItems ?? {})) {
      for (const r of requests) raw.push([table, r.PutRequest?.Item ?? r.DeleteRequest?.Key]);
    }
  } else return undefined;
  const targets = new Map<string, Target>();
  for (const [table, item] of raw) {
    const id = keyId(table, item);
    if (id === undefined) return undefined;
    targets.set(id, { id, table: table!, key: { pk: item!.pk!, sk: item!.sk! } });
  }
  return [...targets.values()];
}

/** Current versions of the targets, read consistently (BatchGetItem: 100 keys per call, unprocessed keys asked again). */
async function readCurrent(send: Send, targets: readonly Target[]): Promise<Map<string, Item>> {
  const found = new Map<string, Item>();
  if (targets.length === 1) {
    const t = targets[0]!;
    const res = (await send(new GetItemCommand({ TableName: t.table, Key: t.key, ConsistentRead: true }))) as GetItemCommandOutput;
    if (res.Item) found.set(t.id, res.Item);
    return found;
  }
  for (const table of new Set(targets.map((t) => t.table))) {
    const keys = targets.filter((t) => t.table === table).map((t) => t.key);
    for (let i = 0; i < keys.length; i += BATCH_GET_MAX) {
      let pending = keys.slice(i, i + BATCH_GET_MAX);
      for (let stalls = 0; pending.length > 0; ) {
        const res = (await send(
          new BatchGetItemCommand({ RequestItems: { [table]: { Keys: pending, ConsistentRead: true } } }),
        )) as BatchGetItemCommandOutput;
        for (const it of res.Responses?.[table] ?? []) found.set(keyId(table, it)!, it);
        const left = res.UnprocessedKeys?.[table]?.Keys ?? [];
        if (left.length < pending.length) stalls = 0;
        else if (++stalls > MAX_STALLS) throw new Error(`lagging engine: BatchGetItem left ${left.length} keys unprocessed`);
        else await sleep(25 * 2 ** stalls);
        pending = left;
      }
    }
  }
  return found;
}

/** Eventually consistent reads of an older version need the whole item. */
function refuseProjection(input: { ProjectionExpression?: string; AttributesToGet?: string[]; Select?: string }): void {
  if (input.ProjectionExpression !== undefined || input.AttributesToGet !== undefined) {
    throw new Error('lagging engine: eventually consistent reads with a projection are not modelled');
  }
  if (input.Select !== undefined && input.Select !== 'ALL_ATTRIBUTES' && input.Select !== 'ALL_PROJECTED_ATTRIBUTES') {
    throw new Error(`lagging engine: eventually consistent reads with Select ${input.Select} are not modelled`);
  }
}

export function laggingEngine(options: LaggingOptions = {}): LaggingEngine {
  const maxLag = options.maxLagWrites ?? 100;
  if (!Number.isSafeInteger(maxLag) || maxLag < 0) throw new Error(`lagging engine: maxLagWrites must be a non-negative integer, got ${maxLag}`);
  const delay = options.writeDelayMs;
  if (delay && !(delay[0] >= 0 && delay[1] >= delay[0] && Number.isFinite(delay[1]))) {
    throw new Error(`lagging engine: writeDelayMs must be [min, max] with 0 <= min <= max, got [${delay.join(', ')}]`);
  }
  const random = xorshift32(options.seed ?? 1);
  const history = new History(maxLag);
  const locks = new KeyLocks();
  const counts = { eventualReads: 0, staleItems: 0 };
  const lag = (): number => Math.floor(random() * (maxLag + 1));

  /** Drawn when the request is made; the horizon is taken against seq when the answer is rewritten. */
  function horizon(): () => number {
    const r = options.perItemLag ? undefined : lag();
    return () => history.seq - (r ?? lag());
  }

  /** What an eventually consistent read serves for an item the engine answered as `actual`. */
  function serve(id: string | undefined, actual: Item | undefined, at: () => number): Item | undefined {
    const w = id === undefined ? undefined : history.after(id, at());
    if (!w) return actual;
    if (!isDeepStrictEqual(w.before, actual)) counts.staleItems++;
    return w.before && structuredClone(w.before);
  }

  async function write(send: Send, command: unknown, targets: Target[], sendOptions: unknown, delayMs: number): Promise<unknown> {
    if (delayMs > 0) await sleep(delayMs);
    const release = await locks.acquire(targets.map((t) => t.id));
    try {
      const before = maxLag > 0 ? await readCurrent(send, targets) : new Map<string, Item>();
      const out = await send(command, sendOptions); // a failure (a condition too) records nothing and passes through unchanged
      const skipped = new Set<string | undefined>();
      for (const [table, rs] of Object.entries((out as BatchWriteItemCommandOutput).UnprocessedItems ?? {})) {
        for (const r of rs) skipped.add(keyId(table, r.PutRequest?.Item ?? r.DeleteRequest?.Key));
      }
      for (const t of targets) if (!skipped.has(t.id)) history.record(t.id, before.get(t.id));
      return out;
    } finally {
      release();
    }
  }

  async function getItem(send: Send, command: GetItemCommand, sendOptions: unknown): Promise<unknown> {
    const input = command.input;
    if (input.ConsistentRead === true) return send(command, sendOptions);
    refuseProjection(input);
    const at = horizon();
    const out = { ...((await send(command, sendOptions)) as GetItemCommandOutput) };
    counts.eventualReads++;
    const item = serve(keyId(input.TableName, input.Key), out.Item, at);
    if (item) out.Item = item;
    else delete out.Item;
    return out;
  }

  async function batchGetItem(send: Send, command: BatchGetItemCommand, sendOptions: unknown): Promise<unknown> {
    const lagged = Object.entries(command.input.RequestItems ?? {}).filter(([, r]) => r.ConsistentRead !== true);
    if (lagged.length === 0) return send(command, sendOptions);
    lagged.forEach(([, r]) => refuseProjection(r));
    const at = horizon();
    const out = (await send(command, sendOptions)) as BatchGetItemCommandOutput;
    counts.eventualReads++;
    const responses = { ...out.Responses };
    for (const [table, request] of lagged) {
      const answered = new Set((out.UnprocessedKeys?.[table]?.Keys ?? []).map((k) => keyId(table, k)));
      const served: Item[] = [];
      for (const it of out.Responses?.[table] ?? []) {
        const id = keyId(table, it);
        answered.add(id);
        const item = serve(id, it, at);
        if (item) served.push(item);
      }
      for (const k of request.Keys ?? []) {
        const id = keyId(table, k);
        if (answered.has(id)) continue;
        answered.add(id);
        const item = serve(id, undefined, at); // absent now: a recent delete may still show
        if (item) served.push(item);
      }
      responses[table] = served;
    }
    return { ...out, Responses: responses };
  }

  async function queryOrScan(send: Send, command: QueryCommand | ScanCommand, sendOptions: unknown): Promise<unknown> {
    const input = command.input;
    if (input.IndexName === undefined && input.ConsistentRead === true) return send(command, sendOptions);
    refuseProjection(input);
    const at = horizon();
    const out = (await send(command, sendOptions)) as QueryCommandOutput;
    counts.eventualReads++;
    const served: Item[] = [];
    for (const it of out.Items ?? []) {
      const item = serve(keyId(input.TableName, it), it, at);
      if (item) served.push(item);
    }
    const dropped = (out.Items?.length ?? 0) - served.length;
    return {
      ...out,
      Items: served,
      ...(out.Count !== undefined && { Count: served.length }),
      ...(out.ScannedCount !== undefined && { ScannedCount: Math.max(0, out.ScannedCount - dropped) }),
    };
  }

  function handle(send: Send, command: unknown, sendOptions: unknown): Promise<unknown> {
    const targets = writeTargets(command);
    if (targets) {
      const delayMs = delay ? delay[0] + random() * (delay[1] - delay[0]) : 0; // drawn in call order
      return write(send, command, targets, sendOptions, delayMs);
    }
    if (command instanceof GetItemCommand) return getItem(send, command, sendOptions);
    if (command instanceof BatchGetItemCommand) return batchGetItem(send, command, sendOptions);
    if (command instanceof QueryCommand || command instanceof ScanCommand) return queryOrScan(send, command, sendOptions);
    return send(command, sendOptions);
  }

  return {
    wrap(client: DynamoDBClient): DynamoDBClient {
      const send: Send = (command, opts) => (client.send as unknown as Send).call(client, command, opts);
      // Same overloads as Client.send: (command, options?) => Promise, or a callback last.
      const laggingSend = (command: unknown, optionsOrCb?: unknown, cb?: unknown): Promise<unknown> | void => {
        const callback = typeof optionsOrCb === 'function' ? optionsOrCb : cb;
        let p: Promise<unknown>;
        try {
          p = handle(send, command, typeof optionsOrCb === 'function' ? undefined : optionsOrCb);
        } catch (e) {
          p = Promise.reject(e);
        }
        if (typeof callback !== 'function') return p;
        p.then((r) => callback(null, r), (e: unknown) => callback(e));
      };
      // Everything else (config, middlewareStack, destroy...) is the client's own.
      return new Proxy(client, { get: (target, prop, receiver) => (prop === 'send' ? laggingSend : Reflect.get(target, prop, receiver)) });
    },
    stats: () => ({ writes: history.seq, ...counts, historySize: history.size }),
  };
}
