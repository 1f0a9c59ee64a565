/**
 * The DynamoDB adapter of the webhook part of the store (webhook-port.ts),
 * reached as `DynamoStore.webhooks`. It shares the main store's TableIo, so
 * its requests count in the same `capacity`. Keys and item shapes are in
 * webhook-items.ts, access patterns and costs in README.md. Every read is
 * strongly consistent; every write is one conditional write or independent
 * idempotent writes. Every input is validated before the first request.
 */
import { serviceFail } from '../errors.ts';
import { N, S, SHARDS, decodeCursor, invalid, keyPart, keyTail, nonNegInt, pageLimit, timestamp, type Item } from './codec.ts';
import type { TableIo } from './dynamo-io.ts';
import { eventFrom, keys } from './items.ts';
import type { LedgerEvent, Page, Timestamp } from './port.ts';
import {
  ENDPOINT_STATUSES,
  MESSAGE_STATUSES,
  attemptFrom,
  attemptItem,
  dueFrom,
  dueItem,
  endpointFrom,
  endpointItem,
  endpointValue,
  messageFrom,
  messageItem,
  outboxFrom,
  payloadFrom,
  payloadItem,
  webhookKeys,
} from './webhook-items.ts';
import type * as W from './webhook-port.ts';

/** Fields an endpoint update may set or remove, in the order they appear in the UpdateExpression. */
const PATCH_FIELDS = [
  'url',
  'description',
  'eventTypes',
  'status',
  'disabledReason',
  'disabledAt',
  'secrets',
  'failingSince',
  'throttledUntil',
  'updatedAt',
] as const satisfies readonly (keyof W.EndpointPatch)[];
const REQUIRED_FIELDS: ReadonlySet<string> = new Set(['url', 'status', 'secrets', 'updatedAt']);
const TIME_FIELDS = ['disabledAt', 'failingSince', 'throttledUntil', 'createdAt', 'updatedAt'] as const;
const MAX_ATTEMPT = 9999;

type EndpointFields = { [K in keyof W.WebhookEndpoint]?: W.WebhookEndpoint[K] | null };

function text(what: string, v: unknown): void {
  if (typeof v !== 'string' || v.length === 0) invalid(`${what} must be a non-empty string`);
}

/** What the store relies on: ids and times it keys, sorts or compares by, statuses, list shapes. The URL itself is the API's to check. */
function checkEndpointFields(f: EndpointFields): void {
  if (f.url !== undefined) text('url', f.url);
  for (const name of ['description', 'disabledReason'] as const) {
    if (f[name] != null && typeof f[name] !== 'string') invalid(`${name} must be a string`);
  }
  if (f.status !== undefined && !ENDPOINT_STATUSES.includes(f.status as W.EndpointStatus)) invalid('status must be enabled or disabled');
  if (f.eventTypes != null) {
    if (!Array.isArray(f.eventTypes)) invalid('eventTypes must be a list');
    f.eventTypes.forEach((t) => text('event type', t));
  }
  if (f.secrets !== undefined) {
    if (!Array.isArray(f.secrets) || f.secrets.length === 0) invalid('secrets must be a non-empty list');
    for (const s of f.secrets) {
      text('sealed secret', s.sealed);
      timestamp('secret createdAt', s.createdAt);
      if (s.expiresAt !== undefined) timestamp('secret expiresAt', s.expiresAt);
    }
  }
  for (const name of TIME_FIELDS) if (f[name] != null) timestamp(name, f[name]);
}

function checkPayload(p: W.WebhookPayload): void {
  keyPart('message id', p.msgId);
  keyTail('event id', p.eventId);
  keyTail('event type', p.type);
  if (typeof p.body !== 'string') invalid('body must be a string');
  timestamp('createdAt', p.createdAt);
  timestamp('expiresAt', p.expiresAt);
}

