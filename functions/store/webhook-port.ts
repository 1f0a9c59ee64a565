/**
 * The webhook part of the store port (issue 8, docs/webhooks.md): endpoints,
 * the outbox markers the delivery worker drains, payloads, messages (one per
 * event and endpoint), due entries (the retry queue), attempts and the worker
 * lease. Same rules as port.ts: no transactions, every method is one
 * conditional write or independent idempotent writes, and every read that a
 * decision depends on is strongly consistent (no index reads here).
 *
 * Expiry: items that expire carry `expiresAt`; the adapter stores it as the
 * table's `ttl` (epoch seconds) so that DynamoDB deletes them. dynalite never
 * deletes, and DynamoDB's TTL deletion may lag by days, so callers treat an
 * item whose expiresAt is past as absent (the adapter returns it as stored).
 */
import type { LedgerEvent, Page, Timestamp } from './port.ts';

/** A signing secret, sealed (functions/webhooks/secret-box.ts): the table alone does not reveal it. */
export interface WebhookSecret {
  sealed: string;
  createdAt: Timestamp;
  /** Set on the previous secret after a rotation: it keeps signing until then. */
  expiresAt?: Timestamp;
}

export type EndpointStatus = 'enabled' | 'disabled';

export interface WebhookEndpoint {
  /** `ep_` + 26 Crockford base32 characters. */
  id: string;
  agencyId: string;
  url: string;
  description?: string;
  /** Absent: every event type. */
  eventTypes?: string[];
  status: EndpointStatus;
  /** Why and when it was disabled (status 'disabled' only). */
  disabledReason?: string;
  disabledAt?: Timestamp;
  /** Newest first: one, or two during a rotation's grace period. */
  secrets: WebhookSecret[];
  /** Start of the current run of failed attempts; absent after a success. */
  failingSince?: Timestamp;
  /** The receiver asked to slow down (429, 502, 504, Retry-After): no attempt before this. */
  throttledUntil?: Timestamp;
  createdAt: Timestamp;
  updatedAt: Timestamp;
}

/**
 * Fields an update may change. `null` removes an optional field. The update
 * touches only the fields given, so the API and the worker never overwrite
 * each other's fields.
 */
export interface EndpointPatch {
  url?: string;
  description?: string | null;
  eventTypes?: string[] | null;
  status?: EndpointStatus;
  disabledReason?: string | null;
  disabledAt?: Timestamp | null;
  secrets?: WebhookSecret[];
  failingSince?: Timestamp | null;
  throttledUntil?: Timestamp | null;
  updatedAt: Timestamp;
}

/** Conditions of an endpoint update; a failed condition makes updateEndpoint return null. */
export interface EndpointExpect {
  /** The endpoint's status must be this. */
  status?: EndpointStatus;
  /** failingSince must equal this (null: must be absent). */
  failingSince?: Timestamp | null;
}

/** A marker that an event still has to be fanned out to endpoints. Written before its event. */
export interface OutboxEntry {
  eventId: string;
  /** 0..7, from the event id (same hash as the pending shards). */
  shard: number;
  writtenAt: Timestamp;
}

/** The exact body sent for one webhook event (the same bytes to every endpoint and on every retry). */
export interface WebhookPayload {
  /** The webhook-id header. */
  msgId: string;
  /** The webhook event id, e.g. `batch.confirmed:<batchId>`. */
  eventId: string;
  type: string;
  /** JSON text: {"type","timestamp","data"}. */
  body: string;
  createdAt: Timestamp;
  expiresAt: Timestamp;
}

export type MessageStatus = 'pending' | 'delivered' | 'failed';
export type AttemptTrigger = 'scheduled' | 'manual';

/** What one attempt did (kept in the message's history and as its own item for the endpoint's listing). */
export interface AttemptResult {
  at: Timestamp;
  /** 1-based number of this attempt for this message and endpoint. */
  attempt: number;
  trigger: AttemptTrigger;
  outcome: 'delivered' | 'failed';
  /** The receiver's HTTP status, when it answered. */
  httpStatus?: number;
  durationMs: number;
  /** Why it failed when there is no status or the status does not say (timeout, refused target...). */
  error?: string;
  /** The first bytes of the response body, as text (capped). */
  responseExcerpt?: string;
}

