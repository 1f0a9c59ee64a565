/**
 * The webhook endpoint API (issue 8): create (secret shown once, stored
 * sealed), list, get, update, delete, disable/enable, rotate; agency isolation;
 * targets refused when saved; problem+json errors that change nothing.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { stopDynalite } from '../helpers/dynalite.ts';
import { harness, type Harness, startReceiver } from './harness.ts';

afterAll(stopDynalite);

const json = async (res: Response): Promise<any> => res.json();
const PROBLEM = 'https://ledgerseal.dev/problems/';

async function expectProblem(res: Response, status: number, slug: string): Promise<any> {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toContain('application/problem+json');
  const body = await json(res);
  expect(body.type).toBe(PROBLEM + slug);
  expect(body.detail).toEqual(expect.any(String));
  return body;
}

describe('webhook endpoints', () => {
  it('creates, lists, reads, updates and deletes; the secret is shown once and stored sealed', async () => {
    const h = await harness();
    try {
      const { apiKey } = await h.agency();
      const res = await h.call('POST', '/v1/webhook-endpoints', {
        token: apiKey,
        body: { url: 'http://127.0.0.1:9/hooks', eventTypes: ['anchor.confirmed'], description: 'land registry' },
      });
      expect(res.status).toBe(201);
      const created = await json(res);
      expect(created).toMatchObject({ url: 'http://127.0.0.1:9/hooks', eventTypes: ['anchor.confirmed'], description: 'land registry', status: 'enabled' });
      expect(created.id).toMatch(/^ep_[0-9A-Z]{26}$/);
      expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);

      const got = await json(await h.call('GET', `/v1/webhook-endpoints/${created.id}`, { token: apiKey }));
      expect(got.secret).toBeUndefined();
      const { secret: _, ...shown } = created;
      expect(got).toEqual(shown);
      expect((await json(await h.call('GET', '/v1/webhook-endpoints', { token: apiKey }))).items).toEqual([shown]);

      // The table holds neither the secret nor its base64 key material.
      const [stored] = await h.ts.store.webhooks.listEndpoints();
      expect(JSON.stringify(stored)).not.toContain(created.secret.slice(6));
      expect(stored!.secrets[0]!.sealed).toMatch(/^v1\.test\./);

      const upd = await json(await h.call('PATCH', `/v1/webhook-endpoints/${created.id}`, { token: apiKey, body: { eventTypes: null, description: 'renamed' } }));
      expect(upd.eventTypes).toBeUndefined();
      expect(upd.description).toBe('renamed');
      expect(upd.url).toBe(created.url);

      const del = await h.call('DELETE', `/v1/webhook-endpoints/${created.id}`, { token: apiKey });
      expect(del.status).toBe(204);
      await expectProblem(await h.call('GET', `/v1/webhook-endpoints/${created.id}`, { token: apiKey }), 404, 'not-found');
      await expectProblem(await h.call('DELETE', `/v1/webhook-endpoints/${created.id}`, { token: apiKey }), 404, 'not-found');
    } finally {
      await h.close();
    }
  });

  it('an agency sees and manages only its own endpoints and messages', async () => {
    const h = await harness();
    const rx = await startReceiver();
    try {
      const a = await h.agency('A');
      const b = await h.agency('B');
      const ep = await h.endpoint(a.apiKey, { url: rx.url });
      const t = await json(await h.call('POST', `/v1/webhook-endpoints/${ep.id}/test`, { token: a.apiKey }));
      await h.ledger.webhooks.drain();
      const paths: [string, string, unknown?][] = [
        ['GET', `/v1/webhook-endpoints/${ep.id}`],
        ['PATCH', `/v1/webhook-endpoints/${ep.id}`, { description: 'mine now' }],
        ['POST', `/v1/webhook-endpoints/${ep.id}/disable`],
        ['POST', `/v1/webhook-endpoints/${ep.id}/enable`],
        ['POST', `/v1/webhook-endpoints/${ep.id}/rotate-secret`],
        ['POST', `/v1/webhook-endpoints/${ep.id}/test`],
        ['GET', `/v1/webhook-endpoints/${ep.id}/messages`],
        ['GET', `/v1/webhook-endpoints/${ep.id}/messages/${t.msgId}`],
        ['GET', `/v1/webhook-endpoints/${ep.id}/messages/${t.msgId}/attempts`],
        ['POST', `/v1/webhook-endpoints/${ep.id}/messages/${t.msgId}/resend`],
        ['GET', `/v1/webhook-endpoints/${ep.id}/attempts`],
        ['POST', `/v1/webhook-endpoints/${ep.id}/recover`, { since: '2020-01-01T00:00:00.000Z' }],
        ['DELETE', `/v1/webhook-endpoints/${ep.id}`],
      ];
      for (const [method, path, body] of paths) {
        await expectProblem(await h.call(method, path, { token: b.apiKey, ...(body !== undefined && { body }) }), 404, 'not-found');
      }
      expect((await json(await h.call('GET', '/v1/webhook-endpoints', { token: b.apiKey }))).items).toEqual([]);
      const still = await json(await h.call('GET', `/v1/webhook-endpoints/${ep.id}`, { token: a.apiKey }));
      expect(still).toMatchObject({ status: 'enabled' });
      expect(still.description).toBeUndefined();
      expect(rx.deliveries).toHaveLength(1);
      await expectProblem(await h.call('GET', '/v1/webhook-endpoints'), 401, 'unauthorized');
    } finally {
      await rx.close();
      await h.close();
    }
  });

  it('refuses targets outside the local runner: loopback, private, metadata, http, credentials', async () => {
    const h: Harness = await harness({ config: { allowLoopback: false } });
    try {
      const { apiKey } = await h.agency();
      const refused = [
        'http://example.com/hooks', // http outside the local runner
        'https://127.0.0.1/hooks',
        'https://localhost/hooks',
        'https://[::1]/hooks',
        'https://10.1.2.3/hooks',
        'https://192.168.1.10/hooks',
        'https://172.16.0.1/hooks',
        'https://169.254.169.254/latest/meta-data/',
        'https://[fd00:ec2::254]/hooks',
        'https://100.64.0.1/hooks',
        'https://0.0.0.0/hooks',
        'https://[::ffff:127.0.0.1]/hooks',
        'https://[64:ff9b::a9fe:a9fe]/hooks',
        'https://2130706433/hooks',
        'https://0x7f.0.0.1/hooks',
        'https://user:pass@example.com/hooks',
        'ftp://example.com/hooks',
        'not a url',
      ];
      for (const url of refused) {
        const res = await h.call('POST', '/v1/webhook-endpoints', { token: apiKey, body: { url } });
        await expectProblem(res, 400, 'webhook-target-refused');
      }
      expect(await h.ts.store.webhooks.listEndpoints()).toEqual([]);
    } finally {
      await h.close();
    }
  });

  it('validates bodies with problem+json and changes nothing', async () => {
    const h = await harness();
    try {
      const { apiKey } = await h.agency();
      const bad = [
        {},
        { url: 'http://127.0.0.1:9/x', eventTypes: [] },
        { url: 'http://127.0.0.1:9/x', eventTypes: ['no.such.type'] },
        { url: 'http://127.0.0.1:9/x', eventTypes: ['round.finalized', 'round.finalized'] },
        { url: 'http://127.0.0.1:9/x', extra: true },
        { url: 'http://127.0.0.1:9/x', description: 'a\u0000b' },
      ];
      for (const body of bad) await expectProblem(await h.call('POST', '/v1/webhook-endpoints', { token: apiKey, body }), 400, 'validation-error');
      await expectProblem(await h.call('GET', '/v1/webhook-endpoints/nope', { token: apiKey }), 404, 'not-found');
      expect(await h.ts.store.webhooks.listEndpoints()).toEqual([]);
    } finally {
      await h.close();
    }
  });

  it('answers 503 when no sealing key is configured', async () => {
    const h = await harness({ config: { secretKeys: [] } });
    try {
      const { apiKey } = await h.agency();
      await expectProblem(await h.call('POST', '/v1/webhook-endpoints', { token: apiKey, body: { url: 'http://127.0.0.1:9/x' } }), 503, 'unavailable');
    } finally {
      await h.close();
    }
  });
});
