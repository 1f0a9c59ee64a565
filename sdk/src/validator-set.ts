/**
 * Validator sets, the checkpoint quorum and the attested time, docs/protocol.md 5.
 *
 * A validator set is a JSON document:
 *
 *     { "format": "ledgerseal-validators/v1",
 *       "origin": "ledgerseal.example.gov/prod",            (optional)
 *       "validators": [ { "name": "...", "key": "<C2SP cosigner verifier key>", "weight": 1 }, ... ] }
 *
 * Every key is a C2SP tlog-cosignature/v1 Ed25519 verifier key (type 0x04): validators
 * cosign checkpoints with a timestamp (cosignature.ts). Its hash, written in every
 * block header, is SHA-256 of its RFC 8785 canonical JSON. Validators are listed in
 * ascending name order (RFC 8785 string order) so that one set has one document and
 * one hash; the parser refuses any other order.
 *
 * A checkpoint is final when validators holding MORE than 2/3 of the total weight
 * have a verified signature line on it: 3 * signed > 2 * total (BFT, f < n/3).
 * Its attested time is the earliest cosignature time by which validators holding
 * MORE than 1/3 of the weight had cosigned it: at least one of them is honest, so
 * neither the coordinator nor a faulty minority can make it earlier than the truth.
 */
import { sha256 } from '#sha256';
import { type Checkpoint, openCheckpoint } from './checkpoint.ts';
import { bytesToHex, utf8 } from './encoding.ts';
import { fail } from './errors.ts';
import { canonicalJson } from './jcs.ts';
import { _isNoteSafe, NOTE_MAX_SIGNATURES, type NoteCosignature, type NoteVerifier, noteVerifier, parseVerifierKey } from './note.ts';

export const VALIDATOR_SET_FORMAT = 'ledgerseal-validators/v1';
/** One note carries at most NOTE_MAX_SIGNATURES signatures, so a set has at most that many validators. */
export const MAX_VALIDATORS = NOTE_MAX_SIGNATURES;
/** Weights are integers 1..2^32-1, so 3 * total weight stays an exact JavaScript integer. */
export const MAX_VALIDATOR_WEIGHT = 0xffffffff;

export interface ValidatorEntry {
  /** The validator's name; equals the key name of `key`. */
  name: string;
  /** C2SP tlog-cosignature/v1 Ed25519 verifier key string `<name>+<hex8>+<base64(0x04 || key)>`. */
  key: string;
  /** Voting weight, a positive integer. */
  weight: number;
}

export interface ValidatorSet {
  format: typeof VALIDATOR_SET_FORMAT;
  /** If present, only checkpoints with this origin line count (binds the set to one deployment). */
  origin?: string;
  /** Sorted by name, names and keys unique, 1..MAX_VALIDATORS entries. */
  validators: ValidatorEntry[];
}

export interface QuorumResult {
  ok: boolean;
  /** Total weight of the distinct known validators that signed. */
  weight: number;
  total: number;
  /** Names of the validators that signed, in set order. */
  signers: string[];
}

function bad(reason: string): never {
  fail('MALFORMED_VALIDATOR_SET', `malformed validator set: ${reason}`);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function onlyFields(o: Record<string, unknown>, allowed: readonly string[], where: string): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) bad(`unknown field "${k}" in ${where}`);
}

