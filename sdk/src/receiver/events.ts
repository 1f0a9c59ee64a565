/**
 * The typed webhook events (docs/protocol.md 9.6), derived from the OpenAPI
 * `webhooks` section the service publishes (openapi-typescript, generated into
 * ../client/openapi.ts): never re-declared by hand, so a new event type or a
 * changed payload reaches receivers with `npm run gen:openapi`.
 */
import type { webhooks } from '../client/openapi.ts';
import { WEBHOOK_EVENT_TYPES, type WebhookEvent } from '../webhooks.ts';

/** Each event type mapped to the body of its delivery: `{ type, timestamp, data }`. */
export type LedgersealWebhookEvents = {
  [K in keyof webhooks]: webhooks[K]['post']['requestBody']['content']['application/json'];
};

export type LedgersealWebhookEventType = keyof LedgersealWebhookEvents;

/** Every event the service sends, discriminated on `type`: `switch (event.type)` narrows `data`. */
export type LedgersealWebhookEvent = LedgersealWebhookEvents[LedgersealWebhookEventType];

/** The body of one event type: `WebhookEventOf<'anchor.confirmed'>['data']['batchId']`. */
export type WebhookEventOf<K extends LedgersealWebhookEventType> = LedgersealWebhookEvents[K];

const KNOWN: ReadonlySet<string> = new Set(WEBHOOK_EVENT_TYPES);

/** The envelope the spec recommends: an object with a string `type` and `timestamp` and an object `data`. */
export function isWebhookEnvelope(value: unknown): value is WebhookEvent<Record<string, unknown>> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const v = value as Record<string, unknown>;
  return typeof v['type'] === 'string' && typeof v['timestamp'] === 'string' && typeof v['data'] === 'object' && v['data'] !== null && !Array.isArray(v['data']);
}

/**
 * True for an envelope whose type this sdk knows. Its `data` is not checked
 * field by field: the body is authentic (verified), and the sender builds it
 * from the same schemas these types come from.
 */
export function isLedgersealWebhookEvent(value: unknown): value is LedgersealWebhookEvent {
  return isWebhookEnvelope(value) && KNOWN.has(value.type);
}
