import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { formatCheckpoint } from '../../sdk/src/checkpoint.ts';
import { bytesToHex, utf8 } from '../../sdk/src/encoding.ts';
import { canonicalJson } from '../../sdk/src/jcs.ts';
import { cosignCheckpoint, generateCosignerKey } from '../../sdk/src/cosignature.ts';
import { generateNoteKey, signNote } from '../../sdk/src/note.ts';
import {
  attestedTime,
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
const KEYS = NAMES.map((n, i) => generateCosignerKey(n, new Uint8Array(32).fill(i + 1)));
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
      (s) => (s.validators[1] = { name: 'v1.example', key: generateCosignerKey('v1.example', new Uint8Array(32).fill(9)).verifierKey, weight: 1 }, s),
      /duplicate validator name "v1.example"/,
    ],
    [
      'same public key under two names',
      (s) => {
        const other = generateCosignerKey('v2.example', new Uint8Array(32).fill(1)); // v1's seed
        s.validators[1].key = other.verifierKey;
        return s;
      },
      /same public key is listed twice/,
    ],
    ['not sorted by name', (s) => (s.validators.reverse(), s), /sorted by name/],
    [
      'a plain Ed25519 note key (type 0x01)',
      (s) => (s.validators[0].key = generateNoteKey('v1.example', new Uint8Array(32).fill(1)).verifierKey, s),
      /validators\[0\]\.key: validator keys must be C2SP tlog-cosignature\/v1 \(type 0x04\) verifier keys/,
    ],
    ['a sparse validators array', (s) => ({ ...s, validators: [s.validators[0], , s.validators[2]] }), /validators\[1\] must be an object/],
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

describe('attestedTime', () => {
  const T = 1_795_000_000;
  const cos = (times: (number | null)[], keys = KEYS.map((k) => k.verifierKey)) =>
    times.flatMap((time, i) => (time === null ? [] : [{ name: NAMES[i]!, key: keys[i]!, time }]));
  const weighted = (w: number[]): ValidatorSet => ({ ...SET, validators: SET.validators.map((v, i) => ({ ...v, weight: w[i]! })) });

  it('equal weights, 4 validators: the 2nd earliest time (2 of 4 is more than 1/3)', () => {
    expect(attestedTime(SET, cos([T + 30, T + 10, T + 20, T + 40]))).toBe(T + 20);
    expect(attestedTime(SET, cos([T + 30, T + 10, null, null]))).toBe(T + 30);
    expect(attestedTime(SET, cos([T, T, T + 5, T + 9]))).toBe(T);
  });

  it('a faulty validator a year early does not move T earlier than the honest ones', () => {
    const yearEarly = T - 365 * 86400;
    expect(attestedTime(SET, cos([yearEarly, T + 3, T + 1, T + 2]))).toBe(T + 1);
    expect(attestedTime(SET, cos([0, T + 3, null, null]))).toBe(T + 3);
  });

  it('with less than 1/3 of the weight faulty, T is never earlier than every honest cosignature', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 1000 }), { minLength: 4, maxLength: 4 }),
        fc.array(fc.integer({ min: 0, max: 2 ** 40 }), { minLength: 4, maxLength: 4 }),
        fc.subarray([0, 1, 2, 3]),
        (w, times, faulty) => {
          const total = w.reduce((a, b) => a + b, 0);
          const faultyWeight = faulty.reduce((a, i) => a + w[i]!, 0);
          fc.pre(3 * faultyWeight < total);
          const t = attestedTime(weighted(w), cos(times));
          const honest = times.filter((_, i) => !faulty.includes(i));
          expect(t).not.toBeNull();
          expect(t!).toBeGreaterThanOrEqual(Math.min(...honest));
        },
      ),
    );
  });

  it('weights [3, 1, 1, 1]: the heavy validator alone is half, or three light ones are needed', () => {
    const set = weighted([3, 1, 1, 1]);
    expect(attestedTime(set, cos([T, T + 5, T + 6, T + 7]))).toBe(T);
    expect(attestedTime(set, cos([T + 9, T + 1, T + 2, T + 3]))).toBe(T + 3);
    expect(attestedTime(set, cos([T + 9, T + 1, T + 2, null]))).toBe(T + 9);
    expect(attestedTime(set, cos([null, T + 1, T + 2, null]))).toBeNull(); // 2 of 6 is exactly 1/3
  });

  it('null when the cosignatures carry no more than 1/3 of the weight', () => {
    expect(attestedTime(SET, cos([null, T, null, null]))).toBeNull();
    expect(attestedTime(SET, [])).toBeNull();
    const three: ValidatorSet = { ...SET, validators: SET.validators.slice(0, 3) };
    expect(attestedTime(three, cos([T, null, null]))).toBeNull(); // exactly 1/3
    expect(attestedTime(three, cos([T, T + 1, null]))).toBe(T + 1);
  });

  it('duplicate lines of one key count once (its earliest time)', () => {
    const k = KEYS[0]!.verifierKey;
    expect(attestedTime(SET, [{ key: k, time: T }, { key: k, time: T + 1 }, { key: k, time: T + 2 }])).toBeNull();
    expect(attestedTime(SET, [{ key: k, time: T + 8 }, { key: k, time: T }, ...cos([null, T + 5, null, null])])).toBe(T + 5);
  });

  it('a cosignature by a key outside the set (same name, other key) is not counted', () => {
    const impostor = generateCosignerKey(NAMES[1]!, new Uint8Array(32).fill(77)).verifierKey;
    expect(attestedTime(SET, [...cos([T, null, null, null]), { key: impostor, time: T }])).toBeNull();
    expect(attestedTime(SET, [...cos([T, null, null, null]), { name: 'mallory', key: 'mallory+00000000+AA==', time: T }] as never)).toBeNull();
  });

  it('refuses what is not a set or a cosignature list', () => {
    expectFail(() => attestedTime({} as ValidatorSet, []), 'INVALID_ARGUMENT');
    expectFail(() => attestedTime(SET, 'x' as never), 'INVALID_ARGUMENT');
    for (const time of [-1, 1.5, '1', 2 ** 53]) {
      expectFail(() => attestedTime(SET, [{ key: KEYS[0]!.verifierKey, time: time as number }]), 'INVALID_ARGUMENT');
    }
  });
});

