/**
 * C2SP tlog-cosignature/v1 (Ed25519, type 0x04): real witness cosignatures, the
 * implementation's own regression vectors, the signer's failure modes, and
 * property tests for tampering and for the separation of 0x01 and 0x04 keys.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatCheckpoint } from '../../sdk/src/checkpoint.ts';
import {
  COSIGNATURE_ALG_ED25519,
  COSIGNATURE_HEADER,
  cosignatureMessage,
  cosignatureTime,
  cosignCheckpoint,
  generateCosignerKey,
} from '../../sdk/src/cosignature.ts';
import { base64ToBytes, bytesToBase64, concatBytes, fromUtf8, hexToBytes, utf8 } from '../../sdk/src/encoding.ts';
import {
  formatVerifierKey,
  generateNoteKey,
  noteKeyHash,
  noteVerifier,
  parseNote,
  parseSignerKey,
  parseVerifierKey,
  signNote,
  verifierKeyOf,
  verifyNote,
} from '../../sdk/src/note.ts';
import vectors from '../vectors/tlog-cosignature.json' with { type: 'json' };
import { expectSdkError as expectFail } from '../helpers/sdk-errors.ts';

const EM = '\u2014';
const seed = (n: number): Uint8Array => new Uint8Array(32).fill(n);
const TEXT = formatCheckpoint({ origin: 'ledgerseal.example.gov/prod', size: 42, root: new Uint8Array(32).fill(9) });
const T0 = 1_795_000_000; // 2026-11-17

/** The 8-byte big-endian encoding of a time, as BigInt arithmetic (independent of the sdk's). */
function u64(t: bigint): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, t);
  return out;
}

/** A cosignature line made by hand (noble ed25519), for times the sdk signer refuses. */
function handMadeLine(name: string, seed32: Uint8Array, text: string, time: bigint): string {
  const keyId = hexToBytes(generateCosignerKey(name, seed32).verifierKey.split('+')[1]!);
  const msg = utf8(`cosignature/v1\ntime ${time}\n${text}`);
  return `${EM} ${name} ${bytesToBase64(concatBytes(keyId, u64(time), ed25519.sign(msg, seed32)))}\n`;
}

describe('vectors', () => {
  it('parses the real cosigner key of transparency-dev/formats and derives its key ID with type 0x04', () => {
    for (const k of vectors.cosignerKeys) {
      const v = parseVerifierKey(k.verifierKey);
      expect(v).toMatchObject({ name: k.name, keyHash: parseInt(k.keyId, 16), type: 'cosignature/v1' });
      expect(v.keyHash).toBe(0xda77ade7);
      expect(noteKeyHash(k.name, v.publicKey, 'cosignature/v1')).toBe(v.keyHash);
      expect(noteKeyHash(k.name, v.publicKey)).not.toBe(v.keyHash); // the 0x01 key ID differs
      expect(formatVerifierKey(k.name, v.publicKey, 'cosignature/v1')).toBe(k.verifierKey);
    }
  });

  const w = vectors.witnessed;

  it('verifies a real checkpoint: the log signature (0x01) and four witness cosignatures (0x04)', () => {
    const r = verifyNote(w.note, [w.logKey, ...w.witnessKeys]);
    expect(r.text).toBe(w.text);
    expect(r.verified).toEqual(w.verified);
    expect(r.verifiedKeys).toEqual([w.logKey, ...w.witnessKeys]);
    expect(r.cosignatures).toEqual(w.cosignatures);
    for (const c of r.cosignatures) expect(c.time).toBe(parseInt(w.timeHex, 16));
    expect(parseVerifierKey(w.logKey).type).toBe('ed25519');
    for (const k of w.witnessKeys) expect(parseVerifierKey(k).type).toBe('cosignature/v1');
  });

  it('reads the witness timestamps with cosignatureTime, and ignores the log\'s unknown type 0x05 line', () => {
    const lines = w.note.slice(w.text.length + 1).split('\n').filter(Boolean);
    expect(lines.slice(2).map((l) => cosignatureTime(l))).toEqual(w.cosignatures.map((c) => c.time));
    const [sth] = parseNote(w.note).signatures;
    expect(sth!.keyHash).toBe(0xcd333cb1); // no key here has this ID: ignored, not an error
    expectFail(() => cosignatureTime(lines[0]!), 'MALFORMED_NOTE', /4 \+ 8 \+ 64/);
  });

  it('each witness alone verifies only its own line; a list without the log key still opens the note', () => {
    for (const [i, k] of w.witnessKeys.entries()) {
      const r = verifyNote(w.note, [k]);
      expect(r.verified).toEqual([w.cosignatures[i]!.name]);
      expect(r.cosignatures).toEqual([w.cosignatures[i]]);
    }
    expect(verifyNote(w.note, [w.logKey]).cosignatures).toEqual([]);
  });

  it('changing the size line breaks every signature', () => {
    const changed = w.note.replace('\n1432088532\n', '\n1432088533\n');
    const r = verifyNote(changed, [w.logKey, ...w.witnessKeys]);
    expect(r.verified).toEqual([]);
    expect(r.cosignatures).toEqual([]);
  });

  it('a witness key given as a plain 0x01 key (same name and public key) does not verify its line', () => {
    const plain = w.witnessKeys.map((k) => {
      const v = parseVerifierKey(k);
      return formatVerifierKey(v.name, v.publicKey);
    });
    expect(verifyNote(w.note, plain).verified).toEqual([]);
  });

  it('reproduces the deterministic vectors (cross-checked with Python cryptography)', () => {
    for (const v of vectors.deterministic.vectors) {
      const k = generateCosignerKey(v.name, hexToBytes(v.seed));
      expect(k).toEqual({ signerKey: v.signerKey, verifierKey: v.verifierKey });
      expect(verifierKeyOf(v.signerKey)).toBe(v.verifierKey);
      const line = cosignCheckpoint(v.text, v.signerKey, v.time);
      expect(line).toBe(v.line);
      expect(cosignatureTime(line)).toBe(v.time);
      const r = verifyNote(`${v.text}\n${line}`, [v.verifierKey]);
      expect(r.cosignatures).toEqual([{ name: v.name, key: v.verifierKey, time: v.time }]);
    }
  });
});

