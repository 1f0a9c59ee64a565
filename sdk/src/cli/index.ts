/**
 * @ledgerseal/sdk/cli: the CLI as a library (docs/cli.md). Node only; pg and
 * mysql2 are loaded only when a database source is opened.
 */
export { main, VERSION } from './main.ts';
export { audit, auditChanged, backfill, collectProofs, rowProof, GROUP_CHUNKS } from './engine.ts';
export type { AuditResult, AuditOptions, BackfillResult, RowProof, RunOptions } from './engine.ts';
export { CliError, EXIT } from './errors.ts';
export { loadCliConfig } from './config.ts';
export { markdownReport, htmlReport } from './report.ts';
export { openFileSource } from './receipts/files.ts';
export { CHUNK_ROWS } from './receipts/store.ts';
export type { ReceiptStore, DatasetInfo } from './receipts/store.ts';
export { createService } from './service.ts';
export type { Service } from './service.ts';
