/**
 * Debian's chromium for the browser tests, driven by playwright-core (no
 * browser download from any CDN). Installed with apt-get when missing; a
 * failed installation fails the test with the reason, it never skips.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
/** apt-get can take minutes on a cold cache. */
export const INSTALL_TIMEOUT_MS = 480_000;

function hasChromium(): boolean {
  return spawnSync('sh', ['-c', 'command -v chromium'], { stdio: 'ignore' }).status === 0 && existsSync(CHROMIUM);
}

/** Install chromium with apt-get unless it is there; throws a clear error when that fails. */
export function ensureChromium(): void {
  if (hasChromium()) return;
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const run = (args: string[]): void => {
    execFileSync('apt-get', args, { env, stdio: ['ignore', 'ignore', 'pipe'], timeout: INSTALL_TIMEOUT_MS });
  };
  try {
    try {
      run(['install', '-y', 'chromium']);
    } catch {
      run(['update']); // a stale package index is the usual reason
      run(['install', '-y', 'chromium']);
    }
  } catch (e) {
    const stderr = (e as { stderr?: Buffer }).stderr?.toString().trim().split('\n').slice(-3).join(' / ');
    throw new Error(`the browser tests need Debian's chromium at ${CHROMIUM}, and \`apt-get install -y chromium\` failed` +
      ` (run it as root, or install chromium yourself): ${stderr || (e instanceof Error ? e.message : String(e))}`);
  }
  if (!hasChromium()) throw new Error(`apt-get installed chromium, but ${CHROMIUM} is not there`);
}

export async function launchChromium(): Promise<Browser> {
  ensureChromium();
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-background-networking'] });
}

const ROOT = new URL('../..', import.meta.url).pathname;

/** Build web/dist when `file` is missing from it (a bare `npx vitest run` without `npm run build:web`). */
export function ensureWebBuilt(file: string): void {
  if (!existsSync(`${ROOT}web/dist/${file}`)) execFileSync('npx', ['vite', 'build', '--config', 'web/vite.config.ts'], { cwd: ROOT, stdio: 'ignore' });
}

/** A fresh page (own context) on `url` that records every request URL and every console or page error. */
export async function recordedPage(browser: Browser, url: string): Promise<{ page: Page; requests: string[]; errors: string[] }> {
  const page = await (await browser.newContext()).newPage();
  const requests: string[] = [];
  const errors: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  page.on('console', (m) => void (m.type() === 'error' && errors.push(m.text())));
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(url);
  return { page, requests, errors };
}
