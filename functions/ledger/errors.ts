/**
 * The one error class of the ledger services (calendar, proofs, coordinator,
 * publisher). Codes are a closed set so the API's single onError can map them
 * to RFC 9457 problem+json without reading messages:
 *
 * - NOT_FOUND           the thing asked for does not exist (yet): a block, a calendar size
 * - INVALID_RANGE       sizes or heights out of order or outside the calendar
 * - INVALID_ARGUMENT    malformed input (an anchor id that is not `<batchId>.<index>`)
 * - CALENDAR_INCOMPLETE a stored calendar node that must exist is missing (an unsettled block)
 * - CORRUPT             stored data contradicts itself (a proposal that does not match its block)
 *
 * Validator refusals have their own class (ValidatorRefusal, validator-protocol.ts)
 * because they cross a process boundary with their own codes.
 */
export const LEDGER_ERROR_CODES = ['NOT_FOUND', 'INVALID_RANGE', 'INVALID_ARGUMENT', 'CALENDAR_INCOMPLETE', 'CORRUPT'] as const;

export type LedgerErrorCode = (typeof LEDGER_ERROR_CODES)[number];

export class LedgerError extends Error {
  readonly code: LedgerErrorCode;
  constructor(code: LedgerErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LedgerError';
    this.code = code;
  }
}

/** Throw a LedgerError; a one-liner for guard clauses. */
export function ledgerFail(code: LedgerErrorCode, message: string, cause?: unknown): never {
  throw new LedgerError(code, message, cause === undefined ? undefined : { cause });
}
