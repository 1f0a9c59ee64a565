/**
 * Item <-> domain helpers for the DynamoDB adapter (key design in README.md).
 *
 * DynamoDB speaks AttributeValue maps (S, N, B, BOOL); the port speaks
 * Uint8Array, numbers and RFC 3339 strings. Everything that turns one into the
 * other, and every key format, lives here so dynamo-store.ts reads as access
 * patterns only. Hashes are B attributes; large byte strings (batch hashes,
 * round members) are packed into one B attribute and spill into continuation
 * items beyond PART_BYTES.
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { createHash } from 'node:crypto';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { canonicalJson } from '@ledgerseal/sdk';
import { serviceFail } from '../errors.ts';

export type Item = Record<string, AttributeValue>;

/** Pending markers, outbox markers and due entries are each spread over this many partitions (README "Limits"). */
export const SHARDS = 8;
/** Bytes of packed data per item (head or part): leaves ~50 KB under the 400 KB item limit. */
export const PART_BYTES = 350_000;
/**
 * Round members per chunk item: 1,000 x (32-byte root + a row of at most ~260
 * bytes: batch and agency ids of <= 100 ASCII characters, a timestamp, a count)
 * < PART_BYTES, even before the rows are deflated.
 */
export const MEMBERS_PER_CHUNK = 1000;
/** Idempotency records expire (DynamoDB TTL attribute `ttl`) this long after creation. */
export const IDEMPOTENCY_TTL_SECONDS = 24 * 60 * 60;
/** Longest id accepted as a key component (agency, batch, key, proposal, validator). */
export const MAX_ID_LENGTH = 100;
const MAX_TEXT_KEY_LENGTH = 512;
const MAX_HEIGHT = 999_999_999_999;
const TIMESTAMP_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const HEX64_RE = /^[0-9a-f]{64}$/;

// ---- attribute values -------------------------------------------------------

export const S = (v: string): AttributeValue => ({ S: v });
export const N = (v: number): AttributeValue => ({ N: String(v) });
export const B = (v: Uint8Array): AttributeValue => ({ B: v });
export const BOOL = (v: boolean): AttributeValue => ({ BOOL: v });

/** A stored item that does not have the shape this adapter writes: a bug or tampering, never user input. */
export function corrupt(what: string): never {
  serviceFail('CORRUPT', `store: malformed item (${what})`);
}

export function str(item: Item, name: string): string {
  const v = item[name]?.S;
  if (v === undefined) corrupt(`missing S ${name}`);
  return v;
}
export function optStr(item: Item, name: string): string | undefined {
  return item[name]?.S;
}
export function num(item: Item, name: string): number {
  const v = item[name]?.N;
  if (v === undefined) corrupt(`missing N ${name}`);
  const x = Number(v);
  if (!Number.isSafeInteger(x)) corrupt(`N ${name} is not an integer`);
  return x;
}
export function optNum(item: Item, name: string): number | undefined {
  return item[name]?.N === undefined ? undefined : num(item, name);
}
/** Binary attribute (absent reads as empty), optionally of an exact length. */
export function bin(item: Item, name: string, expectedLength?: number): Uint8Array {
  const v = item[name]?.B ?? new Uint8Array(0);
  if (expectedLength !== undefined && v.length !== expectedLength) corrupt(`B ${name} has ${v.length} bytes`);
  return v;
}
export function bool(item: Item, name: string): boolean {
  return item[name]?.BOOL === true;
}

/** Drop the attributes of absent optional fields before a put. */
export function compact(item: Record<string, AttributeValue | undefined>): Item {
  const out: Item = {};
  for (const [k, v] of Object.entries(item)) if (v !== undefined) out[k] = v;
  return out;
}

/**
 * Item size as DynamoDB bills it (developer guide, "Item sizes"): attribute
 * name bytes plus value bytes; numbers counted by their digits (an upper bound).
 */
export function itemBytes(item: Item): number {
  let total = 0;
  for (const [name, v] of Object.entries(item)) {
    total += Buffer.byteLength(name, 'utf8');
    if (v.S !== undefined) total += Buffer.byteLength(v.S, 'utf8');
    else if (v.B !== undefined) total += v.B.length;
    else if (v.N !== undefined) total += Math.ceil(v.N.length / 2) + 1;
    else total += 1;
  }
  return total;
}

// ---- key components and validation -----------------------------------------

/** Caller input the store refuses (bad id, cursor, timestamp): ServiceError INVALID_ARGUMENT. */
export function invalid(message: string): never {
  serviceFail('INVALID_ARGUMENT', `store: ${message}`);
}

/** An id used inside a key: non-empty, short, and without the `#` key separator. */
export function keyPart(what: string, v: string, max = MAX_ID_LENGTH): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > max || v.includes('#')) {
    invalid(`${what} must be 1-${max} characters without '#'`);
  }
  return v;
}

