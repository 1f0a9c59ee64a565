/**
 * The sdk as a browser bundler sees it: esbuild with platform "browser" must
 * resolve "#sha256" to @noble/hashes and "#ed25519" to @noble/curves (no node:
 * imports at all), and the bundle must compute exactly what the Node build computes.
 * The client subpath bundles for browsers too (openapi-fetch, no node:), so does
 * the webhook receiver (./webhooks, no node: at all), and the core entry carries
 * no client, CLI, receiver or database driver code.
 */
import { build } from 'esbuild';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import * as nodeSdk from '../../sdk/src/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'ls-bundle-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function bundle(platform: 'browser' | 'node', entry = 'sdk/src/index.ts', name = 'sdk') {
  const out = await build({
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    platform,
    write: false,
    logLevel: 'silent',
    metafile: true,
  });
  const file = join(dir, `${name}-${platform}.mjs`);
  writeFileSync(file, out.outputFiles[0]!.text);
  return { text: out.outputFiles[0]!.text, inputs: Object.keys(out.metafile!.inputs), file };
}

describe('sdk bundles', () => {
  it('browser build uses @noble/hashes, imports nothing from node:, and agrees with the Node build', async () => {
    const b = await bundle('browser');
    expect(b.inputs.some((p) => p.endsWith('sdk/src/_sha256-browser.ts'))).toBe(true);
    expect(b.inputs.some((p) => p.endsWith('sdk/src/_sha256-node.ts'))).toBe(false);
    expect(b.inputs.some((p) => p.endsWith('sdk/src/_ed25519-browser.ts'))).toBe(true);
    expect(b.inputs.some((p) => p.endsWith('sdk/src/_ed25519-node.ts'))).toBe(false);
    expect(b.text).not.toMatch(/from\s*["']node:/);
    expect(b.text).not.toMatch(/require\(["'](node:)?crypto["']\)/);
    const browserSdk = (await import(pathToFileURL(b.file).href)) as typeof nodeSdk;
    expect(browserSdk.SHA256_BACKEND).toBe('@noble/hashes');
    expect(nodeSdk.SHA256_BACKEND).toBe('node:crypto');
    expect(browserSdk.ED25519_BACKEND).toBe('@noble/curves');
    expect(nodeSdk.ED25519_BACKEND).toBe('node:crypto');

    const leaves = Array.from({ length: 37 }, (_, i) => nodeSdk.utf8(`leaf ${i}`));
    expect(browserSdk.merkleRoot(leaves)).toEqual(nodeSdk.merkleRoot(leaves));
    expect(browserSdk.inclusionProof(leaves, 17)).toEqual(nodeSdk.inclusionProof(leaves, 17));
    const key = new Uint8Array(32).fill(3);
    expect(browserSdk.blindingMask(key, 'row-9', 2)).toEqual(nodeSdk.blindingMask(key, 'row-9', 2));
    expect(browserSdk.signWebhook('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'msg_1', 1700000000, '{"a":1}'))
      .toBe(nodeSdk.signWebhook('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'msg_1', 1700000000, '{"a":1}'));
  });

  it('node build selects node:crypto', async () => {
    const b = await bundle('node');
    expect(b.inputs.some((p) => p.endsWith('sdk/src/_sha256-node.ts'))).toBe(true);
    const nodeBundle = (await import(pathToFileURL(b.file).href)) as typeof nodeSdk;
    expect(nodeBundle.SHA256_BACKEND).toBe('node:crypto');
    expect(nodeBundle.ED25519_BACKEND).toBe('node:crypto');
  });

  it('the client bundles for browsers: openapi-fetch and the browser backends, nothing from node:', async () => {
    const b = await bundle('browser', 'sdk/src/client/index.ts', 'client');
    expect(b.inputs.some((p) => p.includes('node_modules/openapi-fetch/'))).toBe(true);
    expect(b.inputs.some((p) => p.endsWith('sdk/src/_sha256-browser.ts'))).toBe(true);
    expect(b.inputs.filter((p) => p.startsWith('node:') || /_[a-z0-9-]+-node\.ts$/.test(p))).toEqual([]);
    expect(b.inputs.some((p) => p.includes('sdk/src/cli/'))).toBe(false);
    expect(b.text).not.toMatch(/from\s*["']node:/);
    expect(b.text).not.toMatch(/require\(["']node:/);
    expect(b.text).not.toMatch(/import\(["']node:/);
    const browserClient = (await import(pathToFileURL(b.file).href)) as typeof import('../../sdk/src/client/index.ts');
    expect(typeof browserClient.createLedgersealClient).toBe('function');
    expect(browserClient.retryAfterMs('3', 0)).toBe(3_000);
  });

  it('the webhook receiver (./webhooks) bundles for browsers and edge runtimes: nothing from node:, no client or CLI code', async () => {
    const b = await bundle('browser', 'sdk/src/receiver/index.ts', 'receiver');
    expect(b.inputs.filter((p) => p.startsWith('node:') || /_[a-z0-9-]+-node\.ts$/.test(p))).toEqual([]);
    expect(b.inputs.filter((p) => /sdk\/src\/(client|cli)\//.test(p) || p.includes('node_modules/openapi-fetch/'))).toEqual([]);
    expect(b.text).not.toMatch(/(from\s*|require\(|import\()["']node:/);
    const browserReceiver = (await import(pathToFileURL(b.file).href)) as typeof import('../../sdk/src/receiver/index.ts');
    const seen: string[] = [];
    const handler = browserReceiver.webhookFetchHandler({ secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', onEvent: (e) => void seen.push(e.type) });
    const body = '{"type":"endpoint.test","timestamp":"2026-11-22T04:32:16.123Z","data":{"endpointId":"ep_1","message":"hi"}}';
    const headers = nodeSdk.webhookHeaders('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'msg_1', Math.floor(Date.now() / 1000), body);
    expect((await handler(new Request('http://receiver.invalid/hooks', { method: 'POST', headers, body }))).status).toBe(204);
    expect(seen).toEqual(['endpoint.test']);
  });

  it('the core bundle carries no client, CLI or driver code (openapi-fetch, pg, mysql2)', async () => {
    for (const platform of ['browser', 'node'] as const) {
      const b = await bundle(platform, 'sdk/src/index.ts', 'core');
      const foreign = b.inputs.filter((p) => /node_modules\/(openapi-fetch|openapi-typescript-helpers|pg|pg-[a-z-]+|mysql2)\//.test(p) || /sdk\/src\/(client|cli|receiver)\//.test(p));
      expect(foreign, platform).toEqual([]);
      expect(b.text, platform).not.toMatch(/openapi-fetch|mysql2|["']pg["']|pg-copy-streams/);
    }
  });
});
