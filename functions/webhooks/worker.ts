/**
 * The webhook delivery worker (docs/webhooks.md "Delivery"). One worker drains
 * at a time (a lease in the table); each pass:
 *
 * 1. fans out the outbox: every ledger event with a marker becomes webhook
 *    events (payloads.ts), one message per event and subscribed endpoint, and
 *    the first attempt of each is started at once;
 * 2. starts the attempts that are due (the retry queue, manual resends).
 *
 * Nothing is lost if the process dies at any point: an outbox marker is deleted
 * only after every message of its event is recorded (delivered, or pending with
 * a due entry), and a due entry only after its attempt is recorded. The next due
 * entry is written before the message that names its time, and that before the
 * entry it replaces; a due entry whose time the message no longer names is
 * stale and dropped. A death in between means the attempt is made again:
 * delivery is at least once, and receivers deduplicate by webhook-id. Every
 * attempt is signed when it is sent, with the endpoint's current secrets.
 */
import { webhookHeaders } from '@ledgerseal/sdk';
import type { WebhookConfig } from '../config.ts';
import type { Clock, Logger } from '../services.ts';
import type { LedgerEvent, Store } from '../store/port.ts';
import type {
  AttemptResult,
  AttemptTrigger,
  DueEntry,
  OutboxEntry,
  WebhookAttempt,
  WebhookEndpoint,
  WebhookMessage,
  WebhookPayload,
  WebhookStore,
} from '../store/webhook-port.ts';
import type { Sender, SendResult } from './http-send.ts';
import { envelope, messageId, webhookEventsOf, type WebhookEvent } from './payloads.ts';
import { classify, retryDelayMs } from './policy.ts';
import { openSecret } from './secret-box.ts';

export const LEASE_NAME = 'webhook-worker';
/** Messages keep the most recent attempts in their history. */
export const HISTORY_MAX = 20;
/** A marker whose event never appeared (its writer died in between) is dropped after this. */
export const ORPHAN_MARKER_MS = 3_600_000;
const FETCH = 500;
/** Reads of the outbox skip the markers in flight, but start from the oldest marker at least this often. */
const FULL_SCAN_MS = 1_000;
/** A pass fetches nothing new while this many attempts wait or run. */
const MAX_QUEUED = 5_000;

export interface WorkerDeps {
  store: Store;
  config: WebhookConfig;
  origin: string;
  publicUrl: string | null;
  sender: Sender;
  clock: Clock;
  log: Logger;
  random?: () => number;
  /** Who holds the lease (default: random). */
  owner?: string;
  /** How long a lease lasts without renewal (default 60 s). */
  leaseMs?: number;
}

interface Job {
  message: WebhookMessage;
  endpoint: WebhookEndpoint;
  payload: WebhookPayload;
  trigger: AttemptTrigger;
  /** The due entry this attempt consumes (absent for a first attempt from the outbox). */
  due?: DueEntry;
}

/** A counting semaphore: run() waits for a free slot. */
class Slots {
  private free: number;
  private readonly waiting: (() => void)[] = [];
  constructor(size: number) {
    this.free = size;
  }
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((r) => this.waiting.push(r));
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    }
  }
}

interface Writes {
  messages: WebhookMessage[];
  attempts: WebhookAttempt[];
  due: DueEntry[];
  dropDue: DueEntry[];
  dropOutbox: OutboxEntry[];
}

/**
 * Collects writes from many attempts and writes them in few batch calls: first
 * every put (messages, attempts, new due entries), then the deletions of what
 * those puts replace (consumed due entries, drained outbox markers).
 */
