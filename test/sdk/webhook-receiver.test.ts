/**
 * @ledgerseal/sdk/webhooks: the receiver behind real HTTP servers on
 * 127.0.0.1 (node:http with the Node adapter; @hono/node-server with the
 * Fetch adapter alone and inside a Hono app), receiving deliveries signed by
 * the official `standardwebhooks` package and by the sdk's webhookHeaders.
 * One test per outcome (docs/webhooks.md "Receiving webhooks (SDK)"), the
 * dedupe semantics (remembered only after the handler succeeded; one handler
 * run for concurrent deliveries of an id), and the event types against the
 * generated OpenAPI `webhooks` interface.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import { Hono } from 'hono';
import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, expectTypeOf, it, vi } from 'vitest';
import type { components, webhooks } from '../../sdk/src/client/openapi.ts';
import { LedgersealError } from '../../sdk/src/errors.ts';
import { WEBHOOK_EVENT_TYPES, webhookHeaders, type WebhookEventType } from '../../sdk/src/webhooks.ts';
import {
  createWebhookReceiver,
  isLedgersealWebhookEvent,
  memoryDedupeStore,
  WEBHOOK_DEDUPE_TTL_SECONDS,
  WEBHOOK_MAX_BODY_BYTES,
  webhookFetchHandler,
  webhookNodeHandler,
  type LedgersealWebhookEvent,
  type LedgersealWebhookEvents,
  type ReceiveResult,
  type WebhookContext,
  type WebhookDedupeStore,
  type WebhookEventOf,
  type WebhookReceiverOptions,
} from '../../sdk/src/receiver/index.ts';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const OLD_SECRET = 'whsec_c2VjcmV0LW9mLXRoZS1sYXN0LXJvdGF0aW9uLTEyMzQ=';
const nowSeconds = (): number => Math.floor(Date.now() / 1000);

const anchorConfirmed: WebhookEventOf<'anchor.confirmed'> = {
  type: 'anchor.confirmed',
  timestamp: '2026-11-22T04:32:16.123Z',
  data: {
    batchId: '01JD3Q8Y5ZK2M7N9P4R6S8T0VW',
    height: 12,
    roundIndex: 0,
    anchors: { first: '01JD3Q8Y5ZK2M7N9P4R6S8T0VW.0', last: '01JD3Q8Y5ZK2M7N9P4R6S8T0VW.1', count: 2 },
    items: [{ id: '01JD3Q8Y5ZK2M7N9P4R6S8T0VW.0', hash: 'ab'.repeat(32), recordKey: 'parcel:KA-17/204' }, { id: '01JD3Q8Y5ZK2M7N9P4R6S8T0VW.1', hash: 'cd'.repeat(32) }],
    proofsIncluded: false,
    batchUrl: '/v1/batches/01JD3Q8Y5ZK2M7N9P4R6S8T0VW?include=anchors',
  },
};
const validatorFault: WebhookEventOf<'validator.fault'> = {
  type: 'validator.fault',
  timestamp: '2026-11-22T04:32:17.000Z',
  data: { validator: 'validator-3', reason: 'timeout', height: 13, detail: 'no answer within 2 s' },
};
const BODY = JSON.stringify(anchorConfirmed);

/** Deliveries as the official library signs them: one secret, `new Webhook(secret).sign(id, date, body)`. */
function officialHeaders(secret: string, id: string, body: string, at = new Date()): Record<string, string> {
  return {
    'content-type': 'application/json',
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': new Webhook(secret).sign(id, at, body),
  };
}

/** Deliveries as the service signs them (the sdk; several secrets during a rotation). */
function sdkHeaders(secrets: string | string[], id: string, body: string, at = nowSeconds()): Record<string, string> {
  return { 'content-type': 'application/json', ...webhookHeaders(secrets, id, at, body) };
}

type Kind = 'node' | 'fetch' | 'hono';

interface Running {
  url: string;
  post(headers: Record<string, string>, body: string | Uint8Array<ArrayBuffer>): Promise<Response>;
}

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((done) => {
    s.closeAllConnections();
    s.close(() => done());
  })));
});

