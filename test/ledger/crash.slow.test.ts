/**
 * A coordinator killed after any step (the failAfter hook throws there) is run
 * again until the ledger is drained: exactly one block per height, every batch
 * in exactly one round, nothing left pending, proofs verify, the audit is clean.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { ROUND_STEPS, runRound, type RoundStep } from '../../functions/ledger/coordinator.ts';
import type { Batch } from '../../functions/store/port.ts';
import { stopDynalite } from '../helpers/dynalite.ts';
import { clients, drain, expectConsistentLedger, offline, roundDeps, seedBatch, STORE_MODES, storeMode, validators } from './_fixtures.ts';

afterAll(stopDynalite);

class Crash extends Error {}

/** xorshift32: a reproducible sequence for the random crash schedule. */
function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 2 ** 32;
  };
}


describe.each(STORE_MODES)('$name', (mode) => {
  const { withStore, expectStaleReadsServed } = storeMode(mode);

  describe('a coordinator killed at every step', () => {
    it('crashing once after each named step, then running again, finalizes everything once', async () => {
      const { store, close } = await withStore();
      try {
        // validator-4 is down, so the 'faults' step is reached too.
        const vs = clients(validators(store));
        vs[3] = offline('validator-4');
        const batches: Batch[] = [];
        for (const step of ROUND_STEPS) {
          batches.push(await seedBatch(store, 3), await seedBatch(store, 1));
          if (step === 'quarantine') {
            // A marker that does not match its batch: the round quarantines it (and is killed doing so).
            const forged = await seedBatch(store, 2);
            await store.putPending({ batchId: forged.id, agencyId: 'AGENCY-X', arrivedAt: forged.arrivedAt, root: forged.root, count: forged.count });
          }
          let crashed = false;
          const failAfter = (s: RoundStep): void => {
            if (s === step && !crashed) {
              crashed = true;
              throw new Crash(`killed after ${s}`);
            }
          };
          // The settle steps of a block are reached on the run after the one that finalized it.
          for (let i = 0; i < 3 && !crashed; i++) {
            await runRound(roundDeps(store, vs, { failAfter })).catch((e) => {
              if (!(e instanceof Crash)) throw e;
            });
          }
          expect(crashed, `step ${step} was reached`).toBe(true);
          await drain(roundDeps(store, vs));
        }
        expect((await store.listEvents({ limit: 10, type: 'batch.quarantined' })).items).toHaveLength(1);
        await expectConsistentLedger(store, batches);
        expectStaleReadsServed();
      } finally {
        await close();
      }
  });

    it('crashing at random steps of many rounds never forks or loses a batch', async () => {
      const { store, close } = await withStore();
      try {
        const vs = clients(validators(store));
        const random = prng(20261122);
        const batches: Batch[] = [];
        let crashes = 0;
        const failAfter = (s: RoundStep): void => {
          if (random() < 0.3) {
            crashes++;
            throw new Crash(`killed after ${s}`);
          }
        };
        for (let i = 0; i < 40; i++) {
          const n = Math.floor(random() * 3);
          for (let k = 0; k < n; k++) batches.push(await seedBatch(store, 1 + Math.floor(random() * 6)));
          await runRound(roundDeps(store, vs, { failAfter })).catch((e) => {
            if (!(e instanceof Crash)) throw e;
          });
        }
        expect(crashes).toBeGreaterThan(5);
        await drain(roundDeps(store, vs));
        await expectConsistentLedger(store, batches);
        expectStaleReadsServed();
      } finally {
        await close();
      }
  });
  });
});
