import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatCheckpoint, openCheckpoint, parseCheckpoint } from '../../sdk/src/checkpoint.ts';
import { base64ToBytes, bytesToBase64 } from '../../sdk/src/encoding.ts';
import { generateNoteKey, noteVerifier, parseNote, signNote, verifyNote } from '../../sdk/src/note.ts';
import vectors from '../vectors/checkpoint-sumdb.json' with { type: 'json' };
import { expectSdkError as expectFail } from '../helpers/sdk-errors.ts';


const ROOT = bytesToBase64(new Uint8Array(32).fill(7));

describe('real sum.golang.org checkpoints', () => {
  it('verify with the published sum.golang.org key and parse as C2SP checkpoints', () => {
    for (const v of vectors.checkpoints) {
      const r = verifyNote(v.note, [vectors.verifierKey]);
      expect(r.verified, v.source).toEqual(['sum.golang.org']);
      const cp = parseCheckpoint(r.text);
      expect(cp).toEqual({ origin: v.origin, size: v.size, root: base64ToBytes(v.root), extensions: [] });
      // Our formatter reproduces the signed bytes exactly.
      expect(formatCheckpoint(cp)).toBe(r.text);
      expect(openCheckpoint(v.note, [vectors.verifierKey])).toEqual({
        checkpoint: cp,
        verified: ['sum.golang.org'],
        verifiedKeys: [vectors.verifierKey],
        cosignatures: [],
      });
    }
  });

  it('stop verifying when the size, root or signature changes', () => {
    const v = vectors.checkpoints[0]!;
    const changed = [
      v.note.replace(String(v.size), String(v.size + 1)),
      v.note.replace(v.root, bytesToBase64(base64ToBytes(v.root).map((b, i) => (i === 0 ? b ^ 1 : b)))),
      v.note.replace('Az3grpgE', 'Az3grpgF'),
    ];
    for (const note of changed) expect(verifyNote(note, [vectors.verifierKey]).verified).toEqual([]);
  });

  it('parse the C2SP example checkpoint', () => {
    for (const v of vectors.parseOnly) {
      const cp = parseCheckpoint(parseNote(v.note).text);
      expect(cp.origin).toBe(v.origin);
      expect(cp.size).toBe(v.size);
      expect(bytesToBase64(cp.root)).toBe(v.root);
    }
  });
});

