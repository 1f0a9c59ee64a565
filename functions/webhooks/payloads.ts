/**
 * From ledger events (the outbox, functions/ledger/events.ts) to webhook events
 * and the exact bodies sent (docs/webhooks.md "Events"). One ledger event gives
 * one webhook event of the same type, except `anchor.confirmed:<batchId>`,
 * which gives `anchor.confirmed` (per-anchor ids, record keys, proofs) and
 * `batch.confirmed` (the batch root and its proof). The schemas of every body
 * are in functions/api/webhook-events.ts (the OpenAPI `webhooks` section).
 *
 * Message ids (the webhook-id header) are derived, never drawn: `msg_` + the
 * event time (10 Crockford base32 characters, so ids sort by event time) + 16
 * characters of SHA-256(webhook event id). A re-run of any step yields the same
 * id, which is what receivers deduplicate by.
 */
import { batchProofs, bytesToHex, sha256, utf8 } from '@ledgerseal/sdk';
import { newTimeId } from '../ids.ts';
import { batchRootProof } from '../ledger/proofs.ts';
import type { LedgerEvent, Store, Timestamp } from '../store/port.ts';

/** Bodies larger than this send `anchor.confirmed` without proofs, then without the list (issue 8). */
export const MAX_INLINE_BODY_BYTES = 20 * 1024;

export interface WebhookEvent {
  /** `<type>:<key>`, e.g. `batch.confirmed:01KB...`. */
  id: string;
  type: string;
  time: Timestamp;
  /** Agency-scoped events go to that agency's endpoints only; the others to every endpoint. */
  agencyId?: string;
  data: Record<string, unknown>;
}

/** Ledger event types delivered as they are (their data is the webhook data). */
const PASS_THROUGH = new Set([
  'round.finalized',
  'checkpoint.published',
  'publication.created',
  'validator.fault',
  'batch.quarantined',
  'endpoint.disabled',
]);

/** The webhook-id of a webhook event: time-sortable, derived from its id. */
export function messageId(eventId: string, time: Timestamp): string {
  const digest = sha256(utf8(eventId));
  return `msg_${newTimeId(new Date(time), (n) => digest.subarray(0, n))}`;
}

/** The smallest message id of events at or after `time` (listing messages since a time). */
export function messageIdFloor(time: Timestamp): string {
  return `msg_${newTimeId(new Date(time), (n) => new Uint8Array(n))}`;
}

/** The body sent for an event: the Standard Webhooks envelope, compact JSON. */
export function envelope(e: Pick<WebhookEvent, 'type' | 'time' | 'data'>): string {
  return JSON.stringify({ type: e.type, timestamp: e.time, data: e.data });
}

export interface PayloadContext {
  store: Store;
  origin: string;
  /** Public base URL of the API (no trailing slash), or null: links are then paths. */
  publicUrl: string | null;
}

/**
 * The webhook events of one ledger event; 'not-ready' while a confirmed batch's
 * proof cannot be served yet (its block is not settled: the next pass retries).
 * Unknown types give none.
 */
export async function webhookEventsOf(event: LedgerEvent, ctx: PayloadContext): Promise<WebhookEvent[] | 'not-ready'> {
  if (PASS_THROUGH.has(event.type)) {
    return [{ id: event.id, type: event.type, time: event.time, ...(event.agencyId !== undefined && { agencyId: event.agencyId }), data: event.data }];
  }
  if (event.type === 'anchor.confirmed') return confirmedBatchEvents(event, ctx);
  return [];
}

async function confirmedBatchEvents(event: LedgerEvent, ctx: PayloadContext): Promise<WebhookEvent[] | 'not-ready'> {
  const batchId = String(event.data['batchId']);
  const batch = await ctx.store.getBatch(batchId);
  if (!batch) throw new Error(`anchor.confirmed for batch ${batchId}, which does not exist`);
  const proof = await batchRootProof(ctx.store, ctx.origin, batch);
  if (!proof) return 'not-ready';
  const batchUrl = `${ctx.publicUrl ?? ''}/v1/batches/${batchId}?include=anchors`;
  const common = {
    batchId,
    height: event.data['height'],
    roundIndex: event.data['roundIndex'],
    anchors: event.data['anchors'],
  };
  const scope = { time: event.time, agencyId: batch.agencyId };
  const batchConfirmed: WebhookEvent = {
    id: `batch.confirmed:${batchId}`,
    type: 'batch.confirmed',
    ...scope,
    data: { ...common, root: bytesToHex(batch.root), proof, batchUrl },
  };

  const hashes = Array.from({ length: batch.count }, (_, i) => batch.hashes.subarray(i * 32, (i + 1) * 32));
  const items = hashes.map((h, i) => {
    const recordKey = batch.entries?.[i]?.recordKey;
    return { id: `${batchId}.${i}`, hash: bytesToHex(h), ...(recordKey !== undefined && { recordKey }) };
  });
  const anchorConfirmed = (data: Record<string, unknown>): WebhookEvent => ({ id: `anchor.confirmed:${batchId}`, type: 'anchor.confirmed', ...scope, data });
  const fits = (e: WebhookEvent): boolean => Buffer.byteLength(envelope(e)) <= MAX_INLINE_BODY_BYTES;

  // Proofs inline only when they can fit: each is at least the checkpoint and block header long.
  const withoutProofs = anchorConfirmed({ ...common, items, proofsIncluded: false, batchUrl });
  const proofBytes = JSON.stringify(proof).length;
  if (fits(withoutProofs) && proofBytes * batch.count <= MAX_INLINE_BODY_BYTES) {
    const derive = batchProofs(proof, hashes);
    const full = anchorConfirmed({ ...common, items: items.map((it, i) => ({ ...it, proof: derive.proofAt(i) })), proofsIncluded: true, batchUrl });
    if (fits(full)) return [full, batchConfirmed];
  }
  if (fits(withoutProofs)) return [withoutProofs, batchConfirmed];
  return [anchorConfirmed({ ...common, proofsIncluded: false, batchUrl }), batchConfirmed];
}

/** A random id with a prefix (`ep_`, test event keys): 26 Crockford base32 characters. */
export function randomId(prefix: string, now: Date): string {
  return `${prefix}${newTimeId(now)}`;
}
