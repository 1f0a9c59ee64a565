/**
 * The Ledgerseal proof (receipt) document, docs/protocol.md 6, and its
 * offline verification.
 *
 * The verifier reads like a checklist (sigstore-js style): one function per
 * check, run in the order the protocol lists them, the first failure reported
 * by its check name. Trust material (a validator set or publications) is passed
 * in by the caller and never fetched.
 *
 * Time: with validator trust the result's `time` is attested by the validators'
 * C2SP tlog-cosignature/v1 timestamps (attestedTime, validator-set.ts); the block
 * header's time is only the ledger's claim (`claimedTime`). Publication trust
 * attests inclusion, not time (`time: null`).
 */
import { parseBlockHeader, timeToRfc3339Millis, type BlockHeader } from './block.ts';
import { parseCheckpoint, type Checkpoint } from './checkpoint.ts';
import { bytesToHex, equalBytes, hexToBytes, utf8 } from './encoding.ts';
import { fail, LedgersealError } from './errors.ts';
import { canonicalJson } from './jcs.ts';
import { leafHash, MerkleTree, rootFromInclusionProof } from './merkle.ts';
import { parseNote, type NoteVerifier } from './note.ts';
import { decodePublicationCode } from './publication.ts';
import { anchorOf, hashRecord } from './record.ts';
import { parseValidatorSet, validatorSetVerifier, verifyCheckpointQuorum, type ValidatorSet } from './validator-set.ts';

export const PROOF_FORMAT = 'ledgerseal-proof/v1';
export const PROOF_MEDIA_TYPE = 'application/vnd.ledgerseal.proof+json';
/** Upper bounds that keep a hostile document from costing unbounded work. */
const MAX_CHAIN_STEPS = 16;
const MAX_PATH = 64;

export interface ChainStep {
  index: number;
  size: number;
  path: string[];
}

export interface ProofDocument {
  format: typeof PROOF_FORMAT;
  anchor: string;
  chain: ChainStep[];
  block: string;
  calendar: { size: number; path: string[] };
  checkpoint: string;
}

/** The parts of a proof as bytes, as the service assembles them. */
export interface ProofParts {
  anchor: Uint8Array;
  chain: { index: number; size: number; path: Uint8Array[] }[];
  block: string;
  calendar: { size: number; path: Uint8Array[] };
  checkpoint: string;
}

export function buildProof(parts: ProofParts): ProofDocument {
  const doc: ProofDocument = {
    format: PROOF_FORMAT,
    anchor: bytesToHex(parts.anchor),
    chain: parts.chain.map((s) => ({ index: s.index, size: s.size, path: s.path.map(bytesToHex) })),
    block: parts.block,
    calendar: { size: parts.calendar.size, path: parts.calendar.path.map(bytesToHex) },
    checkpoint: parts.checkpoint,
  };
  return parseProof(doc); // the same validation a verifier applies
}

const CHECK_NAMES = [
  'format',
  'anchor',
  'chain',
  'block',
  'round-root',
  'checkpoint',
  'calendar-inclusion',
  'quorum',
  'publication',
] as const;
export type ProofCheck = (typeof CHECK_NAMES)[number];
export const PROOF_CHECKS: readonly ProofCheck[] = CHECK_NAMES;

/** A trusted publication: the calendar root of a given size, or its publication code. */
export type TrustedPublication = { size: number; root: Uint8Array } | string;

export type ProofTrust =
  | { validators: ValidatorSet; origin?: string }
  | { publication: TrustedPublication | TrustedPublication[]; origin?: string };

export interface VerifyProofOptions {
  /** The record (JSON value or raw bytes): its digest is recomputed. Needs `mask`. */
  record?: unknown;
  /** The record's digest, when the record itself is not at hand. Needs `mask`. */
  digest?: Uint8Array;
  mask?: Uint8Array;
}

