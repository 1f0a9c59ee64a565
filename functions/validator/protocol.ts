/**
 * The validator wire protocol (docs/protocol.md 7.3; functions/validator/README.md
 * "Wire protocol"): one request, `POST /v1/validator/sign`, carrying a whole
 * proposal (header, checkpoint and the round members) that the validator checks
 * on its own, against its own state, before it signs the checkpoint. It is
 * shared by the coordinator (functions/ledger) and the validator unit
 * (functions/validator); imports point from the ledger to here, never back.
 *
 *   request   SignRequest   { origin, height, proposalId, header, checkpoint, members: [{ root, count }] }
 *   200       SignResponse  { validator, signature, checkpoint }
 *   4xx       SignRefusal   RFC 9457 problem+json with a closed `code`
 *
 * `signature` is one C2SP signed-note signature line, "— <name> <base64>\n", over
 * the exact checkpoint text; `checkpoint` echoes the text it covers, so that a
 * coordinator can tell a validator that signed a DIFFERENT checkpoint of the same
 * size (provable equivocation) from one that returned garbage.
 */
import { z } from '@hono/zod-openapi';

/** Largest accepted header / checkpoint text: both are far smaller (block.ts, checkpoint.ts). */
const MAX_TEXT = 4096;

/** Most members in one round: LEDGERSEAL_MAX_BATCHES_PER_ROUND is at most 10,000 (config.ts). */
export const MAX_MEMBERS = 10_000;
/** Most anchors in one batch (functions/intake.ts MAX_BATCH, part of the API contract). */
const MAX_BATCH_ANCHORS = 10_000;

/** One leaf of the round tree: a batch root (the leaf data, 32 bytes as hex) and its anchor count. */
export const RoundMemberWireSchema = z
  .object({
    root: z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex characters'),
    count: z.number().int().min(1).max(MAX_BATCH_ANCHORS),
  })
  .openapi('SignRequestMember');

export const SignRequestSchema = z
  .object({
    origin: z.string().min(1).max(256).openapi({ example: 'ledgerseal.example.gov/prod' }),
    height: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).openapi({ example: 12 }),
    proposalId: z.string().min(1).max(128),
    header: z.string().min(1).max(MAX_TEXT).openapi({ description: 'The block header text (docs/protocol.md 4.5).' }),
    checkpoint: z
      .string()
      .min(1)
      .max(MAX_TEXT)
      .openapi({ description: 'The unsigned checkpoint body of size height + 1 (C2SP tlog-checkpoint).' }),
    members: z
      .array(RoundMemberWireSchema)
      .min(1)
      .max(MAX_MEMBERS)
      .openapi({
        description:
          'The round members in round order: each batch root (the round tree leaf data) with its anchor count. The validator recomputes round-size, anchors and round-root from them.',
      }),
  })
  .openapi('SignRequest');

export type SignRequest = z.infer<typeof SignRequestSchema>;

export const SignResponseSchema = z
  .object({
    validator: z.string().min(1).max(256),
    signature: z
      .string()
      .min(1)
      .max(1024)
      .openapi({ description: 'One C2SP signed-note signature line, "\u2014 <name> <base64>\\n", over `checkpoint`.' }),
    checkpoint: z.string().min(1).max(MAX_TEXT).openapi({ description: 'The checkpoint text the signature covers.' }),
  })
  .openapi('SignResponse');

export type SignResponse = z.infer<typeof SignResponseSchema>;

/**
 * Why a validator refused. Each is one independent check of docs/protocol.md 7.3;
 * EQUIVOCATION means it already signed a different checkpoint of that size;
 * STATE_CONFLICT means its own state contradicts the quorum-signed public log
 * (it refuses everything until an operator looks).
 */
export const REFUSAL_CODES = [
  'BAD_REQUEST',
  'WRONG_ORIGIN',
  'MALFORMED_HEADER',
  'STALE_HEIGHT',
  'CANNOT_CATCH_UP',
  'BAD_PREV',
  'BAD_TIME',
  'BAD_VALIDATOR_SET',
  'BAD_ROUND',
  'BAD_CHECKPOINT',
  'EQUIVOCATION',
  'STATE_CONFLICT',
] as const;

export type RefusalCode = (typeof REFUSAL_CODES)[number];

/** HTTP status of each refusal: 409 state conflicts, 422 failed checks. */
export const REFUSAL_STATUS: Record<RefusalCode, number> = {
  BAD_REQUEST: 400,
  WRONG_ORIGIN: 422,
  MALFORMED_HEADER: 422,
  STALE_HEIGHT: 409,
  CANNOT_CATCH_UP: 409,
  BAD_PREV: 422,
  BAD_TIME: 422,
  BAD_VALIDATOR_SET: 422,
  BAD_ROUND: 422,
  BAD_CHECKPOINT: 422,
  EQUIVOCATION: 409,
  STATE_CONFLICT: 409,
};

export const SignRefusalSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.enum(REFUSAL_CODES),
    validator: z.string(),
  })
  .openapi('SignRefusal');

export type SignRefusal = z.infer<typeof SignRefusalSchema>;

/** A validator's refusal to sign: a closed code and a human reason. */
export class ValidatorRefusal extends Error {
  readonly code: RefusalCode;
  readonly reason: string;
  /** The refusing validator's name (set by Validator.sign; the API's problem body carries it). */
  validator?: string;
  constructor(code: RefusalCode, reason: string, options?: { cause?: unknown }) {
    super(`${code}: ${reason}`, options);
    this.name = 'ValidatorRefusal';
    this.code = code;
    this.reason = reason;
  }
}

/** Throw a ValidatorRefusal; a one-liner for the checklist in validator.ts. */
export function refuse(code: RefusalCode, reason: string, cause?: unknown): never {
  throw new ValidatorRefusal(code, reason, cause === undefined ? undefined : { cause });
}

/** The problem+json body (RFC 9457) of a refusal, as the sign route answers it. */
export function refusalProblem(r: ValidatorRefusal, validator: string): SignRefusal {
  return {
    type: `https://ledgerseal.dev/problems/validator/${r.code.toLowerCase().replaceAll('_', '-')}`,
    title: 'Validator refused to sign',
    status: REFUSAL_STATUS[r.code],
    detail: r.reason,
    code: r.code,
    validator,
  };
}
