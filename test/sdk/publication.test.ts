/**
 * Publication codes (docs/protocol.md 8) and
 * the CRC-32 behind them. Reference values are built here with node:zlib and a
 * BigInt base32, independently of the sdk.
 */
import * as zlib from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc32 } from '../../sdk/src/_crc32.ts';
import {
  decodePublicationCode,
  encodePublicationCode,
  PUBLICATION_CODE_LENGTH,
  PUBLICATION_CODE_VERSION,
} from '../../sdk/src/publication.ts';
import { expectSdkError as expectCode } from '../helpers/sdk-errors.ts';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const zlibCrc32 = (zlib as unknown as { crc32?: (d: Uint8Array, v?: number) => number }).crc32;


/** Reference encoder: the 45 bytes as one big number, 5 bits at a time. */
function refCode(version: number, size: bigint, root: Uint8Array, crcOverride?: number): string {
  const body = Buffer.alloc(41);
  body[0] = version;
  body.writeBigUInt64BE(size, 1);
  Buffer.from(root).copy(body, 9);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crcOverride ?? zlib.crc32(body));
  let n = BigInt(`0x${Buffer.concat([body, crc]).toString('hex')}`);
  let s = '';
  for (let i = 0; i < 72; i++) {
    s = ALPHABET[Number(n & 31n)] + s;
    n >>= 5n;
  }
  return s;
}

const strip = (code: string): string => code.replace(/-/g, '');
const ROOT = Uint8Array.from({ length: 32 }, (_, i) => i);
const root32 = fc.uint8Array({ minLength: 32, maxLength: 32 });

describe('crc32 (IEEE 802.3 / zlib)', () => {
  it('check value: "123456789" -> 0xCBF43926', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
    expect(crc32(new TextEncoder().encode('The quick brown fox jumps over the lazy dog'))).toBe(0x414fa339);
  });

  it.runIf(typeof zlibCrc32 === 'function')('agrees with node:zlib.crc32, including continuation', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.uint8Array({ maxLength: 100 }), (a, b) => {
        expect(crc32(a)).toBe(zlibCrc32!(a));
        expect(crc32(b, crc32(a))).toBe(zlibCrc32!(Buffer.concat([a, b])));
      }),
    );
  });
});

describe('encodePublicationCode', () => {
  it('fixed vectors (reference encoder built on node:zlib and BigInt)', () => {
    const code = encodePublicationCode({ size: 9213, root: ROOT });
    expect(code).toBe('AEAAAA-AAAAAC-H7IAAE-BAGBAF-AYDQQC-IKBMGA-2DQPCA-IREEYU-CULBOG-AZDINR-YHI6D6-YY5K66');
    expect(strip(code)).toBe(refCode(1, 9213n, ROOT));
    expect(encodePublicationCode({ size: 2 ** 53 - 1, root: new Uint8Array(32).fill(255) })).toBe(
      'AEAB77-777777-777777-777777-777777-777777-777777-777777-777777-777777-777777-SUDCBJ',
    );
    expect(encodePublicationCode({ size: 0, root: new Uint8Array(32) })).toBe(
      'AEAAAA-AAAAAA-AAAAAA-AAAAAA-AAAAAA-AAAAAA-AAAAAA-AAAAAA-AAAAAA-AAAAAA-AAAAAC-DJUEAL',
    );
  });

  it('always 12 groups of 6 from the alphabet, and matches the reference encoder', () => {
    fc.assert(
      fc.property(fc.maxSafeNat(), root32, (size, root) => {
        const code = encodePublicationCode({ size, root });
        expect(code).toMatch(/^[A-Z2-7]{6}(-[A-Z2-7]{6}){11}$/);
        expect(strip(code)).toBe(refCode(PUBLICATION_CODE_VERSION, BigInt(size), root));
      }),
    );
  });

  it('checks its arguments', () => {
    for (const size of [-1, 1.5, 2 ** 53, Number.NaN, '5' as unknown as number]) {
      expectCode(() => encodePublicationCode({ size, root: ROOT }), 'INVALID_ARGUMENT', /size/);
    }
    expectCode(() => encodePublicationCode({ size: 1, root: new Uint8Array(31) }), 'INVALID_ARGUMENT', /root/);
    expectCode(() => encodePublicationCode({ size: 1, root: 'ab' as unknown as Uint8Array }), 'INVALID_ARGUMENT', /root/);
    expectCode(() => encodePublicationCode(null as never), 'INVALID_ARGUMENT');
  });
});

