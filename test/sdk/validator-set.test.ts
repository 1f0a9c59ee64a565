import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { formatCheckpoint } from '../../sdk/src/checkpoint.ts';
import { bytesToHex, utf8 } from '../../sdk/src/encoding.ts';
import { canonicalJson } from '../../sdk/src/jcs.ts';
import { generateNoteKey, signNote } from '../../sdk/src/note.ts';
import {
  checkQuorum,
  MAX_VALIDATORS,
  parseValidatorSet,
  type ValidatorSet,
  validatorSetHash,
  validatorSetVerifier,
  verifyCheckpointQuorum,
} from '../../sdk/src/validator-set.ts';
import { expectSdkError as expectFail } from '../helpers/sdk-errors.ts';


const NAMES = ['v1.example', 'v2.example', 'v3.example', 'v4.example'];
const KEYS = NAMES.map((n, i) => generateNoteKey(n, new Uint8Array(32).fill(i + 1)));
const ORIGIN = 'ledgerseal.example.gov/prod';
const SET: ValidatorSet = {
  format: 'ledgerseal-validators/v1',
  origin: ORIGIN,
  validators: NAMES.map((name, i) => ({ name, key: KEYS[i]!.verifierKey, weight: 1 })),
};
const clone = (): Record<string, any> => JSON.parse(JSON.stringify(SET));

describe('parseValidatorSet', () => {
  it('accepts a valid set and returns an equal copy', () => {
    const parsed = parseValidatorSet(clone());
    expect(parsed).toEqual(SET);
    const { origin: _origin, ...withoutOrigin } = clone();
    expect(parseValidatorSet(withoutOrigin)).toEqual(withoutOrigin);
    expect('origin' in parseValidatorSet(withoutOrigin)).toBe(false);
  });

  const cases: Array<[string, (s: Record<string, any>) => unknown, RegExp]> = [
    ['not an object', () => 'a string', /JSON object/],
    ['an array', () => [], /JSON object/],
    ['wrong format', (s) => ({ ...s, format: 'ledgerseal-validators/v2' }), /format/],
    ['missing format', ({ format: _f, ...s }) => s, /format/],
    ['unknown top-level field', (s) => ({ ...s, threshold: 2 }), /unknown field "threshold"/],
    ['unknown validator field', (s) => (s.validators[0].url = 'https://x', s), /unknown field "url" in validators\[0\]/],
    ['empty origin', (s) => ({ ...s, origin: '' }), /origin/],
    ['origin with a newline', (s) => ({ ...s, origin: 'a\nb' }), /origin/],
    ['validators not an array', (s) => ({ ...s, validators: {} }), /must be an array/],
    ['empty set', (s) => ({ ...s, validators: [] }), /no validators/],
    ['validator not an object', (s) => (s.validators[1] = 'v2', s), /validators\[1\] must be an object/],
    ['zero weight', (s) => (s.validators[0].weight = 0, s), /weight must be an integer from 1/],
    ['negative weight', (s) => (s.validators[0].weight = -1, s), /weight/],
    ['fractional weight', (s) => (s.validators[0].weight = 1.5, s), /weight/],
    ['string weight', (s) => (s.validators[0].weight = '1', s), /weight/],
    ['missing weight', (s) => (delete s.validators[0].weight, s), /weight/],
    ['weight above 2^32 - 1', (s) => (s.validators[0].weight = 2 ** 32, s), /weight/],
    ['missing key', (s) => (delete s.validators[0].key, s), /string name and key/],
    ['malformed key', (s) => (s.validators[0].key = 'v1.example+00000000+AA==', s), /validators\[0\]\.key/],
    ['signer key instead of verifier key', (s) => (s.validators[0].key = KEYS[0]!.signerKey, s), /validators\[0\]\.key/],
    ['key name differs from validator name', (s) => (s.validators[0].name = 'v0.example', s), /key name "v1.example" differs/],
    ['the same entry twice', (s) => (s.validators[1] = { ...s.validators[0] }, s), /same public key is listed twice/],
    [
      'duplicate name with another key',
      (s) => (s.validators[1] = { name: 'v1.example', key: generateNoteKey('v1.example', new Uint8Array(32).fill(9)).verifierKey, weight: 1 }, s),
      /duplicate validator name "v1.example"/,
    ],
    [
      'same public key under two names',
      (s) => {
        const other = generateNoteKey('v2.example', new Uint8Array(32).fill(1)); // v1's seed
        s.validators[1].key = other.verifierKey;
        return s;
      },
      /same public key is listed twice/,
    ],
    ['not sorted by name', (s) => (s.validators.reverse(), s), /sorted by name/],
  ];
  for (const [name, change, reason] of cases) {
    it(`refuses: ${name}`, () => expectFail(() => parseValidatorSet(change(clone())), 'MALFORMED_VALIDATOR_SET', reason));
  }

  it(`refuses more than ${MAX_VALIDATORS} validators`, () => {
    const many = Array.from({ length: MAX_VALIDATORS + 1 }, (_, i) => `n${String(i).padStart(3, '0')}`);
    const validators = many.map((name) => ({ name, key: 'x', weight: 1 }));
    expectFail(() => parseValidatorSet({ format: 'ledgerseal-validators/v1', validators }), 'MALFORMED_VALIDATOR_SET', /more than 100/);
  });
});

