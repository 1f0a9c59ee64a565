/**
 * Dependency directions (DEVELOPERS.md non-negotiable 7, STYLE.md "What to
 * absorb" 1): read every import of every source file and refuse the ones that
 * point the wrong way.
 *
 * - sdk/src imports only sdk/src, @noble/*, its own `#sha256` / `#ed25519`
 *   conditions, and `node:` built-ins in its `_*-node.ts` backends; the
 *   Node-only CLI under sdk/src/cli/ may also use `node:` built-ins and the
 *   database drivers, which are optional peers: `import type` or a dynamic
 *   `import()` only, so loading a module never requires them; nothing outside
 *   sdk/src/cli/ imports it (the core stays browser-safe);
 * - functions/ and web/ reach the sdk only through its package entry points
 *   (`@ledgerseal/sdk` and the subpaths its package.json exports), never by path;
 * - functions/store/ imports nothing of the ledger, the API or the wiring
 *   (only its own files and functions/errors.ts);
 * - functions/ledger/ imports nothing of the API.
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

const sdkExports = Object.keys((JSON.parse(readFileSync(join(ROOT, 'sdk/package.json'), 'utf8')) as { exports: Record<string, unknown> }).exports)
  .map((k) => (k === '.' ? '@ledgerseal/sdk' : `@ledgerseal/sdk/${k.slice(2)}`));

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

  it('the sdk imports nothing outside itself but @noble/* (node: only in its Node backends and the CLI)', () => {
    const found = violations('sdk/src', (file, spec, to) => {
      const cli = file.startsWith('sdk/src/cli/');
      if (to !== null) {
        if (!to.startsWith('sdk/src/')) return 'leaves sdk/src';
        return !cli && to.startsWith('sdk/src/cli/') ? 'the core imports the Node-only CLI' : null;
      }
      if (spec.startsWith('@noble/') || spec === '#sha256' || spec === '#ed25519') return null;
      if (spec.startsWith('node:') && (cli || /\/_[a-z0-9-]+-node\.ts$/.test(file))) return null;
      if (cli && DRIVERS.includes(spec)) return null;
      return 'not an sdk dependency';
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
});
