/**
 * POST /v1/verify is public, so its cost is bounded (functions/api/verify.ts,
 * docs/api.md "Verify"): a token bucket per client address and one shared by
 * all addresses, a body limit, and limits on the record's size and depth. A
 * flood gets 429s after a fixed amount of work, never a backlog that competes
 * with the rounds of the same process. Time is the fixture's clock.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VERIFY_MAX_BODY_BYTES, VERIFY_MAX_RECORD_BYTES, VERIFY_MAX_RECORD_DEPTH } from '../../functions/api/verify.ts';
import { stopDynalite } from '../helpers/dynalite.ts';
import { type Fixture, fixture, PROBLEM, problem } from './setup.ts';

afterAll(stopDynalite);

const proof = { format: 'ledgerseal-proof/v1' }; // malformed: verification answers ok false, cheaply

describe('POST /v1/verify cost bounds', () => {
  let f: Fixture;
  beforeAll(async () => {
    f = await fixture({
      config: { verifyLimit: { perSecond: 1, burst: 3, globalPerSecond: 5 } },
      clientAddress: (c) => c.req.header('x-test-client'),
    });
  });
  afterAll(() => f.close());

  const verify = (client: string, body: unknown = { proof }) => f.call('POST', '/v1/verify', { body, headers: { 'x-test-client': client } });

  it('a burst per client address, then 429 with Retry-After; a budget shared by all addresses; both refill with time', async () => {
    const a = await Promise.all(Array.from({ length: 5 }, () => verify('203.0.113.1')));
    expect(a.map((r) => r.status)).toEqual([200, 200, 200, 429, 429]);
    const limited = await problem(a[3]!);
    expect(limited.body).toMatchObject({ type: `${PROBLEM}rate-limited`, detail: expect.stringMatching(/from this address/) });
    expect(a[3]!.headers.get('retry-after')).toBe('1');
    // Another address has its own burst, but only 2 of the 5 shared tokens are left.
    const b = await Promise.all(Array.from({ length: 3 }, () => verify('203.0.113.2')));
    expect(b.map((r) => r.status)).toEqual([200, 200, 429]);
    expect((await problem(b[2]!)).body.detail).toMatch(/busy/);
    // A flood from many addresses does no more work than the shared budget.
    const flood = await Promise.all(Array.from({ length: 200 }, (_, i) => verify(`198.51.100.${i}`)));
    expect(flood.filter((r) => r.status === 200)).toHaveLength(0);
    f.clock.advance(1_000);
    expect((await verify('203.0.113.1')).status).toBe(200);
  });

  it('bounds the body, the record size and its depth', async () => {
    f.clock.advance(60_000);
    const big = await problem(await verify('192.0.2.1', { proof, padding: 'x'.repeat(VERIFY_MAX_BODY_BYTES) }));
    expect(big.status).toBe(413);
    expect(big.body.detail).toContain(String(VERIFY_MAX_BODY_BYTES));

    f.clock.advance(60_000);
    const mask = 'ab'.repeat(32);
    const large = await problem(await verify('192.0.2.2', { proof, record: { text: 'x'.repeat(VERIFY_MAX_RECORD_BYTES) }, mask }));
    expect(large.status).toBe(400);
    expect(large.body.errors[0]).toMatchObject({ path: '/record', message: expect.stringContaining(`${VERIFY_MAX_RECORD_BYTES} bytes`) });

    let deep: unknown = 1;
    for (let i = 0; i <= VERIFY_MAX_RECORD_DEPTH; i++) deep = [deep];
    const nested = await problem(await verify('192.0.2.3', { proof, record: deep, mask }));
    expect(nested.status).toBe(400);
    expect(nested.body.errors[0]).toMatchObject({ path: '/record', message: expect.stringContaining(`${VERIFY_MAX_RECORD_DEPTH} levels`) });

    let ok: unknown = 1;
    for (let i = 0; i < VERIFY_MAX_RECORD_DEPTH; i++) ok = [ok];
    const shallow = await verify('192.0.2.4', { proof, record: ok, mask });
    expect(shallow.status).toBe(200);
  });
});
