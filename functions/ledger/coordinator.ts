/**
 * The round coordinator (docs/protocol.md 7.2; README.md "Life of a
 * round"). One call of runRound does, each step idempotent so that a coordinator
 * killed anywhere is simply run again, and two running at once cannot fork:
 *
 *  1. settle the latest block if it is not settled yet (settle.ts);
 *  2. resume the stored proposal of the next height, or build one from the
 *     pending batches that arrived before the cut-off (first writer wins);
 *  3. ask every validator in parallel, each with its own timeout, and keep only
 *     signature lines that verify over the exact checkpoint text;
 *  4. with more than 2/3 of the weight, write the block (conditional put);
 *  5. settle it.
 */
import { createHash } from 'node:crypto';
import {
  checkQuorum,
  encodeBlockHeader,
  formatCheckpoint,
  GENESIS_PREV,
  parseBlockHeader,
  timeToRfc3339Millis,
  type ValidatorSet,
  validatorSetHash,
} from '@ledgerseal/sdk';
import type { Block, LedgerEvent, PendingBatch, Proposal, RoundMember, Store } from '../store/port.ts';
import { appendHeader, headerLeafHash } from './calendar.ts';
import { batchQuarantinedEvent, validatorFaultEvent } from './events.ts';
import type { ValidatorClient } from './remote-validator.ts';
import { checkMembers, roundTree } from './round.ts';
import { settleBlock, type SettleDeps } from './settle.ts';
import { collectSignatures, realTimers, type Timers, type ValidatorFault } from './signatures.ts';

export type { Timers, ValidatorFault } from './signatures.ts';

/** Names passed to `failAfter`, in the order a round reaches them. */
export const ROUND_STEPS = [
  'settle:nodes',
  'settle:placements',
  'settle:pending',
  'settle:events',
  'settle:mark',
  'quarantine',
  'propose',
  'faults',
  'block',
] as const;
export type RoundStep = (typeof ROUND_STEPS)[number];

