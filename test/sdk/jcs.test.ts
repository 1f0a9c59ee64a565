/**
 * RFC 8785 JSON Canonicalization Scheme: the RFC's own examples (sections 3.2.2 -
 * 3.2.4, Appendix B) and the cyberphone/json-canonicalization testdata, stored in
 * test/vectors/rfc8785.json, then the refusals and properties.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bytesToHex, utf8 } from '../../sdk/src/encoding.ts';
import { canonicalJson, parseJsonStrict } from '../../sdk/src/jcs.ts';
import { expectSdkError as expectCode } from '../helpers/sdk-errors.ts';

interface Rfc8785Vectors {
  source: string;
  canonicalization: { name: string; source: string; input: string; expected: string; expectedUtf8Hex?: string }[];
  sorting: { source: string; input: string; expectedValueOrder: string[] };
  numbers: { source: string; valid: { ieee754: string; expected: string }[]; invalid: { ieee754: string; name: string }[] };
}

const vectors = JSON.parse(
  readFileSync(new URL('../vectors/rfc8785.json', import.meta.url), 'utf8'),
) as Rfc8785Vectors;


function doubleFromHex(hex: string): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setBigUint64(0, BigInt(`0x${hex}`));
  return view.getFloat64(0);
}

/** Whether a string is well-formed UTF-16 (encodeURIComponent throws on lone surrogates). */
function wellFormed(s: string): boolean {
  try {
    encodeURIComponent(s);
    return true;
  } catch {
    return false;
  }
}

