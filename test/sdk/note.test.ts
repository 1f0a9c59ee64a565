import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { base64ToBytes, bytesToBase64, fromUtf8, utf8 } from '../../sdk/src/encoding.ts';
import { LedgersealError } from '../../sdk/src/errors.ts';
import {
  formatVerifierKey,
  generateNoteKey,
  NOTE_MAX_BYTES,
  NOTE_MAX_SIGNATURES,
  noteKeyHash,
  noteVerifier,
  parseNote,
  parseSignerKey,
  parseVerifierKey,
  signNote,
  verifierKeyOf,
  verifyNote,
} from '../../sdk/src/note.ts';
import vectors from '../vectors/c2sp-notes.json' with { type: 'json' };
import { expectSdkError as expectFail } from '../helpers/sdk-errors.ts';

const EM = '\u2014';

function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof LedgersealError) return e.code;
    throw e;
  }
  return 'NO_ERROR';
}


const seed = (n: number): Uint8Array => new Uint8Array(32).fill(n);
const [peter] = vectors.keys as [(typeof vectors.keys)[number] & { signerKey: string }];
const TEXT = vectors.signed[0]!.text;
const PETER_NOTE = vectors.signed[0]!.note;

describe('Go sumdb/note vectors', () => {
  it('parses the published keys and their key hashes', () => {
    for (const k of vectors.keys) {
      const v = parseVerifierKey(k.verifierKey);
      expect(v.name).toBe(k.name);
      expect(v.keyHash).toBe(parseInt(k.keyHash, 16));
      expect(noteKeyHash(k.name, v.publicKey)).toBe(v.keyHash);
      expect(formatVerifierKey(k.name, v.publicKey)).toBe(k.verifierKey);
    }
    const s = parseSignerKey(peter.signerKey);
    expect(s.name).toBe('PeterNeumann');
    expect(s.keyHash).toBe(0xc74f20a3);
    expect(verifierKeyOf(peter.signerKey)).toBe(peter.verifierKey);
    expect(generateNoteKey('PeterNeumann', s.seed)).toEqual({ signerKey: peter.signerKey, verifierKey: peter.verifierKey });
  });

  it('signs exactly as Go does (Ed25519 is deterministic)', () => {
    for (const v of vectors.signed) expect(signNote(v.text, v.signerKeys)).toBe(v.note);
  });

  it('opens the Go and C2SP notes', () => {
    for (const v of vectors.open) {
      const r = verifyNote(v.note, v.verifierKeys);
      expect(r.text, v.description).toBe(v.text);
      expect(r.verified, v.description).toEqual(v.verified);
      if (v.signatures) {
        expect(parseNote(v.note).signatures.map((s) => ({ name: s.name, keyHash: s.keyHash.toString(16).padStart(8, '0') }))).toEqual(v.signatures);
      }
    }
  });

  it('refuses the malformed notes of TestOpen', () => {
    for (const v of vectors.malformed) expect(codeOf(() => verifyNote(v.note, [peter.verifierKey])), v.description).toBe('MALFORMED_NOTE');
  });

  it('refuses the bad verifier keys of TestNewVerifier', () => {
    for (const v of vectors.badVerifierKeys) expect(codeOf(() => parseVerifierKey(v.key)), v.description).toBe('MALFORMED_KEY');
  });

  it('refuses every proper substring and every single-character change of the keys (TestNewVerifier/TestNewSigner)', () => {
    for (const [key, parse] of [[peter.verifierKey, parseVerifierKey], [peter.signerKey, parseSignerKey]] as const) {
      for (let i = 0; i <= key.length; i++) {
        for (let j = i + 1; j <= key.length; j++) {
          if (i === 0 && j === key.length) continue;
          expect(codeOf(() => parse(key.slice(i, j))), key.slice(i, j)).toBe('MALFORMED_KEY');
        }
      }
      for (let i = 0; i < key.length; i++) {
        const changed = key.slice(0, i) + String.fromCharCode(key.charCodeAt(i) + 1) + key.slice(i + 1);
        expect(codeOf(() => parse(changed)), changed).toBe('MALFORMED_KEY');
      }
    }
  });

  it('refuses the same name and key hash listed twice (Go: ambiguous key)', () => {
    for (const v of vectors.duplicateVerifierKeys) expectFail(() => verifyNote(PETER_NOTE, v.verifierKeys), 'MALFORMED_KEY', /ambiguous/);
    expectFail(() => noteVerifier([peter.verifierKey, peter.verifierKey]), 'MALFORMED_KEY', /listed twice/);
  });
});

