/**
 * The webhook part of the store port (webhook-port.ts) against the DynamoDB
 * adapter on an in-memory dynalite: one engine for the file, a fresh table per
 * test, times passed explicitly (the store's clock is the test's).
 */
import { QueryCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import { shardOf, type Item } from '../../functions/store/codec.ts';
import type { LedgerEvent } from '../../functions/store/port.ts';
import type {
  DueEntry,
  WebhookAttempt,
  WebhookEndpoint,
  WebhookMessage,
  WebhookPayload,
} from '../../functions/store/webhook-port.ts';
import { ServiceError } from '../../functions/errors.ts';
import { stopDynalite, withStore, type TestStore } from '../helpers/dynalite.ts';

afterAll(stopDynalite);

const T0 = Date.UTC(2026, 10, 22, 4, 0, 0);
const at = (ms: number): string => new Date(T0 + ms).toISOString();
const epId = (n: number): string => `ep_${String(n).padStart(26, '0')}`;
const msgId = (n: number): string => `msg_${String(n).padStart(26, '0')}`;

/** A test store whose clock the test sets (`clock.ms`, milliseconds after T0). */
async function use<T>(fn: (t: TestStore, clock: { ms: number }) => Promise<T>): Promise<T> {
  const clock = { ms: 0 };
  const t = await withStore({ now: () => new Date(T0 + clock.ms) });
  try {
    return await fn(t, clock);
  } finally {
    await t.close();
  }
}

/** The commands sent through a client, with their input. */
function observe(client: DynamoDBClient): Array<{ name: string; input: Record<string, unknown> }> {
  const seen: Array<{ name: string; input: Record<string, unknown> }> = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      seen.push({ name: context.commandName ?? '?', input: args.input as Record<string, unknown> });
      return next(args);
    },
    { step: 'initialize', name: `observe-${Math.random()}` },
  );
  return seen;
}

async function rawItems(t: TestStore, pk: string): Promise<Item[]> {
  const res = await t.client.send(
    new QueryCommand({ TableName: t.tableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': { S: pk } } }),
  );
  return res.Items ?? [];
}

async function expectCode(p: Promise<unknown>, code: string): Promise<void> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ServiceError);
  expect((err as ServiceError).code).toBe(code);
}

const fullEndpoint = (agencyId = 'AGENCY1', n = 1): WebhookEndpoint => ({
  id: epId(n),
  agencyId,
  url: 'https://hooks.example.org/ledgerseal',
  description: 'land registry feed',
  eventTypes: ['batch.confirmed', 'batch.quarantined'],
  status: 'disabled',
  disabledReason: 'failing for 5 days',
  disabledAt: at(5000),
  secrets: [
    { sealed: 'v1.k2.sealed-new', createdAt: at(4000) },
    { sealed: 'v1.k1.sealed-old', createdAt: at(0), expiresAt: at(90_000) },
  ],
  failingSince: at(1000),
  throttledUntil: at(6000),
  createdAt: at(0),
  updatedAt: at(5000),
});
const minimalEndpoint = (agencyId = 'AGENCY1', n = 2): WebhookEndpoint => ({
  id: epId(n),
  agencyId,
  url: 'https://hooks.example.org/min',
  status: 'enabled',
  secrets: [{ sealed: 'v1.k1.sealed', createdAt: at(0) }],
  createdAt: at(0),
  updatedAt: at(0),
});

