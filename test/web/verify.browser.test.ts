/**
 * The verify page (issue 10, docs/verify.md) in a real browser: Debian's
 * headless chromium driven by playwright-core, against the local runner on
 * 127.0.0.1. A record is anchored through the API and confirmed; the page then
 * verifies it (every check passes), a tampered record (the anchor check fails),
 * a tampered proof, a proof against a publication code alone, the flow by
 * keyboard only; pinning of the service's validators and publications (and
 * the warnings when the service later shows others); extending the proof to
 * the latest publication; verifying offline once loaded; no request leaves
 * loopback; no serious or critical axe-core accessibility violation. Screenshots go to .artifacts/web/.
 */
import { createRequire } from 'node:module';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anchorOf, blindingMask, bytesToHex, generateCosignerKey, hashRecord, hexToBytes } from '../../sdk/src/index.ts';
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
    // Larger than the proof's own calendar, so that the proof has something to be extended to.
    return p && p.size > (proof.calendar as { size: number }).size ? { code: p.code, size: p.size } : undefined;
  }, 60_000);
  const ext = (await (await api(`/v1/proofs/extend?height=${height}&size=${publication.size}`)).json()) as { calendar: unknown; checkpoint: string };
  publishedProof = { ...proof, calendar: ext.calendar, checkpoint: ext.checkpoint };
}, INSTALL_TIMEOUT_MS + 120_000);

afterAll(async () => {
  await browser?.close();
  await svc?.close();
});

/** A fresh page on the service's `/`, recording every request and every console error, once its trust material is pinned. */
async function openPage(): Promise<{ page: Page; requests: string[]; errors: string[] }> {
  const { page, requests, errors } = await recordedPage(browser, `${svc.url}/`);
  await pinned(page);
  return { page, requests, errors };
}