describe('verifyCheckpointQuorum', () => {
  const T = 1_795_000_000;
  const text = formatCheckpoint({ origin: ORIGIN, size: 10, root: new Uint8Array(32).fill(3) });
  /** The checkpoint cosigned by validators `idx`, validator i at time T + 10 * i. */
  const signed = (idx: number[], t = text): string => t + '\n' + idx.map((i) => cosignCheckpoint(t, KEYS[i]!.signerKey, T + 10 * i)).join('');
  const outsider = generateCosignerKey('mallory.example', new Uint8Array(32).fill(66));

  it('accepts a checkpoint cosigned by 3 of 4, with the cosignatures and the attested time', () => {
    const r = verifyCheckpointQuorum(signed([3, 2, 0]), SET);
    expect(r).toMatchObject({ ok: true, reason: null, weight: 3, total: 4, signers: [NAMES[0], NAMES[2], NAMES[3]] });
    expect(r.checkpoint.size).toBe(10);
    expect(r.checkpoint.origin).toBe(ORIGIN);
    // In set order, not line order.
    expect(r.cosignatures).toEqual([0, 2, 3].map((i) => ({ name: NAMES[i], key: KEYS[i]!.verifierKey, time: T + 10 * i })));
    expect(r.attestedTime).toBe(T + 20);
    expect(r.timeAttestedBy).toEqual([NAMES[0], NAMES[2]]);
  });

  it('refuses 2 of 4, with the reason, and still reports the attested time', () => {
    const r = verifyCheckpointQuorum(signed([1, 2]), SET);
    expect(r).toMatchObject({ ok: false, reason: 'NO_QUORUM', weight: 2, attestedTime: T + 20, timeAttestedBy: [NAMES[1], NAMES[2]] });
    expect(verifyCheckpointQuorum(signed([1]), SET)).toMatchObject({ ok: false, attestedTime: null, timeAttestedBy: [] });
  });

  it('does not count unknown signers or bad signatures', () => {
    const withOutsider = signed([0, 1]) + cosignCheckpoint(text, outsider.signerKey, T);
    expect(verifyCheckpointQuorum(withOutsider, SET)).toMatchObject({ ok: false, weight: 2 });
    const note = signed([0, 1, 2]);
    const lines = note.split('\n');
    lines[lines.length - 2] = lines[lines.length - 2]!.slice(0, -6) + 'AAAAA=';
    const r = verifyCheckpointQuorum(lines.join('\n'), SET);
    expect(r).toMatchObject({ ok: false, weight: 2 });
    expect(r.cosignatures.map((c) => c.name)).toEqual([NAMES[0], NAMES[1]]);
  });

  it('does not count plain Ed25519 signatures by a validator\'s name', () => {
    const plain = NAMES.map((n, i) => generateNoteKey(n, new Uint8Array(32).fill(i + 1)));
    const note = signNote(text, plain.map((k) => k.signerKey));
    expect(verifyCheckpointQuorum(note, SET)).toMatchObject({ ok: false, weight: 0, cosignatures: [], attestedTime: null });
  });

  it('counts only the set keys even when a broader caching verifier is passed', () => {
    // A verifier that also trusts a different key under a validator's name must not add weight.
    const impostor = generateCosignerKey(NAMES[3]!, new Uint8Array(32).fill(77));
    const wide = validatorSetVerifier({ ...SET, validators: [...SET.validators.slice(0, 3), { name: NAMES[3]!, key: impostor.verifierKey, weight: 1 }] });
    const note = signed([0, 1]) + cosignCheckpoint(text, impostor.signerKey, T);
    const r = verifyCheckpointQuorum(note, SET, wide);
    expect(r).toMatchObject({ ok: false, weight: 2 });
    expect(r.cosignatures.map((c) => c.name)).toEqual([NAMES[0], NAMES[1]]);
  });

  it('uses a shared verifier cache', () => {
    const v = validatorSetVerifier(SET);
    const note = signed([0, 1, 2, 3]);
    for (let i = 0; i < 5; i++) expect(verifyCheckpointQuorum(note, SET, v)).toMatchObject({ ok: true, attestedTime: T + 10 });
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
    const hello = signNote('hello\n', [generateNoteKey('x.example', new Uint8Array(32).fill(5)).signerKey]);
    expectFail(() => verifyCheckpointQuorum(hello, SET), 'MALFORMED_CHECKPOINT');
  });
});
