/**
 * Ed25519 signature verification (RFC 8032) on Node through node:crypto
 * (OpenSSL), about 9x faster than pure JS (BENCHMARKS.md, "verifyProof"). Selected
 * by the "node" condition of the "#ed25519" import; `_ed25519-browser.ts` is the
 * @noble/curves version and both must accept exactly the same signatures:
 * cofactorless equation, S < L, canonical R (OpenSSL compares the re-encoded R
 * bytes). OpenSSL accepts public keys that are non-canonical encodings or points
 * of small order (the identity key verifies R = identity, S = 0 for any message);
 * noble in strict mode refuses them, so such keys are refused here too, checked
 * once per key when it enters the cache. test/sdk/ed25519.test.ts compares both
 * on valid, mutated and adversarial inputs.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { createPublicKey, verify, type KeyObject } from 'node:crypto';

export const ED25519_BACKEND = 'node:crypto';

/** DER SubjectPublicKeyInfo header for an Ed25519 key (RFC 8410), followed by the 32 key bytes. */
const SPKI_PREFIX = Uint8Array.from([0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00]);
const MAX_CACHED_KEYS = 256;
/** null: a key no signature can be valid for (non-canonical or small order). */
const keys = new Map<string, KeyObject | null>();

function strictKey(publicKey: Uint8Array): boolean {
  try {
    return !ed25519.Point.fromBytes(publicKey, false).isSmallOrder();
  } catch {
    return false;
  }
}

function keyObject(publicKey: Uint8Array): KeyObject | null {
  const id = Buffer.from(publicKey).toString('base64');
  let k = keys.get(id);
  if (k === undefined) {
    k = strictKey(publicKey)
      ? createPublicKey({ key: Buffer.concat([SPKI_PREFIX, publicKey]), format: 'der', type: 'spki' })
      : null;
    if (keys.size >= MAX_CACHED_KEYS) keys.delete(keys.keys().next().value!);
    keys.set(id, k);
  }
  return k;
}

export function ed25519Verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  if (signature.length !== 64 || publicKey.length !== 32) return false;
  try {
    const key = keyObject(publicKey);
    return key !== null && verify(null, message, key, signature);
  } catch {
    return false;
  }
}