export interface ProofVerified {
  ok: true;
  detail: string;
  anchor: string;
  height: number;
  /**
   * Validator trust: the attested time T + 1 second as RFC 3339 UTC with milliseconds,
   * T = attestedTime of the checkpoint's cosignatures. Cosignature timestamps are whole
   * seconds, truncated, so the cosigners had observed the checkpoint before T + 1: the
   * record existed no later than `time`. Publication trust: null (it attests inclusion,
   * not time; the record existed no later than the date the publication was printed).
   */
  time: string | null;
  /** The block header's `time`: the ledger's claim, attested by nobody. */
  claimedTime: string;
  calendarSize: number;
  calendarRoot: string;
  origin: string;
  /** Validators whose signatures counted, in set order (validator trust only). */
  signers?: string[];
  /**
   * Validators (set order) whose cosignatures at or before T carry more than 1/3 of the
   * weight: the ones who vouch for `time` (validator trust only).
   */
  timeAttestedBy?: string[];
}

export interface ProofRejected {
  ok: false;
  failed: ProofCheck;
  detail: string;
}

export type ProofResult = ProofVerified | ProofRejected;

class CheckFailed extends Error {
  constructor(readonly check: ProofCheck, detail: string) {
    super(detail);
  }
}

function check(condition: unknown, name: ProofCheck, detail: string): asserts condition {
  if (!condition) throw new CheckFailed(name, detail);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isSize(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function onlyKeys(o: Record<string, unknown>, allowed: string[], where: string): void {
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k)) fail('MALFORMED_PROOF', `unknown field "${k}" in ${where}`);
  }
}

function parsePath(v: unknown, where: string): string[] {
  if (!Array.isArray(v)) fail('MALFORMED_PROOF', `${where} must be an array`);
  if (v.length > MAX_PATH) fail('MALFORMED_PROOF', `${where} has more than ${MAX_PATH} elements`);
  for (const [i, h] of v.entries()) {
    if (typeof h !== 'string' || !/^[0-9a-f]{64}$/.test(h)) {
      fail('MALFORMED_PROOF', `${where}[${i}] must be 64 lowercase hex characters`);
    }
  }
  return v as string[];
}

/**
 * Validate the shape of a proof document (a parsed object or its JSON text) and
 * return it typed. Throws LedgersealError MALFORMED_PROOF with the first problem.
 */
export function parseProof(input: unknown): ProofDocument {
  let v = input;
  if (typeof v === 'string') {
    try {
      v = JSON.parse(v);
    } catch (e) {
      fail('MALFORMED_PROOF', 'proof is not valid JSON', e);
    }
  }
  if (!isObject(v)) fail('MALFORMED_PROOF', 'proof must be a JSON object');
  onlyKeys(v, ['format', 'anchor', 'chain', 'block', 'calendar', 'checkpoint'], 'proof');
  if (v.format !== PROOF_FORMAT) fail('MALFORMED_PROOF', `format must be "${PROOF_FORMAT}"`);
  if (typeof v.anchor !== 'string' || !/^[0-9a-f]{64}$/.test(v.anchor)) {
    fail('MALFORMED_PROOF', 'anchor must be 64 lowercase hex characters');
  }
  if (!Array.isArray(v.chain) || v.chain.length === 0) fail('MALFORMED_PROOF', 'chain must be a non-empty array');
  if (v.chain.length > MAX_CHAIN_STEPS) fail('MALFORMED_PROOF', `chain has more than ${MAX_CHAIN_STEPS} steps`);
  const chain: ChainStep[] = v.chain.map((s: unknown, i: number) => {
    if (!isObject(s)) fail('MALFORMED_PROOF', `chain[${i}] must be an object`);
    onlyKeys(s, ['index', 'size', 'path'], `chain[${i}]`);
    if (!isSize(s.size) || s.size < 1) fail('MALFORMED_PROOF', `chain[${i}].size must be a positive integer`);
    if (!isSize(s.index) || s.index >= s.size) fail('MALFORMED_PROOF', `chain[${i}].index must be an integer below size`);
    return { index: s.index, size: s.size, path: parsePath(s.path, `chain[${i}].path`) };
  });
  if (typeof v.block !== 'string') fail('MALFORMED_PROOF', 'block must be the header text');
  const cal = v.calendar;
  if (!isObject(cal)) fail('MALFORMED_PROOF', 'calendar must be an object');
  onlyKeys(cal, ['size', 'path'], 'calendar');
  if (!isSize(cal.size) || cal.size < 1) fail('MALFORMED_PROOF', 'calendar.size must be a positive integer');
  const calendar = { size: cal.size, path: parsePath(cal.path, 'calendar.path') };
  if (typeof v.checkpoint !== 'string') fail('MALFORMED_PROOF', 'checkpoint must be the signed note text');
  return { format: PROOF_FORMAT, anchor: v.anchor, chain, block: v.block, calendar, checkpoint: v.checkpoint };
}

