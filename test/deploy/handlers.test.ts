/**
 * The Lambda handlers (functions/aws/), invoked in process with the events AWS
 * sends, against dynalite, with their resources supplied as SST supplies them
 * (docs/deploy.md "What is checked offline"):
 *
 * - the DynamoDB client finds dynalite through AWS_ENDPOINT_URL_DYNAMODB (the
 *   standard AWS SDK configuration; the code names no endpoint);
 * - `Resource.X` reads SST_RESOURCE_<Name> variables (one JSON object per
 *   resource, as `sst shell` and `sst dev` set them), and each function sees
 *   only what sst.config.ts links to it (a read of anything else throws, as in
 *   AWS), every read recorded;
 * - the environment and the schedule events are those the evaluated
 *   sst.config.ts declares.
 *
 * An agency is created and anchors are submitted through the API handler
 * (HTTP API payload 2.0), the rounds handler (an EventBridge Scheduler event)
 * finalizes them by asking the four validator functions over HTTP (each its
 * own handler, key and state table, served as a function URL serves it, and
 * reading the ledger only through the API), several rounds in one run, and
 * the proof fetched through the API handler verifies with the sdk.
 * Webhooks: the deployed configuration refuses loopback targets, both when an
 * endpoint is saved and when a stored target turns out to be loopback at send
 * time; delivery itself is shown to a loopback receiver with a test sender
 * injected into a fresh container (setTestHooks), never by configuration.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { verifyProof } from '../../sdk/src/index.ts';
import { generateAdminToken } from '../../functions/api/auth.ts';
import { DynamoStore } from '../../functions/store/dynamo-store.ts';
import { createDynamoClient, type DynaliteEngine, startDynalite } from '../../functions/store/dynalite.ts';
import { ensureTable } from '../../functions/store/table.ts';
import { createSender } from '../../functions/webhooks/http-send.ts';
import { officialVerify, startReceiver, type Receiver } from '../webhooks/harness.ts';
import { type HostedValidators, type Served, serveLambda, startHostedValidators } from './http-validators.ts';
import { httpEvent, type HttpResult, lambdaContext, scheduleEvent } from './lambda-events.ts';
import { type Evaluated, evaluateConfig, type FunctionDecl, resourceShape } from './sst-stand-ins.ts';

type Handler = (event: any, context: any) => Promise<any>;

// Resource (sst) keeps what it loaded in globalThis.__SST_RESOURCE_RAW__. Installed before
// `sst` is first imported, this view shows a function only its links and records every read.
const loaded: Record<string, unknown> = {};
let current: FunctionDecl | undefined;
const reads = new Map<string, Set<string>>();
const visible = (p: string): boolean => p === 'App' || current === undefined || current.links.includes(p);
const record = (p: string | symbol): void => {
  if (current && typeof p === 'string') (reads.get(current.name) ?? reads.set(current.name, new Set()).get(current.name)!).add(p);
};
(globalThis as Record<string, unknown>).__SST_RESOURCE_RAW__ = new Proxy(loaded, {
  has: (t, p) => (record(p), typeof p === 'string' ? visible(p) && p in t : p in t),
  get: (t, p) => (record(p), typeof p === 'string' && !visible(p) ? undefined : t[p as string]),
  set: (t, p, v) => ((t[p as string] = v), true),
  ownKeys: (t) => Reflect.ownKeys(t).filter((k) => typeof k !== 'string' || visible(k)),
  getOwnPropertyDescriptor: (t, p) => (typeof p === 'string' && !visible(p) ? undefined : Reflect.getOwnPropertyDescriptor(t, p)),
});

const TABLE = `ledgerseal-dev-LedgerTable-${randomBytes(4).toString('hex')}`;
const admin = generateAdminToken();
const coordinatorToken = generateAdminToken().token;
const sealingKey = `k1:${randomBytes(32).toString('base64')}`;

let cfg: Evaluated;
let engine: DynaliteEngine;
let validators: HostedValidators;
let apiServer: Served;
let receiver: Receiver;
const savedEnv = { ...process.env };

/** Invoke a function as Lambda would: its links only, its context (timeout from the config). */
async function invoke(name: string, event: unknown, file?: string): Promise<any> {
  const fn = cfg.functions.find((f) => f.name === name)!;
  const mod = (await import(`../../${file ?? fn.file}`)) as Record<string, Handler>;
  current = fn;
  try {
    return await mod[fn.exportName]!(event, lambdaContext(name, fn.args.timeout));
  } finally {
    current = undefined;
  }
}

