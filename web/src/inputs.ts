/**
 * From what the user gave (texts, a file's bytes) to one verifyProof call of the
 * sdk core, entirely in the browser. Record, blinding and trust follow
 * docs/protocol.md 2 (digest, mask, anchor) and 6.2 (the checks):
 *
 * - the record: JSON text (hashed in RFC 8785 canonical form), a file's bytes
 *   (hashed as they are), or a `ledgerseal-row-record/v1` file of the CLI, which
 *   carries the row and its mask;
 * - the blinding: the mask, a `ledgerseal-receipt/v1` receipt (its mask; its
 *   digest too when no record is given), or the agency's blinding key with the
 *   record key and version (blindingMask);
 * - the trust: a validator set, or a publication code alone.
 */
import {
  blindingMask,
  decodePublicationCode,
  hexToBytes,
  parseJsonStrict,
  parseValidatorSet,
  verifyProof,
  type ProofResult,
  type ValidatorSet,
} from '@ledgerseal/sdk';

export type RecordInput = { kind: 'none' } | { kind: 'json'; text: string } | { kind: 'bytes'; bytes: Uint8Array; name: string };

export type BlindingInput =
  | { kind: 'none' }
  | { kind: 'mask'; hex: string }
  | { kind: 'receipt'; text: string }
  | { kind: 'key'; keyHex: string; recordKey: string; version: string };

/** `code`: a code the user typed, or the codes of the publications pinned in this browser (the one of the proof's size is used). */
export type TrustInput = { kind: 'validators'; set: ValidatorSet } | { kind: 'publication'; code: string | string[] };

export interface VerifyInput {
  proofText: string;
  record: RecordInput;
  blinding: BlindingInput;
  trust: TrustInput;
}

export interface Verification {
  result: ProofResult;
  trust: 'validators' | 'publication';
  recordGiven: boolean;
}

/** A problem with what was given, before any check could run (a missing mask, a bad code): shown as is. */
export class InputError extends Error {}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new InputError(`The ${what} is not valid JSON (${e instanceof Error ? e.message : String(e)}).`);
  }
}

/** The record's JSON: I-JSON, so a record with a member name twice is refused, not read as its last value (parseJsonStrict). */
function parseRecordJson(text: string): unknown {
  try {
    return parseJsonStrict(text);
  } catch (e) {
    const m = e instanceof Error ? e.message : String(e);
    throw new InputError(
      m.startsWith('duplicate member name')
        ? `The record is ambiguous: it has a ${m.replace(' (I-JSON, RFC 7493 2.3)', '')}. Programs disagree on which value such a record holds, so it cannot be checked.`
        : `The record is not valid JSON (${m.replace(/^not JSON: /, '')}).`,
    );
  }
}

function hash32(hex: string, what: string): Uint8Array {
  try {
    return hexToBytes(hex.trim().toLowerCase(), 32);
  } catch {
    throw new InputError(`The ${what} must be 64 hexadecimal characters.`);
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The proof document: the JSON text itself, or the `proof` of an anchor answer. */
export function proofOf(text: string): unknown {
  if (text.trim() === '') throw new InputError('Give the proof document: paste it or choose its file.');
  const doc = parseJson(text, 'proof document');
  return isObject(doc) && doc.format === undefined && isObject(doc.proof) ? doc.proof : doc;
}

/** The validator set of a JSON text (throws InputError with the sdk's reason). */
export function validatorSetOf(text: string): ValidatorSet {
  try {
    return parseValidatorSet(parseJson(text, 'validator set'));
  } catch (e) {
    throw e instanceof InputError ? e : new InputError(`The validator set is not valid: ${e instanceof Error ? e.message : String(e)}.`);
  }
}

function maskOf(blinding: BlindingInput): { mask?: Uint8Array; digest?: Uint8Array } {
  switch (blinding.kind) {
    case 'none':
      return {};
    case 'mask':
      return blinding.hex.trim() === '' ? {} : { mask: hash32(blinding.hex, 'mask') };
    case 'receipt': {
      const r = parseJson(blinding.text, 'receipt');
      if (!isObject(r) || r.format !== 'ledgerseal-receipt/v1' || typeof r.mask !== 'string') {
        throw new InputError('The receipt is not a ledgerseal-receipt/v1 document with a mask.');
      }
      return { mask: hash32(r.mask, "receipt's mask"), ...(typeof r.digest === 'string' ? { digest: hash32(r.digest, "receipt's digest") } : {}) };
    }
    case 'key': {
      const key = blinding.keyHex.trim().toLowerCase();
      if (!/^([0-9a-f]{2}){32,}$/.test(key)) throw new InputError('The blinding key must be at least 64 hexadecimal characters.');
      if (!/^\d+$/.test(blinding.version.trim())) throw new InputError('The record version must be a whole number (0 for the first).');
      try {
        return { mask: blindingMask(hexToBytes(key), blinding.recordKey, BigInt(blinding.version.trim())) };
      } catch (e) {
        throw new InputError(`Cannot derive the mask: ${e instanceof Error ? e.message : String(e)}.`);
      }
    }
  }
}

/** Run the verification the inputs describe. Throws InputError when they do not describe one. */
export function verifyInputs(input: VerifyInput): Verification {
  const proof = proofOf(input.proofText);
  let { mask, digest } = maskOf(input.blinding);
  let record: unknown;
  let recordGiven = false;
  if (input.record.kind === 'json' && input.record.text.trim() !== '') {
    const value = parseRecordJson(input.record.text);
    if (isObject(value) && value.format === 'ledgerseal-row-record/v1') {
      // The CLI's record file: the row (null once deleted) and its mask.
      record = value.deleted === true ? null : value.row;
      if (mask === undefined && typeof value.mask === 'string') mask = hash32(value.mask, "record file's mask");
    } else {
      record = value;
    }
    recordGiven = true;
  } else if (input.record.kind === 'bytes') {
    record = input.record.bytes;
    recordGiven = true;
  }
  if (recordGiven) digest = undefined; // the record is hashed here; a receipt's digest is only for when it is absent
  if ((recordGiven || digest !== undefined) && mask === undefined) {
    throw new InputError('The record was blinded: give its mask, its receipt or the blinding key to tie it to the proof.');
  }
  const options = recordGiven ? { record, mask } : digest !== undefined ? { digest, mask } : {};
  if (input.trust.kind === 'publication') {
    for (const code of typeof input.trust.code === 'string' ? [input.trust.code] : input.trust.code) {
      try {
        decodePublicationCode(code);
      } catch (e) {
        throw new InputError(`The publication code is not valid: ${e instanceof Error ? e.message : String(e)}.`);
      }
    }
    return { result: verifyProof(proof, { publication: input.trust.code }, options), trust: 'publication', recordGiven: recordGiven || digest !== undefined };
  }
  return { result: verifyProof(proof, { validators: input.trust.set }, options), trust: 'validators', recordGiven: recordGiven || digest !== undefined };
}