describe('RFC 8785 and cyberphone vectors', () => {
  it('the vector file names its sources', () => {
    expect(vectors.source).toMatch(/RFC 8785/);
    expect(vectors.canonicalization.length).toBeGreaterThanOrEqual(8);
  });

  for (const v of vectors.canonicalization) {
    it(`canonicalizes ${v.name}`, () => {
      const out = canonicalJson(JSON.parse(v.input));
      expect(out).toBe(v.expected);
      if (v.expectedUtf8Hex) expect(bytesToHex(utf8(out))).toBe(v.expectedUtf8Hex);
      // The canonical form is a fixed point.
      expect(canonicalJson(JSON.parse(out))).toBe(out);
    });
  }

  it('sorts properties by UTF-16 code units (section 3.2.3)', () => {
    const out = canonicalJson(JSON.parse(vectors.sorting.input));
    const values = [...out.matchAll(/:"([^"]*)"/g)].map((m) => m[1]);
    expect(values).toEqual(vectors.sorting.expectedValueOrder);
    expect(out).toBe(
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis",' +
        '"\u20ac":"Euro Sign","\u{1F600}":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    );
  });

  for (const { ieee754, expected } of vectors.numbers.valid) {
    it(`serializes the double ${ieee754} as ${expected} (Appendix B)`, () => {
      const n = doubleFromHex(ieee754);
      expect(canonicalJson(n)).toBe(expected);
      expect(canonicalJson([n])).toBe(`[${expected}]`);
      expect(canonicalJson({ n })).toBe(`{"n":${expected}}`);
    });
  }

  for (const { ieee754, name } of vectors.numbers.invalid) {
    it(`refuses ${name} (${ieee754})`, () => {
      const n = doubleFromHex(ieee754);
      expectCode(() => canonicalJson(n), 'NOT_CANONICALIZABLE');
      expectCode(() => canonicalJson({ a: [1, n] }), 'NOT_CANONICALIZABLE', /\$\.a\[1\]/);
    });
  }
});

describe('choices and edge cases', () => {
  it('-0 is written 0', () => {
    expect(canonicalJson(-0)).toBe('0');
    expect(canonicalJson({ a: [-0, 0] })).toBe('{"a":[0,0]}');
  });

  it('orders keys by UTF-16 code units, not code points or UTF-8 bytes', () => {
    // U+1F600 is the surrogate pair D83D DE00, below U+FFFF in UTF-16 but above it
    // as a code point and in UTF-8 (F0 9F 98 80 vs EF BF BF).
    expect(canonicalJson({ '\uFFFF': 1, '\u{1F600}': 2 })).toBe('{"\u{1F600}":2,"\uFFFF":1}');
    expect(canonicalJson({ '\uFB33': 1, '\u{1F600}': 2, '\u20AC': 3 })).toBe('{"\u20AC":3,"\u{1F600}":2,"\uFB33":1}');
    // Integer-like keys sort as strings: "10" < "9", "" first.
    expect(canonicalJson({ 9: 'a', 10: 'b', '': 'c', A: 'd', a: 'e' })).toBe('{"":"c","10":"b","9":"a","A":"d","a":"e"}');
  });

  it('escapes only what RFC 8785 escapes', () => {
    expect(canonicalJson('\u0000\u0008\t\n\u000b\f\r\u001f"\\/\u007f\u0080\u2028\u2029')).toBe(
      '"\\u0000\\b\\t\\n\\u000b\\f\\r\\u001f\\"\\\\/\u007f\u0080\u2028\u2029"',
    );
  });

  it('keeps "__proto__" as an ordinary member', () => {
    expect(canonicalJson(JSON.parse('{"__proto__":{"x":1},"a":2}'))).toBe('{"__proto__":{"x":1},"a":2}');
  });

  it('accepts null-prototype objects', () => {
    const o = Object.create(null) as Record<string, unknown>;
    o.b = 1;
    o.a = null;
    expect(canonicalJson(o)).toBe('{"a":null,"b":1}');
  });
});

describe('refusals (NOT_CANONICALIZABLE)', () => {
  const refuse = (v: unknown, message?: RegExp): void => expectCode(() => canonicalJson(v), 'NOT_CANONICALIZABLE', message);

  it('lone surrogates, high and low, in values and keys', () => {
    refuse('\uD800', /lone surrogate/);
    refuse('a\uDBFFb', /lone surrogate/);
    refuse('\uDC00', /lone surrogate/);
    refuse('x\uDFFF', /lone surrogate/);
    refuse('\uDE00\uD83D', /lone surrogate/); // reversed pair
    refuse(['ok', '\uD83D'], /\$\[1\]/);
    refuse({ '\uD800': 1 }, /lone surrogate/);
    refuse({ a: { 'k\uDC00': 1 } }, /lone surrogate/);
    expect(canonicalJson('\uD83D\uDE00')).toBe('"\u{1F600}"');
  });

  it('NaN and infinities', () => {
    refuse(Number.NaN);
    refuse(Infinity);
    refuse(-Infinity);
    refuse({ a: Infinity }, /\$\.a/);
  });

  it('values JSON has no word for', () => {
    refuse(undefined);
    refuse([undefined]);
    refuse({ a: undefined });
    refuse(() => 1);
    refuse({ f() {} });
    refuse(1n);
    refuse({ n: 10n });
    refuse(Symbol('s'));
  });

  it('class instances, dates, boxed primitives, maps, typed arrays', () => {
    class Point {
      x = 1;
    }
    refuse(new Date(0), /Date/);
    refuse(new Point(), /Point/);
    refuse(new Map());
    refuse(new Set());
    refuse(Object(1));
    refuse(Object('s'));
    refuse(new Uint8Array(2));
    refuse(/re/);
    refuse({ nested: [new Date(0)] }, /\$\.nested\[0\]/);
  });

  it('sparse arrays', () => {
    // eslint-disable-next-line no-sparse-arrays
    refuse([1, , 3], /sparse/);
    refuse(new Array(2), /sparse/);
    const a: number[] = [];
    a[2] = 1;
    refuse(a, /sparse/);
    expect(canonicalJson([undefined].map(() => null))).toBe('[null]');
  });

  it('absurd nesting', () => {
    let deep: unknown = 0;
    for (let i = 0; i < 2000; i++) deep = [deep];
    refuse(deep, /nesting/);
    let ok: unknown = 0;
    for (let i = 0; i < 500; i++) ok = { a: ok };
    expect(canonicalJson(ok)).toBe(`${'{"a":'.repeat(500)}0${'}'.repeat(500)}`);
  });
});

describe('properties', () => {
  it('is idempotent through JSON.parse', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (x) => {
        const c = canonicalJson(x);
        expect(canonicalJson(JSON.parse(c))).toBe(c);
      }),
      { numRuns: 500 },
    );
  });

  it('parses back to the same value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (x) => {
        expect(JSON.parse(canonicalJson(x))).toEqual(JSON.parse(JSON.stringify(x)));
      }),
    );
  });

  it('does not depend on member insertion order', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 2 })), (obj) => {
        const reversed = Object.fromEntries(Object.entries(obj).reverse());
        expect(canonicalJson(reversed)).toBe(canonicalJson(obj));
      }),
    );
  });

  it('writes every finite double so that it parses back to itself', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (n) => {
        const s = canonicalJson(n);
        expect(s).toMatch(/^-?(0|[1-9][0-9]*)(\.[0-9]+)?(e[+-][1-9][0-9]*)?$/);
        expect(Number(s)).toBe(n === 0 ? 0 : n);
      }),
    );
  });

  it('strings: JSON.stringify when well-formed, refused otherwise', () => {
    const loneOrNot = fc.oneof(
      fc.string({ unit: 'binary' }),
      fc.tuple(fc.string(), fc.integer({ min: 0xd800, max: 0xdfff }), fc.string()).map(
        ([a, s, b]) => a + String.fromCharCode(s) + b,
      ),
    );
    fc.assert(
      fc.property(loneOrNot, (s) => {
        if (wellFormed(s)) expect(canonicalJson(s)).toBe(JSON.stringify(s));
        else expectCode(() => canonicalJson(s), 'NOT_CANONICALIZABLE');
      }),
    );
  });
});

