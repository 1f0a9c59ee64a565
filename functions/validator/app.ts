/**
 * The HTTP face of one validator (README.md "HTTP service"): a Hono app that
 * only sees Request and Response, so the same app runs under
 * `@hono/node-server` (`npm run validator`, main.ts), under `hono/aws-lambda`
 * (one Lambda per validator), or in process (`app.request()` in tests).
 *
 *   POST /v1/validator/sign   coordinator bearer token -> SignResponse, or a
 *                             refusal as the protocol's problem+json (protocol.ts)
 *   GET  /v1/validator        public: name, verifier key, origin, size it vouches for
 *
 * Authentication: the coordinator sends `Authorization: Bearer <token>`; the
 * validator is configured with the token's SHA-256 only
 * (LEDGERSEAL_COORDINATOR_KEY_HASH) and compares in constant time. Anything
 * else is 401 problem+json (the API's `unauthorized` type); with no hash
 * configured every sign request is 401. Replays are harmless: signing is
 * idempotent per size (the same checkpoint gets the identical line), and a
 * validator answers only for its own origin (WRONG_ORIGIN).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { refusalProblem, ValidatorRefusal } from './protocol.ts';
import type { Validator, ValidatorLogger } from './validator.ts';

const PROBLEM = 'https://ledgerseal.dev/problems/';
const BEARER_RE = /^Bearer +([\x21-\x7e]{1,512}) *$/i;

export interface ValidatorAppOptions {
  /** Lowercase hex SHA-256 of the coordinator's token; null: every sign request is refused with 401. */
  coordinatorKeyHash: string | null;
  /** Largest request body (default 4 MiB: a round of 10,000 members is about 800 KB). */
  maxBodyBytes?: number;
  log?: ValidatorLogger;
}

function problem(status: number, slug: string, title: string, detail: string, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify({ type: `${PROBLEM}${slug}`, title, status, detail }), {
    status,
    headers: { 'content-type': 'application/problem+json', ...headers },
  });
}

/** Constant-time: does `token` hash to the configured hash? */
export function tokenMatches(token: string, configuredHash: string | null): boolean {
  if (configuredHash === null || !/^[0-9a-f]{64}$/.test(configuredHash)) return false;
  return timingSafeEqual(createHash('sha256').update(token, 'utf8').digest(), Buffer.from(configuredHash, 'hex'));
}

/** The validator's HTTP app. Throws at once on a malformed configured hash. */
export function createValidatorApp(validator: Validator, opts: ValidatorAppOptions): Hono {
  if (opts.coordinatorKeyHash !== null && !/^[0-9a-f]{64}$/.test(opts.coordinatorKeyHash)) {
    throw new Error('coordinatorKeyHash must be 64 lowercase hex characters (the SHA-256 of the token)');
  }
  const maxBodyBytes = opts.maxBodyBytes ?? 4 * 1024 * 1024;
  const log = opts.log;
  const app = new Hono();

  app.get('/v1/validator', async (c) => c.json(await validator.status(), 200));

  app.post(
    '/v1/validator/sign',
    async (c, next) => {
      const m = BEARER_RE.exec(c.req.header('authorization') ?? '');
      if (!m || !tokenMatches(m[1]!, opts.coordinatorKeyHash)) {
        const challenge = m ? 'Bearer realm="ledgerseal-validator", error="invalid_token"' : 'Bearer realm="ledgerseal-validator"';
        return problem(401, 'unauthorized', 'A valid API key is required', m ? 'the coordinator key is not valid' : 'send the coordinator key as "Authorization: Bearer <token>"', {
          'www-authenticate': challenge,
        });
      }
      await next();
    },
    bodyLimit({
      maxSize: maxBodyBytes,
      onError: () => problem(413, 'payload-too-large', 'The request body is too large', `request bodies are limited to ${maxBodyBytes} bytes`),
    }),
    async (c) => {
      let body: unknown;
      try {
        body = await c.req.json();
      } catch {
        return problem(400, 'malformed-json', 'The request body is not valid JSON', 'send a SignRequest as JSON');
      }
      // The validator checks the shape itself (BAD_REQUEST) and every refusal goes through onError.
      return c.json(await validator.sign(body as never), 200);
    },
  );

  app.notFound(() => problem(404, 'not-found', 'No such resource', 'this service answers POST /v1/validator/sign and GET /v1/validator'));
  app.onError((e) => {
    if (e instanceof ValidatorRefusal) {
      const p = refusalProblem(e, e.validator ?? validator.name);
      return new Response(JSON.stringify(p), { status: p.status, headers: { 'content-type': 'application/problem+json' } });
    }
    log?.error({ msg: 'validator error', validator: validator.name, error: e instanceof Error ? e.message : String(e) });
    return problem(500, 'internal-error', 'Internal server error', 'the validator failed; see its log');
  });
  return app;
}
