/**
 * `ledgerseal-row/v1`: the canonical form of one database row (docs/rows.md).
 *
 * A row is the RFC 8785 JSON object {column: canonical text | null}; its digest
 * is SHA-256 of that text's UTF-8 and goes into docs/protocol.md 2.1 as the
 * record digest. Every source (PostgreSQL, MySQL/MariaDB, CSV, NDJSON) turns
 * its text form of a value into the one canonical text of the value's kind
 * with canonicalValue, so the same row hashes the same on every run and in
 * every connector. Browser-safe: no node: imports.
 */
import { sha256 } from '#sha256';
import { utf8 } from './encoding.ts';
import { fail } from './errors.ts';
import { canonicalJson, parseJsonStrict } from './jcs.ts';

/** The version of the row canonicalization; receipts name it. */
export const ROW_FORMAT = 'ledgerseal-row/v1';

export type ColumnKind =
  | 'integer'
  | 'decimal'
  | 'float'
  | 'boolean'
  | 'date'
  | 'time'
  | 'timestamp'
  | 'timestamptz'
  | 'text'
  | 'bytes'
  | 'json'
  | 'uuid'
  | 'other';

/** Every ColumnKind, in the order of docs/rows.md. */
export const COLUMN_KINDS: readonly ColumnKind[] = [
  'integer', 'decimal', 'float', 'boolean', 'date', 'time', 'timestamp', 'timestamptz', 'text', 'bytes', 'json', 'uuid', 'other',
];

/** Canonical texts by column name; null is SQL NULL (distinct from ""). */
export type RowValues = Record<string, string | null>;

// ---------------------------------------------------------------- errors

function show(text: string): string {
  return JSON.stringify(text.length > 64 ? `${text.slice(0, 61)}...` : text);
}

function invalid(kind: ColumnKind, text: string, why?: string): never {
  fail('INVALID_ARGUMENT', `not a valid ${kind} value: ${show(text)}${why ? ` (${why})` : ''}`);
}

// ---------------------------------------------------------------- numbers

const D0 = 48; // '0'
const D9 = 57; // '9'

function isDigit(c: number): boolean {
  return c >= D0 && c <= D9;
}

function integer(text: string): string {
  const n = text.length;
  let i = 0;
  let neg = false;
  const c0 = text.charCodeAt(0);
  if (c0 === 45 /* - */) {
    neg = true;
    i = 1;
  } else if (c0 === 43 /* + */) i = 1;
  if (i === n) invalid('integer', text, 'no digits');
  for (let k = i; k < n; k++) if (!isDigit(text.charCodeAt(k))) invalid('integer', text, 'only an optional sign and the digits 0-9');
  let z = i;
  while (z < n - 1 && text.charCodeAt(z) === D0) z++;
  if (z === n - 1 && text.charCodeAt(z) === D0) return '0';
  if (z === i && c0 !== 43) return text; // already canonical: no '+', no leading zero
  const digits = text.slice(z);
  return neg ? `-${digits}` : digits;
}

/** Largest exponent magnitude accepted in a decimal (PostgreSQL numeric has at most 131072 + 16383 digits). */
const MAX_DECIMAL_EXPONENT = 200_000;

/** A lookup table without a prototype, so that "constructor" or "__proto__" finds nothing. */
function table(entries: Record<string, string>): Record<string, string | undefined> {
  return Object.assign(Object.create(null) as Record<string, string | undefined>, entries);
}

const SPECIAL_NUMBERS = table({
  nan: 'NaN',
  infinity: 'Infinity',
  '+infinity': 'Infinity',
  inf: 'Infinity',
  '+inf': 'Infinity',
  '-infinity': '-Infinity',
  '-inf': '-Infinity',
});

function specialNumber(text: string): string | undefined {
  const c = text.charCodeAt(text.length - 1) | 0x20; // last letter, lowercased: nan / infinity / inf
  if (c !== 110 /* n */ && c !== 121 /* y */ && c !== 102 /* f */) return undefined;
  return SPECIAL_NUMBERS[text.toLowerCase()];
}

