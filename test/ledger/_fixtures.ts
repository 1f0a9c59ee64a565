/**
 * Shared fixtures of the ledger suites: deterministic validator keys, batches
 * seeded straight into the store (putBatch + putPending, roots from the sdk),
 * in-process validators with fault wrappers, and the invariant checks every
 * suite ends with. All against dynalite (test/helpers/dynalite.ts).
 */
import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import { parseCheckpoint } from '../../sdk/src/checkpoint.ts';
import { cosignCheckpoint, generateCosignerKey } from '../../sdk/src/cosignature.ts';
import { verifyProof } from '../../sdk/src/proof.ts';
import type { ValidatorSet } from '../../sdk/src/validator-set.ts';
import { newBatchId } from '../../functions/ids.ts';
import { auditLedger } from '../../functions/ledger/audit.ts';
import { runRound, type RoundDeps, type RoundOutcome } from '../../functions/ledger/coordinator.ts';
import { defaultValidatorSet, type ValidatorKey } from '../../functions/ledger/keys.ts';
import { readAnchor } from '../../functions/ledger/proofs.ts';
import { inProcessValidator, type ValidatorClient } from '../../functions/ledger/remote-validator.ts';
import { batchTree } from '../../functions/ledger/round.ts';
import { createApp } from '../../functions/app.ts';
import { loadConfig } from '../../functions/config.ts';
import { silentLogger, systemClock } from '../../functions/services.ts';
import type { Batch, Store } from '../../functions/store/port.ts';
import { memoryStateStore } from '../../functions/validator/file-state-store.ts';
import { httpLedgerSource, type LedgerSource } from '../../functions/validator/ledger-source.ts';
import type { SignResponse } from '../../functions/validator/protocol.ts';
import type { ValidatorStateStore } from '../../functions/validator/state-store.ts';
import { Validator, type ValidatorLogger } from '../../functions/validator/validator.ts';
import { type TestStore, withStore as withEngineStore } from '../helpers/dynalite.ts';
import { laggingEngine, type LaggingEngine } from '../helpers/lagging-engine.ts';

export const ORIGIN = 'ledgerseal.test/ledger';
export const AGENCY = 'AGENCY-A';

/** Validator keys from fixed seeds: the same set in every run. */
export function testKeys(n = 4): ValidatorKey[] {
  return Array.from({ length: n }, (_, i) => {
    const name = `validator-${i + 1}`;
    const { signerKey, verifierKey } = generateCosignerKey(name, new Uint8Array(32).fill(i + 1));
    return { name, signerKey, verifierKey };
  });
}

export const KEYS = testKeys();
export const SET: ValidatorSet = defaultValidatorSet(ORIGIN, KEYS);

/** A batch of `count` random anchors that arrived `agoMs` ago, stored and pending. */
export async function seedBatch(store: Store, count: number, opts: { agencyId?: string; agoMs?: number; at?: Date } = {}): Promise<Batch> {
  const arrived = opts.at ?? new Date(Date.now() - (opts.agoMs ?? 1_000));
  const hashes = new Uint8Array(randomBytes(32 * count));
  const batch: Batch = {
    id: newBatchId(arrived),
    agencyId: opts.agencyId ?? AGENCY,
    arrivedAt: arrived.toISOString(),
    hashes,
    count,
    root: batchTree(hashes).root(),
  };
  await store.putBatch(batch);
  await store.putPending({ batchId: batch.id, agencyId: batch.agencyId, arrivedAt: batch.arrivedAt, root: batch.root, count });
  return batch;
}

const logs = new WeakMap<Store, LedgerSource>();

/**
 * The ledger's PUBLIC API over `store`, served in process (GET /v1/checkpoint,
 * GET /v1/blocks): all a validator reads of the ledger, to catch up.
 */
export function publicLog(store: Store): LedgerSource {
  let log = logs.get(store);
  if (!log) {
    const app = createApp({ store, config: loadConfig({ LEDGERSEAL_ORIGIN: ORIGIN }), validatorSet: SET, clock: systemClock, log: silentLogger });
    log = httpLedgerSource({ url: 'http://ledger.test', fetch: (url, init) => app.request(url, init) });
    logs.set(store, log);
  }
  return log;
}

export interface ValidatorFixtureOptions {
  now?: () => Date;
  maxClockSkewMs?: number;
  /** Its own state store (default: a fresh one in memory). */
  state?: ValidatorStateStore;
  /** Where it reads the public log (default: publicLog(store)). */
  source?: LedgerSource;
  log?: ValidatorLogger;
}

/** Validator `index` of the fixture set, reading the ledger of `store` only through its public API. */
export function validatorOf(store: Store, index: number, opts: ValidatorFixtureOptions = {}): Validator {
  const k = KEYS[index]!;
  return new Validator({
    name: k.name,
    signerKey: k.signerKey,
    origin: ORIGIN,
    validatorSet: SET,
    state: opts.state ?? memoryStateStore({ name: k.name, origin: ORIGIN }),
    source: opts.source ?? publicLog(store),
    ...(opts.now ? { now: opts.now } : {}),
    ...(opts.maxClockSkewMs !== undefined ? { maxClockSkewMs: opts.maxClockSkewMs } : {}),
    ...(opts.log ? { log: opts.log } : {}),
  });
}