describe('keys', () => {
  it('generates type 0x04 keys, deterministic with a seed, random without', () => {
    const k = generateCosignerKey('w.example', seed(1));
    expect(base64ToBytes(k.verifierKey.split('+')[2]!)[0]).toBe(COSIGNATURE_ALG_ED25519);
    expect(base64ToBytes(k.signerKey.split('+')[4]!)[0]).toBe(0x04);
    expect(parseSignerKey(k.signerKey)).toMatchObject({ name: 'w.example', type: 'cosignature/v1', seed: seed(1) });
    expect(parseVerifierKey(k.verifierKey).type).toBe('cosignature/v1');
    expect(generateCosignerKey('w.example', seed(1))).toEqual(k);
    expect(generateCosignerKey('w.example').verifierKey).not.toBe(generateCosignerKey('w.example').verifierKey);
    expect(parseVerifierKey(generateNoteKey('w.example', seed(1)).verifierKey).type).toBe('ed25519');
  });

  it('keeps the strict key rules for type 0x04', () => {
    expectFail(() => generateCosignerKey('a b', seed(1)), 'MALFORMED_KEY', /name/);
    expectFail(() => generateCosignerKey('a', new Uint8Array(31)), 'MALFORMED_KEY', /32 bytes/);
    const { verifierKey } = generateCosignerKey('w.example', seed(2));
    const [name, hash, b64] = verifierKey.split('+') as [string, string, string];
    expectFail(() => parseVerifierKey(`${name}+${hash.toUpperCase()}+${b64}`), 'MALFORMED_KEY', /lowercase hex/);
    expectFail(() => parseVerifierKey(`${name}+00000000+${b64}`), 'MALFORMED_KEY', /hash does not match/);
    // The 0x01 key hash of the same name and key does not match a 0x04 key.
    const pk = parseVerifierKey(verifierKey).publicKey;
    const hash01 = noteKeyHash(name, pk).toString(16).padStart(8, '0');
    expectFail(() => parseVerifierKey(`${name}+${hash01}+${b64}`), 'MALFORMED_KEY', /hash does not match/);
    const identity = new Uint8Array(32);
    identity[0] = 1;
    expectFail(() => parseVerifierKey(formatVerifierKey('x', identity, 'cosignature/v1')), 'MALFORMED_KEY', /small-order/);
    expectFail(() => parseVerifierKey(formatVerifierKey('x', new Uint8Array(32).fill(0xff), 'cosignature/v1')), 'MALFORMED_KEY', /canonical/);
    // Other type bytes stay unknown.
    const t05 = `x+${'0'.repeat(8)}+${bytesToBase64(concatBytes(new Uint8Array([5]), pk))}`;
    expectFail(() => parseVerifierKey(t05), 'MALFORMED_KEY', /unknown algorithm 5/);
    expectFail(() => noteKeyHash('x', pk, 'ecdsa' as 'ed25519'), 'INVALID_ARGUMENT', /key type/);
  });

  it('refuses every single-character change of a cosigner key', () => {
    const { verifierKey, signerKey } = generateCosignerKey('w.example', seed(3));
    for (const [key, parse] of [[verifierKey, parseVerifierKey], [signerKey, parseSignerKey]] as const) {
      for (let i = 0; i < key.length; i++) {
        const changed = key.slice(0, i) + String.fromCharCode(key.charCodeAt(i) + 1) + key.slice(i + 1);
        expectFail(() => parse(changed), 'MALFORMED_KEY');
      }
    }
  });
});

