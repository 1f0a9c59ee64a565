/**
 * The receiving side of Ledgerseal webhooks (docs/protocol.md 9; Standard
 * Webhooks 1.0): verify, deduplicate by `webhook-id`, run the handler, remember.
 *
 * Delivery is at least once: the sender retries every message until some
 * attempt is answered 2xx. So, in order:
 *
 * 1. `verifyWebhook` checks the headers, the signature (any of the secrets:
 *    rotation), the timestamp and the JSON body; a failure is `invalid` with
 *    its code (answer 400: the sender retries with fresh headers);
 * 2. an id whose handler is still running here is `in-flight` (answer 409: the
 *    sender retries later, when the first run has either succeeded, and the
 *    retry is a duplicate, or failed, and the retry runs the handler again);
 * 3. an id the store has seen is a `duplicate` (answer 2xx);
 * 4. a type this sdk does not know is `ignored` (answer 2xx: the spec asks
 *    receivers to ignore new types);
 * 5. the handler runs; only when it resolves is the id remembered, so a
 *    handler that throws makes `receive` reject (answer 5xx) and the retry runs
 *    it again.
 *
 * The in-flight set is per receiver object; across processes only the shared
 * store deduplicates, after the fact, so handlers should still be idempotent.
 */
import { LedgersealError, fail, type ErrorCode } from '../errors.ts';
import { verifyWebhook } from '../webhooks.ts';
import { memoryDedupeStore, WEBHOOK_DEDUPE_TTL_SECONDS, type WebhookDedupeStore } from './dedupe.ts';
import { isLedgersealWebhookEvent, isWebhookEnvelope, type LedgersealWebhookEvent } from './events.ts';

/** Default largest body read by the HTTP adapters: 1 MiB (the service's bodies stay under about 20 kB). */
export const WEBHOOK_MAX_BODY_BYTES = 1_048_576;

/** Request headers as Fetch (`Headers`) or Node (`IncomingHttpHeaders`) give them. */
export type WebhookRequestHeaders = Headers | Record<string, string | string[] | undefined>;

/** Why a delivery was refused: the codes of `verifyWebhook`'s request checks. */
export type WebhookRejection = Extract<ErrorCode, 'WEBHOOK_MISSING_HEADERS' | 'WEBHOOK_TIMESTAMP' | 'WEBHOOK_SIGNATURE' | 'WEBHOOK_PAYLOAD'>;
const REJECTIONS: ReadonlySet<ErrorCode> = new Set<WebhookRejection>(['WEBHOOK_MISSING_HEADERS', 'WEBHOOK_TIMESTAMP', 'WEBHOOK_SIGNATURE', 'WEBHOOK_PAYLOAD']);

export interface WebhookContext {
  /** `webhook-id`: the message id, the same on every retry. */
  id: string;
  /** `webhook-timestamp`: Unix seconds of this attempt (the event's own time is `event.timestamp`). */
  timestamp: number;
}

export interface WebhookReceiverOptions {
  /** The endpoint's secret (`whsec_...`), or several during a rotation: one match is enough. */
  secret: string | readonly string[];
  /** Runs once per message id; throw (or reject) to have the message delivered again later. */
  onEvent: (event: LedgersealWebhookEvent, ctx: WebhookContext) => void | Promise<void>;
  /** Where handled ids are kept. Default: in this process's memory (memoryDedupeStore); pass a shared store when several processes receive. */
  dedupe?: WebhookDedupeStore;
  /** How long a handled id is remembered. Default 24 h. */
  dedupeTtlSeconds?: number;
  /** Accepted clock difference with the sender, either way. Default 300 s. */
  toleranceSeconds?: number;
  /** Clock in Unix seconds (tests); default the system clock. */
  now?: () => number;
  /** Largest body the HTTP adapters read (413 beyond). Default 1 MiB. */
  maxBodyBytes?: number;
  /**
   * Failures the sender is not told about in detail: a handler or store error
   * behind a 500, and a store that could not remember a handled id (the delivery
   * is still acknowledged). Default: console.error.
   */
  onError?: (error: unknown, ctx: { id: string | null }) => void;
}

export type ReceiveResult =
  /** Verified, new, and the handler succeeded: answer 2xx. */
  | { status: 'accepted'; id: string; event: LedgersealWebhookEvent }
  /** Handled before (or by another process sharing the store): answer 2xx. */
  | { status: 'duplicate'; id: string }
  /** The same id's handler is running now: answer 409 so the sender retries later. */
  | { status: 'in-flight'; id: string }
  /** Authentic, but of a type this sdk does not know: answer 2xx, the handler was not called. */
  | { status: 'ignored'; id: string; type: string }
  /** Not a valid delivery: answer 400. `message` is for logs; it names no secret. */
  | { status: 'invalid'; error: WebhookRejection; message: string };