export function validators(store: Store, opts: Omit<ValidatorFixtureOptions, 'state'> = {}): Validator[] {
  return KEYS.map((_, i) => validatorOf(store, i, opts));
}

/** One validator of the fixture set with its own clock. */
export function validatorWithClock(store: Store, index: number, now: () => Date): Validator {
  return validatorOf(store, index, { now });
}

/** The sign request of a stored proposal, as the coordinator sends it. */
export function signRequestOf(p: { height: number; proposalId: string; header: string; checkpoint: string; members: { root: Uint8Array; count: number }[] }) {
  return {
    origin: ORIGIN,
    height: p.height,
    proposalId: p.proposalId,
    header: p.header,
    checkpoint: p.checkpoint,
    members: p.members.map((m) => ({ root: Buffer.from(m.root).toString('hex'), count: m.count })),
  };
}

export function clients(vs: Validator[]): ValidatorClient[] {
  return vs.map((v) => inProcessValidator(v));
}

// ---- faulty validators -----------------------------------------------------------

export const offline = (name: string): ValidatorClient => ({
  name,
  sign: async () => {
    throw new Error('connect ECONNREFUSED');
  },
});

/**
 * A validator that answers (correctly) only when the test releases it, or never:
 * it waits for a signal, not for time, so no outcome depends on the machine's speed.
 * A call that is aborted first (a timeout, the quorum grace) rejects with the reason.
 */
export function gated(inner: ValidatorClient): { client: ValidatorClient; release(): void; asked: Promise<void> } {
  let open = false;
  const waiting: (() => void)[] = [];
  let onAsked!: () => void;
  const asked = new Promise<void>((r) => (onAsked = r));
  const client: ValidatorClient = {
    name: inner.name,
    sign: (req, { signal }) =>
      new Promise<SignResponse>((resolve, reject) => {
        onAsked();
        const go = (): void => void inner.sign(req, { signal }).then(resolve, reject);
        if (open) return go();
        waiting.push(go);
        signal.addEventListener('abort', () => reject(signal.reason), { once: true });
      }),
  };
  return { client, asked, release: () => ((open = true), waiting.splice(0).forEach((go) => go())) };
}

/** A validator that never answers (until the coordinator gives up on it). */
export const hung = (inner: ValidatorClient): ValidatorClient => gated(inner).client;

/**
 * Coordinator timers that fire only when the test says so (functions/ledger
 * signatures.ts `Timers`): sign timeouts and the quorum grace are decided by the
 * test, never by how fast the machine is. Time stands still unless advanced.
 */
export function manualTimers() {
  type Timer = { label: string; ms: number; fn: () => void };
  const pending = new Map<number, Timer>();
  const set: Timer[] = [];
  const waiters: { label: string; resolve: (t: Timer) => void }[] = [];
  let seq = 0;
  let now = 0;
  const take = (label: string): Timer | undefined => {
    for (const [id, t] of pending) {
      if (t.label === label) {
        pending.delete(id);
        return t;
      }
    }
    return undefined;
  };
  return {
    set(label: string, ms: number, fn: () => void): () => void {
      const id = ++seq;
      const t = { label, ms, fn };
      set.push(t);
      pending.set(id, t);
      const w = waiters.findIndex((x) => x.label === label);
      if (w >= 0) {
        pending.delete(id);
        waiters.splice(w, 1)[0]!.resolve(t);
      }
      return () => void pending.delete(id);
    },
    now: () => now,
    advance(ms: number): void {
      now += ms;
    },
    /** Fire the next timer with this label (waiting until one is set); resolves with its duration in ms. */
    fire(label: string): Promise<number> {
      const t = take(label);
      if (t) {
        t.fn();
        return Promise.resolve(t.ms);
      }
      return new Promise<number>((resolve) => waiters.push({ label, resolve: (x) => (x.fn(), resolve(x.ms)) }));
    },
    /** Durations of every timer set so far with this label, in order. */
    scheduled(label: string): number[] {
      return set.filter((t) => t.label === label).map((t) => t.ms);
    },
  };
}
export type ManualTimers = ReturnType<typeof manualTimers>;

/** Returns a signature line whose signature bytes are flipped. */
export const badSignature = (inner: ValidatorClient): ValidatorClient => ({
  name: inner.name,
  sign: async (req, o) => {
    const r = await inner.sign(req, o);
    const [dash, name, b64] = r.signature.trimEnd().split(' ') as [string, string, string];
    const raw = Buffer.from(b64, 'base64');
    raw[10] = raw[10]! ^ 1;
    return { ...r, signature: `${dash} ${name} ${raw.toString('base64')}\n` };
  },
});

