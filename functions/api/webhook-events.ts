/**
 * The webhook events, as the OpenAPI 3.1 `webhooks` section describes them
 * (docs/webhooks.md). Every delivery is a POST whose body is the Standard
 * Webhooks envelope {"type", "timestamp", "data"}; openapi-typescript emits a
 * type per event, which the SDK's receiver (@ledgerseal/sdk/webhooks) exports.
 * The delivery worker builds exactly these bodies (functions/webhooks/payloads.ts);
 * test/webhooks/payloads.test.ts parses what it builds with these schemas.
 */
import { type OpenAPIHono, z } from '@hono/zod-openapi';
import { ProofDocumentSchema } from './anchors.ts';
import { type AppEnv, HashHex, Timestamp } from './schemas.ts';

const AnchorRange = z
  .object({ first: z.string(), last: z.string(), count: z.number().int() })
  .openapi('AnchorRange', { description: 'Anchor ids `<batchId>.0` .. `<batchId>.<count - 1>`' });

const ConfirmedAnchor = z
  .object({
    id: z.string(),
    hash: HashHex,
    recordKey: z.string().optional(),
    proof: ProofDocumentSchema.optional().openapi({ description: 'Present when `proofsIncluded` is true' }),
  })
  .openapi('ConfirmedAnchor');

const BatchUrl = z.string().openapi({
  description: 'GET /v1/batches/{id}?include=anchors (agency key): the batch proof and anchors, from which every anchor proof is derived. ' +
    'Absolute when the service knows its public URL (LEDGERSEAL_PUBLIC_URL), else a path',
});

export const WEBHOOK_DATA = {
  'anchor.confirmed': z
    .object({
      batchId: z.string(),
      height: z.number().int().openapi({ description: 'Block (round) height' }),
      roundIndex: z.number().int().openapi({ description: 'Position of the batch in the round tree' }),
      anchors: AnchorRange,
      items: z.array(ConfirmedAnchor).optional().openapi({
        description: 'Every anchor of the batch with its record key and, when `proofsIncluded`, its proof. ' +
          'Left out when even the list without proofs would make the payload exceed 20 kB: fetch `batchUrl`',
      }),
      proofsIncluded: z.boolean(),
      batchUrl: BatchUrl,
    })
    .openapi('AnchorConfirmedData'),
  'batch.confirmed': z
    .object({
      batchId: z.string(),
      height: z.number().int(),
      roundIndex: z.number().int(),
      anchors: AnchorRange,
      root: HashHex.openapi({ description: 'The batch root (RFC 9162 over the anchors in request order)' }),
      proof: ProofDocumentSchema.openapi({ description: 'The proof of the batch root: sdk batchProofs derives every anchor proof from it' }),
      batchUrl: BatchUrl,
    })
    .openapi('BatchConfirmedData'),
  'round.finalized': z
    .object({
      height: z.number().int(),
      time: Timestamp.openapi({ description: 'The block header time' }),
      proposalId: z.string(),
      roundSize: z.number().int().openapi({ description: 'Batches in the round' }),
      anchors: z.number().int(),
      roundRoot: HashHex,
      calendarSize: z.number().int(),
      signers: z.array(z.string()),
    })
    .openapi('RoundFinalizedData'),
  'checkpoint.published': z
    .object({ size: z.number().int(), root: HashHex, checkpoint: z.string().openapi({ description: 'The signed note (C2SP tlog-checkpoint)' }) })
    .openapi('CheckpointPublishedData'),
  'publication.created': z
    .object({ size: z.number().int(), root: HashHex, code: z.string(), checkpoint: z.string(), publishedAt: Timestamp })
    .openapi('PublicationCreatedData'),
  'validator.fault': z
    .object({
      validator: z.string(),
      reason: z.enum(['timeout', 'unreachable', 'refused', 'bad-signature', 'equivocation']),
      height: z.number().int(),
      detail: z.string(),
    })
    .openapi('ValidatorFaultData'),
  'batch.quarantined': z
    .object({ batchId: z.string(), reason: z.string() })
    .openapi('BatchQuarantinedData', { description: 'A pending batch could not be read or rechecked: it is left out of every round' }),
  'endpoint.disabled': z
    .object({
      endpointId: z.string(),
      url: z.string(),
      reason: z.enum(['failing', 'gone']).openapi({ description: '`failing`: every attempt failed for the disable period; `gone`: the endpoint answered 410' }),
      failingSince: Timestamp.optional(),
      disabledAt: Timestamp,
    })
    .openapi('EndpointDisabledData'),
  'endpoint.test': z
    .object({ endpointId: z.string(), message: z.string() })
    .openapi('EndpointTestData', { description: 'Sent by POST /v1/webhook-endpoints/{id}/test' }),
} as const;

export type WebhookEventName = keyof typeof WEBHOOK_DATA;
export const WEBHOOK_EVENT_NAMES = Object.keys(WEBHOOK_DATA) as WebhookEventName[];

const SUMMARIES: Record<WebhookEventName, string> = {
  'anchor.confirmed': "A batch's anchors are confirmed: their ids, record keys and proofs (or a link when over 20 kB)",
  'batch.confirmed': 'A batch is confirmed: its root and the proof of the root',
  'round.finalized': 'A round was co-signed by a quorum and appended to the calendar',
  'checkpoint.published': 'A new signed checkpoint of the calendar',
  'publication.created': 'A checkpoint was published (the publication code for print)',
  'validator.fault': 'A validator timed out, was unreachable, refused, signed badly or equivocated',
  'batch.quarantined': "One of the agency's pending batches was left out of every round",
  'endpoint.disabled': "One of the agency's endpoints was disabled (sent to its other endpoints)",
  'endpoint.test': 'A test event, on request',
};

/** The body schema of one event type: the Standard Webhooks envelope. */
export function envelopeSchema<K extends WebhookEventName>(type: K) {
  const name = `${type.split('.').map((w) => w[0]!.toUpperCase() + w.slice(1)).join('')}Event`;
  return z
    .object({
      type: z.literal(type),
      timestamp: Timestamp.openapi({ description: 'When the event happened (not the delivery attempt)' }),
      data: WEBHOOK_DATA[type],
    })
    .openapi(name);
}

const DeliveryHeaders = z.object({
  'webhook-id': z.string().openapi({ description: 'The message id: the same on every attempt; deduplicate by it', example: 'msg_01KB7Y3V4Q8YAX3F2D6Q9Z0J1T' }),
  'webhook-timestamp': z.string().openapi({ description: 'Unix seconds of this attempt', example: '1764561136' }),
  'webhook-signature': z.string().openapi({ description: 'Space-separated `v1,<base64 HMAC-SHA-256>` entries (two during a secret rotation)' }),
});

/** Adds every event to the document's `webhooks` section. */
export function registerWebhookEvents(app: OpenAPIHono<AppEnv>): void {
  for (const type of WEBHOOK_EVENT_NAMES) {
    app.openAPIRegistry.registerWebhook({
      method: 'post',
      path: type,
      operationId: `webhook_${type.replace('.', '_')}`,
      tags: ['webhooks'],
      summary: SUMMARIES[type],
      description: 'Signed per Standard Webhooks 1.0 (docs/protocol.md 9). Answer 2xx within the timeout (15 s by default); anything else is retried.',
      request: { headers: DeliveryHeaders, body: { required: true, content: { 'application/json': { schema: envelopeSchema(type) } } } },
      responses: {
        200: { description: 'Any 2xx status means delivered' },
        410: { description: 'Disables the endpoint' },
        429: { description: 'Slows delivery down (Retry-After honoured); 502 and 504 too' },
      },
    });
  }
}
