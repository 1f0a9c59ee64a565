/**
 * A validator (docs/protocol.md 7.3): it signs a checkpoint only after checking
 * the proposal itself, from the store, against its OWN last-signed state; it never
 * takes the coordinator's word for anything. The checks, in order (README.md
 * "The validator checks"), each refuse with their own ValidatorRefusal code:
 *
 *  1. request well-formed, origin is ours                       BAD_REQUEST, WRONG_ORIGIN
 *  2. the stored proposal of that height is exactly the request UNKNOWN_PROPOSAL, PROPOSAL_MISMATCH
 *  3. the header parses and names that height                   MALFORMED_HEADER
 *  4. height = our last signed size (catch up if we lag)        STALE_HEIGHT, CANNOT_CATCH_UP
 *  5. prev = leaf hash of the last header we verified           BAD_PREV
 *  6. time not before the last, not beyond our clock + skew     BAD_TIME
 *  7. validators = hash of our set                              BAD_VALIDATOR_SET
 *  8. round root, size and anchors recomputed from the batches  BAD_ROUND
 *  9. checkpoint = our calendar with the header appended        BAD_CHECKPOINT
 * 10. record (size, checkpoint hash) BEFORE signing              EQUIVOCATION
 *
 * Step 10 is a conditional write, so no two instances of one validator, and no
 * crash between recording and answering, can ever sign two checkpoints of one size.
 */
import { createHash } from 'node:crypto';
import {
  type BlockHeader,
  bytesToHex,
  cosignCheckpoint,
  emptyRoot,
  equalBytes,
  formatCheckpoint,
  parseBlockHeader,
  parseCheckpoint,
  parseSignerKey,
  type ValidatorSet,
  validatorSetHash,
  verifierKeyOf,
  verifyCheckpointQuorum,
  verifyConsistency,
  verifyInclusion,
} from '@ledgerseal/sdk';
import type { Proposal, Store, ValidatorState } from '../store/port.ts';
import { appendHeader, calendarConsistency, calendarInclusion, headerLeafHash } from './calendar.ts';
import { checkMembers, roundTree } from './round.ts';
import { refuse, type SignRequest, SignRequestSchema, type SignResponse, ValidatorRefusal } from './validator-protocol.ts';

export { ValidatorRefusal } from './validator-protocol.ts';

export interface ValidatorOptions {
  name: string;
  /** C2SP signer key string whose key name is `name`. */
  signerKey: string;
  store: Store;
  origin: string;
  validatorSet: ValidatorSet;
  /** How far in the future a header time may be (default 60 s). */
  maxClockSkewMs?: number;
  now?: () => Date;
}

const ZERO_LEAF = bytesToHex(new Uint8Array(32));

const checkpointHash = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

export class Validator {
  readonly name: string;
  readonly verifierKey: string;
  readonly #signerKey: string;
  readonly #store: Store;
  readonly #origin: string;
  readonly #set: ValidatorSet;
  readonly #setHash: Uint8Array;
  readonly #skewMs: number;
  readonly #now: () => Date;

  constructor(opts: ValidatorOptions) {
    // Misconfiguration fails here, not at the first round.
    if (parseSignerKey(opts.signerKey).name !== opts.name) throw new Error(`signer key is not named "${opts.name}"`);
    this.verifierKey = verifierKeyOf(opts.signerKey);
    const listed = opts.validatorSet.validators.find((v) => v.name === opts.name);
    if (!listed || listed.key !== this.verifierKey) throw new Error(`validator "${opts.name}" with this key is not in the validator set`);
    this.name = opts.name;
    this.#signerKey = opts.signerKey;
    this.#store = opts.store;
    this.#origin = opts.origin;
    this.#set = opts.validatorSet;
    this.#setHash = validatorSetHash(opts.validatorSet);
    this.#skewMs = opts.maxClockSkewMs ?? 60_000;
    this.#now = opts.now ?? (() => new Date());
  }

  /** Check the proposal and return a signature line over its checkpoint, or throw a ValidatorRefusal (naming us). */
  async sign(input: SignRequest): Promise<SignResponse> {
    try {
      return await this.#sign(input);
    } catch (e) {
      if (e instanceof ValidatorRefusal) e.validator ??= this.name;
      throw e;
    }
  }

