/**
 * The validator's independent checks (docs/protocol.md 7.3), one test per
 * refusal code, against sign requests crafted as a coordinator (honest or
 * lying) would send them: the request carries the whole proposal, the
 * validator's state lives in its own store. Plus deterministic retries, a crash
 * between recording and answering, and the refusal to sign a second checkpoint
 * of a size (equivocation).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { encodeBlockHeader, GENESIS_PREV, parseBlockHeader, type BlockHeader } from '../../sdk/src/block.ts';
import { formatCheckpoint } from '../../sdk/src/checkpoint.ts';
import { verifyNote } from '../../sdk/src/note.ts';
import { validatorSetHash } from '../../sdk/src/validator-set.ts';
import { appendHeader, headerLeafHash } from '../../functions/ledger/calendar.ts';
import { runRound } from '../../functions/ledger/coordinator.ts';
import { roundTree } from '../../functions/ledger/round.ts';
import type { Batch, Store } from '../../functions/store/port.ts';
import { memoryStateStore } from '../../functions/validator/file-state-store.ts';
import { refusalProblem, type RefusalCode, type SignRequest } from '../../functions/validator/protocol.ts';
import type { ValidatorStateStore } from '../../functions/validator/state-store.ts';
import { checkpointHash, Validator, ValidatorRefusal } from '../../functions/validator/validator.ts';
import { stopDynalite, withStore, type TestStore } from '../helpers/dynalite.ts';
import { clients, KEYS, ORIGIN, publicLog, roundDeps, seedBatch, SET, signRequestOf, testKeys, validatorOf, validators } from './_fixtures.ts';

afterAll(stopDynalite);

interface Craft {
  header?: Partial<BlockHeader>;
  headerText?: string;
  checkpoint?: (good: string, root: Uint8Array) => string;
  members?: (good: SignRequest['members']) => SignRequest['members'];
}

/** The sign request of the next height over `batches`, as a coordinator would send it, with a liar's overrides. */
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
  const req = signRequestOf({ height, proposalId: `${height}-test`, header, checkpoint, members });
  return craft.members ? { ...req, members: craft.members(req.members) } : req;
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

type Fresh = TestStore & { v: Validator; state: ValidatorStateStore; batches: Batch[] };

async function fresh(): Promise<Fresh> {
  const t = await withStore();
  const batches = [await seedBatch(t.store, 3), await seedBatch(t.store, 1)];
  const state = memoryStateStore({ name: KEYS[0]!.name, origin: ORIGIN });
  return { ...t, state, v: validatorOf(t.store, 0, { state }), batches };
}

