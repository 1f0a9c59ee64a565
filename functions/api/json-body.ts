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
import type { Context, MiddlewareHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { AppEnv } from './schemas.ts';

const JSON_MEDIA = /^application\/([\w.-]+\+)?json\s*(;|$)/i;
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Why a body was refused, by request: the JSON validator turns every read error
 * into one "Malformed JSON" exception, so the reason is kept here for the problem's detail.
 */
const problems = new WeakMap<object, string>();

/** The reason this request's body was refused as malformed, if this module refused it. */
export function bodyProblem(c: Context): string | undefined {
  return problems.get(c.req);
}

/** The body as text, or a 400 for a byte order mark or bytes that are not UTF-8. */
export function strictUtf8(bytes: Uint8Array, onProblem: (why: string) => void = () => {}): string {
  const refuse = (why: string): never => {
    onProblem(why);
    throw new HTTPException(400, { message: `Malformed JSON: ${why}` });
  };
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) refuse('the body starts with a UTF-8 byte order mark; send JSON without one (RFC 8259 section 8.1)');
  try {
    return decoder.decode(bytes);
  } catch {
    return refuse('the body is not valid UTF-8 (RFC 8259 section 8.1)');
  }
}

export function strictJsonBody(): MiddlewareHandler<AppEnv> {
  return async function strictJsonBody(c, next) {
    if (JSON_MEDIA.test(c.req.header('content-type') ?? '')) {
      let text: Promise<string> | undefined;
      const read = (): Promise<string> => (text ??= c.req.raw.arrayBuffer().then((b) => strictUtf8(new Uint8Array(b), (why) => problems.set(c.req, why))));
      // Hono's req.json() and req.text() read bodyCache.text first: a thenable that reads on first use.
      (c.req.bodyCache as Record<string, unknown>).text = { then: (ok: never, fail: never) => read().then(ok, fail) };
    }
    await next();
  };
}
