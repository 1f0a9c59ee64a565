/**
 * Service benchmarks (issue 3): the local runner (functions/local.ts) started
 * in this process, driven over loopback HTTP by bench/_load.ts.
 *
 *  1. Intake: hashes/s through POST /v1/anchors at batch sizes 1, 100 and
 *     1,000, concurrency 8 and 32, with 1 s rounds running; p50/p99 latency;
 *     write capacity split into intake writes and the round writes those
 *     batches caused (placement, pending delete, proposal, block, calendar,
 *     events, validator records), per request and per 1,000,000 hashes.
 *     Plus batches of 1,000 where every anchor carries a recordKey.
 *  2. Submit -> confirmed latency with 1 s rounds (single-hash requests, each
 *     polled until confirmed); every proof is checked with the sdk verifyProof
 *     against GET /v1/validators.
 *  3. 1,000,000 hashes (1,000 batches of 1,000), each variant on a fresh runner:
 *     3a with 1 s rounds running (last 202 -> all confirmed); 3b all in ONE
 *     round, on a runner whose scheduler waits an hour so the round runs only
 *     when called (runner.runRound(), retried while it ends without quorum):
 *     intake time, round time split per attempt, capacity, peak RSS.
 *  4. Where API time goes (rounds off): the full API against intake without
 *     HTTP (acceptBatch), an HTTP floor (fetch + node:http answering a canned
 *     202 of the same size) and the store floor (the same two PutItems a
 *     request makes, sent raw to the same dynalite).
 *
 * Everything runs in ONE Node process: load generator, API, round scheduler,
 * four validators and dynalite (the DynamoDB engine, LevelDB underneath).
 * Figures and caveats: BENCHMARKS.md "Service (issue 3)".
 */
import { PutItemCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { parseValidatorSet, verifyProof } from '@ledgerseal/sdk';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance as perfHooks } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { acceptBatch } from '../functions/intake.ts';
import { startLocal, TABLE_NAME, type LocalRunner } from '../functions/local/runner.ts';
import { silentLogger, type Logger, type LogFields } from '../functions/services.ts';
import type { DynamoStore } from '../functions/store/dynamo-store.ts';
import { installMeter, type Meter } from './_meter.ts';
import { percentile, runLoad, type LoadResult } from './_load.ts';
import { fmt, printTable } from './_table.ts';

// ---- sizes (all bounded: the whole file ran in about 2.5 minutes on 2 cores) ----
const INTAKE_CASES = [
  { batch: 1, concurrency: 8, requests: 1500 },
  { batch: 1, concurrency: 32, requests: 1500 },
  { batch: 100, concurrency: 8, requests: 1000 },
  { batch: 100, concurrency: 32, requests: 1000 },
  { batch: 1000, concurrency: 8, requests: 600 },
  { batch: 1000, concurrency: 32, requests: 600 },
];
const RECORD_KEY_CASE = { batch: 1000, concurrency: 8, requests: 200 };
const CASE_CAP_MS = 10_000;
const DRAIN_TIMEOUT_MS = 60_000;
const LATENCY_REQUESTS = 200;
const LATENCY_SPACING_MS = 50; // 200 requests over 10 s
const POLL_MS = 50;
const BIG_BATCHES = 1000;
const BIG_BATCH_SIZE = 1000;
const BIG_CONCURRENCY = 8;
const BIG_MAX_ATTEMPTS = 10;
const BIG_ROUND_BUDGET_MS = 120_000;
const LAYER_CASES = [
  { batch: 1, requests: 1500 },
  { batch: 1000, requests: 400 },
];
const LAYER_CONCURRENCY = 8;
const LAYER_CAP_MS = 10_000;
const LAYER_WARMUP = 1_500;

// ---- memory sampling ----------------------------------------------------------
const memory = { peak: 0, window: 0 };
const sampler = setInterval(() => {
  const rss = process.memoryUsage.rss();
  if (rss > memory.peak) memory.peak = rss;
  if (rss > memory.window) memory.window = rss;
}, 100);
sampler.unref();
const mb = (bytes: number): string => fmt(bytes / 1e6);
const gc = (): void => (globalThis as { gc?: () => void }).gc?.();

