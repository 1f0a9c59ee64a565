/**
 * The web front through the API function as Lambda runs it (docs/deploy.md
 * "The web front"): functions/aws/api.ts invoked in process with API Gateway
 * HTTP API payload 2.0 events, its package laid out as sst.config.ts declares
 * it (each `copyFiles` entry of the ApiHandler copied under a temporary
 * LAMBDA_TASK_ROOT), its links as SST_RESOURCE_<Name> variables, dynalite as
 * the table. Bodies are compared byte for byte with web/dist (built by
 * `npm test` first, or here when missing), after undoing what
 * hono/aws-lambda and the app did to them: base64 for binary types and for
 * gzip, which the app applies to text when the request accepts it.
 */
import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCosignerKey } from '../../sdk/src/cosignature.ts';
import { generateAdminToken } from '../../functions/api/auth.ts';
import { renderExplorer } from '../../functions/api/explorer-html.ts';
import { DOCS_CSP, GZIP_MIN_BYTES, WEB_CSP } from '../../functions/api/web.ts';
import { defaultValidatorSet } from '../../functions/ledger/keys.ts';
import { DynamoStore } from '../../functions/store/dynamo-store.ts';
import { createDynamoClient, type DynaliteEngine, startDynalite } from '../../functions/store/dynalite.ts';
import { ensureTable } from '../../functions/store/table.ts';
import { ensureWebBuilt } from '../web/chromium.ts';
import { httpEvent, type HttpResult, lambdaContext } from './lambda-events.ts';
import { evaluateConfig, type FunctionDecl } from './sst-stand-ins.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const DIST = join(ROOT, 'web/dist');
/** A binary asset added to the package only (the build has none): bytes that are not UTF-8. */
const PROBE = `probe-${randomBytes(4).toString('hex')}.png`;
const PROBE_BYTES = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0xff, 0xfe, 0x00]), randomBytes(4096)]);

let fn: FunctionDecl;
let handler: (event: unknown, context: unknown) => Promise<HttpResult>;
let engine: DynaliteEngine;
let pkg: string;
let store: DynamoStore;
let client: ReturnType<typeof createDynamoClient>;
let validatorSet: ReturnType<typeof defaultValidatorSet>;
const savedEnv = { ...process.env };

const dist = (file: string): Buffer => readFileSync(join(DIST, file));
const asset = (prefix: string, ext: string): string => readdirSync(join(DIST, 'assets')).find((f) => f.startsWith(prefix) && f.endsWith(ext))!;