/** A server on 127.0.0.1, port 0, receiving at /hooks with the given adapter; closed after the test. */
async function start(kind: Kind, options: WebhookReceiverOptions): Promise<Running> {
  let server: Server;
  if (kind === 'node') {
    server = createServer(webhookNodeHandler(options));
  } else if (kind === 'fetch') {
    server = createAdaptorServer({ fetch: webhookFetchHandler(options) }) as Server;
  } else {
    const handler = webhookFetchHandler(options);
    const app = new Hono();
    app.all('/hooks', (c) => handler(c.req.raw));
    server = createAdaptorServer({ fetch: app.fetch }) as Server;
  }
  servers.push(server);
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
  return { url, post: (headers, body) => fetch(url, { method: 'POST', headers, body }) };
}

/** onEvent that records its calls. */
function recorder(): { calls: [LedgersealWebhookEvent, WebhookContext][]; onEvent: WebhookReceiverOptions['onEvent'] } {
  const calls: [LedgersealWebhookEvent, WebhookContext][] = [];
  return { calls, onEvent: (event, ctx) => void calls.push([event, ctx]) };
}

async function problemOf(res: Response): Promise<Record<string, unknown>> {
  expect(res.headers.get('content-type')).toBe('application/problem+json');
  return (await res.json()) as Record<string, unknown>;
}

/** A promise and its resolver: lets a test hold a handler and release it, with no timers. */
function latch(): { promise: Promise<void>; release: () => void } {
  let release!: () => void;
  const promise = new Promise<void>((r) => (release = r));
  return { promise, release };
}

describe('event types', () => {
  it('WEBHOOK_EVENT_TYPES names exactly the generated `webhooks` of the OpenAPI contract, in its order', () => {
    expectTypeOf<WebhookEventType>().toEqualTypeOf<keyof webhooks>();
    expectTypeOf<keyof LedgersealWebhookEvents>().toEqualTypeOf<keyof webhooks>();
    const contract = JSON.parse(readFileSync(new URL('../../openapi/openapi.json', import.meta.url), 'utf8')) as { webhooks: Record<string, unknown> };
    expect([...WEBHOOK_EVENT_TYPES]).toEqual(Object.keys(contract.webhooks));
  });

  it('each event type is the request body of its webhook, and the union narrows on `type`', () => {
    expectTypeOf<WebhookEventOf<'anchor.confirmed'>>().toEqualTypeOf<components['schemas']['AnchorConfirmedEvent']>();
    expectTypeOf<WebhookEventOf<'endpoint.test'>>().toEqualTypeOf<components['schemas']['EndpointTestEvent']>();
    expectTypeOf<LedgersealWebhookEvent['type']>().toEqualTypeOf<WebhookEventType>();
    const describeEvent = (event: LedgersealWebhookEvent): string => {
      switch (event.type) {
        case 'anchor.confirmed':
          expectTypeOf(event.data.batchId).toEqualTypeOf<string>();
          return `${event.data.anchors.count} anchors`;
        case 'validator.fault':
          expectTypeOf(event.data.reason).toEqualTypeOf<'timeout' | 'unreachable' | 'refused' | 'bad-signature' | 'equivocation'>();
          return event.data.reason;
        default:
          return event.type;
      }
    };
    expect(describeEvent(anchorConfirmed)).toBe('2 anchors');
    expect(describeEvent(validatorFault)).toBe('timeout');
    expect(isLedgersealWebhookEvent(anchorConfirmed)).toBe(true);
    expect(isLedgersealWebhookEvent({ ...anchorConfirmed, type: 'anchor.exploded' })).toBe(false);
    expect(isLedgersealWebhookEvent({ type: 'anchor.confirmed', timestamp: 't' })).toBe(false);
  });
});

