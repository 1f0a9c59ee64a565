/**
 * The happy path of the ledger: rounds over seeded batches, proofs that verify
 * against the validator set and against a publication, empty rounds, chain
 * links, events, proof extension and consistency proofs.
 */
import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { generateCosignerKey } from '../../sdk/src/cosignature.ts';
import { afterAll, describe, expect, it } from 'vitest';
import { parseBlockHeader } from '../../sdk/src/block.ts';
import { parseCheckpoint } from '../../sdk/src/checkpoint.ts';
import { hexToBytes } from '../../sdk/src/encoding.ts';
import { verifyConsistency } from '../../sdk/src/merkle.ts';
import { extendProof as sdkExtendProof, verifyProof } from '../../sdk/src/proof.ts';
import { headerLeafHash } from '../../functions/ledger/calendar.ts';
import { defaultValidatorSet } from '../../functions/ledger/keys.ts';
import { runRound } from '../../functions/ledger/coordinator.ts';
import { ServiceError } from '../../functions/errors.ts';
import { consistencyProof, proofExtension, readAnchor } from '../../functions/ledger/proofs.ts';
import { runPublication } from '../../functions/ledger/publisher.ts';
import { keys } from '../../functions/store/items.ts';
import type { Batch, LedgerEvent } from '../../functions/store/port.ts';
import { stopDynalite, withStore } from '../helpers/dynalite.ts';
import { AGENCY, clients, expectConsistentLedger, ORIGIN, roundDeps, seedBatch, SET, validators } from './_fixtures.ts';

afterAll(stopDynalite);

const body = (note: string): string => note.slice(0, note.indexOf('\n\n') + 1);