/** A lying validator: signs a checkpoint of the same size with another root, with its real key. */
export const equivocating = (key: ValidatorKey): ValidatorClient => ({
  name: key.name,
  sign: async (req) => {
    const cp = parseCheckpoint(req.checkpoint);
    const other = `${cp.origin}\n${cp.size}\n${Buffer.alloc(32, 7).toString('base64')}\n`;
    return { validator: key.name, signature: cosignCheckpoint(other, key.signerKey, Math.floor(Date.now() / 1000)), checkpoint: other };
  },
});

// ---- running and checking ----------------------------------------------------------

/**
 * A coordinator over `vs`. Its timers are manual: no sign timeout or quorum grace
 * ever fires on its own, so a test with a validator that does not answer fires
 * the timer it means (ManualTimers.fire) and nothing else depends on speed.
 */
export function roundDeps(store: Store, vs: ValidatorClient[], extra: Partial<RoundDeps> = {}): RoundDeps {
  return { store, origin: ORIGIN, validatorSet: SET, validators: vs, timers: manualTimers(), ...extra };
}

/** Run rounds until one is empty (nothing pending, latest block settled). */
export async function drain(deps: RoundDeps, max = 50): Promise<RoundOutcome[]> {
  const out: RoundOutcome[] = [];
  for (let i = 0; i < max; i++) {
    const o = await runRound(deps);
    out.push(o);
    if (o.status === 'empty') return out;
  }
  throw new Error(`no empty round after ${max} rounds`);
}

/**
 * The ledger invariants: gap-free heights, one placement per batch matching the
 * proposal of its block, no batch in two blocks, nothing left pending, a clean
 * audit, and a proof for every anchor that verifies against the validator set.
 */
export async function expectConsistentLedger(store: Store, batches: Batch[]): Promise<void> {
  const latest = await store.getLatestBlock();
  expect(latest?.settled).toBe(true);
  const blocks = await store.listBlocks({ from: 0, limit: 1000, consistent: true });
  expect(blocks.map((b) => b.height)).toEqual(blocks.map((_, i) => i));
  const seen = new Map<string, number>();
  for (const b of blocks) {
    const p = await store.getProposal(b.height);
    expect(p?.proposalId).toBe(b.proposalId);
    p!.members.forEach((m) => {
      expect(seen.has(m.batchId), `batch ${m.batchId} in blocks ${seen.get(m.batchId)} and ${b.height}`).toBe(false);
      seen.set(m.batchId, b.height);
    });
  }
  for (const batch of batches) {
    const placement = await store.getPlacement(batch.id, { consistent: true });
    expect(placement, `placement of ${batch.id}`).not.toBeNull();
    expect(seen.get(batch.id)).toBe(placement!.height);
  }
  expect(seen.size).toBe(batches.length);
  expect(await store.listPending({ before: new Date(Date.now() + 3_600_000).toISOString(), limit: 100 })).toEqual([]);
  const audit = await auditLedger(store, SET, { origin: ORIGIN });
  expect(audit.findings).toEqual([]);
  for (const batch of batches) {
    for (const index of [0, batch.count - 1]) {
      const s = await readAnchor(store, ORIGIN, `${batch.id}.${index}`, batch.agencyId);
      expect(s?.status).toBe('confirmed');
      if (s?.status !== 'confirmed') continue;
      const r = verifyProof(s.proof, { validators: SET, origin: ORIGIN });
      expect(r.ok, JSON.stringify(r)).toBe(true);
    }
  }
}

// ---- consistency modes ---------------------------------------------------------------

/**
 * The crash, race and retry suites run in both modes: on the engine as it is
 * (dynalite is always consistent), and with eventually consistent reads served
 * from a lagging view of recent writes, as DynamoDB may serve them
 * (test/helpers/lagging-engine.ts). Correctness must not depend on any read
 * that is not asked to be consistent.
 */
export interface StoreMode {
  name: string;
  lagging: boolean;
}

export const STORE_MODES: StoreMode[] = [
  { name: 'consistent reads', lagging: false },
  { name: 'lagging eventually consistent reads', lagging: true },
];

export function storeMode(mode: StoreMode, options: { maxLagWrites?: number; writeDelayMs?: [number, number]; seed?: number } = {}) {
  let engine: LaggingEngine | undefined;
  return {
    /** A store on a fresh table; in the lagging mode its eventually consistent reads lag. */
    withStore(): Promise<TestStore> {
      engine = mode.lagging ? laggingEngine({ seed: options.seed ?? 7, maxLagWrites: options.maxLagWrites ?? 60, ...(options.writeDelayMs ? { writeDelayMs: options.writeDelayMs } : {}) }) : undefined;
      return withEngineStore(engine ? { lagging: engine } : {});
    },
    /** In the lagging mode the engine must really have served stale items: the suite cannot pass vacuously. */
    expectStaleReadsServed(): void {
      if (engine) expect(engine.stats().staleItems).toBeGreaterThan(0);
    },
  };
}