describe('cosignCheckpoint and cosignatureMessage', () => {
  const k = generateCosignerKey('w.example', seed(4));

  it('signs "cosignature/v1\\ntime <t>\\n" followed by the checkpoint text', () => {
    expect(COSIGNATURE_HEADER).toBe('cosignature/v1');
    expect(fromUtf8(cosignatureMessage(TEXT, 1679315147))).toBe(`cosignature/v1\ntime 1679315147\n${TEXT}`);
    expect(fromUtf8(cosignatureMessage(TEXT, 0))).toBe(`cosignature/v1\ntime 0\n${TEXT}`);
    const line = cosignCheckpoint(TEXT, k.signerKey, T0);
    expect(line.endsWith('\n')).toBe(true);
    const raw = base64ToBytes(line.slice(`${EM} w.example `.length, -1));
    expect(raw).toHaveLength(4 + 8 + 64);
    expect(raw.subarray(0, 4)).toEqual(hexToBytes(k.verifierKey.split('+')[1]!));
    expect(raw.subarray(4, 12)).toEqual(u64(BigInt(T0)));
    const pk = parseVerifierKey(k.verifierKey).publicKey;
    expect(ed25519.verify(raw.subarray(12), cosignatureMessage(TEXT, T0), pk)).toBe(true);
    expect(ed25519.verify(raw.subarray(12), utf8(TEXT), pk)).toBe(false); // not a plain note signature
  });

  it('names each failure', () => {
    const plain = generateNoteKey('w.example', seed(4));
    expectFail(() => cosignCheckpoint(TEXT, plain.signerKey, T0), 'INVALID_ARGUMENT', /type 0x01.*signNote/);
    expectFail(() => cosignCheckpoint(TEXT, k.verifierKey, T0), 'MALFORMED_KEY', /PRIVATE\+KEY/);
    expectFail(() => cosignCheckpoint(TEXT, 'PRIVATE+KEY+x+00000000+AAAA', T0), 'MALFORMED_KEY');
    for (const t of [-1, 1.5, 2 ** 53, Number.NaN, Infinity, '1' as unknown as number]) {
      expectFail(() => cosignCheckpoint(TEXT, k.signerKey, t), 'INVALID_ARGUMENT', /POSIX seconds/);
      expectFail(() => cosignatureMessage(TEXT, t), 'INVALID_ARGUMENT', /POSIX seconds/);
    }
    for (const text of ['hello\n', TEXT.slice(0, -1), `${TEXT}\n`, 42 as unknown as string]) {
      expectFail(() => cosignCheckpoint(text, k.signerKey, T0), 'MALFORMED_CHECKPOINT');
      expectFail(() => cosignatureMessage(text, T0), 'MALFORMED_CHECKPOINT');
    }
  });

  it('signNote refuses a cosigner key and points to cosignCheckpoint', () => {
    expectFail(() => signNote(TEXT, [k.signerKey]), 'INVALID_ARGUMENT', /cosignCheckpoint/);
  });

  it('round-trips through verifyNote for any time and checkpoint', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), fc.nat(), fc.uint8Array({ minLength: 32, maxLength: 32 }), (t, size, root) => {
        const text = formatCheckpoint({ origin: 'o.example/log', size, root });
        const line = cosignCheckpoint(text, k.signerKey, t);
        expect(cosignatureTime(line)).toBe(t);
        expect(verifyNote(`${text}\n${line}`, [k.verifierKey]).cosignatures).toEqual([{ name: 'w.example', key: k.verifierKey, time: t }]);
      }),
      { numRuns: 50 },
    );
  });
});

