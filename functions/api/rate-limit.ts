/**
 * Per-key rate limiting: one token bucket per API key id, kept in memory.
 *
 * A bucket holds at most `burst` tokens and refills `perSecond` tokens per
 * second; each request takes one. An empty bucket answers 429 `rate-limited`
 * with `Retry-After` (RFC 9110 section 10.2.3, whole seconds). Every limited
 * response also carries the RateLimit fields of
 * draft-ietf-httpapi-ratelimit-headers-10:
 *
 *     RateLimit-Policy: "per-key";q=<burst>;w=<seconds to refill an empty bucket>
 *     RateLimit: "per-key";r=<tokens left>;t=<seconds until the bucket is full>
 *
 * The state lives in the process: in AWS Lambda every warm instance has its
 * own buckets, so the effective limit is per instance (N instances allow up to
 * N times the rate). Put API Gateway throttling or a WAF rule in front for a
 * hard global limit; this limiter is a fairness guard, not a quota.
 */
import type { MiddlewareHandler } from 'hono';
import { ApiError } from './problem.ts';
import type { AppEnv } from './schemas.ts';

export interface RateLimitOptions {
  /** Refill rate in tokens per second; 0 disables limiting. */
  perSecond: number;
  /** Bucket capacity. */
  burst: number;
  /** Milliseconds clock (tests inject one). */
  now?: () => number;
  /** Buckets kept at most; idle (full) buckets are dropped first. Default 10,000. */
  maxBuckets?: number;
}

export interface TakeResult {
  ok: boolean;
  /** Whole tokens left after this request. */
  remaining: number;
  /** Seconds until a token is available (0 when ok). */
  retryAfter: number;
  /** Seconds until the bucket is full again. */
  reset: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/** A token-bucket limiter keyed by string. Throws at construction on bad options. */
export function tokenBuckets(options: RateLimitOptions) {
  const { perSecond, burst } = options;
  if (!(perSecond >= 0) || !Number.isFinite(perSecond)) throw new RangeError('perSecond must be a finite number >= 0');
  if (!Number.isInteger(burst) || burst < 1) throw new RangeError('burst must be an integer >= 1');
  const now = options.now ?? (() => Date.now());
  const maxBuckets = options.maxBuckets ?? 10_000;
  const buckets = new Map<string, Bucket>();

  const refill = (b: Bucket, t: number): void => {
    b.tokens = Math.min(burst, b.tokens + ((t - b.at) / 1000) * perSecond);
    b.at = t;
  };

  const evict = (t: number): void => {
    for (const [k, b] of buckets) {
      refill(b, t);
      if (b.tokens >= burst) buckets.delete(k);
    }
    // Still full of busy keys: drop the oldest entries (Map keeps insertion order).
    for (const k of buckets.keys()) {
      if (buckets.size < maxBuckets) break;
      buckets.delete(k);
    }
  };

  return {
    enabled: perSecond > 0,
    policy: `"per-key";q=${burst};w=${perSecond > 0 ? Math.ceil(burst / perSecond) : 0}`,
    take(key: string): TakeResult {
      const t = now();
      let b = buckets.get(key);
      if (!b) {
        if (buckets.size >= maxBuckets) evict(t);
        b = { tokens: burst, at: t };
        buckets.set(key, b);
      } else {
        refill(b, t);
      }
      const ok = b.tokens >= 1;
      if (ok) b.tokens -= 1;
      return {
        ok,
        remaining: Math.floor(b.tokens),
        retryAfter: ok ? 0 : Math.max(1, Math.ceil((1 - b.tokens) / perSecond)),
        reset: Math.ceil((burst - b.tokens) / perSecond),
      };
    },
    size: () => buckets.size,
  };
}

export type TokenBuckets = ReturnType<typeof tokenBuckets>;

/** Middleware: limit by the authenticated key id (run it after an auth middleware). */
export function rateLimit(limiter: TokenBuckets): MiddlewareHandler<AppEnv> {
  return async function rateLimit(c, next) {
    if (!limiter.enabled) return next();
    const key = c.get('keyId') ?? 'anonymous';
    const r = limiter.take(key);
    const headers = { 'ratelimit-policy': limiter.policy, ratelimit: `"per-key";r=${r.remaining};t=${r.reset}` };
    if (!r.ok) {
      throw new ApiError('rate-limited', `rate limit exceeded for this key; retry in ${r.retryAfter} s`, {
        headers: { ...headers, 'retry-after': String(r.retryAfter) },
      });
    }
    await next();
    for (const [k, v] of Object.entries(headers)) c.res.headers.set(k, v);
  };
}
