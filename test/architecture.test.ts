/**
 * Dependency directions (DEVELOPERS.md non-negotiable 7, STYLE.md "What to
 * absorb" 1): read every import of every source file and refuse the ones that
 * point the wrong way.
 *
 * - the sdk core (sdk/src outside client/ and cli/, the package's "." export)
 *   imports only the core, @noble/*, its own `#sha256` / `#ed25519` conditions,
 *   and `node:` built-ins in its `_*-node.ts` backends;
 * - the sdk client (sdk/src/client/, "./client") imports the core (with its
 *   `#sha256` / `#ed25519` conditions), itself and openapi-fetch, never `node:`
 *   (it runs in browsers) nor the CLI;
 * - the sdk webhook receiver (sdk/src/receiver/, "./webhooks") imports the core,
 *   itself, and the generated ../client/openapi.ts as types only; no package, and
 *   `node:` only in its Node adapter (node.ts), as types only, so that the Fetch
 *   adapter, and the whole subpath, run in browsers and edge runtimes; nothing
 *   else imports it;
 * - the sdk CLI (sdk/src/cli/, "./cli") imports the sdk, `node:` built-ins and
 *   the packages sdk/package.json declares, nothing outside sdk/src; the
 *   database drivers, optional peers, only as types or with a dynamic
 *   `import()`, so that loading a CLI module never requires them;
 * - functions/ and web/ reach the sdk only through its package entry points
 *   (`@ledgerseal/sdk` and the subpaths its package.json exports), never by path;
 * - functions/store/ imports nothing of the ledger, the API or the wiring
 *   (only its own files and functions/errors.ts);
 * - functions/ledger/ imports nothing of the API;
 * - functions/aws/ and functions/local/, the two platforms, never import each
 *   other: what both need (the disk reader of the web front, functions/web-files.ts)
 *   lives above them;
 * - functions/validator/ (an independent validator) imports nothing of the
 *   coordinator's table (functions/store/), the ledger (coordinator, calendar),
 *   the API app (functions/api/, functions/app.ts), the services or the wiring:
 *   only its own files, the sdk and packages; the ledger imports it, never back.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');

function sources(dir: string): string[] {
  const abs = join(ROOT, dir);
  if (!existsSync(abs)) return [];
  return readdirSync(abs).flatMap((name) => {
    const p = join(abs, name);
    if (statSync(p).isDirectory()) return name === 'node_modules' || name === 'dist' ? [] : sources(relative(ROOT, p));
    return /\.(ts|tsx|js|mjs)$/.test(name) && !name.endsWith('.d.ts') ? [relative(ROOT, p)] : [];
  });
}

/** Every module specifier a file imports or re-exports, static or dynamic. */
export function importsOf(text: string): string[] {
  const out: string[] = [];
  const re = /(?:^|[\s;])(?:import|export)\s(?:[^'";]*?\sfrom\s)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;
  for (let m = re.exec(text); m; m = re.exec(text)) out.push((m[1] ?? m[2])!);
  return out;
}

/** Resolved repository path of a relative specifier, or null for a package. */
function target(file: string, spec: string): string | null {
  if (!spec.startsWith('.')) return null;
  return relative(ROOT, resolve(ROOT, dirname(file), spec));
}

/** The database drivers of the CLI's connectors (optional peer dependencies, and pg-copy-streams with pg). */
const DRIVERS = ['pg', 'pg-copy-streams', 'mysql2', 'mysql2/promise'];

const sdkManifest = JSON.parse(readFileSync(join(ROOT, 'sdk/package.json'), 'utf8')) as {
  exports: Record<string, unknown>;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
};
const sdkExports = Object.keys(sdkManifest.exports).map((k) => (k === '.' ? '@ledgerseal/sdk' : `@ledgerseal/sdk/${k.slice(2)}`));
const sdkPackages = [...Object.keys(sdkManifest.dependencies ?? {}), ...Object.keys(sdkManifest.peerDependencies ?? {})];
/** The package name of a bare specifier: `@scope/name/sub` -> `@scope/name`, `name/sub` -> `name`. */
const packageOf = (spec: string): string => spec.split('/').slice(0, spec.startsWith('@') ? 2 : 1).join('/');
const layerOf = (path: string): 'client' | 'cli' | 'receiver' | 'core' =>
  path.startsWith('sdk/src/client/') ? 'client' : path.startsWith('sdk/src/cli/') ? 'cli' : path.startsWith('sdk/src/receiver/') ? 'receiver' : 'core';

/** True when every import of `spec` in the file is `import type` / `export type` (erased at compile time). */
function typeOnly(file: string, spec: string): boolean {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const quoted = `['"]${spec.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}['"]`;
  const all = [...text.matchAll(new RegExp(`(?:^|[\\s;])(?:import|export)\\s(?:[^'";]*?\\sfrom\\s)?${quoted}|import\\(\\s*${quoted}`, 'g'))];
  return all.length > 0 && all.every((m) => /^[\s;]*(?:import|export)\s+type\s/.test(m[0]));
}

function violations(dir: string, rule: (file: string, spec: string, to: string | null) => string | null): string[] {
  return sources(dir).flatMap((file) =>
    importsOf(readFileSync(join(ROOT, file), 'utf8')).flatMap((spec) => {
      const why = rule(file, spec, target(file, spec));
      return why ? [`${file}: "${spec}" (${why})`] : [];
    }),
  );
}

describe('dependency directions', () => {
  it('finds imports of every form (the rule checker itself)', () => {
    const text = `import a from 'x';\nimport { b } from "../y.ts";\nexport * from './z.ts';\nimport type { C } from 'w';\nconst d = await import('./v.ts');\nimport 'side';`;
    expect(importsOf(text)).toEqual(['x', '../y.ts', './z.ts', 'w', './v.ts', 'side']);
  });

  it('the sdk core imports nothing outside itself but @noble/* (node: only in its Node backends), nor the client or CLI', () => {
    const core = sources('sdk/src').filter((f) => layerOf(f) === 'core');
    const found = violations('sdk/src', (file, spec, to) => {
      if (!core.includes(file)) return null;
      if (to !== null) return !to.startsWith('sdk/src/') ? 'leaves sdk/src' : layerOf(to) !== 'core' ? `core imports the ${layerOf(to)}` : null;
      if (spec.startsWith('@noble/') || spec === '#sha256' || spec === '#ed25519') return null;
      if (spec.startsWith('node:') && /\/_[a-z0-9-]+-node\.ts$/.test(file)) return null;
      return 'not a core dependency';
    });
    expect(core.length).toBeGreaterThan(10);
    expect(found).toEqual([]);
  });

  it('the sdk client imports the core, itself and openapi-fetch only (no node:, it runs in browsers)', () => {
    const found = violations('sdk/src/client', (_file, spec, to) => {
      if (to !== null) return !to.startsWith('sdk/src/') ? 'leaves sdk/src' : ['cli', 'receiver'].includes(layerOf(to)) ? `client imports the ${layerOf(to)}` : null;
      return spec === 'openapi-fetch' || spec === '#sha256' || spec === '#ed25519' ? null : 'not a client dependency';
    });
    expect(sources('sdk/src/client').length).toBeGreaterThan(0);
    expect(found).toEqual([]);
  });

  it('the sdk receiver imports the core, itself and the generated API types only (node: types in node.ts only)', () => {
    const found = violations('sdk/src/receiver', (file, spec, to) => {
      if (to === 'sdk/src/client/openapi.ts') return typeOnly(file, spec) ? null : 'the generated API types, as types only';
      if (to !== null) return !to.startsWith('sdk/src/') ? 'leaves sdk/src' : ['client', 'cli'].includes(layerOf(to)) ? `receiver imports the ${layerOf(to)}` : null;
      if (spec.startsWith('node:')) return file !== 'sdk/src/receiver/node.ts' ? 'node: outside the Node adapter' : typeOnly(file, spec) ? null : 'node: at run time';
      return 'not a receiver dependency';
    });
    expect(sources('sdk/src/receiver')).toEqual(expect.arrayContaining(['sdk/src/receiver/index.ts', 'sdk/src/receiver/fetch.ts', 'sdk/src/receiver/node.ts']));
    expect(found).toEqual([]);
  });

  it('nothing else in the sdk imports the receiver', () => {
    const found = violations('sdk/src', (file, _spec, to) =>
      to !== null && layerOf(to) === 'receiver' && layerOf(file) !== 'receiver' ? `${layerOf(file)} imports the receiver` : null);
    expect(found).toEqual([]);
  });

  it('the sdk CLI imports the sdk, node: built-ins and declared sdk packages only', () => {
    const found = violations('sdk/src/cli', (_file, spec, to) => {
      if (to !== null) return to.startsWith('sdk/src/') ? null : 'leaves sdk/src';
      if (spec.startsWith('node:') || spec === '#sha256' || spec === '#ed25519' || sdkPackages.includes(packageOf(spec))) return null;
      return 'not declared in sdk/package.json';
    });
    expect(found).toEqual([]);
  });

  it('the CLI loads the database drivers only as types or with a dynamic import()', () => {
    const found = sources('sdk/src/cli').flatMap((file) => {
      const text = readFileSync(join(ROOT, file), 'utf8');
      return [...text.matchAll(/(?:^|[\s;])(import|export)\s+(?!type\s)[^'";]*?\sfrom\s+['"]([^'"]+)['"]/g)]
        .filter((m) => DRIVERS.includes(m[2]!))
        .map((m) => `${file}: ${m[0].trim()}`);
    });
    expect(sources('sdk/src/cli/sources').length).toBeGreaterThan(0);
    expect(found).toEqual([]);
  });

  it('functions/ and web/ use the sdk through its package entry points only', () => {
    const rule = (_file: string, spec: string, to: string | null): string | null => {
      if (to !== null) return to.startsWith('sdk/') ? 'sdk by path' : null;
      if (spec.startsWith('@ledgerseal/sdk') && !sdkExports.includes(spec)) return 'not an exported entry point';
      return null;
    };
    expect([...violations('functions', rule), ...violations('web', rule)]).toEqual([]);
  });

  it('the store imports no ledger, API or wiring code; the ledger imports no API code', () => {
    const store = violations('functions/store', (_f, _s, to) =>
      to === null || to.startsWith('functions/store/') || to === 'functions/errors.ts' ? null : 'store depends on service code');
    const ledger = violations('functions/ledger', (_f, _s, to) => (to?.startsWith('functions/api/') ? 'ledger depends on the API' : null));
    expect([...store, ...ledger]).toEqual([]);
  });

  it('the two platforms, functions/aws and functions/local, never import each other', () => {
    const found = [
      ...violations('functions/aws', (_f, _s, to) => (to?.startsWith('functions/local/') ? 'aws imports the local runner' : null)),
      ...violations('functions/local', (_f, _s, to) => (to?.startsWith('functions/aws/') ? 'the local runner imports aws' : null)),
    ];
    expect(sources('functions/aws').length).toBeGreaterThan(5);
    expect(found).toEqual([]);
  });

  it('the validator unit needs nothing of the coordinator: no store, ledger, API, services or wiring', () => {
    const found = violations('functions/validator', (_f, _s, to) => {
      if (to === null) return null;
      if (to.startsWith('functions/validator/') || to === 'functions/config.ts' || to === 'functions/dir-lock.ts') return null;
      return 'the validator depends on the coordinator side';
    });
    expect(sources('functions/validator').length).toBeGreaterThan(5);
    expect(found).toEqual([]);
  });
});