describe('endpoints', () => {
  it('round-trips an endpoint with every optional field and with none; a taken id is refused', () =>
    use(async (t) => {
      const wh = t.store.webhooks;
      const full = fullEndpoint();
      const min = minimalEndpoint();
      expect(await wh.createEndpoint(full)).toBe(true);
      expect(await wh.createEndpoint(min)).toBe(true);
      expect(await wh.createEndpoint({ ...min, url: 'https://other.example.org/' })).toBe(false);
      expect(await wh.getEndpoint('AGENCY1', full.id)).toStrictEqual(full);
      expect(await wh.getEndpoint('AGENCY1', min.id)).toStrictEqual(min);
      expect(await wh.getEndpoint('AGENCY1', epId(9))).toBeNull();
      const raw = (await rawItems(t, 'WHEP')).find((it) => it.sk!.S === `AGENCY1#${min.id}`)!;
      expect(Object.keys(raw).sort()).toEqual(['agencyId', 'createdAt', 'id', 'pk', 'secrets', 'sk', 'status', 'updatedAt', 'url']);
    }));

  it('an update touches only the fields it names; null removes a field', () =>
    use(async ({ store }) => {
      const wh = store.webhooks;
      const ep = fullEndpoint();
      await wh.createEndpoint(ep);
      // The API and the worker update different fields from the same read: neither overwrites the other.
      const byApi = await wh.updateEndpoint('AGENCY1', ep.id, { url: 'https://new.example.org/', description: null, updatedAt: at(7000) });
      const { description: _d, ...withoutDescription } = ep;
      expect(byApi).toStrictEqual({ ...withoutDescription, url: 'https://new.example.org/', updatedAt: at(7000) });
      const byWorker = await wh.updateEndpoint('AGENCY1', ep.id, { failingSince: null, throttledUntil: at(8000), updatedAt: at(8000) });
      const { failingSince: _f, ...withoutFailing } = byApi!;
      expect(byWorker).toStrictEqual({ ...withoutFailing, throttledUntil: at(8000), updatedAt: at(8000) });
      expect(await wh.getEndpoint('AGENCY1', ep.id)).toStrictEqual(byWorker);

      const enabled = await wh.updateEndpoint('AGENCY1', ep.id, {
        status: 'enabled',
        disabledReason: null,
        disabledAt: null,
        eventTypes: null,
        secrets: [{ sealed: 'v1.k3.sealed', createdAt: at(9000) }],
        updatedAt: at(9000),
      });
      expect(enabled).toStrictEqual({
        id: ep.id,
        agencyId: 'AGENCY1',
        url: 'https://new.example.org/',
        status: 'enabled',
        secrets: [{ sealed: 'v1.k3.sealed', createdAt: at(9000) }],
        throttledUntil: at(8000),
        createdAt: at(0),
        updatedAt: at(9000),
      });
      expect(await wh.updateEndpoint('AGENCY1', epId(9), { updatedAt: at(1) })).toBeNull();
      await expectCode(wh.updateEndpoint('AGENCY1', ep.id, { url: null as unknown as string, updatedAt: at(1) }), 'INVALID_ARGUMENT');
    }));

  it('an update whose expectation fails returns null and changes nothing', () =>
    use(async ({ store }) => {
      const wh = store.webhooks;
      const failing = fullEndpoint(); // disabled, failingSince at(1000)
      const healthy = minimalEndpoint(); // enabled, no failingSince
      await wh.createEndpoint(failing);
      await wh.createEndpoint(healthy);
      const patch = { description: 'changed', updatedAt: at(7000) };
      expect(await wh.updateEndpoint('AGENCY1', failing.id, patch, { status: 'enabled' })).toBeNull();
      expect(await wh.updateEndpoint('AGENCY1', failing.id, patch, { failingSince: at(999) })).toBeNull();
      expect(await wh.updateEndpoint('AGENCY1', failing.id, patch, { failingSince: null })).toBeNull();
      expect(await wh.updateEndpoint('AGENCY1', failing.id, patch, { status: 'disabled', failingSince: at(2000) })).toBeNull();
      expect(await wh.updateEndpoint('AGENCY1', healthy.id, patch, { failingSince: at(1000) })).toBeNull();
      expect(await wh.updateEndpoint('AGENCY1', healthy.id, patch, { status: 'disabled' })).toBeNull();
      expect(await wh.getEndpoint('AGENCY1', failing.id)).toStrictEqual(failing);
      expect(await wh.getEndpoint('AGENCY1', healthy.id)).toStrictEqual(healthy);

      expect(await wh.updateEndpoint('AGENCY1', failing.id, patch, { status: 'disabled', failingSince: at(1000) })).toStrictEqual({
        ...failing,
        ...patch,
      });
      expect(await wh.updateEndpoint('AGENCY1', healthy.id, { failingSince: at(7000), updatedAt: at(7000) }, { status: 'enabled', failingSince: null }))
        .toStrictEqual({ ...healthy, failingSince: at(7000), updatedAt: at(7000) });
    }));

  it('keeps agencies apart; lists one agency or all, ordered by (agencyId, id)', () =>
    use(async ({ store }) => {
      const wh = store.webhooks;
      const a1 = [fullEndpoint('A1', 3), minimalEndpoint('A1', 1)];
      const a10 = [minimalEndpoint('A10', 2)]; // 'A1#' is not a prefix of 'A10#...'
      const b = [minimalEndpoint('B', 4), fullEndpoint('B', 0)];
      for (const ep of [...a1, ...a10, ...b]) expect(await wh.createEndpoint(ep)).toBe(true);
      const sorted = (eps: WebhookEndpoint[]) => [...eps].sort((x, y) => (x.agencyId + ' ' + x.id < y.agencyId + ' ' + y.id ? -1 : 1));
      expect(await wh.listEndpoints('A1')).toStrictEqual(sorted(a1));
      expect(await wh.listEndpoints('A10')).toStrictEqual(a10);
      expect(await wh.listEndpoints('NOBODY')).toStrictEqual([]);
      expect(await wh.listEndpoints()).toStrictEqual(sorted([...a1, ...a10, ...b]));

      expect(await wh.getEndpoint('B', a1[0]!.id)).toBeNull();
      expect(await wh.updateEndpoint('B', a1[0]!.id, { url: 'https://evil.example/', updatedAt: at(1) })).toBeNull();
      expect(await wh.deleteEndpoint('B', a1[0]!.id)).toBe(false);
      expect(await wh.getEndpoint('A1', a1[0]!.id)).toStrictEqual(a1[0]);

      expect(await wh.deleteEndpoint('A1', a1[0]!.id)).toBe(true);
      expect(await wh.deleteEndpoint('A1', a1[0]!.id)).toBe(false);
      expect(await wh.getEndpoint('A1', a1[0]!.id)).toBeNull();
      expect(await wh.listEndpoints('A1')).toStrictEqual([a1[1]]);
    }));
});

