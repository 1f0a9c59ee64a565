/**
 * Anchor routes (agency key): submit a batch of hashes, read one anchor with
 * its proof, list the anchors of one record. See intake.ts for the batch
 * lifecycle and docs/protocol.md 6 for the proof document.
 *
 * An agency only ever sees its own anchors: another agency's anchor id gets
 * the same 404 as an id that does not exist, so ids reveal nothing.
 */
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { isBatchId, parseAnchorId } from '../ids.ts';
import { acceptBatch, MAX_BATCH, MAX_METADATA_BYTES, MAX_RECORD_KEY_LENGTH, metadataSize } from '../intake.ts';
import { readAnchor, readBatch } from '../ledger/proofs.ts';
import type { Services } from '../services.ts';
import { requireAgency } from './auth.ts';
import { ApiError, problemResponses } from './problem.ts';
import { rateLimit, type TokenBuckets } from './rate-limit.ts';
import { type AppEnv, agencyOf, Cursor, HashHex, limitParam, SECURITY, Timestamp } from './schemas.ts';

export const RecordKey = z
  .string()
  .regex(
    new RegExp(`^[^\\p{Cc}\\p{Cs}]{1,${MAX_RECORD_KEY_LENGTH}}$`, 'u'),
    `must be 1..${MAX_RECORD_KEY_LENGTH} characters without control characters`,
  )
  .openapi('RecordKey', {
    description: `The agency's own key of the record (a primary key, a file path): 1..${MAX_RECORD_KEY_LENGTH} Unicode characters, no control characters`,
    example: 'parcel/2024/00017',
  });

const Metadata = z
  .record(z.string(), z.unknown())
  .refine((m) => metadataSize(m) <= MAX_METADATA_BYTES, `must be at most ${MAX_METADATA_BYTES} bytes as RFC 8785 canonical JSON`)
  .openapi({ description: `Free JSON object kept with the anchor, at most ${MAX_METADATA_BYTES} bytes as RFC 8785 canonical JSON. Never sent to validators.` });

const AnchorInput = z
  .strictObject({
    hash: HashHex.openapi({ description: 'The anchor: SHA-256(mask || digest), computed by the SDK (docs/protocol.md 2)' }),
    recordKey: RecordKey.optional(),
    metadata: Metadata.optional(),
  })
  .openapi('AnchorInput');

export const SubmitAnchorsRequest = z
  .strictObject({
    anchors: z.array(AnchorInput).min(1, 'send at least one anchor').max(MAX_BATCH, `at most ${MAX_BATCH} anchors per request`),
  })
  .openapi('SubmitAnchorsRequest');

const AnchorStatus = z.enum(['pending', 'confirmed']).openapi('AnchorStatus');

const AcceptedAnchor = z.object({ id: z.string(), hash: HashHex, status: z.literal('pending') }).openapi('AcceptedAnchor');

const SubmitAnchorsResponse = z
  .object({
    batchId: z.string().openapi({ description: 'Time-sortable id of the batch (26 Crockford base32 characters)', example: '01JD3Q8Y5ZK2M7N9P4R6S8T0VW' }),
    anchors: z.array(AcceptedAnchor).openapi({ description: 'One entry per submitted hash, in request order; id is `<batchId>.<index>`' }),
  })
  .openapi('SubmitAnchorsResponse');

export const ProofDocumentSchema = z
  .object({
    format: z.literal('ledgerseal-proof/v1'),
    anchor: HashHex,
    chain: z.array(z.object({ index: z.number().int(), size: z.number().int(), path: z.array(HashHex) })),
    block: z.string().openapi({ description: 'The block header text (docs/protocol.md 4.5)' }),
    calendar: z.object({ size: z.number().int(), path: z.array(HashHex) }),
    checkpoint: z.string().openapi({ description: 'Signed note of the checkpoint whose size is calendar.size' }),
  })
  .openapi('ProofDocument', { description: 'The proof (receipt) document, media type application/vnd.ledgerseal.proof+json (docs/protocol.md 6)' });