// ---- the runner -------------------------------------------------------------------
interface RoundLine extends LogFields {
  status: string;
  batches: number;
  anchors: number;
  settleMs: number;
  proposeMs: number;
  signMs: number;
  totalMs: number;
}

interface Bench {
  runner: LocalRunner;
  store: DynamoStore;
  client: DynamoDBClient;
  meter: Meter;
  rounds: RoundLine[];
  problems: LogFields[];
  dir: string;
  agencyId: string;
  auth: Record<string, string>;
}

async function start(roundIntervalMs: number): Promise<Bench> {
  const dir = mkdtempSync(join(tmpdir(), 'ledgerseal-bench-'));
  const adminKey = `lsa_bench_${randomBytes(24).toString('hex')}`;
  const rounds: RoundLine[] = [];
  const problems: LogFields[] = [];
  // silentLogger, except that round summaries (and anything going wrong) are kept.
  const log: Logger = {
    ...silentLogger,
    info: (f) => void (f.msg === 'round' && rounds.push(f as RoundLine)),
    warn: (f) => void (f.msg === 'round' ? rounds.push(f as RoundLine) : problems.push(f)),
    error: (f) => void problems.push(f),
  };
  const runner = await startLocal(
    {
      ...process.env,
      PORT: '0',
      LEDGERSEAL_DATA_DIR: dir,
      LEDGERSEAL_ADMIN_KEY: adminKey,
      LEDGERSEAL_RATE_LIMIT_PER_SECOND: '0',
      LEDGERSEAL_ROUND_INTERVAL_MS: String(roundIntervalMs),
      LEDGERSEAL_MAX_BATCHES_PER_ROUND: '2000',
    },
    log,
  );
  const store = runner.ledger.services.store as DynamoStore;
  // The store's client is private; the bench only observes its responses.
  const client = (store as unknown as { io: { client: DynamoDBClient } }).io.client;
  const meter = installMeter(client);
  const res = await fetch(`${runner.url}/v1/agencies`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'Benchmark agency' }),
  });
  if (res.status !== 201) throw new Error(`create agency: HTTP ${res.status} ${await res.text()}`);
  const agency = (await res.json()) as { id: string; apiKey: string };
  const auth = { authorization: `Bearer ${agency.apiKey}` };
  return { runner, store, client, meter, rounds, problems, dir, agencyId: agency.id, auth };
}

async function stop(b: Bench): Promise<void> {
  await b.runner.close();
  rmSync(b.dir, { recursive: true, force: true });
}

/** A request body of n fresh random anchors (optionally each with its own recordKey). */
function anchorsBody(n: number, seq: number, recordKeys = false): string {
  const hex = randomBytes(32 * n).toString('hex');
  const parts = new Array<string>(n);
  for (let i = 0; i < n; i++) {
    const h = hex.slice(64 * i, 64 * i + 64);
    parts[i] = recordKeys ? `{"hash":"${h}","recordKey":"parcel/${seq}/${i}"}` : `{"hash":"${h}"}`;
  }
  return `{"anchors":[${parts.join(',')}]}`;
}

function postAnchors(b: Bench, n: number, recordKeys = false) {
  return (i: number) => ({
    path: '/v1/anchors',
    method: 'POST',
    headers: { ...b.auth, 'content-type': 'application/json' },
    body: anchorsBody(n, i, recordKeys),
  });
}

/** Wait until the rounds logged since `from` hold `batches` batches; returns whether they did. */
async function drain(b: Bench, from: number, batches: number): Promise<boolean> {
  const deadline = performance.now() + DRAIN_TIMEOUT_MS;
  for (;;) {
    const done = b.rounds.slice(from).reduce((n, r) => n + (r.status === 'finalized' ? r.batches : 0), 0);
    if (done >= batches) return true;
    if (performance.now() > deadline) return false;
    await sleep(20);
  }
}

