/**
 * Public ledger reads: the latest checkpoint (C2SP signed note, text/plain),
 * blocks (docs/protocol.md 4.5), RFC 9162 consistency proofs between calendar
 * sizes, proof extensions to a later checkpoint, the validator set, the
 * validators' recorded faults (section 7.4) and the publications (section 5). No authentication: everything here is public by
 * design, and none of it reveals agency data (blocks carry only roots and counts).
 */
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { bytesToHex } from '@ledgerseal/sdk';
import { FAULT_REASONS, listValidatorFaults } from '../ledger/events.ts';
import { consistencyProof, proofExtension } from '../ledger/proofs.ts';
import type { Services } from '../services.ts';
import type { Block } from '../store/port.ts';
import { ApiError, problemResponses } from './problem.ts';
import { type AppEnv, Cursor, HashHex, indexParam, limitParam, Text, Timestamp } from './schemas.ts';

export const ValidatorSetSchema = z
  .strictObject({
    format: z.literal('ledgerseal-validators/v1'),
    origin: z.string().optional(),
    validators: z.array(
      z.strictObject({
        name: z.string(),
        key: z.string().openapi({ description: 'Ed25519 C2SP signed-note verifier key `<name>+<hex8>+<base64>`' }),
        weight: z.number().int().min(1),
      }),
    ),
  })
  .openapi('ValidatorSet', { description: 'The validator set document (docs/protocol.md 5.1); its SHA-256 over RFC 8785 JSON is in every block header' });

const BlockSchema = z
  .object({
    height: z.number().int(),
    header: z.string().openapi({ description: 'The block header text, one field per line (docs/protocol.md 4.5)' }),
    checkpoint: z.string().openapi({ description: 'Signed note of the checkpoint of size height + 1' }),
    finalizedAt: Timestamp,
  })
  .openapi('Block');

const PublicationSchema = z
  .object({
    size: z.number().int(),
    root: HashHex,
    code: z.string().openapi({ description: 'The publication code for print: 72 base32 characters in 12 groups of 6, encoding a version byte, the size, the root and a CRC-32 (docs/protocol.md, "Publication codes")' }),
    checkpoint: z.string(),
    publishedAt: Timestamp,
  })
  .openapi('Publication');

const ValidatorFaultSchema = z
  .object({
    height: z.number().int().openapi({ description: 'The height of the round the validator did not sign' }),
    validator: z.string().openapi({ description: 'The validator name, as in the validator set' }),
    reason: z.enum(FAULT_REASONS).openapi({ description: 'What the coordinator saw (docs/protocol.md 7.4)' }),
    time: Timestamp.openapi({ description: 'When the coordinator recorded the fault' }),
    detail: z.string().openapi({ description: "The coordinator's explanation, e.g. the validator's refusal code and message" }),
  })
  .openapi('ValidatorFault', { description: 'A recorded validator.fault event (docs/protocol.md 7.4, 7.5)' });

const ConsistencyProofSchema = z
  .object({ from: z.number().int(), to: z.number().int(), path: z.array(HashHex) })
  .openapi('ConsistencyProof', { description: 'RFC 9162 section 2.1.4 consistency proof between calendar sizes from and to' });

const ProofExtensionSchema = z
  .object({
    calendar: z.object({ size: z.number().int(), path: z.array(HashHex) }),
    checkpoint: z.string(),
  })
  .openapi('ProofExtension', { description: 'Replaces a proof\'s calendar and checkpoint (sdk extendProof)' });

const BLOCKS_MAX = 1000;
const PUBLICATIONS_MAX = 100;
const FAULTS_MAX = 100;

function blockJson(b: Block) {
  return { height: b.height, header: b.header, checkpoint: b.checkpoint, finalizedAt: b.finalizedAt };
}

const checkpointRoute = createRoute({
  method: 'get',
  path: '/v1/checkpoint',
  operationId: 'getCheckpoint',
  tags: ['ledger'],
  summary: 'The latest checkpoint, as a C2SP signed note',
  security: [],
  responses: {
    200: { description: 'The signed note text', content: { 'text/plain; charset=utf-8': { schema: z.string() } } },
    ...problemResponses('not-found'),
  },
});

const blockRoute = createRoute({
  method: 'get',
  path: '/v1/blocks/{height}',
  operationId: 'getBlock',
  tags: ['ledger'],
  summary: 'One block',
  security: [],
  request: { params: z.object({ height: indexParam('Block height').openapi({ param: { name: 'height', in: 'path' } }) }) },
  responses: {
    200: { description: 'The block', content: { 'application/json': { schema: BlockSchema } } },
    ...problemResponses('validation-error', 'not-found'),
  },
});

const blocksRoute = createRoute({
  method: 'get',
  path: '/v1/blocks',
  operationId: 'listBlocks',
  tags: ['ledger'],
  summary: 'Blocks in height order',
  security: [],
  request: { query: z.object({ from: indexParam('First height (default 0)').optional().default(0), limit: limitParam(BLOCKS_MAX, 100) }) },
  responses: {
    200: {
      description: 'Blocks from..from+limit-1 that exist; nextFrom is set when more may follow',
      content: { 'application/json': { schema: z.object({ items: z.array(BlockSchema), nextFrom: z.number().int().optional() }).openapi('BlockPage') } },
    },
    ...problemResponses('validation-error'),
  },
});

