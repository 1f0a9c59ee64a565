/**
 * The ledger explorer (`/explorer`, issue 10) in Debian's headless chromium,
 * against the local runner on 127.0.0.1 (validators as processes, so that one
 * can be stopped): the page, once open, lists a block
 * finalized after it loaded (its live refresh) with its anchors count and
 * signers; the block's deep link opens its detail; Tab reaches the block
 * links; the lists read without JavaScript (rendered by the server); a
 * validator fault provoked in the local runner (one validator process stopped
 * for a round) shows in the validator table, live and server-rendered; paging
 * to older blocks (`?before=`) and back works with JavaScript disabled and
 * enabled; a consistency check between two checkpoints passes in the browser;
 * no request leaves loopback; no console or CSP error; no serious or critical
 * axe-core violation. Screenshot:
 * .artifacts/web/explorer.png.
 */
import { createRequire } from 'node:module';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytesToHex, hashRecord } from '../../sdk/src/index.ts';
import { startService, type TestService } from '../helpers/service.ts';
import { ensureWebBuilt, INSTALL_TIMEOUT_MS, launchChromium, recordedPage } from './chromium.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const ARTIFACTS = join(ROOT, '.artifacts/web');
const WAIT = { timeout: 15_000 };

let browser: Browser;
let svc: TestService;

