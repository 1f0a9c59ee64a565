/**
 * The one error class of the sdk. Every failure carries a code from a closed set,
 * so callers (the API's problem+json mapper, the CLI) can branch on it without
 * parsing messages. Messages are for humans and may change; codes may not.
 */
export const ERROR_CODES = [
  'INVALID_ARGUMENT',
  'INVALID_HEX',
  'INVALID_BASE64',
  'INVALID_UTF8',
  'INVALID_JSON',
  'NOT_CANONICALIZABLE',
  'INVALID_TREE_SIZE',
  'INVALID_PROOF',
  'MALFORMED_KEY',
  'MALFORMED_NOTE',
  'MALFORMED_CHECKPOINT',
  'MALFORMED_BLOCK',
  'MALFORMED_VALIDATOR_SET',
  'MALFORMED_PROOF',
  'INVALID_PUBLICATION_CODE',
  'WEBHOOK_INVALID_SECRET',
  'WEBHOOK_MISSING_HEADERS',
  'WEBHOOK_TIMESTAMP',
  'WEBHOOK_SIGNATURE',
  'WEBHOOK_PAYLOAD',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export class LedgersealError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LedgersealError';
    this.code = code;
  }
}

/** Throw a LedgersealError; a one-liner for guard clauses. */
export function fail(code: ErrorCode, message: string, cause?: unknown): never {
  throw new LedgersealError(code, message, cause === undefined ? undefined : { cause });
}
