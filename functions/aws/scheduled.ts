/**
 * What the scheduled functions do in one invocation, within the time the
 * Lambda has (docs/deploy.md "What runs when"):
 *
 * - rounds: run rounds back to back until one finds nothing pending (or no
 *   quorum), so a coordinator that fell behind (a slow round, a missed tick,
 *   validators down for a while) drains several rounds in one run. Nothing
 *   assumes the schedule is aligned with anything: each round takes what is
 *   pending when it starts, and two invocations running at once are safe
 *   (coordinator.ts: one block per height, first proposal wins). Then the
 *   webhook worker drains what those rounds queued, so the first attempt of
 *   `anchor.confirmed` follows finalization in the same invocation.
 * - webhooks: drain the delivery worker (retries that came due, messages the
 *   API queued: test, resend, recover).
 *
 * A run starts no new round, and no new webhook pass, once its budget is
 * spent: a round can take up to the longest sign timeout (60 s, signatures.ts)
 * and an attempt up to LEDGERSEAL_WEBHOOK_TIMEOUT_MS, so each budget keeps
 * that much of the Lambda timeout in reserve.
 */
import type { RoundOutcome, RoundStatus } from '../ledger/coordinator.ts';
import type { Ledger } from '../wiring.ts';

/** The part of the Lambda context these handlers use. */
export interface LambdaContext {
  getRemainingTimeInMillis(): number;
  awsRequestId?: string;
}

/**
 * The event the CronV2 schedules pass (sst.config.ts `event`): EventBridge
 * Scheduler fills in its context attributes (`<aws.scheduler.scheduled-time>`...).
 * Used for logging only; nothing depends on it.
 */
export interface ScheduleEvent {
  scheduledTime?: string;
  scheduleArn?: string;
  executionId?: string;
  attemptNumber?: string;
}

/** New rounds start only in the first this-many ms of a run, so that a run ends near the next tick (rate(1 minute)). */
export const ROUNDS_START_WINDOW_MS = 45_000;
/** ...and only while this much of the Lambda timeout is left: the longest a round may wait for signatures (60 s) plus settling. */
export const ROUND_RESERVE_MS = 65_000;
/** Webhook passes start only in the first this-many ms of a run. */
export const WEBHOOKS_WINDOW_MS = 50_000;
/** Beyond the attempt timeout, what a webhook run keeps to record its last attempts and give the lease up. */
export const WEBHOOK_RESERVE_MS = 5_000;

export interface RoundsRun {
  rounds: number;
  finalized: number;
  /** Why the run stopped starting rounds. */
  stoppedBy: 'drained' | 'no-quorum' | 'budget';
  statuses: RoundStatus[];
  anchors: number;
}

/** Lateness of a scheduled run, for the log (null when the event has no scheduled time). */
function lateMs(event: ScheduleEvent | undefined, startedAt: number): number | null {
  const t = event?.scheduledTime !== undefined ? Date.parse(event.scheduledTime) : Number.NaN;
  return Number.isFinite(t) ? startedAt - t : null;
}

/** Rounds until nothing is pending, no quorum, or the budget is spent. */
export async function runRounds(ledger: Ledger, context: LambdaContext, event?: ScheduleEvent): Promise<RoundsRun> {
  const startedAt = Date.now();
  const startBy = Math.min(startedAt + ROUNDS_START_WINDOW_MS, startedAt + context.getRemainingTimeInMillis() - ROUND_RESERVE_MS);
  const outcomes: RoundOutcome[] = [];
  let stoppedBy: RoundsRun['stoppedBy'] = 'budget';
  while (Date.now() < startBy) {
    const o = await ledger.round();
    outcomes.push(o);
    if (o.status === 'empty') {
      stoppedBy = 'drained';
      break;
    }
    if (o.status === 'no-quorum') {
      stoppedBy = 'no-quorum'; // the next run asks again (the stored proposal is resumed)
      break;
    }
  }
  const run: RoundsRun = {
    rounds: outcomes.filter((o) => o.status !== 'empty').length,
    finalized: outcomes.filter((o) => o.status === 'finalized').length,
    stoppedBy,
    statuses: outcomes.map((o) => o.status),
    anchors: outcomes.reduce((n, o) => n + (o.status === 'finalized' ? o.anchors : 0), 0),
  };
  const fields = { msg: 'rounds run', ...run, lateMs: lateMs(event, startedAt), ms: Date.now() - startedAt };
  if (stoppedBy === 'drained') ledger.services.log.info(fields);
  else ledger.services.log.warn(fields);
  return run;
}

/** Drain the webhook worker within the budget, then give its lease up (the other scheduled function may drain next). */
export async function drainWebhooks(ledger: Ledger, context: LambdaContext, runStartedAt = Date.now()): Promise<void> {
  const reserve = ledger.config.webhooks.timeoutMs + WEBHOOK_RESERVE_MS;
  const deadline = Math.min(runStartedAt + WEBHOOKS_WINDOW_MS, Date.now() + context.getRemainingTimeInMillis() - reserve);
  try {
    await ledger.webhooks.drain(100_000, deadline);
  } finally {
    await ledger.webhooks.stop(); // waits for attempts in flight, releases the lease
  }
}