describe('outbox markers', () => {
  const event = (i: number, extra: Partial<LedgerEvent> = {}): LedgerEvent => ({
    id: `batch.confirmed:${String(i).padStart(3, '0')}`,
    type: 'batch.confirmed',
    time: at(i),
    agencyId: 'AGENCY1',
    data: { i },
    ...extra,
  });

  it('putEvents writes every marker before any event, derived or conditional; 2 WCU per event', () =>
    use(async (t, clock) => {
      const seen = observe(t.client);
      const firstPk = (c: { input: Record<string, unknown> }): string => {
        const req = (c.input as { RequestItems?: Record<string, Array<{ PutRequest: { Item: Item } }>>; Item?: Item });
        return (req.Item ?? Object.values(req.RequestItems!)[0]![0]!.PutRequest.Item).pk!.S!;
      };
      const conditional = Array.from({ length: 30 }, (_, i) => event(i));
      clock.ms = 100;
      await t.store.putEvents(conditional);
      expect(t.store.capacity.write).toBe(60);
      // Two BatchWriteItem calls of markers (25 + 5), then one conditional PutItem per event.
      expect(seen.slice(0, 2).map((c) => [c.name, firstPk(c).startsWith('OUTBOX#')])).toEqual([
        ['BatchWriteItemCommand', true],
        ['BatchWriteItemCommand', true],
      ]);
      expect(seen.slice(2).map((c) => c.name)).toEqual(Array(30).fill('PutItemCommand'));
      expect(seen.slice(2).every((c) => firstPk(c).startsWith('EVENT#') && c.input.ConditionExpression === 'attribute_not_exists(pk)')).toBe(true);

      seen.length = 0;
      t.store.resetCapacity();
      const derived = Array.from({ length: 30 }, (_, i) => event(100 + i));
      await t.store.putEvents(derived, { derived: true });
      expect(t.store.capacity.write).toBe(60);
      expect(seen.map((c) => [c.name, firstPk(c).slice(0, 6)])).toEqual([
        ['BatchWriteItemCommand', 'OUTBOX'],
        ['BatchWriteItemCommand', 'OUTBOX'],
        ['BatchWriteItemCommand', 'EVENT#'],
        ['BatchWriteItemCommand', 'EVENT#'],
      ]);

      const outbox = await t.store.webhooks.listOutbox(1000);
      expect(outbox).toHaveLength(60);
      expect(outbox.every((e) => e.writtenAt === at(100) && e.shard === shardOf(e.eventId))).toBe(true);
      expect(new Set(outbox.map((e) => e.shard)).size).toBe(8);
    }));

  it('lists markers oldest first over every shard, at most limit, and deletes them', () =>
    use(async ({ store }, clock) => {
      const wh = store.webhooks;
      // Three calls at three times, each with events spread over the shards; the middle one derived.
      const calls = [
        { ms: 3000, events: Array.from({ length: 12 }, (_, i) => event(i)) },
        { ms: 1000, events: Array.from({ length: 12 }, (_, i) => event(20 + i)) },
        { ms: 2000, events: Array.from({ length: 12 }, (_, i) => event(40 + i)) },
      ];
      for (const c of calls) {
        clock.ms = c.ms;
        await store.putEvents(c.events, { derived: c.ms === 1000 });
      }
      const expected = calls
        .flatMap((c) => c.events.map((e) => ({ eventId: e.id, shard: shardOf(e.id), writtenAt: at(c.ms) })))
        .sort((a, b) => (a.writtenAt + ' ' + a.eventId < b.writtenAt + ' ' + b.eventId ? -1 : 1));
      expect(await wh.listOutbox(100)).toStrictEqual(expected);
      expect(await wh.listOutbox(5)).toStrictEqual(expected.slice(0, 5));
      expect(await wh.listOutbox(15)).toStrictEqual(expected.slice(0, 15));
      // `after`: only markers that sort after a position (the worker reads past markers in flight).
      const pos = (e: { writtenAt: string; eventId: string }): string => `${e.writtenAt}#${e.eventId}`;
      expect(await wh.listOutbox(100, pos(expected[9]!))).toStrictEqual(expected.slice(10));
      expect(await wh.listOutbox(3, pos(expected[20]!))).toStrictEqual(expected.slice(21, 24));
      expect(await wh.listOutbox(100, pos(expected.at(-1)!))).toStrictEqual([]);

      await wh.deleteOutbox(expected.slice(0, 14));
      expect(await wh.listOutbox(100)).toStrictEqual(expected.slice(14));
      await wh.deleteOutbox(expected.slice(0, 14)); // deleting again is a no-op
      expect(await wh.listOutbox(100)).toStrictEqual(expected.slice(14));
    }));

  it('a repeated putEvents writes a second marker but never changes the event', () =>
    use(async ({ store }, clock) => {
      const wh = store.webhooks;
      const e = event(1);
      clock.ms = 1000;
      await store.putEvents([e]);
      clock.ms = 2000;
      await store.putEvents([{ ...e, time: at(999), data: { changed: true } }]);
      expect(await wh.listOutbox(10)).toStrictEqual([
        { eventId: e.id, shard: shardOf(e.id), writtenAt: at(1000) },
        { eventId: e.id, shard: shardOf(e.id), writtenAt: at(2000) },
      ]);
      expect(await wh.getEvents([e.id])).toStrictEqual(new Map([[e.id, e]]));
    }));

  it('getEvents reads events by id; absent ids are not in the map', () =>
    use(async ({ store }) => {
      const pub: LedgerEvent = { id: 'round.finalized:7', type: 'round.finalized', time: at(7), data: { height: 7 } };
      const events = [event(1), event(2), pub];
      await store.putEvents(events);
      const got = await store.webhooks.getEvents([event(2).id, 'absent:1', pub.id, event(1).id, event(2).id]);
      expect(got).toStrictEqual(new Map([event(2), pub, event(1)].map((e) => [e.id, e])));
      expect(await store.webhooks.getEvents([])).toStrictEqual(new Map());
      expect(await store.webhooks.getEvents(['absent:2'])).toStrictEqual(new Map());
    }));
});

