/**
 * Lambda bundles and cold starts (docs/deploy.md): `npm run bench -- deploy`.
 *
 * 1. Each handler of sst.config.ts bundled with esbuild the way SST 4 bundles
 *    a nodejs22.x function (pkg/runtime/node/build.go in the sst repository):
 *    platform node, format esm, bundle, target es2023 (SST's target for
 *    nodejs22.x), minify (whitespace, syntax, identifiers), keepNames,
 *    mainFields module,main, SST's createRequire banner, and only `sharp` and
 *    `pg-native` external. In particular the AWS SDK v3 is NOT external: SST
 *    bundles what the code imports, so the bundled @aws-sdk/* and @smithy/*
 *    packages are listed. Sizes: the .mjs (minified) and gzip -9 of it (about
 *    what the deployment zip holds; the linked source map is not counted).
 * 2. Cold initialisation: a fresh `node` process imports the bundle and
 *    handles one invocation (the API: GET /healthz, one table read; the crons:
 *    one scheduled event on an empty ledger), against dynalite with the
 *    SST_RESOURCE_<Name> variables SST sets; measured with performance.now()
 *    around the import and the first invocation. Several runs, median.
 *
 * 3. The web front the API function ships besides its bundle: web/dist as
 *    sst.config.ts copies it (`copyFiles`), its files, bytes and gzip -9 bytes
 *    (about what it adds to the deployment zip; Lambda's limit is 50 MB zipped,
 *    250 MB unzipped).
 *
 * Goals (issue 9): API handler <= 1 MB minified, cold init <= 150 ms here.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { generateCosignerKey } from '@ledgerseal/sdk';
import { generateAdminToken } from '../functions/api/auth.ts';
import { defaultValidatorSet } from '../functions/ledger/keys.ts';
import { createDynamoClient, startDynalite } from '../functions/store/dynalite.ts';
import { ensureTable } from '../functions/store/table.ts';
import { ensureValidatorTable } from '../functions/validator/dynamo-state-store.ts';
import { sstBundle as bundle } from './_bundle.ts';
import { fmt, printTable } from './_table.ts';

const RUNS = Number(process.env['LEDGERSEAL_BENCH_COLD_RUNS'] ?? 9);
const WEB_DIST = resolve(import.meta.dirname, '../web/dist');

/** Every file under a directory, recursively. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

/** The handlers of sst.config.ts, with the resources each links (sst.config.ts's table). */
const HANDLERS = [
  { name: 'ApiHandler', file: 'functions/aws/api.ts', links: ['LedgerTable', 'ValidatorSet', 'AdminKeyHash', 'WebhookSealingKeys'] },
  { name: 'RoundsHandler', file: 'functions/aws/rounds.ts', links: ['LedgerTable', 'ValidatorSet', 'CoordinatorToken', 'ValidatorEndpoints', 'HostedValidators', 'WebhookSealingKeys'] },
  { name: 'WebhooksHandler', file: 'functions/aws/webhooks.ts', links: ['LedgerTable', 'ValidatorSet', 'WebhookSealingKeys'] },
  { name: 'PublishHandler', file: 'functions/aws/publish.ts', links: ['LedgerTable', 'ValidatorSet'] },
  { name: 'Validator1', file: 'functions/aws/validator.ts', links: ['Validator1SignerKey', 'Validator1CoordinatorKeyHash', 'Validator1State'] },
] as const;

function child(file: string, args: string[], env: Record<string, string>): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const c = spawn(process.execPath, [file, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    c.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    c.on('error', fail);
    c.on('close', (status) => done({ status, stdout, stderr }));
  });
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** The child: import the bundle, invoke once, print the timings as JSON. */
const CHILD = `
const t0 = performance.now();
const mod = await import(process.argv[2]);
const t1 = performance.now();
const event = JSON.parse(process.argv[3]);
const end = Date.now() + 60000;
const r = await mod.handler(event, { awsRequestId: 'bench', functionName: 'bench', getRemainingTimeInMillis: () => end - Date.now() });
const t2 = performance.now();
const ok = r && (r.statusCode === undefined ? true : r.statusCode === 200);
process.stdout.write('\\nRESULT ' + JSON.stringify({ boot: t0, importMs: t1 - t0, firstMs: t2 - t1, ok, r: r && r.statusCode === undefined ? r : r.statusCode }) + '\\n');
process.exit(0);
`;