const perSec = (n: number, ms: number): number => (n * 1000) / ms;
const per1M = (units: number, hashes: number): number => (units / hashes) * 1e6;
const ms1 = (x: number): string => fmt(x, 1);
const median = (xs: number[]): number => [...xs].sort((a, c) => a - c)[Math.floor(xs.length / 2)] ?? NaN;

interface Usage {
  cpu: NodeJS.CpuUsage;
  elu: ReturnType<typeof perfHooks.eventLoopUtilization>;
  t: number;
}
const usageStart = (): Usage => ({ cpu: process.cpuUsage(), elu: perfHooks.eventLoopUtilization(), t: performance.now() });
function usageEnd(u: Usage): { cores: number; loop: number } {
  const cpu = process.cpuUsage(u.cpu);
  const wall = performance.now() - u.t;
  return { cores: (cpu.user + cpu.system) / 1000 / wall, loop: perfHooks.eventLoopUtilization(u.elu).utilization };
}

// ---- 1. intake ------------------------------------------------------------------------
async function intake(b: Bench): Promise<void> {
  const speed: (string | number)[][] = [];
  const cost: (string | number)[][] = [];
  const notes: string[] = [];
  for (const c of [...INTAKE_CASES, { ...RECORD_KEY_CASE, recordKeys: true }]) {
    const keyed = 'recordKeys' in c;
    const label = keyed ? `${fmt(c.batch)} + recordKey` : fmt(c.batch);
    const from = b.rounds.length;
    b.meter.reset();
    memory.window = 0;
    const u = usageStart();
    const r = await runLoad({ url: b.runner.url, concurrency: c.concurrency, requests: c.requests, timeCapMs: CASE_CAP_MS, expect: 202, request: postAnchors(b, c.batch, keyed) });
    const use = usageEnd(u);
    const intakeW = b.meter.write.intake;
    const authR = b.meter.read.auth;
    const drained = await drain(b, from, r.ok);
    const rounds = b.rounds.slice(from).filter((x) => x.status === 'finalized');
    const hashes = r.ok * c.batch;
    if (r.errors > 0) notes.push(`batch ${label}, concurrency ${c.concurrency}: ${r.errors} errors, first: ${r.firstError}`);
    if (!drained) notes.push(`batch ${label}, concurrency ${c.concurrency}: not all batches confirmed within ${DRAIN_TIMEOUT_MS / 1000} s; round figures are partial`);
    speed.push([
      label, c.concurrency, `${fmt(r.ok)}${r.capped ? ' (cap)' : ''}`, fmt(r.wallMs / 1000, 1), perSec(r.ok, r.wallMs), perSec(hashes, r.wallMs),
      ms1(percentile(r.latencies, 50)), ms1(percentile(r.latencies, 99)), fmt(use.cores, 2), `${fmt(use.loop * 100)}%`, mb(memory.window),
    ]);
    const roundW = b.meter.write.round;
    cost.push([
      label, c.concurrency, fmt(intakeW / r.ok, 1), per1M(intakeW, hashes), `${fmt(roundW)} (${rounds.length} rounds)`, per1M(roundW, hashes),
      per1M(intakeW + roundW, hashes), fmt(authR / r.ok, 1), per1M(b.meter.read.rest, hashes),
    ]);
    if (b.meter.mixed > 0) notes.push(`batch ${label}: ${b.meter.mixed} WCU in BatchWriteItem calls mixing kinds (counted as the first kind)`);
  }
  console.log('### 1. Intake: POST /v1/anchors with 1 s rounds running\n');
  printTable(['batch', 'conc', 'requests', 'wall s', 'req/s', 'hashes/s', 'p50 ms', 'p99 ms', 'CPU cores', 'loop busy', 'peak RSS MB'], speed);
  console.log('\nCapacity (after every batch of the case was confirmed; round = the rounds that confirmed them):\n');
  printTable(['batch', 'conc', 'intake WCU/req', 'intake WCU/1M', 'round WCU', 'round WCU/1M', 'total WCU/1M', 'auth RCU/req', 'round RCU/1M'], cost);
  for (const n of notes) console.log(`- ${n}`);
}