function checkMessage(m: W.WebhookMessage): void {
  keyPart('endpoint id', m.endpointId);
  keyPart('agency id', m.agencyId);
  keyPart('message id', m.msgId);
  keyTail('event id', m.eventId);
  keyTail('event type', m.type);
  for (const name of ['eventTime', 'createdAt', 'expiresAt'] as const) timestamp(name, m[name]);
  for (const name of ['nextAttemptAt', 'deliveredAt'] as const) if (m[name] !== undefined) timestamp(name, m[name]);
  if (!MESSAGE_STATUSES.includes(m.status)) invalid('status must be pending, delivered or failed');
  nonNegInt('attempts', m.attempts);
  nonNegInt('scheduledAttempts', m.scheduledAttempts);
  if (!Array.isArray(m.history)) invalid('history must be a list');
}

function checkAttempt(a: W.WebhookAttempt): void {
  keyPart('endpoint id', a.endpointId);
  keyPart('agency id', a.agencyId);
  keyPart('message id', a.msgId);
  keyTail('event type', a.type);
  timestamp('at', a.at);
  timestamp('expiresAt', a.expiresAt);
  if (nonNegInt('attempt', a.attempt, MAX_ATTEMPT) === 0) invalid(`attempt must be an integer in 1..${MAX_ATTEMPT}`);
  nonNegInt('durationMs', a.durationMs);
  if (a.httpStatus !== undefined) nonNegInt('httpStatus', a.httpStatus, 999);
  if (a.trigger !== 'scheduled' && a.trigger !== 'manual') invalid('trigger must be scheduled or manual');
  if (a.outcome !== 'delivered' && a.outcome !== 'failed') invalid('outcome must be delivered or failed');
}

function checkDue(e: W.DueEntry): W.DueEntry {
  timestamp('dueAt', e.dueAt);
  keyPart('endpoint id', e.endpointId);
  keyPart('message id', e.msgId);
  return e;
}

/** Lexicographic order of string tuples (merging shards). */
function compareTuples(a: readonly string[], b: readonly string[]): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! < b[i]! ? -1 : 1;
  return 0;
}

const pageOf = <T>(page: { items: Item[]; cursor?: string }, from: (it: Item) => T): Page<T> => ({
  items: page.items.map(from),
  ...(page.cursor !== undefined && { cursor: page.cursor }),
});

export class DynamoWebhookStore implements W.WebhookStore {
  constructor(private readonly io: TableIo) {}

  // ---- endpoints --------------------------------------------------------------------

  async createEndpoint(ep: W.WebhookEndpoint): Promise<boolean> {
    keyPart('endpoint id', ep.id);
    keyPart('agency id', ep.agencyId);
    checkEndpointFields(ep);
    return this.io.put(endpointItem(ep), { expression: 'attribute_not_exists(pk)' });
  }

  async getEndpoint(agencyId: string, id: string): Promise<W.WebhookEndpoint | null> {
    const it = await this.io.get(webhookKeys.endpoint(keyPart('agency id', agencyId), keyPart('endpoint id', id)), true);
    return it ? endpointFrom(it) : null;
  }

  /** One partition (`WHEP`), read whole or by the agency's prefix, every page. */
  async listEndpoints(agencyId?: string): Promise<W.WebhookEndpoint[]> {
    const one = agencyId !== undefined;
    const items = await this.io.queryAll({
      KeyConditionExpression: one ? 'pk = :pk AND begins_with(sk, :p)' : 'pk = :pk',
      ExpressionAttributeValues: { ':pk': S('WHEP'), ...(one && { ':p': S(`${keyPart('agency id', agencyId)}#`) }) },
      ConsistentRead: true,
    });
    return items.map(endpointFrom).sort((a, b) => compareTuples([a.agencyId, a.id], [b.agencyId, b.id]));
  }