const apiEvent = {
  version: '2.0',
  routeKey: '$default',
  rawPath: '/healthz',
  rawQueryString: '',
  headers: { host: 'a1b2c3d4e5.execute-api.us-east-1.amazonaws.com', accept: 'application/json', 'x-forwarded-for': '203.0.113.10' },
  requestContext: {
    accountId: '123456789012',
    apiId: 'a1b2c3d4e5',
    domainName: 'a1b2c3d4e5.execute-api.us-east-1.amazonaws.com',
    domainPrefix: 'a1b2c3d4e5',
    http: { method: 'GET', path: '/healthz', protocol: 'HTTP/1.1', sourceIp: '203.0.113.10', userAgent: 'bench' },
    requestId: 'bench',
    routeKey: '$default',
    stage: '$default',
    time: '01/Dec/2026:00:00:00 +0000',
    timeEpoch: Date.now(),
  },
  isBase64Encoded: false,
};
const scheduleEvent = { scheduledTime: new Date().toISOString(), scheduleArn: 'arn:aws:scheduler:us-east-1:123456789012:schedule/default/bench', executionId: 'bench', attemptNumber: '1' };

export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ls-bundles-'));
  const engine = await startDynalite();
  try {
    console.log(`esbuild as SST 4 bundles nodejs22.x (platform node, esm, target es2023, minify, keepNames, only sharp/pg-native external); Node ${process.version} for the cold starts (Lambda runs 22), ${RUNS} runs each\n`);
    const bundles = new Map<string, { bytes: number; gzip: number; packages: Map<string, number>; path: string }>();
    for (const h of HANDLERS) {
      const path = join(dir, h.name, 'bundle.mjs');
      mkdirSync(join(dir, h.name), { recursive: true });
      bundles.set(h.name, { ...(await bundle(h.file, path)), path });
    }

    // What each bundle is made of.
    const pkgs = [...new Set([...bundles.values()].flatMap((b) => [...b.packages.keys()]))];
    const total = (p: string): number => Math.max(...[...bundles.values()].map((b) => b.packages.get(p) ?? 0));
    pkgs.sort((a, b) => total(b) - total(a));
    const shown = pkgs.filter((p) => total(p) >= 5_000);
    printTable(
      ['package (bytes in the minified bundle)', ...HANDLERS.map((h) => h.name)],
      [
        ...shown.map((p) => [p, ...HANDLERS.map((h) => fmt(bundles.get(h.name)!.packages.get(p) ?? 0))]),
        [`${pkgs.length - shown.length} more packages (< 5 KB each)`, ...HANDLERS.map((h) => fmt(pkgs.filter((p) => !shown.includes(p)).reduce((n, p) => n + (bundles.get(h.name)!.packages.get(p) ?? 0), 0)))],
      ],
    );
    const plain = await bundle('functions/aws/api.ts', join(dir, 'plain', 'bundle.mjs'), false);
    console.log(`\nWithout the zod-locales-en plugin (functions/aws/esbuild-plugins.mjs) the API bundle is ${fmt(plain.bytes)} bytes (gzip ${fmt(plain.gzip)}); with it ${fmt(bundles.get('ApiHandler')!.bytes)} (gzip ${fmt(bundles.get('ApiHandler')!.gzip)}).`);
    const aws = pkgs.filter((p) => p.startsWith('@aws-sdk/') || p.startsWith('@smithy/') || p.startsWith('@aws-crypto/'));
    console.log(`\nAWS SDK packages bundled (${aws.length}): ${aws.join(', ')}\n`);

    // Cold starts.
    const table = `bench-${randomBytes(4).toString('hex')}`;
    const client = createDynamoClient(engine.endpoint);
    await ensureTable(client, table);
    const stateTable = `${table}-validator-1`;
    await ensureValidatorTable(client, stateTable);
    client.destroy();
    const key = { name: 'validator-1', ...generateCosignerKey('validator-1') };
    const origin = 'ledgerseal.example.gov/bench';
    const resources: Record<string, unknown> = {
      App: { name: 'ledgerseal', stage: 'bench' },
      LedgerTable: { name: table, type: 'sst.aws.Dynamo' },
      ValidatorSet: { value: JSON.stringify(defaultValidatorSet(origin, [key])), type: 'sst.sst.Secret' },
      AdminKeyHash: { value: generateAdminToken().keyHash, type: 'sst.sst.Secret' },
      CoordinatorToken: { value: generateAdminToken().token, type: 'sst.sst.Secret' },
      ValidatorEndpoints: { value: '[]', type: 'sst.sst.Secret' },
      HostedValidators: { endpoints: {}, type: 'sst.sst.Linkable' },
      WebhookSealingKeys: { value: `k1:${randomBytes(32).toString('base64')}`, type: 'sst.sst.Secret' },
      Validator1SignerKey: { value: key.signerKey, type: 'sst.sst.Secret' },
      Validator1CoordinatorKeyHash: { value: generateAdminToken().keyHash, type: 'sst.sst.Secret' },
      Validator1State: { name: stateTable, type: 'sst.aws.Dynamo' },
    };
    // What sst.config.ts sets in a validator function's environment.
    const validatorEnv = {
      LEDGERSEAL_VALIDATOR_ID: 'Validator1',
      LEDGERSEAL_VALIDATOR_NAME: 'validator-1',
      LEDGERSEAL_VALIDATOR_SET: JSON.stringify(defaultValidatorSet(origin, [key])),
      LEDGERSEAL_LEDGER_URL: 'https://api.example.gov',
    };
    const childFile = join(dir, 'child.mjs');
    writeFileSync(childFile, CHILD);
    const rows: (string | number)[][] = [];
    for (const h of HANDLERS) {
      const b = bundles.get(h.name)!;
      const env: Record<string, string> = {
        PATH: process.env.PATH ?? '',
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'AKIDBENCH',
        AWS_SECRET_ACCESS_KEY: 'bench',
        AWS_ENDPOINT_URL_DYNAMODB: engine.endpoint,
        LEDGERSEAL_ORIGIN: origin,
        SST_RESOURCE_App: JSON.stringify(resources.App),
      };
      for (const l of h.links) env[`SST_RESOURCE_${l}`] = JSON.stringify(resources[l]);
      if (h.name === 'Validator1') Object.assign(env, validatorEnv);
      // HTTP functions answer one request (the API /healthz, a validator its status); the others one scheduled run.
      const event = h.name === 'ApiHandler' ? apiEvent : h.name === 'Validator1' ? { ...apiEvent, rawPath: '/v1/validator', requestContext: { ...apiEvent.requestContext, http: { ...apiEvent.requestContext.http, path: '/v1/validator' } } } : scheduleEvent;
      const runs: { boot: number; importMs: number; firstMs: number }[] = [];
      for (let i = 0; i < RUNS; i++) {
        // Asynchronously: dynalite runs in this process and must keep answering.
        const r = await child(childFile, [b.path, JSON.stringify(event)], env);
        if (r.status !== 0) throw new Error(`${h.name}: child failed (${r.status}):\n${r.stderr}`);
        const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
        if (!line) throw new Error(`${h.name}: no result:\n${r.stdout}\n${r.stderr}`);
        const out = JSON.parse(line.slice('RESULT '.length)) as { boot: number; importMs: number; firstMs: number; ok: boolean; r: unknown };
        if (!out.ok) throw new Error(`${h.name}: the invocation failed: ${JSON.stringify(out.r)}`);
        runs.push(out);
      }
      const importMs = median(runs.map((r) => r.importMs));
      const firstMs = median(runs.map((r) => r.firstMs));
      const cold = median(runs.map((r) => r.importMs + r.firstMs));
      rows.push([h.name, fmt(b.bytes / 1024, 0), fmt(b.gzip / 1024, 0), fmt(median(runs.map((r) => r.boot)), 1), fmt(importMs, 1), fmt(firstMs, 1), fmt(cold, 1), fmt(Math.min(...runs.map((r) => r.importMs + r.firstMs)), 1), fmt(Math.max(...runs.map((r) => r.importMs + r.firstMs)), 1)]);
    }
    console.log('');
    printTable(['handler', 'bundle KiB (minified)', 'gzip KiB', 'node boot ms', 'import ms', 'first invocation ms', 'cold init ms (median)', 'min', 'max'], rows);
    const apiRow = bundles.get('ApiHandler')!;
    console.log(`\nAPI handler: ${fmt(apiRow.bytes)} bytes minified (goal <= 1 MB = 1,048,576: ${apiRow.bytes <= 1_048_576 ? 'met' : `missed by ${fmt(apiRow.bytes - 1_048_576)}`}).`);

    // The web front, copied into the API function's package next to the bundle (not in it).
    if (!existsSync(join(WEB_DIST, 'index.html'))) throw new Error('web/dist is not built: run `npm run build:web` first');
    const web = filesUnder(WEB_DIST).map((f) => {
      const bytes = readFileSync(f);
      return { file: relative(WEB_DIST, f), bytes: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
    });
    const sum = (k: 'bytes' | 'gzip'): number => web.reduce((n, w) => n + w[k], 0);
    console.log('');
    printTable(
      ['ApiHandler package: web/dist (copyFiles)', 'files', 'bytes', 'gzip -9 bytes'],
      [
        ['pages (*.html)', web.filter((w) => w.file.endsWith('.html')).length, fmt(web.filter((w) => w.file.endsWith('.html')).reduce((n, w) => n + w.bytes, 0)), fmt(web.filter((w) => w.file.endsWith('.html')).reduce((n, w) => n + w.gzip, 0))],
        ['assets/', web.filter((w) => w.file.startsWith('assets/')).length, fmt(web.filter((w) => w.file.startsWith('assets/')).reduce((n, w) => n + w.bytes, 0)), fmt(web.filter((w) => w.file.startsWith('assets/')).reduce((n, w) => n + w.gzip, 0))],
        ['total', web.length, fmt(sum('bytes')), fmt(sum('gzip'))],
        ['API package (bundle + web/dist)', web.length + 1, fmt(apiRow.bytes + sum('bytes')), fmt(apiRow.gzip + sum('gzip'))],
      ],
    );
  } finally {
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
