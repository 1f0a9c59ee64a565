/**
 * @ledgerseal/sdk — the Ledgerseal protocol core (docs/protocol.md): bytes in, bytes out.
 */
export * from './errors.ts';
export * from './encoding.ts';
export { sha256, hmacSha256, SHA256_BACKEND } from '#sha256';
export { ed25519Verify, ED25519_BACKEND } from '#ed25519';
export * from './jcs.ts';
export * from './record.ts';
export * from './row.ts';
export * from './merkle.ts';
export * from './merkle-shape.ts';
export * from './note.ts';
export * from './cosignature.ts';
export * from './checkpoint.ts';
export * from './block.ts';
export * from './validator-set.ts';
export * from './proof.ts';
export * from './publication.ts';
export * from './webhooks.ts';