describe('keys', () => {
  it('round-trips generated keys', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.stringMatching(/^[a-z0-9./-]{1,40}$/), (s, name) => {
        const { signerKey, verifierKey } = generateNoteKey(name, s);
        const sk = parseSignerKey(signerKey);
        const vk = parseVerifierKey(verifierKey);
        expect(sk.seed).toEqual(s);
        expect(vk.publicKey).toEqual(sk.publicKey);
        expect(vk.keyHash).toBe(sk.keyHash);
        expect(verifierKeyOf(signerKey)).toBe(verifierKey);
        expect(signerKey).toMatch(/^PRIVATE\+KEY\+[^+]+\+[0-9a-f]{8}\+[A-Za-z0-9+/]{44}$/);
      }),
      { numRuns: 50 },
    );
  });

  it('generates a random key without a seed', () => {
    const a = generateNoteKey('a.example');
    const b = generateNoteKey('a.example');
    expect(a.verifierKey).not.toBe(b.verifierKey);
    expect(verifierKeyOf(a.signerKey)).toBe(a.verifierKey);
  });

  it('refuses invalid names and seeds', () => {
    for (const name of ['', 'a b', 'a+b', 'a\tb', 'a\u00a0b', 'a\u2028b', 'a\u3000b', 'a\nb', 'a\u0001b', '\ud800']) {
      expectFail(() => generateNoteKey(name, seed(1)), 'MALFORMED_KEY', /name/);
    }
    expectFail(() => generateNoteKey('a', new Uint8Array(31)), 'MALFORMED_KEY', /32 bytes/);
    expectFail(() => formatVerifierKey('a', new Uint8Array(33)), 'MALFORMED_KEY', /32 bytes/);
  });

  it('names each verifier key failure', () => {
    const { verifierKey, signerKey } = generateNoteKey('v.example', seed(7));
    const [name, hash, b64] = [verifierKey.slice(0, 9), verifierKey.slice(10, 18), verifierKey.slice(19)];
    expectFail(() => parseVerifierKey(signerKey), 'MALFORMED_KEY', /signer \(private\) key/);
    expectFail(() => parseVerifierKey(`${name}+${hash}`), 'MALFORMED_KEY', /<name>\+<hex8/);
    expectFail(() => parseVerifierKey(`${name}+${hash.toUpperCase()}+${b64}`), 'MALFORMED_KEY', /lowercase hex/);
    expectFail(() => parseVerifierKey(`${name}+${hash}+${b64.slice(0, -1)}`), 'MALFORMED_KEY', /base64/);
    expectFail(() => parseVerifierKey(`${name}+${hash}+`), 'MALFORMED_KEY', /empty/);
    expectFail(() => parseVerifierKey(`${name}+00000000+${b64}`), 'MALFORMED_KEY', /hash does not match/);
    expectFail(() => parseVerifierKey(`other+${hash}+${b64}`), 'MALFORMED_KEY', /hash does not match/);
    // A well-formed key line whose 32 bytes are not a canonical point, and one of small order.
    const notPoint = new Uint8Array(32).fill(0xff);
    expectFail(() => parseVerifierKey(formatVerifierKey('x', notPoint)), 'MALFORMED_KEY', /canonical Ed25519 point/);
    const identity = new Uint8Array(32);
    identity[0] = 1;
    expectFail(() => parseVerifierKey(formatVerifierKey('x', identity)), 'MALFORMED_KEY', /small-order/);
    expectFail(() => parseSignerKey(verifierKey), 'MALFORMED_KEY', /PRIVATE\+KEY/);
    expectFail(() => parseVerifierKey(42 as unknown as string), 'MALFORMED_KEY');
  });
});