// ---- the checks, in protocol order ----

/** 1. The document is a well-formed ledgerseal-proof/v1. */
function checkFormat(input: unknown): ProofDocument {
  try {
    return parseProof(input);
  } catch (e) {
    throw new CheckFailed('format', e instanceof Error ? e.message : String(e));
  }
}

/** 2. (optional) The anchor is SHA-256(mask || digest) of the record the caller holds. */
function checkAnchor(doc: ProofDocument, opts: VerifyProofOptions): void {
  if (opts.record === undefined && opts.digest === undefined) return;
  check(opts.mask !== undefined, 'anchor', 'a mask is needed to recompute the anchor from a record or digest');
  let digest: Uint8Array;
  try {
    digest = opts.digest ?? hashRecord(opts.record);
  } catch (e) {
    throw new CheckFailed('anchor', `cannot hash the record: ${e instanceof Error ? e.message : String(e)}`);
  }
  check(opts.digest === undefined || opts.record === undefined || equalBytes(hashRecord(opts.record), opts.digest),
    'anchor', 'the record does not hash to the given digest');
  let anchor: Uint8Array;
  try {
    anchor = anchorOf(digest, opts.mask);
  } catch (e) {
    throw new CheckFailed('anchor', e instanceof Error ? e.message : String(e));
  }
  check(bytesToHex(anchor) === doc.anchor, 'anchor', 'the record and mask do not give the anchor of this proof');
}