describe('decodePublicationCode', () => {
  it('round trips', () => {
    fc.assert(
      fc.property(fc.maxSafeNat(), root32, (size, root) => {
        const back = decodePublicationCode(encodePublicationCode({ size, root }));
        expect(back.size).toBe(size);
        expect(back.root).toEqual(root);
      }),
    );
  });

  it('normalizes case, separators and whitespace', () => {
    const code = encodePublicationCode({ size: 9213, root: ROOT });
    const variants = [
      code.toLowerCase(),
      strip(code),
      strip(code).toLowerCase(),
      `  ${code}\n`,
      code.replace(/-/g, ' '),
      code.replace(/-/g, '\u2013'), // en dash, as word processors print
      code.replace(/-/g, '\u00a0'), // no-break space from a web page
      strip(code).replace(/(.{4})/g, '$1--'),
      strip(code).replace(/(.{12})/g, '$1\r\n\t'),
    ];
    for (const v of variants) expect(decodePublicationCode(v)).toEqual({ size: 9213, root: ROOT });
    fc.assert(
      fc.property(
        fc.maxSafeNat(),
        root32,
        fc.array(fc.constantFrom('', '-', ' ', '\t', '\n', '--'), { minLength: 73, maxLength: 73 }),
        fc.array(fc.boolean(), { minLength: 72, maxLength: 72 }),
        (size, root, seps, lower) => {
          const chars = [...strip(encodePublicationCode({ size, root }))];
          const messy = chars.map((c, i) => seps[i] + (lower[i] ? c.toLowerCase() : c)).join('') + seps[72];
          expect(decodePublicationCode(messy)).toEqual({ size, root });
        },
      ),
    );
  });

  it('refuses characters outside the alphabet, with the position', () => {
    const chars = [...strip(encodePublicationCode({ size: 9213, root: ROOT }))];
    const at = (i: number, c: string): string => chars.map((x, j) => (j === i ? c : x)).join('');
    expectCode(() => decodePublicationCode(at(4, '0')), 'INVALID_PUBLICATION_CODE', /"0" at position 5 .*did you mean O/);
    expectCode(() => decodePublicationCode(at(0, '1')), 'INVALID_PUBLICATION_CODE', /"1" at position 1 .*I or L/);
    expectCode(() => decodePublicationCode(at(9, '8')), 'INVALID_PUBLICATION_CODE', /did you mean B/);
    expectCode(() => decodePublicationCode(at(71, '=')), 'INVALID_PUBLICATION_CODE', /"=" at position 72/);
    expectCode(() => decodePublicationCode(at(3, '\u0131')), 'INVALID_PUBLICATION_CODE', /alphabet/); // dotless i
    expectCode(() => decodePublicationCode(at(3, '\uff21')), 'INVALID_PUBLICATION_CODE', /alphabet/); // fullwidth A
    expectCode(() => decodePublicationCode(`\u{1F600}${chars.join('')}`), 'INVALID_PUBLICATION_CODE', /position 1/);
    for (const c of ['_', '+', '/', '.', ',', '9']) {
      expectCode(() => decodePublicationCode(at(10, c)), 'INVALID_PUBLICATION_CODE', /alphabet/);
    }
  });

  it('refuses wrong lengths, bad checksums, unknown versions, oversized trees', () => {
    expectCode(() => decodePublicationCode(''), 'INVALID_PUBLICATION_CODE', /expected 72 .* got 0/);
    expectCode(() => decodePublicationCode(' - '), 'INVALID_PUBLICATION_CODE', /got 0/);
    expectCode(() => decodePublicationCode('A'.repeat(1000)), 'INVALID_PUBLICATION_CODE', /too long/);
    expectCode(() => decodePublicationCode(42 as unknown as string), 'INVALID_PUBLICATION_CODE', /string/);
    expectCode(() => decodePublicationCode(refCode(1, 5n, ROOT, 0)), 'INVALID_PUBLICATION_CODE', /checksum mismatch/);
    expectCode(() => decodePublicationCode(refCode(2, 5n, ROOT)), 'INVALID_PUBLICATION_CODE', /unsupported .* version 2$/);
    expectCode(() => decodePublicationCode(refCode(0, 5n, ROOT)), 'INVALID_PUBLICATION_CODE', /version 0$/);
    expectCode(() => decodePublicationCode(refCode(1, 2n ** 53n, ROOT)), 'INVALID_PUBLICATION_CODE', /2\^53-1/);
    expectCode(() => decodePublicationCode(refCode(1, 2n ** 64n - 1n, ROOT)), 'INVALID_PUBLICATION_CODE', /2\^53-1/);
    expect(decodePublicationCode(refCode(1, 2n ** 53n - 1n, ROOT)).size).toBe(Number.MAX_SAFE_INTEGER);
  });
});

