/**
 * The verify page (issue 10, docs/verify.md) in a real browser: Debian's
 * headless chromium driven by playwright-core, against the local runner on
 * 127.0.0.1. A record is anchored through the API and confirmed; the page then
 * verifies it (every check passes), a tampered record (the anchor check fails),
 * a tampered proof, a proof against a publication code alone, the flow by
 * keyboard only; no request leaves loopback; no serious or critical axe-core
 * accessibility violation. Screenshots go to .artifacts/web/.
 */
import { createRequire } from 'node:module';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anchorOf, blindingMask, bytesToHex, hashRecord, hexToBytes } from '../../sdk/src/index.ts';
import { startService, type TestService } from '../helpers/service.ts';
import { ensureWebBuilt, INSTALL_TIMEOUT_MS, launchChromium, recordedPage } from './chromium.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const ARTIFACTS = join(ROOT, '.artifacts/web');
const WAIT = { timeout: 15_000 };

const RECORD = { parcel: 'KA-17/204', owner: 'Ada Lovelace', area_m2: 812.5, registered: '2001-05-04' };
const RECORD_KEY = 'parcel:KA-17/204';

let browser: Browser;
let svc: TestService;
let maskHex: string;
let proof: Record<string, unknown>;
let publication: { code: string; size: number };
let publishedProof: Record<string, unknown>;

