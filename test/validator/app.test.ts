/**
 * A validator's own HTTP app (functions/validator/app.ts), called with
 * app.request() and over httpValidator: the coordinator's bearer token is
 * checked against its SHA-256 only (401 problem+json otherwise, also when no
 * hash is configured), refusals are the protocol's problem+json, replays get the
 * identical answer, and a round finalizes over four such apps.
 */
import { createHash } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { runRound } from '../../functions/ledger/coordinator.ts';
import { httpValidator } from '../../functions/ledger/remote-validator.ts';
import { createValidatorApp } from '../../functions/validator/app.ts';
import { stopDynalite, withStore } from '../helpers/dynalite.ts';
import { ORIGIN, roundDeps, seedBatch, signRequestOf, validators } from '../ledger/_fixtures.ts';

afterAll(stopDynalite);

const TOKEN = 'coordinator-token-of-the-test';
const HASH = createHash('sha256').update(TOKEN).digest('hex');

describe('validator HTTP app', () => {
  it('401 without or with a wrong token; refusals as problem+json; rounds finalize over HTTP; replays are harmless', async () => {
    const { store, close } = await withStore();
    try {
      const vs = validators(store);
      const apps = vs.map((v) => createValidatorApp(v, { coordinatorKeyHash: HASH }));
      const clients = vs.map((v, i) =>
        httpValidator({ name: v.name, url: 'http://validator.test', coordinatorKey: TOKEN, fetch: (async (u: string, init?: RequestInit) => apps[i]!.request(u, init)) as typeof fetch }),
      );
      await seedBatch(store, 2);
      expect(await runRound(roundDeps(store, clients))).toMatchObject({ status: 'finalized', faults: [] });
      const req = signRequestOf((await store.getProposal(0))!);
      const post = (headers: Record<string, string>, body: unknown = req) =>
        apps[0]!.request('/v1/validator/sign', { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

      for (const headers of [{}, { authorization: 'Bearer wrong' }, { authorization: `Basic ${TOKEN}` }] as Record<string, string>[]) {
        const r = await post(headers);
        expect(r.status).toBe(401);
        expect(r.headers.get('content-type')).toBe('application/problem+json');
        expect(r.headers.get('www-authenticate')).toMatch(/^Bearer realm=/);
        expect(await r.json()).toMatchObject({ type: 'https://ledgerseal.dev/problems/unauthorized', status: 401 });
      }
      const unconfigured = createValidatorApp(vs[0]!, { coordinatorKeyHash: null });
      expect((await unconfigured.request('/v1/validator/sign', { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` }, body: '{}' })).status).toBe(401);
      expect(() => createValidatorApp(vs[0]!, { coordinatorKeyHash: TOKEN })).toThrow(/64 lowercase hex/);

      // A replay of the signed request: the identical line.
      const a = await post({ authorization: `Bearer ${TOKEN}` });
      const b = await post({ authorization: `Bearer ${TOKEN}` });
      expect(a.status).toBe(200);
      expect(await a.json()).toEqual(await b.json());
      // Another origin, and garbage.
      const wrong = await post({ authorization: `Bearer ${TOKEN}` }, { ...req, origin: 'other.example/x' });
      expect(wrong.status).toBe(422);
      expect(await wrong.json()).toMatchObject({ code: 'WRONG_ORIGIN', validator: 'validator-1' });
      const bad = await apps[0]!.request('/v1/validator/sign', { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` }, body: '{' });
      expect(bad.status).toBe(400);
      expect((await post({ authorization: `Bearer ${TOKEN}` }, { nope: 1 })).status).toBe(400);

      const status = await (await apps[0]!.request('/v1/validator')).json();
      expect(status).toMatchObject({ name: 'validator-1', origin: ORIGIN, size: 1, conflict: null, verifierKey: vs[0]!.verifierKey });
      expect((await apps[0]!.request('/nope')).status).toBe(404);
    } finally {
      await close();
    }
  });
});
