/**
 * CLI failures and their exit codes (docs/cli.md "Exit codes"). Every failure the
 * user can cause or fix is a CliError with a plain message; anything else is a bug
 * (exit 1, with the stack only under LEDGERSEAL_DEBUG=1).
 */
export const EXIT = {
  ok: 0,
  /** Unexpected failure (a bug, or an error nothing below classifies). */
  internal: 1,
  /** Wrong command line or configuration (unknown option, missing key, bad blinding key). */
  usage: 2,
  /** audit: rows were altered, deleted or added since they were anchored, or receipts do not match their proofs. */
  changed: 3,
  /** verify: the proof is not internally consistent (or the record does not give its anchor). */
  inconsistent: 4,
  /** verify: consistent, but not cosigned by a quorum of the trusted validators. */
  noQuorum: 5,
  /** verify: consistent, but no trusted publication matches. */
  noPublication: 6,
  /** The service is unreachable or answered with an error. */
  service: 7,
  /** The source: unreachable database, missing table or column, duplicate key, unreadable file. */
  source: 8,
  /** Receipts: none for this row or dataset, or the dataset was anchored with other columns. */
  receipts: 9,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export class CliError extends Error {
  constructor(readonly exitCode: ExitCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CliError';
  }
}

export function usage(message: string): never {
  throw new CliError(EXIT.usage, message);
}

export function sourceError(message: string, cause?: unknown): never {
  throw new CliError(EXIT.source, message, { cause });
}

export function receiptsError(message: string): never {
  throw new CliError(EXIT.receipts, message);
}

export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