export interface WebhookReceiver {
  /**
   * Handle one delivery: the headers and the raw body exactly as received.
   * Rejects when the handler (or the dedupe store's `seen`) fails: answer 5xx.
   */
  receive(headers: WebhookRequestHeaders, rawBody: string | Uint8Array): Promise<ReceiveResult>;
  /** The resolved `maxBodyBytes`, for adapters. */
  readonly maxBodyBytes: number;
}

/**
 * The options' onError, or console.error; shared with the adapters, which report
 * their 500s through it. A reporter that throws does not change the answer.
 */
export function errorReporter(options: Pick<WebhookReceiverOptions, 'onError'>): (error: unknown, ctx: { id: string | null }) => void {
  const report = options.onError ?? ((error, ctx) => console.error(`ledgerseal webhook receiver${ctx.id === null ? '' : ` (webhook-id ${ctx.id})`}:`, error));
  return (error, ctx) => {
    try {
      report(error, ctx);
    } catch {
      // the reporter's own failure has nowhere better to go
    }
  };
}

function positiveInteger(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isSafeInteger(v) || v < 1) fail('INVALID_ARGUMENT', `${name} must be a positive integer`);
  return v;
}

/** One header's value, as verifyWebhook read it (present and single once verification passed). */
function header(headers: WebhookRequestHeaders, name: string): string {
  if (typeof Headers !== 'undefined' && headers instanceof Headers) return headers.get(name)?.trim() ?? '';
  for (const [k, v] of Object.entries(headers)) {
    if (k.toLowerCase() !== name) continue;
    const first = (Array.isArray(v) ? v : [v]).find((x) => typeof x === 'string' && x.trim() !== '');
    if (first !== undefined) return first.trim();
  }
  return '';
}

/** Misconfiguration fails here, not on the first delivery. */
export function createWebhookReceiver(options: WebhookReceiverOptions): WebhookReceiver {
  if (typeof options !== 'object' || options === null) fail('INVALID_ARGUMENT', 'options are required');
  const { secret, onEvent, toleranceSeconds } = options;
  if (typeof onEvent !== 'function') fail('INVALID_ARGUMENT', 'onEvent must be a function');
  const now = options.now ?? (() => Math.floor(Date.now() / 1000));
  const ttl = positiveInteger('dedupeTtlSeconds', options.dedupeTtlSeconds, WEBHOOK_DEDUPE_TTL_SECONDS);
  const maxBodyBytes = positiveInteger('maxBodyBytes', options.maxBodyBytes, WEBHOOK_MAX_BODY_BYTES);
  const store = options.dedupe ?? memoryDedupeStore({ now });
  if (typeof store.seen !== 'function' || typeof store.remember !== 'function') fail('INVALID_ARGUMENT', 'dedupe must have seen(id) and remember(id, ttlSeconds)');
  const onError = errorReporter(options);
  const verifyOptions = toleranceSeconds === undefined ? {} : { toleranceSeconds };
  // verifyWebhook checks the secrets and options before the request: probe it with an empty one.
  try {
    verifyWebhook(secret, {}, '', { ...verifyOptions, now: 0 });
  } catch (e) {
    if (!(e instanceof LedgersealError) || e.code !== 'WEBHOOK_MISSING_HEADERS') throw e;
  }
  /** Ids whose handler is running now. */
  const inFlight = new Set<string>();

  async function receive(headers: WebhookRequestHeaders, rawBody: string | Uint8Array): Promise<ReceiveResult> {
    let body: unknown;
    try {
      body = verifyWebhook(secret, headers, rawBody, { ...verifyOptions, now: now() });
    } catch (e) {
      if (e instanceof LedgersealError && REJECTIONS.has(e.code)) return { status: 'invalid', error: e.code as WebhookRejection, message: e.message };
      throw e;
    }
    if (!isWebhookEnvelope(body)) return { status: 'invalid', error: 'WEBHOOK_PAYLOAD', message: 'webhook body is not a {"type", "timestamp", "data"} event' };
    const id = header(headers, 'webhook-id');
    const timestamp = Number(header(headers, 'webhook-timestamp'));

    // Claimed before the first await, so a concurrent delivery of this id sees it.
    if (inFlight.has(id)) return { status: 'in-flight', id };
    inFlight.add(id);
    try {
      if (await store.seen(id)) return { status: 'duplicate', id };
      if (!isLedgersealWebhookEvent(body)) return { status: 'ignored', id, type: body.type };
      await onEvent(body, { id, timestamp });
      try {
        await store.remember(id, ttl);
      } catch (e) {
        // Handled: acknowledging it is right; a 5xx would make the sender deliver it again.
        onError(e, { id });
      }
      return { status: 'accepted', id, event: body };
    } finally {
      inFlight.delete(id);
    }
  }

  return { receive, maxBodyBytes };
}