describe('payloads and messages', () => {
  const payload = (n: number): WebhookPayload => ({
    msgId: msgId(n),
    eventId: `batch.confirmed:${n}`,
    type: 'batch.confirmed',
    body: JSON.stringify({ type: 'batch.confirmed', timestamp: at(n), data: { pad: 'x'.repeat(25_000) } }),
    createdAt: at(n),
    expiresAt: at(n + 30 * 86_400_000 + 999),
  });

  it('round-trips payloads of 25 kB, with the TTL attribute in epoch seconds', () =>
    use(async (t) => {
      const wh = t.store.webhooks;
      await wh.putPayloads([payload(1), payload(2)]);
      expect(await wh.getPayloads([msgId(2), msgId(1), msgId(3)])).toStrictEqual(new Map([[msgId(2), payload(2)], [msgId(1), payload(1)]]));
      const [raw] = await rawItems(t, `WHPAY#${msgId(1)}`);
      expect(raw!.ttl).toEqual({ N: String(Math.floor((T0 + 1 + 30 * 86_400_000 + 999) / 1000)) });
    }));

  const message = (endpoint: number, n: number, extra: Partial<WebhookMessage> = {}): WebhookMessage => ({
    endpointId: epId(endpoint),
    agencyId: 'AGENCY1',
    msgId: msgId(n),
    eventId: `batch.confirmed:${n}`,
    type: 'batch.confirmed',
    eventTime: at(n),
    createdAt: at(n + 1),
    status: 'pending',
    attempts: 0,
    scheduledAttempts: 0,
    history: [],
    expiresAt: at(n + 86_400_000),
    ...extra,
  });

  it('round-trips messages with and without their optional fields; keyed by endpoint and message', () =>
    use(async (t) => {
      const wh = t.store.webhooks;
      const full = message(1, 1, {
        status: 'delivered',
        attempts: 2,
        nextAttemptAt: at(5000),
        deliveredAt: at(6000),
        history: [
          { at: at(2000), attempt: 1, trigger: 'scheduled', outcome: 'failed', httpStatus: 503, durationMs: 120, error: 'server error', responseExcerpt: 'busy' },
          { at: at(6000), attempt: 2, trigger: 'manual', outcome: 'delivered', httpStatus: 204, durationMs: 80 },
        ],
      });
      const bare = message(2, 1);
      await wh.putMessages([full, bare]);
      const got = await wh.getMessages([
        { endpointId: epId(1), msgId: msgId(1) },
        { endpointId: epId(2), msgId: msgId(1) },
        { endpointId: epId(3), msgId: msgId(1) },
      ]);
      expect(got).toStrictEqual(new Map([[`${epId(1)}/${msgId(1)}`, full], [`${epId(2)}/${msgId(1)}`, bare]]));
      const [raw] = await rawItems(t, `WHMSG#${epId(1)}`);
      expect(raw!.ttl).toEqual({ N: String(Math.floor((T0 + 1 + 86_400_000) / 1000)) });
      // A plain put: the owner rewrites its message.
      await wh.putMessages([{ ...bare, status: 'failed', attempts: 1 }]);
      expect((await wh.getMessages([{ endpointId: epId(2), msgId: msgId(1) }])).get(`${epId(2)}/${msgId(1)}`)?.status).toBe('failed');
    }));

  async function pages(list: (cursor?: string) => Promise<{ items: WebhookMessage[]; cursor?: string }>): Promise<{ ids: string[]; sizes: number[] }> {
    const ids: string[] = [];
    const sizes: number[] = [];
    let cursor: string | undefined;
    do {
      const page = await list(cursor);
      ids.push(...page.items.map((m) => m.msgId));
      sizes.push(page.items.length);
      cursor = page.cursor;
    } while (cursor !== undefined);
    return { ids, sizes };
  }

  it('lists messages oldest or newest first, from a bound, paged', () =>
    use(async ({ store }) => {
      const wh = store.webhooks;
      await wh.putMessages(Array.from({ length: 30 }, (_, n) => message(1, n)));
      await wh.putMessages([message(2, 5)]);
      const all = Array.from({ length: 30 }, (_, n) => msgId(n));
      expect(await pages((cursor) => wh.listMessages(epId(1), { limit: 7, ...(cursor && { cursor }) }))).toEqual({ ids: all, sizes: [7, 7, 7, 7, 2] });
      expect((await pages((cursor) => wh.listMessages(epId(1), { limit: 10, newestFirst: true, ...(cursor && { cursor }) }))).ids).toEqual([...all].reverse());
      expect((await pages((cursor) => wh.listMessages(epId(1), { limit: 4, from: msgId(20), ...(cursor && { cursor }) }))).ids).toEqual(all.slice(20));
      expect((await pages((cursor) => wh.listMessages(epId(1), { limit: 4, from: msgId(9), newestFirst: true, ...(cursor && { cursor }) }))).ids).toEqual(
        all.slice(0, 10).reverse(),
      );
      const exact = await wh.listMessages(epId(1), { limit: 30 });
      expect(exact.items).toHaveLength(30);
      expect(exact.cursor).toBeUndefined();
      expect((await wh.listMessages(epId(2), { limit: 10 })).items).toStrictEqual([message(2, 5)]);
      const first = await wh.listMessages(epId(1), { limit: 2 });
      await expectCode(wh.listMessages(epId(2), { limit: 2, cursor: first.cursor! }), 'INVALID_CURSOR');
      // A cursor outside the `from` bound (msgId(1) < msgId(20) ascending; > msgId(0) newest first).
      await expectCode(wh.listMessages(epId(1), { limit: 2, from: msgId(20), cursor: first.cursor! }), 'INVALID_CURSOR');
      await expectCode(wh.listMessages(epId(1), { limit: 2, from: msgId(0), newestFirst: true, cursor: first.cursor! }), 'INVALID_CURSOR');
      expect((await wh.listMessages(epId(1), { limit: 2, from: msgId(1), cursor: first.cursor! })).items[0]?.msgId).toBe(msgId(2));
    }));

  it('a status filter that skips many messages still fills each page, and its cursors work', () =>
    use(async ({ store }) => {
      const wh = store.webhooks;
      // 400 messages; 4 failed ones, far apart (more than a Query page of 100 between some, and after the last).
      const failed = new Set([3, 150, 151, 290]);
      await wh.putMessages(Array.from({ length: 400 }, (_, n) => message(1, n, { status: failed.has(n) ? 'failed' : 'delivered' })));
      const failedIds = [...failed].map(msgId);
      expect(await pages((cursor) => wh.listMessages(epId(1), { limit: 2, status: 'failed', ...(cursor && { cursor }) }))).toEqual({
        ids: failedIds,
        sizes: [2, 2],
      });
      expect(await pages((cursor) => wh.listMessages(epId(1), { limit: 2, status: 'failed', newestFirst: true, ...(cursor && { cursor }) }))).toEqual({
        ids: [...failedIds].reverse(),
        sizes: [2, 2],
      });
      // Exactly `limit` matches: no cursor, although 109 items follow the last match.
      expect(await wh.listMessages(epId(1), { limit: 3, status: 'failed', from: msgId(100) })).toStrictEqual({
        items: [150, 151, 290].map((n) => message(1, n, { status: 'failed' })),
      });
      const upTo = await wh.listMessages(epId(1), { limit: 2, status: 'failed', from: msgId(200), newestFirst: true });
      expect(upTo).toStrictEqual({ items: [message(1, 151, { status: 'failed' }), message(1, 150, { status: 'failed' })], cursor: upTo.cursor });
      expect(await wh.listMessages(epId(1), { limit: 2, status: 'failed', from: msgId(200), newestFirst: true, cursor: upTo.cursor! })).toStrictEqual({
        items: [message(1, 3, { status: 'failed' })],
      });
      expect((await wh.listMessages(epId(1), { limit: 5, status: 'pending' })).items).toEqual([]);
    }));
});

