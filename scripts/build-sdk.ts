/**
 * Build @ledgerseal/sdk for publishing: `npm run build:sdk [outDir]` (default sdk/dist).
 *
 * In the monorepo the package exports its TypeScript sources (tsx, vitest and
 * bundlers read them directly). A published package must be plain JavaScript, so
 * this compiles all of sdk/src (the core, ./client, ./cli and ./webhooks) with tsc (`.ts`
 * imports rewritten to `.js`, declarations emitted), copies the `ledgerseal`
 * launcher (sdk/bin/ledgerseal.js, which finds the compiled CLI next to it), and
 * writes a package.json for the output whose "exports", "#sha256"/"#ed25519"
 * import conditions and "bin" point at the compiled files. Publish with
 * `npm publish sdk/dist`; test/sdk/package-build.test.ts installs its tarball.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const sdk = join(root, 'sdk');

export function buildSdk(outDir: string = join(sdk, 'dist')): string {
  const out = resolve(outDir);
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(sdk, 'tsconfig.build.json'), '--outDir', out], {
    stdio: 'inherit',
  });
  const src = JSON.parse(readFileSync(join(sdk, 'package.json'), 'utf8')) as Record<string, unknown>;
  const manifest = {
    name: src.name,
    version: src.version,
    description: src.description,
    license: src.license,
    type: 'module',
    sideEffects: false,
    engines: src.engines,
    exports: {
      '.': { types: './index.d.ts', default: './index.js' },
      './client': { types: './client/index.d.ts', default: './client/index.js' },
      './cli': { types: './cli/index.d.ts', default: './cli/index.js' },
      './webhooks': { types: './receiver/index.d.ts', default: './receiver/index.js' },
    },
    imports: {
      '#sha256': {
        types: './_sha256-browser.d.ts',
        browser: './_sha256-browser.js',
        node: './_sha256-node.js',
        default: './_sha256-browser.js',
      },
      '#ed25519': {
        types: './_ed25519-browser.d.ts',
        browser: './_ed25519-browser.js',
        node: './_ed25519-node.js',
        default: './_ed25519-browser.js',
      },
    },
    bin: { ledgerseal: 'bin/ledgerseal.js' },
    dependencies: src.dependencies,
    peerDependencies: src.peerDependencies,
    peerDependenciesMeta: src.peerDependenciesMeta,
  };
  writeFileSync(join(out, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  // The launcher imports ../cli/main.js when it exists (here), and only in the repository falls back to tsx.
  const launcher = readFileSync(join(sdk, 'bin', 'ledgerseal.js'), 'utf8');
  if (!launcher.startsWith('#!/usr/bin/env node\n')) throw new Error('sdk/bin/ledgerseal.js must start with a node shebang');
  if (!existsSync(join(out, 'cli', 'main.js'))) throw new Error('the compiled CLI (cli/main.js) is missing');
  mkdirSync(join(out, 'bin'), { recursive: true });
  writeFileSync(join(out, 'bin', 'ledgerseal.js'), launcher);
  chmodSync(join(out, 'bin', 'ledgerseal.js'), 0o755);
  if (existsSync(join(sdk, 'README.md'))) copyFileSync(join(sdk, 'README.md'), join(out, 'README.md'));
  return out;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = buildSdk(process.argv[2]);
  console.log(`built @ledgerseal/sdk into ${out}`);
}
