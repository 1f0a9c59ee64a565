import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytesToHex, concatBytes, hexToBytes } from '../../sdk/src/encoding.ts';
import { merkleRoot } from '../../sdk/src/merkle.ts';
import { MAX_BATCH } from '../../functions/intake.ts';
import { keys } from '../../functions/store/items.ts';
import { stopDynalite } from '../helpers/dynalite.ts';
import { type Fixture, fixture, hashes, PROBLEM, problem } from './setup.ts';

afterAll(stopDynalite);

describe('POST /v1/anchors', () => {
  let f: Fixture;
  let key: string;
  let agencyId: string;
  beforeAll(async () => {
    f = await fixture();
    ({ apiKey: key, id: agencyId } = await f.agency());
  });
  afterAll(() => f.close());

  it('accepts a batch: 202, ids <batchId>.<index>, one batch item with the RFC 9162 root, pending marker, history', async () => {
    const hs = hashes(5, 1);
    const res = await f.call('POST', '/v1/anchors', {
      token: key,
      body: { anchors: hs.map((hash, i) => (i < 2 ? { hash, recordKey: 'parcel/17', metadata: { v: i } } : { hash })) },
    });
    expect(res.status).toBe(202);
    const body = (await res.json()) as { batchId: string; anchors: { id: string; hash: string; status: string }[] };
    expect(body.batchId).toMatch(/^[0-7][0-9A-HJKMNP-TV-Z]{25}$/);
    expect(body.anchors).toEqual(hs.map((hash, i) => ({ id: `${body.batchId}.${i}`, hash, status: 'pending' })));

    const batch = await f.store.getBatch(body.batchId);
    expect(batch).not.toBeNull();
    expect(batch!.agencyId).toBe(agencyId);
    expect(batch!.count).toBe(5);
    expect(bytesToHex(batch!.hashes)).toBe(hs.join(''));
    expect(bytesToHex(batch!.root)).toBe(bytesToHex(merkleRoot(hs.map((h) => hexToBytes(h)))));
    expect(batch!.arrivedAt).toBe(f.clock.now().toISOString());
    expect(batch!.entries?.[0]).toEqual({ recordKey: 'parcel/17', metadata: { v: 0 } });
    expect(batch!.entries?.[4]).toEqual({});

    const pending = await f.store.listPending({ before: '2100-01-01T00:00:00.000Z', limit: 100 });
    expect(pending.map((p) => p.batchId)).toContain(body.batchId);

    const hist = await f.call('GET', '/v1/anchors?recordKey=parcel%2F17', { token: key });
    expect(hist.status).toBe(200);
    const page = (await hist.json()) as { items: { id: string; status: string }[] };
    expect(page.items.map((i) => i.id).sort()).toEqual([`${body.batchId}.0`, `${body.batchId}.1`]);
    expect(page.items.every((i) => i.status === 'pending')).toBe(true);
  });

  it(`accepts exactly MAX_BATCH = ${MAX_BATCH} hashes in one item`, async () => {
    const hs = hashes(MAX_BATCH, 2);
    const res = await f.call('POST', '/v1/anchors', { token: key, body: { anchors: hs.map((hash) => ({ hash })) } });
    expect(res.status).toBe(202);
    const body = (await res.json()) as { batchId: string; anchors: unknown[] };
    expect(body.anchors).toHaveLength(MAX_BATCH);
    const batch = await f.store.getBatch(body.batchId);
    expect(batch!.hashes).toEqual(concatBytes(...hs.map((h) => hexToBytes(h))));
  });

  it(`writes the history of ${MAX_BATCH} anchors with distinct recordKeys in one store call`, async () => {
    const calls: number[] = [];
    const g = await fixture({
      wrapStore: (store) =>
        new Proxy(store, {
          get(target, prop, receiver) {
            const v = Reflect.get(target, prop, receiver);
            if (prop === 'putHistory') return (agencyId: string, entries: unknown[]) => (calls.push(entries.length), v.call(target, agencyId, entries));
            return typeof v === 'function' ? v.bind(target) : v;
          },
        }),
    });
    try {
      const { apiKey } = await g.agency();
      const hs = hashes(MAX_BATCH, 40);
      const anchors = hs.map((hash, i) => ({ hash, ...(i % 10 !== 3 && { recordKey: `parcel/${i}` }) }));
      g.ts.store.resetCapacity();
      const t0 = performance.now();
      const res = await g.call('POST', '/v1/anchors', { token: apiKey, body: { anchors } });
      const ms = performance.now() - t0;
      expect(res.status).toBe(202);
      console.log(`POST ${MAX_BATCH} anchors, ${calls[0]} with a recordKey: ${Math.round(ms)} ms, ${g.ts.store.capacity.write} WCU`);
      expect(calls).toEqual([MAX_BATCH - MAX_BATCH / 10]);
      const { batchId } = (await res.json()) as { batchId: string };
      for (const i of [0, 4321, MAX_BATCH - 1]) {
        const hist = (await (await g.call('GET', `/v1/anchors?recordKey=parcel%2F${i}`, { token: apiKey })).json()) as { items: { id: string; hash: string }[] };
        expect(hist.items.map((x) => [x.id, x.hash])).toEqual([[`${batchId}.${i}`, hs[i]]]);
      }
      const none = (await (await g.call('GET', '/v1/anchors?recordKey=parcel%2F3', { token: apiKey })).json()) as { items: unknown[] };
      expect(none.items).toEqual([]);
    } finally {
      g.close();
    }
  });

  const invalid: [string, unknown, string][] = [
    ['bad hex', { anchors: [{ hash: 'zz'.repeat(32) }] }, '/anchors/0/hash'],
    ['uppercase hex', { anchors: [{ hash: 'AB'.repeat(32) }] }, '/anchors/0/hash'],
    ['short hash', { anchors: [{ hash: 'ab'.repeat(31) }] }, '/anchors/0/hash'],
    ['zero hashes', { anchors: [] }, '/anchors'],
    [`${MAX_BATCH + 1} hashes`, { anchors: hashes(MAX_BATCH + 1, 3).map((hash) => ({ hash })) }, '/anchors'],
    ['unknown top-level field', { anchors: [{ hash: hashes(1, 4)[0] }], extra: 1 }, ''],
    ['unknown anchor field', { anchors: [{ hash: hashes(1, 4)[0], colour: 'red' }] }, '/anchors/0'],
    ['recordKey with a control character', { anchors: [{ hash: hashes(1, 4)[0], recordKey: 'a\u0007b' }] }, '/anchors/0/recordKey'],
    ['empty recordKey', { anchors: [{ hash: hashes(1, 4)[0], recordKey: '' }] }, '/anchors/0/recordKey'],
    ['recordKey of 257 characters', { anchors: [{ hash: hashes(1, 4)[0], recordKey: 'k'.repeat(257) }] }, '/anchors/0/recordKey'],
    ['metadata over 1 KB', { anchors: [{ hash: hashes(1, 4)[0], metadata: { x: 'y'.repeat(1020) } }] }, '/anchors/0/metadata'],
    ['metadata not an object', { anchors: [{ hash: hashes(1, 4)[0], metadata: [1, 2] }] }, '/anchors/0/metadata'],
    ['anchors missing', {}, '/anchors'],
  ];
  for (const [name, body, path] of invalid) {
    it(`400 validation-error: ${name}`, async () => {
      const p = await problem(await f.call('POST', '/v1/anchors', { token: key, body }));
      expect(p.status).toBe(400);
      expect(p.contentType).toBe('application/problem+json');
      expect(p.body.type).toBe(`${PROBLEM}validation-error`);
      expect(p.body.errors.length).toBeGreaterThan(0);
      expect(p.body.errors.length).toBeLessThanOrEqual(20);
      expect(p.body.errors.map((e: { path: string }) => e.path)).toContain(path);
      expect(p.body.errors[0].in).toBe('body');
    });
  }

  it('accepts a recordKey of exactly 256 characters (code points) and 1 KB of metadata', async () => {
    const res = await f.call('POST', '/v1/anchors', {
      token: key,
      body: { anchors: [{ hash: hashes(1, 5)[0], recordKey: '\u{1F600}'.repeat(256), metadata: { x: 'y'.repeat(1016) } }] },
    });
    expect(res.status).toBe(202);
  });

  it('is all-or-nothing: one bad hash among many writes nothing', async () => {
    const g = await fixture();
    try {
      const { apiKey } = await g.agency();
      const anchors = hashes(50, 6).map((hash, i) => ({ hash: i === 37 ? hash.toUpperCase() : hash, recordKey: `r${i}` }));
      const res = await g.call('POST', '/v1/anchors', { token: apiKey, body: { anchors } });
      expect(res.status).toBe(400);
      expect(await g.store.listPending({ before: '2100-01-01T00:00:00.000Z', limit: 100 })).toEqual([]);
      const hist = await g.call('GET', '/v1/anchors?recordKey=r0', { token: apiKey });
      expect(((await hist.json()) as { items: unknown[] }).items).toEqual([]);
    } finally {
      g.close();
    }
  });

  it('400 malformed-json for a body that is not JSON', async () => {
    const p = await problem(await f.call('POST', '/v1/anchors', { token: key, raw: '{"anchors": [', headers: { 'content-type': 'application/json' } }));
    expect(p.status).toBe(400);
    expect(p.body.type).toBe(`${PROBLEM}malformed-json`);
  });

  it('415 for a body that is not application/json, or has no content type', async () => {
    const raw = JSON.stringify({ anchors: [{ hash: hashes(1, 7)[0] }] });
    for (const headers of [{ 'content-type': 'text/plain' }, {}] as Record<string, string>[]) {
      const p = await problem(await f.call('POST', '/v1/anchors', { token: key, raw, headers }));
      expect(p.status).toBe(415);
      expect(p.body.type).toBe(`${PROBLEM}unsupported-media-type`);
    }
  });

  it('413 payload-too-large above the configured body limit, before anything is parsed', async () => {
    const g = await fixture({ config: { maxBodyBytes: 2048 } });
    try {
      const { apiKey } = await g.agency();
      const anchors = hashes(40, 8).map((hash) => ({ hash }));
      const p = await problem(await g.call('POST', '/v1/anchors', { token: apiKey, body: { anchors } }));
      expect(p.status).toBe(413);
      expect(p.contentType).toBe('application/problem+json');
      expect(p.body.type).toBe(`${PROBLEM}payload-too-large`);
    } finally {
      g.close();
    }
  });

  it('401 without a key, with a malformed key, with an unknown key', async () => {
    const body = { anchors: [{ hash: hashes(1, 9)[0] }] };
    const unknown = key.replace(/_(.)/, (_m, c: string) => `_${c === 'a' ? 'b' : 'a'}`);
    for (const token of [undefined, 'nonsense', unknown, key.slice(0, -1)]) {
      const res = await f.call('POST', '/v1/anchors', { ...(token !== undefined ? { token } : {}), body });
      const p = await problem(res);
      expect(p.status).toBe(401);
      expect(p.body.type).toBe(`${PROBLEM}unauthorized`);
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer realm="ledgerseal"/);
    }
    const basic = await f.call('POST', '/v1/anchors', { headers: { authorization: `Basic ${btoa('a:b')}` }, body });
    expect(basic.status).toBe(401);
  });
});