async function api(path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${svc.url}${path}`, { ...init, headers: { authorization: `Bearer ${svc.apiKey}`, 'content-type': 'application/json', ...init.headers } });
}

/** Anchor `n` records in one request and run rounds until they are confirmed; the height of their block. */
async function finalize(n: number): Promise<number> {
  const anchors = Array.from({ length: n }, (_, i) => ({ hash: bytesToHex(hashRecord({ explorer: i, at: Date.now(), r: Math.random() })) }));
  const res = await api('/v1/anchors', { method: 'POST', body: JSON.stringify({ anchors }) });
  expect(res.status).toBe(202);
  const id = ((await res.json()) as { anchors: { id: string }[] }).anchors[0]!.id;
  const end = Date.now() + 30_000;
  for (;;) {
    await svc.runner.runRound();
    const a = (await (await api(`/v1/anchors/${id}`)).json()) as { status: string; proof?: unknown };
    if (a.status === 'confirmed') break;
    if (Date.now() > end) throw new Error('timed out waiting for the anchors to be confirmed');
  }
  const { height } = (await (await api('/v1/verify', { method: 'POST', body: JSON.stringify({ proof: ((await (await api(`/v1/anchors/${id}`)).json()) as { proof: unknown }).proof }) })).json()) as { height: number };
  return height;
}

beforeAll(async () => {
  ensureWebBuilt('explorer.html');
  mkdirSync(ARTIFACTS, { recursive: true });
  browser = await launchChromium();
  svc = await startService({ LEDGERSEAL_VALIDATORS: 'processes' });
  await finalize(1); // a first block, so the page has a checkpoint when it opens
}, INSTALL_TIMEOUT_MS + 120_000);

afterAll(async () => {
  await browser?.close();
  await svc?.close();
});

async function openExplorer(path = '/explorer'): Promise<{ page: Page; requests: string[]; errors: string[] }> {
  const { page, requests, errors } = await recordedPage(browser, `${svc.url}${path}`);
  await page.locator('#blocks tbody tr').first().waitFor(WAIT);
  return { page, requests, errors };
}

function loopbackOnly(requests: string[]): void {
  expect(requests.length).toBeGreaterThan(0);
  for (const u of requests) expect(new URL(u).hostname, u).toBe('127.0.0.1');
}

describe('the explorer in chromium', () => {
  it('serves /explorer with the CSP and no inline script', async () => {
    const res = await fetch(`${svc.url}/explorer`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const csp = res.headers.get('content-security-policy')!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    const html = await res.text();
    expect(html).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/);
    expect(html).toMatch(/src="\/assets\/explorer-[\w-]+\.js"/);
  });

  it('renders the lists on the server, readable without JavaScript', async () => {
    const html = await (await fetch(`${svc.url}/explorer`)).text();
    expect(html).toMatch(/<tr data-height="0" data-anchors="1"><th scope="row"><a href="\/explorer\?block=0"/);
    expect(html).toContain(svc.validators.validators[0]!.key);
    expect(html).toContain('No publication yet.');
    expect(html).toMatch(/SHA-256 fingerprint [0-9a-f]{4} /);
    const page = await (await browser.newContext({ javaScriptEnabled: false })).newPage();
    await page.goto(`${svc.url}/explorer?block=0`);
    expect(await page.locator('#blocks tbody tr[data-height="0"]').count()).toBe(1);
    expect(await page.isVisible('#block-facts[data-height="0"]')).toBe(true);
    expect(await page.textContent('#block-facts')).toContain('validator-1');
    expect(await page.textContent('#cp-signers')).toContain('(quorum)');
    await page.screenshot({ path: join(ARTIFACTS, 'explorer-no-js.png'), fullPage: true });
    const missing = await (await fetch(`${svc.url}/explorer?block=424242`)).text();
    expect(missing).toContain('There is no block at height 424242 (yet).');
    const odd = await fetch(`${svc.url}/explorer?block=%3Cscript%3E`);
    expect(odd.status).toBe(200);
    expect(await odd.text()).not.toContain('<script>');
  });

  it('lists a block finalized after the page opened, with its anchors and signers, by its live refresh', async () => {
    const { page, requests, errors } = await openExplorer();
    const before = Number(await page.textContent('#cp-size'));
    const height = await finalize(3);
    expect(height + 1).toBeGreaterThan(before);
    const row = page.locator(`#blocks tbody tr[data-height="${height}"]`);
    await row.waitFor(WAIT);
    expect(await row.getAttribute('data-anchors')).toBe('3');
    const cells = await row.locator('td').allTextContents();
    expect(cells[1]).toBe('3');
    expect(cells[3]).toContain('validator-1');
    expect(cells[3]).toContain('(quorum, verified)');
    // Newest first.
    expect(await page.locator('#blocks tbody tr').first().getAttribute('data-height')).toBe(String(height));
    await page.locator('#refresh-status', { hasText: 'new block' }).waitFor(WAIT);
    expect(await page.getAttribute('#refresh-status', 'aria-live')).toBe('polite');
    expect(Number(await page.textContent('#cp-size'))).toBeGreaterThanOrEqual(height + 1);
    expect(await page.textContent('#cp-signers')).toContain('validator-1');
    expect(await page.locator('#validators tbody tr').count()).toBe(svc.validators.validators.length);
    expect(await page.textContent('#validators tbody')).toContain(svc.validators.validators[0]!.key);
    expect(await page.textContent('#publications tbody')).toBe('No publication yet.'); // publications every 24 h by default
    await page.screenshot({ path: join(ARTIFACTS, 'explorer.png'), fullPage: true });
    loopbackOnly(requests);
    expect(errors).toEqual([]);
  });

  it('opens a block detail at its deep link (?block= and #block-)', async () => {
    const height = await finalize(2);
    for (const path of [`/explorer?block=${height}`, `/explorer#block-${height}`]) {
      const { page, requests, errors } = await openExplorer(path);
      await page.locator(`#block-facts[data-height="${height}"]`).waitFor(WAIT);
      expect(await page.textContent('#block-detail-heading')).toBe(`Block ${height}`);
      const facts = await page.textContent('#block-facts');
      expect(facts).toContain('Anchors2');
      expect(facts).toContain('validator-1');
      // The server rendered the detail already (for ?block=); the script re-renders it and moves focus to its heading.
      await page.waitForFunction(() => document.activeElement?.id === 'block-detail-heading', undefined, WAIT);
      loopbackOnly(requests);
      expect(errors).toEqual([]);
    }
    const { page } = await openExplorer('/explorer?block=999999');
    await page.locator('#block-detail-body', { hasText: 'There is no block at height 999999' }).waitFor(WAIT);
  });

  it('Tab reaches the block links, and Enter opens the detail', async () => {
    const { page } = await openExplorer();
    const first = await page.locator('#blocks tbody tr').first().getAttribute('data-height');
    let reached = false;
    for (let i = 0; i < 30 && !reached; i++) {
      await page.keyboard.press('Tab');
      reached = await page.evaluate(() => document.activeElement?.closest('#blocks tbody') !== null && document.activeElement?.tagName === 'A');
    }
    expect(reached).toBe(true);
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe(first);
    await Promise.all([page.waitForURL(`**/explorer?block=${first}`), page.keyboard.press('Enter')]);
    await page.locator(`#block-facts[data-height="${first}"]`).waitFor(WAIT);
  });

  it('shows a validator fault provoked in the local runner in the validator table, live and without JavaScript', async () => {
    const { page, requests, errors } = await openExplorer();
    const cell = (name: string) => page.locator(`#validators tr[data-validator="${name}"] td.faults`);
    await page.locator('#validators tr[data-validator="validator-4"] td.faults[data-faults="0"]').waitFor(WAIT);
    const v4 = svc.runner.validatorProcesses[3]!;
    expect(v4.name).toBe('validator-4');
    await v4.stop();
    let height: number;
    try {
      height = await finalize(1); // a quorum of three; validator-4 is recorded as unreachable
    } finally {
      await v4.start();
    }
    // The open page's refresh lists it, linked to the block of its round.
    const item = cell('validator-4').locator(`li[data-height="${height}"]`);
    await item.waitFor(WAIT);
    expect(await cell('validator-4').getAttribute('data-faults')).toBe('1');
    expect(await item.textContent()).toContain('unreachable');
    expect(await item.locator('a').getAttribute('href')).toBe(`/explorer?block=${height}`);
    for (const name of ['validator-1', 'validator-2', 'validator-3']) expect(await cell(name).getAttribute('data-faults')).toBe('0');
    await page.screenshot({ path: join(ARTIFACTS, 'explorer-faults.png'), fullPage: true });
    loopbackOnly(requests);
    expect(errors).toEqual([]);
    // Rendered by the server: `?block=<that height>` was never rendered before, so no cached rendering hides it.
    const nojs = await (await browser.newContext({ javaScriptEnabled: false })).newPage();
    await nojs.goto(`${svc.url}/explorer?block=${height}`);
    const served = nojs.locator('#validators tr[data-validator="validator-4"] td.faults');
    expect(await served.getAttribute('data-faults')).toBe('1');
    expect(await served.locator(`li[data-height="${height}"]`).textContent()).toContain('unreachable');
    await Promise.all([nojs.waitForURL(`**/explorer?block=${height}`), served.locator('a').first().click()]);
    expect(await nojs.isVisible(`#block-facts[data-height="${height}"]`)).toBe(true);
    const api = (await (await fetch(`${svc.url}/v1/validators/faults?validator=validator-4`)).json()) as { items: { height: number; reason: string }[] };
    expect(api.items[0]).toMatchObject({ height, reason: 'unreachable' });
  });

  it('pages to older blocks and back, with JavaScript disabled and enabled; each page is a deep link', async () => {
    while (Number((await (await fetch(`${svc.url}/v1/checkpoint`)).text()).split('\n')[1]) < 30) await finalize(1);
    const heights = (page: Page) => page.locator('#blocks tbody tr[data-height]').evaluateAll((rows) => rows.map((r) => Number(r.getAttribute('data-height'))));
    for (const javaScriptEnabled of [false, true]) {
      const page = await (await browser.newContext({ javaScriptEnabled })).newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`${svc.url}/explorer`);
      // With the script, wait for its first rendering (its status line), so the rows read are its own.
      if (javaScriptEnabled) await page.locator('#refresh-status', { hasText: 'Showing the ledger at size' }).waitFor(WAIT);
      const size = Number(await page.textContent('#cp-size'));
      expect(size).toBeGreaterThanOrEqual(30);
      expect(await heights(page)).toEqual(Array.from({ length: 25 }, (_, i) => size - 1 - i));
      expect(await page.locator('#newer-blocks').count()).toBe(0);
      // Older blocks: the 25 below the lowest shown.
      const before = size - 25;
      await Promise.all([page.waitForURL(`**/explorer?before=${before}`), page.click('#older-blocks')]);
      if (javaScriptEnabled) await page.locator('#refresh-status', { hasText: `Showing the blocks before height ${before}` }).waitFor(WAIT);
      expect(await page.textContent('#blocks-heading')).toBe(`Blocks before height ${before}, newest first`);
      expect(await heights(page)).toEqual(Array.from({ length: Math.min(25, before) }, (_, i) => before - 1 - i));
      expect(await page.getAttribute('#newer-blocks', 'href')).toBe('/explorer');
      // And back to the newest page.
      await Promise.all([page.waitForURL(/\/explorer$/), page.click('#newer-blocks')]);
      if (javaScriptEnabled) await page.locator('#refresh-status', { hasText: 'Showing the ledger at size' }).waitFor(WAIT);
      expect((await heights(page))[0]).toBe(size - 1);
      // A deep link to the oldest page: blocks 4..0, no older page, and the newer page starts 25 above.
      await page.goto(`${svc.url}/explorer?before=5`);
      if (javaScriptEnabled) await page.locator('#refresh-status', { hasText: 'Showing the blocks before height 5' }).waitFor(WAIT);
      expect(await heights(page)).toEqual([4, 3, 2, 1, 0]);
      expect(await page.locator('#older-blocks').count()).toBe(0);
      expect(await page.getAttribute('#newer-blocks', 'href')).toBe(30 >= size ? '/explorer' : '/explorer?before=30');
      expect(errors).toEqual([]);
    }
  });

  it('fits a phone screen: no horizontal page scrolling at 360 px (wide tables scroll in their own region)', async () => {
    const context = await browser.newContext({ viewport: { width: 360, height: 740 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
    const page = await context.newPage();
    await page.goto(`${svc.url}/explorer?block=0`);
    await page.locator('#blocks tbody tr').first().waitFor(WAIT);
    await page.locator('#block-facts').waitFor(WAIT);
    const overflow = () => page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(await overflow()).toBeLessThanOrEqual(0);
    await page.screenshot({ path: join(ARTIFACTS, 'explorer-phone.png'), fullPage: true });
    await context.close();
  });

  it('has no serious or critical axe-core accessibility violation', async () => {
    // axe is injected for the audit only: this context bypasses the page's CSP, the others keep it.
    const page = await (await browser.newContext({ bypassCSP: true })).newPage();
    await page.goto(`${svc.url}/explorer?block=0`);
    await page.waitForFunction(() => document.activeElement?.id === 'block-detail-heading', undefined, WAIT);
    await page.addScriptTag({ path: createRequire(import.meta.url).resolve('axe-core/axe.min.js') });
    const violations = await page.evaluate(async () => {
      const axe = (window as unknown as { axe: { run(ctx: Document): Promise<{ violations: { id: string; impact: string | null; nodes: unknown[] }[] }> } }).axe;
      return (await axe.run(document)).violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length }));
    });
    expect(violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')).toEqual([]);
  });

  it('checks consistency between two checkpoints in the browser', async () => {
    const { page, requests, errors } = await openExplorer();
    const size = Number(await page.textContent('#cp-size'));
    expect(size).toBeGreaterThanOrEqual(2);
    await page.fill('#cons-from', '1');
    await page.fill('#cons-to', String(size));
    await page.click('#cons-check');
    await page.locator('#consistency-result[data-ok="true"]').waitFor(WAIT);
    expect(await page.textContent('#consistency-result')).toContain(`the checkpoint of size ${size} extends the one of size 1`);
    await page.fill('#cons-from', String(size));
    await page.fill('#cons-to', '1');
    await page.click('#cons-check');
    await page.locator('#consistency-result[data-ok="false"]').waitFor(WAIT);
    loopbackOnly(requests);
    expect(errors).toEqual([]);
  });

  it('gives every object a deep link: a validator, a publication, a consistency check', async () => {
    // A publication (the first is made as soon as a settled block exists).
    let pub: { size: number; code: string } | undefined;
    for (let i = 0; i < 20 && !pub; i++) {
      const r = await svc.runner.ledger.publish();
      if ('publication' in r && r.publication) pub = r.publication;
      else await finalize(1);
    }
    expect(pub).toBeDefined();
    const html = await (await fetch(`${svc.url}/explorer`)).text();
    expect(html).toContain(`<tr id="publication-${pub!.size}" data-size="${pub!.size}"><th scope="row"><a href="/explorer#publication-${pub!.size}">`);
    expect(html).toContain('<tr id="validator-validator-2" data-validator="validator-2"><th scope="row"><a href="/explorer#validator-validator-2">');

    // Each address shows its object as the target, with JavaScript and without.
    for (const javaScriptEnabled of [false, true]) {
      for (const id of [`publication-${pub!.size}`, 'validator-validator-2']) {
        const context = await browser.newContext({ javaScriptEnabled });
        const page = await context.newPage();
        await page.goto(`${svc.url}/explorer#${id}`);
        await page.locator(`#${id}:target`).waitFor(WAIT);
        if (id.startsWith('publication')) expect(await page.textContent(`#${id}`)).toContain(pub!.code);
        await context.close();
      }
    }

    // A consistency check has its own address: it runs again when opened.
    const { page, requests, errors } = await openExplorer();
    await page.fill('#cons-from', '1');
    await page.fill('#cons-to', String(pub!.size));
    await page.click('#cons-check');
    await page.locator('#consistency-result[data-ok="true"]').waitFor(WAIT);
    const link = page.url();
    expect(new URL(link).search).toBe(`?from=1&to=${pub!.size}`);
    const again = await (await browser.newContext()).newPage();
    await again.goto(link);
    await again.locator('#consistency-result[data-ok="true"]').waitFor(WAIT);
    expect(await again.inputValue('#cons-to')).toBe(String(pub!.size));
    await again.screenshot({ path: join(ARTIFACTS, 'explorer-deep-links.png'), fullPage: true });
    await again.context().close();
    loopbackOnly(requests);
    expect(errors).toEqual([]);
  });
});
