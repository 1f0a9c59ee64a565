/**
 * A full round on one machine: 1,024 batches of 1,000 anchors (maxBatchesPerRound
 * of the local runner, 1,024,000 anchors) with the four in-process validators of
 * the fixtures, all on this thread with the store's dynalite. The coordinator
 * sets each validator the default sign timeout, which grows with the round
 * (signatures.ts, defaultSignTimeoutMs); the test's timers never fire on their
 * own, so the outcome does not depend on the machine's speed (how long such a
 * round takes is measured in `npm run bench -- service`, case 3b). The FIRST
 * attempt must finalize with all four signatures and no fault; the
 * coordinator and every validator read the 1,024 batches and their placements in
 * bounded BatchGetItem calls (store/README.md). Then one anchor's proof verifies.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { verifyProof } from '../../sdk/src/proof.ts';
import { newBatchId } from '../../functions/ids.ts';
import { runRound } from '../../functions/ledger/coordinator.ts';
import { readAnchor } from '../../functions/ledger/proofs.ts';
import { batchTree } from '../../functions/ledger/round.ts';
import { defaultSignTimeoutMs } from '../../functions/ledger/signatures.ts';
import { mapLimit } from '../../functions/store/dynamo-io.ts';
import type { Batch } from '../../functions/store/port.ts';
import { stopDynalite, withStore } from '../helpers/dynalite.ts';
import { AGENCY, clients, manualTimers, ORIGIN, roundDeps, SET, validators } from './_fixtures.ts';

afterAll(stopDynalite);

const BATCHES = 1024;
const ANCHORS = 1000;

describe('a round of 1,024 batches of 1,000 anchors', () => {
  it('finalizes on its first attempt with all four validators, and its proofs verify', { timeout: 240_000 }, async () => {
    const { store, close } = await withStore();
    try {
      // Seed straight into the store (what intake writes): random anchors, RFC 9162 roots.
      const arrived = new Date(Date.now() - 2_000);
      const batches = await mapLimit(Array.from({ length: BATCHES }, (_, i) => i), 8, async (): Promise<Batch> => {
        const hashes = new Uint8Array(randomBytes(32 * ANCHORS));
        const b: Batch = { id: newBatchId(arrived), agencyId: AGENCY, arrivedAt: arrived.toISOString(), hashes, count: ANCHORS, root: batchTree(hashes).root() };
        await store.putBatch(b);
        await store.putPending({ batchId: b.id, agencyId: b.agencyId, arrivedAt: b.arrivedAt, root: b.root, count: b.count });
        return b;
      });

      const timers = manualTimers();
      const deps = roundDeps(store, clients(validators(store)), { maxBatchesPerRound: BATCHES, timers });
      const members = batches.map((b) => ({ count: b.count }));
      expect(defaultSignTimeoutMs(members)).toBe(5_000 + 2 * BATCHES + 10 * BATCHES); // 17,288 ms

      const o = await runRound(deps);
      expect(timers.scheduled('sign-timeout:validator-1')).toEqual([defaultSignTimeoutMs(members)]);
      console.log(`round of ${BATCHES} x ${ANCHORS}: ${JSON.stringify(o.durations)}`);
      expect(o.faults).toEqual([]);
      expect(o).toMatchObject({ status: 'finalized', height: 0, batches: BATCHES, anchors: BATCHES * ANCHORS });
      expect(o.signers).toEqual(['validator-1', 'validator-2', 'validator-3', 'validator-4']);
      expect((await store.getLatestBlock())?.settled).toBe(true);
      expect((await store.getPlacements(batches.map((b) => b.id), { consistent: true })).size).toBe(BATCHES);

      const last = batches[BATCHES - 1]!;
      const s = await readAnchor(store, ORIGIN, `${last.id}.${ANCHORS - 1}`, AGENCY);
      expect(s?.status).toBe('confirmed');
      if (s?.status !== 'confirmed') return;
      const r = verifyProof(s.proof, { validators: SET, origin: ORIGIN });
      expect(r.ok, JSON.stringify(r)).toBe(true);

      expect((await runRound(deps)).status).toBe('empty');
    } finally {
      await close();
    }
  });
});