  async #sign(input: SignRequest): Promise<SignResponse> {
    // 1. Well-formed request for our origin.
    const parsed = SignRequestSchema.safeParse(input);
    if (!parsed.success) refuse('BAD_REQUEST', `malformed sign request: ${parsed.error.message}`);
    const req = parsed.data;
    if (req.origin !== this.#origin) refuse('WRONG_ORIGIN', `origin "${req.origin}" is not "${this.#origin}"`);
    // 2. The proposal as stored, not as the request says.
    const proposal = await this.#store.getProposal(req.height);
    if (!proposal) refuse('UNKNOWN_PROPOSAL', `no proposal is stored for height ${req.height}`);
    if (proposal.proposalId !== req.proposalId || proposal.header !== req.header || proposal.checkpoint !== req.checkpoint) {
      refuse('PROPOSAL_MISMATCH', `the request differs from the stored proposal ${proposal.proposalId} of height ${req.height}`);
    }
    // 3. The header parses and is for this height.
    let header: BlockHeader;
    try {
      header = parseBlockHeader(req.header);
    } catch (e) {
      refuse('MALFORMED_HEADER', (e as Error).message, e);
    }
    if (header.height !== req.height) refuse('MALFORMED_HEADER', `header height ${header.height} is not ${req.height}`);
    // 4. Height is our last signed size; a retry of the last one; or we lag and catch up.
    let state = await this.#state();
    if (header.height === state.size - 1) return this.#resign(req, state);
    if (header.height < state.size) refuse('STALE_HEIGHT', `already signed up to size ${state.size}; height ${header.height} is old`);
    if (header.height > state.size) state = await this.#catchUp(state, header.height);
    this.#checkPrev(header, state); // 5
    const time = this.#checkTime(header, state); // 6
    if (!equalBytes(header.validators, this.#setHash)) refuse('BAD_VALIDATOR_SET', 'header validators hash is not our set'); // 7
    await this.#checkRound(header, proposal); // 8
    const root = await this.#checkCheckpoint(req, state); // 9
    // 10. Record before signing (conditional write); then sign and advance.
    await this.#record(header.height + 1, req.checkpoint);
    const response = this.#signature(req.checkpoint, time);
    await this.#store.putValidatorState({
      name: this.name,
      size: header.height + 1,
      root,
      lastLeaf: bytesToHex(headerLeafHash(req.header)),
      lastTime: header.time,
      cosignedAt: time,
      updatedAt: this.#now().toISOString(),
    });
    return response;
  }

