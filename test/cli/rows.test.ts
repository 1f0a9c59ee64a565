/**
 * `ledgerseal-row/v1` (docs/rows.md): every kind's canonical text, the
 * vectors of docs/rows.md section 9 (read from the document), the worked
 * example of section 8 (digests computed here with node:crypto and
 * cross-checked with openssl), the row object and its fast encoder, and the
 * recordKey.
 */
import { createHash, createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bytesToHex } from '../../sdk/src/encoding.ts';
import { anchorOf, blindingMask } from '../../sdk/src/record.ts';
import {
  canonicalRowJson,
  canonicalValue,
  COLUMN_KINDS,
  ROW_FORMAT,
  rowDigest,
  rowEncoder,
  rowRecordKey,
  type ColumnKind,
  type RowValues,
} from '../../sdk/src/row.ts';
import * as sdk from '../../sdk/src/index.ts';
import { expectSdkError } from '../helpers/sdk-errors.ts';

const sha = (s: string): string => createHash('sha256').update(s, 'utf8').digest('hex');
const DOC = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'rows.md'), 'utf8');

/** The rows `| kind | `source` | `canonical` |` of docs/rows.md section 9. */
function docVectors(): [ColumnKind, string, string][] {
  const section = DOC.slice(DOC.indexOf('\n## 9. Test vectors'));
  return [...section.matchAll(/^\| (\w+) \| `([^`]*)` \| `([^`]*)` \|$/gm)].map((m) => [m[1] as ColumnKind, m[2]!, m[3]!]);
}