async function api(method: string, path: string, opts: Parameters<typeof httpEvent>[2] = {}): Promise<{ status: number; body: any; headers: Record<string, string> }> {
  const r = (await invoke('ApiHandler', httpEvent(method, path, opts))) as HttpResult;
  expect(r.isBase64Encoded).toBe(false);
  return { status: r.statusCode, body: r.body ? JSON.parse(r.body) : undefined, headers: r.headers ?? {} };
}

const cron = (name: 'RoundsHandler' | 'WebhooksHandler' | 'PublishHandler') => {
  const fn = cfg.functions.find((f) => f.name === name)!;
  if (fn.via.kind !== 'CronV2') throw new Error(`${name} is not on a cron`);
  return invoke(name, scheduleEvent(fn.via.event!, fn.via.cron));
};

beforeAll(async () => {
  cfg = await evaluateConfig('dev');
  engine = await startDynalite();
  const client = createDynamoClient(engine.endpoint);
  await ensureTable(client, TABLE);
  client.destroy();
  const origin = cfg.outputs.origin as string;
  // The validator functions, each over its own state table, reached by the coordinator with its token;
  // the API served on loopback too, as the public API they catch up from.
  validators = await startHostedValidators({
    functions: cfg.functions,
    origin,
    endpoint: engine.endpoint,
    coordinatorToken,
    ledgerUrl: () => apiServer.url,
  });
  apiServer = await serveLambda(async (event, context) => {
    const fn = cfg.functions.find((f) => f.name === 'ApiHandler')!;
    const mod = (await import(`../../${fn.file}`)) as Record<string, Handler>;
    return mod[fn.exportName]!(event, context); // its resources were read by the first API test
  });
  receiver = await startReceiver();

  // What Lambda and SST put in the environment.
  const secrets: Record<string, string> = {
    AdminKeyHash: admin.keyHash,
    CoordinatorToken: coordinatorToken,
    WebhookSealingKeys: sealingKey,
    ValidatorSet: JSON.stringify(validators.set),
    // Every validator is hosted here (HostedValidators); none run elsewhere.
    ValidatorEndpoints: '[]',
  };
  const resources: Record<string, unknown> = { App: { name: 'ledgerseal', stage: 'dev' } };
  for (const c of cfg.components.filter((x) => ['Dynamo', 'Secret', 'Linkable'].includes(x.kind))) {
    resources[c.name] = c.kind === 'Dynamo' ? { ...resourceShape(c), name: TABLE } : c.kind === 'Secret' ? { ...resourceShape(c), value: secrets[c.name] } : resourceShape(c);
  }
  Object.assign(resources, validators.resources, {
    HostedValidators: { ...resourceShape(cfg.byName('HostedValidators')), endpoints: Object.fromEntries(validators.validators.map((v) => [v.name, v.served.url])) },
  });
  const env: Record<string, string> = {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'AKIDTEST',
    AWS_SECRET_ACCESS_KEY: 'test-secret',
    AWS_ENDPOINT_URL_DYNAMODB: engine.endpoint,
    AWS_LAMBDA_FUNCTION_NAME: 'ledgerseal-dev-test',
    ...cfg.functions[0]!.args.environment,
    // Test tunables: one batch per round (so catching up takes several rounds), webhook retries
    // after about a second, a verify limit of one request per address.
    LEDGERSEAL_MAX_BATCHES_PER_ROUND: '1',
    LEDGERSEAL_WEBHOOK_RETRY_SCHEDULE: '1,1,1',
    LEDGERSEAL_WEBHOOK_TIMEOUT_MS: '5000',
    LEDGERSEAL_VERIFY_RATE_LIMIT_PER_SECOND: '1',
    LEDGERSEAL_VERIFY_RATE_LIMIT_BURST: '1',
    LEDGERSEAL_VERIFY_MAX_PER_SECOND: '0',
  };
  for (const [k, v] of Object.entries(resources)) env[`SST_RESOURCE_${k}`] = JSON.stringify(v);
  delete process.env.AWS_PROFILE;
  Object.assign(process.env, env);
  const { setTestHooks } = await import('../../functions/aws/resources.ts');
  setTestHooks({ log: { info: () => {}, warn: () => {}, error: () => {} } });
  // Each validator function's first invocation (a container starting) reads its links, and only they are visible.
  for (const v of validators.validators) {
    current = v.decl;
    try {
      const r = (await v.handler(httpEvent('GET', '/v1/validator'), lambdaContext(v.decl.name, v.decl.args.timeout))) as HttpResult;
      expect(r.statusCode, r.body).toBe(200);
      expect(JSON.parse(r.body)).toMatchObject({ name: v.name, verifierKey: v.key.verifierKey, origin, size: 0 });
    } finally {
      current = undefined;
    }
    expect([...reads.get(v.decl.name)!].filter((p) => p !== 'App').sort()).toEqual([...v.decl.links].sort());
  }
});