describe.each<Kind>(['node', 'fetch', 'hono'])('the %s adapter on a real server', (kind) => {
  it('accepts a delivery signed by the official standardwebhooks package: 204, the typed event reaches onEvent', async () => {
    const { calls, onEvent } = recorder();
    const server = await start(kind, { secret: SECRET, onEvent });
    const at = new Date();
    const res = await server.post(officialHeaders(SECRET, 'msg_official1', BODY, at), BODY);
    expect(res.status).toBe(204);
    expect(await res.text()).toBe('');
    expect(calls).toEqual([[anchorConfirmed, { id: 'msg_official1', timestamp: Math.floor(at.getTime() / 1000) }]]);
  });

  it('accepts a delivery signed by the sdk (webhookHeaders), whatever the body bytes', async () => {
    const { calls, onEvent } = recorder();
    const server = await start(kind, { secret: SECRET, onEvent });
    // Not the JSON.stringify of the event: the signature covers the raw bytes, spacing and non-ASCII included.
    const body = `{ "type": "validator.fault", "timestamp": "2026-11-22T04:32:17.000Z",\n  "data": {"validator": "validateur-\u00e9", "reason": "refused", "height": 1, "detail": "\u2014"} }`;
    const res = await server.post(sdkHeaders(SECRET, 'msg_sdk1', body), new TextEncoder().encode(body));
    expect(res.status).toBe(204);
    expect(calls.map(([e]) => e)).toEqual([JSON.parse(body)]);
  });

  it('runs the handler once for the same webhook-id delivered twice; the second answer is 204', async () => {
    const { calls, onEvent } = recorder();
    const server = await start(kind, { secret: SECRET, onEvent });
    expect((await server.post(officialHeaders(SECRET, 'msg_twice', BODY), BODY)).status).toBe(204);
    // A retry: new timestamp and signature, same id.
    expect((await server.post(sdkHeaders(SECRET, 'msg_twice', BODY, nowSeconds() + 1), BODY)).status).toBe(204);
    expect(calls).toHaveLength(1);
  });

  it('answers 400 WEBHOOK_SIGNATURE to a bad signature, without calling the handler or echoing the secret', async () => {
    const { calls, onEvent } = recorder();
    const server = await start(kind, { secret: SECRET, onEvent });
    const forged = await server.post(officialHeaders(OLD_SECRET, 'msg_forged', BODY), BODY);
    expect(forged.status).toBe(400);
    const text = await forged.text();
    expect(JSON.parse(text)).toMatchObject({ status: 400, code: 'WEBHOOK_SIGNATURE' });
    expect(text).not.toContain(SECRET.slice(6));
    const tampered = await server.post(officialHeaders(SECRET, 'msg_tampered', BODY), BODY.replace('"height":12', '"height":13'));
    expect(await problemOf(tampered)).toMatchObject({ code: 'WEBHOOK_SIGNATURE' });
    expect(calls).toEqual([]);
  });

  it('answers 400 WEBHOOK_TIMESTAMP to an authentic but old delivery (a replay)', async () => {
    const { calls, onEvent } = recorder();
    const server = await start(kind, { secret: SECRET, onEvent });
    const res = await server.post(officialHeaders(SECRET, 'msg_old', BODY, new Date(Date.now() - 600_000)), BODY);
    expect(res.status).toBe(400);
    expect(await problemOf(res)).toMatchObject({ code: 'WEBHOOK_TIMESTAMP' });
    expect(calls).toEqual([]);
  });

  it('answers 400 WEBHOOK_MISSING_HEADERS and WEBHOOK_PAYLOAD', async () => {
    const { calls, onEvent } = recorder();
    const server = await start(kind, { secret: SECRET, onEvent });
    const { 'webhook-signature': _dropped, ...unsigned } = officialHeaders(SECRET, 'msg_unsigned', BODY);
    expect(await problemOf(await server.post(unsigned, BODY))).toMatchObject({ code: 'WEBHOOK_MISSING_HEADERS' });
    const notJson = 'not json';
    expect(await problemOf(await server.post(officialHeaders(SECRET, 'msg_text', notJson), notJson))).toMatchObject({ code: 'WEBHOOK_PAYLOAD' });
    const notEvent = '[1,2]';
    expect(await problemOf(await server.post(officialHeaders(SECRET, 'msg_array', notEvent), notEvent))).toMatchObject({ code: 'WEBHOOK_PAYLOAD' });
    expect(calls).toEqual([]);
  });

  it('accepts either secret during a rotation (one signature each, or both at once)', async () => {
    const { calls, onEvent } = recorder();
    const server = await start(kind, { secret: [SECRET, OLD_SECRET], onEvent });
    expect((await server.post(officialHeaders(OLD_SECRET, 'msg_old_secret', BODY), BODY)).status).toBe(204);
    expect((await server.post(officialHeaders(SECRET, 'msg_new_secret', BODY), BODY)).status).toBe(204);
    expect((await server.post(sdkHeaders([SECRET, OLD_SECRET], 'msg_both', BODY), BODY)).status).toBe(204);
    expect(calls.map(([, ctx]) => ctx.id)).toEqual(['msg_old_secret', 'msg_new_secret', 'msg_both']);
  });

  it('answers 500 when the handler throws and does not remember the id: the redelivery runs the handler again', async () => {
    const errors: unknown[] = [];
    let runs = 0;
    const server = await start(kind, {
      secret: SECRET,
      onEvent: () => {
        runs++;
        if (runs === 1) throw new Error('database down: password=hunter2');
      },
      onError: (e, ctx) => errors.push([(e as Error).message, ctx.id]),
    });
    const failed = await server.post(officialHeaders(SECRET, 'msg_retry', BODY), BODY);
    expect(failed.status).toBe(500);
    expect(await failed.text()).not.toContain('hunter2');
    expect(errors).toEqual([['database down: password=hunter2', 'msg_retry']]);
    expect((await server.post(officialHeaders(SECRET, 'msg_retry', BODY), BODY)).status).toBe(204);
    expect((await server.post(officialHeaders(SECRET, 'msg_retry', BODY), BODY)).status).toBe(204);
    expect(runs).toBe(2);
  });

  it('runs the handler once for concurrent deliveries of one id: the second is answered 409 while the first runs', async () => {
    const held = latch();
    const entered = latch();
    let runs = 0;
    const server = await start(kind, {
      secret: SECRET,
      onEvent: async () => {
        runs++;
        if (runs > 1) return; // a second run would not wait: the test fails on its answer, not on a timeout
        entered.release();
        await held.promise;
      },
    });
    const first = server.post(officialHeaders(SECRET, 'msg_concurrent', BODY), BODY);
    await entered.promise; // the first delivery's handler is running
    const second = await server.post(sdkHeaders(SECRET, 'msg_concurrent', BODY), BODY);
    expect(second.status).toBe(409);
    expect(await problemOf(second)).toMatchObject({ status: 409 });
    expect(second.headers.get('retry-after')).toBeNull(); // a Retry-After would throttle the whole endpoint
    held.release();
    expect((await first).status).toBe(204);
    expect((await server.post(officialHeaders(SECRET, 'msg_concurrent', BODY), BODY)).status).toBe(204);
    expect(runs).toBe(1);
  });

  it('answers 413 to a body over maxBodyBytes, declared or streamed, without calling the handler', async () => {
    const { calls, onEvent } = recorder();
    const server = await start(kind, { secret: SECRET, onEvent, maxBodyBytes: 1024 });
    const big = JSON.stringify({ ...anchorConfirmed, data: { ...anchorConfirmed.data, batchUrl: 'x'.repeat(2000) } });
    const declared = await server.post(officialHeaders(SECRET, 'msg_big', big), big);
    expect(declared.status).toBe(413);
    expect(await problemOf(declared)).toMatchObject({ status: 413, detail: 'the body exceeds 1024 bytes' });
    // Chunked, no Content-Length: the cap applies as the body streams in.
    const bytes = new TextEncoder().encode(big);
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(bytes.subarray(0, 1000));
        controller.enqueue(bytes.subarray(1000));
        controller.close();
      },
    });
    const streamed = await fetch(server.url, { method: 'POST', headers: officialHeaders(SECRET, 'msg_big2', big), body: stream, duplex: 'half' } as RequestInit);
    expect(streamed.status).toBe(413);
    expect(calls).toEqual([]);
    // A body just under the cap is read.
    const small = JSON.stringify(anchorConfirmed);
    expect(small.length).toBeLessThan(1024);
    expect((await server.post(officialHeaders(SECRET, 'msg_small', small), small)).status).toBe(204);
  });

  it('answers 405 with Allow: POST to other methods', async () => {
    const { calls, onEvent } = recorder();
    const server = await start(kind, { secret: SECRET, onEvent });
    for (const method of ['GET', 'PUT']) {
      const res = await fetch(server.url, { method, ...(method === 'PUT' && { body: BODY, headers: officialHeaders(SECRET, 'msg_put', BODY) }) });
      expect(res.status).toBe(405);
      expect(res.headers.get('allow')).toBe('POST');
      await res.body?.cancel();
    }
    expect(calls).toEqual([]);
  });

  it('uses a custom dedupe store: asks seen() first, and remember()s only handled ids with the ttl', async () => {
    const { calls, onEvent } = recorder();
    const log: string[] = [];
    const remembered = new Set(['msg_seen_elsewhere']);
    const dedupe: WebhookDedupeStore = {
      seen: async (id) => (log.push(`seen ${id}`), remembered.has(id)),
      remember: async (id, ttl) => {
        log.push(`remember ${id} ${ttl}`);
        remembered.add(id);
      },
    };
    const server = await start(kind, { secret: SECRET, onEvent, dedupe, dedupeTtlSeconds: 3600 });
    expect((await server.post(officialHeaders(SECRET, 'msg_seen_elsewhere', BODY), BODY)).status).toBe(204);
    expect((await server.post(officialHeaders(SECRET, 'msg_fresh', BODY), BODY)).status).toBe(204);
    expect(log).toEqual(['seen msg_seen_elsewhere', 'seen msg_fresh', 'remember msg_fresh 3600']);
    expect(calls.map(([, ctx]) => ctx.id)).toEqual(['msg_fresh']);
  });

  it('acknowledges an authentic event of a type it does not know, without calling the handler', async () => {
    const { calls, onEvent } = recorder();
    const server = await start(kind, { secret: SECRET, onEvent });
    const body = JSON.stringify({ type: 'anchor.teleported', timestamp: '2027-01-01T00:00:00.000Z', data: { where: 'moon' } });
    expect((await server.post(officialHeaders(SECRET, 'msg_future', body), body)).status).toBe(204);
    expect(calls).toEqual([]);
  });
});