describe('parseNote failure modes', () => {
  const sigLine = PETER_NOTE.slice(TEXT.length + 1);
  const cases: Array<[string, string, RegExp]> = [
    ['no blank line', TEXT + sigLine, /no blank line/],
    ['blank line without signatures', TEXT + '\n', /no signature lines/],
    ['signature block without final newline', TEXT + '\n' + sigLine.slice(0, -1), /does not end in newline/],
    ['hyphen instead of em dash', TEXT + '\n' + '-' + sigLine.slice(1), /does not start with/],
    ['no space after em dash', TEXT + '\n' + EM + sigLine.slice(2), /does not start with|invalid key name/],
    ['name with plus', TEXT + '\n' + sigLine.replace('PeterNeumann', 'Peter+Neumann'), /invalid key name/],
    ['name with no-break space', TEXT + '\n' + sigLine.replace('PeterNeumann', 'Peter\u00a0Neumann'), /invalid key name/],
    ['empty name', TEXT + '\n' + sigLine.replace('PeterNeumann', ''), /invalid key name/],
    ['no signature after the name', TEXT + '\n' + `${EM} PeterNeumann\n`, /no signature/],
    ['empty signature', TEXT + '\n' + `${EM} PeterNeumann \n`, /no signature/],
    ['bad base64 character', TEXT + '\n' + sigLine.replace('x08go', 'x08g!'), /base64/],
    ['missing base64 padding', TEXT + '\n' + sigLine.replace('=\n', '\n'), /base64/],
    ['non-canonical base64 padding bits', TEXT + '\n' + sigLine.replace('AM=\n', 'AN=\n'), /base64/],
    ['two spaces', TEXT + '\n' + sigLine.replace(' x08go', '  x08go'), /base64/],
    ['signature of 4 bytes', TEXT + '\n' + `${EM} PeterNeumann ${bytesToBase64(new Uint8Array(4))}\n`, /shorter than 5 bytes/],
    ['carriage return', TEXT.replace('\n', '\r\n') + '\n' + sigLine, /control character/],
    ['tab', '\t' + PETER_NOTE, /control character/],
    ['NUL', PETER_NOTE.replace('you', 'y\u0000u'), /control character/],
    ['lone surrogate (no UTF-8 form)', PETER_NOTE.replace('you', 'y\ud800u'), /UTF-8/],
    ['unexpected line after signatures', PETER_NOTE + 'Unexpected line.\n', /does not start with/],
    ['too many signatures', TEXT + '\n' + sigLine.repeat(NOTE_MAX_SIGNATURES + 1), /more than 100 signatures/],
  ];
  for (const [name, note, reason] of cases) {
    it(`refuses: ${name}`, () => expectFail(() => parseNote(note), 'MALFORMED_NOTE', reason));
  }

  it('refuses an oversized note, and accepts one at the limit', () => {
    const sigs = '\n' + PETER_NOTE.slice(TEXT.length + 1);
    const fill = (n: number): string => 'a'.repeat(n - 1 - utf8(sigs).length) + '\n' + sigs;
    expect(utf8(fill(NOTE_MAX_BYTES)).length).toBe(NOTE_MAX_BYTES);
    expect(parseNote(fill(NOTE_MAX_BYTES)).signatures).toHaveLength(1);
    expectFail(() => parseNote(fill(NOTE_MAX_BYTES + 1)), 'MALFORMED_NOTE', /larger than/);
    // Multi-byte characters count in UTF-8 bytes, not UTF-16 units.
    const wide = '\u00e9'.repeat(NOTE_MAX_BYTES / 2) + '\n' + sigs;
    expectFail(() => parseNote(wide), 'MALFORMED_NOTE', /larger than/);
  });

  it('refuses a non-string', () => expectFail(() => parseNote(utf8(PETER_NOTE) as unknown as string), 'MALFORMED_NOTE'));

  it('accepts exactly 100 signatures and text with blank lines', () => {
    const sigLine100 = sigLine.repeat(NOTE_MAX_SIGNATURES);
    expect(parseNote(TEXT + '\n' + sigLine100).signatures).toHaveLength(NOTE_MAX_SIGNATURES);
    expect(parseNote('a\n\n\nb\n\n' + sigLine).text).toBe('a\n\n\nb\n');
    expect(parseNote('\n\n' + sigLine).text).toBe('\n');
  });

  it('returns the key hash and the bare signature bytes', () => {
    const [s] = parseNote(PETER_NOTE).signatures;
    expect(s!.name).toBe('PeterNeumann');
    expect(s!.keyHash).toBe(0xc74f20a3);
    expect(s!.signature).toHaveLength(64);
  });
});

