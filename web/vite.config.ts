/**
 * Vite build of the web front (`npm run build:web`): web/index.html (the
 * verify page, `/`), web/explorer.html (the ledger explorer, `/explorer`) and
 * web/docs.html (the API reference, `/docs`) with web/src into
 * web/dist, assets with content-hashed names under dist/assets/ (served with a
 * year's cache by functions/api/web.ts). No inline scripts or styles of our
 * own, so the pages run under a CSP without 'unsafe-inline' scripts.
 *
 * The reference is rendered by Redoc's standalone bundle from the `redoc`
 * devDependency (pinned): the plugin below copies that one prebuilt file into
 * dist/assets/ under a content-hashed name and adds its classic <script> to
 * docs.html ahead of the init module, so nothing is fetched from a CDN and the
 * 1 MB bundle is never re-bundled (the build stays fast). The copy differs
 * from the package's file in two strings only: the menu footer's logo URL on
 * Redocly's CDN (made an empty data: URL) and the sourceMappingURL comment.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { defineConfig, type Plugin } from 'vite';

const root = import.meta.dirname;

/** The one off-origin request in Redoc 2's bundle: the menu footer's logo image, fetched from Redocly's CDN. */
const REDOC_CDN_LOGO = 'https://cdn.redoc.ly/redoc/logo-mini.svg';

function redocStandalone(): Plugin {
  const file = createRequire(import.meta.url).resolve('redoc/bundles/redoc.standalone.js');
  const original = readFileSync(file, 'utf8');
  // The logo's src becomes an empty data: URL (no request; the component drops the image on its load error).
  // A new Redoc version that changes this fails the build here rather than reaching for the CDN.
  if (original.split(REDOC_CDN_LOGO).length !== 2) throw new Error(`${file}: expected exactly one ${REDOC_CDN_LOGO} to rewrite`);
  const source = original
    .replace(REDOC_CDN_LOGO, 'data:,')
    // Its trailing sourceMappingURL names a map that is not shipped: dropped, so no tool asks for it.
    .replace(/\n\/\/# sourceMappingURL=\S+\s*$/, '\n');
  if (/https?:\/\/cdn\./.test(source)) throw new Error(`${file}: a CDN URL is left in Redoc's bundle`);
  const fileName = `assets/redoc.standalone-${createHash('sha256').update(source).digest('hex').slice(0, 8)}.js`;
  return {
    name: 'ledgerseal-redoc-standalone',
    apply: 'build',
    generateBundle() {
      this.emitFile({ type: 'asset', fileName, source });
    },
    transformIndexHtml: {
      order: 'post',
      handler(_html, ctx) {
        if (!ctx.filename.endsWith('docs.html')) return undefined;
        return [{ tag: 'script', attrs: { src: `/${fileName}` }, injectTo: 'head' }];
      },
    },
  };
}

/**
 * web/dist/sw.js, the verify page's service worker, from web/sw/sw.template.js:
 * the files it keeps are `/` and every /assets/ file that index.html loads
 * (scripts, module preloads, styles), read from the built index.html; its
 * cache is named after a hash of them, so a new build replaces the old copy.
 */
function verifyPageServiceWorker(): Plugin {
  return {
    name: 'ledgerseal-verify-service-worker',
    apply: 'build',
    enforce: 'post',
    generateBundle(_options, bundle) {
      const html = bundle['index.html'];
      if (!html || html.type !== 'asset') throw new Error('the build has no index.html to write the service worker for');
      const assets = [...new Set([...String(html.source).matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]!))].sort();
      if (assets.length === 0) throw new Error('index.html loads no /assets/ file: the service worker would keep nothing');
      for (const a of assets) if (!bundle[a.slice(1)]) throw new Error(`index.html loads ${a}, which the build did not write`);
      const files = ['/', ...assets];
      const cache = `ledgerseal-verify-${createHash('sha256').update(files.join('\n')).digest('hex').slice(0, 12)}`;
      const template = readFileSync(join(root, 'sw/sw.template.js'), 'utf8');
      const source = template.replace("'__CACHE__'", JSON.stringify(cache)).replace('__FILES__', JSON.stringify(files));
      if (source.includes('__CACHE__') || source.includes('__FILES__')) throw new Error('sw.template.js: a placeholder was left unfilled');
      this.emitFile({ type: 'asset', fileName: 'sw.js', source });
    },
  };
}

export default defineConfig({
  root,
  base: '/',
  logLevel: 'warn',
  plugins: [redocStandalone(), verifyPageServiceWorker()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    // Never inline assets as data: URLs into the JS; the modulepreload polyfill is a module, not an inline script.
    assetsInlineLimit: 0,
    target: 'es2022',
    sourcemap: false,
    reportCompressedSize: false,
    rollupOptions: {
      // The entry names give the chunk names: assets/index-<hash>.js, assets/explorer-<hash>.js, assets/docs-<hash>.js.
      input: { index: join(root, 'index.html'), explorer: join(root, 'explorer.html'), docs: join(root, 'docs.html') },
    },
  },
});
