/**
 * esbuild plugins for the Lambda bundles (sst.config.ts `nodejs.plugins`;
 * bench/deploy.bench.ts bundles with the same list). Plain ESM: SST loads it
 * with `node`, before any TypeScript tooling.
 *
 * zod-locales-en: zod 4 re-exports every message locale (`z.locales`, 60+
 * languages, about 267 KB of the 1.1 MB minified API bundle) as namespaces
 * (`z.locales`, `z.core.locales`) that the `z` object keeps alive, so no
 * bundler can drop them. The service
 * uses only English, which zod registers on its own (classic/schemas.js
 * imports locales/en.js directly). The plugin gives `z.locales` that one
 * locale: BENCHMARKS.md "Lambda bundles and cold starts".
 */
import { dirname } from 'node:path';

/** @type {import('esbuild').Plugin} */
export const zodLocalesEn = {
  name: 'zod-locales-en',
  setup(build) {
    build.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) => {
      if (!/[\\/]zod[\\/]v4[\\/](classic[\\/]external|core[\\/]index)\.js$/.test(args.importer)) return undefined;
      return { path: args.importer, namespace: 'zod-locales-en' };
    });
    build.onLoad({ filter: /.*/, namespace: 'zod-locales-en' }, (args) => ({
      contents: `export { default as en } from '../locales/en.js';\n`,
      resolveDir: dirname(args.path),
      loader: 'js',
    }));
  },
};

export default [zodLocalesEn];