/** 3. Fold the aggregation chain bottom-up: each step's root is the next step's leaf data. */
function foldChain(doc: ProofDocument): Uint8Array {
  let output = hexToBytes(doc.anchor);
  for (const [i, step] of doc.chain.entries()) {
    try {
      output = rootFromInclusionProof(leafHash(output), step.index, step.size, step.path.map((h) => hexToBytes(h)));
    } catch (e) {
      throw new CheckFailed('chain', `chain[${i}]: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  return output;
}

/** 4. The block header parses. */
function checkBlock(doc: ProofDocument): BlockHeader {
  try {
    return parseBlockHeader(doc.block);
  } catch (e) {
    throw new CheckFailed('block', e instanceof Error ? e.message : String(e));
  }
}

/** 5. The chain ends in the header's round root, over a round tree of the header's round size. */
function checkRoundRoot(doc: ProofDocument, header: BlockHeader, chainRoot: Uint8Array): void {
  const last = doc.chain[doc.chain.length - 1]!;
  check(last.size === header.roundSize, 'round-root',
    `the round step has size ${last.size} but the block has round-size ${header.roundSize}`);
  check(equalBytes(chainRoot, header.roundRoot), 'round-root', 'the chain does not lead to the round root of the block');
}

/**
 * 6. The checkpoint note and its body parse, its size is the calendar size of the
 * proof, and its origin is the trusted one: `trust.origin` and, with validator
 * trust, the set's own `origin` (a set bound to one deployment vouches for no other).
 */
function checkCheckpoint(doc: ProofDocument, trust: ProofTrust): Checkpoint {
  let cp: Checkpoint;
  try {
    cp = parseCheckpoint(checkpointBody(doc.checkpoint));
  } catch (e) {
    throw new CheckFailed('checkpoint', e instanceof Error ? e.message : String(e));
  }
  check(cp.size === doc.calendar.size, 'checkpoint',
    `checkpoint size ${cp.size} differs from calendar size ${doc.calendar.size}`);
  const origins = [trust.origin, 'validators' in trust ? trust.validators.origin : undefined];
  for (const origin of origins) {
    check(origin === undefined || cp.origin === origin, 'checkpoint',
      `checkpoint origin "${cp.origin}" is not the trusted origin "${origin}"`);
  }
  return cp;
}

/** 7. The header is leaf `height` of the calendar whose root the checkpoint states. */
function checkCalendarInclusion(doc: ProofDocument, header: BlockHeader, cp: Checkpoint): void {
  check(header.height < doc.calendar.size, 'calendar-inclusion',
    `block height ${header.height} is outside a calendar of size ${doc.calendar.size}`);
  let root: Uint8Array;
  try {
    root = rootFromInclusionProof(leafHash(utf8(doc.block)), header.height, doc.calendar.size,
      doc.calendar.path.map((h) => hexToBytes(h)));
  } catch (e) {
    throw new CheckFailed('calendar-inclusion', e instanceof Error ? e.message : String(e));
  }
  check(equalBytes(root, cp.root), 'calendar-inclusion', 'the calendar path does not lead to the checkpoint root');
}

interface TrustedSet {
  /** The validated copy (parseValidatorSet). */
  set: ValidatorSet;
  /** A caching note verifier for exactly its keys. */
  verifier: NoteVerifier;
}

/**
 * Validated sets and their caching verifiers, keyed by CONTENT (RFC 8785 canonical
 * JSON), in LRU order: a set changed in place (a validator removed, a key replaced)
 * has a new key and is validated and verified afresh, and an equal set in a new object
 * reuses the entry. Small, since a verifier trusts one or a few sets at a time.
 */
const TRUSTED_SET_CACHE_SIZE = 8;
const trustedSets = new Map<string, TrustedSet>();
let setHits = 0;
let setMisses = 0;

/**
 * The validated trusted set and its verifier. Throws MALFORMED_VALIDATOR_SET for an
 * invalid set: that is the caller's misconfiguration, not a bad proof.
 */
function trustedSet(input: ValidatorSet): TrustedSet {
  let parsed: ValidatorSet | undefined;
  let key: string;
  try {
    key = canonicalJson(input);
  } catch {
    // Not plain JSON (e.g. `origin: undefined`): valid only if parseValidatorSet says so; key on its clean copy.
    parsed = parseValidatorSet(input);
    key = canonicalJson(parsed);
  }
  const hit = trustedSets.get(key);
  if (hit !== undefined) {
    setHits++;
    trustedSets.delete(key); // re-insert: Map order is the recency order
    trustedSets.set(key, hit);
    return hit;
  }
  setMisses++;
  // Validity is a function of the content, so the content key may stand for the check from now on.
  const set = parsed ?? parseValidatorSet(input);
  const entry: TrustedSet = { set, verifier: validatorSetVerifier(set) };
  if (trustedSets.size >= TRUSTED_SET_CACHE_SIZE) trustedSets.delete(trustedSets.keys().next().value!);
  trustedSets.set(key, entry);
  return entry;
}

/**
 * Counters of verifyProof's caches, for metrics: `sets` (validated validator sets,
 * keyed by content) and `notes` (signature results, summed over the cached sets'
 * verifiers).
 */
export function verifyProofCacheStats(): {
  sets: { hits: number; misses: number; entries: number };
  notes: { hits: number; misses: number; entries: number };
} {
  const notes = { hits: 0, misses: 0, entries: 0 };
  for (const { verifier } of trustedSets.values()) {
    const s = verifier.cacheStats();
    notes.hits += s.hits;
    notes.misses += s.misses;
    notes.entries += s.entries;
  }
  return { sets: { hits: setHits, misses: setMisses, entries: trustedSets.size }, notes };
}

interface Attested {
  signers: string[];
  weight: number;
  total: number;
  /** T: the attested time, POSIX seconds. */
  attestedTime: number;
  /** T + 1 s, RFC 3339 UTC with milliseconds. */
  time: string;
  timeAttestedBy: string[];
}

/**
 * 8a. Validators holding more than 2/3 of the weight cosigned the checkpoint (lines
 * verified under the set's own key strings), and their cosignature timestamps give
 * an attested time T (more than 1/3 of the weight had cosigned by T).
 */
function checkQuorumSignatures(doc: ProofDocument, trusted: TrustedSet): Attested {
  let q: ReturnType<typeof verifyCheckpointQuorum>;
  try {
    q = verifyCheckpointQuorum(doc.checkpoint, trusted.set, trusted.verifier);
  } catch (e) {
    throw new CheckFailed('quorum', e instanceof Error ? e.message : String(e));
  }
  check(q.reason !== 'ORIGIN_MISMATCH', 'quorum', `checkpoint origin "${q.checkpoint.origin}" is not the validator set's origin`);
  check(q.ok, 'quorum', `signatures carry weight ${q.weight} of ${q.total}; more than 2/3 is needed`);
  // Cannot fail with a valid set (all its keys are cosigner keys, and 2/3 > 1/3); checked all the same.
  const t = q.attestedTime;
  check(t !== null, 'quorum', `no attested time: the cosignature/v1 timestamps by the set's keys carry no more than 1/3 of the weight`);
  let time: string;
  try {
    time = timeToRfc3339Millis(new Date((t + 1) * 1000));
  } catch {
    throw new CheckFailed('quorum', `attested time ${t} (POSIX seconds) is outside the years 0000-9999`);
  }
  return { signers: q.signers, weight: q.weight, total: q.total, attestedTime: t, time, timeAttestedBy: q.timeAttestedBy };
}

function decodeTrusted(p: TrustedPublication): { size: number; root: Uint8Array } {
  return typeof p === 'string' ? decodePublicationCode(p) : p;
}

/** 8b. Or: the checkpoint root equals a trusted publication of the same size (hashes only, no keys). */
function checkPublication(cp: Checkpoint, trusted: TrustedPublication | TrustedPublication[]): void {
  const list = Array.isArray(trusted) ? trusted : [trusted];
  let pubs: { size: number; root: Uint8Array }[];
  try {
    pubs = list.map(decodeTrusted);
  } catch (e) {
    throw new CheckFailed('publication', e instanceof Error ? e.message : String(e));
  }
  const same = pubs.filter((p) => p.size === cp.size);
  check(same.length > 0, 'publication', `no trusted publication of calendar size ${cp.size}; extend the proof to one`);
  check(same.some((p) => equalBytes(p.root, cp.root)), 'publication',
    `the calendar root of size ${cp.size} differs from the trusted publication`);
}

/** The text part of a signed note, as the C2SP signed-note parser splits it. */
function checkpointBody(note: string): string {
  return parseNote(note).text;
}

/** The success result (no object spread: it runs for every verified proof). */
function verified(doc: ProofDocument, header: BlockHeader, cp: Checkpoint, detail: string, time: string | null): ProofVerified {
  return {
    ok: true,
    detail,
    anchor: doc.anchor,
    height: header.height,
    time,
    claimedTime: header.time,
    calendarSize: cp.size,
    calendarRoot: bytesToHex(cp.root),
    origin: cp.origin,
  };
}

/** Checks 1-7 of docs/protocol.md 6.2, in order: everything but the signatures or the publication. */
function checkThroughCalendar(proof: unknown, options: VerifyProofOptions, trust: ProofTrust): { doc: ProofDocument; header: BlockHeader; cp: Checkpoint } {
  const doc = checkFormat(proof);
  checkAnchor(doc, options);
  const chainRoot = foldChain(doc);
  const header = checkBlock(doc);
  checkRoundRoot(doc, header, chainRoot);
  const cp = checkCheckpoint(doc, trust);
  checkCalendarInclusion(doc, header, cp);
  return { doc, header, cp };
}

/** Run checks; a failed check (or a parse error) becomes the result naming it, never an exception. */
function asVerdict(run: () => ProofResult): ProofResult {
  try {
    return run();
  } catch (e) {
    if (e instanceof CheckFailed) return { ok: false, failed: e.check, detail: e.message };
    if (e instanceof LedgersealError) return { ok: false, failed: 'format', detail: e.message };
    throw e;
  }
}

/**
 * Verify a proof document against trusted validators or publications, running
 * each check of docs/protocol.md 6.2 in order. Never throws for a bad proof:
 * the result names the first failed check.
 */
export function verifyProof(proof: unknown, trust: ProofTrust, options: VerifyProofOptions = {}): ProofResult {
  if (!isObject(trust) || (!('validators' in trust) && !('publication' in trust))) {
    fail('INVALID_ARGUMENT', 'trust must be { validators } or { publication }');
  }
  // Trust material first: an invalid validator set throws (MALFORMED_VALIDATOR_SET), it is no verdict on the proof.
  const trusted = isObject(trust) && 'validators' in trust ? trustedSet(trust.validators) : undefined;
  return asVerdict(() => {
    const { doc, header, cp } = checkThroughCalendar(proof, options, trusted ? { validators: trusted.set, origin: trust.origin } : trust);
    if (trusted === undefined) {
      checkPublication(cp, (trust as { publication: TrustedPublication | TrustedPublication[] }).publication);
      const detail = `anchor included in block ${header.height} under the published calendar root of size ${cp.size}; ` +
        'publication trust attests inclusion, not time: the record existed no later than the date the publication ' +
        `was printed; the header time ${header.time} is claimed by the ledger, not attested`;
      return verified(doc, header, cp, detail, null);
    }
    const a = checkQuorumSignatures(doc, trusted);
    const detail = `anchor included in block ${header.height}; calendar size ${cp.size} cosigned by ${a.signers.join(', ')} ` +
      `(weight ${a.weight} of ${a.total}); attested time ${a.time}: ${a.timeAttestedBy.join(', ')}, more than 1/3 of ` +
      `the weight, had cosigned it by ${a.attestedTime} (POSIX seconds, truncated), so the record existed no later; ` +
      `the header time ${header.time} is claimed by the ledger, not attested`;
    const result = verified(doc, header, cp, detail, a.time);
    result.signers = a.signers;
    result.timeAttestedBy = a.timeAttestedBy;
    return result;
  });
}

/**
 * Extend a proof to a later calendar size: the chain and block stay, the
 * calendar path and checkpoint are replaced by ones for the larger tree (as
 * served by GET /v1/proofs/extend). The new path is checked before it is used.
 */
export function extendProof(proof: unknown, extension: { calendar: { size: number; path: string[] }; checkpoint: string }): ProofDocument {
  const doc = parseProof(proof);
  const next = parseProof({ ...doc, calendar: extension.calendar, checkpoint: extension.checkpoint });
  if (next.calendar.size < doc.calendar.size) {
    fail('INVALID_PROOF', `cannot extend a proof of calendar size ${doc.calendar.size} to the smaller size ${next.calendar.size}`);
  }
  const header = parseBlockHeader(next.block);
  const cp = parseCheckpoint(checkpointBody(next.checkpoint));
  if (cp.size !== next.calendar.size) fail('INVALID_PROOF', 'the extension checkpoint size differs from its calendar size');
  const root = rootFromInclusionProof(leafHash(utf8(next.block)), header.height, next.calendar.size,
    next.calendar.path.map((h) => hexToBytes(h)));
  if (!equalBytes(root, cp.root)) fail('INVALID_PROOF', 'the extension path does not lead to the extension checkpoint root');
  return next;
}

/**
 * The first verification level (docs/protocol.md 6.2, checks 1-7): the document is
 * internally consistent. The record (with `record` or `digest`, and `mask`) gives its
 * anchor, the chain folds to the round root of the block, and the block is in the
 * calendar under the checkpoint's root. Nothing signed is checked: anyone can write
 * a consistent proof, so this says nothing about time or the ledger (levels 2 and 3
 * are verifyProof with `{ validators }` and with `{ publication }`). `time` is null.
 */
export function checkProofConsistency(proof: unknown, options: VerifyProofOptions & { origin?: string } = {}): ProofResult {
  return asVerdict(() => {
    const trust: ProofTrust = options.origin !== undefined ? { publication: [], origin: options.origin } : { publication: [] };
    const { doc, header, cp } = checkThroughCalendar(proof, options, trust);
    const detail = `internally consistent: anchor included in block ${header.height}, calendar size ${cp.size}; ` +
      'no signature or publication was checked, so this proves nothing about time';
    return verified(doc, header, cp, detail, null);
  });
}

/** One aggregation step below an existing proof, as bytes or hex. */
export interface ChainStepInput {
  index: number;
  size: number;
  path: readonly (Uint8Array | string)[];
}

function stepHex(s: ChainStepInput): ChainStep {
  return { index: s.index, size: s.size, path: s.path.map((h) => (typeof h === 'string' ? h : bytesToHex(h))) };
}

/**
 * A proof for a leaf below another proof's anchor (docs/protocol.md 6.1: local
 * aggregation steps come first). `steps` fold `anchor` bottom-up to `proof.anchor`;
 * the result has `anchor` as its anchor and `steps` before the proof's own chain.
 * Throws INVALID_PROOF when the steps do not lead to `proof.anchor`, MALFORMED_PROOF
 * when the result would exceed the format's bounds.
 */
export function prependChain(proof: unknown, anchor: Uint8Array | string, steps: readonly ChainStepInput[]): ProofDocument {
  const doc = parseProof(proof);
  const leaf = typeof anchor === 'string' ? hexToBytes(anchor, 32) : anchor;
  if (leaf.length !== 32) fail('INVALID_ARGUMENT', `anchor must be 32 bytes, got ${leaf.length}`);
  let output = leaf;
  for (const [i, s] of steps.entries()) {
    try {
      output = rootFromInclusionProof(leafHash(output), s.index, s.size,
        s.path.map((h) => (typeof h === 'string' ? hexToBytes(h, 32) : h)));
    } catch (e) {
      fail('INVALID_PROOF', `step ${i}: ${e instanceof Error ? e.message : String(e)}`, e);
    }
  }
  if (bytesToHex(output) !== doc.anchor) fail('INVALID_PROOF', 'the steps do not lead from the anchor to the proof\'s anchor');
  return parseProof({ ...doc, anchor: bytesToHex(leaf), chain: [...steps.map(stepHex), ...doc.chain] });
}

/**
 * Bulk proofs (docs/protocol.md 7.6): one proof of a batch root (the service's
 * `GET /v1/batches/{id}`: its anchor is the batch root) and the batch's anchors,
 * held by the client, give the proof of every anchor without another request. The
 * tree is built once; each proofAt(i) is an inclusion path, microseconds.
 * Throws INVALID_PROOF when the anchors do not hash to the proof's anchor.
 */
export function batchProofs(batchProof: unknown, anchors: readonly Uint8Array[]): { size: number; proofAt(index: number): ProofDocument } {
  const doc = parseProof(batchProof);
  if (doc.chain.length >= MAX_CHAIN_STEPS) fail('MALFORMED_PROOF', `a batch proof with ${doc.chain.length} steps leaves no room for one more`);
  if (anchors.length === 0) fail('INVALID_ARGUMENT', 'a batch has at least one anchor');
  const tree = MerkleTree.fromLeafData(anchors as Uint8Array[]);
  if (bytesToHex(tree.root()) !== doc.anchor) {
    fail('INVALID_PROOF', `the ${anchors.length} anchors do not hash to the batch root ${doc.anchor} of the proof`);
  }
  const chain = doc.chain;
  return {
    size: anchors.length,
    proofAt(index: number): ProofDocument {
      if (!Number.isSafeInteger(index) || index < 0 || index >= anchors.length) {
        fail('INVALID_ARGUMENT', `index ${index} is outside a batch of ${anchors.length}`);
      }
      const step: ChainStep = { index, size: anchors.length, path: tree.inclusionProof(index).map(bytesToHex) };
      // Built directly: the tree and the parsed proof are already known to be consistent.
      return { format: PROOF_FORMAT, anchor: bytesToHex(anchors[index]!), chain: [step, ...chain], block: doc.block,
        calendar: doc.calendar, checkpoint: doc.checkpoint };
    },
  };
}
