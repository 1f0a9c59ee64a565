/**
 * Batch intake (docs/protocol.md 7.1; the batch step of the aggregation
 * chain): one accepted POST /v1/anchors request is one batch.
 *
 * Life of a request, all-or-nothing and safe to repeat (docs/protocol.md 7.1):
 * 1. (with an Idempotency-Key) claim the key with the SHA-256 of the canonical
 *    request body, the new batch id and the arrival time. A key already claimed
 *    with the same canonical body hands back its batch id and arrival time: the
 *    request is a retry and re-runs steps 2-4 for that batch (all idempotent), so
 *    a retry after a crash between steps finishes the job; with a different body
 *    it is refused (`idempotency-key-reuse`). A retry of a batch that a round
 *    already placed (read consistently) answers at once.
 * 2. write ONE batch: the packed hashes, the RFC 9162 root over them (leaf data
 *    = the 32-byte anchor), per-anchor record keys and metadata as RFC 8785
 *    canonical JSON, so the stored bytes are a function of the canonical request.
 *    The head is a conditional put: a batch once stored is never rewritten, and
 *    concurrent retries (even with their JSON keys in another order) store one
 *    batch, never a mix of two;
 * 3. write the record history entries of anchors that carry a recordKey, all of
 *    them in one store call (BatchWriteItem, 25 items per request);
 * 4. write the pending marker the round coordinator reads.
 * The caller answers 202 only after all of them succeeded. Until step 4 no
 * round can see the batch, so a request that failed half-way leaves nothing a
 * proof could ever reference; its orphan items are overwritten by a retry.
 *
 * DynamoDB write requests per POST: 2 (batch head, pending marker), +1 claim
 * with an Idempotency-Key, +1 BatchWriteItem per 25 parts of a batch over
 * 350 KB, and ceil(anchors with a recordKey / 25) BatchWriteItem for history
 * (8 in flight): 10,000 keyed anchors are 400 history requests, not 10,000.
 */
import { bytesToHex, canonicalJson, concatBytes, hashFromHex, merkleRoot, sha256, utf8 } from '@ledgerseal/sdk';
import { anchorId, newBatchId } from './ids.ts';
import type { Services } from './services.ts';
import type { AnchorEntry, Batch, HistoryEntry } from './store/port.ts';

/** Most hashes in one request (one batch). Part of the API contract. */
export const MAX_BATCH = 10_000;
/** Largest metadata object, measured as its RFC 8785 canonical JSON in UTF-8 bytes. */
export const MAX_METADATA_BYTES = 1024;
/** Longest recordKey, in Unicode code points. */
export const MAX_RECORD_KEY_LENGTH = 256;

export interface AnchorInput {
  hash: string;
  recordKey?: string;
  metadata?: Record<string, unknown>;
}

export interface IntakeRequest {
  agencyId: string;
  anchors: AnchorInput[];
  /** The Idempotency-Key header, already checked to be 1..255 visible ASCII characters. */
  idempotencyKey?: string;
}

export interface AcceptedAnchor {
  id: string;
  hash: string;
  status: 'pending';
}

export type IntakeResult =
  | { ok: true; batchId: string; arrivedAt: string; anchors: AcceptedAnchor[]; replayed: boolean }
  | { ok: false; reason: 'idempotency-key-reuse' };

/** UTF-8 length of the canonical JSON of a metadata object; Infinity if it cannot be canonicalized. */
export function metadataSize(metadata: unknown): number {
  try {
    return utf8(canonicalJson(metadata)).length;
  } catch {
    return Infinity;
  }
}

/** Hex SHA-256 of the canonical JSON of the request body: what an Idempotency-Key is bound to. */
export function requestHash(body: { anchors: AnchorInput[] }): string {
  return bytesToHex(sha256(utf8(canonicalJson(body))));
}

/** Accept one batch: see the module comment for the steps. */
export async function acceptBatch(services: Pick<Services, 'store' | 'clock'>, req: IntakeRequest): Promise<IntakeResult> {
  const { store, clock } = services;
  const n = req.anchors.length;
  if (n < 1 || n > MAX_BATCH) throw new RangeError(`a batch holds 1..${MAX_BATCH} anchors, got ${n}`);
  const leaves = req.anchors.map((a) => hashFromHex(a.hash));

  const now = clock.now();
  let batchId = newBatchId(now);
  let arrivedAt = now.toISOString();
  let replayed = false;
  if (req.idempotencyKey !== undefined) {
    const hash = requestHash({ anchors: req.anchors });
    const claim = await store.claimIdempotencyKey({ agencyId: req.agencyId, key: req.idempotencyKey, requestHash: hash, batchId, createdAt: arrivedAt });
    if (!claim.created) {
      if (claim.existing.requestHash !== hash) return { ok: false, reason: 'idempotency-key-reuse' };
      ({ batchId, createdAt: arrivedAt } = claim.existing);
      replayed = true;
    }
  }
  const anchors = req.anchors.map((a, i): AcceptedAnchor => ({ id: anchorId(batchId, i), hash: a.hash, status: 'pending' }));

  // A retry of a batch a round already placed must not write its pending marker again
  // (consistent: a stale miss would queue a confirmed batch a second time).
  if (replayed && (await store.getPlacement(batchId, { consistent: true }))) return { ok: true, batchId, arrivedAt, anchors, replayed };

  const root = merkleRoot(leaves);
  const batch: Batch = { id: batchId, agencyId: req.agencyId, arrivedAt, hashes: concatBytes(...leaves), count: n, root };
  if (req.anchors.some((a) => a.recordKey !== undefined || a.metadata !== undefined)) {
    batch.entries = req.anchors.map((a): AnchorEntry => {
      const e: AnchorEntry = {};
      if (a.recordKey !== undefined) e.recordKey = a.recordKey;
      if (a.metadata !== undefined) e.metadata = a.metadata;
      return e;
    });
  }
  if (req.idempotencyKey !== undefined) batch.idempotencyKey = req.idempotencyKey;
  await store.putBatch(batch);

  const history: Array<{ recordKey: string } & HistoryEntry> = [];
  req.anchors.forEach((a, i) => {
    if (a.recordKey !== undefined) history.push({ recordKey: a.recordKey, anchorId: anchors[i]!.id, hash: a.hash, arrivedAt });
  });
  if (history.length > 0) await store.putHistory(req.agencyId, history);

  await store.putPending({ batchId, agencyId: req.agencyId, arrivedAt, root, count: n });
  return { ok: true, batchId, arrivedAt, anchors, replayed };
}
