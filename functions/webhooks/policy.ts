/**
 * What an attempt's result means for the message and the endpoint
 * (docs/webhooks.md "Delivery"): only 2xx is delivered; 3xx is a failure (no
 * redirect is followed); 410 disables the endpoint; 429, 502, 504 and any
 * Retry-After throttle it. Retries follow the configured schedule (Standard
 * Webhooks: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h) with jitter.
 */
import type { SendResult } from './http-send.ts';

export interface Outcome {
  delivered: boolean;
  /** 410 Gone: the receiver asks never to be called again. */
  gone: boolean;
  /** Slow down: no attempt to this endpoint before `throttleMs` from now. */
  throttleMs?: number;
}

/** Longest pause a receiver can ask for with Retry-After. */
export const MAX_THROTTLE_MS = 3_600_000;
/** Pause after 429/502/504 without Retry-After. */
export const DEFAULT_THROTTLE_MS = 5_000;
/** Retry delays vary by up to this fraction either way, so that failed messages do not come back in lockstep. */
export const JITTER = 0.2;

const THROTTLING = new Set([429, 502, 504]);

export function classify(r: SendResult): Outcome {
  const status = r.status;
  const delivered = status !== undefined && status >= 200 && status <= 299;
  const outcome: Outcome = { delivered, gone: status === 410 };
  if (!delivered && (r.retryAfterMs !== undefined || (status !== undefined && THROTTLING.has(status)))) {
    outcome.throttleMs = Math.min(MAX_THROTTLE_MS, r.retryAfterMs ?? DEFAULT_THROTTLE_MS);
  }
  return outcome;
}

/**
 * Delay before the next scheduled attempt after `made` scheduled attempts
 * (1 = the first attempt failed), or null when the schedule is exhausted.
 */
export function retryDelayMs(scheduleMs: readonly number[], made: number, random: () => number): number | null {
  const base = scheduleMs[made - 1];
  if (base === undefined) return null;
  return Math.round(base * (1 + JITTER * (2 * random() - 1)));
}
