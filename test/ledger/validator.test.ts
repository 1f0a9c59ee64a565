/**
 * The validator's independent checks (docs/protocol.md 7.3), one test per
 * refusal code, against proposals written straight into the store; plus
 * deterministic retries, a crash between recording and answering, and the
 * refusal to sign a second checkpoint of a size (equivocation).
 */
import { PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeBlockHeader, GENESIS_PREV, parseBlockHeader, type BlockHeader } from '../../sdk/src/block.ts';
import { formatCheckpoint } from '../../sdk/src/checkpoint.ts';
import { verifyNote } from '../../sdk/src/note.ts';
import { validatorSetHash } from '../../sdk/src/validator-set.ts';
import { appendHeader, headerLeafHash } from '../../functions/ledger/calendar.ts';
import { runRound } from '../../functions/ledger/coordinator.ts';
import { roundTree } from '../../functions/ledger/round.ts';
import { Validator, ValidatorRefusal } from '../../functions/ledger/validator.ts';
import { refusalProblem, type RefusalCode, type SignRequest } from '../../functions/ledger/validator-protocol.ts';
import { batchItems, keys } from '../../functions/store/items.ts';
import type { Batch, Proposal, Store } from '../../functions/store/port.ts';
import { stopDynalite, withStore, type TestStore } from '../helpers/dynalite.ts';
import { clients, KEYS, ORIGIN, roundDeps, seedBatch, SET, testKeys, validators } from './_fixtures.ts';

afterAll(stopDynalite);

interface Craft {
  header?: Partial<BlockHeader>;
  headerText?: string;
  checkpoint?: (good: string, root: Uint8Array) => string;
}

/** Store a proposal for the next height as the coordinator would, with overrides. */
async function propose(store: Store, batches: Batch[], craft: Craft = {}): Promise<SignRequest> {
  const latest = await store.getLatestBlock();
  const height = latest ? latest.height + 1 : 0;
  const members = batches.map((b) => ({ batchId: b.id, agencyId: b.agencyId, root: b.root, count: b.count, arrivedAt: b.arrivedAt }));
  const header =
    craft.headerText ??
    encodeBlockHeader({
      height,
      time: new Date().toISOString(),
      roundSize: members.length,
      anchors: members.reduce((n, m) => n + m.count, 0),
      roundRoot: roundTree(members).root(),
      prev: latest ? headerLeafHash(latest.header) : GENESIS_PREV,
      validators: validatorSetHash(SET),
      ...craft.header,
    });
  const root = craft.headerText ? new Uint8Array(32) : (await appendHeader(store, height, header)).root;
  const good = formatCheckpoint({ origin: ORIGIN, size: height + 1, root });
  const checkpoint = craft.checkpoint ? craft.checkpoint(good, root) : good;
  const p: Proposal = { height, proposalId: `${height}-test`, header, checkpoint, members, createdAt: new Date().toISOString() };
  await store.putProposal(p);
  return { origin: ORIGIN, height, proposalId: p.proposalId, header, checkpoint };
}

async function refusal(v: Validator, req: SignRequest): Promise<RefusalCode> {
  try {
    await v.sign(req);
  } catch (e) {
    if (e instanceof ValidatorRefusal) return e.code;
    throw e;
  }
  throw new Error('the validator signed');
}

async function fresh(): Promise<TestStore & { v: Validator; batches: Batch[] }> {
  const t = await withStore();
  const batches = [await seedBatch(t.store, 3), await seedBatch(t.store, 1)];
  return { ...t, v: validators(t.store)[0]!, batches };
}

