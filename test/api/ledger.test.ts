/**
 * The public ledger routes, POST /v1/verify and POST /v1/validator/sign end to
 * end: rounds are run by the real coordinator, which reaches a real Validator
 * through the app's own /v1/validator/sign route (httpValidator over app.request).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hexToBytes } from '../../sdk/src/encoding.ts';
import { verifyConsistency } from '../../sdk/src/merkle.ts';
import { parseCheckpoint } from '../../sdk/src/checkpoint.ts';
import { extendProof, verifyProof } from '../../sdk/src/proof.ts';
import { runRound } from '../../functions/ledger/coordinator.ts';
import { runPublication } from '../../functions/ledger/publisher.ts';
import { httpValidator } from '../../functions/ledger/remote-validator.ts';
import { stopDynalite } from '../helpers/dynalite.ts';
import { type Fixture, fixture, hashes, ORIGIN, PROBLEM, problem, hostedValidator } from './setup.ts';

afterAll(stopDynalite);

const rootOf = (note: string) => parseCheckpoint(note.slice(0, note.indexOf('\n\n') + 1)).root;

describe('ledger routes, verify and the validator endpoint', () => {
  let f: Fixture;
  let agency: { id: string; apiKey: string };
  let anchorIds: string[];

  const round = async () => {
    f.clock.advance(1000);
    const validators = f.validatorKeys.map((k) =>
      httpValidator({
        name: k.name,
        url: 'http://ledgerseal.test',
        coordinatorKey: f.coordinatorToken,
        fetch: (async (url: string, init?: RequestInit) => f.app.request(url, init)) as typeof fetch,
      }),
    );
    return runRound({ store: f.store, origin: ORIGIN, validatorSet: f.services.validatorSet, validators, now: () => f.clock.now() });
  };

  beforeAll(async () => {
    f = await fixture({
      validator: (x) => hostedValidator(x, { now: () => f.clock.now() }),
    });
    agency = await f.agency();
  });
  afterAll(() => f.close());

  it('before the first block: checkpoint, block and proofs are 404, the block list is empty', async () => {
    for (const path of ['/v1/checkpoint', '/v1/blocks/0', '/v1/proofs/consistency?from=1&to=1', '/v1/proofs/extend?height=0&size=1']) {
      const p = await problem(await f.call('GET', path));
      expect(p.status, path).toBe(404);
      expect(p.body.type).toBe(`${PROBLEM}not-found`);
    }
    expect(await (await f.call('GET', '/v1/blocks')).json()).toEqual({ items: [] });
    expect(await (await f.call('GET', '/v1/publications')).json()).toEqual({ items: [] });
    const health = (await (await f.call('GET', '/healthz')).json()) as Record<string, unknown>;
    expect(health).toMatchObject({ status: 'ok', origin: ORIGIN, height: null });
  });

  it('a round through POST /v1/validator/sign confirms the anchors; GET /v1/anchors/{id} returns a proof that verifies', async () => {
    const res = await f.call('POST', '/v1/anchors', { token: agency.apiKey, body: { anchors: hashes(3, 40).map((hash) => ({ hash, recordKey: 'r' })) } });
    anchorIds = ((await res.json()) as { anchors: { id: string }[] }).anchors.map((a) => a.id);
    const outcome = await round();
    expect(outcome.status).toBe('finalized');
    expect(outcome.signers).toEqual(['validator-1']);

    const a = (await (await f.call('GET', `/v1/anchors/${anchorIds[2]}`, { token: agency.apiKey })).json()) as Record<string, any>;
    expect(a.status).toBe('confirmed');
    expect(verifyProof(a.proof, { validators: f.services.validatorSet, origin: ORIGIN }).ok).toBe(true);
    const hist = (await (await f.call('GET', '/v1/anchors?recordKey=r', { token: agency.apiKey })).json()) as { items: { status: string }[] };
    expect(hist.items.map((i) => i.status)).toEqual(['confirmed', 'confirmed', 'confirmed']);
  });

  it('POST /v1/verify: ok with the default trust, named failures otherwise, 400 only for a bad body shape', async () => {
    const { proof } = (await (await f.call('GET', `/v1/anchors/${anchorIds[0]}`, { token: agency.apiKey })).json()) as { proof: Record<string, any> };
    const verify = async (body: unknown) => {
      const res = await f.call('POST', '/v1/verify', { body });
      return { status: res.status, body: (await res.json()) as Record<string, any> };
    };

    const good = await verify({ proof });
    expect(good.status).toBe(200);
    expect(good.body).toMatchObject({ ok: true, anchor: hashes(3, 40)[0], height: 0, calendarSize: 1, origin: ORIGIN, signers: ['validator-1'] });

    const tampered = await verify({ proof: { ...proof, anchor: hashes(1, 99)[0] } });
    expect(tampered.status).toBe(200);
    expect(tampered.body).toMatchObject({ ok: false });
    expect(typeof tampered.body.failed).toBe('string');

    const wrongDigest = await verify({ proof, digest: 'ab'.repeat(32), mask: 'cd'.repeat(32) });
    expect(wrongDigest.body).toMatchObject({ ok: false, failed: 'anchor' });

    const otherSet = { format: 'ledgerseal-validators/v1', validators: [{ name: 'x', key: f.validatorKeys[0]!.verifierKey.replace('validator-1', 'x'), weight: 1 }] };
    const bad = await verify({ proof, validators: otherSet });
    expect(bad.status).toBe(400); // the key name no longer matches its hash: not a validator set

    const publication = await verify({ proof, publication: { size: 1, root: 'ee'.repeat(32) } });
    expect(publication.body).toMatchObject({ ok: false, failed: 'publication' });
    const rightPublication = await verify({ proof, publication: { size: 1, root: Buffer.from(rootOf(proof.checkpoint)).toString('hex') } });
    expect(rightPublication.body).toMatchObject({ ok: true });

    const notAProof = await verify({ proof: { format: 'nope' } });
    expect(notAProof).toMatchObject({ status: 200, body: { ok: false, failed: 'format' } });

    for (const body of [{}, { proof: 'text' }, { proof, mask: 'ab'.repeat(32) }, { proof, digest: 'ab'.repeat(32) }, { proof, extra: 1 }, { proof, validators: otherSet, publication: 'X' }]) {
      const p = await verify(body);
      expect(p.status, JSON.stringify(body).slice(0, 80)).toBe(400);
      expect(p.body.type).toBe(`${PROBLEM}validation-error`);
    }
  });

  it('checkpoint, blocks, consistency and extension proofs over two blocks', async () => {
    await f.call('POST', '/v1/anchors', { token: agency.apiKey, body: { anchors: [{ hash: hashes(1, 41)[0] }] } });
    expect((await round()).status).toBe('finalized');

    const cp = await f.call('GET', '/v1/checkpoint');
    expect(cp.status).toBe(200);
    expect(cp.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    const note = await cp.text();
    expect(note.startsWith(`${ORIGIN}\n2\n`)).toBe(true);

    const b1 = (await (await f.call('GET', '/v1/blocks/1')).json()) as Record<string, any>;
    expect(b1.height).toBe(1);
    expect(b1.checkpoint).toBe(note);
    const page1 = (await (await f.call('GET', '/v1/blocks?from=0&limit=1')).json()) as Record<string, any>;
    expect(page1.items.map((b: { height: number }) => b.height)).toEqual([0]);
    expect(page1.nextFrom).toBe(1);
    const page2 = (await (await f.call('GET', '/v1/blocks?from=1&limit=5')).json()) as Record<string, any>;
    expect(page2.items.map((b: { height: number }) => b.height)).toEqual([1]);
    expect(page2.nextFrom).toBeUndefined();

    const b0 = (await (await f.call('GET', '/v1/blocks/0')).json()) as Record<string, any>;
    const cons = (await (await f.call('GET', '/v1/proofs/consistency?from=1&to=2')).json()) as { from: number; to: number; path: string[] };
    expect(cons).toMatchObject({ from: 1, to: 2 });
    expect(verifyConsistency(1, 2, cons.path.map((h) => hexToBytes(h)), rootOf(b0.checkpoint), rootOf(note))).toBe(true);

    const { proof } = (await (await f.call('GET', `/v1/anchors/${anchorIds[0]}`, { token: agency.apiKey })).json()) as { proof: Record<string, any> };
    const ext = (await (await f.call('GET', '/v1/proofs/extend?height=0&size=2')).json()) as { calendar: { size: number; path: string[] }; checkpoint: string };
    const extended = extendProof({ ...proof, calendar: { size: 1, path: [] }, checkpoint: b0.checkpoint }, ext);
    expect(verifyProof(extended, { validators: f.services.validatorSet, origin: ORIGIN }).ok).toBe(true);

    for (const [path, type] of [
      ['/v1/proofs/consistency?from=2&to=1', 'invalid-range'],
      ['/v1/proofs/consistency?from=0&to=1', 'invalid-range'],
      ['/v1/proofs/extend?height=2&size=2', 'invalid-range'],
      ['/v1/proofs/consistency?from=1&to=3', 'not-found'],
      ['/v1/proofs/extend?height=0&size=9', 'not-found'],
      ['/v1/proofs/consistency?from=1', 'validation-error'],
      ['/v1/proofs/consistency?from=-1&to=2', 'validation-error'],
      ['/v1/blocks/abc', 'validation-error'],
      ['/v1/blocks/7', 'not-found'],
      ['/v1/blocks?limit=1001', 'validation-error'],
      ['/v1/publications?cursor=@@', 'validation-error'],
    ] as const) {
      const p = await problem(await f.call('GET', path));
      expect(p.body.type, path).toBe(`${PROBLEM}${type}`);
      expect(p.contentType).toBe('application/problem+json');
    }
  });

  it('GET /v1/validators and GET /v1/publications', async () => {
    expect(await (await f.call('GET', '/v1/validators')).json()).toEqual(f.services.validatorSet);
    const published = await runPublication({ store: f.store, validatorSet: f.services.validatorSet, now: () => f.clock.now() });
    expect(published.status).toBe('published');
    const page = (await (await f.call('GET', '/v1/publications?limit=10')).json()) as { items: Record<string, any>[] };
    expect(page.items).toHaveLength(1);
    expect(page.items[0]).toMatchObject({ size: 2, code: (published as { publication: { code: string } }).publication.code });
    expect(page.items[0]!.root).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('POST /v1/validator/sign', () => {
  let f: Fixture;
  beforeAll(async () => {
    f = await fixture({
      validator: (x) => hostedValidator(x),
    });
  });
  afterAll(() => f.close());

  const req = { origin: ORIGIN, height: 0, proposalId: '0-abc', header: 'x', checkpoint: 'y', members: [{ root: '00'.repeat(32), count: 1 }] };

  it('401 without the coordinator key, 403 with a valid key of another kind (admin, agency)', async () => {
    expect((await f.call('POST', '/v1/validator/sign', { body: req })).status).toBe(401);
    expect((await f.call('POST', '/v1/validator/sign', { token: 'not-a-key', body: req })).status).toBe(401);
    expect((await f.call('POST', '/v1/validator/sign', { token: f.adminToken, body: req })).status).toBe(403);
    const { apiKey } = await f.agency();
    const p = await problem(await f.call('POST', '/v1/validator/sign', { token: apiKey, body: req }));
    expect(p.status).toBe(403);
    expect(p.body.type).toBe(`${PROBLEM}forbidden`);
  });

  it("a refusal is the protocol's problem+json with its code and status", async () => {
    const p = await problem(await f.call('POST', '/v1/validator/sign', { token: f.coordinatorToken, body: req }));
    expect(p.status).toBe(422);
    expect(p.contentType).toBe('application/problem+json');
    expect(p.body).toMatchObject({ code: 'MALFORMED_HEADER', validator: 'validator-1', type: 'https://ledgerseal.dev/problems/validator/malformed-header' });
    const wrongOrigin = await problem(await f.call('POST', '/v1/validator/sign', { token: f.coordinatorToken, body: { ...req, origin: 'elsewhere' } }));
    expect(wrongOrigin.status).toBe(422);
    expect(wrongOrigin.body.code).toBe('WRONG_ORIGIN');
  });

  it('404 not-found when the deployment hosts no validator', async () => {
    const g = await fixture();
    try {
      const p = await problem(await g.call('POST', '/v1/validator/sign', { token: g.coordinatorToken, body: req }));
      expect(p.status).toBe(404);
      expect(p.body.type).toBe(`${PROBLEM}not-found`);
    } finally {
      g.close();
    }
  });
});
