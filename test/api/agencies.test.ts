import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../functions/app.ts';
import { hashToken, parseApiKey } from '../../functions/api/auth.ts';
import { stopDynalite } from '../helpers/dynalite.ts';
import { type Fixture, fixture, hashes, PROBLEM, problem } from './setup.ts';

afterAll(stopDynalite);

describe('agencies and API keys', () => {
  let f: Fixture;
  beforeAll(async () => {
    f = await fixture();
  });
  afterAll(() => f.close());

  it('POST /v1/agencies creates an agency with a working key; only the hash is stored', async () => {
    const res = await f.call('POST', '/v1/agencies', { token: f.adminToken, body: { name: 'Diploma Register' } });
    expect(res.status).toBe(201);
    const body = (await res.json()) as { id: string; name: string; apiKey: string; keyId: string; createdAt: string };
    expect(body.name).toBe('Diploma Register');
    expect(body.apiKey).toMatch(/^lsk_[0-9a-hjkmnp-tv-z]{16}_[0-9a-hjkmnp-tv-z]{52}$/);
    expect(parseApiKey(body.apiKey)?.keyId).toBe(body.keyId);
    const stored = await f.store.getApiKeyByHash(hashToken(body.apiKey));
    expect(stored).toMatchObject({ keyId: body.keyId, agencyId: body.id });
    expect(JSON.stringify(stored)).not.toContain(body.apiKey.split('_')[2]);
    expect((await f.call('POST', '/v1/anchors', { token: body.apiKey, body: { anchors: [{ hash: hashes(1, 1)[0] }] } })).status).toBe(202);
  });

  it('admin routes: 401 without or with a wrong token, 403 with an agency key', async () => {
    const { apiKey, id } = await f.agency();
    for (const [token, status, type] of [
      [undefined, 401, 'unauthorized'],
      ['lsk_admin_wrong', 401, 'unauthorized'],
      [apiKey, 403, 'forbidden'],
    ] as const) {
      for (const [method, path, body] of [
        ['POST', '/v1/agencies', { name: 'x' }],
        ['POST', `/v1/agencies/${id}/keys`, {}],
        ['GET', `/v1/agencies/${id}/keys`, undefined],
        ['DELETE', `/v1/agencies/${id}/keys/abcdefghjkmnpqrs`, undefined],
      ] as const) {
        const p = await problem(await f.call(method, path, { ...(token ? { token } : {}), ...(body ? { body } : {}) }));
        expect(p.status, `${method} ${path}`).toBe(status);
        expect(p.body.type).toBe(`${PROBLEM}${type}`);
      }
    }
  });

  it('rotation: a second key works, keys are listed without secrets, a revoked key gets 401 at once', async () => {
    const first = await f.agency('Health Records');
    const res = await f.call('POST', `/v1/agencies/${first.id}/keys`, { token: f.adminToken, body: { label: 'nightly import' } });
    expect(res.status).toBe(201);
    const second = (await res.json()) as { keyId: string; apiKey: string; label: string };
    expect(second.label).toBe('nightly import');
    const anchor = { anchors: [{ hash: hashes(1, 2)[0] }] };
    expect((await f.call('POST', '/v1/anchors', { token: second.apiKey, body: anchor })).status).toBe(202);

    const noBody = await f.call('POST', `/v1/agencies/${first.id}/keys`, { token: f.adminToken });
    expect(noBody.status).toBe(201);

    const list = await f.call('GET', `/v1/agencies/${first.id}/keys`, { token: f.adminToken });
    expect(list.status).toBe(200);
    const text = await list.text();
    for (const secret of [first.apiKey, second.apiKey, hashToken(first.apiKey), hashToken(second.apiKey)]) expect(text).not.toContain(secret);
    const items = (JSON.parse(text) as { items: { keyId: string; revokedAt?: string }[] }).items;
    expect(items.map((k) => k.keyId).sort()).toEqual(expect.arrayContaining([first.keyId, second.keyId]));
    expect(items).toHaveLength(3);

    const del = await f.call('DELETE', `/v1/agencies/${first.id}/keys/${first.keyId}`, { token: f.adminToken });
    expect(del.status).toBe(204);
    expect(await del.text()).toBe('');
    const again = await f.call('DELETE', `/v1/agencies/${first.id}/keys/${first.keyId}`, { token: f.adminToken });
    expect(again.status).toBe(204);
    const revoked = await problem(await f.call('POST', '/v1/anchors', { token: first.apiKey, body: anchor }));
    expect(revoked.status).toBe(401);
    expect(revoked.body.type).toBe(`${PROBLEM}unauthorized`);
    expect((await f.call('POST', '/v1/anchors', { token: second.apiKey, body: anchor })).status).toBe(202);
    const after = (await (await f.call('GET', `/v1/agencies/${first.id}/keys`, { token: f.adminToken })).json()) as { items: { keyId: string; revokedAt?: string }[] };
    expect(after.items.find((k) => k.keyId === first.keyId)?.revokedAt).toBe(f.clock.now().toISOString());
  });

  it('a key revoked through another process (another Lambda instance) is refused within LEDGERSEAL_KEY_CACHE_MS, and no store read authenticates a cached key', async () => {
    const { apiKey, id, keyId } = await f.agency('Court Records');
    // A second instance of the API over the same table, with its own key cache and the same clock.
    const other = createApp({ ...f.services });
    const anchor = { anchors: [{ hash: hashes(1, 3)[0] }] };
    const post = (app: typeof other) =>
      app.request('/v1/anchors', { method: 'POST', headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' }, body: JSON.stringify(anchor) });
    expect((await post(other)).status).toBe(202); // cached in the second instance from now on
    let reads = 0;
    const counting = new Proxy(f.store, {
      get(target, name, receiver) {
        if (name === 'getApiKeyByHash') reads++;
        const v = Reflect.get(target, name, receiver);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
    const instance = createApp({ ...f.services, store: counting });
    expect((await post(instance)).status).toBe(202);
    expect((await post(instance)).status).toBe(202);
    expect(reads).toBe(1);

    expect((await f.call('DELETE', `/v1/agencies/${id}/keys/${keyId}`, { token: f.adminToken })).status).toBe(204);
    expect((await post(f.app)).status).toBe(401); // the revoking instance forgets the key at once
    expect((await post(other)).status).toBe(202); // the other one still has it, for at most the cache time
    f.clock.advance(f.services.config.keyCacheMs);
    expect((await post(other)).status).toBe(401);
  });

  it('404 for an unknown agency or key; a key of another agency cannot be revoked through this one', async () => {
    const a = await f.agency('A');
    const b = await f.agency('B');
    for (const [method, path] of [
      ['GET', '/v1/agencies/01KAQZ6XKV0000000000000000/keys'],
      ['GET', '/v1/agencies/nope/keys'],
      ['POST', '/v1/agencies/01KAQZ6XKV0000000000000000/keys'],
      ['DELETE', `/v1/agencies/${a.id}/keys/abcdefghjkmnpqrs`],
      ['DELETE', `/v1/agencies/${a.id}/keys/${b.keyId}`],
      ['DELETE', `/v1/agencies/${a.id}/keys/${'x'.repeat(200)}`],
    ] as const) {
      const p = await problem(await f.call(method, path, { token: f.adminToken }));
      expect(p.status, `${method} ${path}`).toBe(404);
      expect(p.body.type).toBe(`${PROBLEM}not-found`);
    }
    expect((await f.call('POST', '/v1/anchors', { token: b.apiKey, body: { anchors: [{ hash: hashes(1, 3)[0] }] } })).status).toBe(202);
  });

  it('400 for a bad agency name or an unknown field', async () => {
    for (const body of [{}, { name: '' }, { name: 'a\nb' }, { name: 'x'.repeat(201) }, { name: 'ok', extra: true }]) {
      const p = await problem(await f.call('POST', '/v1/agencies', { token: f.adminToken, body }));
      expect(p.status).toBe(400);
      expect(p.body.type).toBe(`${PROBLEM}validation-error`);
    }
  });

  it('admin routes answer 401 when no admin key is configured', async () => {
    const g = await fixture({ config: { adminKeyHash: null } });
    try {
      const p = await problem(await g.call('POST', '/v1/agencies', { token: g.adminToken, body: { name: 'x' } }));
      expect(p.status).toBe(401);
    } finally {
      g.close();
    }
  });
});
