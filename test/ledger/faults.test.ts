/**
 * Validator faults (docs/protocol.md 7.3, 7.4): one of
 * four validators offline, slow, refusing, returning a bad signature or signing a
 * different checkpoint cannot stop the round, and is reported as a
 * validator.fault event with the right reason; two of four stop finalization
 * without any fork, and the ledger resumes when they recover.
 */
import { createHash } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { verifyCheckpointQuorum } from '../../sdk/src/validator-set.ts';
import { runRound } from '../../functions/ledger/coordinator.ts';
import type { FaultReason } from '../../functions/ledger/events.ts';
import { inProcessValidator, type ValidatorClient } from '../../functions/ledger/remote-validator.ts';
import { defaultSignTimeoutMs, QUORUM_GRACE } from '../../functions/ledger/signatures.ts';
import type { Batch, Store } from '../../functions/store/port.ts';
import { memoryStateStore } from '../../functions/validator/file-state-store.ts';
import { stopDynalite, withStore } from '../helpers/dynalite.ts';
import {
  badSignature,
  clients,
  drain,
  equivocating,
  expectConsistentLedger,
  KEYS,
  offline,
  roundDeps,
  seedBatch,
  ORIGIN,
  SET,
  validatorOf,
  gated,
  hung,
  manualTimers,
  validators,
} from './_fixtures.ts';

afterAll(stopDynalite);

const honest = (store: Store): ValidatorClient[] => clients(validators(store));

const cases: { reason: FaultReason; make: (store: Store) => ValidatorClient }[] = [
  { reason: 'unreachable', make: () => offline('validator-4') },
  // It never answers: the test fires the quorum grace that cuts it off.
  { reason: 'timeout', make: (store) => hung(honest(store)[3]!) },
  { reason: 'bad-signature', make: (store) => badSignature(honest(store)[3]!) },
  { reason: 'equivocation', make: () => equivocating(KEYS[3]!) },
  {
    // Its clock is an hour behind: the header time is too far in its future.
    reason: 'refused',
    make: (store) =>
      inProcessValidator(validatorOf(store, 3, { now: () => new Date(Date.now() - 3_600_000) })),
  },
];

describe('one faulty validator of four', () => {
  for (const c of cases) {
    it(`${c.reason}: rounds finalize and the fault is recorded`, async () => {
      const { store, close } = await withStore();
      try {
        const vs = honest(store);
        vs[3] = c.make(store);
        const timers = manualTimers();
        const deps = roundDeps(store, vs, { timers });
        const batches = [await seedBatch(store, 4)];
        const running = runRound(deps);
        if (c.reason === 'timeout') await timers.fire('quorum-grace');
        const o = await running;
        expect(o.status).toBe('finalized');
        expect(o.signers).toEqual(['validator-1', 'validator-2', 'validator-3']);
        expect(o.faults).toEqual([{ validator: 'validator-4', reason: c.reason, detail: expect.any(String) }]);
        if (c.reason === 'refused') expect(o.faults[0]!.detail).toMatch(/^BAD_TIME/);
        const events = await store.listEvents({ limit: 50, type: 'validator.fault' });
        expect(events.items).toEqual([
          expect.objectContaining({
            id: `validator.fault:0:validator-4:${c.reason}`,
            data: { validator: 'validator-4', reason: c.reason, height: 0, detail: o.faults[0]!.detail },
          }),
        ]);
        batches.push(await seedBatch(store, 2));
        await drain(c.reason === 'timeout' ? roundDeps(store, honest(store).slice(0, 3)) : deps);
        await expectConsistentLedger(store, batches);
        const latest = await store.getLatestBlock();
        expect(verifyCheckpointQuorum(latest!.checkpoint, SET).signers).toEqual(['validator-1', 'validator-2', 'validator-3']);
      } finally {
        await close();
      }
    });
  }
});


const sha256Hex = (s: string): string => createHash('sha256').update(s).digest('hex');

