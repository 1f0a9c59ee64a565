/**
 * The DynamoDB adapter of the store port (port.ts), for AWS and for dynalite.
 *
 * One table, pk/sk strings, one index for the event listing; keys and item
 * shapes are in items.ts, the access patterns and their costs in README.md.
 * No transactions and no streams (dynalite has neither): every method is one
 * conditional write, or independent idempotent writes ordered so that a crash
 * between two of them leaves nothing visible that is incomplete (batch parts
 * and proposal chunks before their head item; API key listing before lookup;
 * outbox markers before their events). The webhook part of the port is
 * `webhooks` (webhook-store.ts), on the same TableIo. Every request reports
 * ConsumedCapacity, summed in `capacity`.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ServiceError, serviceFail } from '../errors.ts';
import {
  IDEMPOTENCY_TTL_SECONDS,
  MEMBERS_PER_CHUNK,
  N,
  S,
  SHARDS,
  bytes,
  corrupt,
  epochSeconds,
  height12,
  hex64,
  invalid,
  isHex64,
  keyPart,
  keyTail,
  nonNegInt,
  num,
  pageLimit,
  str,
  timestamp,
  type Item,
} from './codec.ts';
import { TableIo, type Capacity } from './dynamo-io.ts';
import {
  agencyFrom,
  agencyItem,
  apiKeyAttributes,
  apiKeyFrom,
  batchFrom,
  batchItems,
  batchPartRange,
  blockFrom,
  blockItem,
  eventFrom,
  eventItem,
  historyFrom,
  historyItem,
  keys,
  membersAttributes,
  membersFrom,
  pendingFrom,
  pendingItem,
  placementFrom,
  placementItem,
  publicationFrom,
  publicationItem,
  quarantineFrom,
  quarantineItem,
} from './items.ts';
import type * as P from './port.ts';
import { EVENTS_INDEX, TTL_ATTRIBUTE } from './table.ts';
import { outboxItem } from './webhook-items.ts';
import type { WebhookStore } from './webhook-port.ts';
import { DynamoWebhookStore } from './webhook-store.ts';

const NOT_EXISTS = { expression: 'attribute_not_exists(pk)' };

const HASH = 32;
const MAX_LEVEL = 63;

export class DynamoStore implements P.Store {
  /** Capacity units consumed by this instance since construction or resetCapacity(). */
  readonly capacity: Capacity = { read: 0, write: 0 };
  readonly webhooks: WebhookStore;
  private readonly io: TableIo;
  private readonly now: () => Date;

  /** `now`: the clock for the outbox markers' writtenAt (tests pass their own). */
  constructor(client: DynamoDBClient, readonly tableName: string, opts: { now?: () => Date } = {}) {
    this.io = new TableIo(client, tableName, this.capacity);
    this.now = opts.now ?? (() => new Date());
    this.webhooks = new DynamoWebhookStore(this.io);
  }

  resetCapacity(): void {
    this.capacity.read = 0;
    this.capacity.write = 0;
  }

  // ---- agencies and API keys ------------------------------------------------

  /** Conditional put; repeating an identical create is a no-op, a different agency under the id is refused. */
  async createAgency(agency: P.Agency): Promise<void> {
    keyPart('agency id', agency.id);
    if (await this.io.put(agencyItem(agency), NOT_EXISTS)) return;
    const existing = await this.getAgency(agency.id);
    if (existing?.name !== agency.name || existing.createdAt !== agency.createdAt) invalid(`agency ${agency.id} already exists`);
  }

  async getAgency(id: string): Promise<P.Agency | null> {
    const it = await this.io.get(keys.agency(keyPart('agency id', id)), true);
    return it ? agencyFrom(it) : null;
  }

  /** Listing copy first, then the lookup copy that makes the key usable. */
  async putApiKey(key: P.ApiKey): Promise<void> {
    keyPart('key id', key.keyId);
    keyPart('agency id', key.agencyId);
    hex64('key hash', key.keyHash);
    const attrs = apiKeyAttributes(key);
    await this.io.put({ ...keys.agencyKey(key.agencyId, key.keyId), ...attrs });
    await this.io.put({ ...keys.apiKey(key.keyHash), ...attrs });
  }

  /** Strongly consistent, so a revocation is honoured at once. */
  async getApiKeyByHash(keyHash: string): Promise<P.ApiKey | null> {
    if (!isHex64(keyHash)) return null;
    const it = await this.io.get(keys.apiKey(keyHash), true);
    return it ? apiKeyFrom(it) : null;
  }

  async listApiKeys(agencyId: string): Promise<P.ApiKey[]> {
    const items = await this.io.queryAll({
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
      ExpressionAttributeValues: { ':pk': S(`AGENCY#${keyPart('agency id', agencyId)}`), ':p': S('KEY#') },
      ConsistentRead: true,
    });
    return items.map(apiKeyFrom);
  }

  /** Sets revokedAt on both copies (first revocation time wins); false when the agency has no such key. */
  async revokeApiKey(agencyId: string, keyId: string, at: P.Timestamp): Promise<boolean> {
    const update = {
      UpdateExpression: 'SET revokedAt = if_not_exists(revokedAt, :at)',
      ConditionExpression: 'attribute_exists(pk)',
      ExpressionAttributeValues: { ':at': S(at) },
    };
    const listed = await this.io.update({ Key: keys.agencyKey(keyPart('agency id', agencyId), keyPart('key id', keyId)), ...update });
    if (listed === null) return false;
    await this.io.update({ Key: keys.apiKey(str(listed, 'keyHash')), ...update });
    return true;
  }

  // ---- intake ---------------------------------------------------------------------

  /** Conditional on absence or expiry (TTL deletion lags, so an expired record counts as absent). */
  async claimIdempotencyKey(
    rec: P.IdempotencyRecord,
  ): Promise<{ created: true } | { created: false; existing: P.IdempotencyRecord }> {
    const key = keys.idempotency(keyPart('agency id', rec.agencyId), keyTail('idempotency key', rec.key));
    const now = epochSeconds(timestamp('createdAt', rec.createdAt));
    const item: Item = {
      ...key,
      requestHash: S(rec.requestHash),
      batchId: S(rec.batchId),
      createdAt: S(rec.createdAt),
      [TTL_ATTRIBUTE]: N(now + IDEMPOTENCY_TTL_SECONDS),
    };
    const condition = {
      expression: 'attribute_not_exists(pk) OR #ttl < :now',
      names: { '#ttl': TTL_ATTRIBUTE },
      values: { ':now': N(now) },
    };
    for (let attempt = 0; attempt < 3; attempt++) {
      if (await this.io.put(item, condition)) return { created: true };
      const it = await this.io.get(key, true);
      if (it) {
        const existing = { agencyId: rec.agencyId, key: rec.key, requestHash: str(it, 'requestHash'), batchId: str(it, 'batchId'), createdAt: str(it, 'createdAt') };
        return { created: false, existing };
      }
    }
    throw new Error('store: idempotency record keeps changing');
  }

  /**
   * Parts first (keyed by the digest of the batch's bytes), then the head with
   * attribute_not_exists: the head is the commit point, so a stored batch is
   * never rewritten and never mixes the parts of two writers. A writer that
   * loses the head deletes its own parts if they are not the committed ones.
   * (Without an idempotency key the id is fresh: one writer, a plain put.)
   */
  async putBatch(batch: P.Batch): Promise<'created' | 'exists'> {
    keyPart('batch id', batch.id);
    keyPart('agency id', batch.agencyId);
    timestamp('arrivedAt', batch.arrivedAt);
    nonNegInt('count', batch.count);
    bytes('hashes', batch.hashes, HASH * batch.count);
    bytes('root', batch.root, HASH);
    if (batch.entries !== undefined && (!Array.isArray(batch.entries) || batch.entries.length !== batch.count)) {
      invalid('entries must have one element per hash');
    }
    const { head, parts } = batchItems(batch);
    if (parts.length > 0) await this.io.batchWrite(parts.map((Item) => ({ PutRequest: { Item } })));
    // Only a request with an Idempotency-Key can be written twice under one id (its retries reuse
    // the id); any other batch id is fresh (80 random bits), so its head needs no condition, and
    // DynamoDB (and dynalite, which parses every condition) does less work.
    if (batch.idempotencyKey === undefined) {
      await this.io.put(head);
      return 'created';
    }
    if (await this.io.put(head, NOT_EXISTS)) return 'created';
    const stored = await this.io.get(keys.batch(batch.id), true);
    if (parts.length > 0 && stored?.digest?.S !== head.digest?.S) {
      await this.io.batchWrite(parts.map((p) => ({ DeleteRequest: { Key: { pk: p.pk!, sk: p.sk! } } })));
    }
    return 'exists';
  }

  async putPending(p: P.PendingBatch): Promise<void> {
    keyPart('batch id', p.batchId);
    keyPart('agency id', p.agencyId);
    timestamp('arrivedAt', p.arrivedAt);
    nonNegInt('count', p.count);
    bytes('root', p.root, HASH);
    await this.io.put(pendingItem(p));
  }

  /**
   * One item per entry, whatever its record key, through BatchWriteItem (25 per
   * call, up to 8 calls in flight, unprocessed items retried with backoff).
   * Everything is validated before the first write; plain puts, so repeating is a no-op.
   */
  async putHistory(agencyId: string, entries: Array<{ recordKey: string } & P.HistoryEntry>): Promise<void> {
    keyPart('agency id', agencyId);
    const pks = new Map<string, string>();
    const items = entries.map((e) => {
      if (typeof e.recordKey !== 'string' || e.recordKey.length === 0) invalid('recordKey must be a non-empty string');
      keyTail('anchorId', e.anchorId);
      hex64('hash', e.hash);
      timestamp('arrivedAt', e.arrivedAt);
      let pk = pks.get(e.recordKey);
      if (pk === undefined) pks.set(e.recordKey, (pk = keys.historyPk(agencyId, e.recordKey)));
      return historyItem(pk, e);
    });
    await this.io.batchWrite(items.map((Item) => ({ PutRequest: { Item } })));
  }

  /**
   * The head eventually consistent, read again consistently when absent (a
   * committed head never changes, so a stale read can only miss it); its parts
   * consistently. A damaged batch throws UNREADABLE_BATCH.
   */
  async getBatch(id: string): Promise<P.Batch | null> {
    const key = keys.batch(keyPart('batch id', id));
    const head = (await this.io.get(key, false)) ?? (await this.io.get(key, true));
    return head ? this.decodeBatch(id, head) : null;
  }

  async getBatches(ids: string[]): Promise<P.BatchRead> {
    const wanted = ids.map((id) => keys.batch(keyPart('batch id', id)));
    const heads = await this.io.batchGet(wanted, false);
    if (heads.length < new Set(ids).size) {
      const seen = new Set(heads.map((h) => str(h, 'pk')));
      heads.push(...(await this.io.batchGet(wanted.filter((k) => !seen.has(k.pk!.S!)), true)));
    }
    const found = new Map<string, P.Batch>();
    const unreadable = new Map<string, string>();
    await this.io.parallel(heads, async (head) => {
      const id = str(head, 'pk').slice('BATCH#'.length);
      try {
        found.set(id, await this.decodeBatch(id, head));
      } catch (e) {
        if (!(e instanceof ServiceError) || e.code !== 'UNREADABLE_BATCH') throw e;
        unreadable.set(id, e.message);
      }
    });
    return { found, unreadable };
  }

  /** Head and exactly the parts it names; a stored batch that does not decode is UNREADABLE_BATCH. */
  private async decodeBatch(id: string, head: Item): Promise<P.Batch> {
    try {
      const range = batchPartRange(head);
      const parts = range === null
        ? []
        : await this.io.queryAll({
            KeyConditionExpression: 'pk = :pk AND sk BETWEEN :a AND :b',
            ExpressionAttributeValues: { ':pk': range.first.pk!, ':a': range.first.sk!, ':b': range.last.sk! },
            ConsistentRead: true,
          });
      return batchFrom(head, parts);
    } catch (e) {
      if (!(e instanceof ServiceError) || e.code !== 'CORRUPT') throw e;
      throw new ServiceError('UNREADABLE_BATCH', `batch ${id} cannot be read: ${e.message}`, { cause: e, agencyId: head.agencyId?.S });
    }
  }

  /** Newest first; eventually consistent. */
  async listHistory(agencyId: string, recordKey: string, opts: { limit: number; cursor?: string }): Promise<P.Page<P.HistoryEntry>> {
    const pk = keys.historyPk(keyPart('agency id', agencyId), recordKey);
    const page = await this.io.queryPage(
      { KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': S(pk) }, ScanIndexForward: false },
      { limit: pageLimit(opts.limit), ...(opts.cursor !== undefined && { cursor: opts.cursor }), keyNames: ['pk', 'sk'], partition: ['pk', pk] },
    );
    return { items: page.items.map(historyFrom), ...(page.cursor !== undefined && { cursor: page.cursor }) };
  }

  // ---- rounds ---------------------------------------------------------------------

  /** Reads up to `limit` markers from each shard (consistently: a stale marker would re-propose a batch), then merges. */
  async listPending(opts: { before: P.Timestamp; limit: number }): Promise<P.PendingBatch[]> {
    const max = `${timestamp('before', opts.before)}#\uffff`;
    const limit = pageLimit(opts.limit);
    const shards = Array.from({ length: SHARDS }, (_, i) => i);
    const perShard = await this.io.parallel(shards, (shard) =>
      this.io.queryAll(
        {
          KeyConditionExpression: 'pk = :pk AND sk <= :max',
          ExpressionAttributeValues: { ':pk': S(`PENDING#${shard}`), ':max': S(max) },
          ConsistentRead: true,
          Limit: limit,
        },
        limit,
      ),
    );
    const all = perShard.flat();
    all.sort((a, b) => (str(a, 'sk') < str(b, 'sk') ? -1 : str(a, 'sk') > str(b, 'sk') ? 1 : 0));
    return all.slice(0, limit).map(pendingFrom);
  }

  async deletePending(batches: Pick<P.PendingBatch, 'batchId' | 'arrivedAt'>[]): Promise<void> {
    const requests = batches.map((b) => ({
      DeleteRequest: { Key: keys.pending(keyPart('batch id', b.batchId), timestamp('arrivedAt', b.arrivedAt)) },
    }));
    await this.io.batchWrite(requests);
  }

  /**
   * Member chunks first (keyed by proposalId, so racing coordinators never
   * overwrite each other), then the head with attribute_not_exists. The loser
   * reads the winner back and deletes its own orphaned chunks.
   */
  async putProposal(p: P.Proposal): Promise<P.Proposal> {
    height12(p.height);
    keyPart('proposal id', p.proposalId);
    for (const m of p.members) {
      keyPart('batch id', m.batchId);
      keyPart('member agency id', m.agencyId);
      bytes('member root', m.root, HASH);
      nonNegInt('member count', m.count);
      timestamp('member arrivedAt', m.arrivedAt);
    }
    const chunks: Item[] = [];
    for (let i = 0; i * MEMBERS_PER_CHUNK < p.members.length; i++) {
      const slice = p.members.slice(i * MEMBERS_PER_CHUNK, (i + 1) * MEMBERS_PER_CHUNK);
      chunks.push({ ...keys.members(p.height, p.proposalId, i), ...membersAttributes(slice) });
    }
    await this.io.batchWrite(chunks.map((Item) => ({ PutRequest: { Item } })));
    const head: Item = {
      ...keys.proposal(p.height),
      proposalId: S(p.proposalId),
      header: S(p.header),
      checkpoint: S(p.checkpoint),
      createdAt: S(p.createdAt),
      memberCount: N(p.members.length),
      chunks: N(chunks.length),
    };
    if (await this.io.put(head, NOT_EXISTS)) return p;
    const winner = (await this.getProposal(p.height)) ?? corrupt(`proposal ${p.height} vanished`);
    if (winner.proposalId !== p.proposalId && chunks.length > 0) {
      await this.io.batchWrite(chunks.map((c) => ({ DeleteRequest: { Key: { pk: c.pk!, sk: c.sk! } } })));
    }
    return winner;
  }

  async getProposal(height: number): Promise<P.Proposal | null> {
    const key = keys.proposal(height);
    const head = await this.io.get(key, true);
    if (!head) return null;
    const proposalId = str(head, 'proposalId');
    const n = num(head, 'chunks');
    const chunks =
      n === 0
        ? []
        : await this.io.queryAll({
            KeyConditionExpression: 'pk = :pk AND sk BETWEEN :a AND :b',
            ExpressionAttributeValues: {
              ':pk': key.pk!,
              ':a': keys.members(height, proposalId, 0).sk!,
              ':b': keys.members(height, proposalId, n - 1).sk!,
            },
            ConsistentRead: true,
          });
    if (chunks.length !== n) corrupt(`proposal ${height} has ${chunks.length} of ${n} chunks`);
    chunks.forEach((c, i) => str(c, 'sk') === keys.members(height, proposalId, i).sk!.S || corrupt(`proposal ${height} chunk order`));
    const members = chunks.flatMap(membersFrom);
    if (members.length !== num(head, 'memberCount')) corrupt(`proposal ${height} member count`);
    return {
      height,
      proposalId,
      header: str(head, 'header'),
      checkpoint: str(head, 'checkpoint'),
      members,
      createdAt: str(head, 'createdAt'),
    };
  }

  async putBlock(block: P.Block): Promise<boolean> {
    height12(block.height);
    return this.io.put(blockItem(block), NOT_EXISTS);
  }

  async getBlock(height: number): Promise<P.Block | null> {
    const it = await this.io.get(keys.block(height), true);
    return it ? blockFrom(it) : null;
  }

  async getLatestBlock(): Promise<P.Block | null> {
    const { items } = await this.io.query({
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': S('BLOCK') },
      ScanIndexForward: false,
      Limit: 1,
      ConsistentRead: true,
    });
    return items[0] ? blockFrom(items[0]) : null;
  }

  /** Heights from..from+limit-1 that exist, ascending; eventually consistent unless asked (the audit). */
  async listBlocks(opts: { from: number; limit: number; consistent?: boolean }): Promise<P.Block[]> {
    const limit = pageLimit(opts.limit);
    const from = height12(opts.from);
    const to = height12(Math.min(opts.from + limit - 1, 999_999_999_999));
    const items = await this.io.queryAll(
      {
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :a AND :b',
        ExpressionAttributeValues: { ':pk': S('BLOCK'), ':a': S(from), ':b': S(to) },
        ConsistentRead: opts.consistent === true,
      },
      limit,
    );
    return items.map(blockFrom);
  }

  async markBlockSettled(height: number): Promise<void> {
    const done = await this.io.update({
      Key: keys.block(height),
      UpdateExpression: 'SET settled = :t',
      ConditionExpression: 'attribute_exists(pk)',
      ExpressionAttributeValues: { ':t': { BOOL: true } },
    });
    if (done === null) serviceFail('NOT_FOUND', `store: no block at height ${height}`);
  }

  async putPlacements(placements: P.Placement[]): Promise<void> {
    const items = placements.map((p) =>
      placementItem({ batchId: keyPart('batch id', p.batchId), height: nonNegInt('height', p.height), index: nonNegInt('index', p.index) }),
    );
    await this.io.batchWrite(items.map((Item) => ({ PutRequest: { Item } })));
  }

  /** Consistent where a miss decides something (store README "Consistency"). */
  async getPlacement(batchId: string, opts: P.ReadOptions): Promise<P.Placement | null> {
    const it = await this.io.get(keys.placement(keyPart('batch id', batchId)), opts.consistent);
    return it ? placementFrom(it) : null;
  }

  /** BatchGetItem, 100 keys per call, a few calls in flight (dynamo-io.ts). */
  async getPlacements(batchIds: string[], opts: P.ReadOptions): Promise<Map<string, P.Placement>> {
    const found = await this.io.batchGet(
      batchIds.map((id) => keys.placement(keyPart('batch id', id))),
      opts.consistent,
    );
    return new Map(found.map(placementFrom).map((p) => [p.batchId, p]));
  }

  /** Conditional: the first quarantine record of a batch stays. */
  async putQuarantine(q: P.Quarantine): Promise<void> {
    keyPart('batch id', q.batchId);
    keyPart('agency id', q.agencyId);
    timestamp('at', q.at);
    await this.io.put(quarantineItem({ ...q, reason: q.reason.slice(0, 2_000) }), NOT_EXISTS);
  }

  /** One consistent BatchGetItem for both items under the batch's partition. */
  async getBatchState(batchId: string): Promise<{ placement: P.Placement | null; quarantine: P.Quarantine | null }> {
    keyPart('batch id', batchId);
    const items = await this.io.batchGet([keys.placement(batchId), keys.quarantine(batchId)], true);
    const bySk = new Map(items.map((it) => [str(it, 'sk'), it]));
    const p = bySk.get('PLACEMENT');
    const q = bySk.get('QUARANTINE');
    return { placement: p ? placementFrom(p) : null, quarantine: q ? quarantineFrom(q) : null };
  }

  /** Consistent: a pending anchor whose batch was just quarantined is reported as such. */
  async getQuarantine(batchId: string): Promise<P.Quarantine | null> {
    const it = await this.io.get(keys.quarantine(keyPart('batch id', batchId)), true);
    return it ? quarantineFrom(it) : null;
  }

  // ---- calendar nodes ---------------------------------------------------------------

  async putCalendarNodes(nodes: P.CalendarNode[]): Promise<void> {
    const items = nodes.map((n) => ({
      ...keys.calendar(nonNegInt('level', n.level, MAX_LEVEL), nonNegInt('index', n.index, 999_999_999_999)),
      hash: { B: bytes('node hash', n.hash, HASH) },
    }));
    await this.io.batchWrite(items.map((Item) => ({ PutRequest: { Item } })));
  }

  /**
   * Found nodes in request order (missing ones are left out). Not `consistent`: read
   * eventually consistently, and only the misses again consistently (a node never
   * changes once written, so a stale read can only miss one).
   */
  async getCalendarNodes(req: { level: number; index: number }[], opts: P.ReadOptions): Promise<P.CalendarNode[]> {
    const wanted = req.map((k) => keys.calendar(nonNegInt('level', k.level, MAX_LEVEL), nonNegInt('index', k.index, 999_999_999_999)));
    const found = await this.io.batchGet(wanted, opts.consistent);
    if (!opts.consistent && found.length < wanted.length) {
      const seen = new Set(found.map((it) => `${str(it, 'pk')}/${str(it, 'sk')}`));
      found.push(...(await this.io.batchGet(wanted.filter((k) => !seen.has(`${k.pk!.S}/${k.sk!.S}`)), true)));
    }
    const byKey = new Map(found.map((it) => [`${str(it, 'pk')}/${str(it, 'sk')}`, it]));
    const out: P.CalendarNode[] = [];
    for (const k of req) {
      const { pk, sk } = keys.calendar(k.level, k.index);
      const it = byKey.get(`${pk!.S}/${sk!.S}`);
      if (it) out.push({ level: k.level, index: k.index, hash: it.hash?.B ?? corrupt('calendar node hash') });
    }
    return out;
  }

  // ---- events and publications ---------------------------------------------------------

  /**
   * One conditional put per event (keyed by id): a repeated event is a no-op, whatever its time.
   * Derived events (pure functions of a block) go 25 per BatchWriteItem: a repeat writes the same item.
   *
   * First an outbox marker per event (BatchWriteItem, writtenAt = the time of the call), only
   * then the events. So an event never exists without its marker having been written, and webhook
   * delivery, which drains the markers, cannot miss one. A writer that dies in between leaves a
   * marker without its event (until its step is run again); the worker deletes such a marker only
   * after a grace period. A repeated call writes a second marker for an existing event, which
   * delivery must treat as a repeat.
   */
  async putEvents(events: P.LedgerEvent[], opts: { derived?: boolean } = {}): Promise<void> {
    const unique = [...new Map(events.map((e) => [keyTail('event id', e.id), e])).values()];
    for (const e of unique) {
      keyTail('event type', e.type);
      timestamp('event time', e.time);
      if (e.agencyId !== undefined) keyPart('agency id', e.agencyId);
    }
    const writtenAt = timestamp('outbox writtenAt', this.now().toISOString());
    await this.io.batchWrite(unique.map((e) => ({ PutRequest: { Item: outboxItem(e.id, writtenAt) } })));
    if (opts.derived) await this.io.batchWrite(unique.map((e) => ({ PutRequest: { Item: eventItem(e) } })));
    else await this.io.parallel(unique, (e) => this.io.put(eventItem(e), NOT_EXISTS));
  }

  /**
   * One type's events by (time, id) on the events index, oldest first unless `newestFirst`:
   * a Query of the type's own partition (`EVENTS#<type>`), so other types are never read.
   * `match` keeps only events whose data has that string field with exactly that value (a
   * filter on the stored JSON text: it saves transfer, not reads; the read cost is that of
   * the type's partition up to the page). Eventually consistent (index reads always are).
   */
  async listEvents(opts: P.ListEventsOptions): Promise<P.Page<P.LedgerEvent>> {
    const gpk = keys.eventsPartition(keyTail('event type', opts.type));
    const match = opts.match === undefined ? undefined : `${JSON.stringify(opts.match.field)}:${JSON.stringify(opts.match.value)}`;
    const page = await this.io.queryPage(
      {
        IndexName: EVENTS_INDEX,
        KeyConditionExpression: 'gpk = :g',
        ExpressionAttributeValues: { ':g': S(gpk), ...(match !== undefined && { ':m': S(match) }) },
        ...(match !== undefined && { FilterExpression: 'contains(#data, :m)', ExpressionAttributeNames: { '#data': 'data' } }),
        ScanIndexForward: !opts.newestFirst,
      },
      {
        limit: pageLimit(opts.limit),
        ...(opts.cursor !== undefined && { cursor: opts.cursor }),
        keyNames: ['pk', 'sk', 'gpk', 'gsk'],
        partition: ['gpk', gpk],
      },
    );
    return { items: page.items.map(eventFrom), ...(page.cursor !== undefined && { cursor: page.cursor }) };
  }

  async putPublication(p: P.Publication): Promise<boolean> {
    nonNegInt('size', p.size, 999_999_999_999);
    bytes('root', p.root, HASH);
    return this.io.put(publicationItem(p), NOT_EXISTS);
  }

  /** Newest first; eventually consistent. */
  async listPublications(opts: { limit: number; cursor?: string }): Promise<P.Page<P.Publication>> {
    const page = await this.io.queryPage(
      { KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': S('PUBLICATION') }, ScanIndexForward: false },
      {
        limit: pageLimit(opts.limit),
        ...(opts.cursor !== undefined && { cursor: opts.cursor }),
        keyNames: ['pk', 'sk'],
        partition: ['pk', 'PUBLICATION'],
      },
    );
    return { items: page.items.map(publicationFrom), ...(page.cursor !== undefined && { cursor: page.cursor }) };
  }

  async getLatestPublication(): Promise<P.Publication | null> {
    const { items } = await this.io.query({
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': S('PUBLICATION') },
      ScanIndexForward: false,
      Limit: 1,
      ConsistentRead: true,
    });
    return items[0] ? publicationFrom(items[0]) : null;
  }
}
