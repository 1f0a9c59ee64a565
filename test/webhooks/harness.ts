/**
 * Webhook test harness: the wired service (wire(): API, rounds, the delivery
 * worker) over a fresh dynalite table with loopback targets allowed and a
 * compressed retry schedule, one agency, and real HTTP receivers on
 * 127.0.0.1 that record every request and answer as the test says.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { generateCosignerKey } from '../../sdk/src/cosignature.ts';
import { generateToken } from '../../functions/api/auth.ts';
import { type Config, loadConfig } from '../../functions/config.ts';
import { defaultValidatorSet } from '../../functions/ledger/keys.ts';
import type { Clock, LogFields, Logger } from '../../functions/services.ts';
import type { Sender } from '../../functions/webhooks/http-send.ts';
import { type Ledger, wire } from '../../functions/wiring.ts';
import { type TestStore, withStore } from '../helpers/dynalite.ts';

export const ORIGIN = 'ledgerseal.test/webhooks';
export const SEALING_KEY = { id: 'test', key: new Uint8Array(randomBytes(32)) };

export interface Delivery {
  n: number;
  id: string;
  timestamp: string;
  signature: string;
  body: string;
  receivedAt: number;
}

export type Answer = { status: number; body?: string; headers?: Record<string, string> } | 'hang';

export interface Receiver {
  url: string;
  deliveries: Delivery[];
  /** Resolves when `count` requests have arrived. */
  until(count: number): Promise<void>;
  /** Change how the next requests are answered. */
  answer: (d: Delivery) => Answer;
  close(): Promise<void>;
}

/** A receiver on 127.0.0.1; `answer` decides each response (default 204). Hung requests are released on close. */
export async function startReceiver(answer: (d: Delivery) => Answer = () => ({ status: 204 })): Promise<Receiver> {
  const deliveries: Delivery[] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  const hung: ServerResponse[] = [];
  const r = { answer } as Receiver;
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const h = (name: string): string => String(req.headers[name] ?? '');
      const d: Delivery = {
        n: deliveries.length + 1,
        id: h('webhook-id'),
        timestamp: h('webhook-timestamp'),
        signature: h('webhook-signature'),
        body: Buffer.concat(chunks).toString('utf8'),
        receivedAt: Date.now(),
      };
      deliveries.push(d);
      for (const w of [...waiters]) {
        if (deliveries.length >= w.count) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve();
        }
      }
      const a = r.answer(d);
      if (a === 'hang') {
        hung.push(res);
        return;
      }
      res.writeHead(a.status, a.headers ?? {});
      res.end(a.body ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return Object.assign(r, {
    url: `http://127.0.0.1:${port}/hooks`,
    deliveries,
    until: (count: number) =>
      deliveries.length >= count ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ count, resolve })),
    close: async () => {
      for (const res of hung) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  });
}

/** Verifies a delivery with the official `standardwebhooks` package; returns the parsed body or throws. */
export function officialVerify(secret: string, d: Delivery): { type: string; timestamp: string; data: Record<string, unknown> } {
  return new Webhook(secret).verify(d.body, { 'webhook-id': d.id, 'webhook-timestamp': d.timestamp, 'webhook-signature': d.signature }) as {
    type: string;
    timestamp: string;
    data: Record<string, unknown>;
  };
}

export interface Harness {
  ledger: Ledger;
  ts: TestStore;
  config: Config;
  logs: (LogFields & { level: string })[];
  call(method: string, path: string, opts?: { token?: string; body?: unknown }): Promise<Response>;
  agency(name?: string): Promise<{ id: string; apiKey: string }>;
  /** Registers an endpoint through the API; returns its id and secret. */
  endpoint(apiKey: string, body: Record<string, unknown>): Promise<{ id: string; secret: string }>;
  /** Submits n anchors for an agency and runs a round: one batch confirmed. */
  confirmBatch(apiKey: string, n: number, seed?: number, recordKeys?: boolean): Promise<string>;
  close(): Promise<void>;
}

export async function harness(opts: { env?: Record<string, string>; clock?: Clock; sender?: Sender; config?: Partial<Config['webhooks']> } = {}): Promise<Harness> {
  const ts = await withStore();
  const admin = generateToken('admin');
  const key = { name: 'validator-1', ...generateCosignerKey('validator-1') };
  const loaded = loadConfig({ LEDGERSEAL_WEBHOOK_RETRY_SCHEDULE: '0,0,0', LEDGERSEAL_WEBHOOK_TIMEOUT_MS: '5000', ...opts.env });
  const config: Config = {
    ...loaded,
    origin: ORIGIN,
    adminKeyHash: admin.keyHash,
    rateLimit: { perSecond: 0, burst: 1 },
    webhooks: { ...loaded.webhooks, allowLoopback: true, secretKeys: [SEALING_KEY], ...opts.config },
  };
  const logs: Harness['logs'] = [];
  const log: Logger = {
    info: (f) => void logs.push({ level: 'info', ...f }),
    warn: (f) => void logs.push({ level: 'warn', ...f }),
    error: (f) => void logs.push({ level: 'error', ...f }),
  };
  const ledger = wire({
    config,
    store: ts.store,
    validatorKeys: [key],
    validatorSet: defaultValidatorSet(ORIGIN, [key]),
    log,
    ...(opts.clock ? { clock: opts.clock } : {}),
    ...(opts.sender ? { webhookSender: opts.sender } : {}),
  });
  const call: Harness['call'] = async (method, path, o = {}) => {
    const headers: Record<string, string> = {};
    if (o.token) headers.authorization = `Bearer ${o.token}`;
    if (o.body !== undefined) headers['content-type'] = 'application/json';
    return ledger.app.request(path, { method, headers, ...(o.body !== undefined ? { body: JSON.stringify(o.body) } : {}) });
  };
  const h: Harness = {
    ledger,
    ts,
    config,
    logs,
    call,
    async agency(name = 'Land Registry') {
      const res = await call('POST', '/v1/agencies', { token: admin.token, body: { name } });
      if (res.status !== 201) throw new Error(`agency: ${res.status} ${await res.text()}`);
      return (await res.json()) as { id: string; apiKey: string };
    },
    async endpoint(apiKey, body) {
      const res = await call('POST', '/v1/webhook-endpoints', { token: apiKey, body });
      if (res.status !== 201) throw new Error(`endpoint: ${res.status} ${await res.text()}`);
      return (await res.json()) as { id: string; secret: string };
    },
    async confirmBatch(apiKey, n, seed = 0, recordKeys = true) {
      const anchors = Array.from({ length: n }, (_, i) => ({
        hash: (seed * 1_000_003 + i + 1).toString(16).padStart(64, '0'),
        ...(recordKeys && { recordKey: `parcel/${seed}/${i}` }),
      }));
      const res = await call('POST', '/v1/anchors', { token: apiKey, body: { anchors } });
      if (res.status !== 202) throw new Error(`anchors: ${res.status} ${await res.text()}`);
      const { batchId } = (await res.json()) as { batchId: string };
      const outcome = await ledger.round();
      if (outcome.status !== 'finalized') throw new Error(`round: ${outcome.status}`);
      return batchId;
    },
    async close() {
      await ledger.close();
      await ts.close();
    },
  };
  return h;
}
