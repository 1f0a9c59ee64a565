/**
 * Webhook delivery benchmarks (issue 8): `npm run bench -- webhooks`.
 *
 *  1. Throughput: events already in the outbox, delivered by one worker
 *     (drain()) to a receiver on 127.0.0.1 that answers 204 at once; one
 *     endpoint, then four endpoints of one agency (fan-out). Side by side with
 *     two floors on the same machine: the same number of signed POSTs sent by
 *     a bare keep-alive HTTP client at the same concurrency (no store), and the
 *     store writes the worker makes per delivery sent raw (no HTTP).
 *  2. Latency: rounds every 200 ms with a batch each, the worker running in
 *     the background as in `npm start` (woken by each round); for every
 *     round.finalized, the time from the block's finalizedAt to the first
 *     request reaching the receiver: p50, p99, max.
 *
 * Everything in ONE Node process: dynalite, the service, the worker and the
 * receiver. Goals: >= 1,000 deliveries/s; p99 finalization -> first attempt <= 1 s.
 */
import { randomBytes } from 'node:crypto';
import { Agent, createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { generateWebhookSecret, webhookHeaders } from '@ledgerseal/sdk';
import { generateToken } from '../functions/api/auth.ts';
import { type Config, loadConfig } from '../functions/config.ts';
import { defaultValidatorSet, type ValidatorKey } from '../functions/ledger/keys.ts';
import { generateCosignerKey } from '@ledgerseal/sdk';
import { silentLogger } from '../functions/services.ts';
import { DynamoStore } from '../functions/store/dynamo-store.ts';
import { createDynamoClient, startDynalite } from '../functions/store/dynalite.ts';
import type { LedgerEvent } from '../functions/store/port.ts';
import { ensureTable } from '../functions/store/table.ts';
import type { WebhookAttempt, WebhookMessage } from '../functions/store/webhook-port.ts';
import { envelope, messageId } from '../functions/webhooks/payloads.ts';
import { wire, type Ledger } from '../functions/wiring.ts';
import { percentile } from './_load.ts';
import { fmt, printTable } from './_table.ts';

const THROUGHPUT_EVENTS = Number(process.env['LEDGERSEAL_BENCH_WEBHOOK_EVENTS'] ?? 20_000);
const FANOUT_EVENTS = 5_000;
const FANOUT_ENDPOINTS = 4;
const LATENCY_ROUNDS = 150;
const ROUND_EVERY_MS = 200;
const ORIGIN = 'ledgerseal.bench/webhooks';

interface Rx {
  url: string;
  count: number;
  first: Map<string, number>;
  close(): Promise<void>;
}

async function receiver(): Promise<Rx> {
  const rx = { count: 0, first: new Map<string, number>() } as Rx;
  const server: Server = createServer((req, res) => {
    req.on('data', () => {});
    req.on('end', () => {
      rx.count++;
      const id = String(req.headers['webhook-id']);
      if (!rx.first.has(id)) rx.first.set(id, Date.now());
      res.writeHead(204).end();
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  rx.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
  rx.close = async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  };
  return rx;
}

interface Setup {
  ledger: Ledger;
  store: DynamoStore;
  apiKey: string;
  close(): Promise<void>;
}

async function setup(engineEndpoint: string, table: string): Promise<Setup> {
  const client = createDynamoClient(engineEndpoint);
  await ensureTable(client, table);
  const store = new DynamoStore(client, table);
  const admin = generateToken('admin');
  const loaded = loadConfig({});
  const key: ValidatorKey = { name: 'validator-1', ...generateCosignerKey('validator-1') };
  const config: Config = {
    ...loaded,
    origin: ORIGIN,
    adminKeyHash: admin.keyHash,
    rateLimit: { perSecond: 0, burst: 1 },
    webhooks: { ...loaded.webhooks, allowLoopback: true, secretKeys: [{ id: 'bench', key: new Uint8Array(randomBytes(32)) }], pollMs: 1_000 },
  };
  const ledger = wire({ config, store, validatorKeys: [key], validatorSet: defaultValidatorSet(ORIGIN, [key]), log: silentLogger });
  const res = await ledger.app.request('/v1/agencies', {
    method: 'POST',
    headers: { authorization: `Bearer ${admin.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'Bench Registry' }),
  });
  const { apiKey } = (await res.json()) as { apiKey: string };
  return { ledger, store, apiKey, close: async () => { await ledger.close(); client.destroy(); } };
}

async function addEndpoint(s: Setup, url: string, eventTypes: string[]): Promise<{ id: string; secret: string }> {
  const res = await s.ledger.app.request('/v1/webhook-endpoints', {
    method: 'POST',
    headers: { authorization: `Bearer ${s.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ url, eventTypes }),
  });
  if (res.status !== 201) throw new Error(`endpoint: ${res.status} ${await res.text()}`);
  return (await res.json()) as { id: string; secret: string };
}

function faults(n: number): LedgerEvent[] {
  const at = new Date().toISOString();
  return Array.from({ length: n }, (_, i) => ({
    id: `validator.fault:${i}:validator-9:timeout`,
    type: 'validator.fault',
    time: at,
    data: { validator: 'validator-9', reason: 'timeout', height: i, detail: 'no answer in 5000 ms' },
  }));
}

async function putAll(store: DynamoStore, events: LedgerEvent[]): Promise<void> {
  for (let i = 0; i < events.length; i += 1_000) await store.putEvents(events.slice(i, i + 1_000), { derived: true });
}

/** Floor 1: the same signed POSTs from a bare keep-alive client at the worker's per-endpoint concurrency. */
async function httpFloor(url: string, events: LedgerEvent[], concurrency: number): Promise<number> {
  const secret = generateWebhookSecret();
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const bodies = events.map((e) => ({ id: messageId(e.id, e.time), body: envelope({ type: e.type, time: e.time, data: e.data }) }));
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < bodies.length) {
        const b = bodies[next++]!;
        const headers = webhookHeaders(secret, b.id, Math.floor(Date.now() / 1000), b.body);
        await new Promise<void>((resolve, reject) => {
          const req = request(url, { method: 'POST', agent, headers: { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(b.body) } }, (res) => {
            res.resume();
            res.on('end', resolve);
          });
          req.on('error', reject);
          req.end(b.body);
        });
      }
    }),
  );
  const ms = performance.now() - t0;
  agent.destroy();
  return ms;
}

