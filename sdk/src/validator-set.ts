/**
 * Validator sets and the checkpoint quorum, PROTOCOL.md section 5.
 *
 * A validator set is a JSON document:
 *
 *     { "format": "ledgerseal-validators/v1",
 *       "origin": "ledgerseal.example.gov/prod",            (optional)
 *       "validators": [ { "name": "...", "key": "<C2SP verifier key>", "weight": 1 }, ... ] }
 *
 * Its hash, written in every block header, is SHA-256 of its RFC 8785 canonical
 * JSON. Validators are listed in ascending name order (RFC 8785 string order) so
 * that one set has one document and one hash; the parser refuses any other order.
 * A checkpoint is final when validators holding MORE than 2/3 of the total weight
 * have a verified signature line on it: 3 * signed > 2 * total (BFT, f < n/3).
 */
import { sha256 } from '#sha256';
import { type Checkpoint, openCheckpoint } from './checkpoint.ts';
import { bytesToHex, utf8 } from './encoding.ts';
import { fail } from './errors.ts';
import { canonicalJson } from './jcs.ts';
import { _isNoteSafe, NOTE_MAX_SIGNATURES, type NoteVerifier, noteVerifier, parseVerifierKey } from './note.ts';

export const VALIDATOR_SET_FORMAT = 'ledgerseal-validators/v1';
/** One note carries at most NOTE_MAX_SIGNATURES signatures, so a set has at most that many validators. */
export const MAX_VALIDATORS = NOTE_MAX_SIGNATURES;
/** Weights are integers 1..2^32-1, so 3 * total weight stays an exact JavaScript integer. */
export const MAX_VALIDATOR_WEIGHT = 0xffffffff;

export interface Validator {
  /** The validator's name; equals the key name of `key`. */
  name: string;
  /** Ed25519 C2SP verifier key string `<name>+<hex8>+<base64>`. */
  key: string;
  /** Voting weight, a positive integer. */
  weight: number;
}

export interface ValidatorSet {
  format: typeof VALIDATOR_SET_FORMAT;
  /** If present, only checkpoints with this origin line count (binds the set to one deployment). */
  origin?: string;
  /** Sorted by name, names and keys unique, 1..MAX_VALIDATORS entries. */
  validators: Validator[];
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
  const validators = list.map((v: unknown, i): Validator => {
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
    if (parsed.name !== name) bad(`${where}: key name "${parsed.name}" differs from validator name "${name}"`);
    const pk = bytesToHex(parsed.publicKey);
    if (publicKeys.has(pk)) bad(`${where}: the same public key is listed twice`);
    publicKeys.add(pk);
    if (i > 0) {
      const prev = (list[i - 1] as Validator).name;
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

/** Weight of the distinct set members among `verifiedNames`; ok iff 3 * weight > 2 * total. */
export function checkQuorum(set: ValidatorSet, verifiedNames: string[]): QuorumResult {
  if (!isPlainObject(set) || !Array.isArray(set.validators)) fail('INVALID_ARGUMENT', 'expected a validator set');
  if (!Array.isArray(verifiedNames)) fail('INVALID_ARGUMENT', 'verifiedNames must be an array');
  const signed = new Set(verifiedNames);
  let weight = 0;
  let total = 0;
  const signers: string[] = [];
  for (const v of set.validators) {
    if (!Number.isInteger(v.weight) || v.weight < 1) fail('INVALID_ARGUMENT', `validator "${v.name}" has no positive weight`);
    total += v.weight;
    if (signed.has(v.name)) {
      weight += v.weight;
      signers.push(v.name);
    }
  }
  return { ok: 3 * weight > 2 * total, weight, total, signers };
}

export interface CheckpointQuorumResult extends QuorumResult {
  checkpoint: Checkpoint;
  /** Why ok is false: the origin differs from the set's, or the signers are not a quorum. */
  reason: null | 'ORIGIN_MISMATCH' | 'NO_QUORUM';
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
  const { checkpoint, verifiedKeys } = openCheckpoint(note, verifier ?? validatorSetVerifier(set, { cacheSize: 0 }));
  const byKey = new Map(set.validators.map((v) => [v.key, v.name] as const));
  const names = verifiedKeys.flatMap((k) => (byKey.has(k) ? [byKey.get(k)!] : []));
  const q = checkQuorum(set, names);
  const originOk = set.origin === undefined || checkpoint.origin === set.origin;
  const reason = !originOk ? 'ORIGIN_MISMATCH' : q.ok ? null : 'NO_QUORUM';
  return { ...q, ok: reason === null, checkpoint, reason };
}
