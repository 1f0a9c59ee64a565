/**
 * Bundle a Lambda handler as SST 4 bundles a nodejs22.x function
 * (pkg/runtime/node/build.go in the sst repository, v4.17): platform node,
 * format esm, bundle, target es2023 (SST's target for nodejs22.x), minify
 * (whitespace, syntax, identifiers), keepNames, mainFields module,main, SST's
 * createRequire banner, only `sharp` and `pg-native` external (so the AWS SDK
 * is bundled), a linked source map, and the plugins sst.config.ts names.
 * Used by bench/deploy.bench.ts and test/deploy/bundle.test.ts.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build, type Metafile } from 'esbuild';
import plugins from '../functions/aws/esbuild-plugins.mjs';

const ROOT = resolve(import.meta.dirname, '..');

/** SST's banner for ESM functions (build.go). */
const BANNER = [
  `import { createRequire as topLevelCreateRequire } from 'module';`,
  `const require = topLevelCreateRequire(import.meta.url);`,
  `import { fileURLToPath as topLevelFileUrlToPath, URL as topLevelURL } from "url"`,
  `const __filename = topLevelFileUrlToPath(import.meta.url)`,
  `const __dirname = topLevelFileUrlToPath(new topLevelURL(".", import.meta.url))`,
  '',
].join('\n');

export function packageOf(input: string): string {
  const i = input.lastIndexOf('node_modules/');
  if (i < 0) return input.startsWith('sdk/') ? '@ledgerseal/sdk' : 'ledgerseal (functions/)';
  const rest = input.slice(i + 'node_modules/'.length).split('/');
  return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
}

export async function sstBundle(entry: string, outfile: string, withPlugins = true): Promise<{ bytes: number; gzip: number; packages: Map<string, number> }> {
  const result = await build({
    entryPoints: [join(ROOT, entry)],
    absWorkingDir: ROOT,
    platform: 'node',
    format: 'esm',
    target: 'es2023',
    bundle: true,
    minifyWhitespace: true,
    minifySyntax: true,
    minifyIdentifiers: true,
    keepNames: true,
    mainFields: ['module', 'main'],
    external: ['sharp', 'pg-native'],
    banner: { js: BANNER },
    sourcemap: 'linked',
    metafile: true,
    outfile,
    logLevel: 'error',
    plugins: withPlugins ? plugins : [],
  });
  const code = readFileSync(outfile);
  const out = Object.entries((result.metafile as Metafile).outputs).find(([k]) => k.endsWith('.mjs'))![1];
  const packages = new Map<string, number>();
  for (const [input, { bytesInOutput }] of Object.entries(out.inputs)) packages.set(packageOf(input), (packages.get(packageOf(input)) ?? 0) + bytesInOutput);
  return { bytes: code.length, gzip: gzipSync(code, { level: 9 }).length, packages };
}