class Recorder {
  private pending: Writes = Recorder.empty();
  private waiters: { resolve: () => void; reject: (e: unknown) => void }[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  constructor(private readonly store: WebhookStore) {}

  static empty(): Writes {
    return { messages: [], attempts: [], due: [], dropDue: [], dropOutbox: [] };
  }

  write(w: Partial<Writes>): Promise<void> {
    for (const k of Object.keys(w) as (keyof Writes)[]) (this.pending[k] as unknown[]).push(...(w[k] ?? []));
    const done = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    this.timer ??= setTimeout(() => void this.flush(), this.waiters.length >= 200 ? 0 : 5);
    return done;
  }

  private async flush(): Promise<void> {
    this.timer = undefined;
    const w = this.pending;
    const waiters = this.waiters;
    this.pending = Recorder.empty();
    this.waiters = [];
    try {
      // Order matters for a crash between any two: a message never names a due time without its entry.
      await this.store.putDue(w.due);
      await Promise.all([this.store.putMessages(w.messages), this.store.putAttempts(w.attempts)]);
      await Promise.all([this.store.deleteDue(w.dropDue), this.store.deleteOutbox(w.dropOutbox)]);
      for (const x of waiters) x.resolve();
    } catch (e) {
      for (const x of waiters) x.reject(e);
    }
  }
}

const msgKey = (endpointId: string, msgId: string): string => `${endpointId}/${msgId}`;
const outboxKey = (e: OutboxEntry): string => `${e.writtenAt}#${e.eventId}`;

function subscribed(ep: WebhookEndpoint, e: WebhookEvent, now: number): boolean {
  if (ep.status !== 'enabled' || Date.parse(ep.createdAt) > now) return false;
  if (e.agencyId !== undefined && e.agencyId !== ep.agencyId) return false;
  if (e.type === 'endpoint.disabled' && e.data['endpointId'] === ep.id) return false;
  return ep.eventTypes === undefined || ep.eventTypes.includes(e.type);
}

export interface PassResult {
  /** Attempts started (or scheduled past a throttle) by this pass. */
  started: number;
  /** Outbox markers and due entries settled without an attempt (no subscriber, stale, expired...). */
  settled: number;
}

export class WebhookWorker {
  private readonly wh: WebhookStore;
  private readonly owner: string;
  private readonly leaseMs: number;
  private readonly random: () => number;
  private readonly recorder: Recorder;
  private readonly slots: Slots;
  private readonly endpointSlots = new Map<string, Slots>();
  private readonly inflightOutbox = new Set<string>();
  private readonly inflightMessages = new Set<string>();
  private readonly running = new Set<Promise<void>>();
  private queued = 0;
  private lastFullScan = 0;
  /** Attempts started from due entries and not yet recorded. */
  private inflightDue = 0;
  private loop: Promise<void> | undefined;
  private stopping = false;
  private wakeUp: (() => void) | undefined;
  private woken = false;
  /** Base of the links in payloads (the local runner sets it once it listens). */
  publicUrl: string | null;

  constructor(private readonly deps: WorkerDeps) {
    this.publicUrl = deps.publicUrl;
    this.wh = deps.store.webhooks;
    this.owner = deps.owner ?? `worker-${Math.random().toString(36).slice(2, 12)}`;
    this.leaseMs = deps.leaseMs ?? 60_000;
    this.random = deps.random ?? Math.random;
    this.recorder = new Recorder(this.wh);
    this.slots = new Slots(deps.config.concurrency);
  }

  private now(): number {
    return this.deps.clock.now().getTime();
  }

  /** Start passes in the background: after each wake(), or every pollMs. */
  start(): void {
    if (this.loop) return;
    this.stopping = false;
    this.loop = (async () => {
      while (!this.stopping) {
        let r: PassResult = { started: 0, settled: 0 };
        try {
          r = await this.pass();
        } catch (e) {
          this.deps.log.error({ msg: 'webhook pass failed', error: e instanceof Error ? e.message : String(e) });
        }
        if (r.started + r.settled === 0 && !this.stopping) await this.sleep(this.deps.config.pollMs);
      }
    })();
  }

  /** Something was written to the outbox or the retry queue: look now. */
  wake(): void {
    this.woken = true;
    this.wakeUp?.();
  }

  private sleep(ms: number): Promise<void> {
    if (this.woken) {
      this.woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done(): void {
        clearTimeout(t);
        resolve();
      }
      this.wakeUp = () => {
        this.wakeUp = undefined;
        this.woken = false;
        done();
      };
    });
  }