afterAll(async () => {
  process.env = savedEnv;
  await receiver?.close();
  await validators?.close();
  await apiServer?.close();
  await engine?.close();
});


const hash = (): string => randomBytes(32).toString('hex');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** LEDGERSEAL_WEBHOOK_RETRY_SCHEDULE=1,1,1 with up to 20 % jitter. */
const RETRY_WAIT_MS = 1_300;

describe('the Lambda handlers, in process, against dynalite', () => {
  let apiKey = '';
  let agencyId = '';
  let endpoint: { id: string; secret: string };
  const anchorIds: string[] = [];
  /** Change the stored target behind the API's back (as DNS could). */
  const retarget = async (url: string): Promise<void> => {
    const client = createDynamoClient(engine.endpoint);
    try {
      await new DynamoStore(client, TABLE).webhooks.updateEndpoint(agencyId, endpoint.id, { url, updatedAt: new Date().toISOString() });
    } finally {
      client.destroy();
    }
  };

  it('API: creates an agency with the admin key (API Gateway HTTP API event, payload 2.0)', async () => {
    const unauthorized = await api('POST', '/v1/agencies', { body: { name: 'Land Registry' } });
    expect(unauthorized.status).toBe(401);
    const r = await api('POST', '/v1/agencies', { token: admin.token, body: { name: 'Land Registry' } });
    expect(r.status).toBe(201);
    ({ apiKey, id: agencyId } = r.body);
    expect(apiKey).toMatch(/^lsk_/);
    const set = await api('GET', '/v1/validators');
    expect(set.body).toEqual(validators.set);
  });

  it('API: the deployed configuration refuses a loopback (and http:) webhook target when an endpoint is saved', async () => {
    const r = await api('POST', '/v1/webhook-endpoints', { token: apiKey, body: { url: receiver.url } });
    expect(r.status).toBe(400);
    expect(r.body.type).toMatch(/webhook-target-refused$/);
    // A public address is accepted (an IP literal: no DNS lookup offline).
    const ok = await api('POST', '/v1/webhook-endpoints', { token: apiKey, body: { url: 'https://93.184.215.14/hooks', eventTypes: ['anchor.confirmed'] } });
    expect(ok.status).toBe(201);
    endpoint = { id: ok.body.id, secret: ok.body.secret };
  });

  it('API: accepts three batches of anchors (202)', async () => {
    for (let i = 0; i < 3; i++) {
      const r = await api('POST', '/v1/anchors', { token: apiKey, body: { anchors: [{ hash: hash() }, { hash: hash() }] } });
      expect(r.status).toBe(202);
      anchorIds.push(...r.body.anchors.map((a: { id: string }) => a.id));
    }
    const r = await api('GET', `/v1/anchors/${anchorIds[0]}`, { token: apiKey });
    expect(r.body.status).toBe('pending');
  });

  it('rounds: one scheduled run (EventBridge Scheduler event) drains several rounds, asking the validators over HTTP', async () => {
    // The endpoint's stored target now resolves to loopback (as after DNS rebinding): it must be refused at send time.
    await retarget(receiver.url.replace('http:', 'https:'));
    const run = await cron('RoundsHandler');
    // LEDGERSEAL_MAX_BATCHES_PER_ROUND=1: three batches take three rounds, then a round finds nothing.
    expect(run).toMatchObject({ rounds: 3, finalized: 3, stoppedBy: 'drained', statuses: ['finalized', 'finalized', 'finalized', 'empty'], anchors: 6 });
    for (const v of validators.validators) expect(v.served.calls('/v1/validator/sign'), v.name).toBe(3);
    // The rounds run made the first webhook attempts: refused (loopback), none reached the receiver.
    const msgs = await api('GET', `/v1/webhook-endpoints/${endpoint.id}/messages`, { token: apiKey });
    expect(msgs.body.items.length).toBe(3);
    for (const m of msgs.body.items) {
      expect(m.status).toBe('pending');
      expect(m.history.map((h: { error?: string }) => h.error)).toEqual([expect.stringMatching(/^refused-target: .*loopback/)]);
    }
    expect(receiver.deliveries).toHaveLength(0);
  });

  it('API: the proof fetched through the API handler verifies with the sdk (validator set as trust)', async () => {
    for (const id of anchorIds) {
      const r = await api('GET', `/v1/anchors/${id}`, { token: apiKey });
      expect(r.status).toBe(200);
      expect(r.body.status).toBe('confirmed');
      const v = verifyProof(r.body.proof, { validators: validators.set });
      expect(v.ok, JSON.stringify(v)).toBe(true);
    }
  });

  it('API: POST /v1/verify is limited per client address, taken from requestContext.http.sourceIp', async () => {
    const { body } = await api('GET', `/v1/anchors/${anchorIds[0]}`, { token: apiKey });
    const first = await api('POST', '/v1/verify', { body: { proof: body.proof }, sourceIp: '198.51.100.1' });
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    expect(first.body.ok).toBe(true);
    expect((await api('POST', '/v1/verify', { body: { proof: body.proof }, sourceIp: '198.51.100.1' })).status).toBe(429);
    // Another address has its own budget, whatever X-Forwarded-For claims.
    const other = await api('POST', '/v1/verify', { body: { proof: body.proof }, sourceIp: '198.51.100.2', headers: { 'x-forwarded-for': '198.51.100.1' } });
    expect(other.status).toBe(200);
  });

  it('publish: the scheduled publication job publishes the latest settled checkpoint', async () => {
    expect(await cron('PublishHandler')).toMatchObject({ status: 'published', size: 3 });
    expect(await cron('PublishHandler')).toEqual({ status: 'nothing-new' });
    const r = await api('GET', '/v1/publications');
    expect(r.status).toBe(200);
  });

  it('webhooks: with the deployed sender a stored loopback target stays refused (the retry, a minute later in AWS)', async () => {
    await sleep(RETRY_WAIT_MS);
    await cron('WebhooksHandler');
    const msgs = await api('GET', `/v1/webhook-endpoints/${endpoint.id}/messages`, { token: apiKey });
    for (const m of msgs.body.items) {
      expect(m.status).toBe('pending');
      expect(m.history.map((h: { error?: string }) => h.error)).toEqual(Array(2).fill(expect.stringMatching(/^refused-target: .*loopback/)));
    }
    expect(receiver.deliveries).toHaveLength(0);
  });

  it('webhooks: a fresh container with a loopback-allowing test sender delivers the retries, signed', async () => {
    // The receiver speaks plain HTTP; only the injected test sender allows http: and loopback.
    await retarget(receiver.url);
    vi.resetModules(); // a new container: the handler and its ledger are built again
    const { setTestHooks } = await import('../../functions/aws/resources.ts');
    const sender = createSender({ policy: { allowLoopback: true, allowHttp: true } });
    setTestHooks({ webhookSender: sender, log: { info: () => {}, warn: () => {}, error: () => {} } });
    try {
      await sleep(RETRY_WAIT_MS);
      await cron('WebhooksHandler');
    } finally {
      sender.close();
    }
    expect(receiver.deliveries).toHaveLength(3);
    const events = receiver.deliveries.map((d) => officialVerify(endpoint.secret, d));
    expect(events.every((e) => e.type === 'anchor.confirmed')).toBe(true);
    const msgs = await api('GET', `/v1/webhook-endpoints/${endpoint.id}/messages`, { token: apiKey });
    expect(msgs.body.items.every((m: { status: string }) => m.status === 'delivered')).toBe(true);
  });

  it('each function read only resources linked to it (as SST injects them), and read some', () => {
    for (const f of cfg.functions) {
      const got = [...(reads.get(f.name) ?? [])].filter((p) => p !== 'App');
      expect(got.length, `${f.name} read no resource`).toBeGreaterThan(0);
      expect(got.filter((p) => !f.links.includes(p)), `${f.name} read unlinked resources`).toEqual([]);
    }
  });

  it('a function reading a resource not linked to it fails as in AWS ("not linked")', async () => {
    const { Resource } = await import('sst');
    current = cfg.functions.find((f) => f.name === 'PublishHandler');
    try {
      expect(() => Resource.AdminKeyHash.value).toThrow(/not linked/);
      expect(Resource.LedgerTable.name).toBe(TABLE);
    } finally {
      current = undefined;
    }
  });
});