/**
 * Split a number text into sign, the digits without the decimal point, and the
 * position of the point (the exponent applied). Returns undefined when the text
 * is not [+-]digits[.digits][e[+-]digits] (at least one digit before the exponent).
 */
function scanNumber(text: string): { neg: boolean; digits: string; point: number } | undefined {
  const n = text.length;
  let i = 0;
  let neg = false;
  const c0 = text.charCodeAt(0);
  if (c0 === 45) {
    neg = true;
    i = 1;
  } else if (c0 === 43) i = 1;
  const intStart = i;
  while (i < n && isDigit(text.charCodeAt(i))) i++;
  const intEnd = i;
  let fracStart = i;
  let fracEnd = i;
  if (i < n && text.charCodeAt(i) === 46 /* . */) {
    fracStart = ++i;
    while (i < n && isDigit(text.charCodeAt(i))) i++;
    fracEnd = i;
  }
  if (intEnd === intStart && fracEnd === fracStart) return undefined;
  let exp = 0;
  if (i < n) {
    if ((text.charCodeAt(i) | 0x20) !== 101 /* e */) return undefined;
    i++;
    let eneg = false;
    const s = text.charCodeAt(i);
    if (s === 45 || s === 43) {
      eneg = s === 45;
      i++;
    }
    const expStart = i;
    while (i < n && isDigit(text.charCodeAt(i))) {
      if (exp <= MAX_DECIMAL_EXPONENT) exp = exp * 10 + (text.charCodeAt(i) - D0);
      i++;
    }
    if (i === expStart || i !== n) return undefined;
    if (eneg) exp = -exp;
  }
  const digits = fracEnd > fracStart ? text.slice(intStart, intEnd) + text.slice(fracStart, fracEnd) : text.slice(intStart, intEnd);
  return { neg, digits, point: intEnd - intStart + exp };
}

/**
 * The common case without allocation: -?digits[.digits] with no superfluous
 * leading zero. Returns the canonical text, or undefined for the general path.
 */
function plainDecimal(text: string): string | undefined {
  const n = text.length;
  let i = text.charCodeAt(0) === 45 ? 1 : 0;
  const start = i;
  while (i < n && isDigit(text.charCodeAt(i))) i++;
  const intEnd = i;
  if (intEnd === start || (intEnd - start > 1 && text.charCodeAt(start) === D0)) return undefined;
  if (i === n) return start === 1 && intEnd === 2 && text.charCodeAt(1) === D0 ? '0' : text;
  if (text.charCodeAt(i) !== 46) return undefined;
  i++;
  while (i < n && isDigit(text.charCodeAt(i))) i++;
  if (i !== n || i === intEnd + 1) return undefined;
  let e = n;
  while (text.charCodeAt(e - 1) === D0) e--;
  if (e === intEnd + 1) e = intEnd; // only zeros after the point: drop the point too
  if (e === intEnd && start === 1 && intEnd === 2 && text.charCodeAt(1) === D0) return '0'; // -0.00
  return e === n ? text : text.slice(0, e);
}

/** Whether text is [+-]digits[.digits][e[+-]digits] (a digit before the exponent), without allocating. */
function isNumberText(text: string): boolean {
  const n = text.length;
  let i = 0;
  const c0 = text.charCodeAt(0);
  if (c0 === 45 || c0 === 43) i = 1;
  const start = i;
  while (i < n && isDigit(text.charCodeAt(i))) i++;
  let digits = i - start;
  if (i < n && text.charCodeAt(i) === 46) {
    const f = ++i;
    while (i < n && isDigit(text.charCodeAt(i))) i++;
    digits += i - f;
  }
  if (digits === 0) return false;
  if (i === n) return true;
  if ((text.charCodeAt(i) | 0x20) !== 101) return false;
  i++;
  const s = text.charCodeAt(i);
  if (s === 45 || s === 43) i++;
  const e = i;
  while (i < n && isDigit(text.charCodeAt(i))) i++;
  return i === n && i > e;
}

