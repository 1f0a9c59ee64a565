/**
 * The time a proof states must be true (docs/protocol.md 5.3, 6.5): whatever the
 * coordinator's clock or one validator's clock says, verifyProof never reports
 * a time earlier than the moment the batch was accepted, the header's time is
 * reported only as the ledger's claim, and no clock fault stalls the ledger.
 *
 * Every clock is injected: `world` is the true time; the API accepted each batch
 * at a true instant; the coordinator and each validator read `world` plus their
 * own error. Nothing here waits for real time.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { verifyProof } from '../../sdk/src/proof.ts';
import { runRound } from '../../functions/ledger/coordinator.ts';
import { readAnchor } from '../../functions/ledger/proofs.ts';
import { inProcessValidator, type ValidatorClient } from '../../functions/ledger/remote-validator.ts';
import type { Batch, Store } from '../../functions/store/port.ts';
import { stopDynalite, withStore } from '../helpers/dynalite.ts';
import { expectConsistentLedger, offline, ORIGIN, roundDeps, seedBatch, SET, validatorWithClock } from './_fixtures.ts';

afterAll(stopDynalite);

const YEAR = 365 * 24 * 3_600_000;
const SKEW = 60_000; // the validators' default maxClockSkewMs

interface Clocks {
  /** The coordinator's clock error, ms (negative: slow). */
  coordinator: number;
  /** Each validator's clock error, ms. */
  validators: [number, number, number, number];
}

/** A world whose true time the test advances, and the ledger's parts on their own clocks. */
function world(store: Store, clocks: Clocks) {
  let now = Date.parse('2030-06-01T12:00:00.250Z');
  const at = (error: number) => (): Date => new Date(now + error);
  const clients: ValidatorClient[] = clocks.validators.map((error, i) => inProcessValidator(validatorWithClock(store, i, at(error))));
  return {
    clients,
    advance: (ms: number) => void (now += ms),
    trueNow: () => new Date(now),
    deps: (vs: ValidatorClient[] = clients) => roundDeps(store, vs, { now: at(clocks.coordinator) }),
  };
}

/** Every anchor's proof: its attested time is not before the batch was accepted; its claim is labelled as such. */
async function expectHonestTimes(store: Store, batches: Batch[]): Promise<{ time: string; claimedTime: string }[]> {
  const out: { time: string; claimedTime: string }[] = [];
  for (const b of batches) {
    const s = await readAnchor(store, ORIGIN, `${b.id}.0`, b.agencyId);
    if (s?.status !== 'confirmed') throw new Error(`batch ${b.id} is not confirmed`);
    const r = verifyProof(s.proof, { validators: SET, origin: ORIGIN });
    if (!r.ok) throw new Error(r.detail);
    expect(r.time, 'validator trust attests a time').not.toBeNull();
    expect(Date.parse(r.time!), `attested ${r.time} vs accepted ${b.arrivedAt}`).toBeGreaterThanOrEqual(Date.parse(b.arrivedAt));
    expect(r.detail).toContain('claimed');
    out.push({ time: r.time!, claimedTime: r.claimedTime });
  }
  return out;
}

describe('a coordinator whose clock is wrong', () => {
  for (const [name, error] of [
    ['a year slow (proposals backdated by a year)', -YEAR],
    ['twice the skew slow', -2 * SKEW],
    ['ten minutes slow', -10 * 60_000],
  ] as const) {
    it(`${name}: every round finalizes, proofs attest the true time, the header only claims its own`, async () => {
      const { store, close } = await withStore();
      try {
        const w = world(store, { coordinator: error, validators: [0, 0, 0, 0] });
        const batches: Batch[] = [];
        for (let i = 0; i < 3; i++) {
          batches.push(await seedBatch(store, 2 + i, { at: w.trueNow() }));
          w.advance(700);
          expect((await runRound(w.deps())).status).toBe('finalized');
          w.advance(1_300);
        }
        expect((await runRound(w.deps())).status).toBe('empty');
        await expectConsistentLedger(store, batches);
        const times = await expectHonestTimes(store, batches);
        // The header states the coordinator's slow clock (clamped so that it never goes back): a claim, not attested.
        for (const t of times) expect(Date.parse(t.claimedTime)).toBeLessThan(Date.parse(t.time) + error + 5_000);
      } finally {
        await close();
      }
    });
  }
});

