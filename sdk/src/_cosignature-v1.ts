/**
 * The bytes of a C2SP tlog-cosignature/v1 Ed25519 cosignature
 * (https://c2sp.org/tlog-cosignature, "Format" and "Ed25519 signed message"),
 * shared by the verifier (note.ts) and the signer (cosignature.ts). Kept apart
 * from both so that dependencies point one way: note.ts never imports
 * cosignature.ts. No input checks here: the public functions check first.
 *
 *     signature line payload = key ID (4) || timestamp (8, big-endian u64) || Ed25519 signature (64)
 *     signed message         = "cosignature/v1\n" || "time " <decimal> "\n" || checkpoint note body
 */
import { concatBytes, utf8 } from './encoding.ts';

/** Signature type byte of Ed25519 cosigner keys (C2SP tlog-cosignature, key ID and vkeys). */
export const COSIGNATURE_ALG_ED25519 = 0x04;
/** The header line of the signed message: domain separation from plain note signatures. */
export const COSIGNATURE_HEADER = 'cosignature/v1';
/** Bytes after the 4-byte key ID: the u64 timestamp and the 64-byte Ed25519 signature. */
export const _COSIGNATURE_BODY_LENGTH = 8 + 64;

const TWO_32 = 2 ** 32;
/** The high 32 bits of a timestamp above 2^53 - 1 are at least 2^21. */
const MAX_SAFE_HIGH = 2 ** 21;

/** The signed message for a timestamp (a safe non-negative integer) and the note body bytes. */
export function _cosignedMessage(body: Uint8Array, time: number): Uint8Array {
  return concatBytes(utf8(`${COSIGNATURE_HEADER}\ntime ${time}\n`), body);
}

/** The 8-byte big-endian encoding of a timestamp (a safe non-negative integer). */
export function _encodeTime(time: number): Uint8Array {
  const out = new Uint8Array(8);
  const view = new DataView(out.buffer);
  view.setUint32(0, Math.floor(time / TWO_32));
  view.setUint32(4, time % TWO_32);
  return out;
}

/**
 * The timestamp in the first 8 bytes (big-endian u64), or null above 2^53 - 1: such
 * a time cannot be a JavaScript number exactly (and is some 285 million years away).
 */
export function _decodeTime(bytes: Uint8Array): number | null {
  const view = new DataView(bytes.buffer, bytes.byteOffset, 8);
  const high = view.getUint32(0);
  if (high >= MAX_SAFE_HIGH) return null;
  return high * TWO_32 + view.getUint32(4);
}