describe('cosignatureTime', () => {
  const k = generateCosignerKey('w.example', seed(5));
  const line = cosignCheckpoint(TEXT, k.signerKey, T0);

  it('reads the timestamp, with or without the final newline, without checking the signature', () => {
    expect(cosignatureTime(line)).toBe(T0);
    expect(cosignatureTime(line.slice(0, -1))).toBe(T0);
    const raw = base64ToBytes(line.slice(`${EM} w.example `.length, -1));
    raw[40]! ^= 1;
    expect(cosignatureTime(`${EM} w.example ${bytesToBase64(raw)}`)).toBe(T0);
  });

  it('refuses what is not a 4 + 8 + 64-byte signature line', () => {
    const plainLine = signNote(TEXT, [generateNoteKey('w.example', seed(5)).signerKey]).slice(TEXT.length + 1);
    expectFail(() => cosignatureTime(plainLine), 'MALFORMED_NOTE', /4 \+ 8 \+ 64/);
    expectFail(() => cosignatureTime(line + line), 'MALFORMED_NOTE', /newline/);
    expectFail(() => cosignatureTime(`- ${line.slice(2)}`), 'MALFORMED_NOTE', /does not start with/);
    expectFail(() => cosignatureTime(line.replace('=\n', '\n')), 'MALFORMED_NOTE', /base64/);
    expectFail(() => cosignatureTime(`${EM} w.example\n`), 'MALFORMED_NOTE', /no signature/);
    expectFail(() => cosignatureTime(42 as unknown as string), 'MALFORMED_NOTE');
    expectFail(() => cosignatureTime(handMadeLine('w.example', seed(5), TEXT, 2n ** 53n)), 'MALFORMED_NOTE', /2\^53 - 1/);
  });
});