async function get(path: string, headers: Record<string, string> = {}): Promise<HttpResult & { bytes: Buffer; headers: Record<string, string> }> {
  const r = await handler(httpEvent('GET', path, { headers: { accept: '*/*', ...headers } }), lambdaContext(fn.name, fn.args.timeout));
  const raw = r.isBase64Encoded ? Buffer.from(r.body, 'base64') : Buffer.from(r.body, 'utf8');
  const h = r.headers ?? {};
  return { ...r, headers: h, bytes: h['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw };
}

beforeAll(async () => {
  ensureWebBuilt('index.html');
  const cfg = await evaluateConfig('dev');
  fn = cfg.functions.find((f) => f.name === 'ApiHandler')!;
  // The function package: what copyFiles puts in it, relative to its root.
  pkg = mkdtempSync(join(tmpdir(), 'ls-api-package-'));
  for (const c of fn.args.copyFiles as { from: string; to: string }[]) cpSync(join(ROOT, c.from), join(pkg, c.to), { recursive: true });
  writeFileSync(join(pkg, 'web/dist/assets', PROBE), PROBE_BYTES);

  engine = await startDynalite();
  const table = `web-${randomBytes(3).toString('hex')}`;
  client = createDynamoClient(engine.endpoint);
  await ensureTable(client, table);
  store = new DynamoStore(client, table);
  const origin = cfg.outputs.origin as string;
  validatorSet = defaultValidatorSet(origin, [{ name: 'validator-1', ...generateCosignerKey('validator-1') }]);
  const resources: Record<string, unknown> = {
    App: { name: 'ledgerseal', stage: 'dev' },
    LedgerTable: { name: table, type: 'sst.aws.Dynamo' },
    ValidatorSet: { value: JSON.stringify(validatorSet), type: 'sst.sst.Secret' },
    AdminKeyHash: { value: generateAdminToken().keyHash, type: 'sst.sst.Secret' },
    WebhookSealingKeys: { value: `k1:${randomBytes(32).toString('base64')}`, type: 'sst.sst.Secret' },
  };
  expect(Object.keys(resources).filter((k) => k !== 'App').sort()).toEqual([...fn.links].sort());
  Object.assign(process.env, {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'AKIDTEST',
    AWS_SECRET_ACCESS_KEY: 'test-secret',
    AWS_ENDPOINT_URL_DYNAMODB: engine.endpoint,
    AWS_LAMBDA_FUNCTION_NAME: 'ledgerseal-dev-ApiHandler',
    LAMBDA_TASK_ROOT: pkg,
    ...fn.args.environment,
    ...Object.fromEntries(Object.entries(resources).map(([k, v]) => [`SST_RESOURCE_${k}`, JSON.stringify(v)])),
  });
  delete process.env.AWS_PROFILE;
  const { setTestHooks } = await import('../../functions/aws/resources.ts');
  setTestHooks({ log: { info: () => {}, warn: () => {}, error: () => {} } });
  handler = ((await import(pathToFileURL(join(ROOT, fn.file)).href)) as Record<string, typeof handler>)[fn.exportName]!;
});

afterAll(async () => {
  process.env = savedEnv;
  client?.destroy();
  await engine?.close();
  if (pkg) rmSync(pkg, { recursive: true, force: true });
});

describe('the web front through the API function (API Gateway HTTP API, payload 2.0)', () => {
  it('GET / is web/dist/index.html byte for byte, with its CSP, revalidated on every load', async () => {
    const r = await get('/');
    expect(r.statusCode).toBe(200);
    expect(r.isBase64Encoded).toBe(false);
    expect(r.headers).toMatchObject({
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-cache',
      'content-security-policy': WEB_CSP,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      vary: 'accept-encoding',
    });
    expect(r.headers['content-encoding']).toBeUndefined();
    expect(r.bytes.equals(dist('index.html'))).toBe(true);
  });

  it('GET / gzipped when the request accepts it: base64 through API Gateway, the same bytes once decoded', async () => {
    const r = await get('/', { 'accept-encoding': 'gzip, deflate, br' });
    expect([r.statusCode, r.isBase64Encoded, r.headers['content-encoding'], r.headers.vary]).toEqual([200, true, 'gzip', 'accept-encoding']);
    expect(r.bytes.equals(dist('index.html'))).toBe(true);
    expect(Buffer.from(r.body, 'base64').length).toBeLessThan(dist('index.html').length);
    // gzip;q=0 refuses it (RFC 9110 12.5.3).
    const refused = await get('/', { 'accept-encoding': 'gzip;q=0, identity' });
    expect([refused.isBase64Encoded, refused.headers['content-encoding']]).toEqual([false, undefined]);
    expect(refused.bytes.equals(dist('index.html'))).toBe(true);
  });

  it('GET /explorer is web/dist/explorer.html with the ledger rendered in (explorer-html.ts), byte for byte', async () => {
    const r = await get('/explorer');
    expect(r.statusCode).toBe(200);
    expect(r.headers).toMatchObject({ 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache', 'content-security-policy': WEB_CSP });
    const expected = await renderExplorer(dist('explorer.html').toString('utf8'), { store, validatorSet }, undefined);
    expect(r.bytes.toString('utf8')).toBe(expected);
  });

  it('GET /docs is web/dist/docs.html with the reference policy (inline styles, no inline scripts)', async () => {
    const r = await get('/docs', { 'accept-encoding': 'gzip' });
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-security-policy']).toBe(DOCS_CSP);
    expect(r.bytes.equals(dist('docs.html'))).toBe(true);
  });

  it('GET /assets/*.js: the file byte for byte, cached for a year as immutable, plain or gzipped', async () => {
    const name = asset('index-', '.js');
    expect(dist(`assets/${name}`).length).toBeGreaterThanOrEqual(GZIP_MIN_BYTES);
    const plain = await get(`/assets/${name}`);
    expect(plain.statusCode).toBe(200);
    expect(plain.isBase64Encoded).toBe(false);
    expect(plain.headers).toMatchObject({ 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'public, max-age=31536000, immutable', 'content-security-policy': WEB_CSP });
    expect(plain.bytes.equals(dist(`assets/${name}`))).toBe(true);
    for (let i = 0; i < 2; i++) {
      // The second time from the process's gzip of that asset.
      const gz = await get(`/assets/${name}`, { 'accept-encoding': 'gzip' });
      expect([gz.isBase64Encoded, gz.headers['content-encoding']]).toEqual([true, 'gzip']);
      expect(gz.bytes.equals(dist(`assets/${name}`))).toBe(true);
    }
  });

  it("Redoc's 1.1 MB file goes out gzipped, well under Lambda's 6 MB response limit", async () => {
    const name = asset('redoc.standalone-', '.js');
    const r = await get(`/assets/${name}`, { 'accept-encoding': 'gzip' });
    expect(r.bytes.equals(dist(`assets/${name}`))).toBe(true);
    expect(Buffer.from(r.body, 'base64').length).toBeLessThan(dist(`assets/${name}`).length / 2);
  });

  it('a small asset is sent as it is, gzip accepted or not', async () => {
    const name = readdirSync(join(DIST, 'assets')).find((f) => f.endsWith('.js') && dist(`assets/${f}`).length < GZIP_MIN_BYTES)!;
    const r = await get(`/assets/${name}`, { 'accept-encoding': 'gzip' });
    expect([r.statusCode, r.isBase64Encoded, r.headers['content-encoding'], r.headers.vary]).toEqual([200, false, undefined, undefined]);
    expect(r.bytes.equals(dist(`assets/${name}`))).toBe(true);
  });

  it('a binary asset is base64 (hono/aws-lambda, by its content type), never gzipped, byte for byte', async () => {
    const r = await get(`/assets/${PROBE}`, { 'accept-encoding': 'gzip' });
    expect([r.statusCode, r.isBase64Encoded, r.headers['content-type'], r.headers['content-encoding']]).toEqual([200, true, 'image/png', undefined]);
    expect(r.bytes.equals(PROBE_BYTES)).toBe(true);
  });

  it('a missing asset, and a path out of assets/, are the problem+json 404', async () => {
    for (const path of ['/assets/index-00000000.js', '/assets/..%2Findex.html', '/assets/.hidden']) {
      const r = await get(path);
      expect([r.statusCode, r.isBase64Encoded, r.headers['content-type']], path).toEqual([404, false, 'application/problem+json']);
      expect(JSON.parse(r.body), path).toMatchObject({ status: 404 });
    }
  });
});