const consistencyRoute = createRoute({
  method: 'get',
  path: '/v1/proofs/consistency',
  operationId: 'getConsistencyProof',
  tags: ['ledger'],
  summary: 'RFC 9162 consistency proof between two calendar sizes',
  security: [],
  request: { query: z.object({ from: indexParam('The older calendar size'), to: indexParam('The newer calendar size') }) },
  responses: {
    200: { description: 'The proof', content: { 'application/json': { schema: ConsistencyProofSchema } } },
    ...problemResponses('validation-error', 'invalid-range', 'not-found'),
  },
});

const extendRoute = createRoute({
  method: 'get',
  path: '/v1/proofs/extend',
  operationId: 'getProofExtension',
  tags: ['ledger'],
  summary: 'A calendar path from a block to a later checkpoint',
  security: [],
  request: { query: z.object({ height: indexParam('The block height of the proof'), size: indexParam('The calendar size to extend to') }) },
  responses: {
    200: { description: 'The new calendar path and checkpoint', content: { 'application/json': { schema: ProofExtensionSchema } } },
    ...problemResponses('validation-error', 'invalid-range', 'not-found'),
  },
});

const validatorsRoute = createRoute({
  method: 'get',
  path: '/v1/validators',
  operationId: 'getValidatorSet',
  tags: ['ledger'],
  summary: 'The validator set in force',
  security: [],
  responses: {
    200: { description: 'The validator set document', content: { 'application/json': { schema: ValidatorSetSchema } } },
    ...problemResponses(),
  },
});

const faultsRoute = createRoute({
  method: 'get',
  path: '/v1/validators/faults',
  operationId: 'listValidatorFaults',
  tags: ['ledger'],
  summary: 'Recorded validator faults, newest first',
  description:
    'The `validator.fault` events the coordinator recorded: a validator that timed out, was unreachable, refused, ' +
    'answered with a bad signature or equivocated in a round. Read from a global secondary index, so eventually ' +
    'consistent: a fault recorded a moment ago may be missing for a short while.',
  security: [],
  request: {
    query: z.object({
      validator: Text(100).optional().openapi({ description: 'Only the faults of this validator (its name in the validator set)' }),
      limit: limitParam(FAULTS_MAX, 20),
      cursor: Cursor.optional(),
    }),
  },
  responses: {
    200: {
      description: 'One page of faults',
      content: { 'application/json': { schema: z.object({ items: z.array(ValidatorFaultSchema), nextCursor: Cursor.optional() }).openapi('ValidatorFaultPage') } },
    },
    ...problemResponses('validation-error'),
  },
});

const publicationsRoute = createRoute({
  method: 'get',
  path: '/v1/publications',
  operationId: 'listPublications',
  tags: ['ledger'],
  summary: 'Publications, newest first',
  security: [],
  request: { query: z.object({ limit: limitParam(PUBLICATIONS_MAX, 20), cursor: Cursor.optional() }) },
  responses: {
    200: {
      description: 'One page of publications',
      content: { 'application/json': { schema: z.object({ items: z.array(PublicationSchema), nextCursor: Cursor.optional() }).openapi('PublicationPage') } },
    },
    ...problemResponses('validation-error'),
  },
});

export function registerLedgerRoutes(app: OpenAPIHono<AppEnv>, services: Services): void {
  const { store } = services;

  app.openapi(checkpointRoute, async (c) => {
    const latest = await store.getLatestBlock();
    if (!latest) throw new ApiError('not-found', 'no block has been finalized yet');
    c.header('cache-control', 'no-cache');
    return c.text(latest.checkpoint, 200, { 'content-type': 'text/plain; charset=utf-8' });
  });

  app.openapi(blockRoute, async (c) => {
    const { height } = c.req.valid('param');
    const block = await store.getBlock(height);
    if (!block) throw new ApiError('not-found', `no block at height ${height}`);
    return c.json(blockJson(block), 200);
  });

  app.openapi(blocksRoute, async (c) => {
    const { from, limit } = c.req.valid('query');
    let blocks = await store.listBlocks({ from, limit });
    // A page that reaches the end of the log is read again consistently: validators catching up
    // ask for the blocks just finalized, which an eventually consistent read may not see yet.
    if (blocks.length < limit) blocks = await store.listBlocks({ from, limit, consistent: true });
    const items = blocks.map(blockJson);
    const last = items.at(-1);
    return c.json(items.length === limit && last ? { items, nextFrom: last.height + 1 } : { items }, 200);
  });

  app.openapi(consistencyRoute, async (c) => {
    const { from, to } = c.req.valid('query');
    const path = await consistencyProof(store, from, to);
    return c.json({ from, to, path: path.map(bytesToHex) }, 200);
  });

  app.openapi(extendRoute, async (c) => {
    const { height, size } = c.req.valid('query');
    const ext = await proofExtension(store, height, size);
    return c.json(ext, 200);
  });

  app.openapi(validatorsRoute, (c) => c.json(services.validatorSet, 200));

  app.openapi(faultsRoute, async (c) => {
    const { validator, limit, cursor } = c.req.valid('query');
    const page = await listValidatorFaults(store, { limit, ...(cursor !== undefined && { cursor }), ...(validator !== undefined && { validator }) });
    return c.json(page.cursor !== undefined ? { items: page.items, nextCursor: page.cursor } : { items: page.items }, 200);
  });

  app.openapi(publicationsRoute, async (c) => {
    const { limit, cursor } = c.req.valid('query');
    const page = await store.listPublications({ limit, ...(cursor !== undefined ? { cursor } : {}) });
    const items = page.items.map((p) => ({ size: p.size, root: bytesToHex(p.root), code: p.code, checkpoint: p.checkpoint, publishedAt: p.publishedAt }));
    return c.json(page.cursor !== undefined ? { items, nextCursor: page.cursor } : { items }, 200);
  });
}