describe('createWebhookReceiver', () => {
  const T = 1_800_000_000;
  const deliver = (id: string, body = BODY, at = T): [Record<string, string>, string] => [webhookHeaders(SECRET, id, at, body), body];

  it('fails at construction on misconfiguration, not on the first delivery', () => {
    const onEvent = (): void => {};
    const code = (f: () => unknown): string | undefined => {
      try {
        f();
      } catch (e) {
        return e instanceof LedgersealError ? e.code : String(e);
      }
      return undefined;
    };
    expect(code(() => createWebhookReceiver({ secret: 'whsec_not base64!', onEvent }))).toBe('WEBHOOK_INVALID_SECRET');
    expect(code(() => createWebhookReceiver({ secret: [], onEvent }))).toBe('WEBHOOK_INVALID_SECRET');
    expect(code(() => createWebhookReceiver({ secret: SECRET, onEvent, toleranceSeconds: -1 }))).toBe('INVALID_ARGUMENT');
    expect(code(() => createWebhookReceiver({ secret: SECRET, onEvent, maxBodyBytes: 0 }))).toBe('INVALID_ARGUMENT');
    expect(code(() => createWebhookReceiver({ secret: SECRET, onEvent, dedupeTtlSeconds: 1.5 }))).toBe('INVALID_ARGUMENT');
    expect(code(() => createWebhookReceiver({ secret: SECRET } as WebhookReceiverOptions))).toBe('INVALID_ARGUMENT');
    expect(code(() => webhookFetchHandler({ secret: 'whsk_x', onEvent }))).toBe('WEBHOOK_INVALID_SECRET');
    expect(code(() => webhookNodeHandler({ secret: SECRET, onEvent, maxBodyBytes: -5 }))).toBe('INVALID_ARGUMENT');
    expect(createWebhookReceiver({ secret: SECRET, onEvent }).maxBodyBytes).toBe(WEBHOOK_MAX_BODY_BYTES);
  });

  it('returns one result per outcome', async () => {
    const held = latch();
    const seen: string[] = [];
    const receiver = createWebhookReceiver({
      secret: SECRET,
      now: () => T,
      onEvent: async (event, ctx) => {
        seen.push(`${event.type} ${ctx.id} ${ctx.timestamp}`);
        if (ctx.id === 'msg_slow' && seen.filter((x) => x.includes('msg_slow')).length === 1) await held.promise;
      },
    });
    expect(await receiver.receive(...deliver('msg_1'))).toEqual({ status: 'accepted', id: 'msg_1', event: anchorConfirmed } satisfies ReceiveResult);
    expect(await receiver.receive(...deliver('msg_1'))).toEqual({ status: 'duplicate', id: 'msg_1' });
    expect(await receiver.receive(...deliver('msg_2', BODY, T - 301))).toMatchObject({ status: 'invalid', error: 'WEBHOOK_TIMESTAMP', message: expect.stringMatching(/too old/) });
    expect(await receiver.receive(new Headers(deliver('msg_3')[0]), new TextEncoder().encode(BODY))).toMatchObject({ status: 'accepted', id: 'msg_3' });
    const unknown = JSON.stringify({ type: 'x.y', timestamp: 't', data: {} });
    expect(await receiver.receive(...deliver('msg_4', unknown))).toEqual({ status: 'ignored', id: 'msg_4', type: 'x.y' });
    const slow = receiver.receive(...deliver('msg_slow'));
    expect(await receiver.receive(...deliver('msg_slow'))).toEqual({ status: 'in-flight', id: 'msg_slow' });
    held.release();
    expect(await slow).toMatchObject({ status: 'accepted' });
    expect(seen).toEqual([`anchor.confirmed msg_1 ${T}`, `anchor.confirmed msg_3 ${T}`, `anchor.confirmed msg_slow ${T}`]);
  });

  it('rejects with the handler error, and the id is not remembered', async () => {
    let fail = true;
    const receiver = createWebhookReceiver({ secret: SECRET, now: () => T, onEvent: () => {
      if (fail) throw new Error('boom');
    } });
    await expect(receiver.receive(...deliver('msg_x'))).rejects.toThrow('boom');
    fail = false;
    expect(await receiver.receive(...deliver('msg_x'))).toMatchObject({ status: 'accepted' });
  });

  it('acknowledges a handled delivery whose id the store could not remember, and reports it', async () => {
    const onError = vi.fn();
    const receiver = createWebhookReceiver({
      secret: SECRET,
      now: () => T,
      onEvent: () => {},
      dedupe: { seen: () => false, remember: () => Promise.reject(new Error('redis down')) },
      onError,
    });
    expect(await receiver.receive(...deliver('msg_r'))).toMatchObject({ status: 'accepted' });
    expect(onError).toHaveBeenCalledWith(new Error('redis down'), { id: 'msg_r' });
  });

  it('rejects when the store cannot tell whether the id was seen (answer 5xx, the sender retries)', async () => {
    const receiver = createWebhookReceiver({ secret: SECRET, now: () => T, onEvent: () => {}, dedupe: { seen: () => Promise.reject(new Error('redis down')), remember: () => {} } });
    await expect(receiver.receive(...deliver('msg_s'))).rejects.toThrow('redis down');
    // and the id is not left marked in flight
    await expect(receiver.receive(...deliver('msg_s'))).rejects.toThrow('redis down');
  });
});

