/**
 * A delivery worker killed mid-delivery (SIGKILL, in its own process) loses
 * nothing and sends nothing badly signed: the next worker takes the lease over
 * and every event reaches the receiver at least once, each request verified by
 * the official `standardwebhooks` package.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import type { LedgerEvent } from '../../functions/store/port.ts';
import { sharedDynalite, stopDynalite } from '../helpers/dynalite.ts';
import { harness, officialVerify, SEALING_KEY, startReceiver } from './harness.ts';

afterAll(stopDynalite);

const ROOT = join(import.meta.dirname, '..', '..');
const LEASE_MS = 60_000;

async function startChild(env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test', 'webhooks', 'worker-child.ts')], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  while (!out.includes('ready')) {
    const [chunk] = (await Promise.race([once(child.stdout!, 'data'), once(child, 'exit').then(() => [null])])) as [Buffer | null];
    if (chunk === null) throw new Error('worker child exited before it was ready');
  }
  return child;
}

it('a worker killed at several points mid-delivery loses nothing and sends nothing badly signed', { timeout: 300_000 }, async () => {
  let offset = 0;
  const h = await harness({ clock: { now: () => new Date(Date.now() + offset) }, env: { LEDGERSEAL_WEBHOOK_RETRY_SCHEDULE: '0,0,0,0,0,0,0,0' } });
  // Some requests hang (a kill finds them in flight), some fail, the rest succeed.
  const rx = await startReceiver((d) => (d.n % 5 === 0 ? 'hang' : d.n % 7 === 0 ? { status: 500 } : { status: 200 }));
  try {
    const { apiKey } = await h.agency();
    const ep = await h.endpoint(apiKey, { url: rx.url, eventTypes: ['validator.fault'] });
    const at = new Date().toISOString();
    const events: LedgerEvent[] = Array.from({ length: 300 }, (_, i) => ({
      id: `validator.fault:${i}:validator-9:refused`,
      type: 'validator.fault',
      time: at,
      data: { validator: 'validator-9', reason: 'refused', height: i, detail: 'refused' },
    }));
    await h.ts.store.putEvents(events);

    const engine = await sharedDynalite();
    const env = {
      LEDGERSEAL_TEST_DYNAMO: engine.endpoint,
      LEDGERSEAL_TEST_TABLE: h.ts.tableName,
      LEDGERSEAL_WEBHOOK_SECRET_KEYS: `${SEALING_KEY.id}:${Buffer.from(SEALING_KEY.key).toString('base64')}`,
      LEDGERSEAL_WEBHOOK_RETRY_SCHEDULE: '0,0,0,0,0,0,0,0',
      LEDGERSEAL_WEBHOOK_TIMEOUT_MS: '60000',
      LEDGERSEAL_WEBHOOK_POLL_MS: '20',
    };
    // Three workers in turn, each killed once the receiver has seen some more requests.
    for (const [i, killAfter] of [7, 60, 140].entries()) {
      const child = await startChild({ ...env, LEDGERSEAL_TEST_CLOCK_OFFSET_MS: String(i * (LEASE_MS + 1_000)) });
      await rx.until(killAfter);
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
    // Hung requests of the dead workers are answered now; the next worker's own requests succeed.
    rx.answer = () => ({ status: 200 });
    offset = 3 * (LEASE_MS + 1_000);
    await h.ledger.webhooks.drain();

    const heights = new Set<number>();
    for (const d of rx.deliveries) heights.add(officialVerify(ep.secret, d).data['height'] as number);
    expect(heights.size).toBe(300);
    expect(rx.deliveries.length).toBeGreaterThan(300); // requests in flight at a kill were sent again
    const msgs = await h.ts.store.webhooks.listMessages(ep.id, { limit: 1000 });
    expect(msgs.items).toHaveLength(300);
    expect(msgs.items.filter((m) => m.status !== 'delivered')).toEqual([]);
    expect(await h.ts.store.webhooks.listOutbox(10)).toEqual([]);
    expect(await h.ts.store.webhooks.listDue({ before: '9999-12-31T23:59:59.999Z', limit: 10 })).toEqual([]);
  } finally {
    await rx.close();
    await h.close();
  }
});
