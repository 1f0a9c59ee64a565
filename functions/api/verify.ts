/**
 * POST /v1/verify (public): server-side proof verification for systems that
 * cannot run the SDK. It runs exactly the SDK's verifyProof (docs/protocol.md
 * 6.2) and returns its result: 200 with `ok: true`, or 200 with `ok: false`
 * naming the first failed check. 400 is only for a request body that is not the
 * documented shape (including a malformed validator set).
 *
 * Trust: the caller's validator set or publication(s) if given, otherwise the
 * service's own current validator set bound to this deployment's origin.
 *
 * The route is public, so its cost is bounded (docs/api.md "Verify"): a body of
 * at most VERIFY_MAX_BODY_BYTES, a record of at most VERIFY_MAX_RECORD_BYTES as
 * canonical JSON nested at most VERIFY_MAX_RECORD_DEPTH deep, a token bucket per
 * client address and one shared by all addresses (429 with Retry-After), so a
 * flood of verifications cannot take the CPU that rounds in the same process
 * need.
 */
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { canonicalJson, hashFromHex, parseValidatorSet, PROOF_CHECKS, type ProofTrust, utf8, verifyProof } from '@ledgerseal/sdk';
import { bodyLimit } from 'hono/body-limit';
import type { MiddlewareHandler } from 'hono';
import type { Services } from '../services.ts';
import { ApiError, problemResponses } from './problem.ts';
import { tokenBuckets } from './rate-limit.ts';
import { type AppEnv, HashHex } from './schemas.ts';
import { ValidatorSetSchema } from './ledger.ts';

/** Largest POST /v1/verify body: a proof, a validator set or 1,000 publication codes, and a record fit. */
export const VERIFY_MAX_BODY_BYTES = 256 * 1024;
/** Largest record accepted, measured as its RFC 8785 canonical JSON in UTF-8 bytes. */
export const VERIFY_MAX_RECORD_BYTES = 64 * 1024;
/** Deepest nesting of arrays and objects in a record. */
export const VERIFY_MAX_RECORD_DEPTH = 32;

/** Nesting depth of a JSON value (a scalar is 0); stops counting past `limit`. */
function depth(v: unknown, limit: number): number {
  if (typeof v !== 'object' || v === null) return 0;
  if (limit <= 0) return 1;
  let max = 0;
  for (const x of Array.isArray(v) ? v : Object.values(v)) max = Math.max(max, depth(x, limit - 1));
  return 1 + max;
}

const Record = z
  .unknown()
  .superRefine((r, ctx) => {
    if (r === undefined) return;
    if (depth(r, VERIFY_MAX_RECORD_DEPTH) > VERIFY_MAX_RECORD_DEPTH) {
      ctx.addIssue({ code: 'custom', message: `must not be nested more than ${VERIFY_MAX_RECORD_DEPTH} levels deep` });
      return;
    }
    let bytes: number;
    try {
      bytes = utf8(canonicalJson(r)).length;
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: `cannot be canonicalized (RFC 8785): ${(e as Error).message}` });
      return;
    }
    if (bytes > VERIFY_MAX_RECORD_BYTES) ctx.addIssue({ code: 'custom', message: `must be at most ${VERIFY_MAX_RECORD_BYTES} bytes as RFC 8785 canonical JSON` });
  })
  .optional()
  .openapi({ description: `The record as a JSON value: its RFC 8785 digest is recomputed (needs mask). At most ${VERIFY_MAX_RECORD_BYTES} bytes as canonical JSON, nested at most ${VERIFY_MAX_RECORD_DEPTH} levels deep` });

/** A validator set document the sdk accepts (checked by the same parser the verifier uses). */
const TrustedValidatorSet = ValidatorSetSchema.superRefine((set, ctx) => {
  try {
    parseValidatorSet(set);
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: `is not a valid validator set: ${(e as Error).message}` });
  }
});

const TrustedPublication = z.union([
  z.string().min(1).max(256).openapi({ description: 'A publication code' }),
  z.strictObject({ size: z.number().int().min(1), root: HashHex }),
]);

export const VerifyRequest = z
  .strictObject({
    proof: z.record(z.string(), z.unknown()).openapi({ description: 'A proof document (ProofDocument); its fields are checked by the verifier, not by the request schema' }),
    validators: TrustedValidatorSet.optional().openapi({ description: 'Trust this validator set instead of the service\'s own' }),
    publication: z
      .union([TrustedPublication, z.array(TrustedPublication).min(1).max(1000)])
      .optional()
      .openapi({ description: 'Trust these publications (codes or {size, root}) instead of validator signatures' }),
    record: Record,
    digest: HashHex.optional().openapi({ description: 'SHA-256 of the record, when the record itself is not sent (needs mask)' }),
    mask: HashHex.optional().openapi({ description: 'The blinding mask of the record (docs/protocol.md 2.2)' }),
  })
  .superRefine((b, ctx) => {
    if (b.validators !== undefined && b.publication !== undefined) ctx.addIssue({ code: 'custom', path: ['publication'], message: 'give validators or publication, not both' });
    if (b.record !== undefined && b.digest !== undefined) ctx.addIssue({ code: 'custom', path: ['digest'], message: 'give record or digest, not both' });
    if ((b.record !== undefined || b.digest !== undefined) !== (b.mask !== undefined)) {
      ctx.addIssue({ code: 'custom', path: ['mask'], message: 'mask goes together with record or digest' });
    }
  })
  .openapi('VerifyRequest');