describe('Idempotency-Key', () => {
  let f: Fixture;
  let key: string;
  beforeAll(async () => {
    f = await fixture();
    ({ apiKey: key } = await f.agency());
  });
  afterAll(() => f.close());

  it('a retry with the same key and body returns the same ids and writes no second batch', async () => {
    const body = { anchors: hashes(3, 10).map((hash) => ({ hash, recordKey: 'deed-9' })) };
    const headers = { 'idempotency-key': 'import-0001' };
    const first = await f.call('POST', '/v1/anchors', { token: key, body, headers });
    expect(first.status).toBe(202);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    f.clock.advance(5_000);
    const again = await f.call('POST', '/v1/anchors', { token: key, body, headers });
    expect(again.status).toBe(202);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    const a = (await first.json()) as { batchId: string };
    expect(await again.json()).toEqual(a);
    const pending = await f.store.listPending({ before: '2100-01-01T00:00:00.000Z', limit: 100 });
    expect(pending).toHaveLength(1);
    expect(pending[0]!.batchId).toBe(a.batchId);
    expect(pending[0]!.arrivedAt).toBe('2026-11-22T04:32:16.123Z');
    const hist = (await (await f.call('GET', '/v1/anchors?recordKey=deed-9', { token: key })).json()) as { items: unknown[] };
    expect(hist.items).toHaveLength(3);
  });

  it('the same key with a different body is 422 idempotency-key-reuse', async () => {
    const headers = { 'idempotency-key': 'import-0002' };
    expect((await f.call('POST', '/v1/anchors', { token: key, body: { anchors: [{ hash: hashes(1, 11)[0] }] }, headers })).status).toBe(202);
    const p = await problem(await f.call('POST', '/v1/anchors', { token: key, body: { anchors: [{ hash: hashes(1, 12)[0] }] }, headers }));
    expect(p.status).toBe(422);
    expect(p.body.type).toBe(`${PROBLEM}idempotency-key-reuse`);
  });

  it('finishes the writes of a first attempt that died after claiming the key', async () => {
    // Simulate a crash: the key is claimed (with its batch id and time), nothing else written.
    const body = { anchors: [{ hash: hashes(1, 13)[0]! }] };
    const { requestHash } = await import('../../functions/intake.ts');
    const { agencyId } = (await f.store.getApiKeyByHash((await import('../../functions/api/auth.ts')).hashToken(key)))!;
    await f.store.claimIdempotencyKey({ agencyId, key: 'crashed-1', requestHash: requestHash(body), batchId: '01KAQZ6XKV0000000000000000', createdAt: '2026-11-22T04:00:00.000Z' });
    const res = await f.call('POST', '/v1/anchors', { token: key, body, headers: { 'idempotency-key': 'crashed-1' } });
    expect(res.status).toBe(202);
    expect(((await res.json()) as { batchId: string }).batchId).toBe('01KAQZ6XKV0000000000000000');
    const batch = await f.store.getBatch('01KAQZ6XKV0000000000000000');
    expect(batch?.arrivedAt).toBe('2026-11-22T04:00:00.000Z');
  });

  it('keys are per agency', async () => {
    const other = await f.agency('Other');
    const headers = { 'idempotency-key': 'shared-key' };
    const r1 = await f.call('POST', '/v1/anchors', { token: key, body: { anchors: [{ hash: hashes(1, 14)[0] }] }, headers });
    const r2 = await f.call('POST', '/v1/anchors', { token: other.apiKey, body: { anchors: [{ hash: hashes(1, 15)[0] }] }, headers });
    expect([r1.status, r2.status]).toEqual([202, 202]);
  });

  it('400 for an Idempotency-Key that is not 1..255 visible ASCII', async () => {
    for (const k of ['x'.repeat(256), 'caf\u00e9']) {
      const res = await f.call('POST', '/v1/anchors', { token: key, body: { anchors: [{ hash: hashes(1, 16)[0] }] }, headers: { 'idempotency-key': k } }).catch(() => null);
      if (res === null) continue; // a header value outside Latin-1 cannot even be sent
      const p = await problem(res);
      expect(p.status).toBe(400);
      expect(p.body.errors[0]).toMatchObject({ in: 'header', path: '/idempotency-key' });
    }
  });
});