  /** Stop the loop, wait for attempts in flight to be recorded, give the lease up. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wakeUp?.();
    await this.loop;
    this.loop = undefined;
    await this.idle();
    await this.wh.releaseLease(LEASE_NAME, this.owner).catch(() => {});
  }

  /** Wait until every attempt started so far is recorded. */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }

  /**
   * Passes until nothing is left to do now and nothing is in flight: what tests
   * and a scheduled run (Lambda) do. A pass that finds nothing new waits for an
   * attempt in flight to be recorded, then looks again. No pass starts at or
   * after `deadline` (epoch ms, wall clock: a Lambda's time budget); attempts
   * already started are left to finish (stop() or idle() waits for them).
   */
  async drain(maxPasses = 100_000, deadline = Number.POSITIVE_INFINITY): Promise<void> {
    for (let i = 0; i < maxPasses && Date.now() < deadline; i++) {
      const r = await this.pass();
      if (r.started + r.settled === 0 && this.running.size === 0) return;
      // Look again once enough is recorded for a pass to be worth it.
      while (this.running.size > 0 && (r.started + r.settled === 0 || !this.hungry())) await Promise.race(this.running);
    }
  }

  /** Few enough markers and due entries in flight that a pass can take a useful number of new ones. */
  private hungry(): boolean {
    return this.inflightOutbox.size < FETCH / 2 && this.inflightDue < FETCH / 2;
  }

  /** One pass: fan out the outbox, then start what is due. */
  async pass(): Promise<PassResult> {
    const now = this.now();
    if (!(await this.wh.acquireLease(LEASE_NAME, this.owner, now, now + this.leaseMs))) return { started: 0, settled: 0 };
    if (this.queued >= MAX_QUEUED) return { started: 0, settled: 0 };
    const endpoints = new Map((await this.wh.listEndpoints()).map((e) => [e.id, e] as const));
    const none = { started: 0, settled: 0 };
    const a = this.inflightOutbox.size < FETCH / 2 ? await this.fanOut(endpoints, now) : none;
    const b = this.inflightDue < FETCH / 2 ? await this.dueAttempts(endpoints, now) : none;
    return { started: a.started + b.started, settled: a.settled + b.settled };
  }

  private async fanOut(endpoints: Map<string, WebhookEndpoint>, now: number): Promise<PassResult> {
    // Markers in flight are still in the outbox (deleted once recorded): read after the newest of
    // them. Older markers left behind (not ready yet) are read by a full scan at least once a second.
    let after: string | undefined;
    if (this.inflightOutbox.size > 0 && now - this.lastFullScan < FULL_SCAN_MS) {
      for (const k of this.inflightOutbox) if (after === undefined || k > after) after = k;
    } else {
      this.lastFullScan = now;
    }
    const entries = (await this.wh.listOutbox(FETCH + (after === undefined ? this.inflightOutbox.size : 0), after)).filter(
      (e) => !this.inflightOutbox.has(outboxKey(e)),
    );
    if (entries.length === 0) return { started: 0, settled: 0 };
    const events = await this.wh.getEvents([...new Set(entries.map((e) => e.eventId))]);
    const nowIso = new Date(now).toISOString();
    const expiresAt = new Date(now + this.deps.config.retentionMs).toISOString();
    const ctx = { store: this.deps.store, origin: this.deps.origin, publicUrl: this.publicUrl };

    const plans: { entry: OutboxEntry; pairs: { msg: WebhookMessage; endpoint: WebhookEndpoint }[] }[] = [];
    const payloads = new Map<string, WebhookPayload>();
    const orphans: OutboxEntry[] = [];
    for (const entry of entries) {
      const event: LedgerEvent | undefined = events.get(entry.eventId);
      if (!event) {
        if (now - Date.parse(entry.writtenAt) > ORPHAN_MARKER_MS) orphans.push(entry);
        continue;
      }
      let outs: WebhookEvent[] | 'not-ready';
      try {
        outs = await webhookEventsOf(event, ctx);
      } catch (e) {
        this.deps.log.error({ msg: 'webhook event cannot be built', eventId: event.id, error: e instanceof Error ? e.message : String(e) });
        continue;
      }
      if (outs === 'not-ready') continue;
      const pairs: (typeof plans)[number]['pairs'] = [];
      for (const out of outs) {
        const msgId = messageId(out.id, out.time);
        for (const endpoint of endpoints.values()) {
          if (!subscribed(endpoint, out, now)) continue;
          if (!payloads.has(msgId)) {
            payloads.set(msgId, { msgId, eventId: out.id, type: out.type, body: envelope(out), createdAt: nowIso, expiresAt });
          }
          pairs.push({
            endpoint,
            msg: {
              endpointId: endpoint.id,
              agencyId: endpoint.agencyId,
              msgId,
              eventId: out.id,
              type: out.type,
              eventTime: out.time,
              createdAt: nowIso,
              status: 'pending',
              attempts: 0,
              scheduledAttempts: 0,
              nextAttemptAt: nowIso,
              history: [],
              expiresAt,
            },
          });
        }
      }
      plans.push({ entry, pairs });
    }

    await this.wh.putPayloads([...payloads.values()]);
    const existing = await this.wh.getMessages(plans.flatMap((p) => p.pairs.map((x) => ({ endpointId: x.endpoint.id, msgId: x.msg.msgId }))));
    let started = 0;
    const done: OutboxEntry[] = [...orphans];
    const repairDue: DueEntry[] = [];
    for (const plan of plans) {
      const jobs: Job[] = [];
      for (const { msg, endpoint } of plan.pairs) {
        const old = existing.get(msgKey(endpoint.id, msg.msgId));
        if (old) {
          // Fanned out before (a re-run): make sure a pending one is still queued.
          if (old.status === 'pending' && old.nextAttemptAt) repairDue.push({ dueAt: old.nextAttemptAt, endpointId: old.endpointId, msgId: old.msgId });
          continue;
        }
        jobs.push({ message: msg, endpoint, payload: payloads.get(msg.msgId)!, trigger: 'scheduled' });
      }
      if (jobs.length === 0) {
        done.push(plan.entry);
        continue;
      }
      const key = outboxKey(plan.entry);
      this.inflightOutbox.add(key);
      started += jobs.length;
      const all = Promise.allSettled(jobs.map((j) => this.track(j)));
      this.keep(
        all.then(async (results) => {
          try {
            if (results.every((r) => r.status === 'fulfilled')) await this.recorder.write({ dropOutbox: [plan.entry] });
          } finally {
            this.inflightOutbox.delete(key);
            if (this.inflightOutbox.size === Math.floor(FETCH / 2) - 1) this.wake(); // room for the markers behind these
          }
        }),
      );
    }
    if (repairDue.length > 0) await this.wh.putDue(repairDue);
    if (done.length > 0) await this.wh.deleteOutbox(done);
    return { started, settled: done.length };
  }

  private async dueAttempts(endpoints: Map<string, WebhookEndpoint>, now: number): Promise<PassResult> {
    const nowIso = new Date(now).toISOString();
    const dues = (await this.wh.listDue({ before: nowIso, limit: FETCH + this.inflightDue })).filter(
      (d) => !this.inflightMessages.has(msgKey(d.endpointId, d.msgId)),
    );
    if (dues.length === 0) return { started: 0, settled: 0 };
    const messages = await this.wh.getMessages(dues);
    const payloads = await this.wh.getPayloads([...new Set(dues.map((d) => d.msgId))]);
    const drop: DueEntry[] = [];
    /** Messages that fail without an attempt, or move past a throttle. */
    const rewrite: WebhookMessage[] = [];
    const moved: DueEntry[] = [];
    let started = 0;
    const seen = new Set<string>();
    for (const due of dues) {
      const key = msgKey(due.endpointId, due.msgId);
      const m = messages.get(key);
      const stale = !m || Date.parse(m.expiresAt) <= now || (!due.manual && (m.status !== 'pending' || m.nextAttemptAt !== due.dueAt));
      if (stale || seen.has(key)) {
        drop.push(due);
        continue;
      }
      seen.add(key);
      const endpoint = endpoints.get(m.endpointId);
      const payload = payloads.get(m.msgId);
      const why = !endpoint
        ? 'endpoint deleted'
        : endpoint.status !== 'enabled'
          ? 'endpoint disabled'
          : !payload || Date.parse(payload.expiresAt) <= now
            ? 'payload expired'
            : undefined;
      if (why !== undefined) {
        if (!due.manual) {
          const { nextAttemptAt: _, ...rest } = m;
          rewrite.push({ ...rest, status: 'failed', history: [...m.history, this.skipped(m, nowIso, why)].slice(-HISTORY_MAX) });
        }
        drop.push(due);
        continue;
      }
      const throttled = endpoint!.throttledUntil;
      if (throttled !== undefined && Date.parse(throttled) > now) {
        if (due.manual) moved.push({ ...due, dueAt: throttled });
        else {
          rewrite.push({ ...m, nextAttemptAt: throttled }); // not failed: rescheduled past the throttle
          moved.push({ dueAt: throttled, endpointId: m.endpointId, msgId: m.msgId });
        }
        drop.push(due);
        continue;
      }
      started++;
      this.inflightDue++;
      const job = this.track({ message: m, endpoint: endpoint!, payload: payload!, trigger: due.manual ? 'manual' : 'scheduled', due });
      this.keep(
        job
          .catch(() => {})
          .finally(() => {
            this.inflightDue--;
            if (this.inflightDue === Math.floor(FETCH / 2) - 1) this.wake();
          }),
      );
    }
    // New due entries before the messages that name them, both before the entries they replace.
    if (moved.length > 0) await this.wh.putDue(moved);
    if (rewrite.length > 0) await this.wh.putMessages(rewrite);
    if (drop.length > 0) await this.wh.deleteDue(drop);
    return { started, settled: drop.length };
  }

  /** An attempt that was not made, as it appears in the message's history. */
  private skipped(m: WebhookMessage, at: string, error: string): AttemptResult {
    return { at, attempt: m.attempts, trigger: 'scheduled', outcome: 'failed', durationMs: 0, error };
  }

  /** Track work in flight until it settles; its failure is logged where it happens and left for the next pass. */
  private keep(p: Promise<void>): void {
    const q: Promise<void> = p.then(
      () => void this.running.delete(q),
      (e: unknown) => {
        this.running.delete(q);
        this.deps.log.error({ msg: 'webhook bookkeeping failed', error: e instanceof Error ? e.message : String(e) });
      },
    );
    this.running.add(q);
  }

  /** Queue one attempt under the global and per-endpoint limits; resolves once it is recorded. */
  private async track(job: Job): Promise<void> {
    const key = msgKey(job.endpoint.id, job.message.msgId);
    this.inflightMessages.add(key);
    this.queued++;
    let slots = this.endpointSlots.get(job.endpoint.id);
    if (!slots) this.endpointSlots.set(job.endpoint.id, (slots = new Slots(this.deps.config.endpointConcurrency)));
    try {
      // The slots bound requests in flight; recording happens after the slot is given back.
      const sent = await slots.run(() => this.slots.run(() => this.send(job)));
      if (sent) await this.record(job, sent);
    } catch (e) {
      this.deps.log.error({ msg: 'webhook attempt not recorded', msgId: job.message.msgId, endpointId: job.endpoint.id, error: e instanceof Error ? e.message : String(e) });
      throw e;
    } finally {
      this.queued--;
      this.inflightMessages.delete(key);
    }
  }

  private secrets(ep: WebhookEndpoint, now: number): string[] {
    const live = ep.secrets.filter((s) => s.expiresAt === undefined || Date.parse(s.expiresAt) > now);
    return live.map((s) => openSecret(s.sealed, this.deps.config.secretKeys, ep.agencyId, ep.id));
  }

  /**
   * Sign and send one attempt; null when it is not made after all (the endpoint
   * was throttled or disabled by an earlier attempt of this pass), which is then recorded here.
   */
  private async send(job: Job): Promise<{ at: number; res: SendResult } | null> {
    const { endpoint, payload, trigger } = job;
    const at = this.now();
    const throttled = endpoint.throttledUntil !== undefined && Date.parse(endpoint.throttledUntil) > at;
    if (trigger === 'scheduled' && (throttled || endpoint.status !== 'enabled')) {
      const m: WebhookMessage = { ...job.message };
      if (endpoint.status !== 'enabled') {
        delete m.nextAttemptAt;
        m.status = 'failed';
        m.history = [...m.history, this.skipped(m, new Date(at).toISOString(), 'endpoint disabled')].slice(-HISTORY_MAX);
        await this.recorder.write({ messages: [m], dropDue: job.due ? [job.due] : [] });
      } else {
        m.nextAttemptAt = endpoint.throttledUntil;
        await this.recorder.write({ messages: [m], due: [{ dueAt: endpoint.throttledUntil!, endpointId: endpoint.id, msgId: m.msgId }], dropDue: job.due ? [job.due] : [] });
      }
      return null;
    }
    const headers = webhookHeaders(this.secrets(endpoint, at), job.message.msgId, Math.floor(at / 1000), payload.body);
    const res = await this.deps.sender.send({ url: endpoint.url, headers, body: payload.body, timeoutMs: this.deps.config.timeoutMs });
    return { at, res };
  }

  /** Record an attempt made: the message, the attempt, the next due entry; then the endpoint's health. */
  private async record(job: Job, { at, res }: { at: number; res: SendResult }): Promise<void> {
    const { endpoint, trigger } = job;
    const m: WebhookMessage = { ...job.message, history: [...job.message.history] };
    const atIso = new Date(at).toISOString();
    const outcome = classify(res);
    const result: AttemptResult = {
      at: atIso,
      attempt: m.attempts + 1,
      trigger,
      outcome: outcome.delivered ? 'delivered' : 'failed',
      durationMs: Math.round(res.durationMs),
      ...(res.status !== undefined && { httpStatus: res.status }),
      ...(res.error !== undefined && { error: res.detail ? `${res.error}: ${res.detail}` : res.error }),
      ...(res.excerpt !== undefined && { responseExcerpt: res.excerpt }),
    };
    m.attempts++;
    m.history = [...m.history, result].slice(-HISTORY_MAX);
    let next: DueEntry | undefined;
    if (outcome.delivered) {
      m.status = 'delivered';
      m.deliveredAt = atIso;
      delete m.nextAttemptAt;
    } else if (trigger === 'scheduled') {
      m.scheduledAttempts++;
      const delay = outcome.gone ? null : retryDelayMs(this.deps.config.retryScheduleMs, m.scheduledAttempts, this.random);
      if (delay === null) {
        m.status = 'failed';
        delete m.nextAttemptAt;
      } else {
        const nextAt = new Date(at + Math.max(delay, outcome.throttleMs ?? 0)).toISOString();
        m.status = 'pending';
        m.nextAttemptAt = nextAt;
        next = { dueAt: nextAt, endpointId: endpoint.id, msgId: m.msgId };
      }
    }
    const attempt: WebhookAttempt = { ...result, endpointId: endpoint.id, agencyId: endpoint.agencyId, msgId: m.msgId, type: m.type, expiresAt: m.expiresAt };
    await this.recorder.write({ messages: [m], attempts: [attempt], due: next ? [next] : [], dropDue: job.due ? [job.due] : [] });
    await this.health(endpoint, outcome, at);
  }

  /** The endpoint's failure run, throttle and disabling, updated only on transitions. */
  private async health(ep: WebhookEndpoint, outcome: ReturnType<typeof classify>, at: number): Promise<void> {
    const atIso = new Date(at).toISOString();
    if (outcome.delivered) {
      if (ep.failingSince !== undefined || ep.throttledUntil !== undefined) {
        delete ep.failingSince;
        delete ep.throttledUntil;
        await this.wh.updateEndpoint(ep.agencyId, ep.id, { failingSince: null, throttledUntil: null, updatedAt: atIso });
      }
      return;
    }
    if (outcome.gone) return this.disable(ep, 'gone', atIso);
    if (outcome.throttleMs !== undefined) {
      const until = new Date(at + outcome.throttleMs).toISOString();
      if (ep.throttledUntil === undefined || ep.throttledUntil < until) {
        ep.throttledUntil = until;
        await this.wh.updateEndpoint(ep.agencyId, ep.id, { throttledUntil: until, updatedAt: atIso });
      }
    }
    if (ep.failingSince === undefined) {
      ep.failingSince = atIso;
      const updated = await this.wh.updateEndpoint(ep.agencyId, ep.id, { failingSince: atIso, updatedAt: atIso }, { failingSince: null });
      if (updated?.failingSince !== undefined) ep.failingSince = updated.failingSince;
    }
    if (at - Date.parse(ep.failingSince) >= this.deps.config.disableAfterMs) await this.disable(ep, 'failing', atIso);
  }

  private async disable(ep: WebhookEndpoint, reason: 'failing' | 'gone', atIso: string): Promise<void> {
    if (ep.status === 'disabled') return;
    ep.status = 'disabled';
    const updated = await this.wh.updateEndpoint(
      ep.agencyId,
      ep.id,
      { status: 'disabled', disabledReason: reason, disabledAt: atIso, throttledUntil: null, updatedAt: atIso },
      { status: 'enabled' },
    );
    if (!updated) return; // disabled (or deleted) meanwhile
    this.deps.log.warn({ msg: 'webhook endpoint disabled', endpointId: ep.id, agencyId: ep.agencyId, reason });
    await this.deps.store.putEvents([endpointDisabledEvent(updated, reason, atIso)]);
    this.wake();
  }
}

export function endpointDisabledEvent(ep: WebhookEndpoint, reason: 'failing' | 'gone', at: string): LedgerEvent {
  return {
    id: `endpoint.disabled:${ep.id}:${at}`,
    type: 'endpoint.disabled',
    time: at,
    agencyId: ep.agencyId,
    data: { endpointId: ep.id, url: ep.url, reason, ...(ep.failingSince !== undefined && { failingSince: ep.failingSince }), disabledAt: at },
  };
}
