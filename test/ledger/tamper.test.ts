/**
 * Tampering with the table behind the service's back (raw DynamoDB writes):
 * the proofs it then serves fail sdk verifyProof with the check that names the
 * damage, and auditLedger reports the exact height.
 */
import { GetItemCommand, UpdateItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeBlockHeader, parseBlockHeader } from '../../sdk/src/block.ts';
import { verifyProof } from '../../sdk/src/proof.ts';
import { auditLedger } from '../../functions/ledger/audit.ts';
import { runRound } from '../../functions/ledger/coordinator.ts';
import { readAnchor } from '../../functions/ledger/proofs.ts';
import { keys } from '../../functions/store/items.ts';
import type { Batch } from '../../functions/store/port.ts';
import { stopDynalite, withStore, type TestStore } from '../helpers/dynalite.ts';
import { clients, ORIGIN, roundDeps, seedBatch, SET, validators } from './_fixtures.ts';

afterAll(stopDynalite);

/** Five blocks; returns the batches of each. */
async function ledger(t: TestStore): Promise<Batch[][]> {
  const deps = roundDeps(t.store, clients(validators(t.store)));
  const rounds: Batch[][] = [];
  for (let h = 0; h < 5; h++) {
    rounds.push([await seedBatch(t.store, 4), await seedBatch(t.store, 3)]);
    expect((await runRound(deps)).status).toBe('finalized');
  }
  expect((await runRound(deps)).status).toBe('empty');
  const clean = await auditLedger(t.store, SET, { origin: ORIGIN });
  expect(clean).toMatchObject({ ok: true, size: 5, findings: [] });
  return rounds;
}

async function proofCheck(t: TestStore, batch: Batch, index: number): Promise<string> {
  const s = await readAnchor(t.store, ORIGIN, `${batch.id}.${index}`, batch.agencyId);
  if (s?.status !== 'confirmed') throw new Error('not confirmed');
  const r = verifyProof(s.proof, { validators: SET, origin: ORIGIN });
  return r.ok ? 'ok' : r.failed;
}

async function update(t: TestStore, key: Record<string, AttributeValue>, attr: string, value: AttributeValue): Promise<void> {
  await t.client.send(
    new UpdateItemCommand({
      TableName: t.tableName,
      Key: key,
      UpdateExpression: 'SET #a = :v',
      ExpressionAttributeNames: { '#a': attr },
      ExpressionAttributeValues: { ':v': value },
    }),
  );
}

async function getBinary(t: TestStore, key: Record<string, AttributeValue>, attr: string): Promise<Uint8Array> {
  const r = await t.client.send(new GetItemCommand({ TableName: t.tableName, Key: key, ConsistentRead: true }));
  return new Uint8Array(r.Item![attr]!.B!);
}

describe('tampering', () => {
  it("a batch's stored anchors: the proof fails at round-root, the audit names the block", async () => {
    const t = await withStore();
    try {
      const rounds = await ledger(t);
      const victim = rounds[1]![0]!;
      const data = await getBinary(t, keys.batch(victim.id), 'data');
      data[5]! ^= 0x80; // inside anchor 0
      await update(t, keys.batch(victim.id), 'data', { B: data });
      expect(await proofCheck(t, victim, 0)).toBe('round-root');
      expect(await proofCheck(t, victim, 2)).toBe('round-root'); // its path holds the altered leaf's subtree
      expect(await proofCheck(t, rounds[1]![1]!, 0)).toBe('ok'); // the round tree itself is intact
      const audit = await auditLedger(t.store, SET, { origin: ORIGIN });
      expect(audit.ok).toBe(false);
      expect(audit.firstBadHeight).toBe(1);
      expect(audit.findings).toEqual([{ height: 1, check: 'batch-root', detail: expect.stringContaining(victim.id) }]);
    } finally {
      await t.close();
    }
  });

  it('a block header: the proof fails at calendar-inclusion, the audit names the height', async () => {
    const t = await withStore();
    try {
      const rounds = await ledger(t);
      const block = (await t.store.getBlock(2))!;
      const h = parseBlockHeader(block.header);
      const forged = encodeBlockHeader({ ...h, time: new Date(Date.parse(h.time) + 1).toISOString() });
      await update(t, keys.block(2), 'header', { S: forged });
      expect(await proofCheck(t, rounds[2]![0]!, 1)).toBe('calendar-inclusion');
      const audit = await auditLedger(t.store, SET, { origin: ORIGIN });
      expect(audit.firstBadHeight).toBe(2);
      const at2 = audit.findings.filter((f) => f.height === 2).map((f) => f.check);
      expect(at2).toEqual(expect.arrayContaining(['checkpoint-root', 'calendar-node']));
      // The next block's prev no longer links to it.
      expect(audit.findings).toContainEqual({ height: 3, check: 'prev', detail: expect.any(String) });
    } finally {
      await t.close();
    }
  });

  it('a calendar node: the proofs through it fail at calendar-inclusion, the audit names the height that completed it', async () => {
    const t = await withStore();
    try {
      const rounds = await ledger(t);
      // Node (level 1, index 1) covers blocks 2 and 3: completed by block 3; the path of block 0 uses it.
      const key = keys.calendar(1, 1);
      const hash = await getBinary(t, key, 'hash');
      hash[0]! ^= 1;
      await update(t, key, 'hash', { B: hash });
      // Calendar paths at size 5: blocks 0 and 1 go through [2, 4); blocks 2, 3 and 4 do not.
      expect(await proofCheck(t, rounds[0]![0]!, 0)).toBe('calendar-inclusion');
      expect(await proofCheck(t, rounds[1]![1]!, 2)).toBe('calendar-inclusion');
      for (const h of [2, 3, 4]) expect(await proofCheck(t, rounds[h]![0]!, 0)).toBe('ok');
      const audit = await auditLedger(t.store, SET, { origin: ORIGIN });
      expect(audit.findings).toEqual([{ height: 3, check: 'calendar-node', detail: expect.stringContaining('level 1, index 1') }]);
    } finally {
      await t.close();
    }
  });

  it('a frontier node: validators refuse to extend the altered calendar, nothing is finalized on it', async () => {
    const t = await withStore();
    try {
      await ledger(t);
      const key = keys.calendar(0, 4); // the frontier of size 5 is [node(2,0), node(0,4)]
      const hash = await getBinary(t, key, 'hash');
      hash[31]! ^= 1;
      await update(t, key, 'hash', { B: hash });
      await seedBatch(t.store, 2);
      const o = await runRound(roundDeps(t.store, clients(validators(t.store))));
      expect(o.status).toBe('no-quorum');
      expect(o.faults.map((f) => `${f.reason} ${f.detail.split(':')[0]}`)).toEqual(Array(4).fill('refused BAD_CHECKPOINT'));
      expect((await t.store.getLatestBlock())!.height).toBe(4);
      const audit = await auditLedger(t.store, SET);
      expect(audit.firstBadHeight).toBe(4);
      expect(audit.findings.map((f) => `${f.height} ${f.check}`)).toEqual(['4 calendar-node', '4 consistency']);
    } finally {
      await t.close();
    }
  });
});
