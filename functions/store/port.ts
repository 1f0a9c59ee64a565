/**
 * The store port: everything the service persists, as one interface with one
 * DynamoDB adapter behind it (dynamo-store.ts; key design in README.md).
 *
 * Rules every implementation keeps (README.md "What dynalite lacks"):
 * - no transactions and no streams: each method is one conditional or idempotent
 *   write (or a batch of independent idempotent writes), so a caller killed
 *   between two calls can simply call again;
 * - hashes are Uint8Array here and binary (B) attributes in DynamoDB;
 * - an item never exceeds 400 KB: large batches spill into continuation parts.
 */
import type { WebhookStore } from './webhook-port.ts';

/** ISO 8601 / RFC 3339 UTC with milliseconds, e.g. 2026-11-22T04:32:16.123Z. */
export type Timestamp = string;

export interface Agency {
  id: string;
  name: string;
  createdAt: Timestamp;
}

export interface ApiKey {
  /** Public identifier of the key (the part of the token before the secret). */
  keyId: string;
  agencyId: string;
  /** Lowercase hex SHA-256 of the whole token; the token itself is never stored. */
  keyHash: string;
  createdAt: Timestamp;
  revokedAt?: Timestamp;
  label?: string;
}

/** Per-anchor client data, kept with the batch (never sent to validators). */
export interface AnchorEntry {
  recordKey?: string;
  metadata?: Record<string, unknown>;
}

/** One accepted POST /v1/anchors request: the unit of intake and of storage. */
export interface Batch {
  /** Time-sortable unique id (see ids.ts); anchor ids are `${batchId}.${index}`. */
  id: string;
  agencyId: string;
  arrivedAt: Timestamp;
  /** n anchors, packed: 32 * n bytes. */
  hashes: Uint8Array;
  count: number;
  /** RFC 9162 root over the anchors (leaf data = the 32-byte anchor). */
  root: Uint8Array;
  /** Same length as count when present; entries without data are {}. */
  entries?: AnchorEntry[];
  idempotencyKey?: string;
}

/** Small marker of a batch waiting for a round (what the coordinator reads). */
/** A batch the coordinator left out of every round because it cannot be read or rechecked (docs/protocol.md 7.2). */
export interface Quarantine {
  batchId: string;
  agencyId: string;
  /** What is wrong with it, in plain words. */
  reason: string;
  at: Timestamp;
}

/** Batches read by id: the ones that decode, and the ones whose stored items are damaged (with the reason). */
export interface BatchRead {
  found: Map<string, Batch>;
  /** Ids whose items exist but cannot be decoded into a batch; ids that do not exist are in neither map. */
  unreadable: Map<string, string>;
}

/** Reads of items that, once written, never change: `consistent` asks for a strongly consistent read. */
export interface ReadOptions {
  consistent: boolean;
}

export interface PendingBatch {
  batchId: string;
  agencyId: string;
  arrivedAt: Timestamp;
  root: Uint8Array;
  count: number;
}

export interface IdempotencyRecord {
  agencyId: string;
  key: string;
  /** Hex SHA-256 of the canonical request body: a different body under the same key is a conflict. */
  requestHash: string;
  batchId: string;
  createdAt: Timestamp;
}

export interface RoundMember {
  batchId: string;
  /** Owner of the batch (copied from its pending marker): scopes its anchor.confirmed event. */
  agencyId: string;
  root: Uint8Array;
  count: number;
  arrivedAt: Timestamp;
}

/** A proposed block: written once per height (first writer wins), then only read. */
export interface Proposal {
  height: number;
  proposalId: string;
  /** The block header text (docs/protocol.md 4.5). */
  header: string;
  /** The unsigned checkpoint body (C2SP tlog-checkpoint) of size height + 1. */
  checkpoint: string;
  /** Round tree leaves in order. */
  members: RoundMember[];
  createdAt: Timestamp;
}

export interface Block {
  height: number;
  header: string;
  /** The signed note of the checkpoint of size height + 1 with the quorum's signatures. */
  checkpoint: string;
  proposalId: string;
  finalizedAt: Timestamp;
  /** True once calendar nodes, batch placements, pending cleanup and events are all written. */
  settled: boolean;
}

export interface Placement {
  batchId: string;
  height: number;
  /** Index of the batch in the round tree. */
  index: number;
}

export interface CalendarNode {
  /** log2 of the width of the perfect subtree. */
  level: number;
  /** Position among the subtrees of that level (start leaf = index << level). */
  index: number;
  hash: Uint8Array;
}

export interface LedgerEvent {
  /** Deterministic id (e.g. `round.finalized:12`): writing an event twice is a no-op. */
  id: string;
  type: string;
  time: Timestamp;
  /** Owner agency for agency-scoped events (anchor.confirmed); absent for public ones. */
  agencyId?: string;
  data: Record<string, unknown>;
}

export interface ListEventsOptions {
  /** The event type: each type has its own partition of the events index. */
  type: string;
  limit: number;
  cursor?: string;
  /** Newest first (default: oldest first). */
  newestFirst?: boolean;
  /** Only events whose data has `field` equal to the string `value` (a filter within the type's partition). */
  match?: { field: string; value: string };
}

export interface Publication {
  size: number;
  root: Uint8Array;
  code: string;
  checkpoint: string;
  publishedAt: Timestamp;
}