describe('one validator whose clock is a year off', () => {
  it('a year ahead: it signs, but its late timestamp cannot move the attested time', async () => {
    const { store, close } = await withStore();
    try {
      const w = world(store, { coordinator: 0, validators: [0, 0, 0, YEAR] });
      const batches = [await seedBatch(store, 3, { at: w.trueNow() })];
      w.advance(400);
      const o = await runRound(w.deps());
      expect(o).toMatchObject({ status: 'finalized', faults: [] });
      expect(o.signers).toHaveLength(4);
      const { time } = (await expectHonestTimes(store, batches))[0]!;
      // The honest three cosigned at the true second: T + 1 s, never a year later.
      expect(Date.parse(time)).toBeLessThanOrEqual(Date.parse(batches[0]!.arrivedAt) + 2_000);
      await expectConsistentLedger(store, batches);
    } finally {
      await close();
    }
  });

  it('a year behind: it refuses (the header is in its future); the other three finalize every round', async () => {
    const { store, close } = await withStore();
    try {
      const w = world(store, { coordinator: 0, validators: [0, 0, -YEAR, 0] });
      const batches: Batch[] = [];
      for (let i = 0; i < 3; i++) {
        batches.push(await seedBatch(store, 1, { at: w.trueNow() }));
        w.advance(500);
        const o = await runRound(w.deps());
        expect(o).toMatchObject({ status: 'finalized', signers: ['validator-1', 'validator-2', 'validator-4'] });
        expect(o.faults).toEqual([expect.objectContaining({ validator: 'validator-3', reason: 'refused', detail: expect.stringMatching(/^BAD_TIME/) })]);
        w.advance(500);
      }
      await expectHonestTimes(store, batches);
      await expectConsistentLedger(store, batches);
    } finally {
      await close();
    }
  });

  it('a faulty validator signing a time a year early cannot pull the attested time before the batch (more than 1/3 is needed)', async () => {
    const { store, close } = await withStore();
    try {
      // Its clock is a year behind, but the coordinator's header is dated a year back as well, so it signs.
      const w = world(store, { coordinator: -YEAR, validators: [0, 0, 0, -YEAR] });
      const batches = [await seedBatch(store, 2, { at: w.trueNow() })];
      w.advance(300);
      const o = await runRound(w.deps());
      expect(o).toMatchObject({ status: 'finalized' });
      expect(o.signers).toContain('validator-4');
      await expectHonestTimes(store, batches);
    } finally {
      await close();
    }
  });
});

describe('a proposal first signed an hour after it was stored', () => {
  it('nobody signs at first: it finalizes an hour later and attests that hour, the header claims the earlier one', async () => {
    const { store, close } = await withStore();
    try {
      const w = world(store, { coordinator: 0, validators: [0, 0, 0, 0] });
      const batches = [await seedBatch(store, 4, { at: w.trueNow() })];
      w.advance(200);
      const allDown = ['validator-1', 'validator-2', 'validator-3', 'validator-4'].map(offline);
      expect((await runRound(w.deps(allDown))).status).toBe('no-quorum');
      const stored = (await store.getProposal(0))!;
      w.advance(3_600_000);
      expect(await runRound(w.deps())).toMatchObject({ status: 'finalized', height: 0 });
      expect((await store.getBlock(0))!.proposalId).toBe(stored.proposalId);
      const { time, claimedTime } = (await expectHonestTimes(store, batches))[0]!;
      expect(Date.parse(claimedTime)).toBe(Date.parse(batches[0]!.arrivedAt) + 200);
      expect(Date.parse(time)).toBeGreaterThanOrEqual(Date.parse(batches[0]!.arrivedAt) + 3_600_000);
      await expectConsistentLedger(store, batches);
    } finally {
      await close();
    }
  });

  it('two sign at once, two an hour later: retries resend the first cosignatures, so the time stays the early, true one', async () => {
    const { store, close } = await withStore();
    try {
      const w = world(store, { coordinator: 0, validators: [0, 0, 0, 0] });
      const batches = [await seedBatch(store, 4, { at: w.trueNow() })];
      w.advance(200);
      const twoDown = [w.clients[0]!, w.clients[1]!, offline('validator-3'), offline('validator-4')];
      expect((await runRound(w.deps(twoDown))).status).toBe('no-quorum');
      w.advance(3_600_000);
      expect(await runRound(w.deps())).toMatchObject({ status: 'finalized', height: 0 });
      const { time } = (await expectHonestTimes(store, batches))[0]!;
      // Validators 1 and 2 cosigned in the batch's second and carry half the weight (> 1/3).
      expect(Date.parse(time)).toBeLessThanOrEqual(Date.parse(batches[0]!.arrivedAt) + 2_000);
      await expectConsistentLedger(store, batches);
    } finally {
      await close();
    }
  });
});