async function api(path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${svc.url}${path}`, { ...init, headers: { authorization: `Bearer ${svc.apiKey}`, 'content-type': 'application/json', ...init.headers } });
}

async function submit(hashHex: string, recordKey?: string): Promise<string> {
  const res = await api('/v1/anchors', { method: 'POST', body: JSON.stringify({ anchors: [{ hash: hashHex, ...(recordKey ? { recordKey } : {}) }] }) });
  expect(res.status).toBe(202);
  return ((await res.json()) as { anchors: { id: string }[] }).anchors[0]!.id;
}

/** Poll (bounded) until `get` gives a value; each miss runs a round, so nothing waits on a timer race. */
async function until<T>(what: string, get: () => Promise<T | undefined>, deadlineMs = 30_000): Promise<T> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    const v = await get();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await svc.runner.runRound();
  }
}

beforeAll(async () => {
  ensureWebBuilt('index.html');
  mkdirSync(ARTIFACTS, { recursive: true });
  browser = await launchChromium();
  svc = await startService({ LEDGERSEAL_PUBLICATION_INTERVAL_MS: '1000' });

  const mask = blindingMask(hexToBytes(svc.blindingKeyHex), RECORD_KEY, 0);
  maskHex = bytesToHex(mask);
  const id = await submit(bytesToHex(anchorOf(hashRecord(RECORD), mask)), RECORD_KEY);
  proof = await until('the anchor to be confirmed', async () => {
    const a = (await (await api(`/v1/anchors/${id}`)).json()) as { status: string; proof?: Record<string, unknown> };
    return a.status === 'confirmed' ? a.proof : undefined;
  });
  const { height } = (await (await api('/v1/verify', { method: 'POST', body: JSON.stringify({ proof }) })).json()) as { height: number };

  // A publication covering the block: later blocks settle it, then the job is run until it publishes.
  publication = await until('a publication covering the block', async () => {
    await submit(bytesToHex(hashRecord({ filler: Date.now() })));
    const r = await svc.runner.ledger.publish();
    const p = r.status === 'published' || r.status === 'not-due' ? r.publication : undefined;
    return p && p.size > height ? { code: p.code, size: p.size } : undefined;
  }, 60_000);
  const ext = (await (await api(`/v1/proofs/extend?height=${height}&size=${publication.size}`)).json()) as { calendar: unknown; checkpoint: string };
  publishedProof = { ...proof, calendar: ext.calendar, checkpoint: ext.checkpoint };
}, INSTALL_TIMEOUT_MS + 120_000);

afterAll(async () => {
  await browser?.close();
  await svc?.close();
});

/** A fresh page on the service's `/`, recording every request and every console error. */
async function openPage(): Promise<{ page: Page; requests: string[]; errors: string[] }> {
  const { page, requests, errors } = await recordedPage(browser, `${svc.url}/`);
  await page.locator('#service-set', { hasText: 'fingerprint' }).waitFor(WAIT);
  return { page, requests, errors };
}

async function fill(page: Page, values: { proof: unknown; record?: unknown; mask?: string; code?: string }): Promise<void> {
  await page.fill('#proof', JSON.stringify(values.proof, null, 2));
  if (values.record !== undefined) await page.fill('#record', JSON.stringify(values.record));
  if (values.mask !== undefined) await page.fill('#mask', values.mask);
  if (values.code !== undefined) {
    await page.check('#trust-code');
    await page.fill('#publication-code', values.code);
  }
  await page.click('#verify');
}

async function statuses(page: Page): Promise<Record<string, string>> {
  await page.locator('#checks li').first().waitFor(WAIT);
  return page.$$eval('#checks li', (lis) => Object.fromEntries(lis.map((li) => [li.getAttribute('data-check'), li.getAttribute('data-status')])));
}

function loopbackOnly(requests: string[]): void {
  expect(requests.length).toBeGreaterThan(0);
  for (const u of requests) expect(new URL(u).hostname, u).toBe('127.0.0.1');
}

const ALL_PASS = { format: 'pass', anchor: 'pass', chain: 'pass', block: 'pass', 'round-root': 'pass', checkpoint: 'pass', 'calendar-inclusion': 'pass' };

describe('the verify page in chromium', () => {
  it('serves the page with its CSP, hashed assets and the API alongside', async () => {
    const page = await fetch(`${svc.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const csp = page.headers.get('content-security-policy')!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    const html = await page.text();
    expect(html).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/); // no inline script
    const js = html.match(/src="(\/assets\/index-[\w-]+\.js)"/)![1]!;
    const asset = await fetch(`${svc.url}${js}`);
    expect(asset.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const missing = await fetch(`${svc.url}/assets/nope.js`);
    expect([missing.status, missing.headers.get('content-type')]).toEqual([404, 'application/problem+json']);
    const unknown = await fetch(`${svc.url}/v1/nothing-here`);
    expect([unknown.status, unknown.headers.get('content-type')]).toEqual([404, 'application/problem+json']);
    expect((await fetch(`${svc.url}/v1/validators`)).status).toBe(200);
  });

  it('a good record: every check passes and the sentence says what was proven', async () => {
    const { page, requests, errors } = await openPage();
    await fill(page, { proof, record: RECORD, mask: maskHex });
    await page.locator('#verdict[data-ok="true"]').waitFor(WAIT);
    expect(await statuses(page)).toEqual({ ...ALL_PASS, quorum: 'pass' });
    const sentence = await page.textContent('#sentence');
    expect(sentence).toMatch(/^This record existed in exactly this form no later than \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC, sealed in block \d+, signed by validator-1/);
    expect(await page.getAttribute('#result', 'aria-live')).toBe('polite');
    await page.screenshot({ path: join(ARTIFACTS, 'good-record.png'), fullPage: true });
    loopbackOnly(requests);
    expect(errors).toEqual([]);
  });

  it('a tampered record: the anchor check fails and says so', async () => {
    const { page, requests } = await openPage();
    await fill(page, { proof, record: { ...RECORD, owner: 'Mallory' }, mask: maskHex });
    await page.locator('#verdict[data-ok="false"]').waitFor(WAIT);
    const s = await statuses(page);
    expect([s.format, s.anchor, s.chain, s.quorum]).toEqual(['pass', 'fail', 'not-run', 'not-run']);
    expect(await page.textContent('#verdict')).toContain('Record matches the proof');
    expect(await page.textContent('#checks li[data-status="fail"]')).toContain('the record was changed since it was sealed');
    await page.screenshot({ path: join(ARTIFACTS, 'tampered-record.png'), fullPage: true });
    loopbackOnly(requests);
  });

  it('a tampered proof fails at the check it breaks', async () => {
    const { page } = await openPage();
    const lines = String(proof.checkpoint).split('\n');
    lines[2] = (lines[2]![0] === 'A' ? 'B' : 'A') + lines[2]!.slice(1); // the checkpoint's root hash
    await fill(page, { proof: { ...proof, checkpoint: lines.join('\n') }, record: RECORD, mask: maskHex });
    await page.locator('#verdict[data-ok="false"]').waitFor(WAIT);
    const s = await statuses(page);
    expect(s.anchor).toBe('pass');
    expect(Object.values(s).filter((v) => v === 'fail')).toHaveLength(1);
    expect(s.quorum).not.toBe('pass');
    await page.screenshot({ path: join(ARTIFACTS, 'tampered-proof.png'), fullPage: true });
  });

  it('a proof verified against a publication code alone', async () => {
    const { page, requests } = await openPage();
    await fill(page, { proof: publishedProof, record: RECORD, mask: maskHex, code: publication.code });
    await page.locator('#verdict[data-ok="true"]').waitFor(WAIT);
    expect(await statuses(page)).toEqual({ ...ALL_PASS, publication: 'pass' });
    expect(await page.textContent('#sentence')).toContain(`matching the publication of calendar size ${publication.size}`);
    await page.screenshot({ path: join(ARTIFACTS, 'publication-code.png'), fullPage: true });
    // A code mistyped by one character is caught by its checksum, before any check.
    const typo = (publication.code[0] === 'A' ? 'B' : 'A') + publication.code.slice(1);
    await page.fill('#publication-code', typo);
    await page.click('#verify');
    await page.locator('#verdict[data-ok="error"]').waitFor(WAIT);
    expect(await page.textContent('#sentence')).toContain('checksum mismatch');
    loopbackOnly(requests);
  });

  it('has no serious or critical axe-core accessibility violation, before and after a verification', async () => {
    // axe is injected as a script for the audit only: that context bypasses the page's CSP, the others keep it.
    const page = await (await browser.newContext({ bypassCSP: true })).newPage();
    await page.goto(`${svc.url}/`);
    await page.locator('#service-set', { hasText: 'fingerprint' }).waitFor(WAIT);
    await page.addScriptTag({ path: createRequire(import.meta.url).resolve('axe-core/axe.min.js') });
    const audit = () =>
      page.evaluate(async () => {
        const axe = (window as unknown as { axe: { run(ctx: Document): Promise<{ violations: { id: string; impact: string | null; nodes: unknown[] }[] }> } }).axe;
        return (await axe.run(document)).violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length }));
      });
    const serious = (vs: { impact: string | null }[]) => vs.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    expect(serious(await audit())).toEqual([]);
    await fill(page, { proof, record: RECORD, mask: maskHex });
    await page.locator('#verdict[data-ok="true"]').waitFor(WAIT);
    expect(serious(await audit())).toEqual([]);
    await fill(page, { proof, record: { ...RECORD, owner: 'Mallory' }, mask: maskHex });
    await page.locator('#verdict[data-ok="false"]').waitFor(WAIT);
    expect(serious(await audit())).toEqual([]);
  });

  it('fits a phone screen: no horizontal scrolling at 360 px, before and after a verification', async () => {
    const context = await browser.newContext({ viewport: { width: 360, height: 740 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
    const page = await context.newPage();
    await page.goto(`${svc.url}/`);
    await page.locator('#service-set', { hasText: 'fingerprint' }).waitFor(WAIT);
    const overflow = () => page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(await overflow()).toBeLessThanOrEqual(0);
    await fill(page, { proof, record: RECORD, mask: maskHex });
    await page.locator('#verdict[data-ok="true"]').waitFor(WAIT);
    expect(await overflow()).toBeLessThanOrEqual(0);
    await page.screenshot({ path: join(ARTIFACTS, 'phone.png'), fullPage: true });
    await context.close();
  });

  it('works by keyboard alone (Tab, typing, Enter)', async () => {
    const { page } = await openPage();
    const tabTo = async (id: string): Promise<void> => {
      for (let i = 0; i < 40; i++) {
        await page.keyboard.press('Tab');
        if ((await page.evaluate(() => document.activeElement?.id)) === id) return;
      }
      throw new Error(`Tab never reached #${id}`);
    };
    await tabTo('proof');
    await page.keyboard.insertText(JSON.stringify(proof));
    await tabTo('record');
    await page.keyboard.insertText(JSON.stringify(RECORD));
    await tabTo('mask');
    await page.keyboard.insertText(maskHex);
    await tabTo('verify');
    await page.keyboard.press('Enter');
    await page.locator('#verdict[data-ok="true"]').waitFor(WAIT);
    expect(await page.textContent('#verdict')).toBe('Verified.');
    await page.screenshot({ path: join(ARTIFACTS, 'keyboard.png'), fullPage: true });
  });
});