  /**
   * One UpdateItem: SET for the fields given, REMOVE for the ones given as
   * null, nothing else, so that the API and the worker never overwrite each
   * other's fields. Conditional on existence and on `expect`.
   */
  async updateEndpoint(agencyId: string, id: string, patch: W.EndpointPatch, expect: W.EndpointExpect = {}): Promise<W.WebhookEndpoint | null> {
    const key = webhookKeys.endpoint(keyPart('agency id', agencyId), keyPart('endpoint id', id));
    timestamp('updatedAt', patch.updatedAt);
    checkEndpointFields(patch);
    const names: Record<string, string> = {};
    const values: Item = {};
    const set: string[] = [];
    const remove: string[] = [];
    PATCH_FIELDS.forEach((field, i) => {
      const v = patch[field];
      if (v === undefined) return;
      names[`#f${i}`] = field;
      if (v === null) {
        if (REQUIRED_FIELDS.has(field)) invalid(`${field} cannot be removed`);
        remove.push(`#f${i}`);
      } else {
        values[`:v${i}`] = endpointValue(v);
        set.push(`#f${i} = :v${i}`);
      }
    });
    const conditions = ['attribute_exists(pk)'];
    if (expect.status !== undefined) {
      checkEndpointFields({ status: expect.status });
      names['#xs'] = 'status';
      values[':xs'] = S(expect.status);
      conditions.push('#xs = :xs');
    }
    if (expect.failingSince !== undefined) {
      names['#xf'] = 'failingSince';
      if (expect.failingSince === null) conditions.push('attribute_not_exists(#xf)');
      else {
        values[':xf'] = S(timestamp('expected failingSince', expect.failingSince));
        conditions.push('#xf = :xf');
      }
    }
    const updated = await this.io.update({
      Key: key,
      UpdateExpression: `SET ${set.join(', ')}${remove.length > 0 ? ` REMOVE ${remove.join(', ')}` : ''}`,
      ConditionExpression: conditions.join(' AND '),
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    });
    return updated === null ? null : endpointFrom(updated);
  }

  async deleteEndpoint(agencyId: string, id: string): Promise<boolean> {
    const key = webhookKeys.endpoint(keyPart('agency id', agencyId), keyPart('endpoint id', id));
    return this.io.delete(key, { expression: 'attribute_exists(pk)' });
  }

  // ---- outbox --------------------------------------------------------------------------

  /** Up to `limit` markers from each shard (consistent: a deleted marker must not come back), merged by (writtenAt, eventId). */
  async listOutbox(limit: number, after?: string): Promise<W.OutboxEntry[]> {
    if (after !== undefined) keyTail('outbox position', after);
    const entries = (await this.readShards('OUTBOX#', pageLimit(limit), undefined, after)).map(outboxFrom);
    entries.sort((a, b) => compareTuples([a.writtenAt, a.eventId], [b.writtenAt, b.eventId]));
    return entries.slice(0, limit);
  }

  async getEvents(ids: string[]): Promise<Map<string, LedgerEvent>> {
    const items = await this.io.batchGet(ids.map((id) => keys.event(keyTail('event id', id))), true);
    return new Map(items.map(eventFrom).map((e) => [e.id, e]));
  }

  /** The key comes from eventId and writtenAt; `shard` is not read (it is a function of the event id). */
  async deleteOutbox(entries: W.OutboxEntry[]): Promise<void> {
    const requests = entries.map((e) => ({
      DeleteRequest: { Key: webhookKeys.outbox(keyTail('event id', e.eventId), timestamp('writtenAt', e.writtenAt)) },
    }));
    await this.io.batchWrite(requests);
  }

  // ---- payloads and messages ----------------------------------------------------------

  async putPayloads(payloads: W.WebhookPayload[]): Promise<void> {
    payloads.forEach(checkPayload);
    await this.io.batchWrite(payloads.map((p) => ({ PutRequest: { Item: payloadItem(p) } })));
  }