describe('GET /v1/anchors/{id} and history', () => {
  let f: Fixture;
  let a: { id: string; apiKey: string };
  let b: { id: string; apiKey: string };
  let anchorIds: string[];
  beforeAll(async () => {
    f = await fixture();
    a = await f.agency('A');
    b = await f.agency('B');
    const res = await f.call('POST', '/v1/anchors', { token: a.apiKey, body: { anchors: hashes(2, 20).map((hash) => ({ hash })) } });
    anchorIds = ((await res.json()) as { anchors: { id: string }[] }).anchors.map((x) => x.id);
  });
  afterAll(() => f.close());

  it('returns a pending anchor to its agency', async () => {
    const res = await f.call('GET', `/v1/anchors/${anchorIds[1]}`, { token: a.apiKey });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ id: anchorIds[1], hash: hashes(2, 20)[1], status: 'pending' });
  });

  it("404 for another agency's anchor, an unknown one and a malformed id, all alike", async () => {
    const bodies = [];
    for (const [token, id] of [
      [b.apiKey, anchorIds[0]!],
      [a.apiKey, `${anchorIds[0]!.split('.')[0]}.7`],
      [a.apiKey, '01KAQZ6XKV0000000000000000.0'],
      [a.apiKey, 'not-an-id'],
    ] as const) {
      const p = await problem(await f.call('GET', `/v1/anchors/${encodeURIComponent(id)}`, { token }));
      expect(p.status).toBe(404);
      expect(p.body.type).toBe(`${PROBLEM}not-found`);
      bodies.push(p.body.detail);
    }
    expect(new Set(bodies).size).toBe(1);
  });

  it('pages through a record history newest first', async () => {
    for (let i = 0; i < 5; i++) {
      f.clock.advance(1000);
      const res = await f.call('POST', '/v1/anchors', { token: a.apiKey, body: { anchors: [{ hash: hashes(1, 30 + i)[0], recordKey: 'diploma 42' }] } });
      expect(res.status).toBe(202);
    }
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const q = new URLSearchParams({ recordKey: 'diploma 42', limit: '2', ...(cursor ? { cursor } : {}) });
      const res = await f.call('GET', `/v1/anchors?${q}`, { token: a.apiKey });
      expect(res.status).toBe(200);
      const page = (await res.json()) as { items: { hash: string; arrivedAt: string }[]; nextCursor?: string };
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((i) => i.hash));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual([4, 3, 2, 1, 0].map((i) => hashes(1, 30 + i)[0]));
    // Another agency sees nothing under the same record key.
    const other = (await (await f.call('GET', '/v1/anchors?recordKey=diploma%2042', { token: b.apiKey })).json()) as { items: unknown[] };
    expect(other.items).toEqual([]);
  });

  it('400 for a missing recordKey, a bad limit or a forged cursor', async () => {
    for (const q of ['', '?recordKey=x&limit=0', '?recordKey=x&limit=101', '?recordKey=x&limit=abc', '?recordKey=x&cursor=forged']) {
      const p = await problem(await f.call('GET', `/v1/anchors${q}`, { token: a.apiKey }));
      expect(p.status, q).toBe(400);
      expect(p.body.type).toBe(`${PROBLEM}validation-error`);
      expect(p.body.errors[0].in).toBe('query');
    }
  });
});

