/**
 * The web front (issue 10): the verify page at `/`, the ledger explorer at
 * `/explorer` (web/explorer.html; a block's detail at `/explorer?block=<height>`,
 * older blocks at `/explorer?before=<height>`),
 * the API reference at `/docs` (Redoc rendering /openapi.json), their hashed
 * assets at `/assets/*` and the verify page's service worker at `/sw.js`, as
 * Vite builds them into web/dist (`npm run build:web`).
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
 *
 * Compression: text bodies of at least GZIP_MIN_BYTES are sent gzipped
 * (RFC 9110 8.4.1) when the request's Accept-Encoding allows gzip (12.5.3),
 * with `Vary: Accept-Encoding`; neither Node's server nor an API Gateway HTTP
 * API compresses, and the API reference's Redoc file is 1.1 MB (about 330 KB
 * gzipped). Hashed assets, immutable, are compressed once per process; pages
 * on each response (a few KB). CompressionStream is a web standard, so the app
 * stays platform-free.
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

function extension(path: string): string {
  return path.slice(path.lastIndexOf('.') + 1);
}

function contentType(path: string): string {
  return CONTENT_TYPES[extension(path)] ?? 'application/octet-stream';
}

/** Below this, gzip saves too little to be worth a header (and can grow the body). */
export const GZIP_MIN_BYTES = 1024;

/** Text formats; png, ico and woff2 are compressed formats already. */
const COMPRESSIBLE = new Set(['html', 'js', 'css', 'svg', 'json', 'map', 'txt']);

/**
 * Whether an Accept-Encoding field value (RFC 9110 12.5.3) accepts gzip: `gzip`
 * (or its alias `x-gzip`, 8.4.1.3) with a weight above 0, or else `*` with a
 * weight above 0. No header means no preference: identity is sent then.
 */
export function acceptsGzip(header: string | undefined): boolean {
  if (header === undefined) return false;
  let gzip: number | undefined;
  let any: number | undefined;
  for (const member of header.split(',')) {
    const [coding, ...params] = member.split(';').map((p) => p.trim().toLowerCase());
    if (!coding) continue;
    let q = 1;
    for (const p of params) {
      const m = /^q\s*=\s*(0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$/.exec(p);
      if (m) q = Number(m[1]);
    }
    if (coding === 'gzip' || coding === 'x-gzip') gzip = Math.max(gzip ?? 0, q);
    else if (coding === '*') any = q;
  }
  return (gzip ?? any ?? 0) > 0;
}

async function gzip(body: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([body as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new CompressionStream('gzip'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

interface SendOptions {
  cacheControl: string;
  csp?: string;
  /** The gzip of an immutable body, kept across requests (hashed assets only). */
  gzipCache?: Map<string, Promise<Uint8Array>>;
}

async function send(c: Context<AppEnv>, body: Uint8Array, path: string, o: SendOptions): Promise<Response> {
  const headers: Record<string, string> = {
    'content-type': contentType(path),
    'cache-control': o.cacheControl,
    'content-security-policy': o.csp ?? WEB_CSP,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cross-origin-opener-policy': 'same-origin',
  };
  let sent = body;
  if (COMPRESSIBLE.has(extension(path)) && body.length >= GZIP_MIN_BYTES) {
    // The representation depends on Accept-Encoding, compressed or not (RFC 9110 12.5.5).
    headers['vary'] = 'accept-encoding';
    if (acceptsGzip(c.req.header('accept-encoding'))) {
      let gz = o.gzipCache?.get(path);
      if (!gz) {
        gz = gzip(body);
        o.gzipCache?.set(path, gz);
        gz.catch(() => o.gzipCache?.delete(path));
      }
      sent = await gz;
      headers['content-encoding'] = 'gzip';
    }
  }
  return c.body(sent as Uint8Array<ArrayBuffer>, 200, headers);
}

/** How long a server rendering of the explorer is reused, and how many are kept. */
const RENDER_TTL_MS = 1_000;
const RENDER_CACHE = 64;

/** `ledger`, when given, fills the explorer's lists on the server (explorer-html.ts), so they read without JavaScript. */
export function registerWebRoutes(app: OpenAPIHono<AppEnv>, files: WebFiles, ledger?: ExplorerData): void {
  app.get('/', async (c) => {
    const html = await files('index.html');
    if (!html) throw new ApiError('not-found', 'the verify page is not built: run `npm run build:web`');
    return send(c, html, 'index.html', { cacheControl: 'no-cache' });
  });

  // The server-rendered explorer reads the store and checks every listed block's signatures: a
  // public page, so a rendering is reused for RENDER_TTL_MS (per block and before parameter, at most
  // RENDER_CACHE entries) and a burst of loads costs one rendering.
  const rendered = new Map<string, { at: number; page: Promise<Uint8Array> }>();
  app.get('/explorer', async (c) => {
    const html = await files('explorer.html');
    if (!html) throw new ApiError('not-found', 'the explorer is not built: run `npm run build:web`');
    if (!ledger) return send(c, html, 'explorer.html', { cacheControl: 'no-cache' });
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
    return send(c, await hit.page, 'explorer.html', { cacheControl: 'no-cache' });
  });

  const docs = async (c: Context<AppEnv>): Promise<Response> => {
    const html = await files('docs.html');
    if (!html) throw new ApiError('not-found', 'the API reference is not built: run `npm run build:web`');
    return send(c, html, 'docs.html', { cacheControl: 'no-cache', csp: DOCS_CSP });
  };
  app.get('/docs', docs);
  app.get('/docs/', docs);

  // The verify page's service worker (web/sw/sw.template.js): at the root, so that its scope covers `/`;
  // revalidated on every load, so a new build's worker replaces the old one at the next visit.
  app.get('/sw.js', async (c) => {
    const body = await files('sw.js');
    if (!body) throw new ApiError('not-found', `no resource at ${c.req.path}`);
    return send(c, body, 'sw.js', { cacheControl: 'no-cache' });
  });

  // Asset names carry a hash of their content: the gzip of one is the gzip of that name, for the life of the process.
  const gzipped = new Map<string, Promise<Uint8Array>>();
  app.get('/assets/:name', async (c) => {
    const name = c.req.param('name');
    const body = ASSET_NAME.test(name) ? await files(`assets/${name}`) : undefined;
    if (!body) throw new ApiError('not-found', `no resource at ${c.req.path}`);
    return send(c, body, name, { cacheControl: 'public, max-age=31536000, immutable', gzipCache: gzipped });
  });
}