const Anchor = z
  .object({
    id: z.string(),
    hash: HashHex,
    status: AnchorStatus,
    proof: ProofDocumentSchema.optional().openapi({ description: 'Present once the anchor is confirmed' }),
  })
  .openapi('Anchor');

const HistoryItem = z
  .object({ id: z.string(), hash: HashHex, arrivedAt: Timestamp, status: AnchorStatus.optional() })
  .openapi('AnchorHistoryItem');

const IdempotencyKey = z
  .string()
  .regex(/^[\x21-\x7e]{1,255}$/, 'must be 1..255 visible ASCII characters')
  .optional()
  .openapi({ description: 'Makes retries safe: the same key with the same body returns the first answer; with another body, 422', example: 'import-2026-11-22-0001' });

const submitRoute = createRoute({
  method: 'post',
  path: '/v1/anchors',
  operationId: 'submitAnchors',
  tags: ['anchors'],
  summary: 'Submit a batch of anchors',
  description: `Accepts 1..${MAX_BATCH} hashes as one batch (all or nothing) and answers at once with their ids; a round confirms them later.`,
  security: [{ [SECURITY.agency]: [] }],
  request: {
    headers: z.object({ 'idempotency-key': IdempotencyKey }),
    body: { required: true, content: { 'application/json': { schema: SubmitAnchorsRequest } } },
  },
  responses: {
    202: {
      description: 'Accepted: the batch is stored and waits for the next round',
      headers: z.object({ 'idempotent-replayed': z.literal('true').optional().openapi({ description: 'Present when this answer repeats an earlier request with the same Idempotency-Key' }) }),
      content: { 'application/json': { schema: SubmitAnchorsResponse } },
    },
    ...problemResponses('validation-error', 'malformed-json', 'payload-too-large', 'unsupported-media-type', 'unauthorized', 'forbidden', 'idempotency-key-reuse', 'rate-limited'),
  },
});

const getRoute = createRoute({
  method: 'get',
  path: '/v1/anchors/{id}',
  operationId: 'getAnchor',
  tags: ['anchors'],
  summary: 'Status and, once confirmed, the proof of one anchor',
  security: [{ [SECURITY.agency]: [] }],
  request: {
    params: z.object({ id: z.string().max(64).openapi({ param: { name: 'id', in: 'path' }, example: '01JD3Q8Y5ZK2M7N9P4R6S8T0VW.0' }) }),
  },
  responses: {
    200: { description: 'The anchor', content: { 'application/json': { schema: Anchor } } },
    ...problemResponses('validation-error', 'unauthorized', 'forbidden', 'not-found', 'rate-limited', 'unreadable-batch'),
  },
});

const Batch = z
  .object({
    id: z.string(),
    size: z.number().int().openapi({ description: 'Number of anchors in the batch' }),
    root: HashHex.openapi({ description: 'RFC 9162 root over the anchors in request order (leaf data = the 32-byte anchor)' }),
    arrivedAt: Timestamp,
    status: AnchorStatus,
    proof: ProofDocumentSchema.optional().openapi({
      description: 'Present once confirmed: the proof of the batch root (its anchor is `root`, its chain the round step). ' +
        "The proof of anchor i is this proof with the batch step (i, size, inclusion path of i) put first: the SDK's batchProofs derives them all locally",
    }),
    anchors: z.array(HashHex).optional().openapi({ description: 'The anchors in batch order, only with `include=anchors`' }),
  })
  .openapi('Batch');

const getBatchRoute = createRoute({
  method: 'get',
  path: '/v1/batches/{id}',
  operationId: 'getBatch',
  tags: ['anchors'],
  summary: "Status and, once confirmed, the proof of a whole batch's root",
  description: 'Bulk proofs: one request per batch instead of one per anchor. A client that holds the anchors it submitted derives the proof of each of them from this one (docs/protocol.md 7.6).',
  security: [{ [SECURITY.agency]: [] }],
  request: {
    params: z.object({ id: z.string().max(64).openapi({ param: { name: 'id', in: 'path' }, example: '01JD3Q8Y5ZK2M7N9P4R6S8T0VW' }) }),
    query: z.object({
      include: z.literal('anchors').optional().openapi({ description: 'Add the anchors of the batch, in batch order (up to 10,000 hashes)' }),
    }),
  },
  responses: {
    200: { description: 'The batch', content: { 'application/json': { schema: Batch } } },
    ...problemResponses('validation-error', 'unauthorized', 'forbidden', 'not-found', 'rate-limited', 'unreadable-batch'),
  },
});