describe('a damaged batch', () => {
  it('GET of one of its anchors is the problem unreadable-batch naming it, for its own agency only; no bare 500', async () => {
    const f = await fixture();
    try {
      const owner = await f.agency('Owner');
      const other = await f.agency('Other');
      const res = await f.call('POST', '/v1/anchors', { token: owner.apiKey, body: { anchors: hashes(3, 500).map((hash) => ({ hash })) } });
      const { batchId } = (await res.json()) as { batchId: string };
      // Tampering with the table: the head now claims 4 anchors for 3 anchors' bytes.
      await f.ts.client.send(new UpdateItemCommand({
        TableName: f.ts.tableName, Key: keys.batch(batchId), UpdateExpression: 'SET #c = :c', ExpressionAttributeNames: { '#c': 'count' }, ExpressionAttributeValues: { ':c': { N: '4' } },
      }));
      const p = await problem(await f.call('GET', `/v1/anchors/${batchId}.0`, { token: owner.apiKey }));
      expect(p.status).toBe(500);
      expect(p.contentType).toBe('application/problem+json');
      expect(p.body).toMatchObject({ type: `${PROBLEM}unreadable-batch`, title: 'A stored batch failed its integrity check' });
      expect(p.body.detail).toContain(`batch ${batchId} cannot be read`);
      expect(p.body.detail).toContain('Quarantined batches');
      expect(f.logs.some((l) => l.level === 'error' && l.msg === 'unreadable batch')).toBe(true);
      const q = await problem(await f.call('GET', `/v1/anchors/${batchId}.0`, { token: other.apiKey }));
      expect(q.status).toBe(404);
      expect(q.body.type).toBe(`${PROBLEM}not-found`);
    } finally {
      f.close();
    }
  });
});
