/**
 * The validator wire protocol (docs/protocol.md 7.3; functions/ledger/README.md
 * "Validator protocol"): one request, `POST /v1/validator/sign`, carrying a
 * proposal the validator must check on its own before it signs the checkpoint.
 *
 *   request   SignRequest   { origin, height, proposalId, header, checkpoint }
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
 * EQUIVOCATION means it already signed a different checkpoint of that size.
 */
export const REFUSAL_CODES = [
  'BAD_REQUEST',
  'WRONG_ORIGIN',
  'UNKNOWN_PROPOSAL',
  'PROPOSAL_MISMATCH',
  'MALFORMED_HEADER',
  'STALE_HEIGHT',
  'CANNOT_CATCH_UP',
  'BAD_PREV',
  'BAD_TIME',
  'BAD_VALIDATOR_SET',
  'BAD_ROUND',
  'BAD_CHECKPOINT',
  'EQUIVOCATION',
] as const;

export type RefusalCode = (typeof REFUSAL_CODES)[number];

/** HTTP status of each refusal: 404 unknown, 409 state conflicts, 422 failed checks. */
export const REFUSAL_STATUS: Record<RefusalCode, number> = {
  BAD_REQUEST: 400,
  WRONG_ORIGIN: 422,
  UNKNOWN_PROPOSAL: 404,
  PROPOSAL_MISMATCH: 409,
  MALFORMED_HEADER: 422,
  STALE_HEIGHT: 409,
  CANNOT_CATCH_UP: 409,
  BAD_PREV: 422,
  BAD_TIME: 422,
  BAD_VALIDATOR_SET: 422,
  BAD_ROUND: 422,
  BAD_CHECKPOINT: 422,
  EQUIVOCATION: 409,
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