// ---- 2. submit -> confirmed --------------------------------------------------------------
/**
 * JIT warm-up of a fresh runner: 300 one-hash POSTs and their confirmation. A
 * process's first seconds run cold code (the AWS SDK, dynalite, the app), and
 * case 2's own load (200 pending anchors, each polled every 50 ms) turns slow
 * first rounds into a backlog that keeps them slow: measured cold, case 2 gave
 * rounds of 2.6 s and a confirmed p50 of 5.3 s; warm, 0.3 s and 1 s
 * (BENCHMARKS.md "Why case 2 once measured five times slower").
 */
async function warmUp(b: Bench): Promise<void> {
  const from = b.rounds.length;
  const r = await runLoad({ url: b.runner.url, concurrency: 8, requests: 300, timeCapMs: 30_000, expect: 202, request: postAnchors(b, 1) });
  await drain(b, from, r.ok);
}

async function latency(b: Bench, label: string): Promise<void> {
  const headers = { ...b.auth, 'content-type': 'application/json' };
  const accepted: number[] = [];
  const confirmed: number[] = [];
  const proofs: unknown[] = [];
  let polls = 0;
  let failures = 0;
  const from = b.rounds.length;
  const one = async (i: number): Promise<void> => {
    await sleep(i * LATENCY_SPACING_MS);
    const t0 = performance.now();
    const res = await fetch(`${b.runner.url}/v1/anchors`, { method: 'POST', headers, body: anchorsBody(1, i) });
    if (res.status !== 202) {
      failures++;
      await res.text();
      return;
    }
    const id = ((await res.json()) as { anchors: { id: string }[] }).anchors[0]!.id;
    accepted.push(performance.now() - t0);
    const deadline = t0 + 30_000;
    while (performance.now() < deadline) {
      await sleep(POLL_MS);
      polls++;
      const g = await fetch(`${b.runner.url}/v1/anchors/${id}`, { headers: b.auth });
      const body = (await g.json()) as { status?: string; proof?: unknown };
      if (body.status === 'confirmed') {
        confirmed.push(performance.now() - t0);
        proofs.push(body.proof);
        return;
      }
    }
    failures++;
  };
  const t = performance.now();
  await Promise.all(Array.from({ length: LATENCY_REQUESTS }, (_, i) => one(i)));
  const wall = performance.now() - t;
  const rounds = b.rounds.slice(from).filter((x) => x.status === 'finalized');

  const set = parseValidatorSet(await (await fetch(`${b.runner.url}/v1/validators`)).json());
  const tv = performance.now();
  const verified = proofs.filter((p) => verifyProof(p, { validators: set, origin: b.runner.origin }).ok).length;
  const verifyMs = performance.now() - tv;

  confirmed.sort((a, c) => a - c);
  accepted.sort((a, c) => a - c);
  console.log(`\n### ${label}. Submit -> confirmed, 1 s rounds (${LATENCY_REQUESTS} single-hash requests, one every ${LATENCY_SPACING_MS} ms, each polled every ${POLL_MS} ms)\n`);
  printTable(
    ['requests', 'confirmed', '202 p50 ms', 'confirmed p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'GET polls', 'rounds', 'round p50 ms', 'proofs verified'],
    [[
      LATENCY_REQUESTS, confirmed.length, ms1(percentile(accepted, 50)), percentile(confirmed, 50), percentile(confirmed, 90), percentile(confirmed, 99),
      confirmed[confirmed.length - 1] ?? NaN, polls, rounds.length, median(rounds.map((r) => r.totalMs)), `${verified} / ${proofs.length}`,
    ]],
  );
  console.log(`\nwall ${fmt(wall / 1000, 1)} s; failures ${failures}; verifyProof against GET /v1/validators: ${fmt((verifyMs * 1000) / Math.max(1, proofs.length))} µs per proof`);
}

// ---- 3a. 1,000,000 hashes through the running system (1 s rounds) -----------------------
async function millionLive(b: Bench): Promise<void> {
  gc();
  await sleep(100);
  const baseRss = process.memoryUsage.rss();
  memory.window = 0;
  b.meter.reset();
  const from = b.rounds.length;
  let lastId = '';
  const r = await runLoad({
    url: b.runner.url, concurrency: BIG_CONCURRENCY, requests: BIG_BATCHES, timeCapMs: 120_000, expect: 202,
    request: postAnchors(b, BIG_BATCH_SIZE),
    onBody: (_, body) => void (lastId = (body as { anchors: { id: string }[] }).anchors.at(-1)!.id),
  });
  const lastAccepted = performance.now();
  const drained = await drain(b, from, r.ok);
  const allConfirmed = performance.now() - lastAccepted;
  const g = (await (await fetch(`${b.runner.url}/v1/anchors/${lastId}`, { headers: b.auth })).json()) as { status?: string };
  const lines = b.rounds.slice(from);
  const fin = lines.filter((x) => x.status === 'finalized');
  const hashes = r.ok * BIG_BATCH_SIZE;
  const w = b.meter.write;
  const mm = (xs: number[]): string => `${fmt(median(xs))} / ${fmt(Math.max(...xs))}`;
  console.log(`\n### 3a. ${fmt(hashes)} hashes (${fmt(r.ok)} batches of ${fmt(BIG_BATCH_SIZE)}, concurrency ${BIG_CONCURRENCY}) with 1 s rounds running\n`);
  printTable(
    ['intake s', 'hashes/s', 'last 202 -> all confirmed s', 'rounds', 'batches/round median / max', 'round ms median / max', 'sign ms median / max', 'not finalized', 'intake WCU/1M', 'round WCU/1M', 'total WCU/1M', 'peak RSS MB'],
    [[
      fmt(r.wallMs / 1000, 1), perSec(hashes, r.wallMs), drained ? fmt(allConfirmed / 1000, 2) : `> ${DRAIN_TIMEOUT_MS / 1000}`, fin.length,
      mm(fin.map((x) => x.batches)), mm(fin.map((x) => x.totalMs)), mm(fin.map((x) => x.signMs)), lines.length - fin.length,
      per1M(w.intake, hashes), per1M(w.round, hashes), per1M(w.intake + w.round, hashes), mb(memory.window),
    ]],
  );
  console.log(`\nlast anchor's status after the drain: ${g.status}; RSS before the case ${mb(baseRss)} MB; intake p50/p99 ${ms1(percentile(r.latencies, 50))} / ${ms1(percentile(r.latencies, 99))} ms`);
  if (r.errors > 0) console.log(`- intake errors: ${r.errors}, first: ${r.firstError}`);
}

// ---- 4. where the time goes (rounds off) --------------------------------------------------
/** node:http answering every request with a canned 202 body (after reading the request). */
async function echoServer(answer: string): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    req.on('data', () => {});
    req.on('end', () => {
      res.writeHead(202, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(answer) });
      res.end(answer);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((r) => {
      server.close(() => r());
      server.closeAllConnections();
    }),
  };
}