const HISTORY_MAX = 100;

const listRoute = createRoute({
  method: 'get',
  path: '/v1/anchors',
  operationId: 'listRecordAnchors',
  tags: ['anchors'],
  summary: 'Anchors of one record, newest first',
  security: [{ [SECURITY.agency]: [] }],
  request: {
    query: z.object({ recordKey: RecordKey, limit: limitParam(HISTORY_MAX, 20), cursor: Cursor.optional() }),
  },
  responses: {
    200: {
      description: 'One page of the record history',
      content: {
        'application/json': {
          schema: z.object({ items: z.array(HistoryItem), nextCursor: Cursor.optional() }).openapi('AnchorHistoryPage'),
        },
      },
    },
    ...problemResponses('validation-error', 'unauthorized', 'forbidden', 'rate-limited'),
  },
});

export function registerAnchorRoutes(app: OpenAPIHono<AppEnv>, services: Services, limiter: TokenBuckets): void {
  const middleware = [requireAgency(services), rateLimit(limiter)];

  app.openapi({ ...submitRoute, middleware }, async (c) => {
    const body = c.req.valid('json');
    const idempotencyKey = c.req.valid('header')['idempotency-key'];
    const result = await acceptBatch(services, { agencyId: agencyOf(c), anchors: body.anchors, ...(idempotencyKey !== undefined ? { idempotencyKey } : {}) });
    if (!result.ok) throw new ApiError('idempotency-key-reuse', 'this Idempotency-Key was used with a different request body; use a new key for a new request');
    if (result.replayed) c.header('idempotent-replayed', 'true');
    return c.json({ batchId: result.batchId, anchors: result.anchors }, 202);
  });

  app.openapi({ ...getRoute, middleware }, async (c) => {
    const { id } = c.req.valid('param');
    if (!parseAnchorId(id)) throw new ApiError('not-found', 'no such anchor');
    const a = await readAnchor(services.store, services.config.origin, id, agencyOf(c));
    if (!a) throw new ApiError('not-found', 'no such anchor');
    return c.json(a, 200);
  });

  app.openapi({ ...getBatchRoute, middleware }, async (c) => {
    const { id } = c.req.valid('param');
    const { include } = c.req.valid('query');
    if (!isBatchId(id)) throw new ApiError('not-found', 'no such batch');
    const b = await readBatch(services.store, services.config.origin, id, agencyOf(c), include === 'anchors');
    if (!b) throw new ApiError('not-found', 'no such batch');
    return c.json(b, 200);
  });

  app.openapi({ ...listRoute, middleware }, async (c) => {
    const { recordKey, limit, cursor } = c.req.valid('query');
    const page = await services.store.listHistory(agencyOf(c), recordKey, { limit, ...(cursor !== undefined ? { cursor } : {}) });
    const batchOf = (anchorId: string): string | undefined => parseAnchorId(anchorId)?.batchId;
    const batchIds = [...new Set(page.items.map((h) => batchOf(h.anchorId)).filter((b) => b !== undefined))];
    const placed = await services.store.getPlacements(batchIds, { consistent: false }); // one BatchGetItem per 100 batches
    const items = page.items.map((h) => ({
      id: h.anchorId,
      hash: h.hash,
      arrivedAt: h.arrivedAt,
      status: placed.has(batchOf(h.anchorId) ?? '') ? ('confirmed' as const) : ('pending' as const),
    }));
    return c.json(page.cursor !== undefined ? { items, nextCursor: page.cursor } : { items }, 200);
  });
}