/** Floor 2: the writes the worker makes per delivery (message, attempt; payload per event; marker deletes), sent raw. */
async function storeFloor(store: DynamoStore, n: number): Promise<number> {
  const at = new Date().toISOString();
  const expiresAt = new Date(Date.now() + 86_400_000).toISOString();
  const msgs: WebhookMessage[] = [];
  const atts: WebhookAttempt[] = [];
  for (let i = 0; i < n; i++) {
    const msgId = messageId(`floor:${i}`, at);
    const result = { at, attempt: 1, trigger: 'scheduled' as const, outcome: 'delivered' as const, httpStatus: 204, durationMs: 1 };
    msgs.push({ endpointId: 'ep_FLOOR', agencyId: 'A', msgId, eventId: `floor:${i}`, type: 'validator.fault', eventTime: at, createdAt: at, status: 'delivered', attempts: 1, scheduledAttempts: 0, deliveredAt: at, history: [result], expiresAt });
    atts.push({ ...result, endpointId: 'ep_FLOOR', agencyId: 'A', msgId, type: 'validator.fault', expiresAt });
  }
  const t0 = performance.now();
  for (let i = 0; i < n; i += 500) {
    await Promise.all([store.webhooks.putMessages(msgs.slice(i, i + 500)), store.webhooks.putAttempts(atts.slice(i, i + 500))]);
  }
  return performance.now() - t0;
}

