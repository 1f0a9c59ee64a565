/**
 * The SDK client's anchoring workflow (@ledgerseal/sdk/client) on 1,000,000
 * records against the local runner (`npm start`'s code, in this process):
 * anchorRecords (hash, blind, aggregate into blocks of 1,024, submit the block
 * roots), waitForProofs (one GET /v1/batches/{id} per batch, every proof
 * derived locally), and verifyRecord of a sample. Peer: the same proofs one
 * GET /v1/anchors/{id} per anchor, as before bulk proofs, timed on 2,000
 * anchors and extrapolated (the default rate limit, 20 requests/s per key,
 * would add 14 hours for a million).
 *
 *   npm run bench -- client            200,000 records; LEDGERSEAL_BENCH_RECORDS=1000000 needs
 *                                      node --max-old-space-size=8192 (everything is held in memory)
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocal } from '../functions/local/runner.ts';
import { silentLogger } from '../functions/services.ts';
import { anchorRecords, createLedgersealClient, unwrap, verifyRecord, waitForProofs } from '../sdk/src/client/index.ts';
import { fmt, printTable } from './_table.ts';

const N = Number(process.env.LEDGERSEAL_BENCH_RECORDS ?? 200_000);

export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ledgerseal-bench-client-'));
  const adminKey = `lsa_bench_${randomBytes(24).toString('hex')}`;
  const runner = await startLocal({ ...process.env, PORT: '0', LEDGERSEAL_HOST: '127.0.0.1', LEDGERSEAL_DATA_DIR: dir, LEDGERSEAL_ADMIN_KEY: adminKey,
    LEDGERSEAL_ROUND_INTERVAL_MS: '1000', LEDGERSEAL_RATE_LIMIT_PER_SECOND: '0' }, silentLogger);
  try {
    const res = await fetch(`${runner.url}/v1/agencies`, { method: 'POST', headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'Diploma register' }) });
    const { apiKey } = (await res.json()) as { apiKey: string };
    let requests = 0;
    const client = createLedgersealClient({ baseUrl: runner.url, apiKey, fetch: (r: Request) => (requests++, fetch(r)) });
    const records = Array.from({ length: N }, (_, i) => ({ diploma: `TLU-${i}`, student: `Student ${i}`, grade: (i % 5) + 1, issued: '2026-06-30' }));
    const blindingKey = randomBytes(32);

    const t0 = performance.now();
    const receipts = await anchorRecords(client, records, { recordKey: (r) => `diploma/${r.diploma}`, blindingKey });
    const t1 = performance.now();
    const submitRequests = requests;
    const proofs = await waitForProofs(client, receipts, { pollMs: 200 });
    const t2 = performance.now();
    const proofRequests = requests - submitRequests;
    const validators = unwrap(await client.GET('/v1/validators'));
    let ok = 0;
    const t3 = performance.now();
    for (let i = 0; i < N; i += Math.max(1, Math.floor(N / 1000))) if (verifyRecord(records[i], receipts[i]!, proofs[i], { validators }).ok) ok++;
    const t4 = performance.now();
    const sampled = Math.ceil(N / Math.max(1, Math.floor(N / 1000)));

    // Peer: one request per anchor (GET /v1/anchors/{id}), on 2,000 anchors of the same ledger.
    const peer = await anchorRecords(client, records.slice(0, 2_000), { recordKey: (r) => `diploma/${r.diploma}`, blindingKey, blockSize: 1 });
    await waitForProofs(client, peer.slice(0, 1), { pollMs: 200 });
    const t5 = performance.now();
    for (const r of peer) unwrap(await client.GET('/v1/anchors/{id}', { params: { path: { id: r.anchorId } } }));
    const perAnchorMs = (performance.now() - t5) / peer.length;

    console.log(`${fmt(N)} records, blocks of 1,024, local runner with 1 s rounds\n`);
    printTable(['step', 'seconds', 'requests', 'per record'], [
      ['anchorRecords (hash, blind, aggregate, submit)', fmt((t1 - t0) / 1000, 1), submitRequests, `${fmt(((t1 - t0) * 1000) / N, 1)} µs`],
      ['waitForProofs (incl. waiting for the round)', fmt((t2 - t1) / 1000, 1), proofRequests, `${fmt(((t2 - t1) * 1000) / N, 1)} µs`],
      [`verifyRecord (${fmt(sampled)} sampled, all ok: ${ok === sampled})`, fmt((t4 - t3) / 1000, 2), 0, `${fmt(((t4 - t3) * 1000) / sampled, 1)} µs`],
      ['peer: one GET /v1/anchors/{id} per anchor, extrapolated', fmt((perAnchorMs * N) / 1000, 0), N, `${fmt(perAnchorMs * 1000, 0)} µs`],
    ]);
  } finally {
    await runner.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