describe('verifying cosignatures', () => {
  const names = ['a.example', 'b.example', 'c.example'];
  const cos = names.map((n, i) => generateCosignerKey(n, seed(20 + i)));
  const plain = generateNoteKey('log.example', seed(30));
  const times = [T0 + 5, T0, T0 + 2];
  const lines = cos.map((c, i) => cosignCheckpoint(TEXT, c.signerKey, times[i]!));
  const logNote = signNote(TEXT, [plain.signerKey]);
  const note = logNote + lines.join('');
  const vkeys = [plain.verifierKey, ...cos.map((c) => c.verifierKey)];

  it('verifies plain and cosigner keys in one list; cosignatures in order of appearance', () => {
    const r = verifyNote(note, vkeys);
    expect(r.verified).toEqual(['log.example', ...names]);
    expect(r.verifiedKeys).toEqual(vkeys);
    expect(r.cosignatures).toEqual(names.map((name, i) => ({ name, key: cos[i]!.verifierKey, time: times[i] })));
    const reordered = `${TEXT}\n${lines[2]}${lines[0]}`;
    expect(verifyNote(reordered, vkeys).cosignatures.map((c) => c.name)).toEqual(['c.example', 'a.example']);
  });

  it('counts a key once: the first line of that key that verifies', () => {
    const later = cosignCheckpoint(TEXT, cos[0]!.signerKey, T0 + 100);
    const raw = base64ToBytes(lines[0]!.split(' ')[2]!.slice(0, -1));
    raw[50]! ^= 1;
    const bad = `${EM} a.example ${bytesToBase64(raw)}\n`;
    const r = verifyNote(`${TEXT}\n${bad}${later}${lines[0]}`, vkeys);
    expect(r.cosignatures).toEqual([{ name: 'a.example', key: cos[0]!.verifierKey, time: T0 + 100 }]);
    expect(r.verifiedKeys).toEqual([cos[0]!.verifierKey]);
  });

  it('ignores a 0x04 line of the wrong length, and a timestamp above 2^53 - 1 (a deliberate bound)', () => {
    const raw = base64ToBytes(lines[0]!.split(' ')[2]!.slice(0, -1));
    for (const len of [4 + 64, 4 + 71, 4 + 73]) {
      const cut = len <= raw.length ? raw.subarray(0, len) : concatBytes(raw, new Uint8Array(len - raw.length));
      expect(verifyNote(`${TEXT}\n${EM} a.example ${bytesToBase64(cut)}\n`, vkeys).verified).toEqual([]);
    }
    const max = handMadeLine('a.example', seed(20), TEXT, 2n ** 53n - 1n);
    expect(verifyNote(`${TEXT}\n${max}`, vkeys).cosignatures).toEqual([{ name: 'a.example', key: cos[0]!.verifierKey, time: Number.MAX_SAFE_INTEGER }]);
    for (const t of [2n ** 53n, 2n ** 63n - 1n, 2n ** 64n - 1n]) {
      const line = handMadeLine('a.example', seed(20), TEXT, t);
      expect(verifyNote(`${TEXT}\n${line}`, vkeys)).toMatchObject({ verified: [], cosignatures: [] });
    }
  });

  it('noteVerifier caches cosignatures and hands out copies', () => {
    const v = noteVerifier(vkeys);
    const first = v.verify(note);
    first.cosignatures[0]!.time = 0;
    first.cosignatures.pop();
    const again = v.verify(note);
    expect(again).toEqual(verifyNote(note, vkeys));
    expect(v.cacheStats()).toMatchObject({ hits: 1, misses: 1 });
  });

  it('flipping any bit of a cosignature line (key ID, timestamp, signature) makes it not verify', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 76 * 8 - 1 }), (k, bit) => {
        const parts = lines[k]!.slice(0, -1).split(' ');
        const raw = base64ToBytes(parts[2]!);
        raw[bit >> 3]! ^= 1 << (bit & 7);
        const changed = lines.map((l, i) => (i === k ? `${parts[0]} ${parts[1]} ${bytesToBase64(raw)}\n` : l));
        const r = verifyNote(`${TEXT}\n${changed.join('')}`, vkeys);
        expect(r.verified).toEqual(names.filter((_, i) => i !== k));
        expect(r.cosignatures.map((c) => c.time)).toEqual(times.filter((_, i) => i !== k));
      }),
      { numRuns: 300 },
    );
  });

  it('flipping any bit of the timestamp alone makes it not verify', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 63 }), (bit) => {
        const raw = base64ToBytes(lines[1]!.split(' ')[2]!.slice(0, -1));
        raw[4 + (bit >> 3)]! ^= 1 << (bit & 7);
        expect(verifyNote(`${TEXT}\n${EM} b.example ${bytesToBase64(raw)}\n`, vkeys).cosignatures).toEqual([]);
      }),
    );
  });

  it('flipping any bit of the text makes no cosignature verify', () => {
    const bytes = utf8(note);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: utf8(TEXT).length * 8 - 1 }), (bit) => {
        const b = bytes.slice();
        b[bit >> 3]! ^= 1 << (bit & 7);
        let changed: string;
        try {
          changed = fromUtf8(b);
        } catch {
          return; // not UTF-8 any more
        }
        let cosignatures: unknown[] = [];
        try {
          cosignatures = verifyNote(changed, vkeys).cosignatures;
        } catch (e) {
          expect((e as { code: string }).code).toBe('MALFORMED_NOTE');
        }
        expect(cosignatures).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });

  it('a 0x01 line and a 0x04 line from the same seed and name have different key IDs and do not verify under each other\'s keys', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.stringMatching(/^[a-z0-9./-]{1,30}$/), (s, name) => {
        const p = generateNoteKey(name, s);
        const c = generateCosignerKey(name, s);
        expect(parseVerifierKey(p.verifierKey).publicKey).toEqual(parseVerifierKey(c.verifierKey).publicKey);
        expect(p.verifierKey.split('+')[1]).not.toBe(c.verifierKey.split('+')[1]);
        const plainNote = signNote(TEXT, [p.signerKey]);
        const cosNote = `${TEXT}\n${cosignCheckpoint(TEXT, c.signerKey, T0)}`;
        expect(verifyNote(plainNote, [p.verifierKey]).verified).toEqual([name]);
        expect(verifyNote(cosNote, [c.verifierKey]).verified).toEqual([name]);
        expect(verifyNote(plainNote, [c.verifierKey]).verified).toEqual([]);
        expect(verifyNote(cosNote, [p.verifierKey]).verified).toEqual([]);
        // Both keys listed together: no ambiguity, each verifies only its own line.
        const both = verifyNote(`${plainNote}${cosignCheckpoint(TEXT, c.signerKey, T0)}`, [p.verifierKey, c.verifierKey]);
        expect(both.verifiedKeys).toEqual([p.verifierKey, c.verifierKey]);
        expect(both.cosignatures).toEqual([{ name, key: c.verifierKey, time: T0 }]);
        // The 0x04 line's signature bytes under the 0x01 key ID (relabelled) still do not verify.
        const raw = base64ToBytes(cosNote.slice(TEXT.length + 1).split(' ')[2]!.slice(0, -1));
        raw.set(hexToBytes(p.verifierKey.split('+')[1]!), 0);
        expect(verifyNote(`${TEXT}\n${EM} ${name} ${bytesToBase64(raw)}\n`, [p.verifierKey]).verified).toEqual([]);
        const sig01 = base64ToBytes(plainNote.slice(TEXT.length + 1).split(' ')[2]!.slice(0, -1));
        const relabelled = concatBytes(hexToBytes(c.verifierKey.split('+')[1]!), u64(BigInt(T0)), sig01.subarray(4));
        expect(verifyNote(`${TEXT}\n${EM} ${name} ${bytesToBase64(relabelled)}\n`, [c.verifierKey]).verified).toEqual([]);
      }),
      { numRuns: 25 },
    );
  });
});
