/**
 * SHA-256 and HMAC-SHA-256 (FIPS 180-4, RFC 2104) in pure JS via @noble/hashes,
 * for browsers and any runtime without node:crypto. Selected by the "browser"
 * and "default" conditions of the "#sha256" import.
 */
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';

export const SHA256_BACKEND = '@noble/hashes';

/** Write SHA-256(data) into out[offset .. offset+32). */
export function sha256Into(data: Uint8Array, out: Uint8Array, offset: number): void {
  if (!(offset >= 0 && offset + 32 <= out.length)) throw new RangeError('sha256Into: offset out of range');
  out.set(nobleSha256(data), offset);
}

/** Write SHA-256(data) into the 16 elements out[offset .. offset+16), digest bytes in memory order. */
export function sha256IntoU16(data: Uint8Array, out: Uint16Array, offset: number): void {
  if (!(offset >= 0 && offset + 16 <= out.length)) throw new RangeError('sha256IntoU16: offset out of range');
  new Uint8Array(out.buffer, out.byteOffset + 2 * offset, 32).set(nobleSha256(data));
}

export function sha256(data: Uint8Array): Uint8Array {
  return nobleSha256(data);
}

export function hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array {
  return hmac(nobleSha256, key, data);
}