describe('formatCheckpoint / parseCheckpoint', () => {
  it('formats the three lines and extensions', () => {
    const text = formatCheckpoint({ origin: 'ledgerseal.example.gov/prod', size: 9213, root: new Uint8Array(32).fill(7), extensions: ['x y', 'z'] });
    expect(text).toBe(`ledgerseal.example.gov/prod\n9213\n${ROOT}\nx y\nz\n`);
    expect(parseCheckpoint(text).extensions).toEqual(['x y', 'z']);
  });

  it('round-trips', () => {
    const line = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }).filter((s) => !/[\u0000-\u001f]/.test(s));
    fc.assert(
      fc.property(
        line,
        fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.array(line, { maxLength: 3 }),
        (origin, size, root, extensions) => {
          const text = formatCheckpoint({ origin, size, root, extensions });
          expect(parseCheckpoint(text)).toEqual({ origin, size, root, extensions });
        },
      ),
    );
  });

  const cases: Array<[string, string, RegExp]> = [
    ['missing trailing newline', `o\n1\n${ROOT}`, /does not end in a newline/],
    ['only two lines', 'o\n1\n', /at least 3 lines/],
    ['empty text', '', /does not end in a newline/],
    ['empty origin', `\n1\n${ROOT}\n`, /origin is empty/],
    ['origin with a control character', `o\tx\n1\n${ROOT}\n`, /control character/],
    ['leading zero in size', `o\n01\n${ROOT}\n`, /canonical decimal/],
    ['plus sign in size', `o\n+1\n${ROOT}\n`, /canonical decimal/],
    ['negative size', `o\n-1\n${ROOT}\n`, /canonical decimal/],
    ['empty size', `o\n\n${ROOT}\n`, /canonical decimal/],
    ['size with a space', `o\n 1\n${ROOT}\n`, /canonical decimal/],
    ['hex size', `o\n0x1\n${ROOT}\n`, /canonical decimal/],
    ['size of 2^53', `o\n9007199254740992\n${ROOT}\n`, /larger than 2\^53 - 1/],
    ['root of 31 bytes', `o\n1\n${bytesToBase64(new Uint8Array(31))}\n`, /32 bytes/],
    ['root of 33 bytes', `o\n1\n${bytesToBase64(new Uint8Array(33))}\n`, /32 bytes/],
    ['root without padding', `o\n1\n${ROOT.slice(0, -1)}\n`, /base64/],
    ['root in base64url', `o\n1\n${bytesToBase64(new Uint8Array(32).fill(0xfb)).replace(/\+/g, '-')}\n`, /base64/],
    ['root with non-canonical bits', `o\n1\n${ROOT.slice(0, -2)}d=\n`, /base64/],
    ['empty extension line', `o\n1\n${ROOT}\n\n`, /extension line 1 is empty/],
    ['empty extension between extensions', `o\n1\n${ROOT}\na\n\nb\n`, /extension line 2 is empty/],
    ['CR line endings', `o\r\n1\r\n${ROOT}\r\n`, /control character|canonical decimal/],
  ];
  for (const [name, text, reason] of cases) {
    it(`refuses: ${name}`, () => expectFail(() => parseCheckpoint(text), 'MALFORMED_CHECKPOINT', reason));
  }

  it('accepts size 0 and 2^53 - 1', () => {
    expect(parseCheckpoint(`o\n0\n${ROOT}\n`).size).toBe(0);
    expect(parseCheckpoint(`o\n9007199254740991\n${ROOT}\n`).size).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('refuses an oversized text and a non-string', () => {
    expectFail(() => parseCheckpoint(`o\n1\n${ROOT}\n${'x'.repeat(1 << 20)}\n`), 'MALFORMED_CHECKPOINT', /longer than/);
    expectFail(() => parseCheckpoint(42 as unknown as string), 'MALFORMED_CHECKPOINT', /string/);
  });

  it('refuses to format what it could not parse', () => {
    const root = new Uint8Array(32);
    expectFail(() => formatCheckpoint({ origin: '', size: 1, root }), 'MALFORMED_CHECKPOINT', /origin is empty/);
    expectFail(() => formatCheckpoint({ origin: 'a\nb', size: 1, root }), 'MALFORMED_CHECKPOINT', /newline/);
    expectFail(() => formatCheckpoint({ origin: 'o', size: -1, root }), 'MALFORMED_CHECKPOINT', /size/);
    expectFail(() => formatCheckpoint({ origin: 'o', size: 1.5, root }), 'MALFORMED_CHECKPOINT', /size/);
    expectFail(() => formatCheckpoint({ origin: 'o', size: 2 ** 53, root }), 'MALFORMED_CHECKPOINT', /size/);
    expectFail(() => formatCheckpoint({ origin: 'o', size: 1, root: new Uint8Array(31) }), 'MALFORMED_CHECKPOINT', /32 bytes/);
    expectFail(() => formatCheckpoint({ origin: 'o', size: 1, root, extensions: [''] }), 'MALFORMED_CHECKPOINT', /extension line 1/);
    expectFail(() => formatCheckpoint({ origin: 'o', size: 1, root, extensions: ['a\nb'] }), 'MALFORMED_CHECKPOINT', /extension line 1/);
  });
});

describe('openCheckpoint', () => {
  const key = generateNoteKey('ledgerseal.example.gov/prod', new Uint8Array(32).fill(5));
  const text = formatCheckpoint({ origin: 'ledgerseal.example.gov/prod', size: 3, root: new Uint8Array(32) });
  const note = signNote(text, [key.signerKey]);

  it('accepts a key list or a caching verifier', () => {
    expect(openCheckpoint(note, [key.verifierKey]).verified).toEqual(['ledgerseal.example.gov/prod']);
    const v = noteVerifier([key.verifierKey]);
    expect(openCheckpoint(note, v).checkpoint.size).toBe(3);
    expect(openCheckpoint(note, v).checkpoint.size).toBe(3);
    expect(v.cacheStats().hits).toBe(1);
  });

  it('reports an unsigned-by-known-key checkpoint as verified by nobody', () => {
    expect(openCheckpoint(note, []).verified).toEqual([]);
  });

  it('throws MALFORMED_CHECKPOINT for a signed note that is not a checkpoint', () => {
    expectFail(() => openCheckpoint(signNote('hello\n', [key.signerKey]), [key.verifierKey]), 'MALFORMED_CHECKPOINT');
  });
});
