/**
 * Conformance suite of the store port, run against the DynamoDB adapter on an
 * in-memory dynalite (one engine for the file, a fresh table per test).
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { BatchWriteItemCommand, PutItemCommand, QueryCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import { itemBytes, type Item } from '../../functions/store/codec.ts';
import { startDynalite } from '../../functions/store/dynalite.ts';
import { clientGate, FILTERED_PAGE_EVALUATED, MAX_IN_FLIGHT, TableIo } from '../../functions/store/dynamo-io.ts';
import { EVENTS_INDEX } from '../../functions/store/table-shape.ts';
import { DynamoStore } from '../../functions/store/dynamo-store.ts';
import { keys } from '../../functions/store/items.ts';
import type { AnchorEntry, Batch, Block, LedgerEvent, PendingBatch, Proposal, RoundMember } from '../../functions/store/port.ts';
import { ServiceError } from '../../functions/errors.ts';
import { stopDynalite, withStore, type TestStore } from '../helpers/dynalite.ts';

afterAll(stopDynalite);

const sha = (s: string): Uint8Array => new Uint8Array(createHash('sha256').update(s).digest());
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const at = (ms: number): string => new Date(Date.UTC(2026, 10, 22, 4, 0, 0) + ms).toISOString();
const id = (n: number): string => `01JD${String(n).padStart(22, '0')}`;

function batchOf(n: number, opts: { id?: string; arrivedAt?: string; entries?: boolean } = {}): Batch {
  const hashes = new Uint8Array(32 * n);
  for (let i = 0; i < n; i++) hashes.set(sha(`anchor ${i}`), 32 * i);
  const b: Batch = { id: opts.id ?? id(n), agencyId: 'AGENCY1', arrivedAt: opts.arrivedAt ?? at(0), hashes, count: n, root: sha(`root ${n}`) };
  if (opts.entries) {
    b.entries = Array.from({ length: n }, (_, i): AnchorEntry =>
      i % 10 === 9 ? {} : { recordKey: `parcel/${i}`, metadata: { version: i % 7, clerk: `c${i % 13}`, salt: randomBytes(6).toString('hex') } },
    );
  }
  return b;
}

/** Every raw item of a partition, straight from the engine. */
async function rawItems(t: TestStore, pk: string): Promise<Item[]> {
  const res = await t.client.send(
    new QueryCommand({ TableName: t.tableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': { S: pk } } }),
  );
  return res.Items ?? [];
}

/** Records the commands sent through a client, the most keys in one BatchGetItem, and the most requests in flight at once. */
function observeRequests(client: DynamoDBClient): { commands: string[]; maxKeys: number; maxInFlight: number } {
  const seen = { commands: [] as string[], maxKeys: 0, maxInFlight: 0 };
  let inFlight = 0;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      seen.commands.push(context.commandName ?? '?');
      const req = (args.input as { RequestItems?: Record<string, { Keys?: unknown[] }> }).RequestItems;
      for (const r of Object.values(req ?? {})) seen.maxKeys = Math.max(seen.maxKeys, r.Keys?.length ?? 0);
      seen.maxInFlight = Math.max(seen.maxInFlight, ++inFlight);
      try {
        return await next(args);
      } finally {
        inFlight--;
      }
    },
    { step: 'initialize', name: `observe-${Math.random()}` },
  );
  return seen;
}

async function expectCode(p: Promise<unknown>, code: string): Promise<void> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ServiceError);
  expect((err as ServiceError).code).toBe(code);
}

async function use<T>(fn: (t: TestStore) => Promise<T>): Promise<T> {
  const t = await withStore();
  try {
    return await fn(t);
  } finally {
    await t.close();
  }
}

describe('agencies and API keys', () => {
  it('creates and reads an agency; an identical create is a no-op, a different one is refused', () =>
    use(async ({ store }) => {
      const agency = { id: 'AGENCY1', name: 'Land registry', createdAt: at(0) };
      await store.createAgency(agency);
      await store.createAgency(agency);
      expect(await store.getAgency('AGENCY1')).toEqual(agency);
      expect(await store.getAgency('NOPE')).toBeNull();
      await expectCode(store.createAgency({ ...agency, name: 'Other' }), 'INVALID_ARGUMENT');
    }));

  it('stores keys by hash and per agency; revocation shows on both copies, first time wins', () =>
    use(async ({ store }) => {
      const k1 = { keyId: 'k1', agencyId: 'AGENCY1', keyHash: hex(sha('token1')), createdAt: at(0), label: 'batch job' };
      const k2 = { keyId: 'k2', agencyId: 'AGENCY1', keyHash: hex(sha('token2')), createdAt: at(1) };
      await store.putApiKey(k1);
      await store.putApiKey(k2);
      await store.putApiKey({ keyId: 'k3', agencyId: 'AGENCY2', keyHash: hex(sha('token3')), createdAt: at(2) });
      expect(await store.getApiKeyByHash(k1.keyHash)).toEqual(k1);
      expect(await store.getApiKeyByHash(hex(sha('unknown')))).toBeNull();
      expect(await store.getApiKeyByHash('not-a-hash')).toBeNull();
      expect(await store.listApiKeys('AGENCY1')).toEqual([k1, k2]);

      expect(await store.revokeApiKey('AGENCY1', 'k1', at(10))).toBe(true);
      expect(await store.revokeApiKey('AGENCY1', 'k1', at(20))).toBe(true);
      expect(await store.revokeApiKey('AGENCY1', 'missing', at(10))).toBe(false);
      expect(await store.revokeApiKey('AGENCY2', 'k1', at(10))).toBe(false);
      expect((await store.getApiKeyByHash(k1.keyHash))?.revokedAt).toBe(at(10));
      const listed = await store.listApiKeys('AGENCY1');
      expect(listed.map((k) => k.revokedAt)).toEqual([at(10), undefined]);
    }));
});