export const VerifyResult = z
  .object({
    ok: z.boolean(),
    detail: z.string(),
    failed: z.enum(PROOF_CHECKS as unknown as [string, ...string[]]).optional().openapi({ description: 'The first check that failed (ok false only)' }),
    anchor: HashHex.optional(),
    height: z.number().int().optional(),
    time: z.string().nullable().optional().openapi({
      description: 'The attested time: the record existed no later than this (RFC 3339). With validator trust, one second after the earliest cosignature time by which validators holding more than a third of the weight had cosigned (docs/protocol.md 6.2); null with publication trust',
    }),
    claimedTime: z.string().optional().openapi({ description: "The block header's time: the ledger's claim, not attested by signatures" }),
    timeAttestedBy: z.array(z.string()).optional().openapi({ description: 'The validators whose cosignatures fix `time` (validator trust only)' }),
    calendarSize: z.number().int().optional(),
    calendarRoot: HashHex.optional(),
    origin: z.string().optional(),
    signers: z.array(z.string()).optional(),
  })
  .openapi('VerifyResult', { description: 'The SDK verifyProof result: ok true with what was proven, or ok false with the failed check' });

const verifyRoute = createRoute({
  method: 'post',
  path: '/v1/verify',
  operationId: 'verifyProof',
  tags: ['verify'],
  summary: 'Verify a proof on the server',
  security: [],
  request: { body: { required: true, content: { 'application/json': { schema: VerifyRequest } } } },
  responses: {
    200: { description: 'The verification result (a failed verification is still 200, with ok false)', content: { 'application/json': { schema: VerifyResult } } },
    ...problemResponses('validation-error', 'malformed-json', 'payload-too-large', 'unsupported-media-type', 'rate-limited'),
  },
});

/** Per client address, then the budget all addresses share; 429 rate-limited with Retry-After. */
function verifyLimits(services: Services): MiddlewareHandler<AppEnv> {
  const now = (): number => services.clock.now().getTime();
  const { perSecond, burst, globalPerSecond } = services.config.verifyLimit;
  const perClient = tokenBuckets({ perSecond, burst, now });
  const shared = tokenBuckets({ perSecond: globalPerSecond, burst: Math.max(1, globalPerSecond), now });
  return async function verifyLimits(c, next) {
    const address = services.clientAddress?.(c) ?? 'unknown';
    if (perClient.enabled) {
      const r = perClient.take(address);
      if (!r.ok) throw new ApiError('rate-limited', `too many verifications from this address; retry in ${r.retryAfter} s`, { headers: { 'retry-after': String(r.retryAfter) } });
    }
    if (shared.enabled) {
      const r = shared.take('all');
      if (!r.ok) throw new ApiError('rate-limited', `the verification service is busy; retry in ${r.retryAfter} s`, { headers: { 'retry-after': String(r.retryAfter) } });
    }
    await next();
  };
}

export function registerVerifyRoutes(app: OpenAPIHono<AppEnv>, services: Services): void {
  const limitBody = bodyLimit({
    maxSize: VERIFY_MAX_BODY_BYTES,
    onError: () => {
      throw new ApiError('payload-too-large', `POST /v1/verify bodies are limited to ${VERIFY_MAX_BODY_BYTES} bytes`);
    },
  });
  app.openapi({ ...verifyRoute, middleware: [verifyLimits(services), limitBody] }, (c) => {
    const body = c.req.valid('json');
    let trust: ProofTrust;
    if (body.publication !== undefined) {
      const list = Array.isArray(body.publication) ? body.publication : [body.publication];
      trust = { publication: list.map((p) => (typeof p === 'string' ? p : { size: p.size, root: hashFromHex(p.root) })) };
    } else if (body.validators !== undefined) {
      trust = { validators: parseValidatorSet(body.validators) };
    } else {
      trust = { validators: services.validatorSet, origin: services.config.origin };
    }
    const options = {
      ...(body.record !== undefined ? { record: body.record } : {}),
      ...(body.digest !== undefined ? { digest: hashFromHex(body.digest) } : {}),
      ...(body.mask !== undefined ? { mask: hashFromHex(body.mask) } : {}),
    };
    return c.json(verifyProof(body.proof, trust, options), 200);
  });
}