/** Like runLoad, for a function call instead of a request. */
async function runCalls(concurrency: number, requests: number, capMs: number, call: (i: number) => Promise<void>): Promise<LoadResult> {
  const lat: number[] = [];
  let next = 0;
  let capped = false;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < requests) {
        if (performance.now() - t0 > capMs) {
          capped = true;
          return;
        }
        const i = next++;
        const s = performance.now();
        await call(i);
        lat.push(performance.now() - s);
      }
    }),
  );
  return { sent: next, ok: lat.length, errors: 0, wallMs: performance.now() - t0, latencies: Float64Array.from(lat).sort(), capped };
}

async function layers(b: Bench): Promise<void> {
  const rows: (string | number)[][] = [];
  for (const c of LAYER_CASES) {
    // The API's answer for this batch size, to size the canned answer of the HTTP floor.
    const sample = await fetch(`${b.runner.url}/v1/anchors`, { method: 'POST', headers: { ...b.auth, 'content-type': 'application/json' }, body: anchorsBody(c.batch, -1) });
    const answer = await sample.text();
    const row = (name: string, r: LoadResult): void => {
      rows.push([name, fmt(c.batch), `${fmt(r.ok)}${r.capped ? ' (cap)' : ''}`, perSec(r.ok, r.wallMs), perSec(r.ok * c.batch, r.wallMs), ms1(percentile(r.latencies, 50)), ms1(percentile(r.latencies, 99))]);
    };
    const opts = { concurrency: LAYER_CONCURRENCY, requests: c.requests, timeCapMs: LAYER_CAP_MS, expect: 202 };
    const warm = Math.min(LAYER_WARMUP, c.requests);
    /** Each layer: a warm-up (not measured: JIT, caches, sockets), then the measured run. */
    const measured = async (warmup: () => Promise<unknown>, run: () => Promise<LoadResult>): Promise<LoadResult> => {
      await warmup();
      return run();
    };
    const api = (requests: number) => runLoad({ ...opts, requests, url: b.runner.url, request: postAnchors(b, c.batch) });
    row('API: POST /v1/anchors (HTTP, auth, validation, intake)', await measured(() => api(warm), () => api(c.requests)));
    const intakeOnly = (requests: number) => runCalls(LAYER_CONCURRENCY, requests, LAYER_CAP_MS, async (i) => {
      const body = JSON.parse(anchorsBody(c.batch, i)) as { anchors: { hash: string }[] };
      const out = await acceptBatch(b.runner.ledger.services, { agencyId: b.agencyId, anchors: body.anchors });
      if (!out.ok) throw new Error('acceptBatch refused');
    });
    row('intake only: acceptBatch() called directly', await measured(() => intakeOnly(warm), () => intakeOnly(c.requests)));
    const echo = await echoServer(answer);
    const floor = (requests: number) => runLoad({ ...opts, requests, url: echo.url, request: (i) => ({ path: '/', method: 'POST', headers: { 'content-type': 'application/json' }, body: anchorsBody(c.batch, i) }) });
    row('HTTP floor: fetch + node:http, canned 202', await measured(() => floor(warm), () => floor(c.requests)));
    await echo.close();
    const storeFloor = (requests: number) => runCalls(LAYER_CONCURRENCY, requests, LAYER_CAP_MS, async (i) => {
      const id = `${Date.now()}-${i}-${randomBytes(4).toString('hex')}`;
      const put = (Item: Record<string, AttributeValue>) =>
        b.client.send(new PutItemCommand({ TableName: TABLE_NAME, Item, ReturnConsumedCapacity: 'TOTAL' }));
      await put({ pk: { S: `FLOOR#${id}` }, sk: { S: 'BATCH' }, agencyId: { S: b.agencyId }, arrivedAt: { S: new Date().toISOString() }, count: { N: String(c.batch) }, root: { B: randomBytes(32) }, data: { B: randomBytes(32 * c.batch) } });
      await put({ pk: { S: `FLOOR#${i % 8}` }, sk: { S: `${new Date().toISOString()}#${id}` }, agencyId: { S: b.agencyId }, root: { B: randomBytes(32) }, count: { N: String(c.batch) } });
    });
    row('store floor: 2 raw PutItem (batch item, marker)', await measured(() => storeFloor(warm), () => storeFloor(c.requests)));
  }
  console.log(`\n### 4. Where the time of a request goes (no rounds running; concurrency ${LAYER_CONCURRENCY}; same process, same dynalite)\n`);
  printTable(['layer', 'batch', 'requests', 'req/s', 'hashes/s', 'p50 ms', 'p99 ms'], rows);
}

