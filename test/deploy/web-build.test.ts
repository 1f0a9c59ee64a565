/**
 * The deploy's build of the web front (functions/aws/web-build.ts), which
 * sst.config.ts runs first: `npm run build:web` for the SST commands that
 * package functions, nothing for the others, and a clear stop when the build
 * fails or leaves a page out. The build itself is a recorder writing into a
 * temporary root (a real `vite build` would empty the web/dist other test
 * files read).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { prepareWebDist, type Run, WEB_PAGES } from '../../functions/aws/web-build.ts';

const roots: string[] = [];
afterEach(() => {
  for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
});

/** A checkout root, and a build that writes `pages` into its web/dist, recording each call. */
function checkout(pages: readonly string[] = WEB_PAGES): { root: string; calls: unknown[][]; run: Run } {
  const root = mkdtempSync(join(tmpdir(), 'ls-web-build-'));
  roots.push(root);
  const calls: unknown[][] = [];
  const run: Run = (file, args, options) => {
    calls.push([file, args, options]);
    mkdirSync(join(root, 'web/dist'), { recursive: true });
    for (const p of pages) writeFileSync(join(root, 'web/dist', p), '<!doctype html>');
  };
  return { root, calls, run };
}

describe('prepareWebDist (sst.config.ts, before any resource)', () => {
  it.each(['deploy', 'diff', 'dev'])('`sst %s` runs `npm run build:web` in the app root', (command) => {
    const c = checkout();
    expect(prepareWebDist({ root: c.root, command, run: c.run })).toBe(true);
    expect(c.calls).toEqual([['npm', ['run', 'build:web'], { cwd: c.root, stdio: 'inherit' }]]);
  });

  it.each(['remove', 'refresh', 'stand-in'])('`sst %s` builds nothing and checks nothing', (command) => {
    const c = checkout();
    expect(prepareWebDist({ root: c.root, command, run: c.run })).toBe(false);
    expect(c.calls).toEqual([]);
  });

  it('stops the deploy, naming the command, when the build fails', () => {
    const root = checkout().root;
    const run: Run = () => {
      throw new Error('vite: Could not resolve entry module');
    };
    expect(() => prepareWebDist({ root, command: 'deploy', run })).toThrow(/`npm run build:web` failed, so `sst deploy` stops here .*Could not resolve entry module/);
  });

  it('stops the deploy when a page the API serves is missing after the build', () => {
    const c = checkout(['index.html', 'docs.html']);
    expect(() => prepareWebDist({ root: c.root, command: 'deploy', run: c.run })).toThrow(
      '`npm run build:web` left no web/dist/explorer.html; `sst deploy` would ship the API without its web front',
    );
  });
});
