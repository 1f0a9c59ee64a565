/**
 * The lagging engine (test/helpers/lagging-engine.ts) on dynalite: eventually
 * consistent reads lag behind recent writes, consistent reads never do, and
 * the store's own methods behave as README.md "Consistency" says they must.
 * Every run is seeded, so each count below is reproducible.
 */
import { createHash } from 'node:crypto';
import {
  BatchGetItemCommand,
  BatchWriteItemCommand,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
  type BatchWriteItemCommandInput,
  type BatchWriteItemCommandOutput,
  type GetItemCommandOutput,
  type QueryCommandOutput,
} from '@aws-sdk/client-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import type { Item } from '../../functions/store/codec.ts';
import type { Batch, LedgerEvent, Proposal } from '../../functions/store/port.ts';
import { ensureTable } from '../../functions/store/table.ts';
import { stopDynalite, withStore, type TestStore } from '../helpers/dynalite.ts';
import { laggingEngine, type LaggingEngine, type LaggingOptions } from '../helpers/lagging-engine.ts';

afterAll(stopDynalite);

type Lagged = TestStore & { engine: LaggingEngine; lagged: DynamoDBClient };

/** A fresh table whose store sends through a lagging engine; `lagged` is one more client of the same engine. */
async function use(options: LaggingOptions, fn: (t: Lagged) => Promise<void>): Promise<void> {
  const engine = laggingEngine(options);
  const t = await withStore({ lagging: engine });
  try {
    await fn({ ...t, engine, lagged: engine.wrap(t.client) });
  } finally {
    await t.close();
  }
}

// Items live in one partition P, named by their sort key, with a number v.
const key = (sk: string): Item => ({ pk: { S: 'P' }, sk: { S: sk } });
const item = (sk: string, v: number): Item => ({ ...key(sk), v: { N: String(v) } });
const valueOf = (it: Item | undefined): number | undefined => (it?.v?.N === undefined ? undefined : Number(it.v.N));

const put = (c: DynamoDBClient, table: string, it: Item) => c.send(new PutItemCommand({ TableName: table, Item: it }));
const update = (c: DynamoDBClient, table: string, sk: string, v: number) =>
  c.send(new UpdateItemCommand({ TableName: table, Key: key(sk), UpdateExpression: 'SET v = :v', ExpressionAttributeValues: { ':v': { N: String(v) } } }));