function decimal(text: string): string {
  const plain = plainDecimal(text);
  if (plain !== undefined) return plain;
  const special = specialNumber(text);
  if (special !== undefined) return special;
  const num = scanNumber(text);
  if (num === undefined) invalid('decimal', text, 'expected [+-]digits[.digits][e[+-]digits], NaN or [-]Infinity');
  let { digits, point } = num;
  if (point > MAX_DECIMAL_EXPONENT || point < -MAX_DECIMAL_EXPONENT) invalid('decimal', text, 'exponent out of range');
  // Drop leading zeros (moving the point) and trailing zeros (the point stays).
  let a = 0;
  while (a < digits.length && digits.charCodeAt(a) === D0) a++;
  if (a === digits.length) return '0';
  let b = digits.length;
  while (digits.charCodeAt(b - 1) === D0) b--;
  point -= a;
  digits = digits.slice(a, b);
  let out: string;
  if (point <= 0) out = `0.${'0'.repeat(-point)}${digits}`;
  else if (point >= digits.length) out = digits + '0'.repeat(point - digits.length);
  else out = `${digits.slice(0, point)}.${digits.slice(point)}`;
  return num.neg ? `-${out}` : out;
}

/**
 * Whether a float's text is already what String(Number(text)) gives, decided
 * without the (slow) shortest-digits conversion: plain notation with no
 * superfluous sign or zero, at most 15 significant digits, magnitude in
 * [1e-6, 1e21). Two different decimals of at most 15 significant digits never
 * round to the same double (they differ by at least 1e-15 relative, a double's
 * spacing is at most 2^-52 relative), so such a text is the shortest form of
 * its double, and ECMAScript writes those digits in plain notation in that range.
 */
function isShortestFloatText(text: string): boolean {
  const n = text.length;
  let i = text.charCodeAt(0) === 45 ? 1 : 0;
  const start = i;
  while (i < n && isDigit(text.charCodeAt(i))) i++;
  const intLen = i - start;
  if (intLen === 0 || intLen > 21 || (intLen > 1 && text.charCodeAt(start) === D0)) return false;
  let significant = text.charCodeAt(start) === D0 ? 0 : intLen;
  if (i === n) return significant > 0 && significant <= 15;
  if (text.charCodeAt(i) !== 46 || text.charCodeAt(n - 1) === D0) return false;
  let leadingZeros = 0;
  for (i++; i < n; i++) {
    const c = text.charCodeAt(i);
    if (!isDigit(c)) return false;
    if (significant > 0) significant++;
    else if (c === D0) leadingZeros++;
    else significant = 1;
  }
  return significant > 0 && significant <= 15 && (intLen > 1 || text.charCodeAt(start) !== D0 || leadingZeros < 6);
}

function float(text: string): string {
  if (isShortestFloatText(text)) return text;
  if (!isNumberText(text)) {
    const special = specialNumber(text);
    if (special !== undefined) return special;
    invalid('float', text, 'expected [+-]digits[.digits][e[+-]digits], NaN or [-]Infinity');
  }
  const x = Number(text);
  if (!Number.isFinite(x)) invalid('float', text, 'out of the range of an IEEE-754 double');
  return x === 0 ? '0' : String(x);
}

// ---------------------------------------------------------------- boolean, uuid, bytes, json

const BOOLEANS = table({
  t: 'true', true: 'true', '1': 'true', yes: 'true', on: 'true',
  f: 'false', false: 'false', '0': 'false', no: 'false', off: 'false',
});

function boolean(text: string): string {
  const v = BOOLEANS[text] ?? BOOLEANS[text.toLowerCase()];
  if (v === undefined) invalid('boolean', text, 'expected t/f, true/false, 1/0, yes/no or on/off');
  return v;
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  const l = c | 0x20;
  if (l >= 97 && l <= 102) return l - 87;
  return -1;
}

