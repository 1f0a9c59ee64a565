/**
 * The API reference at /docs (issue 10) in Debian's headless chromium, driven
 * by playwright-core against the local runner on 127.0.0.1: Redoc's standalone
 * bundle, served from web/dist/assets, renders the service's /openapi.json
 * (operations and the webhooks section); no request leaves loopback and the
 * page logs no error, so no CSP violation either. A screenshot goes to
 * .artifacts/web/.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startService, type TestService } from '../helpers/service.ts';
import { ensureWebBuilt, INSTALL_TIMEOUT_MS, launchChromium, recordedPage } from './chromium.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const ARTIFACTS = join(ROOT, '.artifacts/web');
const WAIT = { timeout: 20_000 };

type OpenApiDoc = { paths: Record<string, Record<string, { summary?: string }>>; webhooks: Record<string, Record<string, { summary?: string }>> };

let browser: Browser;
let svc: TestService;

beforeAll(async () => {
  ensureWebBuilt('docs.html');
  mkdirSync(ARTIFACTS, { recursive: true });
  browser = await launchChromium();
  svc = await startService();
}, INSTALL_TIMEOUT_MS + 60_000);

afterAll(async () => {
  await browser?.close();
  await svc?.close();
});

describe('the API reference at /docs', () => {
  it('is served as HTML under a CSP with same-origin scripts only, at /docs and /docs/', async () => {
    for (const path of ['/docs', '/docs/']) {
      const res = await fetch(`${svc.url}${path}`);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(res.headers.get('cache-control')).toBe('no-cache');
      const csp = res.headers.get('content-security-policy')!;
      expect(csp).toContain("script-src 'self';");
      expect(csp).toContain("connect-src 'self';");
      expect(csp).toContain("style-src 'self' 'unsafe-inline';"); // Redoc's CSS-in-JS, styles only
      expect(csp.match(/script-src[^;]*/)![0]).not.toContain('unsafe');
      const html = await res.text();
      expect(html).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/); // no inline script
      const scripts = [...html.matchAll(/<script[^>]*\ssrc="([^"]+)"/g)].map((m) => m[1]!);
      expect(scripts.length).toBe(2);
      for (const src of scripts) expect(src, src).toMatch(/^\/assets\/[\w.-]+\.js$/);
      const redoc = scripts.find((s) => s.includes('redoc.standalone'))!;
      const asset = await fetch(`${svc.url}${redoc}`);
      expect(asset.status).toBe(200);
      expect(asset.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
      expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    }
    // The verify page keeps its stricter policy.
    expect((await fetch(`${svc.url}/`)).headers.get('content-security-policy')).not.toContain('unsafe-inline');
  });

  it('renders the operations and the webhooks from /openapi.json, on loopback only, with no console error', async () => {
    const { page, requests, errors } = await recordedPage(browser, `${svc.url}/docs`);

    await page.getByRole('heading', { name: 'Submit a batch of anchors' }).first().waitFor(WAIT);
    await page.getByRole('heading', { name: 'Verify a proof on the server' }).first().waitFor(WAIT);
    const headings = await page.$$eval('h1, h2', (hs) => hs.map((h) => (h.textContent ?? '').replace(/\s+/g, ' ').trim()));
    // Every operation of the committed document, and every webhook (Redoc badges those "Webhook").
    const doc = JSON.parse(readFileSync(join(ROOT, 'openapi/openapi.json'), 'utf8')) as OpenApiDoc;
    const summaries = (items: Record<string, Record<string, { summary?: string }>>) =>
      Object.values(items).flatMap((ops) => Object.values(ops).flatMap((op) => (op.summary ? [op.summary] : [])));
    const operations = summaries(doc.paths);
    const webhooks = summaries(doc.webhooks);
    expect(operations.length).toBeGreaterThan(20);
    expect(webhooks.length).toBeGreaterThan(5);
    for (const s of operations) expect(headings, s).toContain(s);
    for (const s of webhooks) expect(headings, s).toContain(`${s} Webhook`);
    expect(headings).toContain('Submit a batch of anchors');
    expect(await page.title()).toBe('API reference · Ledgerseal');
    await page.screenshot({ path: join(ARTIFACTS, 'docs.png') });

    expect(requests.some((u) => new URL(u).pathname === '/openapi.json')).toBe(true);
    for (const u of requests) expect(new URL(u).hostname, u).toBe('127.0.0.1');
    expect(errors).toEqual([]);
    await page.context().close();
  });
});
