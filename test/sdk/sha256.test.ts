/**
 * The two SHA-256 backends behind "#sha256" (node:crypto and @noble/hashes) must be
 * interchangeable: the FIPS 180-2 Appendix B and RFC 4231 section 4 vectors, then
 * random inputs (including views at odd offsets) give identical bytes from both.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as browser from '../../sdk/src/_sha256-browser.ts';
import * as node from '../../sdk/src/_sha256-node.ts';
import { bytesToHex, hexToBytes, utf8 } from '../../sdk/src/encoding.ts';

const backends = [node, browser] as const;
const fill = (byte: number, n: number): Uint8Array => new Uint8Array(n).fill(byte);

// FIPS 180-2 Appendix B (B.1, B.2, B.3), plus the empty string.
const SHA256_VECTORS: [string, Uint8Array, string][] = [
  ['empty string', new Uint8Array(0), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
  ['B.1 "abc"', utf8('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'],
  ['B.2 448-bit message', utf8('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq'), '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1'],
  ['B.3 one million "a"', fill(0x61, 1_000_000), 'cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0'],
];

// RFC 4231 section 4, test cases 1-7 (case 5 is truncated to 128 bits by the RFC).
const long = 'This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.';
const HMAC_VECTORS: [string, Uint8Array, Uint8Array, string][] = [
  ['4.2', fill(0x0b, 20), utf8('Hi There'), 'b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7'],
  ['4.3', utf8('Jefe'), utf8('what do ya want for nothing?'), '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843'],
  ['4.4', fill(0xaa, 20), fill(0xdd, 50), '773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe'],
  ['4.5', hexToBytes('0102030405060708090a0b0c0d0e0f10111213141516171819'), fill(0xcd, 50), '82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b'],
  ['4.6 (truncated)', fill(0x0c, 20), utf8('Test With Truncation'), 'a3b6167473100ee06e0c796c2955552b'],
  ['4.7', fill(0xaa, 131), utf8('Test Using Larger Than Block-Size Key - Hash Key First'), '60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54'],
  ['4.8', fill(0xaa, 131), utf8(long), '9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2'],
];

describe('standard vectors, both backends', () => {
  it('name their backend', () => {
    expect(node.SHA256_BACKEND).toBe('node:crypto');
    expect(browser.SHA256_BACKEND).toBe('@noble/hashes');
  });

  for (const b of backends) {
    for (const [name, msg, want] of SHA256_VECTORS) {
      it(`${b.SHA256_BACKEND} sha256: FIPS 180-2 ${name}`, () => {
        const out = b.sha256(msg);
        expect(out).toBeInstanceOf(Uint8Array);
        expect(out.length).toBe(32);
        expect(bytesToHex(out)).toBe(want);
        const into = new Uint8Array(40).fill(7);
        b.sha256Into(msg, into, 5);
        expect(bytesToHex(into.subarray(5, 37))).toBe(want);
        expect([...into.subarray(0, 5), ...into.subarray(37)]).toEqual([7, 7, 7, 7, 7, 7, 7, 7]);
        const words = new Uint16Array(20).fill(0x0707);
        b.sha256IntoU16(msg, words, 3);
        const bytes = new Uint8Array(words.buffer);
        expect(bytesToHex(bytes.subarray(6, 38))).toBe(want);
        expect([...bytes.subarray(0, 6), ...bytes.subarray(38)]).toEqual([7, 7, 7, 7, 7, 7, 7, 7]);
      });
    }
    for (const [name, key, msg, want] of HMAC_VECTORS) {
      it(`${b.SHA256_BACKEND} hmacSha256: RFC 4231 ${name}`, () => {
        expect(bytesToHex(b.hmacSha256(key, msg)).slice(0, want.length)).toBe(want);
      });
    }
  }
});

describe('node:crypto and @noble/hashes agree', () => {
  it('on random inputs, including views at odd offsets', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.nat(7), fc.uint8Array({ maxLength: 200 }), (bytes, skip, key) => {
        const view = bytes.subarray(Math.min(skip, bytes.length));
        expect(bytesToHex(node.sha256(view))).toBe(bytesToHex(browser.sha256(view)));
        expect(bytesToHex(node.hmacSha256(key, view))).toBe(bytesToHex(browser.hmacSha256(key, view)));
        const a = new Uint8Array(64);
        const b = new Uint8Array(64);
        node.sha256Into(view, a, skip * 4);
        browser.sha256Into(view, b, skip * 4);
        expect(bytesToHex(a)).toBe(bytesToHex(b));
        const a16 = new Uint16Array(a.buffer, 2, 30);
        const b16 = new Uint16Array(b.buffer, 2, 30);
        node.sha256IntoU16(key, a16, skip);
        browser.sha256IntoU16(key, b16, skip);
        expect(bytesToHex(a)).toBe(bytesToHex(b));
      }),
      { numRuns: 500 },
    );
  });

  it('on Merkle-shaped inputs (33 and 65 bytes) and large inputs', () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ minLength: 33, maxLength: 33 }), fc.uint8Array({ minLength: 65, maxLength: 65 }), fc.uint8Array({ minLength: 4000, maxLength: 70_000 })), (bytes) => {
        expect(bytesToHex(node.sha256(bytes))).toBe(bytesToHex(browser.sha256(bytes)));
      }),
      { numRuns: 200 },
    );
  });

  it('every digest byte and every kind of 16-bit unit round-trips (latin1 and utf16le digests)', () => {
    const seen = new Set<number>();
    let surrogates = 0;
    for (let i = 0; i < 4000; i++) {
      const msg = Uint8Array.of(i & 255, i >> 8);
      const want = bytesToHex(browser.sha256(msg));
      const d = node.sha256(msg);
      expect(bytesToHex(d)).toBe(want);
      d.forEach((x) => seen.add(x));
      const w = new Uint16Array(16);
      node.sha256IntoU16(msg, w, 0);
      expect(bytesToHex(new Uint8Array(w.buffer))).toBe(want);
      surrogates += w.filter((u) => u >= 0xd800 && u <= 0xdfff).length; // lone surrogates must survive too
    }
    expect(seen.size).toBe(256);
    expect(surrogates).toBeGreaterThan(100);
  });

  it('sha256Into and sha256IntoU16 refuse an output range that does not fit, identically', () => {
    for (const b of backends) {
      expect(() => b.sha256Into(new Uint8Array(1), new Uint8Array(40), 9)).toThrow(RangeError);
      expect(() => b.sha256Into(new Uint8Array(1), new Uint8Array(40), -1)).toThrow('sha256Into: offset out of range');
      expect(() => b.sha256Into(new Uint8Array(1), new Uint8Array(31), 0)).toThrow('sha256Into: offset out of range');
      expect(() => b.sha256IntoU16(new Uint8Array(1), new Uint16Array(20), 5)).toThrow('sha256IntoU16: offset out of range');
      expect(() => b.sha256IntoU16(new Uint8Array(1), new Uint16Array(20), -1)).toThrow(RangeError);
    }
  });
});
