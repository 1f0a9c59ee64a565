/**
 * The anchoring workflow of @ledgerseal/sdk/client against the real service,
 * in process: wire() (what the local runner and the Lambdas run) over a
 * dynalite table, four validators with real keys, served by node:http on
 * 127.0.0.1. Rounds and publications run when the test says so (waitForProofs'
 * sleep runs a round), so nothing races a timer.
 *
 * And, without a service: a million receipts of one batch get their proofs
 * from a single GET, and receipts that do not lead to their batch root are refused.
 */
import type { ServerType } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateToken } from '../../functions/api/auth.ts';
import { loadConfig } from '../../functions/config.ts';
import { listen } from '../../functions/local/node-server.ts';
import { generateCosignerKey } from '../../sdk/src/cosignature.ts';
import { silentLogger } from '../../functions/services.ts';
import { type Ledger, wire } from '../../functions/wiring.ts';
import {
  anchorRecords,
  createLedgersealClient,
  extendProof,
  type LedgersealClient,
  RECEIPT_FORMAT,
  type Receipt,
  unwrap,
  verifyRecord,
  waitForProofs,
} from '../../sdk/src/client/index.ts';
import {
  anchorOf,
  blindingMask,
  bytesToHex,
  hashRecord,
  hexToBytes,
  LedgersealError,
  MerkleTree,
  prependChain,
  PROOF_FORMAT,
  type ProofDocument,
  sha256,
  type ValidatorSet,
} from '../../sdk/src/index.ts';
import { stopDynalite, type TestStore, withStore } from '../helpers/dynalite.ts';

const ORIGIN = 'ledgerseal.test/client';

