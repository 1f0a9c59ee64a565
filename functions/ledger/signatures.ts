/**
 * Step 3 of a round (README.md "Life of a round"): ask every validator of the set
 * in parallel, each bounded by its own timeout, and keep only the signature lines
 * that verify over the exact proposed checkpoint text with that validator's key
 * from the set. Everything else becomes a fault with a closed reason:
 *
 *   timeout        no answer in time (the call is aborted)
 *   unreachable    network error, 5xx, or no client configured for a set member
 *   refused        a ValidatorRefusal (its code and reason in the detail)
 *   bad-signature  an answer that is malformed, from another name, or does not verify
 *   equivocation   a valid signature over ANOTHER checkpoint of the same size (evidence in the detail)
 *
 * The timeout of a validator is its client's `timeoutMs`, else the round's
 * `signTimeoutMs`, else `defaultSignTimeoutMs(members)`, which grows with the
 * work every validator must redo (read and rehash every member batch).
 *
 * Once the verified signatures reach a quorum, the stragglers get a grace period
 * (QUORUM_GRACE: as long again as the quorum took, at least 2 s) and are then cut
 * off as 'timeout' faults: one hung validator must not hold every round for its
 * whole timeout while the others have long agreed, and healthy validators, which
 * answer in about the same time, still all make it onto the checkpoint.
 */
import { bytesToHex, parseCheckpoint, type ValidatorSet, verifyNote } from '@ledgerseal/sdk';
import type { Proposal, RoundMember } from '../store/port.ts';
import type { FaultReason } from './events.ts';
import { InvalidSignResponse, type ValidatorClient } from './remote-validator.ts';
import { type SignRequest, SignResponseSchema, ValidatorRefusal } from '../validator/protocol.ts';

export interface ValidatorFault {
  validator: string;
  reason: FaultReason;
  detail: string;
}

class Timeout extends Error {}

/**
 * The coordinator's timers: real ones by default; tests pass controlled ones so
 * that no outcome depends on how fast the machine is (a timer fires when the
 * test says so). Labels: `sign-timeout:<validator>` and `quorum-grace`.
 */
export interface Timers {
  /** Call `fn` after `ms` milliseconds; returns a function that cancels it. */
  set(label: string, ms: number, fn: () => void): () => void;
  /** A monotonic clock in milliseconds (durations and the time-to-quorum). */
  now(): number;
}

export const realTimers: Timers = {
  set(_label, ms, fn) {
    const t = setTimeout(fn, ms);
    return () => clearTimeout(t);
  },
  now: () => performance.now(),
};

/** After the quorum: wait max(minMs, factor x time-to-quorum) for the remaining validators. */
export const QUORUM_GRACE = { minMs: 2_000, factor: 1 } as const;

/** Default sign timeout: base, plus a share per member batch and per anchor, capped. */
export const SIGN_TIMEOUT = { baseMs: 5_000, perBatchMs: 2, perThousandAnchorsMs: 10, maxMs: 60_000 } as const;

/**
 * The default per-validator timeout for a round: 5 s + 2 ms per batch + 10 ms per
 * 1,000 anchors, at most 60 s. A validator reads every member batch and
 * recomputes its root (README.md "The validator checks"), so its time grows
 * with the anchors. Four in-process validators sharing one thread on a
 * 2-core machine took about 7 s for 1,000 batches of 1,000 (BENCHMARKS.md
 * "Service", 3b) and 8.4 s for 1,024 (test/ledger/large-round.slow.test.ts),
 * against 17 s and 17.3 s allowed here. A round of 1 batch gets 5 s.
 */
export function defaultSignTimeoutMs(members: readonly Pick<RoundMember, 'count'>[]): number {
  const anchors = members.reduce((n, m) => n + m.count, 0);
  const t = SIGN_TIMEOUT.baseMs + SIGN_TIMEOUT.perBatchMs * members.length + (SIGN_TIMEOUT.perThousandAnchorsMs * anchors) / 1_000;
  return Math.min(SIGN_TIMEOUT.maxMs, Math.ceil(t));
}

/** Does `line` (one signature line) verify over `text` with `key` as validator `name`? */
function signs(text: string, line: string, name: string, key: string): boolean {
  if (!line.endsWith('\n') || line.indexOf('\n') !== line.length - 1) return false;
  try {
    return verifyNote(`${text}\n${line}`, [key]).verified.includes(name);
  } catch {
    return false;
  }
}

type Answer = { ok: true; line: string } | { ok: false; reason: FaultReason; detail: string };

