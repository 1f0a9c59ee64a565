/**
 * The delivery worker stopped after every possible number of store writes
 * (the process "dies": that write and everything after it fail), then a new
 * worker takes over once the lease runs out. Whatever the crash point, every
 * event reaches the receiver at least once, correctly signed, and nothing is
 * left in the outbox or the retry queue. Also: retention.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { Store } from '../../functions/store/port.ts';
import type { WebhookStore } from '../../functions/store/webhook-port.ts';
import { silentLogger } from '../../functions/services.ts';
import { createSender } from '../../functions/webhooks/http-send.ts';
import { WebhookWorker } from '../../functions/webhooks/worker.ts';
import { stopDynalite } from '../helpers/dynalite.ts';
import { harness, officialVerify, startReceiver } from './harness.ts';

afterAll(stopDynalite);

const WRITES = new Set<string | symbol>(['putPayloads', 'putMessages', 'putAttempts', 'putDue', 'deleteDue', 'deleteOutbox', 'updateEndpoint', 'putEvents']);

/** The store as a process sees it that dies at its `limit`-th write: that write and every later call fail. */
function dying(store: Store, limit: number): { store: Store; writes: () => number } {
  let writes = 0;
  let dead = false;
  const guard = <T extends object>(target: T): T =>
    new Proxy(target, {
      get(t, k) {
        const v = Reflect.get(t, k, t) as unknown;
        if (typeof v !== 'function') return v;
        return async (...args: unknown[]) => {
          if (!dead && WRITES.has(k) && ++writes >= limit) dead = true;
          if (dead) throw new Error('the process died');
          return (v as (...a: unknown[]) => unknown).apply(t, args);
        };
      },
    });
  const wh: WebhookStore = guard(store.webhooks);
  const s = guard(store);
  return { store: new Proxy(s, { get: (t, k) => (k === 'webhooks' ? wh : Reflect.get(t, k, t)) }), writes: () => writes };
}

describe('a worker that dies after any number of writes', () => {
  it('loses nothing: the next worker delivers every event, correctly signed, and leaves no marker or due entry', { timeout: 300_000 }, async () => {
    let offset = 0;
    const clock = { now: () => new Date(Date.now() + offset) };
    let limit = 1;
    let completedWithoutDying = false;
    while (!completedWithoutDying) {
      offset = 0;
      const h = await harness({ clock });
      // The first two requests of every message fail: each message goes through the retry queue twice.
      const seen = new Map<string, number>();
      const rx = await startReceiver((d) => {
        seen.set(d.id, (seen.get(d.id) ?? 0) + 1);
        return seen.get(d.id)! > 2 ? { status: 204 } : { status: 500 };
      });
      const sender = createSender({ policy: { allowLoopback: true, allowHttp: true } });
      try {
        const { apiKey } = await h.agency();
        const ep = await h.endpoint(apiKey, { url: rx.url, eventTypes: ['validator.fault'] });
        await h.ts.store.putEvents(
          Array.from({ length: 4 }, (_, i) => ({
            id: `validator.fault:${i}:validator-9:refused`,
            type: 'validator.fault',
            time: clock.now().toISOString(),
            data: { validator: 'validator-9', reason: 'refused', height: i, detail: 'refused' },
          })),
        );
        const d = dying(h.ts.store, limit);
        const base = { config: h.config.webhooks, origin: h.config.origin, publicUrl: null, sender, clock, log: silentLogger };
        const first = new WebhookWorker({ ...base, store: d.store, owner: 'first' });
        try {
          await first.drain();
          completedWithoutDying = d.writes() < limit;
        } catch {
          // died
        }
        await first.idle();
        offset = 61_000; // the first worker's lease has run out
        await new WebhookWorker({ ...base, store: h.ts.store, owner: 'second' }).drain();

        const heights = new Set(rx.deliveries.map((x) => officialVerify(ep.secret, x).data['height']));
        expect(heights, `crash at write ${limit}`).toEqual(new Set([0, 1, 2, 3]));
        const msgs = await h.ts.store.webhooks.listMessages(ep.id, { limit: 10 });
        expect(msgs.items.map((m) => m.status), `crash at write ${limit}`).toEqual(['delivered', 'delivered', 'delivered', 'delivered']);
        expect(await h.ts.store.webhooks.listOutbox(10)).toEqual([]);
        expect(await h.ts.store.webhooks.listDue({ before: '9999-12-31T23:59:59.999Z', limit: 10 })).toEqual([]);
      } finally {
        sender.close();
        await rx.close();
        await h.close();
      }
      limit++;
    }
    expect(limit).toBeGreaterThan(8); // the scenario has that many crash points
  });
});

describe('retention', () => {
  it('messages, attempts and payloads past the retention period are gone from every read', async () => {
    let now = Date.now();
    const clock = { now: () => new Date(now) };
    const h = await harness({ clock });
    const rx = await startReceiver();
    try {
      const { apiKey } = await h.agency();
      const ep = await h.endpoint(apiKey, { url: rx.url });
      const t = (await (await h.call('POST', `/v1/webhook-endpoints/${ep.id}/test`, { token: apiKey })).json()) as { msgId: string };
      await h.ledger.webhooks.drain();
      const get = (path: string) => h.call('GET', `/v1/webhook-endpoints/${ep.id}${path}`, { token: apiKey });
      expect((await get(`/messages/${t.msgId}`)).status).toBe(200);
      now += h.config.webhooks.retentionMs - 1;
      expect((await get(`/messages/${t.msgId}`)).status).toBe(200);
      now += 1;
      expect((await get(`/messages/${t.msgId}`)).status).toBe(404);
      expect((await (await get('/messages')).json()).items).toEqual([]);
      expect((await (await get('/attempts')).json()).items).toEqual([]);
      expect((await h.call('POST', `/v1/webhook-endpoints/${ep.id}/messages/${t.msgId}/resend`, { token: apiKey })).status).toBe(404);
    } finally {
      await rx.close();
      await h.close();
    }
  });
});