describe('validatorSetHash', () => {
  it('is SHA-256 of the RFC 8785 canonical JSON', () => {
    const expected = new Uint8Array(createHash('sha256').update(utf8(canonicalJson(SET))).digest());
    expect(validatorSetHash(SET)).toEqual(expected);
    // Member order in the JSON text does not matter, JCS sorts object keys.
    const shuffled = JSON.parse(`{"validators":${JSON.stringify(SET.validators.map((v) => ({ weight: v.weight, key: v.key, name: v.name })))},"origin":${JSON.stringify(ORIGIN)},"format":"ledgerseal-validators/v1"}`);
    expect(bytesToHex(validatorSetHash(shuffled))).toBe(bytesToHex(expected));
  });

  it('pins the canonical form', () => {
    const one: ValidatorSet = { format: 'ledgerseal-validators/v1', validators: [{ name: 'v1.example', key: KEYS[0]!.verifierKey, weight: 2 }] };
    expect(canonicalJson(one)).toBe(`{"format":"ledgerseal-validators/v1","validators":[{"key":"${KEYS[0]!.verifierKey}","name":"v1.example","weight":2}]}`);
  });

  it('changes with any weight, key or origin', () => {
    const base = bytesToHex(validatorSetHash(SET));
    const s1 = clone();
    s1.validators[2].weight = 2;
    const s2 = clone();
    s2.origin = 'other';
    const { origin: _o, ...s3 } = clone();
    for (const s of [s1, s2, s3]) expect(bytesToHex(validatorSetHash(s as ValidatorSet))).not.toBe(base);
  });

  it('refuses an invalid set', () => {
    expectFail(() => validatorSetHash({ ...SET, validators: [] }), 'MALFORMED_VALIDATOR_SET');
  });
});

describe('checkQuorum', () => {
  it('3 of 4 equal weights is a quorum, 2 of 4 is not', () => {
    expect(checkQuorum(SET, NAMES.slice(0, 3))).toEqual({ ok: true, weight: 3, total: 4, signers: NAMES.slice(0, 3) });
    expect(checkQuorum(SET, NAMES.slice(0, 2)).ok).toBe(false);
    expect(checkQuorum(SET, []).ok).toBe(false);
    expect(checkQuorum(SET, NAMES).ok).toBe(true);
  });

  it('exactly 2/3 of the weight is NOT a quorum', () => {
    const three: ValidatorSet = { ...SET, validators: SET.validators.slice(0, 3) };
    expect(checkQuorum(three, NAMES.slice(0, 2))).toMatchObject({ ok: false, weight: 2, total: 3 });
    expect(checkQuorum(three, NAMES.slice(0, 3)).ok).toBe(true);
    const six: ValidatorSet = { ...SET, validators: SET.validators.slice(0, 2).map((v) => ({ ...v, weight: 3 })) };
    expect(checkQuorum(six, [NAMES[0]!])).toMatchObject({ ok: false, weight: 3, total: 6 });
  });

  it('counts duplicates once and ignores names outside the set', () => {
    expect(checkQuorum(SET, [NAMES[0]!, NAMES[0]!, NAMES[0]!, 'mallory', 'eve'])).toMatchObject({ ok: false, weight: 1, signers: [NAMES[0]] });
    expect(checkQuorum(SET, [NAMES[3]!, NAMES[1]!, NAMES[3]!, NAMES[0]!])).toEqual({ ok: true, weight: 3, total: 4, signers: [NAMES[0], NAMES[1], NAMES[3]] });
  });

  it('weighs validators: one heavy validator alone can be a quorum, or be needed', () => {
    const weighted: ValidatorSet = { ...SET, validators: SET.validators.map((v, i) => ({ ...v, weight: [7, 1, 1, 1][i]! })) };
    expect(checkQuorum(weighted, [NAMES[0]!])).toMatchObject({ ok: true, weight: 7, total: 10 }); // 21 > 20
    expect(checkQuorum(weighted, NAMES.slice(1))).toMatchObject({ ok: false, weight: 3, total: 10 });
    const w2: ValidatorSet = { ...SET, validators: SET.validators.map((v, i) => ({ ...v, weight: [5, 2, 2, 1][i]! })) };
    expect(checkQuorum(w2, [NAMES[0]!, NAMES[3]!]).ok).toBe(false); // 6 of 10: 18 > 20 is false
    expect(checkQuorum(w2, [NAMES[0]!, NAMES[1]!]).ok).toBe(true); // 7 of 10
  });

  it('agrees with 3 * weight > 2 * total for random weights', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 2 ** 32 - 1 }), { minLength: 4, maxLength: 4 }), fc.subarray(NAMES), (weights, signed) => {
        const set: ValidatorSet = { ...SET, validators: SET.validators.map((v, i) => ({ ...v, weight: weights[i]! })) };
        const q = checkQuorum(set, signed);
        const w = NAMES.reduce((a, n, i) => a + (signed.includes(n) ? weights[i]! : 0), 0);
        const t = weights.reduce((a, b) => a + b, 0);
        expect(q).toMatchObject({ ok: 3 * w > 2 * t, weight: w, total: t });
      }),
    );
  });

  it('refuses a non-set', () => {
    expectFail(() => checkQuorum({} as ValidatorSet, []), 'INVALID_ARGUMENT');
    expectFail(() => checkQuorum(SET, 'v1.example' as unknown as string[]), 'INVALID_ARGUMENT');
  });
});