/** Wait until the page has loaded (and pinned) the validator set and the publications. */
async function pinned(page: Page): Promise<void> {
  await page.locator('#service-set', { hasText: 'fingerprint' }).waitFor(WAIT);
  await page.locator('#service-publications', { hasText: 'pinned' }).waitFor(WAIT);
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

  it('pins the validators and publications, and warns when the service later shows others', async () => {
    const { page, requests, errors } = await openPage();
    expect(await page.textContent('#service-set')).toContain('pinned in this browser now');
    // The scheduler may publish meanwhile: the latest pinned is one the service serves, and the beforeAll one is pinned.
    const pubs = (await (await fetch(`${svc.url}/v1/publications?limit=100`)).json()) as { items: { size: number; root: string; code: string }[] };
    const latestPinned = (await page.textContent('#service-publications'))!.match(/code ([A-Z0-9-]+)\./)![1];
    expect(pubs.items.map((p) => p.code)).toContain(latestPinned);
    expect(await page.$$eval('#pinned-publications-rows td.code', (tds) => tds.map((td) => td.textContent))).toContain(publication.code);

    // A later visit in the same browser: the pins are read back, nothing changed.
    await page.reload();
    await pinned(page);
    expect(await page.textContent('#service-set')).toMatch(/pinned in this browser on \d{4}-\d\d-\d\d \d\d:\d\d UTC/);
    expect(await page.isHidden('#set-changed')).toBe(true);
    expect(await page.isHidden('#publications-alarm')).toBe(true);

    // The service now shows another validator set and rewrites a published root.
    const other = { format: 'ledgerseal-validators/v1', validators: [{ name: 'mallory', key: generateCosignerKey('mallory').verifierKey, weight: 1 }] };
    await page.route('**/v1/validators', (route) => route.fulfill({ json: other }));
    await page.route('**/v1/publications*', async (route) => {
      const forged = pubs.items.map((p) => (p.size === publication.size ? { ...p, root: p.root.replace(/^./, (c) => (c === 'a' ? 'b' : 'a')) } : p));
      await route.fulfill({ json: { items: forged } });
    });
    await page.reload();
    await page.locator('#set-changed:not([hidden])').waitFor(WAIT);
    expect(await page.textContent('#set-changed-text')).toContain('Warning: this service now shows another validator set, 1 validator (mallory)');
    await page.locator('#publications-alarm[role="alert"]:not([hidden])').waitFor(WAIT);
    expect(await page.textContent('#publications-alarm')).toContain(`calendar size ${publication.size}`);
    // The pinned set is still the one used: the good proof still verifies against it.
    await fill(page, { proof, record: RECORD, mask: maskHex });
    await page.locator('#verdict[data-ok="true"]').waitFor(WAIT);
    expect(await page.textContent('#sentence')).toContain('signed by validator-1');
    await page.screenshot({ path: join(ARTIFACTS, 'pins-changed.png'), fullPage: true });
    await page.click('#accept-set');
    expect(await page.isHidden('#set-changed')).toBe(true);
    expect(await page.textContent('#service-set')).toContain('1 validator (mallory)');
    loopbackOnly(requests);
    expect(errors).toEqual([]);
  });

  it('extends an older proof to the latest publication, then verifies it against the pinned publications', async () => {
    const { page, requests, errors } = await openPage();
    await fill(page, { proof, record: RECORD, mask: maskHex });
    await page.locator('#verdict[data-ok="true"]').waitFor(WAIT);
    // Against the pinned publications, the proof as issued verifies only if one was made at exactly its calendar size.
    const sizes = ((await (await fetch(`${svc.url}/v1/publications?limit=100`)).json()) as { items: { size: number }[] }).items.map((p) => p.size);
    const reaches = sizes.includes((proof.calendar as { size: number }).size);
    await page.check('#trust-publications');
    await page.click('#verify');
    await page.locator(`#verdict[data-ok="${reaches}"]`).waitFor(WAIT);
    expect((await statuses(page)).publication).toBe(reaches ? 'pass' : 'fail');

    await page.click('#extend');
    await page.locator('#extend-status', { hasText: 'was extended to the publication' }).waitFor(WAIT);
    await page.locator('#verdict[data-ok="true"]').waitFor(WAIT);
    expect(await statuses(page)).toEqual({ ...ALL_PASS, publication: 'pass' });
    const extended = JSON.parse(await page.inputValue('#proof')) as { calendar: { size: number }; chain: unknown; block: string };
    // Extended to the newest publication the page pinned (one the service serves; it may have published since).
    const [, size, code] = (await page.textContent('#extend-status'))!.match(/calendar size (\d+), code ([A-Z0-9-]+)\)/)!;
    const latest = { size: Number(size), code: code! };
    expect(latest.size).toBeGreaterThanOrEqual(publication.size);
    const served = ((await (await fetch(`${svc.url}/v1/publications?limit=100`)).json()) as { items: { size: number; code: string }[] }).items;
    expect(served).toContainEqual(expect.objectContaining(latest));
    expect(extended.calendar.size).toBe(latest.size);
    expect([extended.chain, extended.block]).toEqual([proof.chain, proof.block]);
    expect(await page.textContent('#sentence')).toMatch(new RegExp(`matching the publication of calendar size ${latest.size} \\(code ${latest.code}\\), which this service made on \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d UTC`));
    expect(await page.isVisible('#extended-download')).toBe(true);
    await page.screenshot({ path: join(ARTIFACTS, 'extended.png'), fullPage: true });

    // The extended proof now verifies against that publication's printed code alone.
    await page.check('#trust-code');
    await page.fill('#publication-code', latest.code);
    await page.click('#verify');
    await page.locator('#verdict[data-ok="true"]').waitFor(WAIT);
    // Extending again: it is already there, nothing is fetched.
    const before = requests.length;
    await page.click('#extend');
    await page.locator('#extend-status', { hasText: 'already reaches the latest publication' }).waitFor(WAIT);
    expect(requests.length).toBe(before);
    loopbackOnly(requests);
    expect(errors).toEqual([]);
  });

  it('verifies offline once loaded, and says that extending needs the network', async () => {
    const { page, requests } = await openPage();
    await page.context().setOffline(true);
    const before = requests.length;
    await fill(page, { proof, record: RECORD, mask: maskHex });
    await page.locator('#verdict[data-ok="true"]').waitFor(WAIT);
    expect(await statuses(page)).toEqual({ ...ALL_PASS, quorum: 'pass' });
    await fill(page, { proof, record: { ...RECORD, area_m2: 813 }, mask: maskHex });
    await page.locator('#verdict[data-ok="false"]').waitFor(WAIT);
    expect(requests.length).toBe(before); // verifying asked nothing of anyone
    await page.fill('#proof', JSON.stringify(proof));
    await page.click('#extend');
    await page.locator('#extend-status', { hasText: 'Extending needs the network; verifying does not' }).waitFor(WAIT);
    await page.screenshot({ path: join(ARTIFACTS, 'offline.png'), fullPage: true });
    await page.context().setOffline(false);
  });

  it('opens again with no network after a first visit (its service worker), and verifies with what it pinned', async () => {
    // A service of its own, stopped halfway: after that, nothing answers on its address.
    const own = await startService();
    const ownMask = blindingMask(hexToBytes(own.blindingKeyHex), RECORD_KEY, 0);
    const post = await fetch(`${own.url}/v1/anchors`, {
      method: 'POST',
      headers: { authorization: `Bearer ${own.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ anchors: [{ hash: bytesToHex(anchorOf(hashRecord(RECORD), ownMask)), recordKey: RECORD_KEY }] }),
    });
    const id = ((await post.json()) as { anchors: { id: string }[] }).anchors[0]!.id;
    let ownProof: unknown;
    for (let i = 0; i < 100 && ownProof === undefined; i++) {
      const a = (await (await fetch(`${own.url}/v1/anchors/${id}`, { headers: { authorization: `Bearer ${own.apiKey}` } })).json()) as { status: string; proof?: unknown };
      if (a.status === 'confirmed') ownProof = a.proof;
      else await own.runner.runRound();
    }
    expect(ownProof).toBeDefined();
    const sw = await fetch(`${own.url}/sw.js`);
    expect([sw.status, sw.headers.get('content-type'), sw.headers.get('cache-control')]).toEqual([200, 'text/javascript; charset=utf-8', 'no-cache']);

    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${own.url}/`);
    await pinned(page);
    // The worker is installed (its files kept) and controls the page.
    await page.evaluate(() => navigator.serviceWorker.ready.then(() => undefined));
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null, undefined, WAIT);
    await own.close();

    const reopened = await page.reload();
    expect(reopened!.fromServiceWorker()).toBe(true);
    await page.locator('#service-set', { hasText: 'The service could not be reached; the pinned set is used.' }).waitFor(WAIT);
    await fill(page, { proof: ownProof, record: RECORD, mask: bytesToHex(ownMask) });
    await page.locator('#verdict[data-ok="true"]').waitFor(WAIT);
    expect(await statuses(page)).toEqual({ ...ALL_PASS, quorum: 'pass' });
    await page.screenshot({ path: join(ARTIFACTS, 'reopened-offline.png'), fullPage: true });
    await context.close();
  });

  it('has no serious or critical axe-core accessibility violation, before and after a verification', async () => {
    // axe is injected as a script for the audit only: that context bypasses the page's CSP, the others keep it.
    const page = await (await browser.newContext({ bypassCSP: true })).newPage();
    await page.goto(`${svc.url}/`);
    await pinned(page);
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
    // The pinned publications opened, and a proof extended (its status, the save link, the publication trust).
    await page.click('#pinned-publications summary');
    await fill(page, { proof, record: RECORD, mask: maskHex });
    await page.click('#extend');
    await page.locator('#extended-download:not([hidden])').waitFor(WAIT);
    await page.locator('#verdict[data-ok="true"]').waitFor(WAIT);
    expect(serious(await audit())).toEqual([]);
  });

  it('fits a phone screen: no horizontal scrolling at 360 px, before and after a verification', async () => {
    const context = await browser.newContext({ viewport: { width: 360, height: 740 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
    const page = await context.newPage();
    await page.goto(`${svc.url}/`);
    await pinned(page);
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
