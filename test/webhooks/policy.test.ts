/** What an attempt's answer means (functions/webhooks/policy.ts), and the jittered retry schedule. */
import { describe, expect, it } from 'vitest';
import { classify, DEFAULT_THROTTLE_MS, JITTER, MAX_THROTTLE_MS, retryDelayMs } from '../../functions/webhooks/policy.ts';

const r = (status: number | undefined, extra: { retryAfterMs?: number; error?: 'timeout' } = {}) => ({ durationMs: 1, ...(status !== undefined && { status }), ...extra });

describe('classify', () => {
  it('only 2xx is delivered; 3xx, 4xx, 5xx and no answer are failures', () => {
    for (const s of [200, 201, 202, 204, 299]) expect(classify(r(s))).toEqual({ delivered: true, gone: false });
    for (const s of [100, 199, 300, 301, 302, 304, 307, 308, 400, 401, 404, 409, 500, 503]) expect(classify(r(s))).toEqual({ delivered: false, gone: false });
    expect(classify(r(undefined, { error: 'timeout' }))).toEqual({ delivered: false, gone: false });
  });

  it('410 is gone; 429, 502 and 504 throttle, by Retry-After when given (capped at an hour)', () => {
    expect(classify(r(410))).toEqual({ delivered: false, gone: true });
    for (const s of [429, 502, 504]) expect(classify(r(s))).toEqual({ delivered: false, gone: false, throttleMs: DEFAULT_THROTTLE_MS });
    expect(classify(r(429, { retryAfterMs: 120_000 })).throttleMs).toBe(120_000);
    expect(classify(r(503, { retryAfterMs: 30_000 })).throttleMs).toBe(30_000); // any Retry-After throttles
    expect(classify(r(429, { retryAfterMs: 86_400_000 })).throttleMs).toBe(MAX_THROTTLE_MS);
    expect(classify(r(200, { retryAfterMs: 5_000 }))).toEqual({ delivered: true, gone: false }); // delivered wins
  });
});

describe('retryDelayMs', () => {
  const schedule = [5_000, 300_000, 1_800_000];
  it('follows the schedule after each failed scheduled attempt, within the jitter, then gives up', () => {
    expect(retryDelayMs(schedule, 1, () => 0.5)).toBe(5_000);
    expect(retryDelayMs(schedule, 2, () => 0)).toBe(300_000 * (1 - JITTER));
    expect(retryDelayMs(schedule, 3, () => 1)).toBe(1_800_000 * (1 + JITTER));
    expect(retryDelayMs(schedule, 4, () => 0.5)).toBeNull();
    expect(retryDelayMs([0, 0], 1, Math.random)).toBe(0);
  });
});