// ---- 3. a round of 1,000,000 hashes ------------------------------------------------------
async function bigRound(b: Bench): Promise<void> {
  gc();
  await sleep(100);
  const baseRss = process.memoryUsage.rss();
  b.meter.reset();
  b.store.resetCapacity();
  memory.window = 0;
  let lastId = '';
  const u = usageStart();
  const r = await runLoad({
    url: b.runner.url, concurrency: BIG_CONCURRENCY, requests: BIG_BATCHES, timeCapMs: 120_000, expect: 202,
    request: postAnchors(b, BIG_BATCH_SIZE),
    onBody: (_, body) => void (lastId = (body as { anchors: { id: string }[] }).anchors.at(-1)!.id),
  });
  const intakeUse = usageEnd(u);
  const intakeRss = memory.window;
  const lastAccepted = performance.now();
  const intakeW = b.meter.write.intake;
  const intakeCap = { ...b.store.capacity };
  const hashes = r.ok * BIG_BATCH_SIZE;

  memory.window = 0;
  b.meter.reset();
  b.store.resetCapacity();
  const from = b.rounds.length;
  const attempts: number[] = [];
  const roundStart = performance.now();
  for (let a = 0; a < BIG_MAX_ATTEMPTS && performance.now() - roundStart < BIG_ROUND_BUDGET_MS; a++) {
    const t = performance.now();
    await b.runner.runRound();
    attempts.push(performance.now() - t);
    if (b.rounds.slice(from).some((x) => x.status === 'finalized')) break;
  }
  const roundRss = memory.window;
  const g = await fetch(`${b.runner.url}/v1/anchors/${lastId}`, { headers: b.auth });
  const doc = (await g.json()) as { status?: string; proof?: unknown };
  const lastToConfirmed = performance.now() - lastAccepted;
  const set = parseValidatorSet(await (await fetch(`${b.runner.url}/v1/validators`)).json());
  const proofOk = doc.status === 'confirmed' && verifyProof(doc.proof, { validators: set, origin: b.runner.origin }).ok;

  console.log(`\n### 3b. One round of ${fmt(hashes)} hashes (${fmt(r.ok)} batches of ${fmt(BIG_BATCH_SIZE)}), round run explicitly with runner.runRound()\n`);
  printTable(
    ['phase', 'wall s', 'hashes/s', 'p50 ms', 'p99 ms', 'WCU', 'WCU/1M hashes', 'RCU', 'peak RSS MB'],
    [
      ['intake', fmt(r.wallMs / 1000, 1), perSec(hashes, r.wallMs), ms1(percentile(r.latencies, 50)), ms1(percentile(r.latencies, 99)), intakeW, per1M(intakeW, hashes), fmt(intakeCap.read, 1), mb(intakeRss)],
      ['round', fmt(attempts.reduce((x, y) => x + y, 0) / 1000, 1), '-', '-', '-', b.meter.write.round, per1M(b.meter.write.round, hashes), fmt(b.store.capacity.read, 1), mb(roundRss)],
      ['intake + round', '-', '-', '-', '-', intakeW + b.meter.write.round, per1M(intakeW + b.meter.write.round, hashes), '-', mb(Math.max(intakeRss, roundRss))],
    ],
  );
  const lines = b.rounds.slice(from);
  console.log('\nRound attempts (from the runner\'s round log; finalize = block write + settle = total - settle - propose - sign):\n');
  printTable(
    ['attempt', 'status', 'batches', 'anchors', 'settle ms', 'propose ms', 'sign ms', 'finalize ms', 'total ms', 'faults'],
    lines.map((x, i) => [i + 1, x.status, x.batches, x.anchors, x.settleMs, x.proposeMs, x.signMs, x.totalMs - x.settleMs - x.proposeMs - x.signMs, x.totalMs, String((x.faults as string[] | undefined)?.join(' ') || '-')]),
  );
  console.log(
    `\nlast 202 -> last anchor confirmed (runRound + one GET): ${fmt(lastToConfirmed / 1000, 2)} s; its proof verifies: ${proofOk}; ` +
      `intake used ${fmt(intakeUse.cores, 2)} CPU cores, event loop busy ${fmt(intakeUse.loop * 100)}%; RSS before the case ${mb(baseRss)} MB; ` +
      `other writes during the round (publication job): ${b.meter.write.other} WCU; store.capacity over the round: ${fmt(b.store.capacity.write)} WCU`,
  );
  if (r.errors > 0) console.log(`- intake errors: ${r.errors}, first: ${r.firstError}`);
}

