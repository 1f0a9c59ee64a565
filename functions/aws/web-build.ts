/**
 * The deploy's build of the web front (docs/deploy.md "The web front"), run by
 * sst.config.ts before it declares any resource: every SST command that
 * packages functions (`sst deploy`, `sst diff`, `sst dev`) first runs
 * `npm run build:web` (Vite, about two seconds), so the API function never
 * ships a web/dist older than the checkout, nor none at all. Then the pages
 * the API serves must be there; a missing one stops the command with the
 * reason instead of deploying an API whose `/` is a 404. Other commands
 * (`sst remove`, `sst refresh`, ...) package nothing and build nothing.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** The SST commands that package the functions, hence web/dist. */
export const PACKAGING_COMMANDS: readonly string[] = ['deploy', 'diff', 'dev'];

/** The pages of web/dist the API serves (functions/api/web.ts): `/`, `/explorer`, `/docs`. */
export const WEB_PAGES: readonly string[] = ['index.html', 'explorer.html', 'docs.html'];

export type Run = (file: string, args: readonly string[], options: { cwd: string; stdio: 'inherit' }) => unknown;

/**
 * Build web/dist under `root` for a packaging `command`; returns whether it
 * built. `run` is execFileSync (tests pass a recorder). Throws when the build
 * fails or leaves a page missing.
 */
export function prepareWebDist(o: { root: string; command: string; run?: Run }): boolean {
  if (!PACKAGING_COMMANDS.includes(o.command)) return false;
  const run = o.run ?? ((file, args, options) => execFileSync(file, args, options));
  try {
    run('npm', ['run', 'build:web'], { cwd: o.root, stdio: 'inherit' });
  } catch (e) {
    throw new Error(`\`npm run build:web\` failed, so \`sst ${o.command}\` stops here (the API function ships web/dist): ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  const missing = WEB_PAGES.filter((p) => !existsSync(join(o.root, 'web/dist', p)));
  if (missing.length > 0) {
    throw new Error(`\`npm run build:web\` left no ${missing.map((p) => `web/dist/${p}`).join(', ')}; \`sst ${o.command}\` would ship the API without its web front`);
  }
  return true;
}
