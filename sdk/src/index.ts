/**
 * @ledgerseal/sdk — the Ledgerseal protocol core (docs/protocol.md): bytes in, bytes out.
 */
export * from './errors.ts';
export * from './encoding.ts';
export { sha256, hmacSha256, SHA256_BACKEND } from '#sha256';
export * from './jcs.ts';