describe('anchoring against the service', () => {
  let ts: TestStore;
  let ledger: Ledger;
  let server: ServerType;
  let url: string;
  let client: LedgersealClient;
  let trust: { validators: ValidatorSet; origin: string };
  const requests: string[] = [];
  const admin = generateToken('admin');

  beforeAll(async () => {
    ts = await withStore();
    const validatorKeys = Array.from({ length: 4 }, (_, i) => ({ name: `validator-${i + 1}`, ...generateCosignerKey(`validator-${i + 1}`) }));
    const config = { ...loadConfig({}), origin: ORIGIN, adminKeyHash: admin.keyHash, rateLimit: { perSecond: 0, burst: 1 } };
    ledger = wire({ config, store: ts.store, validatorKeys, log: silentLogger });
    ({ server, url } = await listen(ledger.app, { port: 0, host: '127.0.0.1' }));

    const adminClient = createLedgersealClient({ baseUrl: url, apiKey: admin.token });
    const agency = unwrap(await adminClient.POST('/v1/agencies', { body: { name: 'Land Registry' } }));
    client = createLedgersealClient({
      baseUrl: url,
      apiKey: agency.apiKey,
      fetch: (request) => {
        requests.push(`${request.method} ${new URL(request.url).pathname}`);
        return fetch(request);
      },
    });
    trust = { validators: unwrap(await client.GET('/v1/validators')), origin: ORIGIN };
    expect(trust.validators.validators).toHaveLength(4);
  });
  afterAll(async () => {
    await new Promise<void>((r) => server.close(() => r()));
    await ts.close();
    await stopDynalite();
  });

  const records = Array.from({ length: 2_500 }, (_, i) => ({ parcel: `P-${i}`, owner: `Owner ${i % 97}`, area_m2: 100 + i / 4, version: i % 3 }));
  const blindingKey = sha256(new TextEncoder().encode('agency blinding key for the client test'));
  const options = {
    recordKey: (r: (typeof records)[number]) => `land-registry/parcel/${r.parcel}`,
    version: (r: (typeof records)[number]) => BigInt(r.version),
    blindingKey,
    blockSize: 1024,
    idempotencyKey: 'client-test-import-1',
    metadata: { import: 'client-test' },
  };
  let receipts: Receipt[];
  let proofs: ProofDocument[];

  it('anchors 2,500 records as 3 block roots in one request, and the same call again is the same batch', async () => {
    receipts = await anchorRecords(client, records, options);
    expect(requests.filter((r) => r.startsWith('POST'))).toEqual(['POST /v1/anchors']);
    expect(receipts).toHaveLength(2_500);
    const r0 = receipts[0]!;
    expect(r0).toMatchObject({ format: RECEIPT_FORMAT, recordKey: 'land-registry/parcel/P-0', version: '0' });
    expect(Object.keys(r0)).toEqual(['format', 'recordKey', 'version', 'digest', 'mask', 'anchor', 'steps', 'batchId', 'anchorId']);
    expect(new Set(receipts.map((r) => r.batchId)).size).toBe(1);
    expect([...new Set(receipts.map((r) => r.anchorId))]).toEqual([0, 1, 2].map((i) => `${r0.batchId}.${i}`));
    expect(receipts.map((r) => r.steps[0].size).filter((s, i, a) => a.indexOf(s) === i)).toEqual([1024, 452]);
    expect(receipts[2_499]!.steps).toMatchObject([{ index: 451, size: 452 }, { index: 2, size: 3 }]);
    // What the service holds is the three block roots, nothing of the records.
    const batch = unwrap(await client.GET('/v1/batches/{id}', { params: { path: { id: r0.batchId }, query: { include: 'anchors' } } }));
    expect(batch).toMatchObject({ size: 3, status: 'pending' });
    expect(batch.anchors).not.toContain(r0.anchor);

    const again = await anchorRecords(client, records, options);
    expect(again.map((r) => r.anchorId)).toEqual(receipts.map((r) => r.anchorId));
    expect(again).toEqual(receipts);
  });

  it('waitForProofs: one GET per poll of the batch, and every proof verifies with verifyRecord', async () => {
    requests.length = 0;
    let rounds = 0;
    proofs = await waitForProofs(client, receipts, {
      pollMs: 1_000,
      sleep: async () => {
        rounds++;
        await ledger.round();
      },
    });
    expect(rounds).toBe(1);
    expect(requests).toEqual([`GET /v1/batches/${receipts[0]!.batchId}`, `GET /v1/batches/${receipts[0]!.batchId}`]);
    expect(proofs).toHaveLength(2_500);
    for (let i = 0; i < records.length; i++) {
      const result = verifyRecord(records[i], receipts[i]!, proofs[i], trust);
      if (!result.ok) expect.fail(`record ${i}: ${result.failed}: ${result.detail}`);
      expect(result.anchor).toBe(receipts[i]!.anchor);
    }
    expect(proofs[0]!.chain).toHaveLength(3); // local step, batch step, round step
    // The same documents as the service's proof of the block root with the local step put first.
    for (const i of [0, 1_023, 1_024, 2_499]) {
      const served = unwrap(await client.GET('/v1/anchors/{id}', { params: { path: { id: receipts[i]!.anchorId } } }));
      expect(proofs[i]).toEqual(prependChain(served.proof, receipts[i]!.anchor, [receipts[i]!.steps[0]]));
    }
  });

  it('a changed record, another receipt or another proof fails with failed: anchor', () => {
    const tampered = { ...records[5]!, owner: 'Mallory' };
    expect(verifyRecord(tampered, receipts[5]!, proofs[5], trust)).toMatchObject({ ok: false, failed: 'anchor' });
    expect(verifyRecord(records[5], receipts[6]!, proofs[5], trust)).toMatchObject({ ok: false, failed: 'anchor' });
    expect(verifyRecord(records[5], receipts[5]!, proofs[6], trust)).toMatchObject({ ok: false, failed: 'anchor' });
    const otherProof = { ...receipts[5]!, anchor: receipts[6]!.anchor };
    expect(verifyRecord(records[6], { ...otherProof, mask: receipts[6]!.mask }, proofs[6], trust)).toMatchObject({ ok: true });
    expect(verifyRecord(records[5], { ...receipts[5]!, mask: 'zz' }, proofs[5], trust)).toMatchObject({ ok: false, failed: 'anchor' });
  });

  it('extendProof: to the latest checkpoint, to a given size and to the latest publication, still verifying', async () => {
    const before = proofs[0]!.calendar.size;
    for (let k = 0; k < 2; k++) {
      await client.POST('/v1/anchors', { body: { anchors: [{ hash: bytesToHex(sha256(Uint8Array.of(k))) }] } });
      expect((await ledger.round()).status).toBe('finalized');
    }
    const latest = await extendProof(client, proofs[0]);
    expect(latest.calendar.size).toBeGreaterThanOrEqual(before + 2);
    expect(latest.chain).toEqual(proofs[0]!.chain);
    expect(verifyRecord(records[0], receipts[0]!, latest, trust)).toMatchObject({ ok: true, calendarSize: latest.calendar.size });

    const sized = await extendProof(client, proofs[1_500], { size: before + 1 });
    expect(sized.calendar.size).toBe(before + 1);
    expect(verifyRecord(records[1_500], receipts[1_500]!, sized, trust).ok).toBe(true);

    expect((await ledger.publish()).status).toBe('published');
    const pub = unwrap(await client.GET('/v1/publications')).items[0]!;
    const published = await extendProof(client, proofs[2_499], { publication: true });
    expect(published.calendar.size).toBe(pub.size);
    expect(verifyRecord(records[2_499], receipts[2_499]!, published, { publication: pub.code, origin: ORIGIN })).toMatchObject({ ok: true, time: null });

    await expect(extendProof(client, latest, { size: before })).rejects.toMatchObject({ code: 'INVALID_PROOF' });
  });
});