describe('attempts', () => {
  const attempt = (msg: number, n: number, ms: number, extra: Partial<WebhookAttempt> = {}): WebhookAttempt => ({
    endpointId: epId(1),
    agencyId: 'AGENCY1',
    msgId: msgId(msg),
    type: 'batch.confirmed',
    at: at(ms),
    attempt: n,
    trigger: 'scheduled',
    outcome: 'failed',
    durationMs: 30,
    expiresAt: at(ms + 86_400_000),
    ...extra,
  });

  it('lists an endpoint\'s attempts newest first, paged, optionally for one message', () =>
    use(async ({ store }) => {
      const wh = store.webhooks;
      const full = attempt(1, 3, 9000, { httpStatus: 200, outcome: 'delivered', trigger: 'manual', error: 'none', responseExcerpt: 'ok' });
      const list = [
        ...Array.from({ length: 150 }, (_, i) => attempt(2 + (i % 50), 1 + Math.floor(i / 50), i * 10)),
        attempt(1, 1, 5), // msg 1 at the old end, msg 1 attempt 2 in the middle, attempt 3 newest
        attempt(1, 2, 705, { httpStatus: 503 }),
        full,
      ];
      await wh.putAttempts(list);
      await wh.putAttempts([attempt(1, 1, 5, { endpointId: epId(2) })]);
      const newestFirst = [...list].sort((a, b) => (a.at < b.at ? 1 : -1));
      const seen: WebhookAttempt[] = [];
      let cursor: string | undefined;
      do {
        const page = await wh.listAttempts(epId(1), { limit: 40, ...(cursor && { cursor }) });
        seen.push(...page.items);
        cursor = page.cursor;
      } while (cursor);
      expect(seen).toStrictEqual(newestFirst);
      const one = await wh.listAttempts(epId(1), { limit: 2, msgId: msgId(1) });
      expect(one.items).toStrictEqual([full, attempt(1, 2, 705, { httpStatus: 503 })]);
      expect(await wh.listAttempts(epId(1), { limit: 2, msgId: msgId(1), cursor: one.cursor! })).toStrictEqual({ items: [attempt(1, 1, 5)] });
      expect((await wh.listAttempts(epId(2), { limit: 10 })).items).toStrictEqual([attempt(1, 1, 5, { endpointId: epId(2) })]);
    }));
});