describe('error detection (docs/protocol.md, "Publication codes")', () => {
  // Decoding is affine over GF(2): whether a change to the code goes unnoticed depends
  // only on the change (which bits flip), not on the code it is applied to. So the
  // exhaustive checks below on a few codes hold for every code.
  const codes = [
    strip(encodePublicationCode({ size: 9213, root: ROOT })),
    strip(encodePublicationCode({ size: 0, root: new Uint8Array(32) })),
    strip(encodePublicationCode({ size: 2 ** 53 - 1, root: new Uint8Array(32).fill(255) })),
    strip(encodePublicationCode({ size: 1, root: new Uint8Array(32).fill(0xa5) })),
  ];
  // The CRC is checked before the version and the size, so a change it misses would
  // surface as another reason (or none): insisting on this reason shows the CRC alone
  // catches every change below.
  const reject = (text: string): void =>
    expectCode(() => decodePublicationCode(text), 'INVALID_PUBLICATION_CODE', /^checksum mismatch/);
  const rejectLength = (text: string): void =>
    expectCode(() => decodePublicationCode(text), 'INVALID_PUBLICATION_CODE', /^expected 72 base32 characters/);

  it('every single-character substitution is rejected', () => {
    let n = 0;
    for (const code of codes) {
      for (let i = 0; i < PUBLICATION_CODE_LENGTH; i++) {
        for (const c of ALPHABET) {
          if (c === code[i]) continue;
          reject(code.slice(0, i) + c + code.slice(i + 1));
          n++;
        }
      }
    }
    expect(n).toBe(codes.length * 72 * 31);
  });

  it('every adjacent transposition of distinct characters is rejected', () => {
    for (const code of codes) {
      for (let i = 0; i + 1 < PUBLICATION_CODE_LENGTH; i++) {
        if (code[i] === code[i + 1]) continue;
        reject(code.slice(0, i) + code[i + 1] + code[i] + code.slice(i + 2));
      }
    }
    // Codes full of one letter have few distinct neighbours: also every possible
    // swap pattern, by applying a transposition-shaped change to a single code.
    const code = codes[0]!;
    for (let i = 0; i + 1 < PUBLICATION_CODE_LENGTH; i++) {
      for (let d = 1; d < 32; d++) {
        const a = ALPHABET.indexOf(code[i]!) ^ d;
        const b = ALPHABET.indexOf(code[i + 1]!) ^ d;
        reject(code.slice(0, i) + ALPHABET[a] + ALPHABET[b] + code.slice(i + 2));
      }
    }
  });

  it('every change confined to two adjacent characters is rejected', () => {
    const code = codes[0]!;
    const v = [...code].map((c) => ALPHABET.indexOf(c));
    for (let i = 0; i + 1 < PUBLICATION_CODE_LENGTH; i++) {
      for (let d1 = 0; d1 < 32; d1++) {
        for (let d2 = 0; d2 < 32; d2++) {
          if (d1 === 0 && d2 === 0) continue;
          reject(code.slice(0, i) + ALPHABET[v[i]! ^ d1] + ALPHABET[v[i + 1]! ^ d2] + code.slice(i + 2));
        }
      }
    }
  });

  it('truncation and extension are rejected', () => {
    for (const code of codes) {
      for (let i = 0; i < PUBLICATION_CODE_LENGTH; i++) rejectLength(code.slice(0, i) + code.slice(i + 1));
      for (let i = 0; i <= PUBLICATION_CODE_LENGTH; i++) {
        for (const c of 'A7Q') rejectLength(code.slice(0, i) + c + code.slice(i));
      }
      rejectLength(code.slice(0, 66));
      rejectLength(code + code.slice(0, 6));
    }
  });
});