describe('sign timeouts', () => {
  it('the default grows with the round: 5 s + 2 ms per batch + 10 ms per 1,000 anchors, at most 60 s', () => {
    const round = (batches: number, anchors: number) => Array.from({ length: batches }, () => ({ count: anchors }));
    expect(defaultSignTimeoutMs(round(1, 1))).toBe(5_003);
    expect(defaultSignTimeoutMs(round(256, 1))).toBe(5_515);
    expect(defaultSignTimeoutMs(round(1024, 1000))).toBe(17_288);
    expect(defaultSignTimeoutMs(round(100, 10_000))).toBe(15_200);
    expect(defaultSignTimeoutMs(round(1024, 10_000))).toBe(60_000);
  });

  it('a hung validator is cut off after the quorum grace, not held for its whole timeout', async () => {
    const { store, close } = await withStore();
    try {
      const vs = honest(store);
      vs[3] = hung(honest(store)[3]!);
      await seedBatch(store, 2);
      const timers = manualTimers();
      // Round timeout 10 minutes: only the post-quorum grace can end this round.
      const running = runRound(roundDeps(store, vs, { signTimeoutMs: 600_000, timers }));
      timers.advance(700); // the quorum took 0.7 s: the grace is the minimum, 2 s
      const graceMs = await timers.fire('quorum-grace');
      const r = await running;
      expect(graceMs).toBe(QUORUM_GRACE.minMs);
      expect(timers.scheduled('sign-timeout:validator-4')).toEqual([600_000]);
      expect(r).toMatchObject({ status: 'finalized', signers: ['validator-1', 'validator-2', 'validator-3'] });
      expect(r.faults).toEqual([{ validator: 'validator-4', reason: 'timeout', detail: 'no answer within 2000 ms after the quorum was reached' }]);
    } finally {
      await close();
    }
  });

  it('the grace grows with the time the quorum took', async () => {
    const { store, close } = await withStore();
    try {
      const vs = honest(store);
      const late = gated(vs[2]!);
      vs[2] = late.client;
      vs[3] = hung(honest(store)[3]!);
      await seedBatch(store, 2);
      const timers = manualTimers();
      const running = runRound(roundDeps(store, vs, { timers }));
      await late.asked;
      timers.advance(5_000); // validator-3 answers 5 s after the round started: that completes the quorum
      late.release();
      expect(await timers.fire('quorum-grace')).toBe(5_000);
      expect((await running).signers).toEqual(['validator-1', 'validator-2', 'validator-3']);
    } finally {
      await close();
    }
  });

  it("a client's own timeoutMs wins over the round's, both ways", async () => {
    const { store, close } = await withStore();
    try {
      // Round timeout 2 s, but validator-4's client gives up after 150 ms: a timeout fault when it fires.
      const vs = honest(store);
      vs[3] = { ...hung(honest(store)[3]!), timeoutMs: 150 };
      await seedBatch(store, 2);
      const timers = manualTimers();
      const running = runRound(roundDeps(store, vs, { signTimeoutMs: 2_000, timers }));
      expect(await timers.fire('sign-timeout:validator-4')).toBe(150);
      const a = await running;
      expect(timers.scheduled('sign-timeout:validator-1')).toEqual([2_000]);
      expect(a).toMatchObject({ status: 'finalized', signers: ['validator-1', 'validator-2', 'validator-3'] });
      expect(a.faults).toEqual([{ validator: 'validator-4', reason: 'timeout', detail: 'no answer within 150 ms' }]);
      // Round timeout 1 s, but validator-4's client waits 5 s: it answers late and still signs.
      const slow4 = gated(honest(store)[3]!);
      await seedBatch(store, 1);
      const timers2 = manualTimers();
      const running2 = runRound(roundDeps(store, [...honest(store).slice(0, 3), { ...slow4.client, timeoutMs: 5_000 }], { signTimeoutMs: 1_000, timers: timers2 }));
      await slow4.asked;
      expect(timers2.scheduled('sign-timeout:validator-4')).toEqual([5_000]);
      expect(timers2.scheduled('sign-timeout:validator-1')).toEqual([1_000]);
      slow4.release();
      const b = await running2;
      expect(b).toMatchObject({ status: 'finalized', faults: [] });
      expect(b.signers).toContain('validator-4');
    } finally {
      await close();
    }
  });
});

describe('two faulty validators of four', () => {
  it('no block is finalized, nothing forks, and the pending batches finalize once they recover', async () => {
    const t = await withStore();
    const { store } = t;
    try {
      const states = KEYS.map((k) => memoryStateStore({ name: k.name, origin: ORIGIN }));
      const own = KEYS.map((_, i) => inProcessValidator(validatorOf(store, i, { state: states[i]! })));
      const vs = [...own];
      vs[2] = offline('validator-3');
      vs[3] = equivocating(KEYS[3]!);
      const deps = roundDeps(store, vs);
      const batches: Batch[] = [await seedBatch(store, 3)];
      const first = await runRound(deps);
      expect(first).toMatchObject({ status: 'no-quorum', height: 0, signers: ['validator-1', 'validator-2'] });
      expect(first.faults.map((f) => f.reason).sort()).toEqual(['equivocation', 'unreachable']);
      batches.push(await seedBatch(store, 2));
      const again = await runRound(deps);
      expect(again.status).toBe('no-quorum');
      expect(again.batches).toBe(1); // the stored proposal is resumed, never rebuilt
      expect(await store.getLatestBlock()).toBeNull();
      const proposal = (await store.getProposal(0))!;
      // The honest validators recorded exactly the proposed checkpoint, once.
      for (const state of states.slice(0, 2)) {
        expect(await state.getSigned(1)).toMatchObject({ size: 1, hash: sha256Hex(proposal.checkpoint) });
        expect(await state.getSigned(2)).toBeNull();
        expect(await state.load()).toMatchObject({ size: 1 });
      }
      // Recovery: the same proposal finalizes, then the batch that waited.
      const healed = roundDeps(store, own);
      const o = await runRound(healed);
      expect(o).toMatchObject({ status: 'finalized', height: 0, batches: 1 });
      expect((await store.getBlock(0))!.proposalId).toBe(proposal.proposalId);
      await drain(healed);
      await expectConsistentLedger(store, batches);
    } finally {
      await t.close();
    }
  });
});

describe('a lagging validator', () => {
  it('catches up from the quorum-signed calendar and signs again', async () => {
    const { store, close } = await withStore();
    try {
      const v4 = validatorOf(store, 3);
      const vs = [...honest(store).slice(0, 3), inProcessValidator(v4)];
      const down = [...vs];
      down[3] = offline('validator-4');
      const batches: Batch[] = [];
      for (let i = 0; i < 3; i++) {
        batches.push(await seedBatch(store, 2));
        expect((await runRound(roundDeps(store, down))).status).toBe('finalized');
      }
      expect((await v4.status()).size).toBe(0);
      batches.push(await seedBatch(store, 1));
      const o = await runRound(roundDeps(store, vs));
      expect(o).toMatchObject({ status: 'finalized', height: 3, faults: [] });
      expect(o.signers).toContain('validator-4');
      expect(await v4.status()).toMatchObject({ size: 4 });
      await expectConsistentLedger(store, batches);
    } finally {
      await close();
    }
  });
});
