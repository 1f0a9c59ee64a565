/**
 * Two and four coordinators running rounds at the same time on one store (the
 * scheduled function firing twice, a slow run overlapping the next): one block
 * per height, no batch in two blocks, every batch finalized once.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { runRound, type RoundOutcome } from '../../functions/ledger/coordinator.ts';
import type { Batch } from '../../functions/store/port.ts';
import { stopDynalite } from '../helpers/dynalite.ts';
import { clients, drain, expectConsistentLedger, roundDeps, seedBatch, STORE_MODES, storeMode, validators } from './_fixtures.ts';

afterAll(stopDynalite);

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));


describe.each(STORE_MODES)('$name', (mode) => {
  const { withStore, expectStaleReadsServed } = storeMode(mode);

  describe('racing coordinators', () => {
    for (const n of [2, 4]) {
      it(`${n} coordinators at once never fork`, async () => {
        const { store, close } = await withStore();
        try {
          // Each coordinator has its own validator clients, as separate processes would.
          const coordinators = Array.from({ length: n }, () => roundDeps(store, clients(validators(store))));
          const batches: Batch[] = [];
          const outcomes: RoundOutcome[] = [];
          // Lock-step: all start together, so they collide on the proposal and on the block.
          for (let i = 0; i < 5; i++) {
            for (let k = 0; k < 1 + (i % 3); k++) batches.push(await seedBatch(store, 1 + ((i + k) % 5)));
            outcomes.push(...(await Promise.all(coordinators.map((deps) => runRound(deps)))));
          }
          expect(outcomes.some((o) => o.status === 'lost-race')).toBe(true);
          // Free-running: staggered loops while batches keep arriving, so one coordinator
          // proposes while another is still settling or signing.
          let seeding = true;
          const seeder = (async () => {
            for (let i = 0; i < 40; i++) {
              batches.push(await seedBatch(store, 1 + (i % 4)));
              await sleep(2 + ((i * 7) % 13));
            }
            seeding = false;
          })();
          const loops = coordinators.map(async (deps, j) => {
            for (let k = 0; seeding; k++) {
              await sleep(((j + 1) * 37 + k * 23) % 61);
              outcomes.push(await runRound(deps));
            }
          });
          await Promise.all([seeder, ...loops]);
          // Racing is not a fault: no validator refused or equivocated.
          expect(outcomes.flatMap((o) => o.faults)).toEqual([]);
          await drain(coordinators[0]!);
          const finalized = outcomes.filter((o) => o.status === 'finalized');
          // A height is reported finalized by exactly one coordinator.
          const heights = finalized.map((o) => o.height);
          expect(new Set(heights).size).toBe(heights.length);
          await expectConsistentLedger(store, batches);
        expectStaleReadsServed();
        } finally {
          await close();
        }
      });
    }

    it('a coordinator that slept through several rounds loses the race quietly (no false faults)', async () => {
      const { store, close } = await withStore();
      try {
        const deps = roundDeps(store, clients(validators(store)));
        const batches: Batch[] = [];
        for (let i = 0; i < 3; i++) {
          batches.push(await seedBatch(store, 2));
          await runRound(deps);
        }
        // Its view of the latest block is two rounds old.
        const block0 = (await store.getBlock(0))!;
        const stale = new Proxy(store, {
          get(target, prop, receiver) {
            if (prop === 'getLatestBlock') return async () => block0;
            const v = Reflect.get(target, prop, receiver);
            return typeof v === 'function' ? v.bind(target) : v;
          },
        });
        const o = await runRound({ ...deps, store: stale });
        expect(o).toMatchObject({ status: 'lost-race', height: 1, faults: [] });
        expect((await store.listEvents({ limit: 10, type: 'validator.fault' })).items).toEqual([]);
        await expectConsistentLedger(store, batches);
        expectStaleReadsServed();
      } finally {
        await close();
      }
  });
  });
});
