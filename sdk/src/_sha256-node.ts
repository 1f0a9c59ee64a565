/**
 * SHA-256 and HMAC-SHA-256 (FIPS 180-4, RFC 2104) on Node through node:crypto,
 * which is native OpenSSL and faster than pure JS for the one-shot hashes the
 * Merkle code makes. Selected by the "node" condition of the "#sha256" import;
 * `_sha256-browser.ts` must return identical bytes (tested).
 *
 * Why a 'binary' (= latin1) digest: `crypto.hash(alg, data, 'buffer')` allocates a
 * fresh off-heap Buffer per call, which costs several times the hash itself for
 * the 33- and 65-byte inputs of a Merkle tree. A latin1 string maps each digest
 * byte to one char code (0-255), so reading it back with charCodeAt is exact and
 * keeps the per-call cost near the hash-call floor (see BENCHMARKS.md).
 */
import { createHmac, hash } from 'node:crypto';

export const SHA256_BACKEND = 'node:crypto';

/** Write SHA-256(data) into out[offset .. offset+32). */
export function sha256Into(data: Uint8Array, out: Uint8Array, offset: number): void {
  if (!(offset >= 0 && offset + 32 <= out.length)) throw new RangeError('sha256Into: offset out of range');
  const s = hash('sha256', data, 'binary');
  for (let j = 0; j < 32; j++) out[offset + j] = s.charCodeAt(j);
}

// utf16le digest chars are (byte 2j) | (byte 2j+1) << 8: stored through a Uint16Array
// they land in memory order only on little-endian hosts (all Node targets in practice).
const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/**
 * Write SHA-256(data) into the 16 elements out[offset .. offset+16), digest bytes in
 * memory order (as a Uint8Array over the same memory would hold them). Half the
 * per-byte work of `sha256Into`, for the Merkle tree's level arrays.
 */
export function sha256IntoU16(data: Uint8Array, out: Uint16Array, offset: number): void {
  if (!(offset >= 0 && offset + 16 <= out.length)) throw new RangeError('sha256IntoU16: offset out of range');
  if (!LITTLE_ENDIAN) return sha256Into(data, new Uint8Array(out.buffer, out.byteOffset + 2 * offset, 32), 0);
  const s = hash('sha256', data, 'utf16le' as 'binary'); // @types/node omits 'utf16le' for crypto.hash
  for (let j = 0; j < 16; j++) out[offset + j] = s.charCodeAt(j);
}

export function sha256(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(32);
  sha256Into(data, out, 0);
  return out;
}

export function hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array {
  const b = createHmac('sha256', key).update(data).digest();
  return new Uint8Array(b.buffer, b.byteOffset, 32);
}
