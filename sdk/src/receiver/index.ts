/**
 * @ledgerseal/sdk/webhooks — receive Ledgerseal webhooks (docs/protocol.md 9,
 * Standard Webhooks 1.0): typed events from the OpenAPI `webhooks` section, a
 * receiver that verifies, deduplicates by `webhook-id` and runs a handler once
 * per message, and adapters for Fetch (Hono, edge runtimes) and Node's http.
 * Nothing here imports `node:` at run time: the subpath runs in Node, edge
 * runtimes and browsers.
 */
export type { LedgersealWebhookEvent, LedgersealWebhookEvents, LedgersealWebhookEventType, WebhookEventOf } from './events.ts';
export { isLedgersealWebhookEvent } from './events.ts';
export { memoryDedupeStore, WEBHOOK_DEDUPE_MAX_IDS, WEBHOOK_DEDUPE_TTL_SECONDS, type MemoryDedupeStoreOptions, type WebhookDedupeStore } from './dedupe.ts';
export {
  createWebhookReceiver,
  WEBHOOK_MAX_BODY_BYTES,
  type ReceiveResult,
  type WebhookContext,
  type WebhookReceiver,
  type WebhookReceiverOptions,
  type WebhookRejection,
  type WebhookRequestHeaders,
} from './receiver.ts';
export { webhookFetchHandler } from './fetch.ts';
export { webhookNodeHandler } from './node.ts';
