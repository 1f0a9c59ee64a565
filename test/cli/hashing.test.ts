/**
 * The CLI's fast per-row hashing (sdk/src/cli/hashing.ts: one-shot hashes, HMAC
 * written out over preallocated key blocks) gives exactly the core's values:
 * rowRecordKey, blindingMask, anchorOf.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { anchorOf, blindingMask, bytesToHex, hexToBytes, rowRecordKey, sha256, utf8 } from '../../sdk/src/index.ts';
import { RowHasher, sha256Hex } from '../../sdk/src/cli/hashing.ts';

describe('RowHasher', () => {
  it('matches rowRecordKey, blindingMask and anchorOf for any key, version and blinding key', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 100 }),
        fc.string({ minLength: 1, maxLength: 20 }),
        fc.array(fc.oneof(fc.string({ maxLength: 300, unit: 'grapheme' }), fc.constantFrom('', '"', '\\', '\u0001\n\t', 'Jõgeva/😀', 'a,b')), { minLength: 1, maxLength: 3 }),
        fc.nat({ max: 2 ** 40 }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        (bk, dataset, key, version, digest) => {
          const h = new RowHasher(bk, dataset);
          const recordKey = rowRecordKey(dataset, key);
          expect(h.recordKey(key)).toBe(recordKey);
          const mask = blindingMask(bk, recordKey, version);
          expect(bytesToHex(h.mask(key, version))).toBe(bytesToHex(mask));
          expect(bytesToHex(h.anchor(key, version, bytesToHex(digest)))).toBe(bytesToHex(anchorOf(digest, mask)));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('writes anchors in place and keeps working after a long key grows its buffer', () => {
    const h = new RowHasher(hexToBytes('00'.repeat(32)), 'registry');
    const out = Buffer.alloc(96);
    const long = ['x'.repeat(5000)];
    h.anchorInto(long, 3, 'ab'.repeat(32), out, 32);
    h.anchorInto(['short'], 0, 'cd'.repeat(32), out, 64);
    const k = hexToBytes('00'.repeat(32));
    expect(bytesToHex(out.subarray(32, 64))).toBe(bytesToHex(anchorOf(hexToBytes('ab'.repeat(32)), blindingMask(k, rowRecordKey('registry', long), 3))));
    expect(bytesToHex(out.subarray(64, 96))).toBe(bytesToHex(anchorOf(hexToBytes('cd'.repeat(32)), blindingMask(k, rowRecordKey('registry', ['short']), 0))));
    expect(out.subarray(0, 32).every((b) => b === 0)).toBe(true);
  });

  it('sha256Hex is SHA-256 of the UTF-8', () => {
    expect(sha256Hex('{"a":"Õ"}')).toBe(bytesToHex(sha256(utf8('{"a":"Õ"}'))));
  });
});