const refusals: [string, RefusalCode, (t: Fresh) => Promise<SignRequest>][] = [
  ['a malformed request', 'BAD_REQUEST', async (t) => ({ ...(await propose(t.store, t.batches)), height: -1 })],
  ['a request without members', 'BAD_REQUEST', async (t) => ({ ...(await propose(t.store, t.batches)), members: [] })],
  ['another origin', 'WRONG_ORIGIN', async (t) => ({ ...(await propose(t.store, t.batches)), origin: 'elsewhere.example/x' })],
  ['a header that does not parse', 'MALFORMED_HEADER', (t) => propose(t.store, t.batches, { headerText: 'ledgerseal-block/v1\nheight 0\n' })],
  ['a header of another height', 'MALFORMED_HEADER', async (t) => ({ ...(await propose(t.store, t.batches)), height: 1 })],
  ['a wrong prev', 'BAD_PREV', (t) => propose(t.store, t.batches, { header: { prev: new Uint8Array(32).fill(9) } })],
  ['a time beyond its clock skew', 'BAD_TIME', (t) => propose(t.store, t.batches, { header: { time: new Date(Date.now() + 3_600_000).toISOString() } })],
  ['another validator set', 'BAD_VALIDATOR_SET', (t) => propose(t.store, t.batches, { header: { validators: new Uint8Array(32) } })],
  ['a wrong anchor count', 'BAD_ROUND', (t) => propose(t.store, t.batches, { header: { anchors: 5 } })],
  ['member counts that do not add up to anchors', 'BAD_ROUND', (t) =>
    propose(t.store, t.batches, { members: (m) => m.map((x, i) => (i === 0 ? { ...x, count: x.count + 1 } : x)) })],
  ['a wrong round-size', 'BAD_ROUND', (t) => propose(t.store, t.batches, { header: { roundSize: 3 } })],
  ['a wrong round root', 'BAD_ROUND', (t) => propose(t.store, t.batches, { header: { roundRoot: new Uint8Array(32).fill(1) } })],
  ['members that do not hash to round-root', 'BAD_ROUND', (t) =>
    propose(t.store, t.batches, { members: (m) => m.map((x, i) => (i === 1 ? { ...x, root: 'ab'.repeat(32) } : x)) })],
  ['members in another order', 'BAD_ROUND', (t) => propose(t.store, t.batches, { members: (m) => [...m].reverse() })],
  ['a checkpoint with another root (not our calendar)', 'BAD_CHECKPOINT', (t) =>
    propose(t.store, t.batches, { checkpoint: () => formatCheckpoint({ origin: ORIGIN, size: 1, root: new Uint8Array(32) }) })],
  ['a checkpoint of another size', 'BAD_CHECKPOINT', (t) =>
    propose(t.store, t.batches, { checkpoint: (_, root) => formatCheckpoint({ origin: ORIGIN, size: 2, root }) })],
  ['a height it cannot reach (no block below)', 'CANNOT_CATCH_UP', async (t) => {
    const req = await propose(t.store, t.batches);
    const header = encodeBlockHeader({ ...parseBlockHeader(req.header), height: 2 });
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
        expect(await t.state.load()).toBeNull();
        expect(await t.state.getSigned(1)).toBeNull();
        expect((await t.v.sign(await propose(t.store, t.batches))).checkpoint).toMatch(/\n1\n/);
      } finally {
        await t.close();
      }
    });
  }

  it('refuses a time before the previous block', async () => {
    const t = await fresh();
    try {
      await runRound(roundDeps(t.store, clients([t.v, ...validators(t.store).slice(1)])));
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
      expect(await t.state.load()).toMatchObject({ size: 1, lastLeaf: headerLeafHash(req.header) });
      expect(await t.state.getSigned(1)).toMatchObject({ hash: checkpointHash(req.checkpoint) });
      const problem = refusalProblem(new ValidatorRefusal('EQUIVOCATION', 'x'), 'validator-1');
      expect(problem).toMatchObject({ status: 409, code: 'EQUIVOCATION', validator: 'validator-1' });
    } finally {
      await t.close();
    }
  });

  it('a crash between recording and answering: the retry signs the same checkpoint with the same line', async () => {
    const t = await fresh();
    try {
      const inner = memoryStateStore({ name: KEYS[1]!.name, origin: ORIGIN });
      let failOnce = true;
      const flaky: ValidatorStateStore = {
        location: inner.location,
        load: () => inner.load(),
        getSigned: (n) => inner.getSigned(n),
        recordSigned: (r) => inner.recordSigned(r),
        close: () => inner.close(),
        save: async (s) => {
          if (failOnce) {
            failOnce = false;
            throw new Error('killed');
          }
          return inner.save(s);
        },
      };
      let now = Date.now();
      const v = validatorOf(t.store, 1, { state: flaky, now: () => new Date(now) });
      const req = await propose(t.store, t.batches);
      await expect(v.sign(req)).rejects.toThrow('killed');
      expect(await inner.load()).toBeNull();
      now += 5_000; // the retry's cosignature time is the recorded one, not the clock's
      const r = await v.sign(req);
      expect(verifyNote(`${req.checkpoint}\n${r.signature}`, [KEYS[1]!.verifierKey]).verified).toEqual(['validator-2']);
      expect(r).toEqual(await validatorOf(t.store, 1, { state: inner, now: () => new Date(now - 5_000) }).sign(req));
      expect(await inner.load()).toMatchObject({ size: 1 });
    } finally {
      await t.close();
    }
  });

  it('never signs a second checkpoint of a size it signed (equivocation), whatever the coordinator sends', async () => {
    const t = await fresh();
    try {
      const req = await propose(t.store, t.batches);
      // The conditional record alone stops an instance whose state lags behind what another
      // instance of the same validator recorded (and crashed before updating the state).
      const state2 = memoryStateStore({ name: KEYS[1]!.name, origin: ORIGIN });
      const v2 = validatorOf(t.store, 1, { state: state2 });
      expect((await state2.recordSigned({ size: 1, hash: 'f'.repeat(64), at: 1 })).result).toBe('recorded');
      expect(await refusal(v2, req)).toBe('EQUIVOCATION');
      expect(await state2.load()).toBeNull();
      await t.v.sign(req);
      // A lying coordinator asks again for height 0 with another proposal (one batch only).
      const other = await propose(t.store, [t.batches[0]!]);
      expect(other.checkpoint).not.toBe(req.checkpoint);
      expect(await refusal(t.v, other)).toBe('EQUIVOCATION');
      expect(await t.v.sign(req)).toMatchObject({ checkpoint: req.checkpoint });
    } finally {
      await t.close();
    }
  });

  it('refuses an old height once it moved on: STALE_HEIGHT', async () => {
    const t = await fresh();
    try {
      const deps = roundDeps(t.store, clients([t.v, ...validators(t.store).slice(1)]));
      await runRound(deps);
      await seedBatch(t.store, 1);
      await runRound(deps);
      await seedBatch(t.store, 1);
      await runRound(deps);
      expect(await refusal(t.v, signRequestOf((await t.store.getProposal(0))!))).toBe('STALE_HEIGHT');
      const p2 = (await t.store.getProposal(2))!;
      const again = await t.v.sign(signRequestOf(p2));
      expect(again.checkpoint).toBe(p2.checkpoint);
    } finally {
      await t.close();
    }
  });

  it('fails at construction when misconfigured', async () => {
    const t = await withStore();
    try {
      const [a, b] = testKeys(2) as [(typeof KEYS)[0], (typeof KEYS)[0]];
      const base = { origin: ORIGIN, validatorSet: SET, source: publicLog(t.store) };
      expect(() => new Validator({ ...base, name: 'validator-2', signerKey: a.signerKey, state: memoryStateStore({ name: 'validator-2', origin: ORIGIN }) })).toThrow();
      const stranger = testKeys(5)[4]!;
      expect(() => new Validator({ ...base, ...stranger, state: memoryStateStore({ name: stranger.name, origin: ORIGIN }) })).toThrow(/not in the validator set/);
      expect(b.name).toBe('validator-2');
    } finally {
      await t.close();
    }
  });
});