describe('signNote', () => {
  const { signerKey } = generateNoteKey('s.example', seed(3));

  it('refuses text without final newline, with control characters, and bad signer lists', () => {
    expectFail(() => signNote('abc', [signerKey]), 'MALFORMED_NOTE', /end in a newline/);
    expectFail(() => signNote('', [signerKey]), 'MALFORMED_NOTE', /end in a newline/);
    expectFail(() => signNote('a\rb\n', [signerKey]), 'MALFORMED_NOTE', /control/);
    expectFail(() => signNote('a\n', []), 'INVALID_ARGUMENT', /at least one/);
    expectFail(() => signNote('a\n', [signerKey, signerKey]), 'INVALID_ARGUMENT', /twice/);
    expectFail(() => signNote('a\n', ['PRIVATE+KEY+x+00000000+AAAA']), 'MALFORMED_KEY');
    expectFail(() => signNote('a'.repeat(NOTE_MAX_BYTES) + '\n', [signerKey]), 'MALFORMED_NOTE', /larger than/);
  });

  it('round-trips any well-formed text', () => {
    const { verifierKey } = generateNoteKey('s.example', seed(3));
    const line = fc.string({ unit: 'grapheme', maxLength: 30 }).filter((s) => !/[\u0000-\u001f]/.test(s));
    fc.assert(
      fc.property(fc.array(line, { minLength: 1, maxLength: 5 }), (lines) => {
        const text = lines.join('\n') + '\n';
        const note = signNote(text, [signerKey]);
        const r = verifyNote(note, [verifierKey]);
        expect(r.text).toBe(text);
        expect(r.verified).toEqual(['s.example']);
      }),
      { numRuns: 100 },
    );
  });
});

describe('verifying a note signed by four keys', () => {
  const keys = ['a.example', 'b.example', 'c.example', 'd.example'].map((n, i) => generateNoteKey(n, seed(10 + i)));
  const names = ['a.example', 'b.example', 'c.example', 'd.example'];
  const vkeys = keys.map((k) => k.verifierKey);
  const text = 'ledgerseal.example.gov/prod\n42\n' + bytesToBase64(new Uint8Array(32).fill(9)) + '\n';
  const note = signNote(text, keys.map((k) => k.signerKey));
  const sigLines = note.slice(text.length + 1).slice(0, -1).split('\n');

  it('verifies for each key alone and for all together', () => {
    for (let i = 0; i < 4; i++) expect(verifyNote(note, [vkeys[i]!]).verified).toEqual([names[i]]);
    const r = verifyNote(note, vkeys);
    expect(r.verified).toEqual(names);
    expect(r.verifiedKeys).toEqual(vkeys);
    expect(r.text).toBe(text);
  });

  it('ignores unknown keys, keys matching only the name or only the hash', () => {
    const stranger = generateNoteKey('z.example', seed(99)).verifierKey;
    expect(verifyNote(note, [stranger]).verified).toEqual([]);
    // Same name as a signer, different key: the key hash differs, so the line is unknown.
    const sameName = generateNoteKey('a.example', seed(98)).verifierKey;
    expect(verifyNote(note, [sameName, vkeys[1]!]).verified).toEqual(['b.example']);
  });

  it('counts a key once even if its line is repeated, and a name once across two keys', () => {
    const doubled = text + '\n' + [sigLines[0], sigLines[0], sigLines[1]].join('\n') + '\n';
    expect(verifyNote(doubled, vkeys).verified).toEqual(['a.example', 'b.example']);
    const rotated = generateNoteKey('a.example', seed(97));
    const both = signNote(text, [keys[0]!.signerKey, rotated.signerKey]);
    const r = verifyNote(both, [vkeys[0]!, rotated.verifierKey]);
    expect(r.verified).toEqual(['a.example']);
    expect(r.verifiedKeys).toEqual([vkeys[0], rotated.verifierKey]);
  });

  it('a bad line by a known key is ignored, and a later good line by it still counts', () => {
    const raw = base64ToBytes(sigLines[0]!.split(' ')[2]!);
    raw[10]! ^= 1;
    const badLine = `${EM} a.example ${bytesToBase64(raw)}`;
    expect(verifyNote(text + '\n' + badLine + '\n', vkeys).verified).toEqual([]);
    expect(verifyNote(text + '\n' + badLine + '\n' + sigLines[0] + '\n', vkeys).verified).toEqual(['a.example']);
    // A signature of the wrong length from a known key is not an error either.
    const short = `${EM} a.example ${bytesToBase64(raw.subarray(0, 40))}`;
    expect(verifyNote(text + '\n' + short + '\n', vkeys).verified).toEqual([]);
  });

  it('any single-bit change of the text makes no signature verify', () => {
    const bytes = utf8(note);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: utf8(text).length * 8 - 1 }), (bit) => {
        const b = bytes.slice();
        b[bit >> 3]! ^= 1 << (bit & 7);
        let changed: string;
        try {
          changed = fromUtf8(b);
        } catch {
          return; // not UTF-8 any more: cannot even be presented as a note string
        }
        let verified: string[] = [];
        try {
          verified = verifyNote(changed, vkeys).verified;
        } catch (e) {
          expect((e as LedgersealError).code).toBe('MALFORMED_NOTE');
        }
        expect(verified).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });

  it('any single-bit change of a signature (or its key hash) makes exactly that signature not verify', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 68 * 8 - 1 }), (k, bit) => {
        const parts = sigLines[k]!.split(' ');
        const raw = base64ToBytes(parts[2]!);
        raw[bit >> 3]! ^= 1 << (bit & 7);
        const lines = [...sigLines];
        lines[k] = `${parts[0]} ${parts[1]} ${bytesToBase64(raw)}`;
        const r = verifyNote(text + '\n' + lines.join('\n') + '\n', vkeys);
        expect(r.verified).toEqual(names.filter((_, i) => i !== k));
      }),
      { numRuns: 300 },
    );
  });

  it('any single-bit change of a public key makes that signature not verify', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 255 }), (k, bit) => {
        const pk = parseVerifierKey(vkeys[k]!).publicKey.slice();
        pk[bit >> 3]! ^= 1 << (bit & 7);
        let changed: string;
        try {
          changed = formatVerifierKey(names[k]!, pk);
          parseVerifierKey(changed);
        } catch (e) {
          expect((e as LedgersealError).code).toBe('MALFORMED_KEY'); // not a usable point at all
          return;
        }
        const keysNow = vkeys.map((v, i) => (i === k ? changed : v));
        expect(verifyNote(note, keysNow).verified).toEqual(names.filter((_, i) => i !== k));
      }),
      { numRuns: 300 },
    );
  });
});