describe('memoryDedupeStore', () => {
  it('forgets ids after their ttl (24 h by default in the receiver)', () => {
    let t = 1000;
    const store = memoryDedupeStore({ now: () => t });
    store.remember('a', WEBHOOK_DEDUPE_TTL_SECONDS);
    expect(store.seen('a')).toBe(true);
    t += WEBHOOK_DEDUPE_TTL_SECONDS - 1;
    expect(store.seen('a')).toBe(true);
    t += 1;
    expect(store.seen('a')).toBe(false);
  });

  it('keeps at most maxIds, dropping the oldest remembered first', () => {
    const store = memoryDedupeStore({ maxIds: 3, now: () => 0 });
    for (const id of ['a', 'b', 'c']) store.remember(id, 60);
    store.remember('a', 60); // remembered again: now the newest
    store.remember('d', 60);
    expect(['a', 'b', 'c', 'd'].map((id) => store.seen(id))).toEqual([true, false, true, true]);
  });

  it('the receiver uses its clock: an id is handled again once forgotten', async () => {
    let t = 1_800_000_000;
    let runs = 0;
    const receiver = createWebhookReceiver({ secret: SECRET, now: () => t, dedupeTtlSeconds: 60, onEvent: () => void runs++ });
    const at = (): [Record<string, string>, string] => [webhookHeaders(SECRET, 'msg_ttl', t, BODY), BODY];
    await receiver.receive(...at());
    t += 59;
    expect(await receiver.receive(...at())).toMatchObject({ status: 'duplicate' });
    t += 1;
    expect(await receiver.receive(...at())).toMatchObject({ status: 'accepted' });
    expect(runs).toBe(2);
  });
});

describe('webhookNodeHandler behind a body parser', () => {
  it('uses a Buffer an express.raw()-style parser left in req.body', async () => {
    const { calls, onEvent } = recorder();
    const handler = webhookNodeHandler({ secret: SECRET, onEvent });
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        (req as IncomingMessage & { body?: Buffer }).body = Buffer.concat(chunks);
        void handler(req, res);
      });
    });
    servers.push(server);
    await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    expect((await fetch(url, { method: 'POST', headers: officialHeaders(SECRET, 'msg_parsed', BODY), body: BODY })).status).toBe(204);
    expect(calls).toHaveLength(1);
  });
});