describe('the retry queue', () => {
  it('lists entries due before a time, oldest first over every shard, at most limit; deletes them', () =>
    use(async ({ store }) => {
      const wh = store.webhooks;
      const entries: DueEntry[] = [];
      for (let i = 0; i < 40; i++) entries.push({ dueAt: at(1000 * (i % 10)), endpointId: epId(i % 3), msgId: msgId(i) });
      expect(new Set(entries.map((e) => shardOf(`${e.endpointId}#${e.msgId}`))).size).toBe(8);
      await wh.putDue(entries);
      const key = (e: DueEntry) => `${e.dueAt} ${e.endpointId} ${e.msgId}`;
      const sorted = [...entries].sort((a, b) => (key(a) < key(b) ? -1 : 1));
      expect(await wh.listDue({ before: at(999_999), limit: 100 })).toStrictEqual(sorted);
      expect(await wh.listDue({ before: at(4000), limit: 100 })).toStrictEqual(sorted.filter((e) => e.dueAt <= at(4000)));
      expect(await wh.listDue({ before: at(3999), limit: 100 })).toStrictEqual(sorted.filter((e) => e.dueAt < at(4000)));
      expect(await wh.listDue({ before: at(9000), limit: 7 })).toStrictEqual(sorted.slice(0, 7));
      expect(await wh.listDue({ before: at(-1), limit: 7 })).toStrictEqual([]);

      await wh.deleteDue(sorted.slice(0, 10));
      expect(await wh.listDue({ before: at(999_999), limit: 100 })).toStrictEqual(sorted.slice(10));
    }));
});

