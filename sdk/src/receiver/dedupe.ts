/**
 * Deduplication of deliveries by `webhook-id` (docs/protocol.md 9.1: the id is
 * the same on every retry of one message, a receiver's idempotency key).
 *
 * The receiver asks `seen(id)` before running the handler and calls
 * `remember(id, ttlSeconds)` only after the handler succeeded. The default store
 * lives in the process's memory: a receiver running in several processes or
 * machines (a cluster, serverless functions) must pass a store they share
 * (Redis `SET id 1 EX ttl`, a database table with a unique key and an expiry...).
 */
import { fail } from '../errors.ts';

/** Where a receiver keeps the ids of the messages it has handled. */
export interface WebhookDedupeStore {
  /** True when `id` was remembered and has not expired. */
  seen(id: string): boolean | Promise<boolean>;
  /** Keep `id` for `ttlSeconds`. Called once the handler has succeeded. */
  remember(id: string, ttlSeconds: number): void | Promise<void>;
}

/**
 * Default time ids are kept: 24 h. A message whose handler succeeded but whose
 * 2xx the sender missed (a timeout) comes back at the next retry, at most 10 h
 * (+20 % jitter) later with the service's default schedule
 * (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h).
 */
export const WEBHOOK_DEDUPE_TTL_SECONDS = 86_400;
/** Default bound of the in-memory store (the service's ids are about 40 characters: a few MB). */
export const WEBHOOK_DEDUPE_MAX_IDS = 100_000;

export interface MemoryDedupeStoreOptions {
  /** Most ids kept; past it the oldest remembered are forgotten first. Default 100,000. */
  maxIds?: number;
  /** Clock in Unix seconds (tests); default the system clock. */
  now?: () => number;
}

/**
 * A bounded in-memory store: ids expire after their ttl, and beyond `maxIds`
 * the oldest remembered are dropped (a Map keeps insertion order, so both
 * prunes start at its front). For one process only.
 */
export function memoryDedupeStore(options: MemoryDedupeStoreOptions = {}): WebhookDedupeStore {
  const maxIds = options.maxIds ?? WEBHOOK_DEDUPE_MAX_IDS;
  if (!Number.isSafeInteger(maxIds) || maxIds < 1) fail('INVALID_ARGUMENT', 'maxIds must be a positive integer');
  const now = options.now ?? (() => Date.now() / 1000);
  /** id -> expiry (Unix seconds), oldest remembered first. */
  const expiries = new Map<string, number>();

  const prune = (t: number): void => {
    for (const [id, expiry] of expiries) {
      if (expiry > t && expiries.size <= maxIds) break;
      expiries.delete(id);
    }
  };

  return {
    seen(id) {
      const expiry = expiries.get(id);
      if (expiry === undefined) return false;
      if (expiry > now()) return true;
      expiries.delete(id);
      return false;
    },
    remember(id, ttlSeconds) {
      const t = now();
      expiries.delete(id); // re-inserted at the back: the newest
      expiries.set(id, t + ttlSeconds);
      prune(t);
    },
  };
}
