/**
 * A validator catching up from the coordinator's PUBLIC API (never its table),
 * and recovering from a rolled-back state (functions/validator/README.md):
 * - down for k rounds, it adopts the k blocks and signs the next one;
 * - it refuses a block whose checkpoint lacks a quorum of its set, and a header
 *   that does not extend the frontier it holds (CANNOT_CATCH_UP);
 * - its state directory restored from an older copy: at start it finds its own
 *   cosignature on the latest public checkpoint, catches up to it, refuses an
 *   equivocating request for a size it signed, and signs on correctly;
 * - a state that contradicts the quorum-signed log: STATE_CONFLICT, for good.
 */
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeBlockHeader, parseBlockHeader } from '../../sdk/src/block.ts';
import { formatCheckpoint } from '../../sdk/src/checkpoint.ts';
import { verifyNote } from '../../sdk/src/note.ts';
import { runRound } from '../../functions/ledger/coordinator.ts';
import { inProcessValidator } from '../../functions/ledger/remote-validator.ts';
import type { Batch, Store } from '../../functions/store/port.ts';
import { openFileStateStore } from '../../functions/validator/file-state-store.ts';
import type { LedgerSource } from '../../functions/validator/ledger-source.ts';
import { type RefusalCode, type SignRequest, ValidatorRefusal } from '../../functions/validator/protocol.ts';
import { type Validator, checkpointHash } from '../../functions/validator/validator.ts';
import { stopDynalite, withStore } from '../helpers/dynalite.ts';
import {
  clients,
  expectConsistentLedger,
  KEYS,
  offline,
  ORIGIN,
  publicLog,
  roundDeps,
  seedBatch,
  signRequestOf,
  validatorOf,
  validators,
} from '../ledger/_fixtures.ts';

afterAll(stopDynalite);
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

async function refusal(p: Promise<unknown>): Promise<{ code: RefusalCode; reason: string }> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ValidatorRefusal) return { code: e.code, reason: e.reason };
    throw e;
  }
  throw new Error('the validator signed');
}

/** Rounds with validator-4 offline; returns the batches. */
async function roundsWithout4(store: Store, k: number): Promise<Batch[]> {
  const vs = clients(validators(store));
  vs[3] = offline('validator-4');
  const out: Batch[] = [];
  for (let i = 0; i < k; i++) {
    out.push(await seedBatch(store, 2));
    expect((await runRound(roundDeps(store, vs))).status).toBe('finalized');
  }
  return out;
}

/** The public log with its blocks altered on the way (a lying or broken API). */
const altered = (log: LedgerSource, change: (b: { height: number; header: string; checkpoint: string }) => { height: number; header: string; checkpoint: string }): LedgerSource => ({
  location: log.location,
  latestCheckpoint: () => log.latestCheckpoint(),
  blocks: async (from, limit) => (await log.blocks(from, limit)).map(change),
});

describe('catching up from the public API', () => {
  it('after being down for k rounds it adopts the k blocks and signs the next', async () => {
    const { store, close } = await withStore();
    try {
      const batches = await roundsWithout4(store, 5);
      let pages = 0;
      const log = publicLog(store);
      const v4 = validatorOf(store, 3, { source: { ...log, location: log.location, latestCheckpoint: () => log.latestCheckpoint(), blocks: (f, l) => (pages++, log.blocks(f, l)) } });
      expect((await v4.status()).size).toBe(0);
      batches.push(await seedBatch(store, 1));
      const vs = [...clients(validators(store)).slice(0, 3), inProcessValidator(v4)];
      const o = await runRound(roundDeps(store, vs));
      expect(o).toMatchObject({ status: 'finalized', height: 5, faults: [] });
      expect(o.signers).toContain('validator-4');
      expect(await v4.status()).toMatchObject({ size: 6 });
      expect(pages).toBe(1);
      await expectConsistentLedger(store, batches);
    } finally {
      await close();
    }
  });

  it('refuses a block whose checkpoint lacks a quorum, and a header that does not extend its frontier', async () => {
    const { store, close } = await withStore();
    try {
      await roundsWithout4(store, 3);
      await seedBatch(store, 1);
      const v123 = clients(validators(store)).slice(0, 3);
      // The coordinator's proposal of height 3, as validator-4 would get it.
      const o = await runRound(roundDeps(store, [...v123.slice(0, 2), offline('validator-3'), offline('validator-4')]));
      expect(o.status).toBe('no-quorum');
      const req = signRequestOf((await store.getProposal(3))!);
      const log = publicLog(store);

      const oneSignature = altered(log, (b) => ({ ...b, checkpoint: b.checkpoint.slice(0, b.checkpoint.indexOf('\n\n') + 2) + b.checkpoint.split('\n\n')[1]!.split('\n')[0]! + '\n' }));
      const r1 = await refusal(validatorOf(store, 3, { source: oneSignature }).sign(req));
      expect(r1.code).toBe('CANNOT_CATCH_UP');
      expect(r1.reason).toMatch(/block 0: its checkpoint has no quorum/);

      const otherTime = altered(log, (b) => (b.height === 1 ? { ...b, header: encodeBlockHeader({ ...parseBlockHeader(b.header), time: '2020-01-01T00:00:00.000Z' }) } : b));
      const r2 = await refusal(validatorOf(store, 3, { source: otherTime }).sign(req));
      expect(r2).toMatchObject({ code: 'CANNOT_CATCH_UP', reason: expect.stringMatching(/block 1: its checkpoint is not the calendar we hold extended by its header/) });

      const otherPrev = altered(log, (b) => (b.height === 2 ? { ...b, header: encodeBlockHeader({ ...parseBlockHeader(b.header), prev: new Uint8Array(32).fill(3) }) } : b));
      const r3 = await refusal(validatorOf(store, 3, { source: otherPrev }).sign(req));
      expect(r3).toMatchObject({ code: 'CANNOT_CATCH_UP', reason: expect.stringMatching(/block 2 does not extend the calendar we hold/) });

      const missing: LedgerSource = { ...log, location: log.location, latestCheckpoint: () => log.latestCheckpoint(), blocks: async () => [] };
      expect((await refusal(validatorOf(store, 3, { source: missing }).sign(req))).code).toBe('CANNOT_CATCH_UP');

      // The honest public log: it catches up and signs.
      expect((await validatorOf(store, 3).sign(req)).checkpoint).toBe(req.checkpoint);
    } finally {
      await close();
    }
  });
});

