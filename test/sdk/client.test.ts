/**
 * The client's middleware and retrying transport against a real HTTP server on
 * 127.0.0.1 (node:http) that answers from a script: 503/429 with Retry-After,
 * dropped connections, then 200. Waits go through an injected sleep that records
 * the delays, and the jitter through an injected random: nothing here depends on
 * the machine's speed or the wall clock.
 */
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PROBLEM_SLUGS as SERVICE_PROBLEM_SLUGS } from '../../functions/api/problem.ts';
import {
  createLedgersealClient,
  defaultSleep,
  LedgersealApiError,
  type LedgersealClientOptions,
  PROBLEM_SLUGS,
  problemType,
  retryAfterMs,
  unwrap,
} from '../../sdk/src/client/index.ts';

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

type Step = (res: ServerResponse) => void;

const json = (status: number, body: unknown, headers: Record<string, string> = {}): Step => (res) => {
  res.writeHead(status, { 'content-type': status >= 400 ? 'application/problem+json' : 'application/json', ...headers });
  res.end(JSON.stringify(body));
};
const problemStep = (status: number, slug: string, headers: Record<string, string> = {}): Step =>
  json(status, { type: `https://ledgerseal.dev/problems/${slug}`, title: `title of ${slug}`, status, detail: `detail of ${slug}` }, headers);
const drop: Step = (res) => res.socket?.destroy();
const SET = { format: 'ledgerseal-validators/v1', validators: [] };

let server: Server;
let baseUrl: string;
let seen: Seen[] = [];
let script: Step[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      const step = script.shift() ?? problemStep(500, 'internal-error');
      step(res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));
beforeEach(() => {
  seen = [];
  script = [];
});

const NOW = Date.parse('2026-11-22T04:32:16.000Z');

function client(extra: Partial<LedgersealClientOptions> = {}) {
  const delays: number[] = [];
  const c = createLedgersealClient({
    baseUrl,
    apiKey: 'lsk_test_key',
    sleep: async (ms) => void delays.push(ms),
    random: () => 0.5,
    now: () => NOW,
    ...extra,
  });
  return { c, delays };
}