const del = (c: DynamoDBClient, table: string, sk: string) => c.send(new DeleteItemCommand({ TableName: table, Key: key(sk) }));
async function get(c: DynamoDBClient, table: string, sk: string, consistent: boolean): Promise<Item | undefined> {
  return (await c.send(new GetItemCommand({ TableName: table, Key: key(sk), ConsistentRead: consistent }))).Item;
}
async function batchGet(c: DynamoDBClient, table: string, sks: string[], consistent: boolean): Promise<Item[]> {
  const res = await c.send(new BatchGetItemCommand({ RequestItems: { [table]: { Keys: sks.map(key), ConsistentRead: consistent } } }));
  return res.Responses?.[table] ?? [];
}
const query = (c: DynamoDBClient, table: string, consistent: boolean): Promise<QueryCommandOutput> =>
  c.send(new QueryCommand({ TableName: table, KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': { S: 'P' } }, ConsistentRead: consistent }));

/** `n` eventually consistent answers of `read`, tallied by a label. */
async function tally<T>(n: number, read: () => Promise<T>, label: (x: T) => string): Promise<Map<string, number>> {
  const seen = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const l = label(await read());
    seen.set(l, (seen.get(l) ?? 0) + 1);
  }
  return seen;
}
const sks = (items: Item[]): string => items.map((it) => it.sk!.S).sort().join(',');

describe('GetItem', () => {
  it('after a put, eventual reads sometimes miss the item; consistent reads always see it', () =>
    use({ seed: 7, maxLagWrites: 10 }, async ({ engine, lagged, tableName }) => {
      await put(lagged, tableName, item('a', 1));
      const seen = await tally(200, () => get(lagged, tableName, 'a', false), (it) => String(valueOf(it)));
      expect([...seen.keys()].sort()).toEqual(['1', 'undefined']);
      expect(engine.stats()).toMatchObject({ writes: 1, eventualReads: 200, staleItems: seen.get('undefined') });
      for (let i = 0; i < 50; i++) expect(valueOf(await get(lagged, tableName, 'a', true))).toBe(1);
      expect(engine.stats().eventualReads).toBe(200);
    }));

  it('with maxLagWrites 0 is never stale and keeps no history', () =>
    use({ seed: 7, maxLagWrites: 0 }, async ({ engine, lagged, tableName }) => {
      for (let i = 0; i < 20; i++) {
        await put(lagged, tableName, item(`k${i % 3}`, i));
        if (i % 5 === 4) await del(lagged, tableName, `k${i % 3}`);
        for (const sk of ['k0', 'k1', 'k2']) expect(await get(lagged, tableName, sk, false)).toEqual(await get(lagged, tableName, sk, true));
        expect(sks(await batchGet(lagged, tableName, ['k0', 'k1', 'k2'], false))).toBe(sks(await batchGet(lagged, tableName, ['k0', 'k1', 'k2'], true)));
      }
      expect(engine.stats()).toMatchObject({ writes: 24, staleItems: 0, historySize: 0 });
    }));

  it('after an update, eventual reads serve the previous version', () =>
    use({ seed: 3, maxLagWrites: 5 }, async ({ engine, client, lagged, tableName }) => {
      await put(client, tableName, item('a', 1)); // the raw client: not recorded
      await update(lagged, tableName, 'a', 2);
      const seen = await tally(100, () => get(lagged, tableName, 'a', false), (it) => String(valueOf(it)));
      expect([...seen.keys()].sort()).toEqual(['1', '2']);
      expect(engine.stats().staleItems).toBe(seen.get('1'));
    }));

  it('after a delete, eventual Get and BatchGet bring the item back; consistent reads do not', () =>
    use({ seed: 5, maxLagWrites: 5 }, async ({ client, lagged, tableName }) => {
      await put(client, tableName, item('a', 1));
      await put(client, tableName, item('b', 5));
      await del(lagged, tableName, 'a');
      const gets = await tally(100, () => get(lagged, tableName, 'a', false), (it) => String(valueOf(it)));
      expect([...gets.keys()].sort()).toEqual(['1', 'undefined']);
      const batches = await tally(100, () => batchGet(lagged, tableName, ['a', 'b'], false), sks);
      expect([...batches.keys()].sort()).toEqual(['a,b', 'b']);
      for (let i = 0; i < 20; i++) {
        expect(await get(lagged, tableName, 'a', true)).toBeUndefined();
        expect(sks(await batchGet(lagged, tableName, ['a', 'b'], true))).toBe('b');
      }
    }));

  it('refuses eventual reads with a projection; consistent ones pass', () =>
    use({ seed: 1 }, async ({ lagged, tableName }) => {
      await put(lagged, tableName, item('a', 1));
      const read = (consistent: boolean) =>
        lagged.send(new GetItemCommand({ TableName: tableName, Key: key('a'), ProjectionExpression: 'v', ConsistentRead: consistent }));
      await expect(read(false)).rejects.toThrow('lagging engine: eventually consistent reads with a projection are not modelled');
      expect((await read(true)).Item).toEqual({ v: { N: '1' } });
    }));
});

describe('BatchGetItem', () => {
  it('lags per table entry; one horizon per request shows a prefix of the writes', () =>
    use({ seed: 11, maxLagWrites: 12 }, async ({ client, lagged, tableName }) => {
      const other = `${tableName}_b`;
      await ensureTable(client, other);
      const names = Array.from({ length: 10 }, (_, i) => `k${i}`);
      for (const sk of names) await put(lagged, tableName, item(sk, 1));
      await put(lagged, other, item('x', 1));
      const sizes = new Set<number>();
      for (let i = 0; i < 200; i++) {
        const res = await lagged.send(
          new BatchGetItemCommand({
            RequestItems: { [tableName]: { Keys: names.map(key) }, [other]: { Keys: [key('x')], ConsistentRead: true } },
          }),
        );
        expect(sks(res.Responses![other]!)).toBe('x'); // the consistent entry: untouched
        const got = sks(res.Responses![tableName]!);
        const n = got === '' ? 0 : got.split(',').length;
        expect(got).toBe(sks(names.slice(0, n).map(key))); // k0..k(n-1): written first, seen first
        sizes.add(n);
      }
      expect(sizes.has(10)).toBe(true);
      expect(sizes.size).toBeGreaterThan(5);
    }));

  it('with perItemLag, a read may see a write without an earlier one', () =>
    use({ seed: 11, maxLagWrites: 12, perItemLag: true }, async ({ lagged, tableName }) => {
      const names = Array.from({ length: 10 }, (_, i) => `k${i}`);
      for (const sk of names) await put(lagged, tableName, item(sk, 1));
      let holes = 0;
      for (let i = 0; i < 50; i++) {
        const got = sks(await batchGet(lagged, tableName, names, false));
        const n = got === '' ? 0 : got.split(',').length;
        if (got !== sks(names.slice(0, n).map(key))) holes++;
      }
      expect(holes).toBeGreaterThan(0);
    }));
});

describe('Query', () => {
  it('leaves out recent items and serves old versions, keeping order and Count; consistent queries are fresh', () =>
    use({ seed: 2, maxLagWrites: 10 }, async ({ client, lagged, tableName }) => {
      for (const sk of ['a', 'b', 'c']) await put(client, tableName, item(sk, 1));
      await update(lagged, tableName, 'b', 2);
      await put(lagged, tableName, item('d', 1));
      await del(lagged, tableName, 'c');
      const label = (res: QueryCommandOutput): string => {
        expect(res.Count).toBe(res.Items!.length);
        expect(res.ScannedCount).toBe(res.Items!.length);
        const order = res.Items!.map((it) => it.sk!.S!);
        expect(order).toEqual([...order].sort());
        return res.Items!.map((it) => `${it.sk!.S}${valueOf(it)}`).join(',');
      };
      const seen = await tally(200, () => query(lagged, tableName, false), label);
      // A deleted item never comes back to a Query (the engine no longer returns it; see the module comment).
      expect([...seen.keys()].sort()).toEqual(['a1,b1', 'a1,b2', 'a1,b2,d1']);
      for (let i = 0; i < 20; i++) expect(label(await query(lagged, tableName, true))).toBe('a1,b2,d1');
    }));

  it('lags the events index (listEvents through a DynamoStore on a lagging client)', () =>
    use({ seed: 4, maxLagWrites: 10 }, async ({ store, engine }) => {
      const events: LedgerEvent[] = Array.from({ length: 10 }, (_, i) => ({
        id: `round.finalized:${i}`,
        type: 'round.finalized',
        time: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
        data: { height: i },
      }));
      await store.putEvents(events);
      const before = engine.stats().staleItems;
      const sizes = await tally(100, () => store.listEvents({ type: 'round.finalized', limit: 100 }), (page) => {
        const byId = new Map(events.map((e) => [e.id, e]));
        page.items.forEach((e) => expect(e).toEqual(byId.get(e.id)));
        expect(page.items.map((e) => e.time)).toEqual(page.items.map((e) => e.time).sort());
        return String(page.items.length);
      });
      expect(sizes.get('10')).toBeGreaterThan(0);
      expect([...sizes.keys()].some((n) => Number(n) < 10)).toBe(true);
      expect(engine.stats().staleItems).toBeGreaterThan(before);
    }));
});

describe('writes', () => {
  it('a failed conditional put records nothing and its error passes through unchanged', () =>
    use({ seed: 1, maxLagWrites: 10 }, async ({ engine, client, lagged, tableName }) => {
      await put(client, tableName, item('a', 1));
      const conditional = new PutItemCommand({ TableName: tableName, Item: item('a', 2), ConditionExpression: 'attribute_not_exists(pk)' });
      const err = await lagged.send(conditional).then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(ConditionalCheckFailedException);
      expect((err as Error).message).toBe(await client.send(conditional).then(() => '', (e: Error) => e.message));
      expect(engine.stats().writes).toBe(0);
      const seen = await tally(50, () => get(lagged, tableName, 'a', false), (it) => String(valueOf(it)));
      expect([...seen.keys()]).toEqual(['1']);
    }));

  it('BatchWriteItem records only the items that were processed', () =>
    use({ seed: 1, maxLagWrites: 10 }, async ({ engine, client, lagged, tableName }) => {
      // The engine is told to leave the last request of every BatchWriteItem unprocessed.
      client.middlewareStack.add(
        (next, context) => async (args) => {
          if (context.commandName !== 'BatchWriteItemCommand') return next(args);
          const input = args.input as BatchWriteItemCommandInput;
          const reqs = input.RequestItems![tableName]!;
          const res = await next({ ...args, input: { ...input, RequestItems: { [tableName]: reqs.slice(0, -1) } } });
          (res.output as BatchWriteItemCommandOutput).UnprocessedItems = { [tableName]: reqs.slice(-1) };
          return res;
        },
        { step: 'initialize', name: 'leave-last-unprocessed' },
      );
      const out = await lagged.send(
        new BatchWriteItemCommand({ RequestItems: { [tableName]: ['a', 'b', 'c', 'd', 'e'].map((sk) => ({ PutRequest: { Item: item(sk, 1) } })) } }),
      );
      expect(out.UnprocessedItems?.[tableName]).toHaveLength(1);
      expect(engine.stats().writes).toBe(4);
      expect(sks(await batchGet(client, tableName, ['a', 'b', 'c', 'd', 'e'], true))).toBe('a,b,c,d');
    }));

  it('the same seed gives the same answers in a sequential run, another seed others', async () => {
    const run = async (seed: number): Promise<{ answers: string; stale: number }> => {
      let answers = '';
      let stale = 0;
      await use({ seed, maxLagWrites: 6 }, async ({ lagged, tableName }) => {
        for (let i = 0; i < 60; i++) {
          await put(lagged, tableName, item(`k${i % 4}`, i));
          const sk = `k${(i * 3) % 4}`;
          const got = valueOf(await get(lagged, tableName, sk, false));
          if (got !== valueOf(await get(lagged, tableName, sk, true))) stale++;
          answers += `${got ?? '-'},`;
        }
      });
      return { answers, stale };
    };
    const a = await run(11);
    expect(await run(11)).toEqual(a);
    expect((await run(12)).answers).not.toBe(a.answers);
    expect(a.stale).toBeGreaterThan(0);
    expect(a.stale).toBeLessThan(60);
  });

  it('concurrent delayed writes from several clients: consistent reads see the final state, eventual reads every older one', () =>
    use({ seed: 5, maxLagWrites: 40, writeDelayMs: [0, 20] }, async ({ engine, client, tableName }) => {
      // Three coordinators add 1 to one counter 60 times at once; the random delays reorder them.
      const writers = [engine.wrap(client), engine.wrap(client), engine.wrap(client)];
      const done: number[] = [];
      await Promise.all(
        Array.from({ length: 60 }, (_, i) =>
          writers[i % 3]!.send(
            new UpdateItemCommand({ TableName: tableName, Key: key('n'), UpdateExpression: 'ADD v :one', ExpressionAttributeValues: { ':one': { N: '1' } } }),
          ).then(() => done.push(i)),
        ),
      );
      expect(done).not.toEqual([...done].sort((x, y) => x - y));
      const reader = engine.wrap(client);
      expect(valueOf(await get(reader, tableName, 'n', true))).toBe(60);
      expect(engine.stats().writes).toBe(60);
      // Write s (1..60) turned s - 1 into s, so an eventual read at horizon 60 - r (r in 0..40) shows 60 - r:
      // every value 20..60 and no other. A before captured outside its key's lock would repeat one and skip another.
      const seen = await tally(600, () => get(reader, tableName, 'n', false), (it) => String(valueOf(it)));
      expect([...seen.keys()].map(Number).sort((x, y) => x - y)).toEqual(Array.from({ length: 41 }, (_, i) => 20 + i));
    }));

  it('keeps history bounded: maxLagWrites entries, and older writes are never served stale', () =>
    use({ seed: 8, maxLagWrites: 20 }, async ({ engine, lagged, tableName }) => {
      await put(lagged, tableName, item('old', 1));
      for (let i = 0; i < 300; i++) {
        await put(lagged, tableName, item(`k${i % 10}`, i));
        expect(engine.stats().historySize).toBeLessThanOrEqual(20);
      }
      expect(engine.stats()).toMatchObject({ writes: 301, historySize: 20 });
      const stale = engine.stats().staleItems;
      const seen = await tally(100, () => get(lagged, tableName, 'old', false), (it) => String(valueOf(it)));
      expect([...seen.keys()]).toEqual(['1']);
      const recent = await tally(100, () => get(lagged, tableName, 'k9', false), (it) => String(valueOf(it)));
      expect(recent.size).toBeGreaterThan(1); // the last writes still lag
      expect(engine.stats().staleItems).toBe(stale + 100 - (recent.get('299') ?? 0));
    }));

  it('validates its options', () => {
    expect(() => laggingEngine({ maxLagWrites: -1 })).toThrow('lagging engine: maxLagWrites must be a non-negative integer, got -1');
    expect(() => laggingEngine({ maxLagWrites: 1.5 })).toThrow('maxLagWrites');
    expect(() => laggingEngine({ writeDelayMs: [5, 1] })).toThrow('lagging engine: writeDelayMs must be [min, max] with 0 <= min <= max, got [5, 1]');
  });
});

describe('the wrapped client', () => {
  it('is the same client for everything but send, callbacks included', () =>
    use({ seed: 1 }, async ({ client, lagged, tableName }) => {
      expect(lagged).toBeInstanceOf(DynamoDBClient);
      expect(lagged.config).toBe(client.config);
      expect(lagged.middlewareStack).toBe(client.middlewareStack);
      await put(lagged, tableName, item('a', 1));
      const viaCallback = await new Promise<GetItemCommandOutput | undefined>((resolve, reject) =>
        lagged.send(new GetItemCommand({ TableName: tableName, Key: key('a'), ConsistentRead: true }), (err, data) => (err ? reject(err) : resolve(data))),
      );
      expect(viaCallback?.Item).toEqual(item('a', 1));
    }));
});

describe('store methods on a lagging client', () => {
  const sha = (s: string): Uint8Array => new Uint8Array(createHash('sha256').update(s).digest());
  const at = (ms: number): string => new Date(Date.UTC(2026, 10, 22, 4, 0, 0) + ms).toISOString();
  const batch = (i: number): Batch => ({ id: `B${i}`, agencyId: 'AGENCY1', arrivedAt: at(i), hashes: sha(`anchor ${i}`), count: 1, root: sha(`anchor ${i}`) });

  it('getBatches and getBatch read missed heads again consistently; getProposal (c) never misses', () =>
    use({ seed: 9, maxLagWrites: 20 }, async ({ store, engine }) => {
      const batches = Array.from({ length: 20 }, (_, i) => batch(i));
      for (const b of batches) await store.putBatch(b);
      const ids = batches.map((b) => b.id);
      const before = engine.stats().staleItems;
      const sizes = await tally(100, () => store.getBatches(ids), ({ found }) => {
        for (const [id, b] of found) expect(b).toEqual(batches.find((x) => x.id === id));
        return String(found.size);
      });
      // The eventually consistent reads did miss heads, and the store made up for every miss.
      expect(engine.stats().staleItems).toBeGreaterThan(before);
      expect([...sizes.keys()]).toEqual(['20']);

      const proposal: Proposal = {
        height: 1,
        proposalId: 'P1',
        header: 'header',
        checkpoint: 'checkpoint',
        members: batches.slice(0, 3).map((b) => ({ batchId: b.id, agencyId: b.agencyId, root: b.root, count: b.count, arrivedAt: b.arrivedAt })),
        createdAt: at(100),
      };
      expect(await store.putProposal(proposal)).toEqual(proposal);
      const stale = engine.stats().staleItems;
      for (let i = 0; i < 50; i++) expect(await store.getProposal(1)).toEqual(proposal);
      expect(engine.stats().staleItems).toBe(stale);
      const stale2 = engine.stats().staleItems;
      const misses = await tally(50, () => store.getBatch('B19'), (b) => (b ? 'found' : 'missed'));
      expect(engine.stats().staleItems).toBeGreaterThan(stale2);
      expect([...misses.keys()]).toEqual(['found']);
    }));

  it('the webhook store reads only consistently: fresh answers right after writes and deletes', () =>
    use({ seed: 10, maxLagWrites: 50 }, async ({ store, engine }) => {
      const wh = store.webhooks;
      const events: LedgerEvent[] = Array.from({ length: 10 }, (_, i) => ({ id: `e:${i}`, type: 't', time: at(i), data: {} }));
      await store.putEvents(events);
      const outbox = await wh.listOutbox(100);
      await wh.deleteOutbox(outbox.slice(0, 5));
      const ep = { id: 'ep1', agencyId: 'AGENCY1', url: 'https://x.example/', status: 'enabled' as const, secrets: [{ sealed: 's', createdAt: at(0) }], createdAt: at(0), updatedAt: at(0) };
      await wh.createEndpoint(ep);
      await wh.updateEndpoint('AGENCY1', 'ep1', { description: 'd', updatedAt: at(1) });
      const due = Array.from({ length: 10 }, (_, i) => ({ dueAt: at(i), endpointId: 'ep1', msgId: `m${i}` }));
      await wh.putDue(due);
      await wh.deleteDue(due.slice(0, 5));
      await wh.putMessages([{ endpointId: 'ep1', agencyId: 'AGENCY1', msgId: 'm1', eventId: 'e:1', type: 't', eventTime: at(1), createdAt: at(1), status: 'pending', attempts: 0, scheduledAttempts: 0, history: [], expiresAt: at(9) }]);
      await wh.putPayloads([{ msgId: 'm1', eventId: 'e:1', type: 't', body: '{}', createdAt: at(1), expiresAt: at(9) }]);
      const before = engine.stats().eventualReads;
      for (let i = 0; i < 10; i++) {
        expect(await wh.listOutbox(100)).toEqual(outbox.slice(5));
        expect(await wh.listDue({ before: at(100), limit: 100 })).toEqual(due.slice(5));
        expect((await wh.getEndpoint('AGENCY1', 'ep1'))?.description).toBe('d');
        expect(await wh.listEndpoints()).toHaveLength(1);
        expect((await wh.getEvents(['e:9'])).size).toBe(1);
        expect((await wh.getMessages([{ endpointId: 'ep1', msgId: 'm1' }])).size).toBe(1);
        expect((await wh.listMessages('ep1', { limit: 10 })).items).toHaveLength(1);
        expect((await wh.getPayloads(['m1'])).size).toBe(1);
      }
      expect(engine.stats().eventualReads).toBe(before);
    }));
});