describe('rounds', () => {
  it('finalizes rounds whose every anchor has a verifying proof; an empty round makes no block', async () => {
    const { store, close } = await withStore();
    try {
      const seen: LedgerEvent[] = [];
      const deps = roundDeps(store, clients(validators(store)), { onEvent: (e) => seen.push(e) });
      expect((await runRound(deps)).status).toBe('empty');
      expect(await store.getLatestBlock()).toBeNull();

      const batches: Batch[] = [];
      const round1 = [await seedBatch(store, 1), await seedBatch(store, 5), await seedBatch(store, 17, { agencyId: 'AGENCY-B' })];
      batches.push(...round1);
      const pending = await readAnchor(store, ORIGIN, `${round1[1]!.id}.3`, AGENCY);
      expect(pending?.status).toBe('pending');

      const o1 = await runRound(deps);
      expect(o1).toMatchObject({ status: 'finalized', height: 0, batches: 3, anchors: 23, faults: [] });
      expect(o1.signers).toEqual(['validator-1', 'validator-2', 'validator-3', 'validator-4']);
      // The proof of block 0 as served at calendar size 1, kept to be extended later.
      const early = await readAnchor(store, ORIGIN, `${round1[1]!.id}.3`, AGENCY);
      expect(early?.status).toBe('confirmed');
      expect((await runRound(deps)).status).toBe('empty');

      batches.push(await seedBatch(store, 2));
      expect((await runRound(deps)).status).toBe('finalized');
      batches.push(await seedBatch(store, 3), await seedBatch(store, 1), await seedBatch(store, 8), await seedBatch(store, 4));
      expect(await runRound(deps)).toMatchObject({ status: 'finalized', height: 2, batches: 4, anchors: 16 });
      expect((await runRound(deps)).status).toBe('empty');

      // Chain: heights without gaps, prev links, time never going back, the set hash.
      const blocks = await store.listBlocks({ from: 0, limit: 10 });
      expect(blocks.map((b) => b.height)).toEqual([0, 1, 2]);
      blocks.forEach((b, i) => {
        const h = parseBlockHeader(b.header);
        expect(h.height).toBe(i);
        expect(Buffer.from(h.prev).toString('hex')).toBe(i === 0 ? '0'.repeat(64) : Buffer.from(headerLeafHash(blocks[i - 1]!.header)).toString('hex'));
        if (i > 0) expect(Date.parse(h.time)).toBeGreaterThanOrEqual(Date.parse(parseBlockHeader(blocks[i - 1]!.header).time));
        expect(parseCheckpoint(body(b.checkpoint))).toMatchObject({ origin: ORIGIN, size: i + 1 });
      });
      await expectConsistentLedger(store, batches);

      // Every anchor of every batch.
      for (const b of batches) {
        for (let i = 0; i < b.count; i++) {
          const s = await readAnchor(store, ORIGIN, `${b.id}.${i}`, b.agencyId);
          if (s?.status !== 'confirmed') throw new Error(`anchor ${b.id}.${i} is ${s?.status}`);
          expect(s.hash).toBe(Buffer.from(b.hashes.subarray(32 * i, 32 * i + 32)).toString('hex'));
          expect(s.proof.calendar.size).toBe(3);
          expect(verifyProof(s.proof, { validators: SET, origin: ORIGIN }).ok).toBe(true);
        }
      }
      // Another agency, an unknown batch, an index past the end: nothing.
      expect(await readAnchor(store, ORIGIN, `${round1[0]!.id}.0`, 'AGENCY-B')).toBeNull();
      expect(await readAnchor(store, ORIGIN, `${round1[0]!.id}.1`, AGENCY)).toBeNull();
      expect(await readAnchor(store, ORIGIN, '01JD3Q8Y5ZK2M7N9P4R6S8T0VW.0', AGENCY)).toBeNull();
      expect(await readAnchor(store, ORIGIN, 'not-an-id', AGENCY)).toBeNull();

      // Events: one per round, per checkpoint, per batch (agency-scoped), no duplicates.
      const ids = seen.map((e) => e.id);
      expect(new Set(ids).size).toBe(ids.length);
      for (const h of [0, 1, 2]) expect(ids).toContain(`round.finalized:${h}`);
      for (const s of [1, 2, 3]) expect(ids).toContain(`checkpoint.published:${s}`);
      const confirmed = seen.filter((e) => e.type === 'anchor.confirmed');
      expect(confirmed.map((e) => e.data.batchId).sort()).toEqual(batches.map((b) => b.id).sort());
      const b17 = confirmed.find((e) => e.data.batchId === round1[2]!.id)!;
      expect(b17).toMatchObject({ agencyId: 'AGENCY-B', data: { height: 0, anchors: { first: `${round1[2]!.id}.0`, last: `${round1[2]!.id}.16`, count: 17 } } });
      const stored = await Promise.all(['round.finalized', 'checkpoint.published', 'anchor.confirmed'].map((type) => store.listEvents({ type, limit: 100 })));
      expect(stored.flatMap((p) => p.items.map((e) => e.id)).sort()).toEqual([...ids].sort());

      // Extend the early proof (calendar size 1) to size 3; consistency 1 -> 3.
      if (early?.status !== 'confirmed') throw new Error('unreachable');
      const ext = await proofExtension(store, 0, 3);
      const extended = sdkExtendProof(early.proof, ext);
      expect(verifyProof(extended, { validators: SET }).ok).toBe(true);
      const roots = blocks.map((b) => parseCheckpoint(body(b.checkpoint)).root);
      for (const [m, n] of [[1, 3], [2, 3], [1, 2], [3, 3]] as const) {
        const path = await consistencyProof(store, m, n);
        expect(verifyConsistency(m, n, path, roots[m - 1]!, roots[n - 1]!)).toBe(true);
      }
      await expect(consistencyProof(store, 2, 1)).rejects.toMatchObject({ code: 'INVALID_RANGE' });
      await expect(consistencyProof(store, 0, 1)).rejects.toMatchObject({ code: 'INVALID_RANGE' });
      await expect(consistencyProof(store, 1, 4)).rejects.toMatchObject({ code: 'NOT_FOUND' });
      await expect(proofExtension(store, 3, 3)).rejects.toBeInstanceOf(ServiceError);
      await expect(proofExtension(store, 0, 9)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    } finally {
      await close();
    }
  });

  it('members carry their agency: settling reads no batch, and anchor.confirmed goes to each batch\'s owner', async () => {
    const { store, close } = await withStore();
    try {
      // The coordinator's store counts batch reads; the validators read through the plain one.
      const reads: string[] = [];
      const counted = new Proxy(store, {
        get(target, prop, receiver) {
          const v = Reflect.get(target, prop, receiver);
          if (prop === 'getBatches' || prop === 'getBatch') reads.push(prop);
          return typeof v === 'function' ? v.bind(target) : v;
        },
      });
      const steps: string[] = [];
      const seen: LedgerEvent[] = [];
      const deps = roundDeps(counted, clients(validators(store)), {
        onEvent: (e) => seen.push(e),
        failAfter: (step) => void steps.push(`${step}@${reads.length}`),
      });
      const a = await seedBatch(store, 2);
      const b = await seedBatch(store, 3, { agencyId: 'AGENCY-B' });
      const o = await runRound(deps);
      expect(o).toMatchObject({ status: 'finalized', batches: 2 });
      // One read: the coordinator's recheck before proposing. None from 'propose' to 'settle:mark'.
      expect(reads).toEqual(['getBatches']);
      expect(steps.at(-1)).toBe('settle:mark@1');
      const p = (await store.getProposal(0))!;
      expect(p.members.map((m) => [m.batchId, m.agencyId])).toEqual([
        [a.id, AGENCY],
        [b.id, 'AGENCY-B'],
      ]);
      const confirmed = seen.filter((e) => e.type === 'anchor.confirmed').map((e) => [e.data.batchId, e.agencyId]);
      expect(confirmed).toEqual([
        [a.id, AGENCY],
        [b.id, 'AGENCY-B'],
      ]);
      await expectConsistentLedger(store, [a, b]);
    } finally {
      await close();
    }
  });

  it('quarantines a pending batch whose marker names another agency than the stored batch, and goes on', async () => {
    const { store, close } = await withStore();
    try {
      const logs: { level: string; message: string; fields?: Record<string, unknown> }[] = [];
      const deps = roundDeps(store, clients(validators(store)), { log: (level, message, fields) => void logs.push({ level, message, ...(fields && { fields }) }) });
      const good = await seedBatch(store, 2);
      const forged = await seedBatch(store, 4);
      // The marker is rewritten with a foreign owner (a bug or tampering): its event would go astray.
      await store.putPending({ batchId: forged.id, agencyId: 'AGENCY-X', arrivedAt: forged.arrivedAt, root: forged.root, count: forged.count });
      const reason = `member agency AGENCY-X differs from the batch's ${AGENCY}`;
      const o = await runRound(deps);
      expect(o).toMatchObject({ status: 'finalized', batches: 1, anchors: 2, leftOut: [{ batchId: forged.id, agencyId: 'AGENCY-X', reason }] });
      expect((await store.getProposal(0))!.members.map((m) => m.batchId)).toEqual([good.id]);
      expect(logs).toContainEqual({
        level: 'error',
        message: 'batch quarantined: left out of every round',
        fields: { height: 0, batchId: forged.id, agencyId: 'AGENCY-X', reason },
      });
      // Out of every round from now on: a quarantine record, an event for the marker's agency, no marker.
      expect(await store.getQuarantine(forged.id)).toMatchObject({ batchId: forged.id, agencyId: 'AGENCY-X', reason });
      const events = await store.listEvents({ limit: 10, type: 'batch.quarantined' });
      expect(events.items).toEqual([expect.objectContaining({ id: `batch.quarantined:${forged.id}`, agencyId: 'AGENCY-X', data: { batchId: forged.id, reason } })]);
      expect(await store.listPending({ before: '2100-01-01T00:00:00.000Z', limit: 10 })).toEqual([]);
      expect(await runRound(deps)).toMatchObject({ status: 'empty', leftOut: [] });
      // Its owner reading one of its anchors learns what happened; nobody else learns it exists.
      await expect(readAnchor(store, ORIGIN, `${forged.id}.0`, AGENCY)).rejects.toMatchObject({ code: 'UNREADABLE_BATCH', message: expect.stringContaining(reason) });
      expect(await readAnchor(store, ORIGIN, `${forged.id}.0`, 'AGENCY-X')).toBeNull();
    } finally {
      await close();
    }
  });

  it('publishes the latest checkpoint when due, and proofs verify against the publication alone', async () => {
    const { store, close } = await withStore();
    try {
      let t = Date.parse('2030-01-01T00:00:00.000Z');
      const now = (): Date => new Date(t);
      const published: LedgerEvent[] = [];
      const pub = { store, validatorSet: SET, now, intervalMs: 60_000, onEvent: (e: LedgerEvent) => published.push(e) };
      expect((await runPublication(pub)).status).toBe('no-block');

      const deps = roundDeps(store, clients(validators(store)));
      const batch = await seedBatch(store, 3);
      await runRound(deps);
      const first = await runPublication(pub);
      expect(first.status).toBe('published');
      expect((await runPublication(pub)).status).toBe('nothing-new');
      await seedBatch(store, 2);
      await runRound(deps);
      expect((await runPublication(pub)).status).toBe('not-due');
      t += 60_000;
      const second = await runPublication(pub);
      expect(second).toMatchObject({ status: 'published', publication: { size: 2 } });
      expect(published.map((e) => e.id)).toEqual(['publication.created:1', 'publication.created:2']);
      expect((await store.getLatestPublication())?.size).toBe(2);

      const s = await readAnchor(store, ORIGIN, `${batch.id}.1`, AGENCY);
      if (s?.status !== 'confirmed' || second.status !== 'published') throw new Error('unreachable');
      // No keys: the calendar root of size 2 as printed in the gazette.
      expect(verifyProof(s.proof, { publication: second.publication.code }).ok).toBe(true);
      const r = verifyProof(s.proof, { publication: { size: 2, root: hexToBytes('00'.repeat(32)) } });
      expect(r).toMatchObject({ ok: false, failed: 'publication' });
    } finally {
      await close();
    }
  });

  it('publishes only a checkpoint whose signatures reach a quorum of the configured set, not the stored block at its word', async () => {
    const t = await withStore();
    try {
      const { store } = t;
      const pub = { store, validatorSet: SET, now: () => new Date('2030-01-01T00:00:00.000Z'), intervalMs: 60_000 };
      await seedBatch(store, 2);
      await runRound(roundDeps(store, clients(validators(store))));
      // The stored block's note is cut down to one signature (tampering, or a bug): 1 of 4 is no quorum.
      const block = (await store.getBlock(0))!;
      const lines = block.checkpoint.split('\n');
      const oneSig = `${lines.slice(0, 4).join('\n')}\n${lines[4]}\n`;
      await t.client.send(new UpdateItemCommand({
        TableName: t.tableName, Key: keys.block(0), UpdateExpression: 'SET checkpoint = :c', ExpressionAttributeValues: { ':c': { S: oneSig } },
      }));
      expect(await runPublication(pub)).toMatchObject({ status: 'no-quorum', size: 1, detail: expect.stringMatching(/NO_QUORUM: signatures carry weight 1 of 4/) });
      expect(await store.getLatestPublication()).toBeNull();
      // Restored, it is checked against the configured set: a set of other keys does not vouch for it.
      await t.client.send(new UpdateItemCommand({
        TableName: t.tableName, Key: keys.block(0), UpdateExpression: 'SET checkpoint = :c', ExpressionAttributeValues: { ':c': { S: block.checkpoint } },
      }));
      const strangers = defaultValidatorSet(ORIGIN, SET.validators.map((v, i) => ({ name: v.name, ...generateCosignerKey(v.name, new Uint8Array(32).fill(100 + i)) })));
      expect(await runPublication({ ...pub, validatorSet: strangers })).toMatchObject({ status: 'no-quorum', size: 1 });
      expect(await store.getLatestPublication()).toBeNull();
      expect(await runPublication(pub)).toMatchObject({ status: 'published', publication: { size: 1 } });
    } finally {
      await t.close();
    }
  });
});
