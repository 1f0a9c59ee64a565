/**
 * Byte encodings used at the edges: hex (lowercase, RFC 4648 section 8), standard
 * base64 with padding (RFC 4648 section 4), UTF-8. The core works on Uint8Array;
 * these helpers are where strings enter and leave. Decoders are strict: they
 * reject anything that would not re-encode to the same string.
 */
import { fail } from './errors.ts';

const HEX = '0123456789abcdef';
const HEX_PAIRS: string[] = Array.from({ length: 256 }, (_, i) => HEX[i >> 4]! + HEX[i & 15]!);

export function bytesToHex(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i++) out += HEX_PAIRS[bytes[i]!];
  return out;
}

function hexNibble(c: number): number {
  if (c >= 48 && c <= 57) return c - 48; // 0-9
  if (c >= 97 && c <= 102) return c - 87; // a-f
  return -1;
}

/** Decode lowercase hex. Uppercase is refused: the protocol writes hashes lowercase. */
export function hexToBytes(hex: string, expectedLength?: number): Uint8Array {
  if (typeof hex !== 'string') fail('INVALID_HEX', 'hex input must be a string');
  if (hex.length % 2 !== 0) fail('INVALID_HEX', `hex string has odd length ${hex.length}`);
  const n = hex.length / 2;
  if (expectedLength !== undefined && n !== expectedLength) {
    fail('INVALID_HEX', `expected ${expectedLength} bytes of hex, got ${n}`);
  }
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const hi = hexNibble(hex.charCodeAt(2 * i));
    const lo = hexNibble(hex.charCodeAt(2 * i + 1));
    if (hi < 0 || lo < 0) fail('INVALID_HEX', `invalid lowercase hex at offset ${2 * i}`);
    out[i] = (hi << 4) | lo;
  }
  return out;
}

/** A SHA-256 hash as it appears in JSON: exactly 64 lowercase hex characters. */
export function hashFromHex(hex: string): Uint8Array {
  return hexToBytes(hex, 32);
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_INDEX = new Int16Array(128).fill(-1);
for (let i = 0; i < 64; i++) B64_INDEX[B64.charCodeAt(i)] = i;

export function bytesToBase64(bytes: Uint8Array): string {
  let out = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const v = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += B64[v >> 18]! + B64[(v >> 12) & 63]! + B64[(v >> 6) & 63]! + B64[v & 63]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const v = bytes[i]! << 16;
    out += B64[v >> 18]! + B64[(v >> 12) & 63]! + '==';
  } else if (rest === 2) {
    const v = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    out += B64[v >> 18]! + B64[(v >> 12) & 63]! + B64[(v >> 6) & 63]! + '=';
  }
  return out;
}

/** Decode standard, padded base64. Non-canonical encodings (non-zero pad bits) are refused. */
export function base64ToBytes(b64: string, expectedLength?: number): Uint8Array {
  if (typeof b64 !== 'string') fail('INVALID_BASE64', 'base64 input must be a string');
  if (b64.length % 4 !== 0) fail('INVALID_BASE64', 'base64 length is not a multiple of 4');
  let pad = 0;
  if (b64.endsWith('==')) pad = 2;
  else if (b64.endsWith('=')) pad = 1;
  const n = (b64.length / 4) * 3 - pad;
  const out = new Uint8Array(n);
  const val = (k: number): number => {
    const c = b64.charCodeAt(k);
    const v = c < 128 ? B64_INDEX[c]! : -1;
    if (v < 0) fail('INVALID_BASE64', `invalid base64 character at offset ${k}`);
    return v;
  };
  let o = 0;
  const full = b64.length - (pad ? 4 : 0);
  for (let k = 0; k < full; k += 4) {
    const v = (val(k) << 18) | (val(k + 1) << 12) | (val(k + 2) << 6) | val(k + 3);
    out[o++] = v >> 16;
    out[o++] = (v >> 8) & 255;
    out[o++] = v & 255;
  }
  if (pad === 2) {
    const a = val(full), b = val(full + 1);
    if (b & 15) fail('INVALID_BASE64', 'non-canonical base64 padding bits');
    out[o++] = (a << 2) | (b >> 4);
  } else if (pad === 1) {
    const a = val(full), b = val(full + 1), c = val(full + 2);
    if (c & 3) fail('INVALID_BASE64', 'non-canonical base64 padding bits');
    out[o++] = (a << 2) | (b >> 4);
    out[o++] = ((b & 15) << 4) | (c >> 2);
  }
  if (expectedLength !== undefined && n !== expectedLength) {
    fail('INVALID_BASE64', `expected ${expectedLength} bytes of base64, got ${n}`);
  }
  return out;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

export function fromUtf8(bytes: Uint8Array): string {
  try {
    return decoder.decode(bytes);
  } catch (e) {
    fail('INVALID_UTF8', 'bytes are not valid UTF-8', e);
  }
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Equality in time independent of where the first difference is (for MACs and hashes). */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}
