/**
 * Validator key files and the HTTP validator client: keys are generated once
 * (0600) and reloaded; the HTTP client speaks the sign protocol (bearer key,
 * JSON, problem+json refusals, abort on timeout), so a round over HTTP clients
 * finalizes and reports refusals and outages as faults.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseValidatorSet } from '../../sdk/src/validator-set.ts';
import { runRound } from '../../functions/ledger/coordinator.ts';
import { defaultValidatorSet, loadOrCreateValidatorKeys } from '../../functions/ledger/keys.ts';
import { httpValidator } from '../../functions/ledger/remote-validator.ts';
import { refusalProblem, ValidatorRefusal } from '../../functions/validator/protocol.ts';
import type { Validator } from '../../functions/validator/validator.ts';
import { stopDynalite, withStore } from '../helpers/dynalite.ts';
import { manualTimers, ORIGIN, roundDeps, seedBatch, signRequestOf, validators } from './_fixtures.ts';

afterAll(stopDynalite);

describe('validator key files', () => {
  it('generates each key once with mode 0600 and loads it back', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ledgerseal-keys-'));
    try {
      const keys = loadOrCreateValidatorKeys(join(dir, 'keys'));
      expect(keys.map((k) => k.name)).toEqual(['validator-1', 'validator-2', 'validator-3', 'validator-4']);
      for (const k of keys) {
        const path = join(dir, 'keys', `${k.name}.key`);
        expect(statSync(path).mode & 0o777).toBe(0o600);
        expect(readFileSync(path, 'utf8')).toBe(`${k.signerKey}\n`);
        expect(k.verifierKey.startsWith(`${k.name}+`)).toBe(true);
      }
      expect(loadOrCreateValidatorKeys(join(dir, 'keys'))).toEqual(keys);
      const set = defaultValidatorSet(ORIGIN, [...keys].reverse());
      expect(parseValidatorSet(set)).toEqual(set);
      expect(set.validators.map((v) => [v.name, v.weight])).toEqual(keys.map((k) => [k.name, 1]));
      // A file holding another validator's key is refused, not silently used.
      writeFileSync(join(dir, 'keys', 'validator-9.key'), keys[0]!.signerKey);
      expect(() => loadOrCreateValidatorKeys(join(dir, 'keys'), ['validator-9'])).toThrow(/validator-1/);
      expect(() => loadOrCreateValidatorKeys(join(dir, 'keys'), ['../escape'])).toThrow(/file name/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** A fetch that serves POST /v1/validator/sign from an in-process Validator, like the API route. */
function serve(v: Validator, token: string, mode: 'ok' | 'down' | 'hang' | 'garbage' = 'ok'): typeof fetch {
  return (async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = new URL(String(input));
    expect(url.pathname).toBe('/base/v1/validator/sign');
    if (mode === 'down') return new Response('upstream error', { status: 502 });
    if (mode === 'garbage') return new Response(JSON.stringify({ validator: v.name }), { status: 200 });
    if (mode === 'hang') {
      return new Promise<Response>((_, reject) => init?.signal?.addEventListener('abort', () => reject(init.signal!.reason)));
    }
    if (new Headers(init?.headers).get('authorization') !== `Bearer ${token}`) return new Response('{}', { status: 401 });
    try {
      const body = await v.sign(JSON.parse(String(init?.body)));
      return Response.json(body);
    } catch (e) {
      if (!(e instanceof ValidatorRefusal)) throw e;
      const problem = refusalProblem(e, v.name);
      return new Response(JSON.stringify(problem), { status: problem.status, headers: { 'content-type': 'application/problem+json' } });
    }
  }) as typeof fetch;
}

describe('HTTP validator client', () => {
  it('finalizes a round over HTTP and maps refusals, outages and hangs to faults', async () => {
    const { store, close } = await withStore();
    try {
      const vs = validators(store);
      const http = (i: number, mode: Parameters<typeof serve>[2] = 'ok', token = 'k') =>
        httpValidator({ name: vs[i]!.name, url: 'http://validator.test/base', coordinatorKey: 'k', fetch: serve(vs[i]!, token, mode), timeoutMs: 200 });
      await seedBatch(store, 3);
      const o = await runRound(roundDeps(store, [http(0), http(1), http(2), http(3, 'down')]));
      expect(o.status).toBe('finalized');
      expect(o.faults).toEqual([{ validator: 'validator-4', reason: 'unreachable', detail: 'validator validator-4 answered HTTP 502' }]);

      // A refusal crosses HTTP as problem+json and comes back as a ValidatorRefusal.
      const p = (await store.getProposal(0))!;
      const req = signRequestOf(p);
      const err = await http(0).sign({ ...req, origin: 'other.example/x' }, { signal: new AbortController().signal }).catch((e) => e);
      expect(err).toBeInstanceOf(ValidatorRefusal);
      expect(err).toMatchObject({ code: 'WRONG_ORIGIN' });
      await expect(http(0, 'ok', 'wrong').sign(req, { signal: new AbortController().signal })).rejects.toThrow(/401/);

      await seedBatch(store, 1);
      // validator-2 hangs: its client's 200 ms timeout fires when the test fires it, not when the machine is slow.
      const timers = manualTimers();
      const running = runRound(roundDeps(store, [http(0), http(1, 'hang'), http(2), http(3, 'garbage')], { timers }));
      expect(await timers.fire('sign-timeout:validator-2')).toBe(200);
      const o2 = await running;
      expect(o2.status).toBe('no-quorum');
      expect(o2.faults.map((f) => [f.validator, f.reason])).toEqual([
        ['validator-2', 'timeout'],
        ['validator-4', 'bad-signature'],
      ]);
      const o3 = await runRound(roundDeps(store, [http(0), http(1), http(2), http(3)]));
      expect(o3).toMatchObject({ status: 'finalized', height: 1, faults: [] });
    } finally {
      await close();
    }
  });
});
