/**
 * The one error class of the service (store, ledger, intake, wiring). Codes are
 * a closed set so that the API's single onError (api/problem.ts) maps them to
 * RFC 9457 problem+json without reading messages:
 *
 * - NOT_FOUND           the thing asked for does not exist (yet): a block, a calendar size
 * - INVALID_RANGE       sizes or heights out of order or outside the calendar
 * - INVALID_ARGUMENT    malformed input (an id with '#', an anchor id that is not `<batchId>.<index>`)
 * - INVALID_CURSOR      a page cursor that this listing did not hand out
 * - CALENDAR_INCOMPLETE a stored calendar node that must exist is missing (an unsettled block)
 * - CORRUPT             stored data contradicts itself or does not have the shape the store writes
 * - UNREADABLE_BATCH    one stored batch cannot be read or does not match its round member;
 *                       the round leaves it out (docs/protocol.md 7.2)
 *
 * The sdk has its own class (LedgersealError); validator refusals have theirs
 * (ValidatorRefusal, validator/protocol.ts) because they cross a process
 * boundary with their own codes.
 */
export const SERVICE_ERROR_CODES = [
  'NOT_FOUND',
  'INVALID_RANGE',
  'INVALID_ARGUMENT',
  'INVALID_CURSOR',
  'CALENDAR_INCOMPLETE',
  'CORRUPT',
  'UNREADABLE_BATCH',
] as const;

export type ServiceErrorCode = (typeof SERVICE_ERROR_CODES)[number];

export class ServiceError extends Error {
  readonly code: ServiceErrorCode;
  /** The agency the damaged item belongs to, when known (UNREADABLE_BATCH): only that agency may be told. */
  readonly agencyId?: string;
  constructor(code: ServiceErrorCode, message: string, options?: { cause?: unknown; agencyId?: string | undefined }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ServiceError';
    this.code = code;
    if (options?.agencyId !== undefined) this.agencyId = options.agencyId;
  }
}

/** Throw a ServiceError; a one-liner for guard clauses. */
export function serviceFail(code: ServiceErrorCode, message: string, cause?: unknown): never {
  throw new ServiceError(code, message, cause === undefined ? undefined : { cause });
}
