/**
 * POST /v1/verify (public): server-side proof verification for systems that
 * cannot run the SDK. It runs exactly the SDK's verifyProof (PROTOCOL.md
 * section 6) and returns its result: 200 with `ok: true`, or 200 with
 * `ok: false` naming the first failed check. 400 is only for a request body
 * that is not the documented shape (including a malformed validator set).
 *
 * Trust: the caller's validator set or publication(s) if given, otherwise the
 * service's own current validator set bound to this deployment's origin.
 */
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { hashFromHex, parseValidatorSet, PROOF_CHECKS, type ProofTrust, type ValidatorSet, verifyProof } from '@ledgerseal/sdk';
import type { Services } from '../services.ts';
import { problemResponses, validationError } from './problem.ts';
import { type AppEnv, HashHex } from './schemas.ts';
import { ValidatorSetSchema } from './ledger.ts';

const TrustedPublication = z.union([
  z.string().min(1).max(256).openapi({ description: 'A publication code' }),
  z.strictObject({ size: z.number().int().min(1), root: HashHex }),
]);

export const VerifyRequest = z
  .strictObject({
    proof: z.record(z.string(), z.unknown()).openapi({ description: 'A proof document (ProofDocument); its fields are checked by the verifier, not by the request schema' }),
    validators: ValidatorSetSchema.optional().openapi({ description: 'Trust this validator set instead of the service\'s own' }),
    publication: z
      .union([TrustedPublication, z.array(TrustedPublication).min(1).max(1000)])
      .optional()
      .openapi({ description: 'Trust these publications (codes or {size, root}) instead of validator signatures' }),
    record: z.unknown().optional().openapi({ description: 'The record as a JSON value: its RFC 8785 digest is recomputed (needs mask)' }),
    digest: HashHex.optional().openapi({ description: 'SHA-256 of the record, when the record itself is not sent (needs mask)' }),
    mask: HashHex.optional().openapi({ description: 'The blinding mask of the record (PROTOCOL.md section 2)' }),
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
    time: z.string().optional(),
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
    ...problemResponses('validation-error', 'malformed-json', 'payload-too-large', 'unsupported-media-type'),
  },
});

export function registerVerifyRoutes(app: OpenAPIHono<AppEnv>, services: Services): void {
  app.openapi(verifyRoute, (c) => {
    const body = c.req.valid('json');
    let trust: ProofTrust;
    if (body.publication !== undefined) {
      const list = Array.isArray(body.publication) ? body.publication : [body.publication];
      trust = { publication: list.map((p) => (typeof p === 'string' ? p : { size: p.size, root: hashFromHex(p.root) })) };
    } else if (body.validators !== undefined) {
      let set: ValidatorSet;
      try {
        set = parseValidatorSet(body.validators);
      } catch (e) {
        throw validationError('json', [{ path: ['validators'], message: (e as Error).message }]);
      }
      trust = { validators: set };
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