/** One event for one endpoint. */
export interface WebhookMessage {
  endpointId: string;
  agencyId: string;
  msgId: string;
  eventId: string;
  type: string;
  eventTime: Timestamp;
  createdAt: Timestamp;
  status: MessageStatus;
  /** Attempts made so far, manual ones included. */
  attempts: number;
  /** Attempts made on the retry schedule (the position in it); manual resends do not count. */
  scheduledAttempts: number;
  /** When the next attempt is due (status 'pending'). */
  nextAttemptAt?: Timestamp;
  deliveredAt?: Timestamp;
  /** The most recent attempts, oldest first (at most 20). */
  history: AttemptResult[];
  expiresAt: Timestamp;
}

export interface WebhookAttempt extends AttemptResult {
  endpointId: string;
  agencyId: string;
  msgId: string;
  type: string;
  expiresAt: Timestamp;
}

/** An entry of the retry queue: the message is due for an attempt at dueAt. */
export interface DueEntry {
  dueAt: Timestamp;
  endpointId: string;
  msgId: string;
  /** A resend asked for through the API: attempted once whatever the message's state, off the schedule. */
  manual?: boolean;
}

export interface MessageKey {
  endpointId: string;
  msgId: string;
}

export interface WebhookStore {
  // Endpoints (one partition: WHEP / <agencyId>#<endpointId>)
  /** Conditional put: false when the agency already has an endpoint with this id (ids are random, so unique in practice). */
  createEndpoint(ep: WebhookEndpoint): Promise<boolean>;
  /** Consistent; null when absent or owned by another agency. */
  getEndpoint(agencyId: string, id: string): Promise<WebhookEndpoint | null>;
  /** Consistent; every agency's endpoints when agencyId is undefined. Ordered by (agencyId, id). */
  listEndpoints(agencyId?: string): Promise<WebhookEndpoint[]>;
  /** The updated endpoint; null when absent or when `expect` does not hold. */
  updateEndpoint(agencyId: string, id: string, patch: EndpointPatch, expect?: EndpointExpect): Promise<WebhookEndpoint | null>;
  /** false when absent. Its messages and attempts expire on their own. */
  deleteEndpoint(agencyId: string, id: string): Promise<boolean>;

  // Outbox (written by putEvents of the main store, marker first)
  /**
   * Oldest writtenAt first over every shard, consistent, at most limit; with
   * `after` (`<writtenAt>#<eventId>`), only markers that sort after it.
   */
  listOutbox(limit: number, after?: string): Promise<OutboxEntry[]>;
  /** Consistent BatchGet of events by id; absent ids are not in the map. */
  getEvents(ids: string[]): Promise<Map<string, LedgerEvent>>;
  deleteOutbox(entries: OutboxEntry[]): Promise<void>;

  // Payloads (WHPAY#<msgId>)
  putPayloads(payloads: WebhookPayload[]): Promise<void>;
  /** Consistent; keyed by msgId. */
  getPayloads(msgIds: string[]): Promise<Map<string, WebhookPayload>>;

  // Messages (WHMSG#<endpointId> / <msgId>; msgIds sort by event time)
  /** Plain puts, 25 per BatchWriteItem: the caller owns the message (worker lease) or creates it. */
  putMessages(messages: WebhookMessage[]): Promise<void>;
  /** Consistent; keyed by `${endpointId}/${msgId}`. */
  getMessages(keys: MessageKey[]): Promise<Map<string, WebhookMessage>>;
  /** Consistent; `from`: the smallest msgId listed (or largest, newest first); status is a filter. */
  listMessages(
    endpointId: string,
    opts: { limit: number; cursor?: string; status?: MessageStatus; from?: string; newestFirst?: boolean },
  ): Promise<Page<WebhookMessage>>;

  // The retry queue (WHDUE#<shard 0-7> / <dueAt>#<endpointId>#<msgId>)
  putDue(entries: DueEntry[]): Promise<void>;
  deleteDue(entries: DueEntry[]): Promise<void>;
  /** Entries with dueAt <= before, oldest first over every shard, consistent, at most limit. */
  listDue(opts: { before: Timestamp; limit: number }): Promise<DueEntry[]>;

  // Attempts (WHATT#<endpointId> / <at>#<msgId>#<attempt 4>)
  putAttempts(attempts: WebhookAttempt[]): Promise<void>;
  /** Newest first, consistent; `msgId` filters to one message. */
  listAttempts(endpointId: string, opts: { limit: number; cursor?: string; msgId?: string }): Promise<Page<WebhookAttempt>>;

  // The delivery worker's lease (one worker drains at a time)
  /** Conditional: true when `owner` now holds the lease until `untilMs` (free, expired at nowMs, or already its own). */
  acquireLease(name: string, owner: string, nowMs: number, untilMs: number): Promise<boolean>;
  /** Gives the lease up if `owner` holds it. */
  releaseLease(name: string, owner: string): Promise<void>;
}