describe('noteVerifier', () => {
  const keys = [1, 2].map((i) => generateNoteKey(`k${i}.example`, seed(i)));
  const vkeys = keys.map((k) => k.verifierKey);
  const notes = ['a\n', 'b\n', 'c\n'].map((t) => signNote(t, keys.map((k) => k.signerKey)));

  it('returns what verifyNote returns, from the cache on repeats', () => {
    const v = noteVerifier(vkeys);
    const first = v.verify(notes[0]!);
    expect(first).toEqual(verifyNote(notes[0]!, vkeys));
    first.verified.push('mallory'); // a caller mutating its result does not poison the cache
    expect(v.verify(notes[0]!).verified).toEqual(['k1.example', 'k2.example']);
    expect(v.cacheStats()).toEqual({ hits: 1, misses: 1, entries: 1 });
    expect(v.verifierKeys).toEqual(vkeys);
  });

  it('evicts the least recently used note', () => {
    const v = noteVerifier(vkeys, { cacheSize: 2 });
    v.verify(notes[0]!);
    v.verify(notes[1]!);
    v.verify(notes[0]!); // 0 is now the most recent
    v.verify(notes[2]!); // evicts 1
    expect(v.cacheStats()).toEqual({ hits: 1, misses: 3, entries: 2 });
    v.verify(notes[0]!);
    expect(v.cacheStats().hits).toBe(2);
    v.verify(notes[1]!);
    expect(v.cacheStats().misses).toBe(4);
  });

  it('does not cache with cacheSize 0, still throws for malformed notes, refuses bad options', () => {
    const v = noteVerifier(vkeys, { cacheSize: 0 });
    v.verify(notes[0]!);
    v.verify(notes[0]!);
    expect(v.cacheStats()).toEqual({ hits: 0, misses: 2, entries: 0 });
    expectFail(() => v.verify('no signatures\n'), 'MALFORMED_NOTE');
    expectFail(() => noteVerifier(vkeys, { cacheSize: -1 }), 'INVALID_ARGUMENT');
    expectFail(() => noteVerifier(['nope']), 'MALFORMED_KEY');
  });

  it('pays the Ed25519 cost once for many repeats', () => {
    const v = noteVerifier(vkeys);
    for (let i = 0; i < 1000; i++) v.verify(notes[1]!);
    expect(v.cacheStats()).toEqual({ hits: 999, misses: 1, entries: 1 });
  });
});
