/**
 * A validator (docs/protocol.md 7.3; README.md in this folder): an independent
 * unit with its own key, its own state store and its own clock. It signs a
 * checkpoint only after checking the whole proposal, which the sign request
 * carries, against what it vouched for before; it reads nothing of the
 * coordinator's table, and the coordinator's public API only to catch up,
 * adopting nothing that lacks a quorum of its own validator set. The checks, in
 * order, each refuse with their own ValidatorRefusal code:
 *
 *  1. request well-formed, origin is ours                          BAD_REQUEST, WRONG_ORIGIN
 *  2. the header parses and names that height                      MALFORMED_HEADER
 *  3. state: no conflict with the public log (checked at start)    STATE_CONFLICT
 *  4. height = our size (a retry of the last; catch up if we lag)  STALE_HEIGHT, EQUIVOCATION, CANNOT_CATCH_UP
 *  5. prev = leaf hash of the last header we vouch for             BAD_PREV
 *  6. time not before the last, not beyond our clock + skew        BAD_TIME
 *  7. validators = hash of our set                                 BAD_VALIDATOR_SET
 *  8. round-size, anchors and round-root from the members          BAD_ROUND
 *  9. checkpoint = our frontier with the header appended           BAD_CHECKPOINT
 * 10. record (size, checkpoint hash) BEFORE signing                 EQUIVOCATION
 *
 * Step 10 is a conditional write to its own store, so no two instances of one
 * validator, and no crash between recording and answering, can ever sign two
 * checkpoints of one size. Calls are serialized per instance.
 */
import { createHash } from 'node:crypto';
import {
  type BlockHeader,
  cosignCheckpoint,
  equalBytes,
  formatCheckpoint,
  hexToBytes,
  MerkleTree,
  parseBlockHeader,
  parseCheckpoint,
  parseSignerKey,
  type ValidatorSet,
  validatorSetHash,
  verifierKeyOf,
  verifyCheckpointQuorum,
} from '@ledgerseal/sdk';
import { appendLeaf, frontierRoot, headerLeaf } from './frontier.ts';
import { BLOCKS_PAGE, type LedgerSource } from './ledger-source.ts';
import { refuse, type SignRequest, SignRequestSchema, type SignResponse, ValidatorRefusal } from './protocol.ts';
import { initialState, type ValidatorState, type ValidatorStateStore } from './state-store.ts';

export { ValidatorRefusal } from './protocol.ts';

/** Structurally the service's Logger (functions/services.ts), without importing it. */
export interface ValidatorLogger {
  info(fields: Record<string, unknown>): void;
  warn(fields: Record<string, unknown>): void;
  error(fields: Record<string, unknown>): void;
}

export interface ValidatorOptions {
  name: string;
  /** C2SP tlog-cosignature/v1 signer key string whose key name is `name`. */
  signerKey: string;
  origin: string;
  /** The validator set it vouches for: its hash goes in every header; catch-up needs a quorum of it. */
  validatorSet: ValidatorSet;
  /** Its own state (file-state-store.ts, dynamo-state-store.ts). */
  state: ValidatorStateStore;
  /** The coordinator's public API, for catching up and the rollback check (ledger-source.ts). */
  source: LedgerSource;
  /** How far in the future a header time may be (default 60 s). */
  maxClockSkewMs?: number;
  now?: () => Date;
  log?: ValidatorLogger;
}

export interface ValidatorStatus {
  name: string;
  verifierKey: string;
  origin: string;
  size: number;
  cosignedAt: number;
  conflict: string | null;
}

const quiet: ValidatorLogger = { info: () => {}, warn: () => {}, error: () => {} };

/** Lowercase hex SHA-256 of a checkpoint text: what a signed record keeps. */
export const checkpointHash = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

/** The checkpoint text (note body, ending in "\n") of a signed note. */
const noteBody = (note: string): string => note.slice(0, note.indexOf('\n\n') + 1);

export class Validator {
  readonly name: string;
  readonly verifierKey: string;
  readonly origin: string;
  readonly #signerKey: string;
  readonly #store: ValidatorStateStore;
  readonly #source: LedgerSource;
  readonly #set: ValidatorSet;
  readonly #setHash: Uint8Array;
  readonly #skewMs: number;
  readonly #now: () => Date;
  readonly #log: ValidatorLogger;
  #queue: Promise<unknown> = Promise.resolve();
  /** The start-up check against the public log (rollback detection) has passed. */
  #started = false;