/** Free text that ends a key (idempotency key, event id): non-empty and bounded. */
export function keyTail(what: string, v: string): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > MAX_TEXT_KEY_LENGTH) {
    invalid(`${what} must be 1-${MAX_TEXT_KEY_LENGTH} characters`);
  }
  return v;
}

/** Timestamps inside sort keys must sort as strings: fixed RFC 3339 UTC with milliseconds. */
export function timestamp(what: string, v: string): string {
  if (typeof v !== 'string' || !TIMESTAMP_RE.test(v) || Number.isNaN(Date.parse(v))) {
    invalid(`${what} must be RFC 3339 UTC with milliseconds, e.g. 2026-11-22T04:32:16.123Z`);
  }
  return v;
}

export function hex64(what: string, v: string): string {
  if (typeof v !== 'string' || !HEX64_RE.test(v)) invalid(`${what} must be 64 lowercase hex characters`);
  return v;
}

export function isHex64(v: string): boolean {
  return typeof v === 'string' && HEX64_RE.test(v);
}

export function nonNegInt(what: string, v: number, max = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isSafeInteger(v) || v < 0 || v > max) invalid(`${what} must be an integer in 0..${max}`);
  return v;
}

export function pageLimit(v: number): number {
  if (!Number.isSafeInteger(v) || v < 1) invalid('limit must be a positive integer');
  return v;
}

export function bytes(what: string, v: Uint8Array, length?: number): Uint8Array {
  if (!(v instanceof Uint8Array)) invalid(`${what} must be a Uint8Array`);
  if (length !== undefined && v.length !== length) invalid(`${what} must be ${length} bytes`);
  return v;
}

/** Zero-padded decimal so numeric order equals string order in sort keys. */
export function pad(v: number, digits: number): string {
  return String(v).padStart(digits, '0');
}
export function height12(h: number): string {
  return pad(nonNegInt('height', h, MAX_HEIGHT), 12);
}

/** Lowercase hex SHA-256 of a string's UTF-8 or of bytes. */
export function sha256Hex(data: string | Uint8Array): string {
  return typeof data === 'string' ? createHash('sha256').update(data, 'utf8').digest('hex') : createHash('sha256').update(data).digest('hex');
}

/** Shard of an id (batch id, event id, `<endpointId>#<msgId>`): first 4 bytes of SHA-256(id), big-endian, mod SHARDS. */
export function shardOf(id: string): number {
  return createHash('sha256').update(id, 'utf8').digest().readUInt32BE(0) % SHARDS;
}

export function epochSeconds(t: string): number {
  return Math.floor(Date.parse(t) / 1000);
}

// ---- packed payloads --------------------------------------------------------

/** JSON then raw DEFLATE (RFC 1951): per-anchor entries and round rows compress ~5x. */
export function packJson(value: unknown): Uint8Array {
  return new Uint8Array(deflateRawSync(Buffer.from(JSON.stringify(value), 'utf8')));
}
/**
 * RFC 8785 canonical JSON, then raw DEFLATE: the same value gives the same bytes
 * whatever the key order it arrived in (batch entries; docs/protocol.md 7.1).
 */
export function packCanonicalJson(value: unknown): Uint8Array {
  return new Uint8Array(deflateRawSync(Buffer.from(canonicalJson(value), 'utf8')));
}
export function unpackJson(data: Uint8Array): unknown {
  try {
    return JSON.parse(inflateRawSync(data).toString('utf8')) as unknown;
  } catch (e) {
    return corrupt(`packed JSON does not decode: ${(e as Error).message}`);
  }
}

/** Split a byte string into PART_BYTES pieces (at least one piece, possibly empty). */
export function splitParts(data: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < data.length; i += PART_BYTES) out.push(data.subarray(i, i + PART_BYTES));
  return out.length > 0 ? out : [new Uint8Array(0)];
}

export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

// ---- cursors -----------------------------------------------------------------

/** Opaque page cursor: base64url of the JSON of the last returned item's key (all key attributes are S). */
export function encodeCursor(key: Item, names: readonly string[]): string {
  const obj: Record<string, string> = {};
  for (const n of names) obj[n] = str(key, n);
  return Buffer.from(JSON.stringify(obj), 'utf8').toString('base64url');
}

/** Decode a cursor, refusing anything but a key of the partition being read. */
export function decodeCursor(cursor: string, names: readonly string[], partition: [string, string]): Item {
  const bad = (): never => serviceFail('INVALID_CURSOR', 'store: not a cursor of this listing');
  if (typeof cursor !== 'string' || !/^[A-Za-z0-9_-]{1,2048}$/.test(cursor)) bad();
  let obj: unknown;
  try {
    obj = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    bad();
  }
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) bad();
  const rec = obj as Record<string, unknown>;
  if (Object.keys(rec).length !== names.length) bad();
  const key: Item = {};
  for (const n of names) {
    const v = rec[n];
    if (typeof v !== 'string' || v.length === 0) bad();
    key[n] = S(v as string);
  }
  if (key[partition[0]]?.S !== partition[1]) bad();
  return key;
}