export async function run(): Promise<void> {
  const engine = await startDynalite();
  let tables = 0;
  const table = (): string => `bench_wh_${++tables}`;
  try {
    // ---- 1. throughput --------------------------------------------------------------------
    const rows: (string | number)[][] = [];
    {
      const s = await setup(engine.endpoint, table());
      const rx = await receiver();
      await addEndpoint(s, rx.url, ['validator.fault']);
      const events = faults(THROUGHPUT_EVENTS);
      await putAll(s.store, events);
      const rss0 = process.memoryUsage().rss;
      const t0 = performance.now();
      await s.ledger.webhooks.drain();
      const ms = performance.now() - t0;
      const rss = process.memoryUsage().rss;
      if (rx.first.size !== THROUGHPUT_EVENTS) throw new Error(`delivered ${rx.first.size} of ${THROUGHPUT_EVENTS}`);
      rows.push([`worker, 1 endpoint (${s.ledger.config.webhooks.endpointConcurrency} in flight)`, THROUGHPUT_EVENTS, fmt(ms / 1000, 1), Math.round(THROUGHPUT_EVENTS / (ms / 1000)), fmt((rss - rss0) / 1e6, 0)]);
      const floorMs = await httpFloor(rx.url, events, s.ledger.config.webhooks.endpointConcurrency);
      rows.push([`floor: bare signed POSTs, ${s.ledger.config.webhooks.endpointConcurrency} in flight`, THROUGHPUT_EVENTS, fmt(floorMs / 1000, 1), Math.round(THROUGHPUT_EVENTS / (floorMs / 1000)), '']);
      const storeMs = await storeFloor(s.store, THROUGHPUT_EVENTS);
      rows.push(['floor: the store writes alone (message + attempt)', THROUGHPUT_EVENTS, fmt(storeMs / 1000, 1), Math.round(THROUGHPUT_EVENTS / (storeMs / 1000)), '']);
      await rx.close();
      await s.close();
    }
    {
      const s = await setup(engine.endpoint, table());
      const rxs = await Promise.all(Array.from({ length: FANOUT_ENDPOINTS }, () => receiver()));
      for (const rx of rxs) await addEndpoint(s, rx.url, ['validator.fault']);
      await putAll(s.store, faults(FANOUT_EVENTS));
      const t0 = performance.now();
      await s.ledger.webhooks.drain();
      const ms = performance.now() - t0;
      const n = FANOUT_EVENTS * FANOUT_ENDPOINTS;
      const got = rxs.reduce((a, r) => a + r.first.size, 0);
      if (got !== n) throw new Error(`delivered ${got} of ${n}`);
      rows.push([`worker, ${FANOUT_ENDPOINTS} endpoints (${FANOUT_EVENTS.toLocaleString('en-US')} events each)`, n, fmt(ms / 1000, 1), Math.round(n / (ms / 1000)), '']);
      for (const rx of rxs) await rx.close();
      await s.close();
    }
    console.log('Throughput: events in the outbox, drained to receivers answering 204 (goal >= 1,000 deliveries/s)\n');
    printTable(['case', 'deliveries', 's', 'deliveries/s', 'RSS growth MB'], rows);

    // ---- 2. latency -----------------------------------------------------------------------
    {
      const s = await setup(engine.endpoint, table());
      const rx = await receiver();
      await addEndpoint(s, rx.url, ['round.finalized']);
      s.ledger.webhooks.start();
      const heights: number[] = [];
      for (let i = 0; i < LATENCY_ROUNDS; i++) {
        const hash = randomBytes(32).toString('hex');
        await s.ledger.app.request('/v1/anchors', {
          method: 'POST',
          headers: { authorization: `Bearer ${s.apiKey}`, 'content-type': 'application/json' },
          body: JSON.stringify({ anchors: [{ hash }] }),
        });
        const o = await s.ledger.round();
        if (o.status === 'finalized' && o.height !== undefined) heights.push(o.height);
        await sleep(ROUND_EVERY_MS);
      }
      const deadline = Date.now() + 30_000;
      while (rx.first.size < heights.length && Date.now() < deadline) await sleep(50);
      const lat: number[] = [];
      for (const h of heights) {
        const block = await s.store.getBlock(h);
        const got = rx.first.get(messageId(`round.finalized:${h}`, block!.finalizedAt));
        if (got !== undefined) lat.push(got - Date.parse(block!.finalizedAt));
      }
      lat.sort((a, b) => a - b);
      console.log(`\nLatency: block finalizedAt -> first request at the receiver, ${lat.length} of ${heights.length} rounds (one every ~${ROUND_EVERY_MS} ms; goal p99 <= 1 s)\n`);
      printTable(['p50 ms', 'p90 ms', 'p99 ms', 'max ms'], [[percentile(lat, 50), percentile(lat, 90), percentile(lat, 99), lat.at(-1) ?? NaN]]);
      await rx.close();
      await s.close();
    }
  } finally {
    await engine.close();
  }
}
