/**
 * Records, blinding masks and anchors (docs/protocol.md 2). Expected values are
 * computed here with node:crypto, never with the sdk, and the worked example of
 * docs/protocol.md is pinned as hex (cross-checked with `openssl dgst`).
 */
import { createHash, createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bytesToHex, utf8 } from '../../sdk/src/encoding.ts';
import { canonicalJson } from '../../sdk/src/jcs.ts';
import {
  anchorOf,
  anchorRecord,
  BLINDING_KEY_MIN_LENGTH,
  blindingMask,
  hashRecord,
  randomMask,
} from '../../sdk/src/record.ts';
import { expectSdkError as expectCode } from '../helpers/sdk-errors.ts';

const sha = (b: Uint8Array | string): Uint8Array => new Uint8Array(createHash('sha256').update(b).digest());
const hmac = (k: Uint8Array, b: Uint8Array): Uint8Array => new Uint8Array(createHmac('sha256', k).update(b).digest());

/** The mask message built independently of the sdk: key bytes, one zero byte, decimal digits. */
function refMask(key: Uint8Array, recordKey: string, version: number | bigint): Uint8Array {
  const msg = Buffer.concat([Buffer.from(recordKey, 'utf8'), Buffer.from([0]), Buffer.from(version.toString(), 'ascii')]);
  return hmac(key, msg);
}


const KEY = Uint8Array.from({ length: 32 }, (_, i) => i);
const RECORD = { parcel: '4711', owner: 'Maria Tamm', area_m2: 1250.5, updated: '2026-11-22' };

describe('worked example (docs/protocol.md, Records)', () => {
  it('canonical form, digest, mask, anchor', () => {
    expect(canonicalJson(RECORD)).toBe('{"area_m2":1250.5,"owner":"Maria Tamm","parcel":"4711","updated":"2026-11-22"}');
    const digest = hashRecord(RECORD);
    expect(bytesToHex(digest)).toBe('794f12e3ab47f710ebc7bfc725278385782f20c9152ef2a37d0edd352200b3f7');
    const mask = blindingMask(KEY, 'land-registry/parcel/4711', 3);
    expect(bytesToHex(mask)).toBe('792da183beeb5a5c0e145a77dc1fabc47963b15e97dd4f381ca58482e40378b8');
    const anchor = anchorOf(digest, mask);
    expect(bytesToHex(anchor)).toBe('191b1083aff6fea46203dbc6fa5a302a356e44dc66c7ff60863142ae09b7d62f');
    const both = anchorRecord(RECORD, mask);
    expect(bytesToHex(both.digest)).toBe(bytesToHex(digest));
    expect(bytesToHex(both.anchor)).toBe(bytesToHex(anchor));
  });

  it('non-ASCII key, largest bigint version, smallest version', () => {
    expect(bytesToHex(blindingMask(KEY, 'J\u00f5geva/\u{1F600}', 2n ** 64n - 1n))).toBe(
      '527402cb44f55c7a7e4bd13bf9f8fd9e8917aeaa869c73ac70d22a185010d194',
    );
    expect(bytesToHex(blindingMask(KEY, 'r', 0))).toBe('04c119a25fb5c7bc02a5d98be81c2193e233ec37fd88885c0c9a636a8b14f555');
  });

  it('a file is hashed as its raw bytes', () => {
    expect(bytesToHex(hashRecord(utf8('hello\n')))).toBe('5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03');
    expect(bytesToHex(hashRecord(Buffer.from('hello\n')))).toBe('5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03');
  });
});

describe('hashRecord', () => {
  it('JSON values: SHA-256 of the UTF-8 canonical form, whatever the key order', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        expect(bytesToHex(hashRecord(v))).toBe(bytesToHex(sha(Buffer.from(canonicalJson(v), 'utf8'))));
      }),
    );
    expect(hashRecord({ b: 1, a: [1, 2] })).toEqual(hashRecord({ a: [1, 2], b: 1 }));
  });

  it('bytes: SHA-256 of exactly those bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (b) => {
        expect(hashRecord(b)).toEqual(sha(b));
      }),
    );
    expect(bytesToHex(hashRecord(new Uint8Array(0)))).toBe(
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
  });

  it('a string is a JSON string, not raw text', () => {
    expect(hashRecord('abc')).toEqual(sha('"abc"'));
  });

  it('refuses what is not JSON', () => {
    expectCode(() => hashRecord(new Date(0)), 'NOT_CANONICALIZABLE');
    expectCode(() => hashRecord({ x: Number.NaN }), 'NOT_CANONICALIZABLE');
    expectCode(() => hashRecord(new Uint16Array(2)), 'NOT_CANONICALIZABLE');
    expectCode(() => hashRecord(undefined), 'NOT_CANONICALIZABLE');
  });
});

