/**
 * Bulk proofs: GET /v1/batches/{id} serves the proof of a batch's root once, and
 * the SDK derives every anchor's proof from it locally (batchProofs, prependChain),
 * identical to what GET /v1/anchors/{id} serves one by one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hexToBytes } from '../../sdk/src/encoding.ts';
import { batchProofs, checkProofConsistency, prependChain, verifyProof } from '../../sdk/src/proof.ts';
import { runRound } from '../../functions/ledger/coordinator.ts';
import { stopDynalite } from '../helpers/dynalite.ts';
import { type Fixture, fixture, hashes, ORIGIN, PROBLEM, problem, hostedValidator } from './setup.ts';

afterAll(stopDynalite);

describe('GET /v1/batches/{id}', () => {
  let f: Fixture;
  let agency: { id: string; apiKey: string };
  const round = () => {
    f.clock.advance(1000);
    const v = f.services.validator!;
    return runRound({ store: f.store, origin: ORIGIN, validatorSet: f.services.validatorSet, validators: [{ name: f.validatorKeys[0]!.name, sign: (req) => v.sign(req) }], now: () => f.clock.now() });
  };
  beforeAll(async () => {
    f = await fixture({
      validator: (x) => hostedValidator(x, { now: () => f.clock.now() }),
    });
    agency = await f.agency();
  });
  afterAll(() => f.close());

  it('pending, then the batch root proof from which every anchor proof is derived locally', async () => {
    const hs = hashes(7, 41);
    const res = await f.call('POST', '/v1/anchors', { token: agency.apiKey, body: { anchors: hs.map((hash) => ({ hash })) } });
    const { batchId } = (await res.json()) as { batchId: string };
    const pending = (await (await f.call('GET', `/v1/batches/${batchId}`, { token: agency.apiKey })).json()) as Record<string, any>;
    expect(pending).toMatchObject({ id: batchId, size: 7, status: 'pending' });
    expect(pending.proof).toBeUndefined();
    expect(pending.anchors).toBeUndefined();
    expect((await round()).status).toBe('finalized');

    const b = (await (await f.call('GET', `/v1/batches/${batchId}?include=anchors`, { token: agency.apiKey })).json()) as Record<string, any>;
    expect(b).toMatchObject({ id: batchId, size: 7, status: 'confirmed', anchors: hs });
    expect(b.proof.anchor).toBe(b.root);
    expect(b.proof.chain).toHaveLength(1);
    const trust = { validators: f.services.validatorSet, origin: ORIGIN };
    expect(verifyProof(b.proof, trust).ok).toBe(true); // the batch root itself is proven
    const bulk = batchProofs(b.proof, hs.map((h) => hexToBytes(h)));
    for (let i = 0; i < 7; i++) {
      const one = (await (await f.call('GET', `/v1/anchors/${batchId}.${i}`, { token: agency.apiKey })).json()) as Record<string, any>;
      expect(bulk.proofAt(i)).toEqual(one.proof);
      expect(verifyProof(bulk.proofAt(i), trust).ok).toBe(true);
    }
    // prependChain gives the same document from the batch step alone.
    const p3 = bulk.proofAt(3);
    expect(prependChain(b.proof, p3.anchor, [p3.chain[0]!])).toEqual(p3);
    expect(() => prependChain(b.proof, hs[4]!, [p3.chain[0]!])).toThrow(/do not lead/);
    expect(() => batchProofs(b.proof, hs.slice(1).map((h) => hexToBytes(h)))).toThrow(/do not hash to the batch root/);
    expect(checkProofConsistency(p3)).toMatchObject({ ok: true, time: null });
    const broken = { ...p3, chain: [{ ...p3.chain[0]!, index: 2 }, ...p3.chain.slice(1)] };
    expect(checkProofConsistency(broken)).toMatchObject({ ok: false, failed: 'round-root' });

    const other = await f.agency('Other');
    for (const path of [`/v1/batches/${batchId}`, '/v1/batches/01JD3Q8Y5ZK2M7N9P4R6S8T0VW', '/v1/batches/nope']) {
      const p = await problem(await f.call('GET', path, { token: path.endsWith(batchId) ? other.apiKey : agency.apiKey }));
      expect(p.status, path).toBe(404);
      expect(p.body.type).toBe(`${PROBLEM}not-found`);
    }
    expect((await problem(await f.call('GET', `/v1/batches/${batchId}?include=hashes`, { token: agency.apiKey }))).status).toBe(400);
  });
});