  /** Our last-signed (or caught-up) state; a fresh validator is at the empty calendar. */
  async #state(): Promise<ValidatorState> {
    const s = await this.#store.getValidatorState(this.name);
    return s ?? { name: this.name, size: 0, root: emptyRoot(), lastLeaf: ZERO_LEAF, lastTime: '', cosignedAt: 0, updatedAt: '' };
  }

  /**
   * A retried request for what we signed last: the same checkpoint only, cosigned
   * with the time of our first cosignature, so the line is identical (Ed25519 is
   * deterministic) and a late retry never moves the attested time.
   */
  async #resign(req: SignRequest, state: ValidatorState): Promise<SignResponse> {
    const ours = formatCheckpoint({ origin: this.#origin, size: state.size, root: state.root });
    if (req.checkpoint !== ours || bytesToHex(headerLeafHash(req.header)) !== state.lastLeaf) {
      refuse('EQUIVOCATION', `size ${state.size} was already signed with a different checkpoint`);
    }
    await this.#record(state.size, req.checkpoint);
    return this.#signature(req.checkpoint, state.cosignedAt);
  }

  /**
   * We lag (we were down): adopt the finalized calendar of size `height` only if
   * its checkpoint has a quorum of our set and extends what we signed (RFC 9162
   * consistency proof from stored nodes), and block height-1 is its last leaf.
   */
  async #catchUp(state: ValidatorState, height: number): Promise<ValidatorState> {
    const block = await this.#store.getBlock(height - 1);
    if (!block) refuse('CANNOT_CATCH_UP', `block ${height - 1} is not final; cannot reach height ${height}`);
    let q: ReturnType<typeof verifyCheckpointQuorum>;
    try {
      q = verifyCheckpointQuorum(block.checkpoint, this.#set);
    } catch (e) {
      refuse('CANNOT_CATCH_UP', `checkpoint of block ${height - 1} is malformed`, e);
    }
    const cp = q.checkpoint;
    if (!q.ok) refuse('CANNOT_CATCH_UP', `checkpoint of block ${height - 1} has no quorum (${q.weight}/${q.total})`);
    if (cp.origin !== this.#origin || cp.size !== height) refuse('CANNOT_CATCH_UP', `checkpoint of block ${height - 1} is not of size ${height}`);
    const leaf = headerLeafHash(block.header);
    try {
      const inclusion = await calendarInclusion(this.#store, height - 1, height);
      const consistency = await calendarConsistency(this.#store, state.size, height);
      if (!verifyInclusion(leaf, height - 1, height, inclusion, cp.root)) throw new Error('header of the last block is not the last leaf');
      if (!verifyConsistency(state.size, height, consistency, state.root, cp.root)) {
        throw new Error(`the calendar of size ${height} does not extend the one we signed at size ${state.size}`);
      }
    } catch (e) {
      refuse('CANNOT_CATCH_UP', (e as Error).message, e);
    }
    const next: ValidatorState = {
      name: this.name,
      size: height,
      root: cp.root,
      lastLeaf: bytesToHex(leaf),
      lastTime: parseBlockHeader(block.header).time,
      cosignedAt: state.cosignedAt,
      updatedAt: this.#now().toISOString(),
    };
    await this.#store.putValidatorState(next);
    return next;
  }

  #checkPrev(header: BlockHeader, state: ValidatorState): void {
    if (bytesToHex(header.prev) !== state.lastLeaf) refuse('BAD_PREV', `prev is not the leaf hash of block ${header.height - 1} we verified`);
  }

  /**
   * The header time may not go back, nor lie beyond our clock plus the skew; and
   * we cosign with our own clock's reading (POSIX seconds, truncated), which may
   * not be earlier than our last cosignature (our clock went back: we refuse rather
   * than sign a time our own earlier statement contradicts). Returns that time.
   */
  #checkTime(header: BlockHeader, state: ValidatorState): number {
    const t = Date.parse(header.time);
    if (state.lastTime !== '' && t < Date.parse(state.lastTime)) refuse('BAD_TIME', `time ${header.time} is before ${state.lastTime}`);
    const now = this.#now().getTime();
    if (t > now + this.#skewMs) refuse('BAD_TIME', `time ${header.time} is more than ${this.#skewMs} ms in the future`);
    const cosignAt = Math.floor(now / 1000);
    if (cosignAt < state.cosignedAt) {
      refuse('BAD_TIME', `our clock (${new Date(cosignAt * 1000).toISOString()}) is behind our last cosignature (${new Date(state.cosignedAt * 1000).toISOString()})`);
    }
    return cosignAt;
  }

  /** Recompute every batch root from its stored anchors, then the round tree; no batch may sit in another block. */
  async #checkRound(header: BlockHeader, proposal: Proposal): Promise<void> {
    const members = proposal.members;
    if (members.length === 0 || members.length !== header.roundSize) {
      refuse('BAD_ROUND', `round-size ${header.roundSize} but the proposal has ${members.length} batches`);
    }
    // One after the other: each read is already a few bounded BatchGetItem calls (store/README.md).
    const ids = members.map((m) => m.batchId);
    const placements = await this.#store.getPlacements(ids, { consistent: true });
    const { problems, anchors } = checkMembers(members, await this.#store.getBatches(ids));
    if (problems.length > 0) refuse('BAD_ROUND', `batch ${problems[0]!.batchId}: ${problems[0]!.problem}`);
    if (anchors !== header.anchors) refuse('BAD_ROUND', `anchors ${header.anchors} but the batches hold ${anchors}`);
    if (!equalBytes(roundTree(members).root(), header.roundRoot)) refuse('BAD_ROUND', 'the batch roots do not hash to round-root');
    for (const m of members) {
      const p = placements.get(m.batchId);
      if (p && p.height !== header.height) refuse('BAD_ROUND', `batch ${m.batchId} is already in block ${p.height}`);
    }
  }

  /** The checkpoint must be exactly our calendar (as we signed it) with this header appended. */
  async #checkCheckpoint(req: SignRequest, state: ValidatorState): Promise<Uint8Array> {
    try {
      parseCheckpoint(req.checkpoint);
    } catch (e) {
      refuse('BAD_CHECKPOINT', (e as Error).message, e);
    }
    let next: Awaited<ReturnType<typeof appendHeader>>;
    try {
      next = await appendHeader(this.#store, state.size, req.header);
    } catch (e) {
      refuse('BAD_CHECKPOINT', `cannot read the calendar of size ${state.size}: ${(e as Error).message}`, e);
    }
    if (!equalBytes(next.previousRoot, state.root)) {
      refuse('BAD_CHECKPOINT', `the stored calendar of size ${state.size} is not the one we signed`);
    }
    const expected = formatCheckpoint({ origin: this.#origin, size: state.size + 1, root: next.root });
    if (req.checkpoint !== expected) refuse('BAD_CHECKPOINT', `checkpoint is not our calendar of size ${state.size + 1}`);
    return next.root;
  }

  async #record(size: number, checkpoint: string): Promise<void> {
    const r = await this.#store.recordSigned(this.name, size, checkpointHash(checkpoint));
    if (r === 'conflict') refuse('EQUIVOCATION', `a different checkpoint of size ${size} was already signed`);
  }

  /** Our C2SP tlog-cosignature/v1 line over the checkpoint at `time` (docs/protocol.md 4.3, 7.3). */
  #signature(checkpoint: string, time: number): SignResponse {
    return { validator: this.name, signature: cosignCheckpoint(checkpoint, this.#signerKey, time), checkpoint };
  }
}