describe('blindingMask', () => {
  it('matches HMAC-SHA-256(key, utf8(recordKey) || 0x00 || decimal version)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 100 }),
        fc.string({ minLength: 1, unit: 'grapheme' }).filter((s) => !s.includes('\u0000')),
        fc.oneof(fc.nat(), fc.maxSafeNat(), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n })),
        (key, recordKey, version) => {
          expect(bytesToHex(blindingMask(key, recordKey, version))).toBe(bytesToHex(refMask(key, recordKey, version)));
        },
      ),
    );
  });

  it('number and bigint versions give the same mask', () => {
    fc.assert(
      fc.property(fc.maxSafeNat(), (v) => {
        expect(blindingMask(KEY, 'k', v)).toEqual(blindingMask(KEY, 'k', BigInt(v)));
      }),
    );
    expect(blindingMask(KEY, 'k', -0)).toEqual(blindingMask(KEY, 'k', 0));
  });

  it('different (recordKey, version) pairs give different messages, hence masks', () => {
    // "a1" version 2 vs "a" version 12: the separator keeps them apart.
    expect(blindingMask(KEY, 'a1', 2)).not.toEqual(blindingMask(KEY, 'a', 12));
    fc.assert(
      fc.property(
        fc.string({ minLength: 1 }).filter((s) => !s.includes('\u0000')),
        fc.nat(),
        fc.string({ minLength: 1 }).filter((s) => !s.includes('\u0000')),
        fc.nat(),
        (k1, v1, k2, v2) => {
          fc.pre(k1 !== k2 || v1 !== v2);
          expect(bytesToHex(blindingMask(KEY, k1, v1))).not.toBe(bytesToHex(blindingMask(KEY, k2, v2)));
        },
      ),
    );
  });

  it('checks its key', () => {
    expectCode(() => blindingMask(new Uint8Array(BLINDING_KEY_MIN_LENGTH - 1), 'k', 1), 'INVALID_ARGUMENT', /at least 32/);
    expectCode(() => blindingMask('secret' as unknown as Uint8Array, 'k', 1), 'INVALID_ARGUMENT');
    expect(blindingMask(new Uint8Array(200), 'k', 1)).toHaveLength(32);
  });

  it('checks the record key', () => {
    expectCode(() => blindingMask(KEY, '', 1), 'INVALID_ARGUMENT', /empty/);
    expectCode(() => blindingMask(KEY, 'a\u0000b', 1), 'INVALID_ARGUMENT', /U\+0000/);
    expectCode(() => blindingMask(KEY, 'a\uD800', 1), 'INVALID_ARGUMENT', /surrogate/);
    expectCode(() => blindingMask(KEY, '\uDC00a', 1), 'INVALID_ARGUMENT', /surrogate/);
    expectCode(() => blindingMask(KEY, 42 as unknown as string, 1), 'INVALID_ARGUMENT');
  });

  it('checks the version', () => {
    for (const v of [-1, 1.5, Number.NaN, Infinity, 2 ** 53, -1n, 2n ** 64n]) {
      expectCode(() => blindingMask(KEY, 'k', v), 'INVALID_ARGUMENT', /version/);
    }
    expectCode(() => blindingMask(KEY, 'k', '1' as unknown as number), 'INVALID_ARGUMENT', /version/);
  });
});

describe('anchors', () => {
  it('anchorOf = SHA-256(mask || digest)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ minLength: 32, maxLength: 32 }), (d, m) => {
        expect(anchorOf(d, m)).toEqual(sha(Buffer.concat([m, d])));
      }),
    );
  });

  it('mask and digest are not interchangeable', () => {
    const d = sha('d');
    const m = sha('m');
    expect(anchorOf(d, m)).not.toEqual(anchorOf(m, d));
  });

  it('anchorRecord agrees with hashRecord + anchorOf', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.uint8Array({ minLength: 32, maxLength: 32 }), (v, m) => {
        const { digest, anchor } = anchorRecord(v, m);
        expect(digest).toEqual(hashRecord(v));
        expect(anchor).toEqual(anchorOf(digest, m));
      }),
    );
  });

  it('changing the record or the mask changes the anchor', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), (a, b) => {
        fc.pre(canonicalJson(a) !== canonicalJson(b));
        const m = randomMask();
        expect(anchorRecord(a, m).anchor).not.toEqual(anchorRecord(b, m).anchor);
      }),
    );
    expect(anchorRecord(RECORD, randomMask()).anchor).not.toEqual(anchorRecord(RECORD, randomMask()).anchor);
  });

  it('checks lengths', () => {
    const h = new Uint8Array(32);
    expectCode(() => anchorOf(new Uint8Array(31), h), 'INVALID_ARGUMENT', /digest must be 32 bytes, got 31/);
    expectCode(() => anchorOf(h, new Uint8Array(33)), 'INVALID_ARGUMENT', /mask must be 32 bytes, got 33/);
    expectCode(() => anchorOf(h, new Uint8Array(0)), 'INVALID_ARGUMENT', /got 0/);
    expectCode(() => anchorRecord(RECORD, new Uint8Array(16)), 'INVALID_ARGUMENT', /mask/);
    expectCode(() => anchorOf('00'.repeat(32) as unknown as Uint8Array, h), 'INVALID_ARGUMENT', /Uint8Array/);
  });
});

describe('randomMask', () => {
  it('returns 32 fresh bytes', () => {
    const a = randomMask();
    const b = randomMask();
    expect(a).toBeInstanceOf(Uint8Array);
    expect(a).toHaveLength(32);
    expect(a).not.toEqual(b);
  });
});