describe('verifyCheckpointQuorum', () => {
  const text = formatCheckpoint({ origin: ORIGIN, size: 10, root: new Uint8Array(32).fill(3) });
  const signed = (idx: number[], t = text): string => signNote(t, idx.map((i) => KEYS[i]!.signerKey));
  const outsider = generateNoteKey('mallory.example', new Uint8Array(32).fill(66));

  it('accepts a checkpoint signed by 3 of 4', () => {
    const r = verifyCheckpointQuorum(signed([0, 2, 3]), SET);
    expect(r).toMatchObject({ ok: true, reason: null, weight: 3, total: 4, signers: [NAMES[0], NAMES[2], NAMES[3]] });
    expect(r.checkpoint.size).toBe(10);
    expect(r.checkpoint.origin).toBe(ORIGIN);
  });

  it('refuses 2 of 4, with the reason', () => {
    expect(verifyCheckpointQuorum(signed([1, 2]), SET)).toMatchObject({ ok: false, reason: 'NO_QUORUM', weight: 2 });
  });

  it('does not count unknown signers or bad signatures', () => {
    const withOutsider = signNote(text, [KEYS[0]!.signerKey, KEYS[1]!.signerKey, outsider.signerKey]);
    expect(verifyCheckpointQuorum(withOutsider, SET)).toMatchObject({ ok: false, weight: 2 });
    const note = signed([0, 1, 2]);
    const lines = note.split('\n');
    lines[lines.length - 2] = lines[lines.length - 2]!.slice(0, -6) + 'AAAAA=';
    expect(verifyCheckpointQuorum(lines.join('\n'), SET)).toMatchObject({ ok: false, weight: 2 });
  });

  it('counts only the set keys even when a broader caching verifier is passed', () => {
    // A verifier that also trusts a different key under a validator's name must not add weight.
    const impostor = generateNoteKey(NAMES[3]!, new Uint8Array(32).fill(77));
    const wide = validatorSetVerifier({ ...SET, validators: [...SET.validators.slice(0, 3), { name: NAMES[3]!, key: impostor.verifierKey, weight: 1 }] });
    const note = signNote(text, [KEYS[0]!.signerKey, KEYS[1]!.signerKey, impostor.signerKey]);
    expect(verifyCheckpointQuorum(note, SET, wide)).toMatchObject({ ok: false, weight: 2 });
  });

  it('uses a shared verifier cache', () => {
    const v = validatorSetVerifier(SET);
    const note = signed([0, 1, 2, 3]);
    for (let i = 0; i < 5; i++) expect(verifyCheckpointQuorum(note, SET, v).ok).toBe(true);
    expect(v.cacheStats()).toMatchObject({ hits: 4, misses: 1 });
  });

  it('refuses a checkpoint of another origin', () => {
    const other = formatCheckpoint({ origin: 'other.example/log', size: 10, root: new Uint8Array(32) });
    expect(verifyCheckpointQuorum(signed([0, 1, 2, 3], other), SET)).toMatchObject({ ok: false, reason: 'ORIGIN_MISMATCH', weight: 4 });
    const { origin: _o, ...anyOrigin } = SET;
    expect(verifyCheckpointQuorum(signed([0, 1, 2, 3], other), anyOrigin as ValidatorSet).ok).toBe(true);
  });

  it('throws for a malformed note or a non-checkpoint text', () => {
    expectFail(() => verifyCheckpointQuorum(text, SET), 'MALFORMED_NOTE');
    expectFail(() => verifyCheckpointQuorum(signed([0, 1, 2], 'hello\n'), SET), 'MALFORMED_CHECKPOINT');
  });
});