describe('intake', () => {
  it('claims an idempotency key once; the second claim returns the first record', () =>
    use(async ({ store }) => {
      const rec = { agencyId: 'AGENCY1', key: 'req#42/x', requestHash: hex(sha('body')), batchId: id(1), createdAt: at(0) };
      expect(await store.claimIdempotencyKey(rec)).toEqual({ created: true });
      expect(await store.claimIdempotencyKey({ ...rec, requestHash: hex(sha('other')), batchId: id(2), createdAt: at(5000) })).toEqual({
        created: false,
        existing: rec,
      });
      // Same key, other agency: independent.
      expect(await store.claimIdempotencyKey({ ...rec, agencyId: 'AGENCY2' })).toEqual({ created: true });
      // After 24 h the record has expired (TTL deletion may lag; the condition treats it as gone).
      const later = { ...rec, batchId: id(3), createdAt: at(24 * 3600 * 1000 + 1000) };
      expect(await store.claimIdempotencyKey(later)).toEqual({ created: true });
    }));

  it('round-trips a batch with and without entries; putBatch is idempotent', () =>
    use(async ({ store }) => {
      const plain = batchOf(3, { id: id(1) });
      const rich = { ...batchOf(5, { id: id(2), entries: true }), idempotencyKey: 'k-1' };
      await store.putBatch(plain);
      await store.putBatch(plain);
      await store.putBatch(rich);
      expect(await store.getBatch(plain.id)).toEqual(plain);
      expect(await store.getBatch(rich.id)).toEqual(rich);
      expect(await store.getBatch(id(99))).toBeNull();
      await expectCode(store.putBatch({ ...plain, count: 4 }), 'INVALID_ARGUMENT');
      await expectCode(store.putBatch({ ...plain, id: 'a#b' }), 'INVALID_ARGUMENT');
      await expectCode(store.putBatch({ ...plain, arrivedAt: '2026-11-22T04:00:00Z' }), 'INVALID_ARGUMENT');
    }));

  it('costs ~1 WCU per KB: 1,000 hashes without entries', () =>
    use(async ({ store }) => {
      const b = batchOf(1000, { id: id(1000) });
      store.resetCapacity();
      await store.putBatch(b);
      const batchWcu = store.capacity.write;
      await store.putPending({ batchId: b.id, agencyId: b.agencyId, arrivedAt: b.arrivedAt, root: b.root, count: b.count });
      const intakeWcu = store.capacity.write;
      console.log(`putBatch(1,000 hashes): ${batchWcu} WCU; + putPending: ${intakeWcu} WCU`);
      expect(batchWcu).toBe(32); // 32,000 bytes of hashes + ~150 bytes of key and attributes
      expect(intakeWcu).toBe(33);
      expect(store.capacity.read).toBe(0);
      await store.putBatch(b); // an identical overwrite costs the same again, never more
      expect(store.capacity.write).toBe(intakeWcu + batchWcu);
    }));

  it('spills a 10,000-anchor batch with entries into parts, every item under 400 KB', () =>
    use(async (t) => {
      const b = batchOf(10_000, { id: id(10_000), entries: true });
      t.store.resetCapacity();
      await t.store.putBatch(b);
      const wcu = t.store.capacity.write;
      const items = await rawItems(t, `BATCH#${b.id}`);
      const sizes = items.map(itemBytes);
      const total = sizes.reduce((a, x) => a + x, 0);
      console.log(`putBatch(10,000 hashes + entries): ${items.length} items, ${total} bytes, ${wcu} WCU`);
      expect(items.length).toBeGreaterThanOrEqual(2);
      const digest = items[0]!.digest?.S;
      expect(digest).toMatch(/^[0-9a-f]{16}$/);
      expect(items.map((i) => i.sk?.S)).toEqual(['BATCH', ...items.slice(1).map((_, i) => `PART#${digest}#${String(i + 1).padStart(4, '0')}`)]);
      for (const s of sizes) expect(s).toBeLessThan(360 * 1024);
      expect(wcu).toBeLessThanOrEqual(Math.ceil(total / 1024) + items.length);
      expect(await t.store.getBatch(b.id)).toEqual(b);
      const many = await t.store.getBatches([b.id]);
      expect(many.found.get(b.id)).toEqual(b);
      expect(many.unreadable.size).toBe(0);
    }));

  it('getBatches reads batches larger than one BatchGetItem response holds (dynalite: about 1.4 MB per call)', () =>
    use(async (t) => {
      // 48 batches of 10,000 hashes: 320 KB heads, 4 per dynalite response, so 12 or more calls for
      // one chunk of 48 keys. Each call that returns something is followed at once by the next.
      const hashes = batchOf(10_000).hashes;
      const batches = Array.from({ length: 48 }, (_, i): Batch => ({ ...batchOf(1, { id: id(7000 + i) }), hashes, count: 10_000 }));
      for (const b of batches) await t.store.putBatch(b);
      const seen = observeRequests(t.client);
      const got = (await t.store.getBatches(batches.map((b) => b.id))).found;
      expect(got.size).toBe(48);
      for (const b of batches) {
        const { hashes: h, ...rest } = got.get(b.id)!;
        expect(rest).toEqual({ id: b.id, agencyId: b.agencyId, arrivedAt: b.arrivedAt, count: b.count, root: b.root });
        expect(Buffer.from(h).equals(hashes)).toBe(true); // toEqual on 320,000 bytes each would take seconds
      }
      expect(seen.commands.length).toBeGreaterThanOrEqual(12);
      expect(new Set(seen.commands)).toEqual(new Set(['BatchGetItemCommand']));
    }));

  it('getBatches reads > 100 batches (several BatchGetItem calls), skipping unknown ids', () =>
    use(async ({ store }) => {
      const batches = Array.from({ length: 130 }, (_, i) => batchOf(1 + (i % 4), { id: id(5000 + i) }));
      await Promise.all(batches.map((b) => store.putBatch(b)));
      const ids = [...batches.map((b) => b.id), id(1), id(2), batches[0]!.id];
      const got = (await store.getBatches(ids)).found;
      expect(got.size).toBe(130);
      for (const b of batches) expect(got.get(b.id)).toEqual(b);
      expect((await store.getBatches([])).found.size).toBe(0);
    }));

  it('keeps per-record history newest first, paged with cursors', () =>
    use(async ({ store }) => {
      const entries = Array.from({ length: 60 }, (_, i) => ({ anchorId: `${id(i)}.${i}`, hash: hex(sha(`v${i}`)), arrivedAt: at(i * 1000) }));
      await store.putHistory('AGENCY1', [
        ...entries.map((e) => ({ recordKey: 'parcel/7', ...e })),
        ...entries.slice(0, 3).map((e) => ({ recordKey: 'parcel/8', ...e })),
      ]);
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await store.listHistory('AGENCY1', 'parcel/7', { limit: 25, ...(cursor !== undefined && { cursor }) });
        seen.push(...page.items.map((e) => e.anchorId));
        cursor = page.cursor;
        pages++;
      } while (cursor);
      expect(pages).toBe(3);
      expect(seen).toEqual(entries.map((e) => e.anchorId).reverse());
      const exact = await store.listHistory('AGENCY1', 'parcel/8', { limit: 3 });
      expect(exact.items).toEqual(entries.slice(0, 3).reverse());
      expect(exact.cursor).toBeUndefined();
      expect((await store.listHistory('AGENCY1', 'parcel/none', { limit: 5 })).items).toEqual([]);
      // A cursor only works on the partition it came from.
      const first = await store.listHistory('AGENCY1', 'parcel/7', { limit: 1 });
      await expectCode(store.listHistory('AGENCY1', 'parcel/8', { limit: 1, cursor: first.cursor! }), 'INVALID_CURSOR');
      await expectCode(store.listHistory('AGENCY1', 'parcel/7', { limit: 1, cursor: 'garbage!' }), 'INVALID_CURSOR');
    }));

  it('writes the history of many record keys in one call: 1 WCU per entry, keys as before, all or nothing validated', () =>
    use(async (t) => {
      const { store } = t;
      // 1,000 entries over 600 record keys (some keys twice), in one call: 40 BatchWriteItem requests.
      const entries = Array.from({ length: 1000 }, (_, i) => ({
        recordKey: `deed/${i % 600}`,
        anchorId: `${id(7)}.${i}`,
        hash: hex(sha(`h${i}`)),
        arrivedAt: at(i),
      }));
      store.resetCapacity();
      await store.putHistory('AGENCY1', entries);
      expect(store.capacity.write).toBe(1000);
      await store.putHistory('AGENCY1', entries); // a retry overwrites the same items
      const page = await store.listHistory('AGENCY1', 'deed/5', { limit: 10 });
      expect(page.items).toEqual([entries[605]!, entries[5]!].map(({ recordKey: _, ...e }) => e));
      expect((await store.listHistory('AGENCY1', 'deed/599', { limit: 10 })).items.map((e) => e.anchorId)).toEqual([`${id(7)}.599`]);
      expect((await store.listHistory('AGENCY2', 'deed/5', { limit: 10 })).items).toEqual([]);
      // The item key is unchanged: HIST#<agencyId>#<hex SHA-256(recordKey)> / <arrivedAt>#<anchorId>.
      const raw = await rawItems(t, `HIST#AGENCY1#${hex(sha('deed/5'))}`);
      expect(raw.map((i) => i.sk?.S)).toEqual([`${at(5)}#${id(7)}.5`, `${at(605)}#${id(7)}.605`]);
      // One bad entry refuses the whole call before anything is written.
      const bad = [{ recordKey: 'fresh/1', anchorId: 'x.1', hash: hex(sha('a')), arrivedAt: at(1) }, { recordKey: '', anchorId: 'x.2', hash: hex(sha('b')), arrivedAt: at(2) }];
      await expectCode(store.putHistory('AGENCY1', bad), 'INVALID_ARGUMENT');
      await expectCode(store.putHistory('AGENCY1', [{ ...bad[0]!, hash: 'AB'.repeat(32) }]), 'INVALID_ARGUMENT');
      await expectCode(store.putHistory('A#1', [bad[0]!]), 'INVALID_ARGUMENT');
      expect((await store.listHistory('AGENCY1', 'fresh/1', { limit: 10 })).items).toEqual([]);
      store.resetCapacity();
      await store.putHistory('AGENCY1', []);
      expect(store.capacity.write).toBe(0);
    }));

  it('putHistory of 10,000 entries: 400 BatchWriteItem calls, several in flight, unprocessed items retried', async () => {
    // A fake client in front of nothing: every first attempt of a call leaves its last 5 items unprocessed.
    const written = new Map<string, number>();
    let calls = 0;
    let inFlight = 0;
    let maxInFlight = 0;
    const client = {
      send: async (cmd: BatchWriteItemCommand) => {
        calls++;
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise((r) => setTimeout(r, 1));
        inFlight--;
        const reqs = cmd.input.RequestItems!.fake!;
        expect(reqs.length).toBeLessThanOrEqual(25);
        const retry = reqs.length === 25 ? reqs.slice(20) : [];
        for (const r of reqs.slice(0, reqs.length - retry.length)) {
          const k = `${r.PutRequest!.Item!.pk!.S}/${r.PutRequest!.Item!.sk!.S}`;
          written.set(k, (written.get(k) ?? 0) + 1);
        }
        return { UnprocessedItems: retry.length > 0 ? { fake: retry } : {}, ConsumedCapacity: [{ CapacityUnits: reqs.length - retry.length }] };
      },
    };
    const store = new DynamoStore(client as unknown as DynamoDBClient, 'fake');
    const entries = Array.from({ length: 10_000 }, (_, i) => ({ recordKey: `k${i}`, anchorId: `${id(9)}.${i}`, hash: hex(sha(`e${i}`)), arrivedAt: at(0) }));
    await store.putHistory('AGENCY1', entries);
    expect(written.size).toBe(10_000);
    expect([...written.values()].every((n) => n === 1)).toBe(true);
    expect(calls).toBe(400 + 400); // every call needed exactly one retry
    expect(maxInFlight).toBeGreaterThan(1);
    expect(maxInFlight).toBeLessThanOrEqual(8);
    expect(store.capacity.write).toBe(10_000);
  });
});

