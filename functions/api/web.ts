/**
 * The web front (issue 10): the verify page at `/`, the ledger explorer at
 * `/explorer` (web/explorer.html; a block's detail at `/explorer?block=<height>`,
 * older blocks at `/explorer?before=<height>`),
 * the API reference at `/docs` (Redoc rendering /openapi.json) and their hashed
 * assets at `/assets/*`, as Vite builds them into web/dist (`npm run build:web`).
 *
 * The app stays platform-free: it never touches a file system. The platform
 * passes a `WebFiles` reader (the local runner reads web/dist from disk,
 * functions/local/web-files.ts); without one, these routes are not registered
 * and `/` is the API's problem+json 404 like any unknown path.
 *
 * Headers: a Content-Security-Policy with no 'unsafe-inline' (the page has no
 * inline script or style, and talks to its own origin only; `/docs` alone
 * allows inline styles, which Redoc's styled-components inject, never inline
 * scripts), nosniff, no
 * referrer; index.html is revalidated on every load (`no-cache`), the assets,
 * whose names carry a content hash, are cached for a year as immutable.
 */
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { AppEnv } from './schemas.ts';
import { type ExplorerData, renderExplorer } from './explorer-html.ts';
import { ApiError } from './problem.ts';

/** Reads one file of the built page by its path under web/dist (`index.html`, `assets/index-3f2a.js`); undefined when absent. */
export type WebFiles = (path: string) => Promise<Uint8Array | undefined>;

export const WEB_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** The reference's policy: WEB_CSP but for inline styles (Redoc's CSS-in-JS); scripts stay same-origin files only. */
export const DOCS_CSP = WEB_CSP.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'");

const CONTENT_TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml',
  png: 'image/png',
  ico: 'image/x-icon',
  json: 'application/json',
  map: 'application/json',
  woff2: 'font/woff2',
  txt: 'text/plain; charset=utf-8',
};

/** One path segment a Vite build writes under assets/: no dots at the start, no separators. */
const ASSET_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;

function contentType(path: string): string {
  return CONTENT_TYPES[path.slice(path.lastIndexOf('.') + 1)] ?? 'application/octet-stream';
}

function send(c: Context<AppEnv>, body: Uint8Array, path: string, cacheControl: string, csp: string = WEB_CSP): Response {
  return c.body(body as Uint8Array<ArrayBuffer>, 200, {
    'content-type': contentType(path),
    'cache-control': cacheControl,
    'content-security-policy': csp,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cross-origin-opener-policy': 'same-origin',
  });
}

/** How long a server rendering of the explorer is reused, and how many are kept. */
const RENDER_TTL_MS = 1_000;
const RENDER_CACHE = 64;

/** `ledger`, when given, fills the explorer's lists on the server (explorer-html.ts), so they read without JavaScript. */
export function registerWebRoutes(app: OpenAPIHono<AppEnv>, files: WebFiles, ledger?: ExplorerData): void {
  app.get('/', async (c) => {
    const html = await files('index.html');
    if (!html) throw new ApiError('not-found', 'the verify page is not built: run `npm run build:web`');
    return send(c, html, 'index.html', 'no-cache');
  });

  // The server-rendered explorer reads the store and checks every listed block's signatures: a
  // public page, so a rendering is reused for RENDER_TTL_MS (per block and before parameter, at most
  // RENDER_CACHE entries) and a burst of loads costs one rendering.
  const rendered = new Map<string, { at: number; page: Promise<Uint8Array> }>();
  app.get('/explorer', async (c) => {
    const html = await files('explorer.html');
    if (!html) throw new ApiError('not-found', 'the explorer is not built: run `npm run build:web`');
    if (!ledger) return send(c, html, 'explorer.html', 'no-cache');
    const height = (name: string): number | undefined => {
      const q = c.req.query(name);
      return q !== undefined && /^\d{1,15}$/.test(q) ? Number(q) : undefined;
    };
    const block = height('block');
    const before = height('before');
    const key = `${block ?? ''}/${before ?? ''}`;
    const now = Date.now();
    let hit = rendered.get(key);
    if (!hit || now - hit.at > RENDER_TTL_MS) {
      if (rendered.size >= RENDER_CACHE) for (const [k, v] of rendered) if (now - v.at > RENDER_TTL_MS || rendered.size >= RENDER_CACHE) rendered.delete(k);
      hit = { at: now, page: renderExplorer(new TextDecoder().decode(html), ledger, { ...(block !== undefined && { block }), ...(before !== undefined && { before }) }).then((p) => new TextEncoder().encode(p)) };
      rendered.set(key, hit);
      hit.page.catch(() => rendered.delete(key));
    }
    return send(c, await hit.page, 'explorer.html', 'no-cache');
  });

  const docs = async (c: Context<AppEnv>): Promise<Response> => {
    const html = await files('docs.html');
    if (!html) throw new ApiError('not-found', 'the API reference is not built: run `npm run build:web`');
    return send(c, html, 'docs.html', 'no-cache', DOCS_CSP);
  };
  app.get('/docs', docs);
  app.get('/docs/', docs);

  app.get('/assets/:name', async (c) => {
    const name = c.req.param('name');
    const body = ASSET_NAME.test(name) ? await files(`assets/${name}`) : undefined;
    if (!body) throw new ApiError('not-found', `no resource at ${c.req.path}`);
    return send(c, body, name, 'public, max-age=31536000, immutable');
  });
}
