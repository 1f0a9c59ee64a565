import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BLOCK_HEADER_VERSION,
  type BlockHeader,
  blockLeafData,
  encodeBlockHeader,
  GENESIS_PREV,
  parseBlockHeader,
  timeToRfc3339Millis,
} from '../../sdk/src/block.ts';
import { utf8 } from '../../sdk/src/encoding.ts';
import { expectSdkError as expectFail } from '../helpers/sdk-errors.ts';


const H = (b: number): Uint8Array => new Uint8Array(32).fill(b);
const A = 'ab'.repeat(32);
const header: BlockHeader = {
  height: 7,
  time: '2026-11-22T04:32:16.123Z',
  roundSize: 3,
  anchors: 1000,
  roundRoot: H(0xab),
  prev: H(0x01),
  validators: H(0xff),
};
const TEXT =
  'ledgerseal-block/v1\n' +
  'height 7\n' +
  'time 2026-11-22T04:32:16.123Z\n' +
  'round-size 3\n' +
  'anchors 1000\n' +
  `round-root ${A}\n` +
  `prev ${'01'.repeat(32)}\n` +
  `validators ${'ff'.repeat(32)}\n`;

describe('encodeBlockHeader / parseBlockHeader', () => {
  it('encodes docs/protocol.md 4.5 byte for byte', () => {
    expect(encodeBlockHeader(header)).toBe(TEXT);
    expect(parseBlockHeader(TEXT)).toEqual(header);
    expect(blockLeafData(header)).toEqual(utf8(TEXT));
    expect(blockLeafData(TEXT)).toEqual(utf8(TEXT));
  });

  it('encodes a genesis block with 64 zeros as prev', () => {
    const g = encodeBlockHeader({ ...header, height: 0, prev: GENESIS_PREV });
    expect(g).toContain(`\nheight 0\n`);
    expect(g).toContain(`\nprev ${'0'.repeat(64)}\n`);
    expect(GENESIS_PREV).toEqual(new Uint8Array(32));
  });

  it('round-trips, and every accepted text is the encoding of its parse', () => {
    const hash = fc.uint8Array({ minLength: 32, maxLength: 32 });
    const count = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
    const time = fc
      .date({ min: new Date('0000-01-01T00:00:00.000Z'), max: new Date('9999-12-31T23:59:59.999Z'), noInvalidDate: true })
      .map(timeToRfc3339Millis);
    fc.assert(
      fc.property(count, time, count, count, hash, hash, hash, (height, t, roundSize, anchors, roundRoot, prev, validators) => {
        const h: BlockHeader = { height, time: t, roundSize, anchors, roundRoot, prev, validators };
        const text = encodeBlockHeader(h);
        expect(parseBlockHeader(text)).toEqual(h);
        expect(encodeBlockHeader(parseBlockHeader(text))).toBe(text);
      }),
    );
  });

  const replace = (from: string, to: string): string => {
    expect(TEXT).toContain(from);
    return TEXT.replace(from, to);
  };
  const cases: Array<[string, string, RegExp]> = [
    ['empty text', '', /newline/],
    ['missing final newline', TEXT.slice(0, -1), /does not end in a newline/],
    ['truncated after the time', TEXT.split('round-size')[0]!, /expected 8 lines, got 3/],
    ['wrong version', replace('ledgerseal-block/v1', 'ledgerseal-block/v2'), /unsupported version "ledgerseal-block\/v2"/],
    ['missing version line', TEXT.slice(TEXT.indexOf('\n') + 1), /first line must be/],
    ['version with trailing space', replace('ledgerseal-block/v1\n', 'ledgerseal-block/v1 \n'), /unsupported version/],
    ['extra line at the end', TEXT + 'extra 1\n', /expected 8 lines, got 9/],
    ['extra blank line at the end', TEXT + '\n', /expected 8 lines, got 9/],
    ['CRLF line endings', TEXT.replace(/\n/g, '\r\n'), /version|first line/],
    ['fields out of order', replace('round-size 3\nanchors 1000\n', 'anchors 1000\nround-size 3\n'), /line 4 must be "round-size/],
    ['wrong field name', replace('round-size 3', 'roundSize 3'), /line 4 must be "round-size/],
    ['upper-case field name', replace('height 7', 'Height 7'), /line 2 must be "height/],
    ['two spaces', replace('height 7', 'height  7'), /height is not a canonical decimal/],
    ['tab instead of space', replace('height 7', 'height\t7'), /line 2 must be "height/],
    ['trailing space', replace('anchors 1000', 'anchors 1000 '), /anchors is not a canonical decimal/],
    ['leading zero', replace('height 7', 'height 07'), /height is not a canonical decimal/],
    ['sign', replace('round-size 3', 'round-size +3'), /round-size is not a canonical decimal/],
    ['negative', replace('anchors 1000', 'anchors -1'), /anchors is not a canonical decimal/],
    ['exponent', replace('anchors 1000', 'anchors 1e3'), /anchors is not a canonical decimal/],
    ['above 2^53 - 1', replace('height 7', 'height 9007199254740992'), /height is larger than 2\^53 - 1/],
    ['time without milliseconds', replace('16.123Z', '16Z'), /time is not RFC 3339/],
    ['time with 6 fractional digits', replace('16.123Z', '16.123000Z'), /time is not RFC 3339/],
    ['time with an offset', replace('16.123Z', '16.123+00:00'), /time is not RFC 3339/],
    ['time with lower-case z', replace('16.123Z', '16.123z'), /time is not RFC 3339/],
    ['time with a space separator', replace('2026-11-22T', '2026-11-22 '), /time is not RFC 3339/],
    ['February 30th', replace('2026-11-22', '2026-02-30'), /time is not RFC 3339/],
    ['hour 24', replace('T04:32', 'T24:00'), /time is not RFC 3339/],
    ['leap second', replace('04:32:16', '23:59:60'), /time is not RFC 3339/],
    ['upper-case hex', replace(A, A.toUpperCase()), /round-root is not 64 lowercase hex/],
    ['short hex', replace(`prev ${'01'.repeat(32)}`, `prev ${'01'.repeat(31)}`), /prev is not 64 lowercase hex/],
    ['long hex', replace(`validators ${'ff'.repeat(32)}`, `validators ${'ff'.repeat(33)}`), /validators is not 64 lowercase hex/],
    ['non-hex', replace(A, 'g' + A.slice(1)), /round-root is not 64 lowercase hex/],
    ['oversized', TEXT + 'x'.repeat(2000) + '\n', /longer than 1024 bytes/],
  ];
  for (const [name, text, reason] of cases) {
    it(`refuses: ${name}`, () => expectFail(() => parseBlockHeader(text), 'MALFORMED_BLOCK', reason));
  }

  it('refuses a non-string and unusable leaf data', () => {
    expectFail(() => parseBlockHeader(utf8(TEXT) as unknown as string), 'MALFORMED_BLOCK', /string/);
    expectFail(() => blockLeafData(TEXT.replace('height 7', 'height 07')), 'MALFORMED_BLOCK');
  });

  it('refuses to encode an invalid header', () => {
    const bad: Array<[Partial<BlockHeader>, RegExp]> = [
      [{ height: -1 }, /height/],
      [{ height: 1.5 }, /height/],
      [{ height: 2 ** 53 }, /height/],
      [{ roundSize: Number.NaN }, /round-size/],
      [{ anchors: -0.5 }, /anchors/],
      [{ time: '2026-11-22T04:32:16Z' }, /time/],
      [{ time: '2026-02-30T04:32:16.123Z' }, /time/],
      [{ roundRoot: H(1).subarray(1) }, /round-root/],
      [{ prev: new Uint8Array(33) }, /prev/],
      [{ validators: 'ff' as unknown as Uint8Array }, /validators/],
    ];
    for (const [change, reason] of bad) expectFail(() => encodeBlockHeader({ ...header, ...change }), 'MALFORMED_BLOCK', reason);
  });

  it('names its version', () => expect(BLOCK_HEADER_VERSION).toBe('ledgerseal-block/v1'));
});

describe('timeToRfc3339Millis', () => {
  it('formats UTC with exactly three fractional digits', () => {
    expect(timeToRfc3339Millis(new Date(Date.UTC(2026, 10, 22, 4, 32, 16, 123)))).toBe('2026-11-22T04:32:16.123Z');
    expect(timeToRfc3339Millis(new Date(0))).toBe('1970-01-01T00:00:00.000Z');
  });

  it('refuses invalid dates and years outside 0000-9999', () => {
    expectFail(() => timeToRfc3339Millis(new Date(Number.NaN)), 'INVALID_ARGUMENT');
    expectFail(() => timeToRfc3339Millis('2026-01-01' as unknown as Date), 'INVALID_ARGUMENT');
    expectFail(() => timeToRfc3339Millis(new Date('+010000-01-01T00:00:00.000Z')), 'INVALID_ARGUMENT', /0000-9999/);
  });
});