describe('rounds', () => {
  const pending = (i: number, ms: number): PendingBatch => ({ batchId: id(i), agencyId: 'AGENCY1', arrivedAt: at(ms), root: sha(`r${i}`), count: i + 1 });

  it('lists pending batches across shards by (arrivedAt, batchId) up to a cut-off, then deletes them', () =>
    use(async ({ store }) => {
      // 40 batches, four per millisecond (ties broken by batchId), written in shuffled order.
      const all = Array.from({ length: 40 }, (_, i) => pending(i, Math.floor(i / 4)));
      const shuffled = [...all].sort(() => Math.random() - 0.5);
      for (const p of shuffled) await store.putPending(p);
      expect(await store.listPending({ before: at(100), limit: 1000 })).toEqual(all);
      expect(await store.listPending({ before: at(4), limit: 1000 })).toEqual(all.slice(0, 20));
      expect(await store.listPending({ before: at(100), limit: 7 })).toEqual(all.slice(0, 7));
      expect(await store.listPending({ before: at(-1), limit: 10 })).toEqual([]);
      await store.deletePending(all.slice(0, 30)); // > 25: two BatchWriteItem calls
      expect(await store.listPending({ before: at(100), limit: 1000 })).toEqual(all.slice(30));
    }));

  function proposal(height: number, proposalId: string, n: number): Proposal {
    const members: RoundMember[] = Array.from({ length: n }, (_, i) => ({
      batchId: id(i),
      agencyId: `AGENCY${i % 3}`,
      root: sha(`m${proposalId}${i}`),
      count: i % 9 + 1,
      arrivedAt: at(i),
    }));
    return { height, proposalId, header: `ledgerseal-block/v1\nheight ${height}\n`, checkpoint: `origin\n${height + 1}\nroot\n`, members, createdAt: at(0) };
  }

  it('stores a proposal with chunked members and reads it back in order', () =>
    use(async (t) => {
      const p = proposal(7, 'P1', 4500);
      expect(await t.store.putProposal(p)).toEqual(p);
      expect(await t.store.getProposal(7)).toEqual(p);
      expect((await rawItems(t, 'ROUND#000000000007')).map((i) => i.sk?.S)).toEqual([
        'MEMBERS#P1#0000',
        'MEMBERS#P1#0001',
        'MEMBERS#P1#0002',
        'MEMBERS#P1#0003',
        'MEMBERS#P1#0004',
        'PROPOSAL',
      ]);
      expect(await t.store.putProposal(p)).toEqual(p); // a retry by the same coordinator
      const empty = proposal(8, 'P2', 0);
      expect(await t.store.putProposal(empty)).toEqual(empty);
      expect(await t.store.getProposal(8)).toEqual(empty);
      expect(await t.store.getProposal(9)).toBeNull();
    }));

  it('refuses a member without an agency id; a stored chunk whose rows lack it reads as CORRUPT', () =>
    use(async (t) => {
      const p = proposal(4, 'P4', 3);
      await expectCode(t.store.putProposal({ ...p, members: [{ ...p.members[0]!, agencyId: '' }] }), 'INVALID_ARGUMENT');
      await expectCode(t.store.putProposal({ ...p, members: [{ ...p.members[0]!, agencyId: 'A#B' }] }), 'INVALID_ARGUMENT');
      // Biggest chunk the limits allow (1,000 members, ids of 100 characters): under PART_BYTES before deflate.
      const long = (c: string, i: number): string => `${c}${String(i).padStart(99, c)}`;
      const big: Proposal = {
        ...proposal(5, 'P5', 1000),
        members: proposal(5, 'P5', 1000).members.map((m, i) => ({ ...m, batchId: long('B', i), agencyId: long('A', i), count: Number.MAX_SAFE_INTEGER })),
      };
      await t.store.putProposal(big);
      expect(await t.store.getProposal(5)).toEqual(big);
      const chunk = (await rawItems(t, 'ROUND#000000000005')).find((i) => i.sk?.S === 'MEMBERS#P5#0000')!;
      expect(itemBytes(chunk)).toBeLessThan(409_600);
      const rows = JSON.stringify(big.members.map((m) => [m.batchId, m.arrivedAt, m.count, m.agencyId]));
      expect(32 * 1000 + Buffer.byteLength(rows)).toBeLessThan(350_000);

      await t.store.putProposal(p);
      const key = keys.members(4, 'P4', 0);
      const rowsWithout = p.members.map((m) => [m.batchId, m.arrivedAt, m.count]);
      await t.client.send(
        new PutItemCommand({
          TableName: t.tableName,
          Item: { ...key, roots: { B: Buffer.concat(p.members.map((m) => m.root)) }, rows: { B: deflateRawSync(JSON.stringify(rowsWithout)) } },
        }),
      );
      await expectCode(t.store.getProposal(4), 'CORRUPT');
    }));

  it('two racing proposals for one height: both callers get the same winner', () =>
    use(async (t) => {
      const a = proposal(3, 'A', 2500);
      const b = proposal(3, 'B', 10);
      const [ra, rb] = await Promise.all([t.store.putProposal(a), t.store.putProposal(b)]);
      expect(ra).toEqual(rb);
      const winner = ra.proposalId === 'A' ? a : b;
      expect(ra).toEqual(winner);
      expect(await t.store.getProposal(3)).toEqual(winner);
      // The loser's chunks are gone.
      const sks = (await rawItems(t, 'ROUND#000000000003')).map((i) => i.sk?.S ?? '');
      expect(sks.filter((s) => s.startsWith('MEMBERS#') && !s.startsWith(`MEMBERS#${winner.proposalId}#`))).toEqual([]);
    }));

  const block = (height: number): Block => ({
    height,
    header: `ledgerseal-block/v1\nheight ${height}\n`,
    checkpoint: `origin\n${height + 1}\nroot\n\n— v1 sig\n`,
    proposalId: `P${height}`,
    finalizedAt: at(height * 60_000),
    settled: false,
  });

  it('writes exactly one block per height; latest, range listing and settling', () =>
    use(async ({ store }) => {
      expect(await store.getLatestBlock()).toBeNull();
      for (let h = 0; h < 12; h++) expect(await store.putBlock(block(h))).toBe(true);
      expect(await store.putBlock({ ...block(5), proposalId: 'other' })).toBe(false);
      expect(await store.getBlock(5)).toEqual(block(5));
      expect(await store.getBlock(12)).toBeNull();
      expect(await store.getLatestBlock()).toEqual(block(11));
      expect((await store.listBlocks({ from: 3, limit: 4 })).map((b) => b.height)).toEqual([3, 4, 5, 6]);
      expect((await store.listBlocks({ from: 10, limit: 10 })).map((b) => b.height)).toEqual([10, 11]);
      await store.markBlockSettled(4);
      expect((await store.getBlock(4))?.settled).toBe(true);
      await expectCode(store.markBlockSettled(99), 'NOT_FOUND');
    }));

  it('writes placements in batches of 25 and reads them one by one', () =>
    use(async ({ store }) => {
      const placements = Array.from({ length: 60 }, (_, i) => ({ batchId: id(i), height: 9, index: i }));
      store.resetCapacity();
      await store.putPlacements(placements);
      expect(store.capacity.write).toBe(60);
      expect(await store.getPlacement(id(42), { consistent: false })).toEqual({ batchId: id(42), height: 9, index: 42 });
      expect(await store.getPlacement(id(99), { consistent: false })).toBeNull();
    }));

  it('reads > 100 placements with a few bounded BatchGetItem calls; missing ids are absent', () =>
    use(async (t) => {
      const placements = Array.from({ length: 250 }, (_, i) => ({ batchId: id(1000 + i), height: 3 + (i % 2), index: i }));
      await t.store.putPlacements(placements);
      const seen = observeRequests(t.client);
      const ids = [...placements.map((p) => p.batchId), id(1), id(2), id(1000)]; // two unknown, one repeated
      const got = await t.store.getPlacements(ids, { consistent: true });
      expect(got.size).toBe(250);
      for (const p of placements) expect(got.get(p.batchId)).toEqual(p);
      expect(got.has(id(1))).toBe(false);
      expect(got.has(id(2))).toBe(false);
      // 251 distinct keys: 3 calls of at most 100 keys, nothing else.
      expect(seen.commands).toEqual(['BatchGetItemCommand', 'BatchGetItemCommand', 'BatchGetItemCommand']);
      expect(seen.maxKeys).toBeLessThanOrEqual(100);
      expect((await t.store.getPlacements([], { consistent: true })).size).toBe(0);
      await expectCode(t.store.getPlacements([id(1), 'bad#id'], { consistent: true }), 'INVALID_ARGUMENT');
    }));

  it('bounds the requests in flight per client: 500 reads started at once never exceed MAX_IN_FLIGHT', () =>
    use(async (t) => {
      const seen = observeRequests(t.client);
      const ids = Array.from({ length: 500 }, (_, i) => id(i));
      const got = await Promise.all(ids.map((b) => t.store.getPlacement(b, { consistent: false })));
      expect(got.every((p) => p === null)).toBe(true);
      expect(seen.commands.length).toBe(500);
      expect(seen.maxInFlight).toBeGreaterThan(1);
      expect(seen.maxInFlight).toBeLessThanOrEqual(MAX_IN_FLIGHT);
      expect(clientGate(t.client).load).toEqual({ active: 0, waiting: 0 });
    }));
});

