/**
 * The verify page (issue 10): `npm run bench -- web`.
 *
 *  1. What a visitor downloads: the built page's HTML, JavaScript and CSS,
 *     raw and gzipped (web/dist after `npm run build:web`).
 *  2. In Debian's headless chromium (test/web/chromium.ts), against the local
 *     runner on 127.0.0.1: the page's first contentful paint and
 *     DOMContentLoaded, and the time from clicking Verify to the verdict for a
 *     typical proof (one anchor, 4 validators), median over several runs. Side
 *     by side, the floor: verifyProof on the same proof in Node.
 *  3. Trust on first use and extension, with 20 publications served: the time
 *     from navigation to every publication checked and pinned (a quorum check
 *     and a fetched consistency proof each), and from clicking Extend to the
 *     verdict on the extended proof (one request, extendProof, verifyProof).
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { gzipSync } from 'node:zlib';
import { anchorOf, blindingMask, bytesToHex, hashRecord, hexToBytes, parseValidatorSet, verifyProof } from '@ledgerseal/sdk';
import { startService } from '../test/helpers/service.ts';
import { launchChromium } from '../test/web/chromium.ts';
import { fmt, printTable } from './_table.ts';

const ROOT = resolve(import.meta.dirname, '..');
const RUNS = Number(process.env['LEDGERSEAL_BENCH_WEB_RUNS'] ?? 15);
const PUBLICATIONS = 20;
const RECORD = { parcel: 'KA-17/204', owner: 'Ada Lovelace', area_m2: 812.5, registered: '2001-05-04' };

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function run(): Promise<void> {
  execFileSync('npx', ['vite', 'build', '--config', 'web/vite.config.ts'], { cwd: ROOT, stdio: 'ignore' });
  const dist = join(ROOT, 'web/dist');
  // The verify page's files only: the explorer's (explorer-*) and the API reference's (docs.html, its init module, Redoc's bundle) are other pages.
  const files = ['index.html', 'sw.js', ...readdirSync(join(dist, 'assets')).filter((f) => !/^(explorer|docs|redoc\.standalone)-/.test(f)).map((f) => `assets/${f}`)];
  const sizes = files.map((f) => {
    const bytes = readFileSync(join(dist, f));
    return [f.replace(/-[\w-]{8}\./, '-<hash>.'), bytes.length, gzipSync(bytes, { level: 9 }).length] as const;
  });
  const total = sizes.reduce<[number, number]>((a, s) => [a[0] + s[1], a[1] + s[2]], [0, 0]);
  console.log('What a visitor downloads (web/dist)\n');
  printTable(['file', 'bytes', 'gzip bytes'], [...sizes.map((s) => [s[0], s[1], s[2]]), ['total', total[0], total[1]]]);

  const svc = await startService({ LEDGERSEAL_PUBLICATION_INTERVAL_MS: '1000' });
  const browser = await launchChromium();
  try {
    const api = (path: string, init: RequestInit = {}) =>
      fetch(`${svc.url}${path}`, { ...init, headers: { authorization: `Bearer ${svc.apiKey}`, 'content-type': 'application/json' } });
    const mask = blindingMask(hexToBytes(svc.blindingKeyHex), 'parcel:1', 0);
    const sub = (await (await api('/v1/anchors', { method: 'POST', body: JSON.stringify({ anchors: [{ hash: bytesToHex(anchorOf(hashRecord(RECORD), mask)) }] }) })).json()) as {
      anchors: { id: string }[];
    };
    let proof: unknown;
    for (let i = 0; i < 600 && proof === undefined; i++) {
      const a = (await (await api(`/v1/anchors/${sub.anchors[0]!.id}`)).json()) as { status: string; proof?: unknown };
      if (a.status === 'confirmed') proof = a.proof;
      else await svc.runner.runRound();
    }
    if (proof === undefined) throw new Error('the anchor was not confirmed');
    // 20 publications after the proof's block: one block each, then the publication job.
    for (let i = 0, made = 0; made < PUBLICATIONS && i < 2_000; i++) {
      await api('/v1/anchors', { method: 'POST', body: JSON.stringify({ anchors: [{ hash: bytesToHex(hashRecord({ filler: i })) }] }) });
      await svc.runner.runRound();
      if ((await svc.runner.ledger.publish()).status === 'published') made++;
    }
    const published = ((await (await fetch(`${svc.url}/v1/publications?limit=100`)).json()) as { items: unknown[] }).items.length;

    const paints: number[] = [];
    const loaded: number[] = [];
    const verify: number[] = [];
    const pinning: number[] = [];
    const extend: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(`${svc.url}/`);
      await page.locator('#service-set', { hasText: 'fingerprint' }).waitFor({ timeout: 15_000 });
      await page.locator('#service-publications', { hasText: 'pinned' }).waitFor({ timeout: 15_000 });
      const t = await page.evaluate(() => ({
        pinned: performance.getEntriesByName('ledgerseal:pinned')[0]?.startTime ?? NaN,
        fcp: performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN,
        dcl: (performance.getEntriesByType('navigation' as never)[0] as PerformanceNavigationTiming).domContentLoadedEventEnd,
      }));
      paints.push(t.fcp);
      loaded.push(t.dcl);
      pinning.push(t.pinned);
      await page.fill('#proof', JSON.stringify(proof));
      await page.fill('#record', JSON.stringify(RECORD));
      await page.fill('#mask', bytesToHex(mask));
      // Timed inside the page: from the click handler's start to the verdict in the DOM.
      const ms = await page.evaluate(
        () =>
          new Promise<number>((done) => {
            const verdict = document.getElementById('verdict')!;
            const t0 = performance.now();
            const seen = new MutationObserver(() => {
              if (verdict.getAttribute('data-ok') === 'true') {
                seen.disconnect();
                done(performance.now() - t0);
              }
            });
            seen.observe(verdict, { attributes: true, childList: true, subtree: true });
            (document.getElementById('verify') as HTMLButtonElement).click();
          }),
      );
      verify.push(ms);
      // Extend the same proof to the latest pinned publication; timed to the verdict on the extended proof.
      const ext = await page.evaluate(
        () =>
          new Promise<number>((done) => {
            const status = document.getElementById('extend-status')!;
            const verdict = document.getElementById('verdict')!;
            const t0 = performance.now();
            const seen = new MutationObserver(() => {
              if (status.textContent?.includes('was extended') && verdict.getAttribute('data-ok') === 'true') {
                seen.disconnect();
                done(performance.now() - t0);
              }
            });
            seen.observe(document.body, { attributes: true, childList: true, subtree: true, characterData: true });
            (document.getElementById('extend') as HTMLButtonElement).click();
          }),
      );
      extend.push(ext);
      await context.close();
    }
    const set = parseValidatorSet(await (await fetch(`${svc.url}/v1/validators`)).json());
    // Each run on a fresh copy of the proof; the first run of the process is shown apart (cold code paths).
    const node: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const copy = JSON.parse(JSON.stringify(proof)) as unknown;
      const t0 = performance.now();
      if (!verifyProof(copy, { validators: set }).ok) throw new Error('the proof does not verify');
      node.push(performance.now() - t0);
    }
    console.log(`\nIn headless chromium (Debian), the local runner on 127.0.0.1, ${RUNS} runs, median\n`);
    printTable(
      ['measure', 'ms'],
      [
        ['first contentful paint', fmt(median(paints), 1)],
        ['DOMContentLoaded', fmt(median(loaded), 1)],
        ['click Verify -> verdict (record hashed, proof checked, quorum of 4)', fmt(median(verify), 1)],
        [`navigation -> ${Math.min(published, 20)} publications checked and pinned (first visit)`, fmt(median(pinning), 1)],
        ['click Extend -> verdict on the proof extended to the latest publication', fmt(median(extend), 1)],
        ['floor: verifyProof on the same proof in Node, first run of the process', fmt(node[0]!, 2)],
        ['floor: verifyProof on the same proof in Node, median of the runs', fmt(median(node), 2)],
      ],
    );
  } finally {
    await browser.close();
    await svc.close();
  }
}