describe('a rolled-back state', () => {
  it('catches up to what it signed, refuses to equivocate, and signs on', async () => {
    const { store, close } = await withStore();
    const base = mkdtempSync(join(tmpdir(), 'ls-rollback-'));
    dirs.push(base);
    const dir = join(base, 'validator-1');
    try {
      const warnings: Record<string, unknown>[] = [];
      const open = () => openFileStateStore({ dir, name: 'validator-1', origin: ORIGIN });
      let state = await open();
      let v1: Validator = validatorOf(store, 0, { state });
      const others = clients(validators(store)).slice(1);
      const deps = () => roundDeps(store, [inProcessValidator(v1), ...others]);
      for (let i = 0; i < 2; i++) {
        await seedBatch(store, 1);
        expect((await runRound(deps())).status).toBe('finalized');
      }
      copyFileSync(join(dir, 'state.json'), join(base, 'backup.json')); // size 2
      for (let i = 0; i < 3; i++) {
        await seedBatch(store, 1);
        expect((await runRound(deps())).signers).toContain('validator-1');
      }
      expect(await v1.status()).toMatchObject({ size: 5 });
      await state.close();

      // Restore the older copy and start again.
      copyFileSync(join(base, 'backup.json'), join(dir, 'state.json'));
      state = await open();
      expect((await state.load())?.size).toBe(2);
      const k = KEYS[0]!;
      v1 = validatorOf(store, 0, { state, log: { info: () => {}, warn: (f) => void warnings.push(f), error: () => {} } });
      // A lying coordinator asks, at the height its old state knows, for another checkpoint of size 3.
      const p2 = (await store.getProposal(2))!;
      const lie: SignRequest = { ...signRequestOf(p2), members: [signRequestOf(p2).members[0]!] };
      expect((await refusal(v1.sign(lie))).code).toBe('STALE_HEIGHT');
      expect(warnings.map((w) => w.msg)).toEqual([expect.stringMatching(/behind a checkpoint it signed/)]);
      expect(await v1.status()).toMatchObject({ size: 5, conflict: null });
      // It relearned what it signed from the public log: the records and the cosignature time.
      const block4 = (await store.getBlock(4))!;
      const body = block4.checkpoint.slice(0, block4.checkpoint.indexOf('\n\n') + 1);
      expect(await state.getSigned(5)).toMatchObject({ hash: checkpointHash(body) });
      expect(await state.getSigned(3)).not.toBeNull();
      // A retry of the last size gets the identical line; another checkpoint of that size is refused.
      const p4 = signRequestOf((await store.getProposal(4))!);
      const again = await v1.sign(p4);
      expect(block4.checkpoint).toContain(again.signature);
      const forged = { ...p4, checkpoint: formatCheckpoint({ origin: ORIGIN, size: 5, root: new Uint8Array(32).fill(1) }) };
      expect((await refusal(v1.sign(forged))).code).toBe('EQUIVOCATION');
      // And it signs on.
      await seedBatch(store, 1);
      const o = await runRound(deps());
      expect(o).toMatchObject({ status: 'finalized', height: 5 });
      expect(o.signers).toContain('validator-1');
      expect(verifyNote((await store.getBlock(5))!.checkpoint, [k.verifierKey]).verified).toEqual(['validator-1']);
      await state.close();
    } finally {
      await close();
    }
  });

  it('a state that contradicts the quorum-signed log refuses everything: STATE_CONFLICT, kept across restarts', async () => {
    const { store, close } = await withStore();
    const base = mkdtempSync(join(tmpdir(), 'ls-conflict-'));
    dirs.push(base);
    try {
      await roundsWithout4(store, 2);
      const dir = join(base, 'validator-4');
      let state = await openFileStateStore({ dir, name: 'validator-4', origin: ORIGIN });
      // It "remembers" signing another checkpoint of size 2 than the one a quorum finalized.
      await state.recordSigned({ size: 2, hash: 'e'.repeat(64), at: 1 });
      const v4 = validatorOf(store, 3, { state });
      const r = await refusal(v4.start());
      expect(r).toMatchObject({ code: 'STATE_CONFLICT', reason: expect.stringMatching(/a quorum signed another checkpoint of size 2/) });
      await state.close();
      state = await openFileStateStore({ dir, name: 'validator-4', origin: ORIGIN });
      expect((await state.load())?.conflict).toMatch(/size 2/);
      await seedBatch(store, 1);
      const vs = [...clients(validators(store)).slice(0, 3), inProcessValidator(validatorOf(store, 3, { state }))];
      const o = await runRound(roundDeps(store, vs));
      expect(o.status).toBe('finalized');
      expect(o.faults).toEqual([expect.objectContaining({ validator: 'validator-4', reason: 'refused', detail: expect.stringMatching(/^STATE_CONFLICT/) })]);
      await state.close();
    } finally {
      await close();
    }
  });
});
