/**
 * From a record to an anchor, on the agency's side (docs/protocol.md 2). Nothing here leaves the agency except the anchor.
 *
 *   digest = SHA-256(canonical bytes)         RFC 8785 JSON, or a file's raw bytes
 *   mask   = HMAC-SHA-256(agencyBlindingKey,  utf8(recordKey) || 0x00 || ascii(decimal version))
 *            or 32 random bytes kept with the receipt
 *   anchor = SHA-256(mask || digest)
 *
 * The mask is the blinding of KSI: proofs carry other agencies' anchors, and
 * without a secret 32-byte mask a low-entropy record (a birth date) could be
 * found by hashing every candidate. HMAC is RFC 2104, SHA-256 is FIPS 180-4.
 */
import { hmacSha256, sha256 } from '#sha256';
import { concatBytes, utf8 } from './encoding.ts';
import { fail } from './errors.ts';
import { canonicalJson } from './jcs.ts';

/** Length in bytes of a digest, a mask and an anchor. */
export const BLINDING_MASK_LENGTH = 32;
/**
 * Shortest accepted agency blinding key: 32 bytes, the output length of SHA-256.
 * RFC 2104 section 3 strongly discourages HMAC keys shorter than the hash output,
 * and the whole blinding rests on this key staying unguessable.
 */
export const BLINDING_KEY_MIN_LENGTH = 32;
/** The byte between the record key and the version in the mask derivation. */
export const BLINDING_SEPARATOR = 0x00;
/**
 * Largest version accepted as a bigint: 2^64 - 1, so that every verifier can hold
 * it in an unsigned 64-bit integer. Numbers are limited to Number.MAX_SAFE_INTEGER.
 */
export const BLINDING_VERSION_MAX = 0xffff_ffff_ffff_ffffn;

/** Uint8Array, including a Buffer or one from another realm (same test as noble). */
function isBytes(a: unknown): a is Uint8Array {
  return a instanceof Uint8Array || (ArrayBuffer.isView(a) && a.constructor.name === 'Uint8Array');
}

function checkHash(name: string, h: unknown): Uint8Array {
  if (!isBytes(h)) fail('INVALID_ARGUMENT', `${name} must be a Uint8Array`);
  if (h.length !== BLINDING_MASK_LENGTH) {
    fail('INVALID_ARGUMENT', `${name} must be ${BLINDING_MASK_LENGTH} bytes, got ${h.length}`);
  }
  return h;
}

/**
 * The record's digest. Bytes (a file, or a row the caller already serialized) are
 * hashed as they are; any other value is a JSON value, hashed as the UTF-8 of its
 * RFC 8785 canonical form (so a string record hashes as the JSON string `"..."`,
 * quotes included — pass utf8(text) to hash raw text).
 */
export function hashRecord(record: unknown): Uint8Array {
  if (isBytes(record)) return sha256(record);
  return sha256(utf8(canonicalJson(record)));
}

function decimalVersion(version: number | bigint): string {
  if (typeof version === 'bigint') {
    if (version < 0n || version > BLINDING_VERSION_MAX) {
      fail('INVALID_ARGUMENT', `version must be between 0 and 2^64-1, got ${version}`);
    }
    return version.toString(10);
  }
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 0) {
    fail('INVALID_ARGUMENT', `version must be a non-negative safe integer or bigint, got ${String(version)}`);
  }
  // String() of a safe integer is plain digits with no exponent; -0 becomes "0".
  return String(version);
}

function checkRecordKey(recordKey: unknown): string {
  if (typeof recordKey !== 'string') fail('INVALID_ARGUMENT', 'recordKey must be a string');
  if (recordKey.length === 0) fail('INVALID_ARGUMENT', 'recordKey must not be empty');
  // 0x00 separates the key from the version, and UTF-8 writes 0x00 only for U+0000:
  // without U+0000 in keys, the first 0x00 of the message marks the end of the key,
  // so two different (recordKey, version) pairs can never give the same message.
  if (recordKey.includes('\u0000')) fail('INVALID_ARGUMENT', 'recordKey must not contain U+0000 (the separator)');
  // A lone surrogate has no UTF-8 form; encoders replace it with U+FFFD, which would
  // make two different keys share one mask.
  if (/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(recordKey)) {
    fail('INVALID_ARGUMENT', 'recordKey must be well-formed UTF-16 (it contains a lone surrogate)');
  }
  return recordKey;
}

/**
 * The default, stateless mask of one version of one record: a legacy database
 * needs no extra column, since (recordKey, version) is already there.
 * Message bytes: utf8(recordKey) || 0x00 || ascii(decimal version, no sign, no
 * leading zeros).
 */
export function blindingMask(agencyBlindingKey: Uint8Array, recordKey: string, version: number | bigint): Uint8Array {
  if (!isBytes(agencyBlindingKey)) fail('INVALID_ARGUMENT', 'agencyBlindingKey must be a Uint8Array');
  if (agencyBlindingKey.length < BLINDING_KEY_MIN_LENGTH) {
    fail(
      'INVALID_ARGUMENT',
      `agencyBlindingKey must be at least ${BLINDING_KEY_MIN_LENGTH} bytes, got ${agencyBlindingKey.length}`,
    );
  }
  const key = utf8(checkRecordKey(recordKey));
  const ver = utf8(decimalVersion(version));
  return hmacSha256(agencyBlindingKey, concatBytes(key, Uint8Array.of(BLINDING_SEPARATOR), ver));
}

/** A fresh random mask (Web Crypto CSPRNG). It must be stored with the receipt. */
export function randomMask(): Uint8Array {
  return globalThis.crypto.getRandomValues(new Uint8Array(BLINDING_MASK_LENGTH));
}

/** anchor = SHA-256(mask || digest); note the byte order: the mask comes first. */
export function anchorOf(digest: Uint8Array, mask: Uint8Array): Uint8Array {
  checkHash('digest', digest);
  checkHash('mask', mask);
  return sha256(concatBytes(mask, digest));
}

/** hashRecord then anchorOf, returning both values the receipt needs. */
export function anchorRecord(record: unknown, mask: Uint8Array): { digest: Uint8Array; anchor: Uint8Array } {
  checkHash('mask', mask);
  const digest = hashRecord(record);
  return { digest, anchor: anchorOf(digest, mask) };
}
