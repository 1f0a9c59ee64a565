/**
 * The one error mapping (404, 405, 429, 500, 503), the access log, and the
 * per-key rate limiter.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROBLEM_SLUGS, PROBLEM_TYPES } from '../../functions/api/problem.ts';
import { tokenBuckets } from '../../functions/api/rate-limit.ts';
import type { Store } from '../../functions/store/port.ts';
import { stopDynalite } from '../helpers/dynalite.ts';
import { type Fixture, fixture, hashes, PROBLEM, problem } from './setup.ts';

afterAll(stopDynalite);

/** The real store with one method replaced by a failure (fault injection, not a fake). */
function failing(method: keyof Store, error: Error) {
  return (store: Store): Store =>
    new Proxy(store, {
      get(target, name, receiver) {
        if (name === method) return async () => Promise.reject(error);
        const v = Reflect.get(target, name, receiver);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
}

describe('routing errors', () => {
  let f: Fixture;
  beforeAll(async () => {
    f = await fixture();
  });
  afterAll(() => f.close());

  it('404 problem for an unknown route', async () => {
    for (const path of ['/nope', '/v1', '/v1/anchors/a/b', '/v2/anchors', '/v1/checkpoint/']) {
      const res = await f.call('GET', path);
      const p = await problem(res);
      expect(p.status).toBe(404);
      expect(p.contentType).toBe('application/problem+json');
      expect(p.body).toMatchObject({ type: `${PROBLEM}not-found`, title: PROBLEM_TYPES['not-found'].title, status: 404, instance: path });
      expect(p.body.requestId).toBe(res.headers.get('x-request-id'));
    }
  });

  it('405 with Allow for a known path and a wrong method', async () => {
    for (const [method, path, allow] of [
      ['DELETE', '/v1/anchors', 'GET, HEAD, POST'],
      ['PUT', '/v1/anchors/01KAQZ6XKV0000000000000000.0', 'GET, HEAD'],
      ['GET', '/v1/verify', 'POST'],
      ['POST', '/v1/checkpoint', 'GET, HEAD'],
      ['PATCH', '/v1/agencies/x/keys/y', 'DELETE'],
      ['GET', '/v1/agencies', 'POST'],
    ] as const) {
      const res = await f.call(method, path);
      const p = await problem(res);
      expect(p.status, `${method} ${path}`).toBe(405);
      expect(p.body.type).toBe(`${PROBLEM}method-not-allowed`);
      expect(res.headers.get('allow')).toBe(allow);
    }
  });

  it('HEAD works wherever GET does', async () => {
    const res = await f.call('HEAD', '/healthz');
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('');
  });

  it('serves the OpenAPI 3.1 document at /openapi.json', async () => {
    const doc = (await (await f.call('GET', '/openapi.json')).json()) as { openapi: string; paths: Record<string, unknown> };
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toContain('/v1/anchors');
  });

  it('every problem type has a distinct slug and a 4xx/5xx status', () => {
    expect(new Set(PROBLEM_SLUGS).size).toBe(PROBLEM_SLUGS.length);
    for (const s of PROBLEM_SLUGS) expect(PROBLEM_TYPES[s].status).toBeGreaterThanOrEqual(400);
  });
});

describe('unexpected failures', () => {
  it('500 internal-error without message or stack; the log has them', async () => {
    const secret = new Error('DynamoDB exploded at table t-secret-internal-name');
    const f = await fixture({ wrapStore: failing('putBatch', secret) });
    try {
      const { apiKey } = await f.agency();
      const res = await f.call('POST', '/v1/anchors', { token: apiKey, body: { anchors: [{ hash: hashes(1, 1)[0] }] } });
      const text = await res.text();
      expect(res.status).toBe(500);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      const body = JSON.parse(text) as Record<string, unknown>;
      expect(body).toMatchObject({ type: `${PROBLEM}internal-error`, status: 500 });
      expect(body.detail).toBe('the server failed; the request id identifies it in the server log');
      expect(text).not.toContain('exploded');
      expect(text).not.toContain('t-secret');
      expect(text).not.toMatch(/\bat .*\.ts/);
      const logged = f.logs.find((l) => l.level === 'error' && l.msg === 'unhandled error');
      expect(logged?.error).toBe(secret.message);
      expect(String(logged?.stack)).toContain('Error');
      // Nothing a round could see was written: the pending marker comes last.
      expect(await f.store.listPending({ before: '2100-01-01T00:00:00.000Z', limit: 10 })).toEqual([]);
    } finally {
      f.close();
    }
  });

  it('GET /healthz is 503 unavailable when the store does not answer', async () => {
    const f = await fixture({ wrapStore: failing('getLatestBlock', new Error('connect ECONNREFUSED')) });
    const p = await problem(await f.call('GET', '/healthz'));
    expect(p.status).toBe(503);
    expect(p.body.type).toBe(`${PROBLEM}unavailable`);
    expect(JSON.stringify(p.body)).not.toContain('ECONNREFUSED');
    f.close();
  });
});

describe('access log', () => {
  it('one JSON-able line per request, without query strings, tokens or secrets', async () => {
    const f = await fixture();
    try {
      const { apiKey, id } = await f.agency();
      f.logs.length = 0;
      await f.call('GET', `/v1/anchors?recordKey=secret-record&limit=5`, { token: apiKey, headers: { 'x-request-id': 'req-12345678' } });
      await f.call('POST', '/v1/anchors', { token: 'lsk_bogus_token', body: { anchors: [] } });
      const lines = f.logs.filter((l) => l.msg === 'request');
      expect(lines).toHaveLength(2);
      expect(lines[0]).toMatchObject({ method: 'GET', path: '/v1/anchors', status: 200, agencyId: id, requestId: 'req-12345678' });
      expect(typeof lines[0]!.durationMs).toBe('number');
      expect(lines[1]).toMatchObject({ method: 'POST', path: '/v1/anchors', status: 401 });
      const all = JSON.stringify(f.logs);
      for (const s of [apiKey, apiKey.split('_')[2]!, 'lsk_bogus_token', 'secret-record', f.adminToken, 'Bearer']) expect(all).not.toContain(s);
    } finally {
      f.close();
    }
  });
});

describe('rate limiting', () => {
  it('429 rate-limited with Retry-After and RateLimit fields once a key spent its burst; other keys are unaffected', async () => {
    const f = await fixture({ config: { rateLimit: { perSecond: 1, burst: 3 } } });
    try {
      const a = await f.agency('A');
      const b = await f.agency('B');
      const get = (token: string) => f.call('GET', '/v1/anchors?recordKey=x', { token });
      for (let i = 0; i < 3; i++) {
        const ok = await get(a.apiKey);
        expect(ok.status).toBe(200);
        expect(ok.headers.get('ratelimit-policy')).toBe('"per-key";q=3;w=3');
        expect(ok.headers.get('ratelimit')).toMatch(new RegExp(`^"per-key";r=${2 - i};t=\\d+$`));
      }
      const limited = await get(a.apiKey);
      const p = await problem(limited);
      expect(p.status).toBe(429);
      expect(p.body.type).toBe(`${PROBLEM}rate-limited`);
      expect(limited.headers.get('retry-after')).toBe('1');
      expect(limited.headers.get('ratelimit')).toBe('"per-key";r=0;t=3');
      expect((await get(b.apiKey)).status).toBe(200);
      f.clock.advance(1000);
      expect((await get(a.apiKey)).status).toBe(200);
      expect((await get(a.apiKey)).status).toBe(429);
    } finally {
      f.close();
    }
  });

  it('the token bucket refills at the configured rate, caps at burst and bounds its memory', () => {
    let t = 0;
    const rl = tokenBuckets({ perSecond: 2, burst: 4, now: () => t, maxBuckets: 3 });
    for (let i = 0; i < 4; i++) expect(rl.take('k').ok).toBe(true);
    expect(rl.take('k')).toMatchObject({ ok: false, retryAfter: 1 });
    t += 500;
    expect(rl.take('k').ok).toBe(true);
    t += 60_000;
    expect(rl.take('k').remaining).toBe(3);
    for (const k of ['a', 'b', 'c', 'd', 'e']) rl.take(k);
    expect(rl.size()).toBeLessThanOrEqual(3);
    expect(() => tokenBuckets({ perSecond: -1, burst: 1 })).toThrow();
    expect(() => tokenBuckets({ perSecond: 1, burst: 0 })).toThrow();
  });
});

describe('request hygiene (every answer a problem with a bounded detail)', () => {
  let f: Fixture;
  let apiKey: string;
  beforeAll(async () => {
    f = await fixture();
    ({ apiKey } = await f.agency());
  });
  afterAll(() => f.close());

  const post = (raw: string | Uint8Array, token = apiKey) =>
    f.app.request('/v1/anchors', { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: raw as unknown as BodyInit });

  it('a body with a UTF-8 byte order mark, or bytes that are not UTF-8, is malformed JSON (RFC 8259 8.1) and writes nothing', async () => {
    const json = JSON.stringify({ anchors: [{ hash: hashes(1, 77)[0] }] });
    expect((await post(json)).status).toBe(202);
    const withBom = new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode(json)]);
    const notUtf8 = new TextEncoder().encode(json.replace('}]}', ',"x":"\u00ff"}]}'));
    notUtf8[notUtf8.length - 5] = 0xff; // a lone 0xFF byte inside a string
    for (const [body, why] of [[withBom, /starts with a UTF-8 byte order mark/], [notUtf8, /not valid UTF-8/]] as const) {
      const p = await problem(await post(body));
      expect(p.status).toBe(400);
      expect(p.body.type).toBe(`${PROBLEM}malformed-json`);
      expect(p.body.detail).toMatch(why);
    }
    expect(await f.store.listPending({ before: '2100-01-01T00:00:00.000Z', limit: 10 })).toHaveLength(1);
  });

  it('a valid key of the wrong kind is 403 on agency routes (admin and coordinator keys), as on admin routes', async () => {
    for (const token of [f.adminToken, f.coordinatorToken]) {
      for (const [method, path] of [['POST', '/v1/anchors'], ['GET', '/v1/anchors/01KAQZ6XKV0000000000000000.0'], ['GET', '/v1/anchors?recordKey=x']] as const) {
        const p = await problem(await f.call(method, path, { token, ...(method === 'POST' ? { body: { anchors: [{ hash: hashes(1, 1)[0] }] } } : {}) }));
        expect(p.status, `${method} ${path}`).toBe(403);
        expect(p.body.type).toBe(`${PROBLEM}forbidden`);
      }
    }
    expect((await problem(await f.call('POST', '/v1/anchors', { token: 'lsk_unknown', body: {} }))).status).toBe(401);
    // And the other way round between the two configured keys.
    expect((await problem(await f.call('POST', '/v1/agencies', { token: f.coordinatorToken, body: { name: 'x' } }))).status).toBe(403);
    const sign = await problem(await f.call('POST', '/v1/validator/sign', { token: f.adminToken, body: { origin: 'x', height: 0, proposalId: 'p', header: 'h', checkpoint: 'c' } }));
    expect(sign.status).toBe(403);
  });

  it('validation problems name the field and the rule in plain words', async () => {
    const cases: [unknown, string, string][] = [
      [{}, '/anchors', 'anchors is required'],
      [{ anchors: [] }, '/anchors', 'anchors send at least one anchor'],
      [{ anchors: 'x' }, '/anchors', 'anchors must be an array, not a string'],
      [{ anchors: [{ hash: 'x' }] }, '/anchors/0/hash', 'anchors[0].hash must be 64 lowercase hex characters (a SHA-256 hash)'],
      [{ anchors: [{ hash: 'a'.repeat(64), extra: 1 }] }, '/anchors/0', 'anchors[0] has an unknown field "extra"'],
      [{ anchors: [{ hash: 'a'.repeat(64), metadata: [] }] }, '/anchors/0/metadata', 'anchors[0].metadata must be a JSON object, not an array'],
      [{ anchors: [{ hash: 'a'.repeat(64) }], more: true }, '', 'the body has an unknown field "more"'],
    ];
    for (const [body, path, message] of cases) {
      const p = await problem(await f.call('POST', '/v1/anchors', { token: apiKey, body }));
      expect(p.status, JSON.stringify(body)).toBe(400);
      expect(p.body.errors[0], JSON.stringify(body)).toEqual({ in: 'body', path, message });
      expect(p.body.detail.startsWith(message)).toBe(true);
      expect(p.body.detail).not.toMatch(/Invalid input|expected .* received/);
    }
  });

  it('every problem has a detail of at most 1,000 characters, however many problems a request has', async () => {
    const anchors = Array.from({ length: 5_000 }, (_, i) => ({ hash: `not-a-hash-${'x'.repeat(200)}-${i}` }));
    const p = await problem(await f.call('POST', '/v1/anchors', { token: apiKey, body: { anchors } }));
    expect(p.status).toBe(400);
    expect(p.body.errors).toHaveLength(20);
    expect(p.body.detail).toMatch(/and 4,?999 more problems; the first 20 are listed/);
    expect(p.body.detail.length).toBeLessThanOrEqual(1_000);
    const long = await problem(await f.call('GET', `/v1/${'a'.repeat(5_000)}`));
    expect(long.status).toBe(404);
    expect(long.body.detail.length).toBeLessThanOrEqual(1_000);
    for (const path of ['/nope', '/v1/checkpoint']) expect(typeof (await problem(await f.call('GET', path))).body.detail).toBe('string');
  });
});
