/**
 * Identifiers minted by the service.
 *
 * - Batch ids are ULID-shaped (https://github.com/ulid/spec): a 48-bit Unix time
 *   in milliseconds followed by 80 random bits, written as 26 characters of
 *   Crockford base32 (https://www.crockford.com/base32.html), upper case. They
 *   sort by arrival time as plain strings, which is what the store's
 *   time-ordered keys and the round cut-off rely on.
 * - Anchor ids are `${batchId}.${index}`: the position of the hash in its batch
 *   (decimal, no leading zeros), so an anchor needs no item of its own.
 * - Agency ids are ULID-shaped too; API key ids are 16 lower-case Crockford
 *   characters (80 random bits); see api/auth.ts for the token format.
 *
 * Randomness comes from the Web Crypto CSPRNG (`crypto.getRandomValues`), which
 * Node, Lambda and browsers all provide.
 */

/** Crockford base32 alphabet: digits and letters without I, L, O, U. */
export const CROCKFORD_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
/** Largest time a 48-bit millisecond field holds (year 10889). */
const MAX_TIME_MS = 2 ** 48 - 1;
export const BATCH_ID_LENGTH = 26;
const BATCH_ID_RE = /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/;
/** Anchors per batch never exceed 10,000, so 5 digits always suffice; allow a little headroom. */
const ANCHOR_ID_RE = /^([0-7][0-9A-HJKMNP-TV-Z]{25})\.(0|[1-9][0-9]{0,6})$/;

/**
 * CSPRNG bytes, served from a 4 KiB pool refilled with one getRandomValues call
 * (as Node's own randomUUID does): a request takes two small random values (its
 * request id, its batch id), and one system call per value was a measurable
 * share of a one-hash request. Larger requests go straight to the source.
 */
const POOL_BYTES = 4096;
const pool = new Uint8Array(POOL_BYTES);
let poolUsed = POOL_BYTES;

export function randomBytes(n: number): Uint8Array {
  if (n > 256) return globalThis.crypto.getRandomValues(new Uint8Array(n));
  if (poolUsed + n > POOL_BYTES) {
    globalThis.crypto.getRandomValues(pool);
    poolUsed = 0;
  }
  const out = pool.slice(poolUsed, poolUsed + n);
  poolUsed += n;
  return out;
}

/** Crockford base32 of a byte string, big-endian bits, final group zero-padded (no `=`). */
export function base32Crockford(bytes: Uint8Array): string {
  let out = '';
  let acc = 0;
  let bits = 0;
  for (const b of bytes) {
    acc = ((acc << 8) | b) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += CROCKFORD_ALPHABET[(acc >> bits) & 31];
    }
  }
  if (bits > 0) out += CROCKFORD_ALPHABET[(acc << (5 - bits)) & 31];
  return out;
}

function encodeTime(ms: number): string {
  if (!Number.isSafeInteger(ms) || ms < 0 || ms > MAX_TIME_MS) throw new RangeError(`time ${ms} does not fit 48 bits`);
  let out = '';
  let t = ms;
  for (let i = 0; i < 10; i++) {
    out = CROCKFORD_ALPHABET[t % 32]! + out;
    t = Math.floor(t / 32);
  }
  return out;
}

/** A new ULID-shaped id for the given instant. */
export function newTimeId(now: Date, random: (n: number) => Uint8Array = randomBytes): string {
  return encodeTime(now.getTime()) + base32Crockford(random(10));
}

export const newBatchId = newTimeId;
export const newAgencyId = newTimeId;

/** The millisecond timestamp inside a batch (or agency) id. */
export function timeOfId(id: string): number {
  if (!BATCH_ID_RE.test(id)) throw new RangeError('not a 26-character Crockford base32 id');
  let t = 0;
  for (let i = 0; i < 10; i++) t = t * 32 + CROCKFORD_ALPHABET.indexOf(id[i]!);
  return t;
}

export function isBatchId(id: string): boolean {
  return BATCH_ID_RE.test(id);
}

export function anchorId(batchId: string, index: number): string {
  return `${batchId}.${index}`;
}

/** Split an anchor id; null for anything that is not exactly `${batchId}.${index}`. */
export function parseAnchorId(id: string): { batchId: string; index: number } | null {
  const m = ANCHOR_ID_RE.exec(id);
  if (!m) return null;
  return { batchId: m[1]!, index: Number(m[2]) };
}

/** A public API key id: 80 random bits, 16 lower-case Crockford characters. */
export function newKeyId(random: (n: number) => Uint8Array = randomBytes): string {
  return base32Crockford(random(10)).toLowerCase();
}