describe('the worker lease', () => {
  it('is taken when free, expired or already held by the owner; release lets another take it', () =>
    use(async ({ store }) => {
      const wh = store.webhooks;
      expect(await wh.acquireLease('delivery', 'w1', 1000, 31_000)).toBe(true); // free
      expect(await wh.acquireLease('delivery', 'w2', 2000, 32_000)).toBe(false); // held by w1 until 31,000
      expect(await wh.acquireLease('delivery', 'w2', 31_000, 61_000)).toBe(false); // until < now is required
      expect(await wh.acquireLease('other', 'w2', 2000, 32_000)).toBe(true); // another lease is independent
      expect(await wh.acquireLease('delivery', 'w1', 20_000, 50_000)).toBe(true); // renewal
      expect(await wh.acquireLease('delivery', 'w2', 40_000, 70_000)).toBe(false);
      expect(await wh.acquireLease('delivery', 'w2', 50_001, 80_000)).toBe(true); // expired
      expect(await wh.acquireLease('delivery', 'w1', 50_002, 80_000)).toBe(false);

      await wh.releaseLease('delivery', 'w1'); // not its lease: nothing happens
      expect(await wh.acquireLease('delivery', 'w1', 50_003, 80_000)).toBe(false);
      await wh.releaseLease('delivery', 'w2');
      expect(await wh.acquireLease('delivery', 'w1', 50_004, 80_000)).toBe(true);
      await wh.releaseLease('absent', 'w1');
    }));
});

