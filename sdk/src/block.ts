/**
 * Block headers, docs/protocol.md 4.5: UTF-8 text, one `name value` field per
 * line, every line ending in "\n", in exactly this order:
 *
 *     ledgerseal-block/v1
 *     height <decimal>
 *     time <RFC 3339 UTC, exactly 3 fractional digits, Z>
 *     round-size <decimal>
 *     anchors <decimal>
 *     round-root <64 lowercase hex>
 *     prev <64 lowercase hex>
 *     validators <64 lowercase hex>
 *
 * The header bytes are the calendar leaf data, so the parser accepts exactly one
 * text per header: encodeBlockHeader(parseBlockHeader(t)) === t for every t it accepts.
 * Chain rules (heights without gaps, `prev` linking, time never going back, genesis
 * `prev` of zeros) involve two blocks and are checked by validators and verifiers.
 */
import { bytesToHex, hexToBytes, utf8 } from './encoding.ts';
import { fail } from './errors.ts';

export const BLOCK_HEADER_VERSION = 'ledgerseal-block/v1';
/** A well-formed header is under 450 bytes; anything longer is refused before splitting. */
export const BLOCK_HEADER_MAX_BYTES = 1024;
/** `prev` of block 0: 32 zero bytes. */
export const GENESIS_PREV: Uint8Array = new Uint8Array(32);

export interface BlockHeader {
  height: number;
  /** RFC 3339 UTC with milliseconds, e.g. `2026-11-22T04:32:16.123Z`. */
  time: string;
  /** Number of batches in the round tree. */
  roundSize: number;
  /** Number of anchors in the round, all batches together. */
  anchors: number;
  roundRoot: Uint8Array;
  /** Calendar leaf hash of block height-1, or GENESIS_PREV for height 0. */
  prev: Uint8Array;
  /** SHA-256 of the RFC 8785 canonical JSON of the validator set in force. */
  validators: Uint8Array;
}

const FIELDS = ['height', 'time', 'round-size', 'anchors', 'round-root', 'prev', 'validators'] as const;
const DECIMAL = /^(0|[1-9][0-9]*)$/;
const HEX32 = /^[0-9a-f]{64}$/;
const TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

function bad(reason: string): never {
  fail('MALFORMED_BLOCK', `malformed block header: ${reason}`);
}

/** RFC 3339 UTC with exactly 3 fractional digits that names a real instant (no leap seconds). */
function isBlockTime(s: unknown): s is string {
  if (typeof s !== 'string' || !TIME.test(s)) return false;
  const t = Date.parse(s);
  return Number.isFinite(t) && new Date(t).toISOString() === s;
}

/** Format a Date as a header time: `YYYY-MM-DDTHH:MM:SS.mmmZ` (years 0000-9999). */
export function timeToRfc3339Millis(date: Date): string {
  if (!(date instanceof Date) || !Number.isFinite(date.getTime())) fail('INVALID_ARGUMENT', 'expected a valid Date');
  const s = date.toISOString();
  if (!TIME.test(s)) fail('INVALID_ARGUMENT', `year of ${s} is outside 0000-9999`);
  return s;
}

function checkCount(n: unknown, field: string): void {
  if (!Number.isSafeInteger(n) || (n as number) < 0) bad(`${field} must be an integer from 0 to 2^53 - 1`);
}

function checkHash(h: unknown, field: string): void {
  if (!(h instanceof Uint8Array) || h.length !== 32) bad(`${field} must be 32 bytes`);
}

/** The header text of docs/protocol.md 4.5. */
export function encodeBlockHeader(h: BlockHeader): string {
  if (typeof h !== 'object' || h === null) bad('header must be an object');
  checkCount(h.height, 'height');
  if (!isBlockTime(h.time)) bad('time must be RFC 3339 UTC with milliseconds, e.g. 2026-11-22T04:32:16.123Z');
  checkCount(h.roundSize, 'round-size');
  checkCount(h.anchors, 'anchors');
  checkHash(h.roundRoot, 'round-root');
  checkHash(h.prev, 'prev');
  checkHash(h.validators, 'validators');
  return (
    `${BLOCK_HEADER_VERSION}\n` +
    `height ${h.height}\n` +
    `time ${h.time}\n` +
    `round-size ${h.roundSize}\n` +
    `anchors ${h.anchors}\n` +
    `round-root ${bytesToHex(h.roundRoot)}\n` +
    `prev ${bytesToHex(h.prev)}\n` +
    `validators ${bytesToHex(h.validators)}\n`
  );
}

/** Parse a header text strictly: exact version, field names, order, spacing and encodings. */
export function parseBlockHeader(text: string): BlockHeader {
  if (typeof text !== 'string') bad('header must be a string');
  if (text.length > BLOCK_HEADER_MAX_BYTES) bad(`longer than ${BLOCK_HEADER_MAX_BYTES} bytes`);
  if (!text.endsWith('\n')) bad('last line does not end in a newline');
  const lines = text.slice(0, -1).split('\n');
  if (lines[0] !== BLOCK_HEADER_VERSION) {
    if (lines[0]!.startsWith('ledgerseal-block/')) bad(`unsupported version "${lines[0]}", expected ${BLOCK_HEADER_VERSION}`);
    bad(`first line must be ${BLOCK_HEADER_VERSION}`);
  }
  if (lines.length !== FIELDS.length + 1) bad(`expected ${FIELDS.length + 1} lines, got ${lines.length}`);
  const v: string[] = FIELDS.map((name, i) => {
    const line = lines[i + 1]!;
    if (!line.startsWith(`${name} `)) bad(`line ${i + 2} must be "${name} <value>"`);
    return line.slice(name.length + 1);
  });
  const count = (s: string, field: string): number => {
    if (!DECIMAL.test(s)) bad(`${field} is not a canonical decimal`);
    const n = Number(s);
    if (!Number.isSafeInteger(n)) bad(`${field} is larger than 2^53 - 1`);
    return n;
  };
  const hash = (s: string, field: string): Uint8Array => {
    if (!HEX32.test(s)) bad(`${field} is not 64 lowercase hex characters`);
    return hexToBytes(s, 32);
  };
  const [height, time, roundSize, anchors, roundRoot, prev, validators] = v as [string, string, string, string, string, string, string];
  if (!isBlockTime(time)) bad('time is not RFC 3339 UTC with 3 fractional digits naming a real instant');
  return {
    height: count(height, 'height'),
    time,
    roundSize: count(roundSize, 'round-size'),
    anchors: count(anchors, 'anchors'),
    roundRoot: hash(roundRoot, 'round-root'),
    prev: hash(prev, 'prev'),
    validators: hash(validators, 'validators'),
  };
}

/** The calendar leaf data of a block: the UTF-8 bytes of its header (validated). */
export function blockLeafData(header: BlockHeader | string): Uint8Array {
  if (typeof header === 'string') {
    parseBlockHeader(header);
    return utf8(header);
  }
  return utf8(encodeBlockHeader(header));
}