  async getPayloads(msgIds: string[]): Promise<Map<string, W.WebhookPayload>> {
    const items = await this.io.batchGet(msgIds.map((id) => webhookKeys.payload(keyPart('message id', id))), true);
    return new Map(items.map(payloadFrom).map((p) => [p.msgId, p]));
  }

  async putMessages(messages: W.WebhookMessage[]): Promise<void> {
    messages.forEach(checkMessage);
    await this.io.batchWrite(messages.map((m) => ({ PutRequest: { Item: messageItem(m) } })));
  }

  async getMessages(wanted: W.MessageKey[]): Promise<Map<string, W.WebhookMessage>> {
    const items = await this.io.batchGet(
      wanted.map((k) => webhookKeys.message(keyPart('endpoint id', k.endpointId), keyPart('message id', k.msgId))),
      true,
    );
    return new Map(items.map(messageFrom).map((m) => [`${m.endpointId}/${m.msgId}`, m]));
  }

  /**
   * `from` bounds the sort key (sk >= from ascending, sk <= from newest first);
   * a cursor outside that bound is refused as INVALID_CURSOR (DynamoDB would
   * refuse it as a ValidationException). status is a filter, so queryPage reads
   * on past pages the filter emptied until it holds limit + 1 matches or the
   * partition ends.
   */
  async listMessages(
    endpointId: string,
    opts: { limit: number; cursor?: string; status?: W.MessageStatus; from?: string; newestFirst?: boolean },
  ): Promise<Page<W.WebhookMessage>> {
    const pk = webhookKeys.messagePk(keyPart('endpoint id', endpointId));
    const newestFirst = opts.newestFirst === true;
    const values: Item = { ':pk': S(pk) };
    let condition = 'pk = :pk';
    if (opts.from !== undefined) {
      const from = keyPart('from', opts.from);
      values[':from'] = S(from);
      condition += newestFirst ? ' AND sk <= :from' : ' AND sk >= :from';
      const after = opts.cursor === undefined ? undefined : decodeCursor(opts.cursor, ['pk', 'sk'], ['pk', pk]).sk!.S!;
      if (after !== undefined && (newestFirst ? after > from : after < from)) serviceFail('INVALID_CURSOR', 'store: not a cursor of this listing');
    }
    const filtered = opts.status !== undefined;
    if (filtered) {
      if (!MESSAGE_STATUSES.includes(opts.status!)) invalid('status must be pending, delivered or failed');
      values[':st'] = S(opts.status!);
    }
    const page = await this.io.queryPage(
      {
        KeyConditionExpression: condition,
        ExpressionAttributeValues: values,
        ...(filtered && { FilterExpression: '#st = :st', ExpressionAttributeNames: { '#st': 'status' } }),
        ScanIndexForward: !newestFirst,
        ConsistentRead: true,
      },
      { limit: pageLimit(opts.limit), ...(opts.cursor !== undefined && { cursor: opts.cursor }), keyNames: ['pk', 'sk'], partition: ['pk', pk] },
    );
    return pageOf(page, messageFrom);
  }

  // ---- the retry queue ----------------------------------------------------------------

  async putDue(entries: W.DueEntry[]): Promise<void> {
    entries.forEach(checkDue);
    await this.io.batchWrite(entries.map((e) => ({ PutRequest: { Item: dueItem(e) } })));
  }

  async deleteDue(entries: W.DueEntry[]): Promise<void> {
    entries.forEach(checkDue);
    await this.io.batchWrite(entries.map((e) => ({ DeleteRequest: { Key: webhookKeys.due(e) } })));
  }

  /** As listPending: up to `limit` entries with sk <= `<before>#\uffff` from each shard, merged by (dueAt, endpointId, msgId). */
  async listDue(opts: { before: Timestamp; limit: number }): Promise<W.DueEntry[]> {
    const max = `${timestamp('before', opts.before)}#\uffff`;
    const entries = (await this.readShards('WHDUE#', pageLimit(opts.limit), max)).map(dueFrom);
    entries.sort((a, b) => compareTuples([a.dueAt, a.endpointId, a.msgId], [b.dueAt, b.endpointId, b.msgId]));
    return entries.slice(0, opts.limit);
  }