/** Validate a parsed JSON value as a validator set; returns a fresh copy. */
export function parseValidatorSet(json: unknown): ValidatorSet {
  if (!isPlainObject(json)) bad('expected a JSON object');
  onlyFields(json, ['format', 'origin', 'validators'], 'the set');
  if (json.format !== VALIDATOR_SET_FORMAT) bad(`format must be "${VALIDATOR_SET_FORMAT}"`);
  const origin = json.origin;
  if (origin !== undefined && (typeof origin !== 'string' || origin === '' || origin.includes('\n') || !_isNoteSafe(origin))) {
    bad('origin must be a non-empty checkpoint origin line');
  }
  const list = json.validators;
  if (!Array.isArray(list)) bad('validators must be an array');
  if (list.length === 0) bad('the set has no validators');
  if (list.length > MAX_VALIDATORS) bad(`more than ${MAX_VALIDATORS} validators`);
  const publicKeys = new Set<string>();
  // Array.from, not map: a sparse array's holes are read as undefined and refused.
  const validators = Array.from(list, (v: unknown, i): ValidatorEntry => {
    const where = `validators[${i}]`;
    if (!isPlainObject(v)) bad(`${where} must be an object`);
    onlyFields(v, ['name', 'key', 'weight'], where);
    const { name, key, weight } = v;
    if (typeof name !== 'string' || typeof key !== 'string') bad(`${where} needs string name and key`);
    if (!Number.isInteger(weight) || (weight as number) < 1 || (weight as number) > MAX_VALIDATOR_WEIGHT) {
      bad(`${where}.weight must be an integer from 1 to ${MAX_VALIDATOR_WEIGHT}`);
    }
    let parsed: ReturnType<typeof parseVerifierKey>;
    try {
      parsed = parseVerifierKey(key);
    } catch (e) {
      fail('MALFORMED_VALIDATOR_SET', `malformed validator set: ${where}.key: ${(e as Error).message}`, e);
    }
    if (parsed.type !== 'cosignature/v1') {
      bad(`${where}.key: validator keys must be C2SP tlog-cosignature/v1 (type 0x04) verifier keys, not plain Ed25519 note keys (type 0x01)`);
    }
    if (parsed.name !== name) bad(`${where}: key name "${parsed.name}" differs from validator name "${name}"`);
    const pk = bytesToHex(parsed.publicKey);
    if (publicKeys.has(pk)) bad(`${where}: the same public key is listed twice`);
    publicKeys.add(pk);
    if (i > 0) {
      const prev = (list[i - 1] as ValidatorEntry).name;
      if (prev === name) bad(`${where}: duplicate validator name "${name}"`);
      if (prev > name) bad(`${where}: validators must be sorted by name ("${prev}" before "${name}")`);
    }
    return { name, key, weight: weight as number };
  });
  const set: ValidatorSet = { format: VALIDATOR_SET_FORMAT, validators };
  if (origin !== undefined) set.origin = origin as string;
  return set;
}

/** SHA-256 of the RFC 8785 canonical JSON of the (validated) set: the header's `validators`. */
export function validatorSetHash(set: ValidatorSet): Uint8Array {
  return sha256(utf8(canonicalJson(parseValidatorSet(set))));
}

/** The shape checks of checkQuorum and attestedTime (parseValidatorSet checks everything). */
function checkSet(set: ValidatorSet): void {
  if (!isPlainObject(set) || !Array.isArray(set.validators)) fail('INVALID_ARGUMENT', 'expected a validator set');
  for (const v of set.validators) {
    if (!Number.isInteger(v.weight) || v.weight < 1) fail('INVALID_ARGUMENT', `validator "${v.name}" has no positive weight`);
  }
}

/** Weight of the distinct set members among `verifiedNames`; ok iff 3 * weight > 2 * total. */
export function checkQuorum(set: ValidatorSet, verifiedNames: string[]): QuorumResult {
  checkSet(set);
  if (!Array.isArray(verifiedNames)) fail('INVALID_ARGUMENT', 'verifiedNames must be an array');
  const signed = new Set(verifiedNames);
  let weight = 0;
  let total = 0;
  const signers: string[] = [];
  for (const v of set.validators) {
    total += v.weight;
    if (signed.has(v.name)) {
      weight += v.weight;
      signers.push(v.name);
    }
  }
  return { ok: 3 * weight > 2 * total, weight, total, signers };
}

/** The attested time of a set of cosignatures and the validators whose cosignatures make it. */
interface Attestation {
  time: number | null;
  /** Names (set order) of the members whose cosignature is at or before `time`; empty if null. */
  by: string[];
}