describe('invalid input', () => {
  it('is refused with INVALID_ARGUMENT before any request', () =>
    use(async (t) => {
      const wh = t.store.webhooks;
      const seen = observe(t.client);
      const ep = minimalEndpoint();
      const msg: WebhookMessage = {
        endpointId: epId(1),
        agencyId: 'AGENCY1',
        msgId: msgId(1),
        eventId: 'e:1',
        type: 't',
        eventTime: at(0),
        createdAt: at(0),
        status: 'pending',
        attempts: 0,
        scheduledAttempts: 0,
        history: [],
        expiresAt: at(1),
      };
      const att: WebhookAttempt = {
        endpointId: epId(1),
        agencyId: 'AGENCY1',
        msgId: msgId(1),
        type: 't',
        at: at(0),
        attempt: 1,
        trigger: 'scheduled',
        outcome: 'failed',
        durationMs: 1,
        expiresAt: at(1),
      };
      const pay: WebhookPayload = { msgId: msgId(1), eventId: 'e:1', type: 't', body: '{}', createdAt: at(0), expiresAt: at(1) };
      const due: DueEntry = { dueAt: at(0), endpointId: epId(1), msgId: msgId(1) };
      const refused: Array<Promise<unknown>> = [
        wh.createEndpoint({ ...ep, id: 'ep#1' }),
        wh.createEndpoint({ ...ep, agencyId: 'A#1' }),
        wh.createEndpoint({ ...ep, createdAt: '2026-11-22T04:00:00Z' }),
        wh.createEndpoint({ ...ep, secrets: [] }),
        wh.createEndpoint({ ...ep, secrets: [{ sealed: 's', createdAt: 'yesterday' }] }),
        wh.createEndpoint({ ...ep, status: 'paused' as 'enabled' }),
        wh.getEndpoint('AGENCY1', 'ep#1'),
        wh.listEndpoints('A#'),
        wh.updateEndpoint('AGENCY1', ep.id, { failingSince: 'now', updatedAt: at(1) }),
        wh.updateEndpoint('AGENCY1', ep.id, { updatedAt: at(1) }, { failingSince: '2026-11-22' }),
        wh.updateEndpoint('AGENCY1', ep.id, { status: null as unknown as 'enabled', updatedAt: at(1) }),
        wh.deleteEndpoint('AGENCY1', 'ep#1'),
        wh.deleteOutbox([{ eventId: 'e:1', shard: 0, writtenAt: 'x' }]),
        wh.putPayloads([pay, { ...pay, msgId: 'm#2' }]),
        wh.getPayloads(['m#1']),
        wh.putMessages([msg, { ...msg, msgId: msgId(2), eventTime: '2026-11-22 04:00:00.000Z' }]),
        wh.putMessages([{ ...msg, endpointId: 'ep#1' }]),
        wh.getMessages([{ endpointId: epId(1), msgId: 'm#1' }]),
        wh.listMessages('ep#1', { limit: 1 }),
        wh.listMessages(epId(1), { limit: 1, from: 'a#b' }),
        wh.listMessages(epId(1), { limit: 1, status: 'lost' as 'pending' }),
        wh.listMessages(epId(1), { limit: 0 }),
        wh.putDue([due, { ...due, dueAt: 'soon' }]),
        wh.deleteDue([{ ...due, msgId: 'm#1' }]),
        wh.listDue({ before: 'later', limit: 1 }),
        wh.putAttempts([att, { ...att, attempt: 0 }]),
        wh.putAttempts([{ ...att, at: 'now' }]),
        wh.listAttempts(epId(1), { limit: 1, msgId: 'm#1' }),
        wh.acquireLease('a#b', 'w1', 0, 1),
        wh.acquireLease('delivery', 'w1', 10, 10),
        wh.releaseLease('a#b', 'w1'),
        t.store.putEvents([{ id: 'e:1', type: 't', time: at(0), data: {} }, { id: 'e:2', type: 't', time: 'now', data: {} }]),
      ];
      for (const p of refused) await expectCode(p, 'INVALID_ARGUMENT');
      expect(seen).toEqual([]);
      expect(t.store.capacity).toEqual({ read: 0, write: 0 });
    }));
});

describe('capacity', () => {
  it('the webhook store counts in the main store\'s capacity', () =>
    use(async ({ store }) => {
      await store.webhooks.createEndpoint(minimalEndpoint());
      expect(store.capacity).toEqual({ read: 0, write: 1 });
      await store.webhooks.getEndpoint('AGENCY1', epId(2));
      expect(store.capacity).toEqual({ read: 1, write: 1 });
      expect(await store.webhooks.deleteEndpoint('AGENCY1', epId(9))).toBe(false);
      expect(store.capacity).toEqual({ read: 1, write: 2 }); // a failed conditional delete: estimated 1 WCU
    }));
});
