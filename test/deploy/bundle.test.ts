/**
 * The API handler as SST deploys it: bundled the way SST 4 bundles it
 * (bench/_bundle.ts, with the esbuild plugins sst.config.ts names), run in a
 * fresh `node` process with only the bundle (no node_modules next to it, as
 * in the Lambda package), resources from SST_RESOURCE_<Name>, dynalite through
 * AWS_ENDPOINT_URL_DYNAMODB. It answers requests, validation included (zod
 * runs with only its English locale in the bundle), and serves the web front
 * from web/dist copied under LAMBDA_TASK_ROOT as sst.config.ts's `copyFiles`
 * lays it out (never from the bundle). The size goal (<= 1 MB minified) is
 * held here too; the timings are in the bench.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { gunzipSync } from 'node:zlib';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCosignerKey } from '../../sdk/src/cosignature.ts';
import { generateAdminToken } from '../../functions/api/auth.ts';
import { defaultValidatorSet } from '../../functions/ledger/keys.ts';
import { createDynamoClient, type DynaliteEngine, startDynalite } from '../../functions/store/dynalite.ts';
import { ensureTable } from '../../functions/store/table.ts';
import { sstBundle } from '../../bench/_bundle.ts';
import { PACKAGED_WEB_DIST } from '../../functions/aws/web-dist.ts';
import { ensureWebBuilt } from '../web/chromium.ts';
import { httpEvent } from './lambda-events.ts';

const DIST = resolve(import.meta.dirname, '../../web/dist');

const dir = mkdtempSync(join(tmpdir(), 'ls-bundle-'));
let engine: DynaliteEngine;
beforeAll(async () => {
  engine = await startDynalite();
});
afterAll(async () => {
  await engine?.close();
  rmSync(dir, { recursive: true, force: true });
});

const CHILD = `
const { handler } = await import(process.argv[2]);
const out = [];
for (const e of JSON.parse(process.argv[3])) {
  const r = await handler(e, { getRemainingTimeInMillis: () => 30000, awsRequestId: 'x' });
  out.push({ status: r.statusCode, body: r.body, base64: r.isBase64Encoded });
}
process.stdout.write('\\nRESULT ' + JSON.stringify(out) + '\\n');
`;

function run(args: string[], env: Record<string, string>): Promise<string> {
  return new Promise((done, fail) => {
    const c = spawn(process.execPath, args, { env, cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    c.stderr.on('data', (d: Buffer) => (err += d.toString()));
    c.on('error', fail);
    c.on('close', (code) => (code === 0 ? done(out) : fail(new Error(`exit ${code}: ${err}`))));
  });
}

describe('the API bundle as SST builds it', () => {
  it('is at most 1 MB minified, bundles the AWS SDK, and serves requests from a bare directory', { timeout: 120_000 }, async () => {
    const b = await sstBundle('functions/aws/api.ts', join(dir, 'api', 'bundle.mjs'));
    expect(b.bytes).toBeLessThanOrEqual(1_048_576);
    expect(b.packages.has('@aws-sdk/client-dynamodb')).toBe(true);
    expect(b.packages.has('dynalite')).toBe(false); // the local engine never reaches a Lambda
    // The web front is files in the package, not modules of the bundle.
    ensureWebBuilt('index.html');
    const script = readdirSync(join(DIST, 'assets')).find((f) => f.startsWith('index-') && f.endsWith('.js'))!;
    expect([...b.packages.keys()].filter((p) => p.includes('web/'))).toEqual([]);
    expect(readFileSync(join(dir, 'api', 'bundle.mjs'), 'utf8')).not.toContain(script);
    cpSync(DIST, join(dir, PACKAGED_WEB_DIST), { recursive: true });

    const table = `bundle-${randomBytes(3).toString('hex')}`;
    const client = createDynamoClient(engine.endpoint);
    await ensureTable(client, table);
    client.destroy();
    const origin = 'ledgerseal.example.gov/bundle';
    const key = { name: 'validator-1', ...generateCosignerKey('validator-1') };
    const admin = generateAdminToken();
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      LAMBDA_TASK_ROOT: dir,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'AKIDTEST',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_ENDPOINT_URL_DYNAMODB: engine.endpoint,
      LEDGERSEAL_ORIGIN: origin,
      SST_RESOURCE_App: JSON.stringify({ name: 'ledgerseal', stage: 'bundle' }),
      SST_RESOURCE_LedgerTable: JSON.stringify({ name: table, type: 'sst.aws.Dynamo' }),
      SST_RESOURCE_ValidatorSet: JSON.stringify({ value: JSON.stringify(defaultValidatorSet(origin, [key])), type: 'sst.sst.Secret' }),
      SST_RESOURCE_AdminKeyHash: JSON.stringify({ value: admin.keyHash, type: 'sst.sst.Secret' }),
      SST_RESOURCE_WebhookSealingKeys: JSON.stringify({ value: `k1:${randomBytes(32).toString('base64')}`, type: 'sst.sst.Secret' }),
    };
    writeFileSync(join(dir, 'child.mjs'), CHILD);
    const events = [
      httpEvent('GET', '/healthz'),
      httpEvent('POST', '/v1/agencies', { token: admin.token, body: { name: 'Land Registry' } }),
      httpEvent('POST', '/v1/agencies', { token: admin.token, body: { name: 42 } }),
      httpEvent('GET', '/'),
      httpEvent('GET', `/assets/${script}`, { headers: { 'accept-encoding': 'gzip' } }),
    ];
    const out = await run([join(dir, 'child.mjs'), join(dir, 'api', 'bundle.mjs'), JSON.stringify(events)], env);
    const results = JSON.parse(out.split('\n').find((l) => l.startsWith('RESULT '))!.slice(7)) as { status: number; body: string; base64: boolean }[];
    expect(results.map((r) => r.status)).toEqual([200, 201, 400, 200, 200]);
    expect(JSON.parse(results[2]!.body).detail).toBe('name must be a string, not a number');
    expect(Buffer.from(results[3]!.body, 'utf8').equals(readFileSync(join(DIST, 'index.html')))).toBe(true);
    expect(results[4]!.base64).toBe(true);
    expect(gunzipSync(Buffer.from(results[4]!.body, 'base64')).equals(readFileSync(join(DIST, 'assets', script)))).toBe(true);
  });
});