function uuid(text: string): string {
  let s = text;
  if (s.charCodeAt(0) === 123 /* { */ && s.charCodeAt(s.length - 1) === 125 /* } */) s = s.slice(1, -1);
  let hex = '';
  if (s.length === 36) {
    for (const p of [8, 13, 18, 23]) if (s.charCodeAt(p) !== 45) invalid('uuid', text, 'expected 8-4-4-4-12 hex digits');
    hex = s.slice(0, 8) + s.slice(9, 13) + s.slice(14, 18) + s.slice(19, 23) + s.slice(24);
  } else if (s.length === 32) hex = s;
  else invalid('uuid', text, 'expected 8-4-4-4-12 hex digits');
  for (let i = 0; i < 32; i++) if (hexValue(hex.charCodeAt(i)) < 0) invalid('uuid', text, 'expected 8-4-4-4-12 hex digits');
  hex = hex.toLowerCase();
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function bytes(text: string): string {
  let start = 0;
  const c1 = text.charCodeAt(1);
  if ((text.charCodeAt(0) === 92 /* \ */ || text.charCodeAt(0) === 48 /* 0 */) && (c1 === 120 || c1 === 88) /* x X */) start = 2;
  if ((text.length - start) % 2 !== 0) invalid('bytes', text, 'odd number of hex digits');
  let lower = true;
  for (let i = start; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (hexValue(c) < 0) invalid('bytes', text, 'expected hex digits, optionally after \\x or 0x');
    if (c >= 65 && c <= 70) lower = false;
  }
  const hex = start === 0 ? text : text.slice(start);
  return lower ? hex : hex.toLowerCase();
}

function json(text: string): string {
  let value: unknown;
  try {
    // I-JSON: PostgreSQL's json type keeps duplicate member names, and JSON.parse would keep the
    // last: a change to an earlier one would hash alike. Such a value is refused.
    value = parseJsonStrict(text);
  } catch (e) {
    invalid('json', text, (e as Error).message);
  }
  try {
    return canonicalJson(value);
  } catch (e) {
    fail('INVALID_ARGUMENT', `not a valid json value: ${show(text)} (${(e as Error).message})`, e);
  }
}

// ---------------------------------------------------------------- dates and times
//
// The scanners leave their results in these module variables instead of
// returning objects: the readers call them for millions of values, and the
// outputs are built from slices of the input where it already has the
// canonical digits.

const MAX_FRACTION_DIGITS = 6;
/** FRACTION_PAD[n]: the zeros that make n fractional digits six. */
const FRACTION_PAD = ['000000', '00000', '0000', '000', '00', '0', ''];

let dYear = 0;
let dMonth = 0;
let dDay = 0;
/** Index of the '-' after the year (4 for a 4-digit year); the date ends at dYearEnd + 6. */
let dYearEnd = 0;
let cMinute = 0;
let cSecond = 0;
/** Whether the clock had seconds. */
let cHasSeconds = false;
let cFracStart = 0;
let cFracLen = 0;

function twoDigits(s: string, i: number): number {
  const a = s.charCodeAt(i) - D0;
  const b = s.charCodeAt(i + 1) - D0;
  if (a < 0 || a > 9 || b < 0 || b > 9) return -1;
  return a * 10 + b;
}

function isLeap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

function daysInMonth(y: number, m: number): number {
  return m === 2 ? (isLeap(y) ? 29 : 28) : m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31;
}

/**
 * YYYY-MM-DD at position 0 (a year may have more than 4 digits, without a
 * leading zero); returns the index after it. `bc` checks the day against the
 * astronomical year (1 BC is a leap year). 0000-00-00 is MySQL's zero date.
 */
function scanDate(kind: ColumnKind, text: string, bc: boolean): number {
  let i = 0;
  let year = 0;
  for (let c = text.charCodeAt(0); c >= D0 && c <= D9; c = text.charCodeAt(++i)) if (i < 9) year = year * 10 + (c - D0);
  if (i < 4 || (i > 4 && text.charCodeAt(0) === D0) || i > 9) invalid(kind, text, 'expected YYYY-MM-DD');
  if (text.charCodeAt(i) !== 45 || text.charCodeAt(i + 3) !== 45) invalid(kind, text, 'expected YYYY-MM-DD');
  const month = twoDigits(text, i + 1);
  const day = twoDigits(text, i + 4);
  if (month < 0 || day < 0) invalid(kind, text, 'expected YYYY-MM-DD');
  dYear = year;
  dMonth = month;
  dDay = day;
  dYearEnd = i;
  if (year === 0 && month === 0 && day === 0 && !bc) return i + 6;
  if (year === 0) invalid(kind, text, 'year 0000 (there is no year 0; PostgreSQL writes 1 BC)');
  if (month < 1 || month > 12) invalid(kind, text, `month ${month}`);
  const astronomical = bc ? 1 - year : year;
  if (day < 1 || day > daysInMonth(((astronomical % 400) + 400) % 400, month)) invalid(kind, text, `day ${day} of month ${month}`);
  return i + 6;
}

/** :MM[:SS[.f{1,6}]] at position i (right after the hours); returns the index after it. */
function scanClock(kind: ColumnKind, text: string, i: number): number {
  const minute = text.charCodeAt(i) === 58 ? twoDigits(text, i + 1) : -1;
  if (minute < 0) invalid(kind, text, 'expected HH:MM:SS[.ffffff]');
  let j = i + 3;
  let second = 0;
  cHasSeconds = false;
  cFracStart = j;
  cFracLen = 0;
  if (text.charCodeAt(j) === 58 /* : */) {
    second = twoDigits(text, j + 1);
    if (second < 0) invalid(kind, text, 'expected HH:MM:SS[.ffffff]');
    cHasSeconds = true;
    j += 3;
    if (text.charCodeAt(j) === 46 /* . */) {
      const start = ++j;
      while (isDigit(text.charCodeAt(j))) j++;
      const n = j - start;
      if (n === 0) invalid(kind, text, 'no digits after the decimal point');
      if (n > MAX_FRACTION_DIGITS) invalid(kind, text, 'more than 6 fractional digits (microseconds)');
      cFracStart = start;
      cFracLen = n;
    }
  }
  if (minute > 59 || second > 59) invalid(kind, text, 'minute or second out of range');
  cMinute = minute;
  cSecond = second;
  return j;
}

/** The clock scanned last, from hours at position h: `HH:MM:SS.ffffff` (from the input's own digits). */
function clockText(text: string, h: number): string {
  const hms = cHasSeconds ? text.slice(h, h + 8) : `${text.slice(h, h + 5)}:00`;
  return cFracLen === 0 ? `${hms}.000000` : `${hms}.${text.slice(cFracStart, cFracStart + cFracLen)}${FRACTION_PAD[cFracLen]}`;
}

/** The fraction scanned last, as 6 digits. */
function fractionText(text: string): string {
  return cFracLen === 0 ? '000000' : text.slice(cFracStart, cFracStart + cFracLen) + FRACTION_PAD[cFracLen]!;
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

function pad4(n: number): string {
  return n >= 1000 ? String(n) : `000${n}`.slice(-4);
}

const INFINITIES = table({ infinity: 'infinity', '+infinity': 'infinity', '-infinity': '-infinity' });

/** The checks of a BC value's text before its ' BC' (module-level: no closure per value). */
const BC_CHECKS: Partial<Record<ColumnKind, (text: string, body: string) => void>> = {
  date(text, body) {
    if (scanDate('date', body, true) !== body.length) invalid('date', text, 'expected YYYY-MM-DD BC');
  },
  timestamp(text, body) {
    if (scanTimestamp('timestamp', body, true) !== body.length) invalid('timestamp', text, 'expected YYYY-MM-DD HH:MM:SS[.ffffff] BC');
  },
  timestamptz(text, body) {
    if (scanOffset(body, scanTimestamp('timestamptz', body, true)) === undefined) {
      invalid('timestamptz', text, 'expected YYYY-MM-DD HH:MM:SS[.ffffff]+HH BC');
    }
  },
};

/** PostgreSQL's 'infinity'/'-infinity', or the server's own text of a BC value (checked, then kept). */
function dateSpecial(kind: ColumnKind, text: string): string | undefined {
  const last = text.charCodeAt(text.length - 1);
  if (isDigit(last)) return undefined;
  if (last === 121 || last === 89) {
    const inf = INFINITIES[text.toLowerCase()];
    if (inf !== undefined) return inf;
  }
  if (text.endsWith(' BC')) {
    BC_CHECKS[kind]!(text, text.slice(0, -3));
    return text;
  }
  if (last === 67 /* C */ && /\sBC$/i.test(text)) invalid(kind, text, "BC must be written ' BC', as PostgreSQL does");
  return undefined;
}

function date(text: string): string {
  const special = dateSpecial('date', text);
  if (special !== undefined) return special;
  if (scanDate('date', text, false) !== text.length) invalid('date', text, 'expected YYYY-MM-DD');
  return text;
}

/** Largest hour of MySQL's TIME, which is a duration (-838:59:59 to 838:59:59). */
const MAX_TIME_HOURS = 838;

function timeOfDay(text: string): string {
  const neg = text.charCodeAt(0) === 45;
  const i = neg ? 1 : 0;
  let h = i;
  while (isDigit(text.charCodeAt(h))) h++;
  if (h - i < 2 || h - i > 3) invalid('time', text, 'expected HH:MM:SS[.ffffff]');
  const hours = h - i === 2 ? twoDigits(text, i) : Number(text.slice(i, h));
  if (hours > MAX_TIME_HOURS) invalid('time', text, `hours beyond ${MAX_TIME_HOURS}`);
  if (scanClock('time', text, h) !== text.length) invalid('time', text, 'expected HH:MM:SS[.ffffff]');
  if (!neg && h === 2) return clockText(text, 0);
  const out = `${pad2(hours)}:${pad2(cMinute)}:${pad2(cSecond)}.${fractionText(text)}`;
  return neg && out !== '00:00:00.000000' ? `-${out}` : out;
}

/**
 * A date, a space or T, and HH:MM[:SS[.f]] at position 0; returns the index
 * after the clock (the hours are at dYearEnd + 7).
 */
function scanTimestamp(kind: ColumnKind, text: string, bc: boolean): number {
  const d = scanDate(kind, text, bc);
  const sep = text.charCodeAt(d);
  if (sep !== 32 && sep !== 84 && sep !== 116 /* ' ', T, t */) invalid(kind, text, 'expected a date, a space or T, and a time');
  const hour = twoDigits(text, d + 1);
  if (hour < 0) invalid(kind, text, 'expected HH:MM:SS[.ffffff]');
  if (hour > 23) invalid(kind, text, `hour ${hour}`);
  return scanClock(kind, text, d + 3);
}

function timestamp(text: string): string {
  const special = dateSpecial('timestamp', text);
  if (special !== undefined) return special;
  const end = scanTimestamp('timestamp', text, false);
  if (end !== text.length) {
    invalid('timestamp', text, /^\s*(?:z|[+-]\d)/i.test(text.slice(end)) ? 'it has a UTC offset; use kind timestamptz' : 'trailing characters');
  }
  const d = dYearEnd + 6;
  return `${text.slice(0, d)}T${clockText(text, d + 1)}`;
}

/** Offset in seconds east of UTC at position i: Z, or [+-]HH[[:]MM[[:]SS]]; undefined if malformed. */
function scanOffset(text: string, i: number): number | undefined {
  const n = text.length;
  const c = text.charCodeAt(i);
  if ((c === 90 || c === 122) && i + 1 === n) return 0; // Z z
  if (c !== 43 && c !== 45) return undefined;
  const hh = twoDigits(text, i + 1);
  if (hh < 0 || hh > 15) return undefined;
  let j = i + 3;
  if (j === n) return c === 45 ? -hh * 3600 : hh * 3600; // the common +00
  const colon = text.charCodeAt(j) === 58;
  let mm = 0;
  let ss = 0;
  for (let part = 0; part < 2 && j < n; part++) {
    if (colon) {
      if (text.charCodeAt(j) !== 58) return undefined;
      j++;
    }
    const v = twoDigits(text, j);
    if (v < 0 || v > 59) return undefined;
    if (part === 0) mm = v;
    else ss = v;
    j += 2;
  }
  if (j !== n) return undefined;
  const secs = hh * 3600 + mm * 60 + ss;
  return c === 45 ? -secs : secs;
}

/** Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's days_from_civil). */
function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** The inverse of daysFromCivil. */
function civilFromDays(z: number): [number, number, number] {
  z += 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp + (mp < 10 ? 3 : -9);
  return [yoe + era * 400 + (m <= 2 ? 1 : 0), m, d];
}

function timestamptz(text: string): string {
  const special = dateSpecial('timestamptz', text);
  if (special !== undefined) return special;
  const end = scanTimestamp('timestamptz', text, false);
  if (end === text.length) invalid('timestamptz', text, 'no UTC offset (Z, +HH, +HH:MM)');
  const offset = scanOffset(text, end);
  if (offset === undefined) invalid('timestamptz', text, 'expected a UTC offset Z, +HH, +HHMM or +HH:MM after the time');
  const d = dYearEnd + 6;
  if (dYear === 0) {
    // MySQL's zero TIMESTAMP: kept as a zero, not shifted.
    if (twoDigits(text, d + 1) !== 0 || cMinute !== 0 || cSecond !== 0 || cFracLen !== 0) invalid('timestamptz', text, 'year 0000');
    return '0000-00-00T00:00:00.000000Z';
  }
  if (offset === 0) return `${text.slice(0, d)}T${clockText(text, d + 1)}Z`;
  const hour = twoDigits(text, d + 1);
  let secs = daysFromCivil(dYear, dMonth, dDay) * 86400 + hour * 3600 + cMinute * 60 + cSecond - offset;
  const days = Math.floor(secs / 86400);
  secs -= days * 86400;
  const [y, m, dd] = civilFromDays(days);
  if (y < 1) invalid('timestamptz', text, 'before 0001-01-01 in UTC');
  const hh = Math.floor(secs / 3600);
  const mi = Math.floor((secs % 3600) / 60);
  return `${pad4(y)}-${pad2(m)}-${pad2(dd)}T${pad2(hh)}:${pad2(mi)}:${pad2(secs % 60)}.${fractionText(text)}Z`;
}

// ---------------------------------------------------------------- canonicalValue

function same(text: string): string {
  return text;
}

const CANONICAL: Record<ColumnKind, (text: string) => string> = {
  integer,
  decimal,
  float,
  boolean,
  date,
  time: timeOfDay,
  timestamp,
  timestamptz,
  text: same,
  bytes,
  json,
  uuid,
  other: same,
};

/**
 * The canonical text of one non-NULL value of a column of the given kind, from
 * a source's text form of it (docs/rows.md lists each kind's text). Throws
 * INVALID_ARGUMENT, naming the kind and the value, for text that is not a
 * value of the kind.
 */
export function canonicalValue(kind: ColumnKind, text: string): string {
  if (typeof text !== 'string') fail('INVALID_ARGUMENT', `canonicalValue needs a string, got ${text === null ? 'null' : typeof text}`);
  const f = Object.hasOwn(CANONICAL, kind) ? CANONICAL[kind] : undefined;
  if (f === undefined) fail('INVALID_ARGUMENT', `unknown column kind ${JSON.stringify(kind)}`);
  if (text.length === 0 && kind !== 'text' && kind !== 'other' && kind !== 'bytes') invalid(kind, text, 'empty');
  return f(text);
}

// ---------------------------------------------------------------- the row object

/** Characters JSON escapes, and surrogates (checked for pairing): a string without any is written "as is". */
const NEEDS_CARE = /[\u0000-\u001f"\\\ud800-\udfff]/;

const hasIsWellFormed = typeof (String.prototype as { isWellFormed?: unknown }).isWellFormed === 'function';
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function wellFormed(s: string): boolean {
  return hasIsWellFormed ? (s as string & { isWellFormed(): boolean }).isWellFormed() : !LONE_SURROGATE.test(s);
}

function checkRowValue(column: string, v: unknown): void {
  if (v !== null && typeof v !== 'string') {
    fail('INVALID_ARGUMENT', `row value of column ${JSON.stringify(column)} must be a string or null, got ${typeof v}`);
  }
}

/** The RFC 8785 JSON text of the row object {column: text | null}. */
export function canonicalRowJson(values: RowValues): string {
  if (typeof values !== 'object' || values === null || Array.isArray(values)) fail('INVALID_ARGUMENT', 'row values must be an object');
  for (const k of Object.keys(values)) checkRowValue(k, values[k]);
  return canonicalJson(values);
}

/**
 * A fast encoder for rows of a fixed column list, given as values in the order
 * of `columns`: the RFC 8785 member order and the key texts are computed once.
 * The output is identical to canonicalRowJson of the same row.
 */
export function rowEncoder(columns: readonly string[]): (values: readonly (string | null)[]) => string {
  if (!Array.isArray(columns)) fail('INVALID_ARGUMENT', 'columns must be an array of names');
  const seen = new Set<string>();
  for (const c of columns) {
    if (typeof c !== 'string') fail('INVALID_ARGUMENT', 'column names must be strings');
    if (seen.has(c)) fail('INVALID_ARGUMENT', `duplicate column name ${JSON.stringify(c)}`);
    if (!wellFormed(c)) fail('NOT_CANONICALIZABLE', `lone surrogate in column name ${JSON.stringify(c)}`);
    seen.add(c);
  }
  const n = columns.length;
  // RFC 8785 3.2.3 orders members by UTF-16 code units: JavaScript's default sort.
  const order = columns.map((_, i) => i).sort((a, b) => (columns[a]! < columns[b]! ? -1 : columns[a]! > columns[b]! ? 1 : 0));
  const index = Int32Array.from(order);
  const prefix = order.map((i, k) => `${k === 0 ? '{' : ','}${JSON.stringify(columns[i])}:`);
  const prefixQuote = prefix.map((p) => `${p}"`);
  const names = order.map((i) => columns[i]!);
  return (values) => {
    if (values.length !== n) fail('INVALID_ARGUMENT', `row has ${values.length} values for ${n} columns`);
    let out = n === 0 ? '{' : '';
    for (let k = 0; k < n; k++) {
      const v = values[index[k]!];
      if (v === null) out += `${prefix[k]}null`;
      else if (typeof v === 'string') {
        // JSON.stringify is the slow part of a row: most values need no escaping at all.
        if (!NEEDS_CARE.test(v)) out += `${prefixQuote[k]!}${v}"`;
        else {
          if (!wellFormed(v)) fail('NOT_CANONICALIZABLE', `lone surrogate in string at $.${names[k]}`);
          out += prefix[k]! + JSON.stringify(v);
        }
      } else checkRowValue(names[k]!, v);
    }
    return `${out}}`;
  };
}

/** SHA-256 of the UTF-8 of canonicalRowJson(values): the row's record digest (docs/protocol.md 2.1). */
export function rowDigest(values: RowValues): Uint8Array {
  return sha256(utf8(canonicalRowJson(values)));
}

/**
 * The recordKey of a row for the blinding mask (docs/protocol.md 2.2): the
 * RFC 8785 JSON array [dataset, ...key], where key holds the canonical texts
 * of the row's primary-key columns in key order. U+0000 in a key is written
 * `\u0000`, so the recordKey never contains the mask's separator byte.
 */
export function rowRecordKey(dataset: string, key: readonly string[]): string {
  if (typeof dataset !== 'string' || dataset.length === 0) fail('INVALID_ARGUMENT', 'dataset must be a non-empty string');
  if (!Array.isArray(key) || key.length === 0) fail('INVALID_ARGUMENT', 'key must be a non-empty array of the key columns\' texts');
  key.forEach((k, i) => {
    if (typeof k !== 'string') fail('INVALID_ARGUMENT', `key[${i}] must be a string (a key column cannot be NULL), got ${k === null ? 'null' : typeof k}`);
  });
  return canonicalJson([dataset, ...key]);
}