export interface RoundDeps {
  store: Store;
  origin: string;
  validatorSet: ValidatorSet;
  validators: readonly ValidatorClient[];
  /**
   * Per-validator timeout (a client's own timeoutMs wins). Default: grows with the
   * round, 5 s + 2 ms per batch + 10 ms per 1,000 anchors, at most 60 s
   * (`defaultSignTimeoutMs` in signatures.ts).
   */
  signTimeoutMs?: number;
  now?: () => Date;
  /** Most batches in one round (bounds the proposal item and the validators' reads). Default 1,024 (config.ts). */
  maxBatchesPerRound?: number;
  /** Sign timeouts and the quorum grace run on these (tests control them). Default: real timers. */
  timers?: Timers;
  /**
   * Only batches that arrived at least this long ago by this coordinator's clock are
   * taken. Default 0: every pending batch, whatever the clocks say.
   */
  cutoffLagMs?: number;
  onEvent?: (e: LedgerEvent) => void;
  log?: (level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => void;
  /** Test hook: called after each step's write; throw to simulate a crash there. */
  failAfter?: (step: RoundStep) => void;
}

export type RoundStatus = 'finalized' | 'empty' | 'no-quorum' | 'lost-race';

export interface RoundOutcome {
  status: RoundStatus;
  /** Height of the block proposed (absent for an empty round). */
  height?: number;
  batches: number;
  anchors: number;
  /** Validators whose signatures verified (in set order). */
  signers: string[];
  faults: ValidatorFault[];
  /** Pending batches this run could not read or recheck: quarantined and left out of every round. */
  leftOut: LeftOutBatch[];
  durations: { settleMs: number; proposeMs: number; signMs: number; totalMs: number };
}

export interface LeftOutBatch {
  batchId: string;
  agencyId: string;
  reason: string;
}

const sha256Hex = (s: string): string => createHash('sha256').update(s, 'utf8').digest('hex');

/** The largest timestamp a key can hold: "no cut-off". */
const LATEST_TIMESTAMP = '9999-12-31T23:59:59.999Z';

/** Batches per round unless the caller says otherwise (config.ts LEDGERSEAL_MAX_BATCHES_PER_ROUND). */
export const DEFAULT_MAX_BATCHES = 1_024;

/**
 * Leave batches out of every round, each step idempotent: the quarantine record
 * (first one stays), the agency's batch.quarantined event (deterministic id),
 * then the pending marker is deleted. A crash in between repeats it all.
 */
async function quarantine(deps: RoundDeps, bad: (LeftOutBatch & { arrivedAt: string })[], now: Date, height: number): Promise<void> {
  const at = now.toISOString();
  for (const { arrivedAt: _, ...b } of bad) {
    await deps.store.putQuarantine({ ...b, at });
    deps.log?.('error', 'batch quarantined: left out of every round', { height, ...b });
  }
  const events = bad.map((b) => batchQuarantinedEvent({ batchId: b.batchId, agencyId: b.agencyId, reason: b.reason, time: at }));
  await deps.store.putEvents(events);
  for (const e of events) deps.onEvent?.(e);
  deps.failAfter?.('quarantine');
  await deps.store.deletePending(bad);
}

/** Run one round. Throws only for store errors (and the test hook); validator trouble is a fault, not an error. */
export async function runRound(deps: RoundDeps): Promise<RoundOutcome> {
  const now = deps.now ?? (() => new Date());
  const timers = deps.timers ?? realTimers;
  const clock = (): number => timers.now();
  const t0 = clock();
  const settleDeps: SettleDeps = { store: deps.store, validatorSet: deps.validatorSet, onEvent: deps.onEvent, failAfter: deps.failAfter };
  // 1. Settle what the last run (ours or another coordinator's) may have left half done.
  const latest = await deps.store.getLatestBlock();
  if (latest && !latest.settled) await settleBlock(settleDeps, latest);
  const t1 = clock();
  // 2. Resume the proposal of the next height, or build one.
  const height = latest ? latest.height + 1 : 0;
  let proposal = await deps.store.getProposal(height);
  const leftOut: LeftOutBatch[] = [];
  if (!proposal) {
    const built = await buildProposal(deps, now(), latest, height, leftOut);
    if (!built) {
      const t = clock();
      return outcome('empty', undefined, [], [], leftOut, { settleMs: t1 - t0, proposeMs: t - t1, signMs: 0, totalMs: t - t0 });
    }
    proposal = await deps.store.putProposal(built); // first writer wins: adopt theirs
    deps.failAfter?.('propose');
  }
  const t2 = clock();
  // 3. Ask every validator.
  const { lines, faults } = await collectSignatures(deps, proposal);
  const signers = deps.validatorSet.validators.filter((v) => lines.has(v.name)).map((v) => v.name);
  const t3 = clock();
  const durations = (): RoundOutcome['durations'] => {
    const t = clock();
    return { settleMs: t1 - t0, proposeMs: t2 - t1, signMs: t3 - t2, totalMs: t - t0 };
  };
  const quorum = checkQuorum(deps.validatorSet, signers);
  if (!quorum.ok) {
    // A slow coordinator may ask about a height others finalized long ago: validators that
    // moved on refuse (STALE_HEIGHT). That is a lost race, not a validator fault.
    const done = await deps.store.getBlock(height);
    if (done) {
      if (!done.settled) await settleBlock(settleDeps, done);
      return outcome('lost-race', proposal, [], [], leftOut, durations());
    }
  }
  // Record the faults (deterministic ids: one event per height, validator and reason).
  if (faults.length > 0) {
    const time = now().toISOString();
    const events = faults.map((f) => validatorFaultEvent({ ...f, height, time }));
    await deps.store.putEvents(events);
    for (const e of events) deps.onEvent?.(e);
    deps.failAfter?.('faults');
    for (const f of faults) deps.log?.('warn', 'validator fault', { height, ...f });
  }
  // 4. Quorum: more than 2/3 of the weight, then the block (conditional put).
  if (!quorum.ok) {
    deps.log?.('warn', 'no quorum', { height, weight: quorum.weight, total: quorum.total });
    return outcome('no-quorum', proposal, signers, faults, leftOut, durations());
  }
  const note = proposal.checkpoint + '\n' + signers.map((n) => lines.get(n)!).join('');
  const block: Block = {
    height,
    header: proposal.header,
    checkpoint: note,
    proposalId: proposal.proposalId,
    finalizedAt: now().toISOString(),
    settled: false,
  };
  const won = await deps.store.putBlock(block);
  deps.failAfter?.('block');
  // 5. Settle (ours, or the block of the coordinator that won the race).
  const final = won ? block : await deps.store.getBlock(height);
  if (final && !final.settled) await settleBlock(settleDeps, final);
  if (won) deps.log?.('info', 'round finalized', { height, batches: proposal.members.length, signers });
  return outcome(won ? 'finalized' : 'lost-race', proposal, won ? signers : [], faults, leftOut, durations());
}

function outcome(
  status: RoundStatus,
  proposal: Proposal | undefined,
  signers: string[],
  faults: ValidatorFault[],
  leftOut: LeftOutBatch[],
  durations: RoundOutcome['durations'],
): RoundOutcome {
  const out: RoundOutcome = { status, batches: 0, anchors: 0, signers, faults, leftOut, durations };
  if (proposal) {
    out.height = proposal.height;
    out.batches = proposal.members.length;
    out.anchors = proposal.members.reduce((n, m) => n + m.count, 0);
  }
  return out;
}

/**
 * Build the proposal of `height` from the pending batches (oldest first), or null
 * when there is nothing to propose. Batches already placed in a block (a pending
 * marker written again by a late retry) are dropped and their markers deleted;
 * the placements are read consistently, since a stale miss would put a batch in
 * two blocks. A batch that cannot be read, or whose stored anchors, count or
 * agency do not match its marker, is quarantined (docs/protocol.md 7.2): a
 * quarantine record, a batch.quarantined event for its agency, its marker
 * deleted, so it never holds up a round again; validators would refuse the whole
 * round for it, and a proposal, once stored, is final. Members carry the
 * marker's agencyId, so settling needs no batch read.
 */
async function buildProposal(deps: RoundDeps, now: Date, latest: Block | null, height: number, leftOut: LeftOutBatch[]): Promise<Proposal | null> {
  const { store } = deps;
  // Without a cut-off lag every visible marker is taken: its batch is complete (the marker is
  // written last), and a coordinator whose clock is slow must not leave recent batches waiting.
  const lag = deps.cutoffLagMs ?? 0;
  const before = lag === 0 ? LATEST_TIMESTAMP : new Date(now.getTime() - lag).toISOString();
  const pending = await store.listPending({ before, limit: deps.maxBatchesPerRound ?? DEFAULT_MAX_BATCHES });
  if (pending.length === 0) return null;
  const placements = await store.getPlacements(pending.map((p) => p.batchId), { consistent: true });
  const placed = pending.filter((p) => placements.has(p.batchId));
  if (placed.length > 0) await store.deletePending(placed);
  let members: RoundMember[] = pending
    .filter((p) => !placements.has(p.batchId))
    .map((p: PendingBatch) => ({ batchId: p.batchId, agencyId: p.agencyId, root: p.root, count: p.count, arrivedAt: p.arrivedAt }));
  if (members.length === 0) return null;
  const { problems } = checkMembers(members, await store.getBatches(members.map((m) => m.batchId)));
  if (problems.length > 0) {
    const reasons = new Map<string, string>();
    for (const p of problems) if (!reasons.has(p.batchId)) reasons.set(p.batchId, p.problem);
    const bad = members
      .filter((m) => reasons.has(m.batchId))
      .map((m) => ({ batchId: m.batchId, agencyId: m.agencyId, arrivedAt: m.arrivedAt, reason: reasons.get(m.batchId)! }));
    await quarantine(deps, bad, now, height);
    leftOut.push(...bad.map(({ arrivedAt: _, ...b }) => b));
    members = members.filter((m) => !reasons.has(m.batchId));
    if (members.length === 0) return null;
  }
  // Time never goes back (docs/protocol.md 7.2), even if this clock is behind the last block's.
  const prevHeader = latest ? parseBlockHeader(latest.header) : null;
  const time = prevHeader && Date.parse(prevHeader.time) > now.getTime() ? prevHeader.time : timeToRfc3339Millis(now);
  const header = encodeBlockHeader({
    height,
    time,
    roundSize: members.length,
    anchors: members.reduce((n, m) => n + m.count, 0),
    roundRoot: roundTree(members).root(),
    prev: latest ? headerLeafHash(latest.header) : GENESIS_PREV,
    validators: validatorSetHash(deps.validatorSet),
  });
  const { root } = await appendHeader(store, height, header);
  const checkpoint = formatCheckpoint({ origin: deps.origin, size: height + 1, root });
  return {
    height,
    proposalId: `${height}-${sha256Hex(header + checkpoint).slice(0, 16)}`,
    header,
    checkpoint,
    members,
    createdAt: now.toISOString(),
  };
}
