/**
 * Webhook delivery end to end (issue 8): the wired service, real rounds, the
 * delivery worker drained pass by pass, and real receivers on 127.0.0.1 whose
 * every request is verified with the official `standardwebhooks` package.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { verifyProof, verifyWebhook } from '../../sdk/src/index.ts';
import { envelopeSchema, type WebhookEventName } from '../../functions/api/webhook-events.ts';
import type { LedgerEvent } from '../../functions/store/port.ts';
import { stopDynalite } from '../helpers/dynalite.ts';
import { type Delivery, harness, officialVerify, startReceiver } from './harness.ts';

afterAll(stopDynalite);

const json = async (res: Response): Promise<any> => res.json();

function faults(n: number, from = 0, at = new Date().toISOString()): LedgerEvent[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `validator.fault:${from + i}:validator-9:timeout`,
    type: 'validator.fault',
    time: at,
    data: { validator: 'validator-9', reason: 'timeout', height: from + i, detail: 'no answer in 5000 ms' },
  }));
}

const byType = (ds: Delivery[], secret: string, type: string) => ds.map((d) => officialVerify(secret, d)).filter((e) => e.type === type);

describe('webhook delivery', () => {
  it('sends anchor.confirmed with proofs and batch.confirmed after a round, signed, matching the OpenAPI schemas', async () => {
    const h = await harness();
    const rx = await startReceiver();
    try {
      const { apiKey } = await h.agency();
      const ep = await h.endpoint(apiKey, { url: rx.url, eventTypes: ['anchor.confirmed', 'batch.confirmed', 'round.finalized'] });
      const batchId = await h.confirmBatch(apiKey, 3);
      await h.ledger.webhooks.drain();
      const events = rx.deliveries.map((d) => officialVerify(ep.secret, d));
      expect(events.map((e) => e.type).sort()).toEqual(['anchor.confirmed', 'batch.confirmed', 'round.finalized']);
      for (const e of events) expect(() => envelopeSchema(e.type as WebhookEventName).parse(e)).not.toThrow();

      const anchors = events.find((e) => e.type === 'anchor.confirmed')!.data as any;
      expect(anchors.batchId).toBe(batchId);
      expect(anchors.proofsIncluded).toBe(true);
      expect(anchors.items.map((i: any) => i.recordKey)).toEqual(['parcel/0/0', 'parcel/0/1', 'parcel/0/2']);
      expect(anchors.batchUrl).toBe(`/v1/batches/${batchId}?include=anchors`);
      for (const item of anchors.items) {
        const served = await json(await h.call('GET', `/v1/anchors/${item.id}`, { token: apiKey }));
        expect(item.proof).toEqual(served.proof);
        expect(verifyProof(item.proof, { validators: h.ledger.validatorSet }).ok).toBe(true);
      }
      const batch = events.find((e) => e.type === 'batch.confirmed')!.data as any;
      const served = await json(await h.call('GET', `/v1/batches/${batchId}`, { token: apiKey }));
      expect(batch.proof).toEqual(served.proof);

      // Every message and its single attempt are listed.
      const msgs = await json(await h.call('GET', `/v1/webhook-endpoints/${ep.id}/messages`, { token: apiKey }));
      expect(msgs.items).toHaveLength(3);
      expect(msgs.items.every((m: any) => m.status === 'delivered' && m.attempts === 1)).toBe(true);
      expect(new Set(msgs.items.map((m: any) => m.msgId))).toEqual(new Set(rx.deliveries.map((d) => d.id)));
    } finally {
      await rx.close();
      await h.close();
    }
  });

  it('drops proofs, then the list, when the payload would exceed 20 kB', async () => {
    const h = await harness();
    const rx = await startReceiver();
    try {
      const { apiKey } = await h.agency();
      const ep = await h.endpoint(apiKey, { url: rx.url, eventTypes: ['anchor.confirmed'] });
      await h.confirmBatch(apiKey, 60, 1);
      await h.confirmBatch(apiKey, 2_000, 2);
      await h.ledger.webhooks.drain();
      const [medium, large] = byType(rx.deliveries, ep.secret, 'anchor.confirmed').sort((a: any, b: any) => a.data.anchors.count - b.data.anchors.count) as any[];
      expect(medium.data.proofsIncluded).toBe(false);
      expect(medium.data.items).toHaveLength(60);
      expect(medium.data.items[0].proof).toBeUndefined();
      expect(large.data.items).toBeUndefined();
      expect(large.data.anchors.count).toBe(2_000);
      for (const d of rx.deliveries) expect(Buffer.byteLength(d.body)).toBeLessThanOrEqual(20 * 1024);
    } finally {
      await rx.close();
      await h.close();
    }
  });

  it('delivers rounds in order to a healthy receiver, and all of them, out of order, to one that fails some first attempts', async () => {
    const h = await harness();
    const healthy = await startReceiver();
    const flaky = await startReceiver();
    const firstSeen = new Set<string>();
    flaky.answer = (d) => {
      const height = (JSON.parse(d.body) as any).data.height as number;
      if (height % 2 === 0 && !firstSeen.has(d.id)) {
        firstSeen.add(d.id);
        return { status: 503 };
      }
      return { status: 200 };
    };
    try {
      const { apiKey } = await h.agency();
      const a = await h.endpoint(apiKey, { url: healthy.url, eventTypes: ['round.finalized'] });
      const b = await h.endpoint(apiKey, { url: flaky.url, eventTypes: ['round.finalized'] });
      for (let i = 0; i < 6; i++) {
        await h.confirmBatch(apiKey, 1, 10 + i);
        await h.ledger.webhooks.pass();
        await h.ledger.webhooks.idle();
      }
      await h.ledger.webhooks.drain();
      const heights = (ds: Delivery[], secret: string) => byType(ds, secret, 'round.finalized').map((e) => e.data['height'] as number);
      expect(heights(healthy.deliveries, a.secret)).toEqual([0, 1, 2, 3, 4, 5]);
      const got = heights(flaky.deliveries, b.secret);
      expect(got).toHaveLength(9); // three even heights failed once
      expect(new Set(got)).toEqual(new Set([0, 1, 2, 3, 4, 5]));
      expect(got).not.toEqual([...got].sort((x, y) => x - y)); // a retry arrives after later events
      // The retry carries the same webhook-id and body, a fresh signature.
      const retried = flaky.deliveries.filter((d) => firstSeen.has(d.id));
      for (const id of firstSeen) {
        const same = retried.filter((d) => d.id === id);
        expect(same).toHaveLength(2);
        expect(same[0]!.body).toBe(same[1]!.body);
      }
    } finally {
      await healthy.close();
      await flaky.close();
      await h.close();
    }
  });

  it('delivers everything to a receiver that fails half of its requests, and records every attempt', async () => {
    const h = await harness();
    // Every first request of a message fails, every second succeeds: half of all requests fail.
    const seen = new Set<string>();
    const rx = await startReceiver((d) => (seen.has(d.id) ? { status: 200, body: 'ok' } : (seen.add(d.id), { status: 500, body: 'x'.repeat(5000) })));
    try {
      const { apiKey } = await h.agency();
      const ep = await h.endpoint(apiKey, { url: rx.url, eventTypes: ['validator.fault'] });
      await h.ts.store.putEvents(faults(40));
      await h.ledger.webhooks.drain();
      const ids = new Set(rx.deliveries.map((d) => d.id));
      expect(ids.size).toBe(40);
      for (const d of rx.deliveries) officialVerify(ep.secret, d);
      const msgs = await json(await h.call('GET', `/v1/webhook-endpoints/${ep.id}/messages?limit=100`, { token: apiKey }));
      expect(msgs.items).toHaveLength(40);
      expect(msgs.items.every((m: any) => m.status === 'delivered')).toBe(true);
      const failedOnce = msgs.items.find((m: any) => m.attempts === 2);
      expect(failedOnce.history[0]).toMatchObject({ outcome: 'failed', httpStatus: 500, trigger: 'scheduled' });
      expect(failedOnce.history[0].responseExcerpt).toHaveLength(1024);
      const attempts = await json(await h.call('GET', `/v1/webhook-endpoints/${ep.id}/messages/${failedOnce.msgId}/attempts`, { token: apiKey }));
      expect(attempts.items.map((a: any) => a.outcome)).toEqual(['delivered', 'failed']);
      const all = await json(await h.call('GET', `/v1/webhook-endpoints/${ep.id}/attempts?limit=100`, { token: apiKey }));
      expect(all.items.length).toBe(rx.deliveries.length);
    } finally {
      await rx.close();
      await h.close();
    }
  });

  it('gives up on a receiver that never answers after the schedule, without holding back another endpoint', async () => {
    const h = await harness({ env: { LEDGERSEAL_WEBHOOK_TIMEOUT_MS: '300', LEDGERSEAL_WEBHOOK_RETRY_SCHEDULE: '0' } });
    const hang = await startReceiver(() => 'hang');
    const ok = await startReceiver();
    try {
      const { apiKey } = await h.agency();
      const slow = await h.endpoint(apiKey, { url: hang.url, eventTypes: ['validator.fault'] });
      const fast = await h.endpoint(apiKey, { url: ok.url, eventTypes: ['validator.fault'] });
      await h.ts.store.putEvents(faults(3));
      await h.ledger.webhooks.drain();
      expect(new Set(ok.deliveries.map((d) => d.id)).size).toBe(3);
      expect(hang.deliveries).toHaveLength(6); // first attempt + one retry each
      const msgs = await json(await h.call('GET', `/v1/webhook-endpoints/${slow.id}/messages`, { token: apiKey }));
      expect(msgs.items.map((m: any) => m.status)).toEqual(['failed', 'failed', 'failed']);
      expect(msgs.items[0].history.map((a: any) => a.error)).toEqual([expect.stringMatching(/^timeout/), expect.stringMatching(/^timeout/)]);
      const e = await json(await h.call('GET', `/v1/webhook-endpoints/${slow.id}`, { token: apiKey }));
      expect(e.failingSince).toBeDefined();
      const f = await json(await h.call('GET', `/v1/webhook-endpoints/${fast.id}`, { token: apiKey }));
      expect(f.failingSince).toBeUndefined();
    } finally {
      await hang.close();
      await ok.close();
      await h.close();
    }
  });

  it('treats 3xx as a failure without following it', async () => {
    const h = await harness({ env: { LEDGERSEAL_WEBHOOK_RETRY_SCHEDULE: '0' } });
    const target = await startReceiver();
    const redirect = await startReceiver(() => ({ status: 302, headers: { location: target.url } }));
    try {
      const { apiKey } = await h.agency();
      const ep = await h.endpoint(apiKey, { url: redirect.url, eventTypes: ['validator.fault'] });
      await h.ts.store.putEvents(faults(1));
      await h.ledger.webhooks.drain();
      expect(redirect.deliveries).toHaveLength(2);
      expect(target.deliveries).toHaveLength(0);
      const msgs = await json(await h.call('GET', `/v1/webhook-endpoints/${ep.id}/messages`, { token: apiKey }));
      expect(msgs.items[0]).toMatchObject({ status: 'failed', attempts: 2 });
      expect(msgs.items[0].history[0].httpStatus).toBe(302);
    } finally {
      await target.close();
      await redirect.close();
      await h.close();
    }
  });

  it('honours 429 and Retry-After: the endpoint is throttled and the retry waits', async () => {
    let now = Date.now();
    const clock = { now: () => new Date(now) };
    const h = await harness({ clock, env: { LEDGERSEAL_WEBHOOK_RETRY_SCHEDULE: '0,0' } });
    const rx = await startReceiver((d) => (d.n === 1 ? { status: 429, headers: { 'retry-after': '120' } } : { status: 200 }));
    try {
      const { apiKey } = await h.agency();
      const ep = await h.endpoint(apiKey, { url: rx.url, eventTypes: ['validator.fault'] });
      await h.ts.store.putEvents(faults(1, 0, clock.now().toISOString()));
      await h.ledger.webhooks.drain();
      expect(rx.deliveries).toHaveLength(1);
      const e = await json(await h.call('GET', `/v1/webhook-endpoints/${ep.id}`, { token: apiKey }));
      expect(Date.parse(e.throttledUntil) - now).toBe(120_000);
      now += 119_000;
      await h.ledger.webhooks.drain();
      expect(rx.deliveries).toHaveLength(1);
      now += 1_000;
      await h.ledger.webhooks.drain();
      expect(rx.deliveries).toHaveLength(2);
      officialVerify(ep.secret, rx.deliveries[1]!);
      const after = await json(await h.call('GET', `/v1/webhook-endpoints/${ep.id}`, { token: apiKey }));
      expect(after.throttledUntil).toBeUndefined();
      expect(after.failingSince).toBeUndefined();
    } finally {
      await rx.close();
      await h.close();
    }
  });

  it('10,000 events: none lost, none badly signed (official verifier), with failures and retries along the way', { timeout: 600_000 }, async () => {
    const h = await harness({ env: { LEDGERSEAL_WEBHOOK_RETRY_SCHEDULE: '0,0,0,0,0' } });
    const rx = await startReceiver((d) => (d.n % 7 === 3 ? { status: 500 } : { status: 200 }));
    try {
      const { apiKey } = await h.agency();
      const ep = await h.endpoint(apiKey, { url: rx.url, eventTypes: ['validator.fault'] });
      for (let i = 0; i < 10_000; i += 1_000) await h.ts.store.putEvents(faults(1_000, i), { derived: true });
      await h.ledger.webhooks.drain();
      const heights = new Set<number>();
      const wh = new (await import('standardwebhooks')).Webhook(ep.secret);
      for (const d of rx.deliveries) {
        const e = wh.verify(d.body, { 'webhook-id': d.id, 'webhook-timestamp': d.timestamp, 'webhook-signature': d.signature }) as any;
        heights.add(e.data.height);
      }
      expect(heights.size).toBe(10_000);
      expect(rx.deliveries.length).toBeGreaterThan(10_000);
      expect(rx.deliveries.length).toBeLessThan(12_000);
      expect(await h.ts.store.webhooks.listOutbox(10)).toEqual([]);
      expect(await h.ts.store.webhooks.listDue({ before: '9999-12-31T23:59:59.999Z', limit: 10 })).toEqual([]);
    } finally {
      await rx.close();
      await h.close();
    }
  });

  it('rotates a secret without one failed verification: both sign during the grace period, then only the new one', async () => {
    let now = Date.now();
    const clock = { now: () => new Date(now) };
    const h = await harness({ clock });
    const rx = await startReceiver();
    try {
      const { apiKey } = await h.agency();
      const ep = await h.endpoint(apiKey, { url: rx.url, eventTypes: ['validator.fault'] });
      await h.ts.store.putEvents(faults(2, 0, clock.now().toISOString()));
      await h.ledger.webhooks.drain();
      const rot = await json(await h.call('POST', `/v1/webhook-endpoints/${ep.id}/rotate-secret`, { token: apiKey }));
      expect(rot.secret).toMatch(/^whsec_/);
      expect(Date.parse(rot.previousSecretExpiresAt) - now).toBe(24 * 3_600_000);
      await h.ts.store.putEvents(faults(2, 2, clock.now().toISOString()));
      await h.ledger.webhooks.drain();
      now += 24 * 3_600_000 + 1;
      await h.ts.store.putEvents(faults(2, 4, clock.now().toISOString()));
      await h.ledger.webhooks.drain();
      expect(rx.deliveries).toHaveLength(6);
      const check = (secret: string, d: Delivery) => verifyWebhook(secret, { 'webhook-id': d.id, 'webhook-timestamp': d.timestamp, 'webhook-signature': d.signature }, d.body, { now: Number(d.timestamp) });
      // A receiver that switches from the old to the new secret at any moment after the rotation never fails.
      for (const d of rx.deliveries.slice(0, 2)) expect(() => check(ep.secret, d)).not.toThrow();
      for (const d of rx.deliveries.slice(2, 4)) {
        expect(d.signature.split(' ')).toHaveLength(2);
        expect(() => check(ep.secret, d)).not.toThrow();
        expect(() => check(rot.secret, d)).not.toThrow();
      }
      for (const d of rx.deliveries.slice(4)) {
        expect(d.signature.split(' ')).toHaveLength(1);
        expect(() => check(rot.secret, d)).not.toThrow();
        expect(() => check(ep.secret, d)).toThrow(/signature/);
      }
    } finally {
      await rx.close();
      await h.close();
    }
  });

  it('disables an endpoint that fails for the disable period (and tells the other endpoints), or answers 410; enable sends again', async () => {
    const h = await harness({ env: { LEDGERSEAL_WEBHOOK_RETRY_SCHEDULE: '0', LEDGERSEAL_WEBHOOK_DISABLE_AFTER_MS: '0' } });
    const failing = await startReceiver(() => ({ status: 500 }));
    const gone = await startReceiver(() => ({ status: 410 }));
    const watcher = await startReceiver();
    try {
      const { apiKey } = await h.agency();
      const f = await h.endpoint(apiKey, { url: failing.url, eventTypes: ['validator.fault'] });
      const g = await h.endpoint(apiKey, { url: gone.url, eventTypes: ['validator.fault'] });
      const w = await h.endpoint(apiKey, { url: watcher.url, eventTypes: ['endpoint.disabled'] });
      await h.ts.store.putEvents(faults(1));
      await h.ledger.webhooks.drain();
      const fe = await json(await h.call('GET', `/v1/webhook-endpoints/${f.id}`, { token: apiKey }));
      const ge = await json(await h.call('GET', `/v1/webhook-endpoints/${g.id}`, { token: apiKey }));
      expect(fe).toMatchObject({ status: 'disabled', disabledReason: 'failing' });
      expect(ge).toMatchObject({ status: 'disabled', disabledReason: 'gone' });
      expect(gone.deliveries).toHaveLength(1); // 410: no retry
      const told = watcher.deliveries.map((d) => officialVerify(w.secret, d)).map((e) => e.data as any);
      expect(told.map((d) => [d.endpointId, d.reason]).sort()).toEqual([[f.id, 'failing'], [g.id, 'gone']].sort());
      for (const d of told) expect(() => envelopeSchema('endpoint.disabled').parse({ type: 'endpoint.disabled', timestamp: d.disabledAt, data: d })).not.toThrow();

      // Disabled: nothing is sent; enabled again: new events are.
      failing.answer = () => ({ status: 200 });
      await h.ts.store.putEvents(faults(1, 1));
      await h.ledger.webhooks.drain();
      expect(failing.deliveries).toHaveLength(1);
      const en = await json(await h.call('POST', `/v1/webhook-endpoints/${f.id}/enable`, { token: apiKey }));
      expect(en.status).toBe('enabled');
      expect(en.failingSince).toBeUndefined();
      await h.ts.store.putEvents(faults(1, 2));
      await h.ledger.webhooks.drain();
      expect(failing.deliveries).toHaveLength(2);
      expect((officialVerify(f.secret, failing.deliveries[1]!).data as any).height).toBe(2);

      // Manual disable.
      const dis = await json(await h.call('POST', `/v1/webhook-endpoints/${f.id}/disable`, { token: apiKey }));
      expect(dis).toMatchObject({ status: 'disabled', disabledReason: 'manual' });
      const t = await h.call('POST', `/v1/webhook-endpoints/${f.id}/test`, { token: apiKey });
      expect(t.status).toBe(409);
    } finally {
      await failing.close();
      await gone.close();
      await watcher.close();
      await h.close();
    }
  });

  it('resends one message and recovers every failed message since a time', async () => {
    const h = await harness({ env: { LEDGERSEAL_WEBHOOK_RETRY_SCHEDULE: '0' } });
    const rx = await startReceiver(() => ({ status: 503 }));
    try {
      const { apiKey } = await h.agency();
      const ep = await h.endpoint(apiKey, { url: rx.url, eventTypes: ['validator.fault'] });
      const early = new Date(Date.now() - 3_600_000).toISOString();
      await h.ts.store.putEvents(faults(2, 0, early));
      const since = new Date().toISOString();
      await h.ts.store.putEvents(faults(3, 10, since));
      await h.ledger.webhooks.drain();
      expect(rx.deliveries).toHaveLength(10);
      const failed = await json(await h.call('GET', `/v1/webhook-endpoints/${ep.id}/messages?status=failed`, { token: apiKey }));
      expect(failed.items).toHaveLength(5);

      rx.answer = () => ({ status: 200 });
      const rec = await json(await h.call('POST', `/v1/webhook-endpoints/${ep.id}/recover`, { token: apiKey, body: { since } }));
      expect(rec).toEqual({ queued: 3, truncated: false });
      await h.ledger.webhooks.drain();
      const recovered = rx.deliveries.slice(10).map((d) => officialVerify(ep.secret, d).data['height']);
      expect(recovered.sort()).toEqual([10, 11, 12]);

      // Resend of one (old, failed) message: same id and body as before.
      const old = failed.items.find((m: any) => m.eventTime === early);
      const first = rx.deliveries.find((d) => d.id === old.msgId)!;
      const res = await h.call('POST', `/v1/webhook-endpoints/${ep.id}/messages/${old.msgId}/resend`, { token: apiKey });
      expect(res.status).toBe(202);
      await h.ledger.webhooks.drain();
      const again = rx.deliveries.at(-1)!;
      expect(again.id).toBe(old.msgId);
      expect(again.body).toBe(first.body);
      const m = await json(await h.call('GET', `/v1/webhook-endpoints/${ep.id}/messages/${old.msgId}`, { token: apiKey }));
      expect(m).toMatchObject({ status: 'delivered', attempts: 3 });
      expect(m.history.at(-1)).toMatchObject({ trigger: 'manual', outcome: 'delivered' });
      expect(m.payload).toEqual(JSON.parse(first.body));
    } finally {
      await rx.close();
      await h.close();
    }
  });

  it('sends a test event on request', async () => {
    const h = await harness();
    const rx = await startReceiver();
    try {
      const { apiKey } = await h.agency();
      const ep = await h.endpoint(apiKey, { url: rx.url });
      const res = await h.call('POST', `/v1/webhook-endpoints/${ep.id}/test`, { token: apiKey });
      expect(res.status).toBe(202);
      const { msgId } = await json(res);
      await h.ledger.webhooks.drain();
      expect(rx.deliveries).toHaveLength(1);
      expect(rx.deliveries[0]!.id).toBe(msgId);
      expect(officialVerify(ep.secret, rx.deliveries[0]!)).toMatchObject({ type: 'endpoint.test', data: { endpointId: ep.id } });
    } finally {
      await rx.close();
      await h.close();
    }
  });
});

describe('the local runner (npm start)', () => {
  it('runs the worker in the background: a loopback endpoint gets anchor.confirmed with an absolute batchUrl', { timeout: 120_000 }, async () => {
    const { startService } = await import('../helpers/service.ts');
    const svc = await startService();
    const rx = await startReceiver();
    try {
      const res = await fetch(`${svc.url}/v1/webhook-endpoints`, {
        method: 'POST',
        headers: { authorization: `Bearer ${svc.apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ url: rx.url, eventTypes: ['anchor.confirmed'] }),
      });
      expect(res.status).toBe(201);
      const ep = (await res.json()) as { secret: string };
      const sub = await fetch(`${svc.url}/v1/anchors`, {
        method: 'POST',
        headers: { authorization: `Bearer ${svc.apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ anchors: [{ hash: 'ab'.repeat(32), recordKey: 'deed/1' }] }),
      });
      const { batchId } = (await sub.json()) as { batchId: string };
      await rx.until(1); // rounds every 100 ms; the worker is woken by each
      const e = officialVerify(ep.secret, rx.deliveries[0]!);
      expect(e.data).toMatchObject({ batchId, proofsIncluded: true, batchUrl: `${svc.url}/v1/batches/${batchId}?include=anchors` });
    } finally {
      await rx.close();
      await svc.close();
    }
  });
});