async function askOne(
  client: ValidatorClient,
  key: string,
  req: SignRequest,
  timeoutMs: number,
  cutoff: AbortSignal,
  timers: Timers,
): Promise<Answer> {
  const controller = new AbortController();
  let cancel: (() => void) | undefined;
  let onCutoff: (() => void) | undefined;
  const expired = new Promise<never>((_, reject) => {
    const stop = (why: Timeout): void => {
      controller.abort(why);
      reject(why);
    };
    cancel = timers.set(`sign-timeout:${client.name}`, timeoutMs, () => stop(new Timeout(`no answer within ${timeoutMs} ms`)));
    onCutoff = () => stop(cutoff.reason as Timeout);
    cutoff.addEventListener('abort', onCutoff, { once: true });
  });
  const call = Promise.resolve().then(() => client.sign(req, { signal: controller.signal }));
  call.catch(() => {}); // a late rejection after the timeout is not unhandled
  let raw: unknown;
  try {
    raw = await Promise.race([call, expired]);
  } catch (e) {
    if (e instanceof Timeout || controller.signal.aborted) return { ok: false, reason: 'timeout', detail: (e as Error).message };
    if (e instanceof ValidatorRefusal) return { ok: false, reason: 'refused', detail: `${e.code}: ${e.reason}` };
    if (e instanceof InvalidSignResponse) return { ok: false, reason: 'bad-signature', detail: e.message };
    return { ok: false, reason: 'unreachable', detail: e instanceof Error ? e.message : String(e) };
  } finally {
    cancel?.();
    if (onCutoff) cutoff.removeEventListener('abort', onCutoff);
  }
  const res = SignResponseSchema.safeParse(raw);
  if (!res.success) return { ok: false, reason: 'bad-signature', detail: 'malformed sign response' };
  const { validator, signature, checkpoint } = res.data;
  if (validator !== client.name) return { ok: false, reason: 'bad-signature', detail: `answered as "${validator}"` };
  if (checkpoint !== req.checkpoint) {
    // A valid signature on another checkpoint of the same size is evidence of equivocation.
    let sameSize = false;
    try {
      sameSize = parseCheckpoint(checkpoint).size === parseCheckpoint(req.checkpoint).size;
    } catch {
      /* not a checkpoint at all */
    }
    if (sameSize && signs(checkpoint, signature, client.name, key)) {
      return { ok: false, reason: 'equivocation', detail: `signed a different checkpoint of the same size: ${JSON.stringify(checkpoint + '\n' + signature)}` };
    }
    return { ok: false, reason: 'bad-signature', detail: 'signed text is not the proposed checkpoint' };
  }
  if (!signs(req.checkpoint, signature, client.name, key)) {
    return { ok: false, reason: 'bad-signature', detail: 'signature does not verify over the checkpoint' };
  }
  return { ok: true, line: signature };
}

/** Ask every validator of the set in parallel; keep the verified lines by name. */
export async function collectSignatures(
  deps: {
    origin: string;
    validatorSet: ValidatorSet;
    validators: readonly ValidatorClient[];
    signTimeoutMs?: number | undefined;
    timers?: Timers | undefined;
  },
  proposal: Proposal,
): Promise<{ lines: Map<string, string>; faults: ValidatorFault[] }> {
  const req: SignRequest = {
    origin: deps.origin,
    height: proposal.height,
    proposalId: proposal.proposalId,
    header: proposal.header,
    checkpoint: proposal.checkpoint,
    // The round tree leaves in order: validators recompute round-size, anchors and round-root from them.
    members: proposal.members.map((m) => ({ root: bytesToHex(m.root), count: m.count })),
  };
  const keys = new Map(deps.validatorSet.validators.map((v) => [v.name, v.key] as const));
  const asked = deps.validators.filter((c) => keys.has(c.name));
  const roundTimeoutMs = deps.signTimeoutMs ?? defaultSignTimeoutMs(proposal.members);
  const weights = new Map(deps.validatorSet.validators.map((v) => [v.name, v.weight] as const));
  const total = [...weights.values()].reduce((a, b) => a + b, 0);
  const timers = deps.timers ?? realTimers;
  const cutoff = new AbortController();
  const started = timers.now();
  let weight = 0;
  let cancelGrace: (() => void) | undefined;
  const answers = await Promise.all(asked.map(async (c) => {
    const a = await askOne(c, keys.get(c.name)!, req, c.timeoutMs ?? roundTimeoutMs, cutoff.signal, timers);
    if (a.ok) weight += weights.get(c.name)!;
    if (a.ok && 3 * weight > 2 * total && cancelGrace === undefined && asked.length > 0) {
      const graceMs = Math.max(QUORUM_GRACE.minMs, Math.ceil(QUORUM_GRACE.factor * (timers.now() - started)));
      cancelGrace = timers.set('quorum-grace', graceMs, () => cutoff.abort(new Timeout(`no answer within ${graceMs} ms after the quorum was reached`)));
    }
    return a;
  }));
  cancelGrace?.();
  const lines = new Map<string, string>();
  const faults: ValidatorFault[] = [];
  answers.forEach((a, i) => {
    const name = asked[i]!.name;
    if (a.ok) lines.set(name, a.line);
    else faults.push({ validator: name, reason: a.reason, detail: a.detail });
  });
  // Members of the set the coordinator has no client for are missing signatures too.
  for (const v of deps.validatorSet.validators) {
    if (!deps.validators.some((c) => c.name === v.name)) faults.push({ validator: v.name, reason: 'unreachable', detail: 'no client configured' });
  }
  return { lines, faults };
}