function attestation(set: ValidatorSet, cosignatures: readonly { key: string; time: number }[]): Attestation {
  checkSet(set);
  if (!Array.isArray(cosignatures)) fail('INVALID_ARGUMENT', 'cosignatures must be an array of { key, time }');
  // One time per key string: the earliest (a key counts once, however many lines it has).
  const earliest = new Map<string, number>();
  for (const c of cosignatures as readonly unknown[]) {
    if (!isPlainObject(c) || typeof c.key !== 'string' || typeof c.time !== 'number' || !Number.isSafeInteger(c.time) || c.time < 0) {
      fail('INVALID_ARGUMENT', 'each cosignature must be { key: string, time: non-negative integer }');
    }
    const t = earliest.get(c.key);
    if (t === undefined || c.time < t) earliest.set(c.key, c.time);
  }
  // Members are matched by their exact key string: a line by another key under a member's name is not theirs.
  // (Plain loops: this runs for every verified proof.)
  const members: { weight: number; time: number }[] = [];
  let total = 0;
  for (const v of set.validators) {
    total += v.weight;
    const time = earliest.get(v.key);
    if (time !== undefined) members.push({ weight: v.weight, time });
  }
  members.sort(byTime);
  let weight = 0;
  for (const m of members) {
    weight += m.weight;
    if (3 * weight > total) {
      const by: string[] = [];
      for (const v of set.validators) {
        const time = earliest.get(v.key);
        if (time !== undefined && time <= m.time) by.push(v.name);
      }
      return { time: m.time, by };
    }
  }
  return { time: null, by: [] };
}

function byTime(a: { time: number }, b: { time: number }): number {
  return a.time - b.time;
}

/**
 * The attested time of a checkpoint: with the cosignatures of distinct set members
 * (matched by the set's exact key strings; a key's earliest time if it appears more
 * than once) in ascending time order, the first time at which their weight is MORE
 * than 1/3 of the total (3 * weight > total). At least one honest validator had seen
 * the checkpoint by then, so neither a coordinator choosing which lines to publish
 * nor a faulty minority (less than 1/3, the quorum's assumption) can move it earlier
 * than the truth. null if the members' cosignatures never carry more than 1/3.
 * Pass verified cosignatures only (NoteVerification.cosignatures): times are read, not checked.
 */
export function attestedTime(set: ValidatorSet, cosignatures: readonly { key: string; time: number }[]): number | null {
  return attestation(set, cosignatures).time;
}

export interface CheckpointQuorumResult extends QuorumResult {
  checkpoint: Checkpoint;
  /** Why ok is false: the origin differs from the set's, or the signers are not a quorum. */
  reason: null | 'ORIGIN_MISMATCH' | 'NO_QUORUM';
  /** The verified cosignatures by the set's own keys, in set order (named as in the set). */
  cosignatures: NoteCosignature[];
  /** attestedTime(set, cosignatures): POSIX seconds, or null if they never carry more than 1/3. */
  attestedTime: number | null;
  /** Names (set order) of the validators whose cosignatures at or before attestedTime carry more than 1/3. */
  timeAttestedBy: string[];
}

/** A caching note verifier for exactly the keys of a set (pass it to verifyCheckpointQuorum). */
export function validatorSetVerifier(set: ValidatorSet, options?: { cacheSize?: number }): NoteVerifier {
  return noteVerifier(set.validators.map((v) => v.key), options);
}

/**
 * Verify a signed checkpoint note against a validator set. Only signatures by the
 * set's own key strings count, even if `verifier` trusts other keys too.
 * Throws for a malformed note or checkpoint text; otherwise reports ok or a reason.
 */
export function verifyCheckpointQuorum(note: string, set: ValidatorSet, verifier?: NoteVerifier): CheckpointQuorumResult {
  const opened = openCheckpoint(note, verifier ?? validatorSetVerifier(set, { cacheSize: 0 }));
  const { checkpoint } = opened;
  // Only the set's own key strings count, in set order (plain loops: this runs for every verified proof).
  const verifiedKeys = new Set(opened.verifiedKeys);
  const timeByKey = new Map<string, number>();
  for (const c of opened.cosignatures) timeByKey.set(c.key, c.time);
  const names: string[] = [];
  const cosignatures: NoteCosignature[] = [];
  for (const v of set.validators) {
    if (verifiedKeys.has(v.key)) names.push(v.name);
    const time = timeByKey.get(v.key);
    if (time !== undefined) cosignatures.push({ name: v.name, key: v.key, time });
  }
  const q = checkQuorum(set, names);
  const { time, by } = attestation(set, cosignatures);
  const originOk = set.origin === undefined || checkpoint.origin === set.origin;
  const reason = !originOk ? 'ORIGIN_MISMATCH' : q.ok ? null : 'NO_QUORUM';
  // Fields spelled out: `{ ...q, ok }` (spread, then an override) is many times slower in V8.
  return {
    ok: reason === null,
    weight: q.weight,
    total: q.total,
    signers: q.signers,
    checkpoint,
    reason,
    cosignatures,
    attestedTime: time,
    timeAttestedBy: by,
  };
}