describe('calendar nodes', () => {
  it('reads > 100 nodes with BatchGetItem in request order (missing ones left out)', () =>
    use(async ({ store }) => {
      const nodes = Array.from({ length: 250 }, (_, i) => ({ level: i % 5, index: i, hash: sha(`node${i}`) }));
      await store.putCalendarNodes(nodes);
      const wanted = [...nodes].reverse().map(({ level, index }) => ({ level, index }));
      wanted.splice(10, 0, { level: 40, index: 1 }, { level: 0, index: 0 });
      const got = await store.getCalendarNodes(wanted, { consistent: false });
      expect(got).toEqual([...nodes.slice(240).reverse(), nodes[0], ...nodes.slice(0, 240).reverse()]);
      expect(await store.getCalendarNodes([], { consistent: false })).toEqual([]);
    }));
});

describe('events and publications', () => {
  const event = (i: number, type: string, ms = i * 1000): LedgerEvent => ({
    id: `${type}:${i}`,
    type,
    time: at(ms),
    ...(type === 'anchor.confirmed' && { agencyId: 'AGENCY1' }),
    data: { height: i, nested: { ok: true } },
  });

  it('writes events once by id and lists one type at a time, oldest or newest first, paged', () =>
    use(async ({ store }) => {
      const events = Array.from({ length: 30 }, (_, i) => event(i, i % 3 === 0 ? 'round.finalized' : 'anchor.confirmed'));
      await store.putEvents(events);
      // A re-run produces the same ids with later times: nothing new appears.
      await store.putEvents(events.map((e) => ({ ...e, time: at(999_999) })));
      const confirmed = events.filter((e) => e.type === 'anchor.confirmed');
      const seen: LedgerEvent[] = [];
      let cursor: string | undefined;
      do {
        const page = await store.listEvents({ type: 'anchor.confirmed', limit: 7, ...(cursor !== undefined && { cursor }) });
        seen.push(...page.items);
        cursor = page.cursor;
      } while (cursor);
      expect(seen).toEqual(confirmed);
      const rounds = events.filter((e) => e.type === 'round.finalized');
      const first = await store.listEvents({ limit: 4, type: 'round.finalized' });
      expect(first.items).toEqual(rounds.slice(0, 4));
      const rest = await store.listEvents({ limit: 100, type: 'round.finalized', cursor: first.cursor! });
      expect(rest.items).toEqual(rounds.slice(4));
      expect(rest.cursor).toBeUndefined();
      const newest = await store.listEvents({ limit: 3, type: 'round.finalized', newestFirst: true });
      expect(newest.items).toEqual(rounds.slice(-3).reverse());
      const older = await store.listEvents({ limit: 100, type: 'round.finalized', newestFirst: true, cursor: newest.cursor! });
      expect(older.items).toEqual(rounds.slice(0, -3).reverse());
      expect(await store.listEvents({ limit: 10, type: 'validator.fault' })).toEqual({ items: [] });
      await expectCode(store.listEvents({ type: 'round.finalized', limit: 1, cursor: Buffer.from('{"pk":"x","sk":"y"}').toString('base64url') }), 'INVALID_CURSOR');
      // A cursor of one type's listing is refused by another's: it names another partition.
      await expectCode(store.listEvents({ type: 'anchor.confirmed', limit: 1, cursor: first.cursor! }), 'INVALID_CURSOR');
      await expectCode(store.listEvents({ type: '', limit: 1 }), 'INVALID_ARGUMENT');
    }));

  it('reads only the partition of the type asked for (a key condition, not a filter)', () =>
    use(async (t) => {
      await t.store.putEvents([
        ...Array.from({ length: 200 }, (_, i) => event(i, 'anchor.confirmed')),
        ...Array.from({ length: 2 }, (_, i) => event(i, 'validator.fault')),
      ]);
      t.store.resetCapacity();
      expect((await t.store.listEvents({ type: 'validator.fault', limit: 10 })).items).toHaveLength(2);
      // Two small items: half a read unit, eventually consistent (200 anchor events would be about 6).
      expect(t.store.capacity.read).toBeLessThanOrEqual(0.5);
    }));

  it('keeps only events whose data field has the value asked for (match), paging through the rest', () =>
    use(async ({ store }) => {
      const fault = (h: number, validator: string): LedgerEvent => ({
        id: `validator.fault:${h}:${validator}:unreachable`,
        type: 'validator.fault',
        time: at(h * 1000),
        data: { validator, reason: 'unreachable', height: h, detail: `"validator":"validator-1" in a detail is not a match` },
      });
      const faults = Array.from({ length: 40 }, (_, h) => fault(h, h % 4 === 0 ? 'validator-1' : h % 4 === 1 ? 'validator-10' : 'validator-2'));
      await store.putEvents(faults);
      const mine: LedgerEvent[] = [];
      let cursor: string | undefined;
      do {
        const page = await store.listEvents({ type: 'validator.fault', limit: 3, newestFirst: true, match: { field: 'validator', value: 'validator-1' }, ...(cursor !== undefined && { cursor }) });
        mine.push(...page.items);
        cursor = page.cursor;
      } while (cursor);
      expect(mine).toEqual(faults.filter((f) => f.data.validator === 'validator-1').reverse());
      expect((await store.listEvents({ type: 'validator.fault', limit: 5, match: { field: 'validator', value: 'validator-9' } })).items).toEqual([]);
    }));

  it('bounds what one filtered page reads: a page stops after its budget of evaluated items, short or empty, with a cursor to go on', () =>
    use(async (t) => {
      const faults = Array.from({ length: 40 }, (_, h): LedgerEvent => ({
        id: `validator.fault:${h}:v${h % 8 === 7 ? 1 : 2}:timeout`,
        type: 'validator.fault',
        time: at(h * 1000),
        data: { validator: h % 8 === 7 ? 'v1' : 'v2', reason: 'timeout', height: h, detail: '' },
      }));
      await t.store.putEvents(faults);
      const io = new TableIo(t.client, t.tableName, { read: 0, write: 0 });
      const input = {
        IndexName: EVENTS_INDEX,
        KeyConditionExpression: 'gpk = :g',
        ExpressionAttributeValues: { ':g': { S: keys.eventsPartition('validator.fault') }, ':m': { S: '"validator":"v1"' } },
        FilterExpression: 'contains(#data, :m)',
        ExpressionAttributeNames: { '#data': 'data' },
      };
      const sizes: number[] = [];
      const found: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await io.queryPage(input, { limit: 10, evaluate: 6, keyNames: ['pk', 'sk', 'gpk', 'gsk'], partition: ['gpk', keys.eventsPartition('validator.fault')], ...(cursor !== undefined && { cursor }) });
        sizes.push(page.items.length);
        found.push(...page.items.map((it) => it.pk!.S!));
        cursor = page.cursor;
      } while (cursor);
      // 40 items, 6 evaluated per page: 7 pages, most of them empty, and every match once, in order.
      expect(sizes).toHaveLength(7);
      expect(sizes.filter((n) => n === 0).length).toBeGreaterThanOrEqual(2);
      expect(found).toEqual(faults.filter((f) => f.data.validator === 'v1').map((f) => `EVENT#${f.id}`));
      // Unfiltered pages are not bounded that way: one page of 10.
      const plain = await io.queryPage({ ...input, FilterExpression: undefined, ExpressionAttributeNames: undefined, ExpressionAttributeValues: { ':g': input.ExpressionAttributeValues[':g'] } }, { limit: 10, evaluate: 6, keyNames: ['pk', 'sk', 'gpk', 'gsk'], partition: ['gpk', keys.eventsPartition('validator.fault')] });
      expect(plain.items).toHaveLength(10);
      expect(FILTERED_PAGE_EVALUATED).toBe(2_000);
    }));

  it('writes derived events (pure functions of a block) in BatchWriteItem calls of 25, after their outbox markers; a repeat stores the same items', () =>
    use(async (t) => {
      const events = Array.from({ length: 60 }, (_, i) => event(i, 'anchor.confirmed'));
      const seen = observeRequests(t.client);
      await t.store.putEvents(events, { derived: true });
      expect(t.store.capacity.write).toBe(120); // 1 WCU per marker + 1 per event (the index copy is not counted by dynalite)
      await t.store.putEvents(events, { derived: true });
      // Per call: 3 BatchWriteItem calls of markers, then 3 of events.
      expect(seen.commands).toEqual(Array(12).fill('BatchWriteItemCommand'));
      expect((await t.store.listEvents({ type: 'anchor.confirmed', limit: 100 })).items).toEqual(events);
    }));

  it('publishes each size once; lists newest first; latest', () =>
    use(async ({ store }) => {
      expect(await store.getLatestPublication()).toBeNull();
      const pub = (size: number) => ({ size, root: sha(`p${size}`), code: `CODE-${size}`, checkpoint: `origin\n${size}\n`, publishedAt: at(size) });
      for (const size of [10, 100, 1000, 5000]) expect(await store.putPublication(pub(size))).toBe(true);
      expect(await store.putPublication({ ...pub(100), code: 'X' })).toBe(false);
      expect(await store.getLatestPublication()).toEqual(pub(5000));
      const first = await store.listPublications({ limit: 3 });
      expect(first.items).toEqual([pub(5000), pub(1000), pub(100)]);
      const second = await store.listPublications({ limit: 3, cursor: first.cursor! });
      expect(second).toEqual({ items: [pub(10)] });
    }));
});