const refusals: [string, RefusalCode, (t: TestStore & { batches: Batch[] }) => Promise<SignRequest>][] = [
  ['a malformed request', 'BAD_REQUEST', async (t) => ({ ...(await propose(t.store, t.batches)), height: -1 })],
  ['another origin', 'WRONG_ORIGIN', async (t) => ({ ...(await propose(t.store, t.batches)), origin: 'elsewhere.example/x' })],
  ['a height without a stored proposal', 'UNKNOWN_PROPOSAL', async (t) => ({ ...(await propose(t.store, t.batches)), height: 1 })],
  ['a request that differs from the stored proposal', 'PROPOSAL_MISMATCH', async (t) => {
    const req = await propose(t.store, t.batches);
    return { ...req, checkpoint: formatCheckpoint({ origin: ORIGIN, size: 1, root: new Uint8Array(32) }) };
  }],
  ['a header that does not parse', 'MALFORMED_HEADER', (t) => propose(t.store, t.batches, { headerText: 'ledgerseal-block/v1\nheight 0\n' })],
  ['a wrong prev', 'BAD_PREV', (t) => propose(t.store, t.batches, { header: { prev: new Uint8Array(32).fill(9) } })],
  ['a time beyond its clock skew', 'BAD_TIME', (t) => propose(t.store, t.batches, { header: { time: new Date(Date.now() + 3_600_000).toISOString() } })],
  ['another validator set', 'BAD_VALIDATOR_SET', (t) => propose(t.store, t.batches, { header: { validators: new Uint8Array(32) } })],
  ['a wrong anchor count', 'BAD_ROUND', (t) => propose(t.store, t.batches, { header: { anchors: 5 } })],
  ['a wrong round root', 'BAD_ROUND', (t) => propose(t.store, t.batches, { header: { roundRoot: new Uint8Array(32).fill(1) } })],
  ['a batch whose stored anchors changed', 'BAD_ROUND', async (t) => {
    const req = await propose(t.store, t.batches);
    const b = t.batches[0]!;
    const hashes = b.hashes.slice();
    hashes[0]! ^= 1;
    // Tampering with the table itself: the store never rewrites a stored batch.
    await t.client.send(new PutItemCommand({ TableName: t.tableName, Item: batchItems({ ...b, hashes }).head }));
    return req;
  }],
  ['a member that names another agency than its batch', 'BAD_ROUND', (t) =>
    propose(t.store, [t.batches[0]!, { ...t.batches[1]!, agencyId: 'AGENCY-OTHER' }])],
  ['a batch already placed in another block', 'BAD_ROUND', async (t) => {
    await t.store.putPlacements([{ batchId: t.batches[1]!.id, height: 7, index: 0 }]);
    return propose(t.store, t.batches);
  }],
  ['a checkpoint with another root', 'BAD_CHECKPOINT', (t) =>
    propose(t.store, t.batches, { checkpoint: () => formatCheckpoint({ origin: ORIGIN, size: 1, root: new Uint8Array(32) }) })],
  ['a checkpoint of another size', 'BAD_CHECKPOINT', (t) =>
    propose(t.store, t.batches, { checkpoint: (_, root) => formatCheckpoint({ origin: ORIGIN, size: 2, root }) })],
  ['a height it cannot reach (no block below)', 'CANNOT_CATCH_UP', async (t) => {
    const req = await propose(t.store, t.batches);
    const p = (await t.store.getProposal(0))!;
    const header = encodeBlockHeader({ ...parseBlockHeader(p.header), height: 2 });
    await t.store.putProposal({ ...p, height: 2, proposalId: '2-test', header });
    return { ...req, height: 2, proposalId: '2-test', header };
  }],
];