describe('waitForProofs without a service', () => {
  /** Receipts of `blocks` blocks of `blockSize` anchors in one batch (all blocks alike, to build them fast), and that batch's proof. */
  function syntheticBatch(blocks: number, blockSize: number) {
    const anchors = Array.from({ length: blockSize }, (_, k) => sha256(Uint8Array.of(k >> 8, k & 255)));
    const anchorHex = anchors.map(bytesToHex);
    const block = MerkleTree.fromLeafData(anchors);
    const localSteps = anchors.map((_, k) => ({ index: k, size: blockSize, path: block.inclusionProof(k).map(bytesToHex) }));
    const batch = MerkleTree.fromLeafData(Array.from({ length: blocks }, () => block.root()));
    const batchSteps = Array.from({ length: blocks }, (_, b) => ({ index: b, size: blocks, path: batch.inclusionProof(b).map(bytesToHex) }));
    const batchId = '01JD3Q8Y5ZK2M7N9P4R6S8T0VW';
    const receipts: Receipt[] = new Array(blocks * blockSize);
    for (let b = 0, i = 0; b < blocks; b++) {
      for (let k = 0; k < blockSize; k++, i++) {
        receipts[i] = { format: RECEIPT_FORMAT, recordKey: 'r', version: 0, digest: '', mask: '', anchor: anchorHex[k]!, steps: [localSteps[k]!, batchSteps[b]!], batchId, anchorId: `${batchId}.${b}` };
      }
    }
    const proof: ProofDocument = {
      format: PROOF_FORMAT,
      anchor: bytesToHex(batch.root()),
      chain: [{ index: 0, size: 1, path: [] }],
      block: 'synthetic block',
      calendar: { size: 1, path: [] },
      checkpoint: 'synthetic checkpoint',
    };
    return { receipts, proof, batchId, root: proof.anchor };
  }

  /** A client whose fetch answers GET /v1/batches/{id} from `answers` in turn, counting requests. */
  function fakeClient(answers: () => Record<string, unknown>) {
    const seen: string[] = [];
    const client = createLedgersealClient({
      baseUrl: 'http://ledgerseal.invalid',
      apiKey: 'lsk_x',
      fetch: async (request) => {
        seen.push(`${request.method} ${new URL(request.url).pathname}`);
        return new Response(JSON.stringify(answers()), { status: 200, headers: { 'content-type': 'application/json' } });
      },
    });
    return { client, seen };
  }

  it('1,000,000 receipts of one batch: one GET, every proof as prependChain makes it', async () => {
    const { receipts, proof, batchId, root } = syntheticBatch(1_000, 1_000);
    const { client, seen } = fakeClient(() => ({ id: batchId, size: 1_000, root, arrivedAt: '2026-11-22T04:32:16.123Z', status: 'confirmed', proof }));
    const proofs = await waitForProofs(client, receipts);
    expect(seen).toEqual([`GET /v1/batches/${batchId}`]);
    expect(proofs).toHaveLength(1_000_000);
    for (const i of [0, 1, 999, 1_000, 123_456, 500_500, 999_999]) {
      expect(proofs[i]).toEqual(prependChain(proof, receipts[i]!.anchor, receipts[i]!.steps));
    }
  });

  it('polls a pending batch every pollMs, and gives up after timeoutMs with a TimeoutError', async () => {
    const { receipts, proof, batchId, root } = syntheticBatch(3, 5);
    let polls = 0;
    const view = () => ({ id: batchId, size: 3, root, arrivedAt: '2026-11-22T04:32:16.123Z', ...(++polls < 4 ? { status: 'pending' } : { status: 'confirmed', proof }) });
    let now = 0;
    const waits: number[] = [];
    const sleep = async (ms: number) => {
      waits.push(ms);
      now += ms;
    };
    const { client, seen } = fakeClient(view);
    const proofs = await waitForProofs(client, receipts, { pollMs: 500, timeoutMs: 10_000, sleep, now: () => now });
    expect(seen).toHaveLength(4);
    expect(waits).toEqual([500, 500, 500]);
    expect(proofs[7]).toEqual(prependChain(proof, receipts[7]!.anchor, receipts[7]!.steps));

    polls = -1_000;
    now = 0;
    await expect(waitForProofs(client, receipts, { pollMs: 500, timeoutMs: 1_200, sleep, now: () => now })).rejects.toMatchObject({ name: 'TimeoutError' });
  });

  it('a receipt that does not lead to its batch root is refused (INVALID_PROOF); partial blocks work', async () => {
    const { receipts, proof, batchId, root } = syntheticBatch(4, 8);
    const { client } = fakeClient(() => ({ id: batchId, size: 4, root, arrivedAt: '2026-11-22T04:32:16.123Z', status: 'confirmed', proof }));
    // Only some receipts of a block: the per-receipt path.
    const some = [receipts[3]!, receipts[9]!, receipts[31]!];
    expect(await waitForProofs(client, some)).toEqual(some.map((r) => prependChain(proof, r.anchor, r.steps)));
    // A whole block with one bad path, or a bad anchor.
    const bad = receipts.slice();
    bad[10] = { ...bad[10]!, steps: [{ ...bad[10]!.steps[0], path: [...bad[10]!.steps[0].path].reverse() }, bad[10]!.steps[1]] };
    await expect(waitForProofs(client, bad)).rejects.toMatchObject({ code: 'INVALID_PROOF' });
    const swapped = receipts.slice();
    swapped[12] = { ...swapped[12]!, anchor: receipts[13]!.anchor };
    await expect(waitForProofs(client, swapped)).rejects.toBeInstanceOf(LedgersealError);
  });

  /** A client whose fetch accepts every POST /v1/anchors as a new batch, recording the requests. */
  function acceptingClient() {
    const posts: { key: string | null; hashes: string[]; metadata: unknown[] }[] = [];
    const client = createLedgersealClient({
      baseUrl: 'http://ledgerseal.invalid',
      apiKey: 'lsk_x',
      fetch: async (request) => {
        const body = (await request.json()) as { anchors: { hash: string; metadata?: unknown }[] };
        const batchId = `01JD3Q8Y5ZK2M7N9P4R6S8T${String(posts.length).padStart(3, '0')}`;
        posts.push({ key: request.headers.get('idempotency-key'), hashes: body.anchors.map((a) => a.hash), metadata: body.anchors.map((a) => a.metadata) });
        const anchors = body.anchors.map((a, i) => ({ id: `${batchId}.${i}`, hash: a.hash, status: 'pending' }));
        return new Response(JSON.stringify({ batchId, anchors }), { status: 202, headers: { 'content-type': 'application/json' } });
      },
    });
    return { client, posts };
  }

  it('anchorRecords: local and batch steps are the RFC 9162 paths of the block and batch trees, for ragged sizes too', async () => {
    const key = new Uint8Array(32).fill(7);
    for (const [count, blockSize] of [[1, 1], [2, 5], [37, 7], [64, 8], [100, 33]] as const) {
      const { client, posts } = acceptingClient();
      const recs = Array.from({ length: count }, (_, i) => ({ n: i }));
      const receipts = await anchorRecords(client, recs, { recordKey: (r) => `row/${r.n}`, blindingKey: key, blockSize, metadata: { job: 7 } });
      expect(posts).toHaveLength(1);
      expect(posts[0]!.metadata.every((m) => JSON.stringify(m) === '{"job":7}')).toBe(true);
      const roots = posts[0]!.hashes.map((h) => hexToBytes(h));
      const batchTree = MerkleTree.fromLeafData(roots);
      for (let b = 0; b * blockSize < count; b++) {
        const block = receipts.slice(b * blockSize, (b + 1) * blockSize);
        const tree = MerkleTree.fromLeafData(block.map((r) => hexToBytes(r.anchor)));
        expect(bytesToHex(tree.root())).toBe(posts[0]!.hashes[b]);
        block.forEach((r, k) => {
          expect(r.steps[0]).toEqual({ index: k, size: block.length, path: tree.inclusionProof(k).map(bytesToHex) });
          expect(r.steps[1]).toEqual({ index: b, size: roots.length, path: batchTree.inclusionProof(b).map(bytesToHex) });
          expect(r.anchorId).toBe(`${r.batchId}.${b}`);
          expect(r.anchor).toBe(bytesToHex(anchorOf(hashRecord(recs[b * blockSize + k]), hexToBytes(r.mask))));
          expect(r.mask).toBe(bytesToHex(blindingMask(key, `row/${b * blockSize + k}`, 0)));
          expect(r.version).toBe(0);
        });
      }
    }
  });

  it('anchorRecords: more than 10,000 roots go in several requests, keyed <idempotencyKey>.<n>, or at random', async () => {
    const key = new Uint8Array(32).fill(9);
    const recs = Array.from({ length: 10_001 }, (_, i) => i);
    const { client, posts } = acceptingClient();
    const receipts = await anchorRecords(client, recs, { recordKey: (r) => `n/${r}`, version: (r) => r, blindingKey: key, blockSize: 1, idempotencyKey: 'nightly-2026-11-22' });
    expect(posts.map((p) => [p.key, p.hashes.length])).toEqual([['nightly-2026-11-22.0', 10_000], ['nightly-2026-11-22.1', 1]]);
    expect(receipts[10_000]).toMatchObject({ version: 10_000, steps: [{ index: 0, size: 1, path: [] }, { index: 0, size: 1, path: [] }] });
    expect(receipts[10_000]!.batchId).not.toBe(receipts[0]!.batchId);

    const random = acceptingClient();
    await anchorRecords(random.client, recs.slice(0, 3), { recordKey: (r) => `n/${r}`, blindingKey: key });
    expect(random.posts[0]!.key).toMatch(/^[\x21-\x7e]{1,255}$/);

    await expect(anchorRecords(client, recs, { recordKey: (r) => `n/${r}`, blindingKey: key, blockSize: 1, idempotencyKey: 'x'.repeat(254) }))
      .rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(anchorRecords(client, recs, { recordKey: (r) => `n/${r}`, blindingKey: key, blockSize: 0 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(anchorRecords(client, recs, { recordKey: (r) => `n/${r}`, blindingKey: key.subarray(0, 16) })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(await anchorRecords(client, [], { recordKey: () => 'x', blindingKey: key })).toEqual([]);
  });
});
