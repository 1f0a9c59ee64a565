/**
 * Vite build of the verify page (`npm run build:web`): web/index.html and
 * web/src into web/dist, assets with content-hashed names under dist/assets/
 * (served with a year's cache by functions/api/web.ts). No inline scripts or
 * styles, so the page runs under a CSP without 'unsafe-inline'.
 */
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
  },
});