describe('validator checks', () => {
  for (const [what, code, make] of refusals) {
    it(`refuses ${what}: ${code}`, async () => {
      const t = await fresh();
      try {
        const req = await make(t);
        expect(await refusal(t.v, req)).toBe(code);
        // Nothing was recorded, so a correct proposal could still be signed later.
        expect(await t.store.getValidatorState(t.v.name)).toBeNull();
      } finally {
        await t.close();
      }
    });
  }

  it('refuses a time before the previous block', async () => {
    const t = await fresh();
    try {
      await runRound(roundDeps(t.store, clients(validators(t.store))));
      const prevTime = parseBlockHeader((await t.store.getBlock(0))!.header).time;
      const req = await propose(t.store, [await seedBatch(t.store, 1)], { header: { time: new Date(Date.parse(prevTime) - 1).toISOString() } });
      expect(await refusal(t.v, req)).toBe('BAD_TIME');
    } finally {
      await t.close();
    }
  });

  it('signs a good proposal; a retry gets the identical signature; the problem body carries the code', async () => {
    const t = await fresh();
    try {
      const req = await propose(t.store, t.batches);
      const a = await t.v.sign(req);
      expect(a.validator).toBe('validator-1');
      expect(a.checkpoint).toBe(req.checkpoint);
      expect(verifyNote(`${req.checkpoint}\n${a.signature}`, [KEYS[0]!.verifierKey]).verified).toEqual(['validator-1']);
      expect(await t.v.sign(req)).toEqual(a);
      expect(await t.store.getValidatorState('validator-1')).toMatchObject({ size: 1, lastLeaf: Buffer.from(headerLeafHash(req.header)).toString('hex') });
      const problem = refusalProblem(new ValidatorRefusal('EQUIVOCATION', 'x'), 'validator-1');
      expect(problem).toMatchObject({ status: 409, code: 'EQUIVOCATION', validator: 'validator-1' });
    } finally {
      await t.close();
    }
  });

  it('a crash between recording and answering: the retry signs the same checkpoint', async () => {
    const t = await fresh();
    try {
      let failOnce = true;
      const flaky = new Proxy(t.store, {
        get(target, prop, receiver) {
          if (prop === 'putValidatorState' && failOnce) {
            return async () => {
              failOnce = false;
              throw new Error('killed');
            };
          }
          const v = Reflect.get(target, prop, receiver);
          return typeof v === 'function' ? v.bind(target) : v;
        },
      }) as Store;
      const v = new Validator({ ...KEYS[1]!, store: flaky, origin: ORIGIN, validatorSet: SET });
      const req = await propose(t.store, t.batches);
      await expect(v.sign(req)).rejects.toThrow('killed');
      expect(await t.store.getValidatorState('validator-2')).toBeNull();
      const r = await v.sign(req);
      expect(verifyNote(`${req.checkpoint}\n${r.signature}`, [KEYS[1]!.verifierKey]).verified).toEqual(['validator-2']);
    } finally {
      await t.close();
    }
  });

  it('never signs a second checkpoint of a size it signed (equivocation), even if the stored proposal is replaced', async () => {
    const t = await fresh();
    try {
      const req = await propose(t.store, t.batches);
      // The conditional record alone stops an instance whose state lags behind what another
      // instance of the same validator recorded (and crashed before updating the state).
      const v2 = validators(t.store)[1]!;
      expect(await t.store.recordSigned('validator-2', 1, 'f'.repeat(64))).toBe('recorded');
      expect(await refusal(v2, req)).toBe('EQUIVOCATION');
      expect(await t.store.getValidatorState('validator-2')).toBeNull();
      await t.v.sign(req);
      // Someone rewrites the proposal item of height 0 behind the coordinator's back.
      const other = await (async () => {
        const u = await withStore();
        try {
          return await propose(u.store, [t.batches[0]!]);
        } finally {
          await u.close();
        }
      })();
      await t.client.send(
        new UpdateItemCommand({
          TableName: t.tableName,
          Key: keys.proposal(0),
          UpdateExpression: 'SET header = :h, checkpoint = :c',
          ExpressionAttributeValues: { ':h': { S: other.header }, ':c': { S: other.checkpoint } },
        }),
      );
      expect(await refusal(t.v, { ...req, header: other.header, checkpoint: other.checkpoint })).toBe('EQUIVOCATION');
      expect(await refusal(t.v, req)).toBe('PROPOSAL_MISMATCH');
    } finally {
      await t.close();
    }
  });

  it('refuses an old height once it moved on: STALE_HEIGHT', async () => {
    const t = await fresh();
    try {
      const deps = roundDeps(t.store, clients(validators(t.store)));
      await runRound(deps);
      await seedBatch(t.store, 1);
      await runRound(deps);
      await seedBatch(t.store, 1);
      await runRound(deps);
      const p = (await t.store.getProposal(0))!;
      const req = { origin: ORIGIN, height: 0, proposalId: p.proposalId, header: p.header, checkpoint: p.checkpoint };
      expect(await refusal(t.v, req)).toBe('STALE_HEIGHT');
      const p2 = (await t.store.getProposal(2))!;
      const again = await t.v.sign({ origin: ORIGIN, height: 2, proposalId: p2.proposalId, header: p2.header, checkpoint: p2.checkpoint });
      expect(again.checkpoint).toBe(p2.checkpoint);
    } finally {
      await t.close();
    }
  });

  it('fails at construction when misconfigured', async () => {
    const t = await withStore();
    try {
      const [a, b] = testKeys(2) as [(typeof KEYS)[0], (typeof KEYS)[0]];
      expect(() => new Validator({ name: 'validator-2', signerKey: a.signerKey, store: t.store, origin: ORIGIN, validatorSet: SET })).toThrow();
      const stranger = testKeys(5)[4]!;
      expect(() => new Validator({ ...stranger, store: t.store, origin: ORIGIN, validatorSet: SET })).toThrow(/not in the validator set/);
      expect(b.name).toBe('validator-2');
    } finally {
      await t.close();
    }
  });
});
