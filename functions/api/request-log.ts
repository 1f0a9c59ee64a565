/**
 * Request ids and the access log: one structured line per request through the
 * injected logger, written after the response is known:
 *
 *   { msg: "request", requestId, method, path, status, durationMs, agencyId?, keyId? }
 *
 * `path` is the URL path only: the query string is never logged (it can carry
 * record keys and cursors). Request headers are never logged, so neither are
 * Authorization, API keys or any other secret. keyId is the public half of a key.
 *
 * The request id is taken from an incoming `X-Request-Id` when it is a short
 * token (so a caller or a proxy can correlate), otherwise minted; it is echoed
 * in the `X-Request-Id` response header and in problem bodies.
 */
import type { MiddlewareHandler } from 'hono';
import { base32Crockford, randomBytes } from '../ids.ts';
import type { Logger } from '../services.ts';
import type { AppEnv } from './schemas.ts';

const REQUEST_ID_RE = /^[A-Za-z0-9._:-]{8,128}$/;

export function requestLog(log: Logger, now: () => number = () => performance.now()): MiddlewareHandler<AppEnv> {
  return async function requestLog(c, next) {
    const started = now();
    const incoming = c.req.header('x-request-id');
    const requestId = incoming && REQUEST_ID_RE.test(incoming) ? incoming : base32Crockford(randomBytes(10)).toLowerCase();
    c.set('requestId', requestId);
    try {
      await next();
    } finally {
      c.res.headers.set('x-request-id', requestId);
      const agencyId = c.get('agencyId');
      const keyId = c.get('keyId');
      log.info({
        msg: 'request',
        requestId,
        method: c.req.method,
        path: c.req.path,
        status: c.res.status,
        durationMs: Math.round((now() - started) * 10) / 10,
        ...(agencyId ? { agencyId } : {}),
        ...(keyId ? { keyId } : {}),
      });
    }
  };
}