describe('capacity accounting', () => {
  it('counts reads and writes of every command, and resets', () =>
    use(async ({ store }) => {
      store.resetCapacity();
      expect(store.capacity).toEqual({ read: 0, write: 0 });
      await store.createAgency({ id: 'A', name: 'n', createdAt: at(0) });
      expect(store.capacity).toEqual({ read: 0, write: 1 });
      await store.getAgency('A'); // consistent read of a small item
      expect(store.capacity).toEqual({ read: 1, write: 1 });
      await store.putBlock({ height: 0, header: 'h', checkpoint: 'c', proposalId: 'p', finalizedAt: at(0), settled: false });
      expect(await store.putBlock({ height: 0, header: 'h', checkpoint: 'c', proposalId: 'p', finalizedAt: at(0), settled: false })).toBe(false);
      expect(store.capacity.write).toBe(3); // the failed conditional put is billed too (estimated)
      await store.getLatestBlock(); // a Query: billed by the bytes it returns
      expect(store.capacity.read).toBe(2);
      await store.getBatch(id(1)); // a miss: half a unit eventually consistent, then one unit read again consistently
      expect(store.capacity.read).toBe(3.5);
      store.resetCapacity();
      expect(store.capacity).toEqual({ read: 0, write: 0 });
    }));
});

describe('persistence', () => {
  it('keeps data across a close and reopen of an on-disk dynalite', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ledgerseal-store-'));
    try {
      const path = join(dir, 'db');
      const engine1 = await startDynalite({ path });
      const t1 = await withStore({ endpoint: engine1.endpoint, tableName: 'ledgerseal' });
      const b = batchOf(50, { id: id(50), entries: true });
      await t1.store.putBatch(b);
      await t1.store.putBlock({ height: 0, header: 'h', checkpoint: 'c', proposalId: 'p', finalizedAt: at(0), settled: true });
      await t1.close();
      await engine1.close();

      const engine2 = await startDynalite({ path });
      const t2 = await withStore({ endpoint: engine2.endpoint, tableName: 'ledgerseal' });
      expect(await t2.store.getBatch(b.id)).toEqual(b);
      expect((await t2.store.getLatestBlock())?.settled).toBe(true);
      await t2.close();
      await engine2.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

