/**
 * JSON request bodies exactly as RFC 8259 section 8.1 has them: UTF-8, no byte
 * order mark. The platform's text decoding would strip a BOM and replace
 * invalid UTF-8 with U+FFFD, silently accepting a body that is not what the
 * client sent; here the bytes are checked first, and either is a malformed-json
 * problem.
 *
 * The check is lazy: it runs when a route's validator first reads the body, so
 * authentication and rate limits still come before any body is read.
 */
import type { MiddlewareHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { AppEnv } from './schemas.ts';

const JSON_MEDIA = /^application\/([\w.-]+\+)?json\s*(;|$)/i;
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The body as text, or a 400 for a byte order mark or bytes that are not UTF-8. */
export function strictUtf8(bytes: Uint8Array): string {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
    throw new HTTPException(400, { message: 'Malformed JSON: the body starts with a UTF-8 byte order mark' });
  }
  try {
    return decoder.decode(bytes);
  } catch {
    throw new HTTPException(400, { message: 'Malformed JSON: the body is not valid UTF-8' });
  }
}

export function strictJsonBody(): MiddlewareHandler<AppEnv> {
  return async function strictJsonBody(c, next) {
    if (JSON_MEDIA.test(c.req.header('content-type') ?? '')) {
      let text: Promise<string> | undefined;
      const read = (): Promise<string> => (text ??= c.req.raw.arrayBuffer().then((b) => strictUtf8(new Uint8Array(b))));
      // Hono's req.json() and req.text() read bodyCache.text first: a thenable that reads on first use.
      (c.req.bodyCache as Record<string, unknown>).text = { then: (ok: never, fail: never) => read().then(ok, fail) };
    }
    await next();
  };
}
