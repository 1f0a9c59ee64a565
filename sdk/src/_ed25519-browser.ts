/**
 * Ed25519 signature verification (RFC 8032, strict: cofactorless, S < L,
 * canonical encodings; zip215 off) in pure JS via @noble/curves, for browsers and
 * any runtime without node:crypto. Selected by the "browser" and "default"
 * conditions of the "#ed25519" import.
 */
import { ed25519 } from '@noble/curves/ed25519.js';

export const ED25519_BACKEND = '@noble/curves';

export function ed25519Verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  if (signature.length !== 64 || publicKey.length !== 32) return false;
  try {
    return ed25519.verify(signature, message, publicKey, { zip215: false });
  } catch {
    return false;
  }
}
