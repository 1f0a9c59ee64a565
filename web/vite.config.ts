/**
 * Vite build of the web front (`npm run build:web`), two pages: the verify page
 * (web/index.html, served at `/`) and the explorer (web/explorer.html, served at
 * `/explorer`), with web/src, into web/dist, assets with content-hashed names under dist/assets/
 * (served with a year's cache by functions/api/web.ts). No inline scripts or
 * styles, so the page runs under a CSP without 'unsafe-inline'.
 */
import { resolve } from 'node:path';
import { defineConfig } from 'vite';

export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  logLevel: 'warn',
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
      // The entry names give the chunk names: assets/index-<hash>.js, assets/explorer-<hash>.js.
      input: { index: resolve(import.meta.dirname, 'index.html'), explorer: resolve(import.meta.dirname, 'explorer.html') },
    },
  },
});
