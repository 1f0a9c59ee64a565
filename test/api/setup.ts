/**
 * Test fixture for the HTTP API: the real app over a real DynamoStore on a
 * fresh dynalite table, a settable clock, captured log lines, an admin and a
 * coordinator token, and a one- or four-validator set with real keys.
 */
import { generateCosignerKey } from '../../sdk/src/cosignature.ts';
import type { ValidatorSet } from '../../sdk/src/validator-set.ts';
import { generateToken } from '../../functions/api/auth.ts';
import { createApp, type LedgersealApp } from '../../functions/app.ts';
import { type Config, loadConfig } from '../../functions/config.ts';
import { defaultValidatorSet } from '../../functions/ledger/keys.ts';
import type { Clock, LogFields, Logger, Services, ValidatorService } from '../../functions/services.ts';
import type { Store } from '../../functions/store/port.ts';
import { memoryStateStore } from '../../functions/validator/file-state-store.ts';
import { httpLedgerSource, type LedgerSource } from '../../functions/validator/ledger-source.ts';
import { Validator } from '../../functions/validator/validator.ts';
import { type TestStore, withStore } from '../helpers/dynalite.ts';
import type { LaggingEngine } from '../helpers/lagging-engine.ts';

export const ORIGIN = 'ledgerseal.test/api';

export interface Fixture {
  app: LedgersealApp;
  services: Services;
  ts: TestStore;
  store: Store;
  logs: (LogFields & { level: string })[];
  clock: Clock & { set(iso: string): void; advance(ms: number): void };
  adminToken: string;
  coordinatorToken: string;
  validatorKeys: { name: string; signerKey: string; verifierKey: string }[];
  /** The app's public API as a validator's LedgerSource. */
  source: LedgerSource;
  /** JSON request helper: returns the Response. */
  call(method: string, path: string, opts?: { token?: string; body?: unknown; raw?: string; headers?: Record<string, string> }): Promise<Response>;
  /** Creates an agency through the API; returns its id and first key. */
  agency(name?: string): Promise<{ id: string; apiKey: string; keyId: string }>;
  close(): void;
}

export interface FixtureOptions {
  config?: Partial<Config>;
  validators?: number;
  /** The validator behind POST /v1/validator/sign; `source` is this app's public API (hostedValidator builds one). */
  validator?: (f: { store: Store; set: ValidatorSet; keys: Fixture['validatorKeys']; source: LedgerSource }) => ValidatorService;
  /** Wrap the store (fault injection around the real engine). */
  wrapStore?: (store: Store) => Store;
  /** Serve the store's eventually consistent reads from a lagging view (and delay writes, if the engine says so). */
  lagging?: LaggingEngine;
  /** The client address the platform adapter would report (default: none, every client shares one bucket). */
  clientAddress?: Services['clientAddress'];
}

export async function fixture(opts: FixtureOptions = {}): Promise<Fixture> {
  const ts = await withStore(opts.lagging ? { lagging: opts.lagging } : {});
  const store = opts.wrapStore ? opts.wrapStore(ts.store) : ts.store;
  let now = Date.parse('2026-11-22T04:32:16.123Z');
  const clock = {
    now: () => new Date(now),
    set: (iso: string) => void (now = Date.parse(iso)),
    advance: (ms: number) => void (now += ms),
  };
  const logs: Fixture['logs'] = [];
  const log: Logger = {
    info: (f) => void logs.push({ level: 'info', ...f }),
    warn: (f) => void logs.push({ level: 'warn', ...f }),
    error: (f) => void logs.push({ level: 'error', ...f }),
  };
  const admin = generateToken('admin');
  const coordinator = generateToken('coordinator');
  const validatorKeys = Array.from({ length: opts.validators ?? 1 }, (_, i) => {
    const name = `validator-${i + 1}`;
    return { name, ...generateCosignerKey(name) };
  });
  const validatorSet = defaultValidatorSet(ORIGIN, validatorKeys);
  const config: Config = {
    ...loadConfig({}),
    origin: ORIGIN,
    adminKeyHash: admin.keyHash,
    coordinatorKeyHash: coordinator.keyHash,
    rateLimit: { perSecond: 0, burst: 1 },
    verifyLimit: { perSecond: 0, burst: 1, globalPerSecond: 0 },
    ...opts.config,
  };
  const services: Services = { store, config, validatorSet, clock, log, ...(opts.clientAddress ? { clientAddress: opts.clientAddress } : {}) };
  let built: LedgersealApp | undefined;
  const source = httpLedgerSource({ url: 'http://ledgerseal.test', fetch: (url, init) => built!.request(url, init) });
  if (opts.validator) services.validator = opts.validator({ store, set: validatorSet, keys: validatorKeys, source });
  const app = createApp(services);
  built = app;

  const call: Fixture['call'] = (method, path, o = {}) => {
    const headers: Record<string, string> = { ...o.headers };
    if (o.token) headers.authorization = `Bearer ${o.token}`;
    let body: string | undefined = o.raw;
    if (o.body !== undefined) {
      body = JSON.stringify(o.body);
      headers['content-type'] ??= 'application/json';
    }
    return Promise.resolve(app.request(path, { method, headers, ...(body !== undefined ? { body } : {}) }));
  };

  const agency: Fixture['agency'] = async (name = 'Land Registry') => {
    const res = await call('POST', '/v1/agencies', { token: admin.token, body: { name } });
    if (res.status !== 201) throw new Error(`agency creation failed: ${res.status} ${await res.text()}`);
    const body = (await res.json()) as { id: string; apiKey: string; keyId: string };
    return body;
  };

  return { app, services, ts, store, logs, clock, adminToken: admin.token, coordinatorToken: coordinator.token, validatorKeys, source, call, agency, close: ts.close };
}

export const hex = (byte: number): string => byte.toString(16).padStart(2, '0').repeat(32);

/** n distinct valid anchor hashes. */
export function hashes(n: number, seed = 0): string[] {
  return Array.from({ length: n }, (_, i) => (seed * 1_000_003 + i).toString(16).padStart(64, '0'));
}

export const PROBLEM = 'https://ledgerseal.dev/problems/';

/** Assert-free helper: the parsed problem body plus status and content type. */
export async function problem(res: Response): Promise<{ status: number; contentType: string | null; body: Record<string, any> }> {
  return { status: res.status, contentType: res.headers.get('content-type'), body: (await res.json()) as Record<string, any> };
}

/** A validator with its own state in memory that reads the ledger through `source` (the fixture app's public API). */
export function hostedValidator(
  f: { set: ValidatorSet; keys: Fixture['validatorKeys']; source: LedgerSource },
  opts: { index?: number; now?: () => Date } = {},
): Validator {
  const k = f.keys[opts.index ?? 0]!;
  return new Validator({
    name: k.name,
    signerKey: k.signerKey,
    origin: ORIGIN,
    validatorSet: f.set,
    state: memoryStateStore({ name: k.name, origin: ORIGIN }),
    source: f.source,
    ...(opts.now ? { now: opts.now } : {}),
  });
}
