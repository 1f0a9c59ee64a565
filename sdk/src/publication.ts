/**
 * Publication codes (docs/protocol.md 8): a
 * calendar tree size and root as a short string a person can print in a gazette
 * and type back in, after the publication strings of Guardtime's KSI.
 *
 *   bytes = version (1) || tree size (8, big-endian) || root (32)
 *           || CRC-32 of those 41 bytes (4, big-endian)             = 45 bytes
 *   code  = RFC 4648 section 6 base32 of the 45 bytes (72 characters, no padding:
 *           45 bytes are exactly 360 bits, 72 groups of 5), written in 12 groups
 *           of 6 joined by "-".
 *
 * The CRC is zlib's CRC-32 (see _crc32.ts). It catches copying mistakes, not
 * forgery: the root's authority comes from where it was published.
 */
import { crc32 } from './_crc32.ts';
import { fail } from './errors.ts';

/** First byte of every code of this format. */
export const PUBLICATION_CODE_VERSION = 1;
/** Base32 characters in a code, separators excluded. */
export const PUBLICATION_CODE_LENGTH = 72;

const ROOT_LENGTH = 32;
const BODY_LENGTH = 1 + 8 + ROOT_LENGTH; // what the CRC covers
const CODE_BYTES = BODY_LENGTH + 4;
const GROUP = 6;
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
/** Separators a reader may type or a PDF may produce: whitespace and dashes. */
const SEPARATOR = /[\s\-\u2010-\u2015\u2212]/;
/** Digits outside the RFC 4648 alphabet that people type for a letter. */
const LOOKALIKE: Record<string, string> = { '0': 'O', '1': 'I or L', '8': 'B' };
const TWO_32 = 2 ** 32;

export interface DecodedPublicationCode {
  /** Calendar tree size: the publication covers blocks 0..size-1. */
  size: number;
  /** Calendar root of that size (32 bytes). */
  root: Uint8Array;
}

function base32(bytes: Uint8Array): string {
  let out = '';
  let acc = 0;
  let bits = 0;
  for (const b of bytes) {
    acc = ((acc << 8) | b) & 0xfff; // at most 4 + 8 live bits
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += ALPHABET[(acc >>> bits) & 31];
    }
  }
  return out; // callers pass a multiple of 5 bytes: no bits left over
}

/** The canonical code of a calendar tree size and root. */
export function encodePublicationCode(publication: { size: number; root: Uint8Array }): string {
  if (typeof publication !== 'object' || publication === null) fail('INVALID_ARGUMENT', 'expected { size, root }');
  const { size, root } = publication;
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
    fail('INVALID_ARGUMENT', `size must be a non-negative safe integer, got ${String(size)}`);
  }
  if (!(root instanceof Uint8Array) || root.length !== ROOT_LENGTH) {
    fail('INVALID_ARGUMENT', `root must be ${ROOT_LENGTH} bytes`);
  }
  const bytes = new Uint8Array(CODE_BYTES);
  const view = new DataView(bytes.buffer);
  bytes[0] = PUBLICATION_CODE_VERSION;
  view.setUint32(1, Math.floor(size / TWO_32));
  view.setUint32(5, size % TWO_32);
  bytes.set(root, 9);
  view.setUint32(BODY_LENGTH, crc32(bytes.subarray(0, BODY_LENGTH)));
  const text = base32(bytes);
  const groups: string[] = [];
  for (let i = 0; i < text.length; i += GROUP) groups.push(text.slice(i, i + GROUP));
  return groups.join('-');
}

const invalid = (reason: string): never => fail('INVALID_PUBLICATION_CODE', reason);

/** Base32 values of the code's characters: ASCII case folded, separators dropped, anything else refused. */
function readCharacters(code: string): number[] {
  const values: number[] = [];
  let position = 0; // 1-based, in code points, for the error message
  for (const ch of code) {
    position++;
    if (SEPARATOR.test(ch)) continue;
    const c = ch.charCodeAt(0);
    const upper = c >= 0x61 && c <= 0x7a ? c - 0x20 : c; // a-z only: no locale folding
    const v = ch.length === 1 && upper < 0x80 ? ALPHABET.indexOf(String.fromCharCode(upper)) : -1;
    if (v < 0) {
      const hint = LOOKALIKE[ch] ? `; did you mean ${LOOKALIKE[ch]}?` : '';
      invalid(`character ${JSON.stringify(ch)} at position ${position} is not in the base32 alphabet A-Z 2-7${hint}`);
    }
    values.push(v);
  }
  return values;
}

/**
 * Decode a code as a person may have typed it: letters in either case, any
 * whitespace or dashes anywhere. Everything else is refused with the reason:
 * a character outside the alphabet, a wrong length, a CRC mismatch (a typo), an
 * unknown version, a size beyond 2^53-1.
 */
export function decodePublicationCode(code: string): DecodedPublicationCode {
  if (typeof code !== 'string') invalid('publication code must be a string');
  if (code.length > 4 * PUBLICATION_CODE_LENGTH) invalid(`publication code is too long (${code.length} characters)`);
  const values = readCharacters(code);
  if (values.length !== PUBLICATION_CODE_LENGTH) {
    invalid(`expected ${PUBLICATION_CODE_LENGTH} base32 characters (separators aside), got ${values.length}`);
  }
  const bytes = new Uint8Array(CODE_BYTES);
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (const v of values) {
    acc = ((acc << 5) | v) & 0xfff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      bytes[o++] = (acc >>> bits) & 0xff;
    }
  }
  const view = new DataView(bytes.buffer);
  // CRC first: a typo anywhere, the version characters included, reads as a typo.
  if (view.getUint32(BODY_LENGTH) !== crc32(bytes.subarray(0, BODY_LENGTH))) {
    invalid('checksum mismatch: the code was mistyped or altered');
  }
  if (bytes[0] !== PUBLICATION_CODE_VERSION) invalid(`unsupported publication code version ${bytes[0]}`);
  const hi = view.getUint32(1);
  if (hi >= 2 ** 21) invalid('tree size exceeds 2^53-1');
  return { size: hi * TWO_32 + view.getUint32(5), root: bytes.slice(9, 9 + ROOT_LENGTH) };
}