function report(b: Bench): void {
  if (b.problems.length === 0) return;
  const kinds = new Map<string, number>();
  for (const p of b.problems) {
    const k = `${String(p.msg)}${p.reason ? ` (${String(p.reason)})` : ''}`;
    kinds.set(k, (kinds.get(k) ?? 0) + 1);
  }
  console.log(`\nrunner warnings/errors: ${[...kinds].map(([k, n]) => `${n} x ${k}`).join(', ')}; first: ${JSON.stringify(b.problems[0])}`);
}

/**
 * Which cases run: LEDGERSEAL_BENCH_CASES=1,2 (default all). Each case says the
 * state it starts from: a fresh runner (empty table, nothing ran before in it)
 * or the runner another case used, with what that case left in the table.
 */
const CASES = (process.env.LEDGERSEAL_BENCH_CASES ?? '1,2,2b,3a,3b,4').split(',').map((c) => c.trim());
const wants = (c: string): boolean => CASES.includes(c);

function conditions(text: string): void {
  console.log(`\nConditions: ${text}.`);
}

export async function run(): Promise<void> {
  memory.peak = process.memoryUsage.rss();
  console.log('Everything below runs in this one process: load generator (fetch), API (Hono on node:http), round scheduler, 4 validators, dynalite (persisted LevelDB in a temp dir).');
  console.log('WCU/RCU are DynamoDB capacity units as dynalite reports them (ReturnConsumedCapacity TOTAL); "1M" = per 1,000,000 hashes.');
  console.log(`Cases: ${CASES.join(', ')} (LEDGERSEAL_BENCH_CASES).\n`);
  if (wants('2')) {
    const fresh = await start(1000);
    try {
      conditions('a fresh runner (empty table), 1 s rounds, after a warm-up of 300 one-hash requests and their confirmation (not measured)');
      await warmUp(fresh);
      await latency(fresh, '2');
      report(fresh);
    } finally {
      await stop(fresh);
    }
  }
  if (wants('1') || wants('2b')) {
    const a = await start(1000);
    try {
      if (wants('1')) {
        conditions('a fresh runner, 1 s rounds; the cases below run one after the other on it, each waiting until the batches of the one before are confirmed');
        await intake(a);
      }
      if (wants('2b')) {
        conditions(`case 2 again, on the runner of case 1 after it (${wants('1') ? 'its table holds the ~2 million hashes and ~10,000 batches case 1 wrote' : 'case 1 did not run: a fresh runner'})`);
        await latency(a, '2b');
      }
      report(a);
    } finally {
      await stop(a);
    }
  }
  if (wants('3a')) {
    // Fresh runners for the 1,000,000-hash cases, so their RSS does not carry what the cases above left.
    const c = await start(1000);
    try {
      conditions('a fresh runner, 1 s rounds');
      await millionLive(c);
      report(c);
    } finally {
      await stop(c);
    }
  }
  if (wants('3b') || wants('4')) {
    const b = await start(3_600_000);
    try {
      if (wants('3b')) {
        conditions('a fresh runner whose scheduler waits an hour, so the round runs only when called');
        await bigRound(b);
      }
      if (wants('4')) {
        conditions(`no rounds running; ${wants('3b') ? "on the runner of case 3b after it (its table holds the 1,000,000 hashes of 3b)" : 'a fresh runner'}; each layer is measured after a warm-up as long as the measured run (at most 1,500 requests)`);
        await layers(b);
      }
      report(b);
    } finally {
      await stop(b);
    }
  }
  const m = process.memoryUsage();
  console.log(`\n### Memory\n\npeak RSS of the whole process over the service bench (sampled every 100 ms): ${mb(memory.peak)} MB; at the end: RSS ${mb(m.rss)} MB, heap used ${mb(m.heapUsed)} MB`);
}