describe('canonicalValue: the vectors of docs/rows.md', () => {
  const vectors = docVectors();
  it('the document has a vector for every kind', () => {
    expect(vectors.length).toBeGreaterThan(70);
    expect(new Set(vectors.map(([k]) => k))).toEqual(new Set(COLUMN_KINDS));
  });
  it.each(vectors)('%s %j → %j', (kind, source, canonical) => {
    expect(canonicalValue(kind, source)).toBe(canonical);
    // Canonical texts are fixed points.
    expect(canonicalValue(kind, canonical)).toBe(canonical);
  });

  it.each([
    ['integer', '1.0'], ['integer', '1e3'], ['integer', ''], ['integer', '-'], ['integer', ' 1'],
    ['decimal', '1e'], ['decimal', '1,5'], ['decimal', '.'], ['decimal', ''], ['decimal', '1e999999'], ['decimal', 'Inf inity'],
    ['float', '1e400'], ['float', '-1e400'], ['float', '0x10'], ['float', ' 1'], ['float', ''], ['float', 'Infinityy'],
    ['boolean', 'maybe'], ['boolean', ''], ['boolean', 'constructor'], ['boolean', '__proto__'],
    ['date', '2023-02-29'], ['date', '2024-13-01'], ['date', '2024-00-10'], ['date', '24-01-01'], ['date', '2024-1-01'],
    ['date', '2024-01-01 '], ['date', '0000-01-01'], ['date', '2024-02-30 BC'], ['date', '2024-01-01 bc'], ['date', '01000-01-01'],
    ['time', '10:60:00'], ['time', '10:00:60'], ['time', '10:00:00.1234567'], ['time', '839:00:00'], ['time', '1:00:00'], ['time', '10:00:00.'],
    ['time', '10:00:00+01'],
    ['timestamp', '2024-01-02 03:04:05+00'], ['timestamp', '2024-01-02Z03:04:05'], ['timestamp', '2024-01-02 24:00:00'], ['timestamp', '2024-01-02'],
    ['timestamptz', '2024-01-02 03:04:05'], ['timestamptz', '2024-01-02 03:04:05+16'], ['timestamptz', '2024-01-02 03:04:05+05:3'],
    ['timestamptz', '2024-01-02 03:04:05 +05'], ['timestamptz', '0001-01-01 00:00:00+01'], ['timestamptz', '2024-01-02 03:04:05+05:30junk'],
    ['bytes', 'abc'], ['bytes', 'xyz'], ['bytes', '\\x0g'],
    ['json', '{a:1}'], ['json', ''], ['json', '1e400'], ['json', '"\\ud800"'],
    ['uuid', 'a0eebc99-9c0b'], ['uuid', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1g'], ['uuid', 'a0eebc999-c0b-4ef8-bb6d-6bb9bd380a11'],
  ] as [ColumnKind, string][])('%s refuses %j', (kind, text) => {
    expectSdkError(() => canonicalValue(kind, text), 'INVALID_ARGUMENT', new RegExp(`not a valid ${kind} value`));
  });

  it('messages say why', () => {
    expectSdkError(() => canonicalValue('date', '2023-02-29'), 'INVALID_ARGUMENT', 'not a valid date value: "2023-02-29" (day 29 of month 2)');
    expectSdkError(() => canonicalValue('timestamp', '2024-01-02 03:04:05+00'), 'INVALID_ARGUMENT', /use kind timestamptz/);
    expectSdkError(() => canonicalValue('timestamptz', '2024-01-02 03:04:05'), 'INVALID_ARGUMENT', /no UTC offset/);
    expectSdkError(() => canonicalValue('time', '10:00:00.1234567'), 'INVALID_ARGUMENT', /more than 6 fractional digits/);
    expectSdkError(() => canonicalValue('float', '1e400'), 'INVALID_ARGUMENT', /out of the range of an IEEE-754 double/);
    expectSdkError(() => canonicalValue('json', '{a:1}'), 'INVALID_ARGUMENT', /^not a valid json value: "\{a:1\}" \(/);
    expectSdkError(() => canonicalValue('json', '"\\ud800"'), 'INVALID_ARGUMENT', /lone surrogate/);
    // PostgreSQL's json type keeps a member name twice; canonicalizing would keep the last and hide a change to the first.
    expectSdkError(() => canonicalValue('json', '{"a":1,"a":2}'), 'INVALID_ARGUMENT', /duplicate member name "a" in the object at \$ /);
    expect(canonicalValue('json', '[{"a":1},{"a":2}]')).toBe('[{"a":1},{"a":2}]'); // the same name in two objects is fine
    expectSdkError(() => canonicalValue('integer', 'x'.repeat(100)), 'INVALID_ARGUMENT', /"x{61}\.\.\."/);
    expectSdkError(() => canonicalValue('nope' as ColumnKind, '1'), 'INVALID_ARGUMENT', 'unknown column kind "nope"');
    expectSdkError(() => canonicalValue('constructor' as ColumnKind, '1'), 'INVALID_ARGUMENT', /unknown column kind/);
    expectSdkError(() => canonicalValue('text', null as unknown as string), 'INVALID_ARGUMENT', /needs a string, got null/);
  });
});

describe('canonicalValue by kind', () => {
  it('text and other keep everything: no trimming, no Unicode normalization', () => {
    for (const s of ['', ' ', 'a\tb\nc\\d', 'e\u0301', '\u00e9', '😀', '\u0000', 'NULL', '\\N']) {
      expect(canonicalValue('text', s)).toBe(s);
      expect(canonicalValue('other', s)).toBe(s);
    }
    expect(canonicalValue('text', 'e\u0301')).not.toBe(canonicalValue('text', '\u00e9'));
  });

  it('bytes: the empty value is "" (zero bytes), not an error', () => {
    expect(canonicalValue('bytes', '')).toBe('');
    expect(canonicalValue('bytes', '\\x')).toBe('');
  });

  it('decimal equals an exact BigInt reference on random texts', () => {
    /** Reference: value = sign * digits * 10^(exp - fracLen), written with BigInt arithmetic. */
    const reference = (neg: boolean, intPart: string, frac: string, exp: number): string => {
      const digits = BigInt(intPart + frac || '0');
      const scale = frac.length - exp; // value = digits / 10^scale
      if (digits === 0n) return '0';
      let text: string;
      if (scale <= 0) text = (digits * 10n ** BigInt(-scale)).toString();
      else {
        const s = digits.toString().padStart(scale + 1, '0');
        text = `${s.slice(0, -scale)}.${s.slice(-scale)}`.replace(/0+$/, '').replace(/\.$/, '');
      }
      return neg ? `-${text}` : text;
    };
    fc.assert(
      fc.property(
        fc.boolean(), fc.stringMatching(/^[0-9]{0,25}$/), fc.stringMatching(/^[0-9]{0,25}$/), fc.integer({ min: -40, max: 40 }),
        fc.constantFrom('', '+'), fc.boolean(), fc.constantFrom('e', 'E'),
        (neg, intPart, frac, exp, plus, withExp, e) => {
          fc.pre(intPart.length + frac.length > 0);
          const text = `${neg ? '-' : plus}${intPart}${frac ? `.${frac}` : ''}${withExp || exp !== 0 ? `${e}${exp}` : ''}`;
          expect(canonicalValue('decimal', text)).toBe(reference(neg, intPart, frac, exp));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('float is String(Number(text)) for random doubles in every notation, and -0 is 0', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (x) => {
        const expected = Object.is(x, -0) ? '0' : String(x);
        for (const text of [String(x), x.toPrecision(17), x.toExponential(), x.toExponential(20).replace('e', 'E')]) {
          expect(canonicalValue('float', text)).toBe(expected);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('float texts of at most 15 significant digits (the no-conversion path) are exactly String(Number(text))', () => {
    fc.assert(
      fc.property(
        fc.boolean(), fc.stringMatching(/^[0-9]{1,15}$/), fc.integer({ min: -30, max: 30 }),
        (neg, digits, shift) => {
          const s = digits.replace(/^0+(?=.)/, '');
          const point = s.length + shift;
          const plain = point <= 0 ? `0.${'0'.repeat(-point)}${s}` : point >= s.length ? s + '0'.repeat(point - s.length) : `${s.slice(0, point)}.${s.slice(point)}`;
          const text = `${neg ? '-' : ''}${plain}`;
          const x = Number(text);
          expect(canonicalValue('float', text)).toBe(x === 0 ? '0' : String(x));
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('timestamptz equals a Date-based reference for random instants and offsets', () => {
    const pad = (n: number, w = 2): string => String(Math.abs(n)).padStart(w, '0');
    fc.assert(
      fc.property(
        fc.integer({ min: Date.UTC(1, 0, 3), max: Date.UTC(9999, 11, 30) }), fc.integer({ min: 0, max: 999_999 }),
        fc.integer({ min: -(15 * 60 + 59), max: 15 * 60 + 59 }), fc.constantFrom('colon', 'compact', 'hours'), fc.constantFrom(' ', 'T'),
        (ms, micros, offsetMin, style, sep) => {
          const whole = Math.floor(ms / 1000) * 1000;
          const offset = style === 'hours' ? Math.trunc(offsetMin / 60) * 60 : offsetMin;
          const local = new Date(whole + offset * 60_000);
          const oh = Math.floor(Math.abs(offset) / 60);
          const om = Math.abs(offset) % 60;
          const zone = `${offset < 0 ? '-' : '+'}${pad(oh)}${style === 'hours' ? '' : style === 'colon' ? `:${pad(om)}` : pad(om)}`;
          const fraction = pad(micros, 6).replace(/0+$/, '');
          const text = `${pad(local.getUTCFullYear(), 4)}-${pad(local.getUTCMonth() + 1)}-${pad(local.getUTCDate())}${sep}` +
            `${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}:${pad(local.getUTCSeconds())}${fraction ? `.${fraction}` : ''}${zone}`;
          const utc = new Date(whole).toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ
          expect(canonicalValue('timestamptz', text)).toBe(`${utc.slice(0, 19)}.${pad(micros, 6)}Z`);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('date accepts exactly the calendar days (Date-based reference)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 9999 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 31 }), (y, m, d) => {
        const text = `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
        const probe = new Date(0);
        probe.setUTCFullYear(y, m - 1, d);
        const valid = probe.getUTCDate() === d;
        if (valid) expect(canonicalValue('date', text)).toBe(text);
        else expect(() => canonicalValue('date', text)).toThrow(/day/);
      }),
      { numRuns: 3000 },
    );
    // Leap years of the Julian-to-Gregorian-free proleptic calendar, and BC's astronomical years (1 BC is a leap year).
    expect(canonicalValue('date', '2000-02-29')).toBe('2000-02-29');
    expect(() => canonicalValue('date', '1900-02-29')).toThrow(/day 29/);
    expect(canonicalValue('date', '0001-02-29 BC')).toBe('0001-02-29 BC');
    expect(() => canonicalValue('date', '0002-02-29 BC')).toThrow(/day 29/);
  });

  it('canonical texts are fixed points of every kind (random inputs)', () => {
    const inputs: [ColumnKind, fc.Arbitrary<string>][] = [
      ['integer', fc.bigInt().map((b) => b.toString())],
      ['decimal', fc.double({ noNaN: true }).map(String)],
      ['float', fc.double().map(String)],
      ['time', fc.tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 }), fc.integer({ min: 0, max: 999999 })).map(([h, m, u]) => `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:07.${u}`)],
      ['uuid', fc.uuid()],
      ['bytes', fc.uint8Array().map((b) => Buffer.from(b).toString('hex').toUpperCase())],
      ['json', fc.jsonValue().map((v) => JSON.stringify(v))],
    ];
    for (const [kind, arb] of inputs) {
      fc.assert(fc.property(arb, (text) => {
        let once: string;
        try {
          once = canonicalValue(kind, text);
        } catch {
          return; // e.g. a decimal text of a double beyond the exponent limit
        }
        expect(canonicalValue(kind, once)).toBe(once);
      }), { numRuns: 500 });
    }
  });
});

describe('the row object', () => {
  it('RFC 8785 member order (UTF-16 code units), names as they are, NULL distinct from ""', () => {
    const row: RowValues = { b: 'x', a: null, B: '', 'é': 'y', '\u{1F600}': 'u', '\uFFFF': 'v', '10': '1', '9': '2' };
    expect(canonicalRowJson(row)).toBe('{"10":"1","9":"2","B":"","a":null,"b":"x","é":"y","\u{1F600}":"u","\uFFFF":"v"}');
    expect(canonicalRowJson({ note: null })).not.toBe(canonicalRowJson({ note: '' }));
    expect(canonicalRowJson({})).toBe('{}');
    expect(canonicalRowJson({ t: 'a\tb"c\\\u0000\u007f\u2028' })).toBe('{"t":"a\\tb\\"c\\\\\\u0000\u007f\u2028"}');
  });

  it('refuses non-string values and lone surrogates', () => {
    expectSdkError(() => canonicalRowJson({ n: 1 as unknown as string }), 'INVALID_ARGUMENT', 'row value of column "n" must be a string or null, got number');
    expectSdkError(() => canonicalRowJson({ n: undefined as unknown as string }), 'INVALID_ARGUMENT', /got undefined/);
    expectSdkError(() => canonicalRowJson([] as unknown as RowValues), 'INVALID_ARGUMENT', /must be an object/);
    expectSdkError(() => canonicalRowJson({ s: '\uD800' }), 'NOT_CANONICALIZABLE');
    const enc = rowEncoder(['s']);
    expectSdkError(() => enc(['\uD800']), 'NOT_CANONICALIZABLE', /lone surrogate/);
    expectSdkError(() => enc([1 as unknown as string]), 'INVALID_ARGUMENT', /must be a string or null/);
    expectSdkError(() => enc(['a', 'b']), 'INVALID_ARGUMENT', 'row has 2 values for 1 columns');
    expectSdkError(() => rowEncoder(['a', 'a']), 'INVALID_ARGUMENT', 'duplicate column name "a"');
    expectSdkError(() => rowEncoder(['\uDC00']), 'NOT_CANONICALIZABLE');
    expect(rowEncoder([])([])).toBe('{}');
  });

  it('rowEncoder gives exactly canonicalRowJson on random rows (and fails exactly when it fails)', () => {
    const name = fc.string({ unit: fc.constantFrom('a', 'B', 'é', '\u{1F600}', '"', '\\', '\n', '\uFFFF', '1', ' ', '\uD800'), maxLength: 4 });
    const value = fc.option(fc.string({ unit: 'binary', maxLength: 12 }), { nil: null });
    fc.assert(
      fc.property(fc.uniqueArray(name, { maxLength: 8 }).chain((cols) => fc.tuple(fc.constant(cols), fc.array(value, { minLength: cols.length, maxLength: cols.length }))), ([cols, values]) => {
        const obj: RowValues = {};
        cols.forEach((c, i) => Object.defineProperty(obj, c, { value: values[i], enumerable: true, writable: true, configurable: true }));
        let expected: string | Error;
        try {
          expected = canonicalRowJson(obj);
        } catch (e) {
          expected = e as Error;
        }
        if (expected instanceof Error) {
          expect(() => rowEncoder(cols)(values)).toThrow();
        } else {
          expect(rowEncoder(cols)(values)).toBe(expected);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('rowDigest is SHA-256 of the UTF-8 of the canonical text', () => {
    const row = { name: 'J\u00f5geva 😀', n: null, e: '' };
    expect(bytesToHex(rowDigest(row))).toBe(sha(canonicalRowJson(row)));
  });
});

describe('rowRecordKey', () => {
  it('is the RFC 8785 array [dataset, ...key]', () => {
    expect(rowRecordKey('land-registry/parcels', ['4711'])).toBe('["land-registry/parcels","4711"]');
    expect(rowRecordKey('t', ['a', 'b/c', ''])).toBe('["t","a","b/c",""]');
    expect(rowRecordKey('a/b', ['c'])).not.toBe(rowRecordKey('a', ['b/c']));
  });

  it('writes U+0000 as \\u0000, so the mask accepts every key', () => {
    const key = rowRecordKey('t', ['a\u0000b']);
    expect(key).toBe('["t","a\\u0000b"]');
    expect(key.includes('\u0000')).toBe(false);
    expect(blindingMask(new Uint8Array(32), key, 1)).toHaveLength(32);
  });

  it('refuses what is not a key', () => {
    expectSdkError(() => rowRecordKey('', ['1']), 'INVALID_ARGUMENT', /dataset/);
    expectSdkError(() => rowRecordKey('t', []), 'INVALID_ARGUMENT', /non-empty array/);
    expectSdkError(() => rowRecordKey('t', [null as unknown as string]), 'INVALID_ARGUMENT', /key\[0\] must be a string \(a key column cannot be NULL\)/);
    expectSdkError(() => rowRecordKey('t', ['\uD800']), 'NOT_CANONICALIZABLE');
  });
});

describe('worked example (docs/rows.md section 8)', () => {
  const KEY = Uint8Array.from({ length: 32 }, (_, i) => i);
  const row: RowValues = {
    parcel_id: canonicalValue('integer', '4711'),
    owner: canonicalValue('text', 'Maria Tamm'),
    area_m2: canonicalValue('decimal', '1250.50'),
    registered: canonicalValue('date', '2019-03-01'),
    updated: canonicalValue('timestamptz', '2026-11-22 08:15:00.25+00'),
    active: canonicalValue('boolean', 't'),
    deed: canonicalValue('bytes', '\\x0a0b'),
    note: null,
  };
  const canonical = '{"active":"true","area_m2":"1250.5","deed":"0a0b","note":null,"owner":"Maria Tamm","parcel_id":"4711","registered":"2019-03-01","updated":"2026-11-22T08:15:00.250000Z"}';

  it('canonical text, digest, recordKey, mask and anchor', () => {
    expect(canonicalRowJson(row)).toBe(canonical);
    const digest = rowDigest(row);
    expect(bytesToHex(digest)).toBe('faba25508503cafe5a41a0f2b4c8282f6a3c29043fa52aa10c8950204840192a');
    expect(bytesToHex(digest)).toBe(sha(canonical));
    const recordKey = rowRecordKey('land-registry/parcels', [row.parcel_id!]);
    expect(recordKey).toBe('["land-registry/parcels","4711"]');
    const mask = blindingMask(KEY, recordKey, 3);
    const hmac = createHmac('sha256', KEY).update(Buffer.concat([Buffer.from(recordKey), Buffer.from([0]), Buffer.from('3')])).digest('hex');
    expect(bytesToHex(mask)).toBe(hmac);
    expect(bytesToHex(mask)).toBe('0f59380bca46a7890f83fe012e7ae6e5e10841101845ec120e971bd759cd6533');
    expect(bytesToHex(anchorOf(digest, mask))).toBe('abce86c29c0ba88481cd540f9be358851167ef11c2a3596df891e564f7c70822');
    expect(canonicalValue('timestamptz', '2026-11-22 10:15:00.25+02')).toBe(row.updated);
  });

  it('the document shows these values', () => {
    for (const v of [canonical, 'faba25508503cafe5a41a0f2b4c8282f6a3c29043fa52aa10c8950204840192a', '0f59380bca46a7890f83fe012e7ae6e5e10841101845ec120e971bd759cd6533', 'abce86c29c0ba88481cd540f9be358851167ef11c2a3596df891e564f7c70822']) {
      expect(DOC).toContain(v);
    }
  });
});

describe('package surface', () => {
  it('the sdk entry exports the row functions and the format name', () => {
    expect(sdk.ROW_FORMAT).toBe('ledgerseal-row/v1');
    expect(ROW_FORMAT).toBe('ledgerseal-row/v1');
    for (const f of ['canonicalValue', 'canonicalRowJson', 'rowEncoder', 'rowDigest', 'rowRecordKey'] as const) expect(typeof sdk[f]).toBe('function');
  });
});