  // ---- attempts -----------------------------------------------------------------------

  async putAttempts(attempts: W.WebhookAttempt[]): Promise<void> {
    attempts.forEach(checkAttempt);
    await this.io.batchWrite(attempts.map((a) => ({ PutRequest: { Item: attemptItem(a) } })));
  }

  /** Newest first; msgId is a filter (queryPage reads on past pages it emptied). */
  async listAttempts(endpointId: string, opts: { limit: number; cursor?: string; msgId?: string }): Promise<Page<W.WebhookAttempt>> {
    const pk = webhookKeys.attemptPk(keyPart('endpoint id', endpointId));
    const filtered = opts.msgId !== undefined;
    const page = await this.io.queryPage(
      {
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': S(pk), ...(filtered && { ':m': S(keyPart('message id', opts.msgId!)) }) },
        ...(filtered && { FilterExpression: 'msgId = :m' }),
        ScanIndexForward: false,
        ConsistentRead: true,
      },
      { limit: pageLimit(opts.limit), ...(opts.cursor !== undefined && { cursor: opts.cursor }), keyNames: ['pk', 'sk'], partition: ['pk', pk] },
    );
    return pageOf(page, attemptFrom);
  }

  // ---- the worker lease ---------------------------------------------------------------

  /** One conditional UpdateItem: taken when free, held by `owner`, or expired (until < nowMs). */
  async acquireLease(name: string, owner: string, nowMs: number, untilMs: number): Promise<boolean> {
    const key = webhookKeys.lease(keyPart('lease name', name));
    keyTail('lease owner', owner);
    nonNegInt('nowMs', nowMs);
    if (nonNegInt('untilMs', untilMs) <= nowMs) invalid('untilMs must be after nowMs');
    const taken = await this.io.update({
      Key: key,
      UpdateExpression: 'SET #owner = :o, #until = :u',
      ConditionExpression: 'attribute_not_exists(pk) OR #owner = :o OR #until < :now',
      ExpressionAttributeNames: { '#owner': 'owner', '#until': 'until' },
      ExpressionAttributeValues: { ':o': S(owner), ':u': N(untilMs), ':now': N(nowMs) },
    });
    return taken !== null;
  }

  /** A conditional delete; a lease held by someone else (or by nobody) is left as it is. */
  async releaseLease(name: string, owner: string): Promise<void> {
    const key = webhookKeys.lease(keyPart('lease name', name));
    await this.io.delete(key, { expression: '#owner = :o', names: { '#owner': 'owner' }, values: { ':o': S(keyTail('lease owner', owner)) } });
  }

  /** Up to `limit` items from each of the SHARDS partitions `<prefix><shard>` (sk <= max when given), consistently. */
  /** Up to `limit` items of every shard, consistent; sort keys <= max, or > min, when given. */
  private async readShards(prefix: string, limit: number, max?: string, min?: string): Promise<Item[]> {
    const shards = Array.from({ length: SHARDS }, (_, i) => i);
    const bound = max !== undefined ? ' AND sk <= :max' : min !== undefined ? ' AND sk > :min' : '';
    const perShard = await this.io.parallel(shards, (shard) =>
      this.io.queryAll(
        {
          KeyConditionExpression: `pk = :pk${bound}`,
          ExpressionAttributeValues: {
            ':pk': S(`${prefix}${shard}`),
            ...(max !== undefined && { ':max': S(max) }),
            ...(max === undefined && min !== undefined && { ':min': S(min) }),
          },
          ConsistentRead: true,
          Limit: limit,
        },
        limit,
      ),
    );
    return perShard.flat();
  }
}
