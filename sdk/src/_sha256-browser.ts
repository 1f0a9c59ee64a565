/**
 * SHA-256 and HMAC-SHA-256 (FIPS 180-4, RFC 2104) in pure JS via @noble/hashes,
 * for browsers and any runtime without node:crypto. Selected by the "browser"
 * and "default" conditions of the "#sha256" import.
 */
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';

export const SHA256_BACKEND = '@noble/hashes';

export function sha256(data: Uint8Array): Uint8Array {
  return nobleSha256(data);
}

export function hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array {
  return hmac(nobleSha256, key, data);
}