describe('retries', () => {
  it('a GET retried after 503 and 429 honours Retry-After in seconds and as an HTTP-date, with the key on every attempt', async () => {
    script = [
      problemStep(503, 'unavailable', { 'retry-after': '2' }),
      problemStep(429, 'rate-limited', { 'retry-after': new Date(NOW + 7_000).toUTCString() }),
      json(200, SET),
    ];
    const { c, delays } = client();
    const data = unwrap(await c.GET('/v1/validators'));
    expect(data).toEqual(SET);
    expect(seen).toHaveLength(3);
    expect(delays).toEqual([2_000, 7_000]);
    for (const s of seen) {
      expect(s.method).toBe('GET');
      expect(s.url).toBe('/v1/validators');
      expect(s.headers.authorization).toBe('Bearer lsk_test_key');
      expect(s.headers['idempotency-key']).toBeUndefined(); // only submissions get one
    }
  });

  it('a Retry-After beyond retryMaxMs waits retryMaxMs; a date in the past waits 0', async () => {
    script = [
      problemStep(503, 'unavailable', { 'retry-after': '3600' }),
      problemStep(503, 'unavailable', { 'retry-after': new Date(NOW - 60_000).toUTCString() }),
      json(200, SET),
    ];
    const { c, delays } = client({ retryMaxMs: 5_000 });
    expect(unwrap(await c.GET('/v1/validators'))).toEqual(SET);
    expect(delays).toEqual([5_000, 0]);
  });

  it('without Retry-After: full jitter, random() * min(retryMaxMs, retryBaseMs * 2^attempt), for each retryable status', async () => {
    const statuses = [408, 429, 500, 502, 503, 504];
    script = [...statuses.map((s) => problemStep(s, 'internal-error')), json(200, SET)];
    const draws = [0, 0.25, 0.5, 0.75, 0.999, 0.999];
    let k = 0;
    const { c, delays } = client({ retries: 6, retryBaseMs: 100, retryMaxMs: 1_000, random: () => draws[k++]! });
    expect(unwrap(await c.GET('/v1/validators'))).toEqual(SET);
    expect(seen).toHaveLength(7);
    const caps = [100, 200, 400, 800, 1_000, 1_000];
    expect(delays).toEqual(caps.map((cap, i) => Math.floor(draws[i]! * cap)));
    delays.forEach((d, i) => {
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThan(caps[i]!);
    });
  });

  it('network errors are retried too', async () => {
    script = [drop, drop, json(200, SET)];
    const { c, delays } = client();
    expect(unwrap(await c.GET('/v1/validators'))).toEqual(SET);
    expect(seen).toHaveLength(3);
    expect(delays).toEqual([125, 250]); // 0.5 * 250 * 2^n
  });

  it('gives up after `retries` retries with the last answer, as a LedgersealApiError carrying the problem', async () => {
    script = Array.from({ length: 10 }, () => problemStep(503, 'unavailable', { 'x-request-id': 'req-42' }));
    const { c, delays } = client({ retries: 2 });
    const result = await c.GET('/v1/validators');
    expect(seen).toHaveLength(3);
    expect(delays).toHaveLength(2);
    expect(result.response.status).toBe(503);
    let error: unknown;
    try {
      unwrap(result);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(LedgersealApiError);
    const e = error as LedgersealApiError;
    expect(e).toMatchObject({ status: 503, type: problemType('unavailable'), title: 'title of unavailable', detail: 'detail of unavailable', requestId: 'req-42' });
    expect(e.slug).toBe('unavailable');
    expect(e.is('unavailable')).toBe(true);
    expect(e.is('rate-limited')).toBe(false);
    expect(e.message).toContain('503');
  });

  it('retries: 0 sends once; a network error then surfaces as the fetch error', async () => {
    script = [drop];
    const { c, delays } = client({ retries: 0 });
    await expect(c.GET('/v1/validators')).rejects.toThrow();
    expect(seen).toHaveLength(1);
    expect(delays).toEqual([]);
  });

  it('POST /v1/anchors carries one Idempotency-Key, identical on every retry, and the same body', async () => {
    const accepted = { batchId: '01JD3Q8Y5ZK2M7N9P4R6S8T0VW', anchors: [{ id: '01JD3Q8Y5ZK2M7N9P4R6S8T0VW.0', hash: 'ab'.repeat(32), status: 'pending' }] };
    script = [problemStep(503, 'unavailable', { 'retry-after': '1' }), drop, json(202, accepted)];
    const { c, delays } = client();
    const body = { anchors: [{ hash: 'ab'.repeat(32) }] };
    expect(unwrap(await c.POST('/v1/anchors', { body }))).toEqual(accepted);
    expect(seen).toHaveLength(3);
    expect(delays).toEqual([1_000, 250]);
    const key = seen[0]!.headers['idempotency-key'];
    expect(key).toMatch(/^[\x21-\x7e]{1,255}$/);
    for (const s of seen) {
      expect(s.method).toBe('POST');
      expect(s.headers['idempotency-key']).toBe(key);
      expect(s.headers.authorization).toBe('Bearer lsk_test_key');
      expect(JSON.parse(s.body)).toEqual(body);
    }

    // A second call gets a fresh key; a caller's key is used as given.
    script = [json(202, accepted), problemStep(502, 'internal-error'), json(202, accepted)];
    await c.POST('/v1/anchors', { body });
    await c.POST('/v1/anchors', { body, params: { header: { 'idempotency-key': 'import-2026-11-22-0001' } } });
    expect(seen[3]!.headers['idempotency-key']).not.toBe(key);
    expect(seen.slice(4).map((s) => s.headers['idempotency-key'])).toEqual(['import-2026-11-22-0001', 'import-2026-11-22-0001']);
  });

  it('a non-idempotent call (POST /v1/agencies) is never retried', async () => {
    script = [problemStep(503, 'unavailable', { 'retry-after': '1' }), json(201, { id: 'x' })];
    const { c, delays } = client();
    const result = await c.POST('/v1/agencies', { body: { name: 'Land Registry' } });
    expect(result.response.status).toBe(503);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.headers['idempotency-key']).toBeUndefined();
    expect(delays).toEqual([]);
    expect(() => unwrap(result)).toThrow(LedgersealApiError);

    script = [drop];
    await expect(c.POST('/v1/agencies', { body: { name: 'Land Registry' } })).rejects.toThrow();
    expect(seen).toHaveLength(2);
    expect(delays).toEqual([]);
  });

  it('an abort during the wait stops the retries with the abort reason', async () => {
    script = [problemStep(503, 'unavailable'), json(200, SET)];
    const controller = new AbortController();
    const { c } = client({
      sleep: (_ms, signal) => {
        controller.abort(new Error('stop now'));
        return defaultSleep(60_000, signal); // rejects at once: the signal is aborted
      },
    });
    await expect(c.GET('/v1/validators', { signal: controller.signal })).rejects.toThrow('stop now');
    expect(seen).toHaveLength(1);
  });

  it('an already aborted call is not sent, and not retried', async () => {
    const controller = new AbortController();
    controller.abort();
    const { c, delays } = client();
    await expect(c.GET('/v1/validators', { signal: controller.signal })).rejects.toThrow();
    expect(seen).toHaveLength(0);
    expect(delays).toEqual([]);
  });
});

describe('auth and errors', () => {
  it('no Authorization header without an apiKey; a non-problem error body becomes about:blank with the text as detail', async () => {
    script = [(res) => {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('nothing here');
    }];
    const c = createLedgersealClient({ baseUrl, sleep: async () => {} });
    const result = await c.GET('/v1/validators');
    expect(seen[0]!.headers.authorization).toBeUndefined();
    try {
      unwrap(result);
      expect.fail('unwrap must throw');
    } catch (e) {
      expect(e).toBeInstanceOf(LedgersealApiError);
      expect(e).toMatchObject({ status: 404, type: 'about:blank', detail: 'nothing here' });
      expect((e as LedgersealApiError).slug).toBeUndefined();
    }
  });

  it('the client knows every problem type the service answers', () => {
    expect([...PROBLEM_SLUGS].sort()).toEqual([...SERVICE_PROBLEM_SLUGS].sort());
  });

  it('retryAfterMs reads delay-seconds and HTTP-dates, and ignores anything else', () => {
    expect(retryAfterMs('0', NOW)).toBe(0);
    expect(retryAfterMs(' 12 ', NOW)).toBe(12_000);
    expect(retryAfterMs('Sun, 22 Nov 2026 04:32:26 GMT', NOW)).toBe(10_000);
    expect(retryAfterMs('Sun, 22 Nov 2026 04:00:00 GMT', NOW)).toBe(0);
    expect(retryAfterMs(null, NOW)).toBeUndefined();
    expect(retryAfterMs('soon', NOW)).toBeUndefined();
    expect(retryAfterMs('-5', NOW)).toBeUndefined();
  });

  it('refuses bad options', () => {
    expect(() => createLedgersealClient({ baseUrl: '' })).toThrow(/baseUrl/);
    expect(() => createLedgersealClient({ baseUrl, retries: -1 })).toThrow(/retries/);
    expect(() => createLedgersealClient({ baseUrl, retries: 1.5 })).toThrow(/retries/);
    expect(() => createLedgersealClient({ baseUrl, apiKey: '' })).toThrow(/apiKey/);
  });
});
