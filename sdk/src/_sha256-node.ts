/**
 * SHA-256 and HMAC-SHA-256 (FIPS 180-4, RFC 2104) on Node through node:crypto,
 * which is native OpenSSL and faster than pure JS for the one-shot hashes the
 * Merkle code makes. Selected by the "node" condition of the "#sha256" import;
 * `_sha256-browser.ts` must return identical bytes (tested).
 */
import { createHmac, hash } from 'node:crypto';

export const SHA256_BACKEND = 'node:crypto';

export function sha256(data: Uint8Array): Uint8Array {
  const b = hash('sha256', data, 'buffer') as unknown as Buffer;
  return new Uint8Array(b.buffer, b.byteOffset, 32);
}

export function hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array {
  const b = createHmac('sha256', key).update(data).digest();
  return new Uint8Array(b.buffer, b.byteOffset, 32);
}