  constructor(opts: ValidatorOptions) {
    // Misconfiguration fails here, not at the first round.
    if (parseSignerKey(opts.signerKey).name !== opts.name) throw new Error(`signer key is not named "${opts.name}"`);
    this.verifierKey = verifierKeyOf(opts.signerKey);
    const listed = opts.validatorSet.validators.find((v) => v.name === opts.name);
    if (!listed || listed.key !== this.verifierKey) throw new Error(`validator "${opts.name}" with this key is not in the validator set`);
    this.name = opts.name;
    this.origin = opts.origin;
    this.#signerKey = opts.signerKey;
    this.#store = opts.state;
    this.#source = opts.source;
    this.#set = opts.validatorSet;
    this.#setHash = validatorSetHash(opts.validatorSet);
    this.#skewMs = opts.maxClockSkewMs ?? 60_000;
    this.#now = opts.now ?? (() => new Date());
    this.#log = opts.log ?? quiet;
  }

  /** One call at a time: the checks and the writes of a call see the state the previous call left. */
  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn, fn);
    this.#queue = run.catch(() => {});
    return run.catch((e: unknown) => {
      if (e instanceof ValidatorRefusal) e.validator ??= this.name;
      throw e;
    });
  }

  /**
   * The start-up check (README.md "Rollback"): read the latest public checkpoint
   * and reconcile our state with it. Runs before the first signature of this
   * instance whether or not it is called; call it at start to fail early.
   */
  start(): Promise<ValidatorStatus> {
    return this.#serial(async () => {
      await this.#ensureStarted();
      return this.#status(await this.#state());
    });
  }

  /** What it vouches for now (no check, no network). */
  async status(): Promise<ValidatorStatus> {
    return this.#status(await this.#state());
  }

  #status(s: ValidatorState): ValidatorStatus {
    return { name: this.name, verifierKey: this.verifierKey, origin: this.origin, size: s.size, cosignedAt: s.cosignedAt, conflict: s.conflict };
  }

  /** Check the proposal and return a signature line over its checkpoint, or throw a ValidatorRefusal (naming us). */
  sign(input: SignRequest): Promise<SignResponse> {
    return this.#serial(() => this.#sign(input));
  }

  async #sign(input: SignRequest): Promise<SignResponse> {
    // 1. Well-formed request for our origin.
    const parsed = SignRequestSchema.safeParse(input);
    if (!parsed.success) refuse('BAD_REQUEST', `malformed sign request: ${parsed.error.message}`);
    const req = parsed.data;
    if (req.origin !== this.origin) refuse('WRONG_ORIGIN', `origin "${req.origin}" is not "${this.origin}"`);
    // 2. The header parses and is for this height.
    let header: BlockHeader;
    try {
      header = parseBlockHeader(req.header);
    } catch (e) {
      refuse('MALFORMED_HEADER', (e as Error).message, e);
    }
    if (header.height !== req.height) refuse('MALFORMED_HEADER', `header height ${header.height} is not ${req.height}`);
    // 3. Our state agrees with the public log (once per instance), and no conflict was found before.
    await this.#ensureStarted();
    let state = await this.#state();
    if (state.conflict !== null) refuse('STATE_CONFLICT', state.conflict);
    // 4. Height is our size; a retry of the last one; or we lag: check the log for a rollback, then catch up.
    if (header.height > state.size) {
      state = await this.#reconcile(state);
      if (header.height > state.size) state = await this.#catchUp(state, header.height);
    }
    if (header.height === state.size - 1) return this.#resign(req, state);
    if (header.height < state.size) refuse('STALE_HEIGHT', `already vouched for size ${state.size}; height ${header.height} is old`);
    this.#checkPrev(header, state); // 5
    const time = this.#checkTime(header, state); // 6
    if (!equalBytes(header.validators, this.#setHash)) refuse('BAD_VALIDATOR_SET', 'header validators hash is not our set'); // 7
    this.#checkRound(header, req); // 8
    const next = this.#checkCheckpoint(req, state); // 9
    // 10. Record before signing (conditional write); then sign and advance.
    const { result, record } = await this.#store.recordSigned({ size: header.height + 1, hash: checkpointHash(req.checkpoint), at: time });
    if (result === 'conflict') refuse('EQUIVOCATION', `a different checkpoint of size ${header.height + 1} was already signed`);
    const response = this.#signature(req.checkpoint, record.at);
    await this.#save({
      size: header.height + 1,
      frontier: next,
      lastLeaf: headerLeaf(req.header),
      lastTime: header.time,
      cosignedAt: Math.max(state.cosignedAt, record.at),
      conflict: null,
      updatedAt: this.#now().toISOString(),
    });
    return response;
  }

  async #state(): Promise<ValidatorState> {
    return (await this.#store.load()) ?? initialState();
  }

  /** Save, or adopt what another instance of this validator saved further on. */
  async #save(s: ValidatorState): Promise<ValidatorState> {
    if (await this.#store.save(s)) return s;
    return this.#state();
  }

  async #ensureStarted(): Promise<void> {
    if (this.#started) return;
    const state = await this.#state();
    if (state.conflict !== null) refuse('STATE_CONFLICT', state.conflict);
    await this.#reconcile(state);
    this.#started = true;
  }

  /** Record a conflict for good (it survives restarts), log it, refuse. */
  async #conflict(state: ValidatorState, reason: string): Promise<never> {
    this.#log.error({ msg: 'validator state conflicts with the public log: refusing everything', validator: this.name, reason });
    await this.#store.save({ ...state, conflict: reason, updatedAt: this.#now().toISOString() });
    refuse('STATE_CONFLICT', reason);
  }

  /**
   * Compare our state with the latest public checkpoint. If it carries our own
   * valid cosignature for a size beyond our state, our state was rolled back (or
   * emptied, or restored from a backup): catch up to it, recording what we signed.
   * If it contradicts what we signed, STATE_CONFLICT. Returns the (new) state.
   */
  async #reconcile(state: ValidatorState): Promise<ValidatorState> {
    let note: string | null;
    try {
      note = await this.#source.latestCheckpoint();
    } catch (e) {
      refuse('CANNOT_CATCH_UP', `cannot read the latest checkpoint at ${this.#source.location}: ${(e as Error).message}`, e);
    }
    if (note === null) return state;
    let q: ReturnType<typeof verifyCheckpointQuorum>;
    try {
      q = verifyCheckpointQuorum(note, this.#set);
    } catch (e) {
      refuse('CANNOT_CATCH_UP', `the latest public checkpoint is malformed: ${(e as Error).message}`, e);
    }
    const cp = q.checkpoint;
    if (cp.origin !== this.origin) refuse('CANNOT_CATCH_UP', `the public log at ${this.#source.location} is of origin "${cp.origin}", not "${this.origin}"`);
    const ours = q.cosignatures.find((c) => c.name === this.name);
    const hash = checkpointHash(noteBody(note));
    const rec = await this.#store.getSigned(cp.size);
    if (rec && rec.hash !== hash && (ours || q.ok)) {
      return this.#conflict(state, ours
        ? `the public checkpoint of size ${cp.size} carries our cosignature, but we recorded another checkpoint of that size`
        : `a quorum signed another checkpoint of size ${cp.size} than the one we signed`);
    }
    if (ours && cp.size > state.size) {
      this.#log.warn({
        msg: 'validator state is behind a checkpoint it signed (rolled back, restored or emptied): catching up from the public log',
        validator: this.name,
        stateSize: state.size,
        signedSize: cp.size,
        store: this.#store.location,
      });
      return this.#catchUp(state, cp.size);
    }
    if (q.ok && cp.size === state.size && !equalBytes(cp.root, frontierRoot(state.frontier))) {
      return this.#conflict(state, `the quorum-signed checkpoint of size ${cp.size} is not the calendar we hold`);
    }
    return state;
  }

  /**
   * We lag: adopt blocks state.size .. target - 1 from the public log, each only
   * if its checkpoint has a quorum of our set and its root is exactly our
   * frontier extended by its header (whose prev is our last leaf). Our own
   * cosignatures found on the way become signed records (a restored state
   * learns what it signed, and its clock rule keeps holding). Keeps cosignedAt
   * otherwise: catching up cosigns nothing.
   */
  async #catchUp(state: ValidatorState, target: number): Promise<ValidatorState> {
    let s = state;
    while (s.size < target) {
      let page: Awaited<ReturnType<LedgerSource['blocks']>>;
      try {
        page = await this.#source.blocks(s.size, Math.min(BLOCKS_PAGE, target - s.size));
      } catch (e) {
        refuse('CANNOT_CATCH_UP', `cannot read blocks from ${s.size} at ${this.#source.location}: ${(e as Error).message}`, e);
      }
      if (page.length === 0) refuse('CANNOT_CATCH_UP', `block ${s.size} is not in the public log; cannot reach height ${target}`);
      for (const b of page) {
        if (s.size >= target) break;
        s = await this.#adopt(s, b);
      }
      s = await this.#save(s);
    }
    if (s.size > state.size) this.#log.info({ msg: 'validator caught up from the public log', validator: this.name, from: state.size, to: s.size });
    return s;
  }

  /** One block of catch-up (see #catchUp); refuses CANNOT_CATCH_UP, or STATE_CONFLICT against our own records. */
  async #adopt(s: ValidatorState, b: { height: number; header: string; checkpoint: string }): Promise<ValidatorState> {
    const at = `block ${s.size}`;
    if (b.height !== s.size) refuse('CANNOT_CATCH_UP', `the public log answered block ${b.height} for ${at}`);
    let header: BlockHeader;
    let q: ReturnType<typeof verifyCheckpointQuorum>;
    try {
      header = parseBlockHeader(b.header);
      q = verifyCheckpointQuorum(b.checkpoint, this.#set);
    } catch (e) {
      refuse('CANNOT_CATCH_UP', `${at} is malformed: ${(e as Error).message}`, e);
    }
    if (header.height !== s.size) refuse('CANNOT_CATCH_UP', `${at}: its header names height ${header.height}`);
    if (!equalBytes(header.prev, s.lastLeaf)) refuse('CANNOT_CATCH_UP', `${at} does not extend the calendar we hold (its prev is not our last leaf)`);
    if (!q.ok) refuse('CANNOT_CATCH_UP', `${at}: its checkpoint has no quorum of our validator set (${q.weight}/${q.total}${q.reason ? `, ${q.reason}` : ''})`);
    const leaf = headerLeaf(b.header);
    const frontier = appendLeaf(s.frontier, s.size, leaf);
    const cp = q.checkpoint;
    if (cp.origin !== this.origin || cp.size !== s.size + 1 || !equalBytes(cp.root, frontierRoot(frontier))) {
      refuse('CANNOT_CATCH_UP', `${at}: its checkpoint is not the calendar we hold extended by its header`);
    }
    const hash = checkpointHash(noteBody(b.checkpoint));
    const ours = q.cosignatures.find((c) => c.name === this.name);
    let cosignedAt = s.cosignedAt;
    if (ours) {
      const r = await this.#store.recordSigned({ size: cp.size, hash, at: ours.time });
      if (r.result === 'conflict') return this.#conflict(s, `${at} carries our cosignature of size ${cp.size}, but we recorded another checkpoint of that size`);
      cosignedAt = Math.max(cosignedAt, ours.time);
    } else {
      const rec = await this.#store.getSigned(cp.size);
      if (rec && rec.hash !== hash) return this.#conflict(s, `a quorum finalized another checkpoint of size ${cp.size} than the one we signed`);
    }
    return { size: s.size + 1, frontier, lastLeaf: leaf, lastTime: header.time, cosignedAt, conflict: null, updatedAt: this.#now().toISOString() };
  }

  /**
   * A retried request for the size we vouch for: only a checkpoint we signed
   * ourselves, cosigned again with the time of that cosignature, so the line is
   * identical (Ed25519 is deterministic) and a late retry never moves the time.
   */
  async #resign(req: SignRequest, state: ValidatorState): Promise<SignResponse> {
    const rec = await this.#store.getSigned(state.size);
    if (rec && rec.hash === checkpointHash(req.checkpoint)) return this.#signature(req.checkpoint, rec.at);
    if (rec) refuse('EQUIVOCATION', `size ${state.size} was already signed with a different checkpoint`);
    refuse('STALE_HEIGHT', `size ${state.size} was adopted from the public log, where it is final; we did not sign it`);
  }

  #checkPrev(header: BlockHeader, state: ValidatorState): void {
    if (!equalBytes(header.prev, state.lastLeaf)) refuse('BAD_PREV', `prev is not the leaf hash of block ${header.height - 1} we vouch for`);
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

  /** round-size, anchors and round-root recomputed from the members the request carries (leaf data = batch root). */
  #checkRound(header: BlockHeader, req: SignRequest): void {
    const members = req.members;
    if (members.length !== header.roundSize) refuse('BAD_ROUND', `round-size ${header.roundSize} but the request has ${members.length} members`);
    const anchors = members.reduce((n, m) => n + m.count, 0);
    if (anchors !== header.anchors) refuse('BAD_ROUND', `anchors ${header.anchors} but the members hold ${anchors}`);
    const root = MerkleTree.fromLeafData(members.map((m) => hexToBytes(m.root))).root();
    if (!equalBytes(root, header.roundRoot)) refuse('BAD_ROUND', 'the member roots do not hash to round-root');
  }

  /** The checkpoint must be exactly our calendar with this header appended; returns the new frontier. */
  #checkCheckpoint(req: SignRequest, state: ValidatorState): Uint8Array[] {
    try {
      parseCheckpoint(req.checkpoint);
    } catch (e) {
      refuse('BAD_CHECKPOINT', (e as Error).message, e);
    }
    const next = appendLeaf(state.frontier, state.size, headerLeaf(req.header));
    const expected = formatCheckpoint({ origin: this.origin, size: state.size + 1, root: frontierRoot(next) });
    if (req.checkpoint !== expected) refuse('BAD_CHECKPOINT', `checkpoint is not our calendar of size ${state.size + 1}`);
    return next;
  }

  /** Our C2SP tlog-cosignature/v1 line over the checkpoint at `time` (docs/protocol.md 4.3, 7.3). */
  #signature(checkpoint: string, time: number): SignResponse {
    return { validator: this.name, signature: cosignCheckpoint(checkpoint, this.#signerKey, time), checkpoint };
  }
}