describe('parseJsonStrict (I-JSON, RFC 7493: no member name twice)', () => {
  it('parses what JSON.parse parses, the same', () => {
    for (const t of ['1', '"a"', 'null', '[]', '{}', ' { "a" : [ {"a":1}, {"a":2} ], "b" : {"a": "a:"} } ', '{"k\\"":1,"k":2}', '{"a":"{\\"a\\":1,\\"a\\":2}"}']) {
      expect(parseJsonStrict(t)).toEqual(JSON.parse(t));
    }
  });

  it('refuses a member name twice in one object, wherever it is, however it is escaped', () => {
    expectCode(() => parseJsonStrict('{"a":1,"a":1}'), 'INVALID_JSON', 'duplicate member name "a" in the object at $ (I-JSON, RFC 7493 2.3)');
    expectCode(() => parseJsonStrict('{"x":[{"b":1},{"c":{"d":1,"d":2}}]}'), 'INVALID_JSON', /"d" in the object at \$\.x\[\]\.c /);
    expectCode(() => parseJsonStrict('{"\\u00e9":1,"\u00e9":2}'), 'INVALID_JSON', /duplicate member name "\u00e9"/);
    expectCode(() => parseJsonStrict('{"a":1,'), 'INVALID_JSON', /^not JSON: /);
  });

  it('agrees with a reference on random JSON: a text is refused exactly when one of its objects repeats a name', () => {
    // Objects written by hand from entries, so that names may repeat; the reference counts names per object.
    // Names and values with colons and escapes, so both the colon count and the exact scan are exercised.
    const value = fc.oneof(fc.integer().map(String), fc.constantFrom('"p:q"', '":"', '"\\u003a"', '[{"k:":1}]', '{}'));
    const entries = fc.array(fc.tuple(fc.constantFrom('a', 'b', 'é', 'a\\"', 'x:y', ':'), value), { maxLength: 4 });
    const obj = fc.array(entries, { minLength: 1, maxLength: 3 });
    fc.assert(
      fc.property(obj, (objs) => {
        const text = `[${objs.map((es) => `{${es.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`).join(',')}]`;
        const repeats = objs.some((es) => new Set(es.map(([k]) => k)).size !== es.length);
        if (repeats) expect(() => parseJsonStrict(text)).toThrow(/duplicate member name/);
        else expect(parseJsonStrict(text)).toEqual(JSON.parse(text));
      }),
    );
  });
});