export interface HistoryEntry {
  anchorId: string;
  hash: string;
  arrivedAt: Timestamp;
}

export interface Page<T> {
  items: T[];
  /** Opaque; pass back to get the next page. Absent on the last page. */
  cursor?: string;
}

export interface Store {
  /** Webhook endpoints, outbox, messages, retry queue, attempts and the worker lease (webhook-port.ts). */
  readonly webhooks: WebhookStore;

  // Agencies and API keys
  createAgency(agency: Agency): Promise<void>;
  getAgency(id: string): Promise<Agency | null>;
  putApiKey(key: ApiKey): Promise<void>;
  getApiKeyByHash(keyHash: string): Promise<ApiKey | null>;
  listApiKeys(agencyId: string): Promise<ApiKey[]>;
  revokeApiKey(agencyId: string, keyId: string, at: Timestamp): Promise<boolean>;

  // Intake
  /** Conditional put; returns the existing record when the key was already used. */
  claimIdempotencyKey(rec: IdempotencyRecord): Promise<{ created: true } | { created: false; existing: IdempotencyRecord }>;
  /**
   * Parts first, then the head with a conditional put: the head commits exactly
   * one version of the batch, and a batch once stored is never rewritten.
   * 'exists' when a head was already stored under this id (a replay). A batch
   * without an idempotencyKey has a fresh id that nobody else writes: its head
   * is a plain put.
   */
  putBatch(batch: Batch): Promise<'created' | 'exists'>;
  putPending(p: PendingBatch): Promise<void>;
  /** Every history entry of a batch in one call (any mix of record keys); idempotent. */
  putHistory(agencyId: string, entries: Array<{ recordKey: string } & HistoryEntry>): Promise<void>;
  /** null when absent; throws ServiceError UNREADABLE_BATCH when its stored items cannot be decoded. */
  getBatch(id: string): Promise<Batch | null>;
  /** Never throws for one damaged batch: it is reported in `unreadable`. Absent heads are read again consistently. */
  getBatches(ids: string[]): Promise<BatchRead>;
  listHistory(agencyId: string, recordKey: string, opts: { limit: number; cursor?: string }): Promise<Page<HistoryEntry>>;

  // Rounds
  /** Pending batches with arrivedAt <= before, oldest first (ties by batchId), at most limit. */
  listPending(opts: { before: Timestamp; limit: number }): Promise<PendingBatch[]>;
  deletePending(batches: Pick<PendingBatch, 'batchId' | 'arrivedAt'>[]): Promise<void>;
  /** First writer wins; returns the proposal in force for that height (ours or the earlier one). */
  putProposal(p: Proposal): Promise<Proposal>;
  getProposal(height: number): Promise<Proposal | null>;
  /** Conditional put: false when a block of that height already exists. */
  putBlock(block: Block): Promise<boolean>;
  getBlock(height: number): Promise<Block | null>;
  getLatestBlock(): Promise<Block | null>;
  /** Heights from..from+limit-1 that exist, ascending; eventually consistent unless `consistent` (the audit). */
  listBlocks(opts: { from: number; limit: number; consistent?: boolean }): Promise<Block[]>;
  markBlockSettled(height: number): Promise<void>;
  putPlacements(placements: Placement[]): Promise<void>;
  getPlacement(batchId: string, opts: ReadOptions): Promise<Placement | null>;
  /** Placements of many batches in a few bounded reads; batches without one are absent from the map. */
  getPlacements(batchIds: string[], opts: ReadOptions): Promise<Map<string, Placement>>;
  /** Idempotent: the first record of a batch stays. */
  putQuarantine(q: Quarantine): Promise<void>;
  getQuarantine(batchId: string): Promise<Quarantine | null>;
  /** Placement and quarantine record of a batch in one consistent read (what an anchor read needs). */
  getBatchState(batchId: string): Promise<{ placement: Placement | null; quarantine: Quarantine | null }>;

  // Calendar tree nodes (perfect subtrees only; derivable from block headers)
  putCalendarNodes(nodes: CalendarNode[]): Promise<void>;
  /** Found nodes in request order (missing ones left out); not `consistent`: misses are read again consistently. */
  getCalendarNodes(keys: { level: number; index: number }[], opts: ReadOptions): Promise<CalendarNode[]>;

  // Events (outbox) and publications
  /**
   * One conditional put per event id: a repeated event is a no-op, whatever its time.
   * `derived`: every field is a function of the stored ledger (settling a block), so a
   * rewrite stores identical items: written 25 per BatchWriteItem, without conditions.
   * Before any event, an outbox marker per event (webhooks.listOutbox); a repeated
   * call writes new markers, never a changed event.
   */
  putEvents(events: LedgerEvent[], opts?: { derived?: boolean }): Promise<void>;
  /** One type's events (a key condition on the events index, never a filter), by (time, id); eventually consistent. */
  listEvents(opts: ListEventsOptions): Promise<Page<LedgerEvent>>;
  /** Conditional on size: false when that size was already published. */
  putPublication(p: Publication): Promise<boolean>;
  listPublications(opts: { limit: number; cursor?: string }): Promise<Page<Publication>>;
  getLatestPublication(): Promise<Publication | null>;
}
