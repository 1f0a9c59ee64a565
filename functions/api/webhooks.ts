/**
 * Webhook endpoints, messages and attempts (agency key; docs/webhooks.md).
 * An agency sees and manages only its own endpoints: another agency's endpoint
 * id gets the same 404 as one that does not exist, and messages and attempts are
 * only reached through an endpoint of the caller.
 *
 * A signing secret is returned once, when it is created (POST, rotate-secret);
 * the table holds it sealed with a configured key (functions/webhooks/secret-box.ts).
 */
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { generateWebhookSecret } from '@ledgerseal/sdk';
import type { Services } from '../services.ts';
import type { Timestamp as Time } from '../store/port.ts';
import type { WebhookAttempt, WebhookEndpoint, WebhookMessage } from '../store/webhook-port.ts';
import { envelope, messageId, messageIdFloor, randomId } from '../webhooks/payloads.ts';
import { sealSecret } from '../webhooks/secret-box.ts';
import { checkWebhookUrl, resolveWebhookTarget, type TargetPolicy } from '../webhooks/ssrf.ts';
import { requireAgency } from './auth.ts';
import { ApiError, problemResponses } from './problem.ts';
import { rateLimit, type TokenBuckets } from './rate-limit.ts';
import { type AppEnv, agencyOf, Cursor, limitParam, SECURITY, Text, Timestamp } from './schemas.ts';
import { WEBHOOK_EVENT_NAMES } from './webhook-events.ts';

/** Endpoints per agency. */
export const MAX_ENDPOINTS = 50;
/** Messages one recover call queues again. */
export const MAX_RECOVER = 10_000;
const URL_MAX = 2048;

const EventTypes = z
  .array(z.enum(WEBHOOK_EVENT_NAMES as [string, ...string[]]))
  .min(1)
  .max(WEBHOOK_EVENT_NAMES.length)
  .refine((a) => new Set(a).size === a.length, 'must not repeat a type')
  .openapi({ description: 'Event types sent to this endpoint; absent or null: every type' });
const EndpointUrl = z.string().min(1).max(URL_MAX).openapi({ description: 'https URL the events are POSTed to', example: 'https://registry.example.gov/hooks/ledgerseal' });
const EndpointId = z.string().max(64).openapi({ param: { name: 'id', in: 'path' }, example: 'ep_01KB7Y3V4Q8YAX3F2D6Q9Z0J1T' });
const MsgId = z.string().max(64).openapi({ param: { name: 'msgId', in: 'path' }, example: 'msg_01KB7Y3V4Q8YAX3F2D6Q9Z0J1T' });
const ENDPOINT_ID_RE = /^ep_[0-9A-HJKMNP-TV-Z]{26}$/;
const MSG_ID_RE = /^msg_[0-9A-HJKMNP-TV-Z]{26}$/;

const EndpointSchema = z
  .object({
    id: z.string(),
    url: z.string(),
    description: z.string().optional(),
    eventTypes: z.array(z.string()).optional().openapi({ description: 'Absent: every type' }),
    status: z.enum(['enabled', 'disabled']),
    disabledReason: z.string().optional().openapi({ description: '`failing`, `gone` (the endpoint answered 410) or `manual`' }),
    disabledAt: Timestamp.optional(),
    failingSince: Timestamp.optional().openapi({ description: 'Start of the current run of failed attempts' }),
    throttledUntil: Timestamp.optional().openapi({ description: 'The receiver asked to slow down (429, 502, 504, Retry-After)' }),
    previousSecretExpiresAt: Timestamp.optional().openapi({ description: 'After a rotation: until then, the previous secret also signs' }),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .openapi('WebhookEndpoint');

const CreatedEndpoint = EndpointSchema.extend({
  secret: z.string().openapi({ description: 'The signing secret `whsec_…`. Shown only in this response: store it now.' }),
}).openapi('CreatedWebhookEndpoint');

const Attempt = z
  .object({
    at: Timestamp,
    attempt: z.number().int(),
    trigger: z.enum(['scheduled', 'manual']),
    outcome: z.enum(['delivered', 'failed']),
    httpStatus: z.number().int().optional(),
    durationMs: z.number().int(),
    error: z.string().optional().openapi({ description: 'Why it failed without a useful status: timeout, connect, dns, tls, refused-target, endpoint disabled…' }),
    responseExcerpt: z.string().optional().openapi({ description: 'The first 1,024 bytes of the response body' }),
  })
  .openapi('WebhookAttemptResult');

const AttemptItem = Attempt.extend({ msgId: z.string(), type: z.string() }).openapi('WebhookAttempt');

const Message = z
  .object({
    msgId: z.string().openapi({ description: 'The webhook-id header' }),
    eventId: z.string(),
    type: z.string(),
    eventTime: Timestamp,
    createdAt: Timestamp,
    status: z.enum(['pending', 'delivered', 'failed']),
    attempts: z.number().int(),
    nextAttemptAt: Timestamp.optional(),
    deliveredAt: Timestamp.optional(),
    history: z.array(Attempt).openapi({ description: 'The most recent attempts (at most 20), oldest first' }),
  })
  .openapi('WebhookMessage');

const MessageWithPayload = Message.extend({
  payload: z.unknown().optional().openapi({ description: 'The body sent (until the retention period ends)' }),
}).openapi('WebhookMessageDetail');

const agency = [{ [SECURITY.agency]: [] }];
const idParams = z.object({ id: EndpointId });
const msgParams = z.object({ id: EndpointId, msgId: MsgId });
const COMMON = ['unauthorized', 'forbidden', 'rate-limited'] as const;
const BODY = ['validation-error', 'malformed-json', 'payload-too-large', 'unsupported-media-type'] as const;
const json = <T extends z.ZodType>(schema: T, description: string) => ({ description, content: { 'application/json': { schema } } });
const body = <T extends z.ZodType>(schema: T, required = true) => ({ body: { required, content: { 'application/json': { schema } } } });

const routes = {
  create: createRoute({
    method: 'post',
    path: '/v1/webhook-endpoints',
    operationId: 'createWebhookEndpoint',
    tags: ['webhooks'],
    summary: 'Register an endpoint; the answer carries its signing secret, once',
    security: agency,
    request: body(
      z.strictObject({ url: EndpointUrl, eventTypes: EventTypes.optional(), description: Text(500).optional() }).openapi('CreateWebhookEndpointRequest'),
    ),
    responses: {
      201: json(CreatedEndpoint, 'The endpoint and its secret (shown only here)'),
      ...problemResponses(...BODY, ...COMMON, 'webhook-target-refused', 'limit-exceeded', 'unavailable'),
    },
  }),
  list: createRoute({
    method: 'get',
    path: '/v1/webhook-endpoints',
    operationId: 'listWebhookEndpoints',
    tags: ['webhooks'],
    summary: "The agency's endpoints",
    security: agency,
    responses: { 200: json(z.object({ items: z.array(EndpointSchema) }).openapi('WebhookEndpointList'), 'Every endpoint'), ...problemResponses(...COMMON) },
  }),
  get: createRoute({
    method: 'get',
    path: '/v1/webhook-endpoints/{id}',
    operationId: 'getWebhookEndpoint',
    tags: ['webhooks'],
    summary: 'One endpoint',
    security: agency,
    request: { params: idParams },
    responses: { 200: json(EndpointSchema, 'The endpoint'), ...problemResponses('validation-error', ...COMMON, 'not-found') },
  }),
  update: createRoute({
    method: 'patch',
    path: '/v1/webhook-endpoints/{id}',
    operationId: 'updateWebhookEndpoint',
    tags: ['webhooks'],
    summary: 'Change the URL, the event types or the description (null removes the last two)',
    security: agency,
    request: {
      params: idParams,
      ...body(
        z
          .strictObject({ url: EndpointUrl.optional(), eventTypes: EventTypes.nullable().optional(), description: Text(500).nullable().optional() })
          .openapi('UpdateWebhookEndpointRequest'),
      ),
    },
    responses: { 200: json(EndpointSchema, 'The endpoint'), ...problemResponses(...BODY, ...COMMON, 'not-found', 'webhook-target-refused') },
  }),
  remove: createRoute({
    method: 'delete',
    path: '/v1/webhook-endpoints/{id}',
    operationId: 'deleteWebhookEndpoint',
    tags: ['webhooks'],
    summary: 'Delete an endpoint (its queued messages are dropped)',
    security: agency,
    request: { params: idParams },
    responses: { 204: { description: 'Deleted' }, ...problemResponses('validation-error', ...COMMON, 'not-found') },
  }),
  disable: createRoute({
    method: 'post',
    path: '/v1/webhook-endpoints/{id}/disable',
    operationId: 'disableWebhookEndpoint',
    tags: ['webhooks'],
    summary: 'Stop sending to an endpoint (its queued messages fail)',
    security: agency,
    request: { params: idParams },
    responses: { 200: json(EndpointSchema, 'The endpoint'), ...problemResponses('validation-error', ...COMMON, 'not-found') },
  }),
  enable: createRoute({
    method: 'post',
    path: '/v1/webhook-endpoints/{id}/enable',
    operationId: 'enableWebhookEndpoint',
    tags: ['webhooks'],
    summary: 'Send to an endpoint again (use recover for what failed meanwhile)',
    security: agency,
    request: { params: idParams },
    responses: { 200: json(EndpointSchema, 'The endpoint'), ...problemResponses('validation-error', ...COMMON, 'not-found') },
  }),
  rotate: createRoute({
    method: 'post',
    path: '/v1/webhook-endpoints/{id}/rotate-secret',
    operationId: 'rotateWebhookSecret',
    tags: ['webhooks'],
    summary: 'A new signing secret; the previous one keeps signing during the grace period',
    security: agency,
    request: { params: idParams },
    responses: {
      200: json(
        z.object({ secret: z.string(), previousSecretExpiresAt: Timestamp }).openapi('RotatedWebhookSecret'),
        'The new secret (shown only here); until previousSecretExpiresAt every message carries both signatures',
      ),
      ...problemResponses('validation-error', ...COMMON, 'not-found', 'unavailable'),
    },
  }),
  test: createRoute({
    method: 'post',
    path: '/v1/webhook-endpoints/{id}/test',
    operationId: 'testWebhookEndpoint',
    tags: ['webhooks'],
    summary: 'Send an endpoint.test event now',
    security: agency,
    request: { params: idParams },
    responses: {
      202: json(z.object({ msgId: z.string() }).openapi('WebhookTestQueued'), 'Queued; its attempts appear under the message'),
      ...problemResponses('validation-error', ...COMMON, 'not-found', 'endpoint-disabled'),
    },
  }),
  messages: createRoute({
    method: 'get',
    path: '/v1/webhook-endpoints/{id}/messages',
    operationId: 'listWebhookMessages',
    tags: ['webhooks'],
    summary: 'Messages of an endpoint, newest first',
    security: agency,
    request: {
      params: idParams,
      query: z.object({
        status: z.enum(['pending', 'delivered', 'failed']).optional(),
        since: Timestamp.optional().openapi({ description: 'Only events at or after this time' }),
        limit: limitParam(100, 20),
        cursor: Cursor.optional(),
      }),
    },
    responses: {
      200: json(z.object({ items: z.array(Message), nextCursor: Cursor.optional() }).openapi('WebhookMessagePage'), 'One page'),
      ...problemResponses('validation-error', ...COMMON, 'not-found'),
    },
  }),
  message: createRoute({
    method: 'get',
    path: '/v1/webhook-endpoints/{id}/messages/{msgId}',
    operationId: 'getWebhookMessage',
    tags: ['webhooks'],
    summary: 'One message with its payload and recent attempts',
    security: agency,
    request: { params: msgParams },
    responses: { 200: json(MessageWithPayload, 'The message'), ...problemResponses('validation-error', ...COMMON, 'not-found') },
  }),
  messageAttempts: createRoute({
    method: 'get',
    path: '/v1/webhook-endpoints/{id}/messages/{msgId}/attempts',
    operationId: 'listWebhookMessageAttempts',
    tags: ['webhooks'],
    summary: 'Every attempt of one message, newest first',
    security: agency,
    request: { params: msgParams, query: z.object({ limit: limitParam(100, 20), cursor: Cursor.optional() }) },
    responses: {
      200: json(z.object({ items: z.array(AttemptItem), nextCursor: Cursor.optional() }).openapi('WebhookAttemptPage'), 'One page'),
      ...problemResponses('validation-error', ...COMMON, 'not-found'),
    },
  }),
  attempts: createRoute({
    method: 'get',
    path: '/v1/webhook-endpoints/{id}/attempts',
    operationId: 'listWebhookAttempts',
    tags: ['webhooks'],
    summary: 'Every attempt to an endpoint, newest first',
    security: agency,
    request: { params: idParams, query: z.object({ limit: limitParam(100, 20), cursor: Cursor.optional() }) },
    responses: {
      200: json(z.object({ items: z.array(AttemptItem), nextCursor: Cursor.optional() }), 'One page'),
      ...problemResponses('validation-error', ...COMMON, 'not-found'),
    },
  }),
  resend: createRoute({
    method: 'post',
    path: '/v1/webhook-endpoints/{id}/messages/{msgId}/resend',
    operationId: 'resendWebhookMessage',
    tags: ['webhooks'],
    summary: 'Attempt one message again now (same webhook-id, same body)',
    security: agency,
    request: { params: msgParams },
    responses: {
      202: json(z.object({ msgId: z.string() }).openapi('WebhookResendQueued'), 'Queued'),
      ...problemResponses('validation-error', ...COMMON, 'not-found', 'endpoint-disabled'),
    },
  }),
  recover: createRoute({
    method: 'post',
    path: '/v1/webhook-endpoints/{id}/recover',
    operationId: 'recoverWebhookMessages',
    tags: ['webhooks'],
    summary: 'Attempt again every failed message of events since a time',
    security: agency,
    request: {
      params: idParams,
      ...body(z.strictObject({ since: Timestamp, until: Timestamp.optional() }).openapi('RecoverWebhookMessagesRequest')),
    },
    responses: {
      202: json(
        z.object({ queued: z.number().int(), truncated: z.boolean().openapi({ description: `True when more than ${MAX_RECOVER} matched: call again` }) }).openapi('WebhookRecoverQueued'),
        'Queued',
      ),
      ...problemResponses(...BODY, ...COMMON, 'not-found', 'endpoint-disabled'),
    },
  }),
};

function view(ep: WebhookEndpoint): z.infer<typeof EndpointSchema> {
  const previous = ep.secrets[1]?.expiresAt;
  return {
    id: ep.id,
    url: ep.url,
    ...(ep.description !== undefined && { description: ep.description }),
    ...(ep.eventTypes !== undefined && { eventTypes: ep.eventTypes }),
    status: ep.status,
    ...(ep.disabledReason !== undefined && { disabledReason: ep.disabledReason }),
    ...(ep.disabledAt !== undefined && { disabledAt: ep.disabledAt }),
    ...(ep.failingSince !== undefined && { failingSince: ep.failingSince }),
    ...(ep.throttledUntil !== undefined && { throttledUntil: ep.throttledUntil }),
    ...(previous !== undefined && { previousSecretExpiresAt: previous }),
    createdAt: ep.createdAt,
    updatedAt: ep.updatedAt,
  };
}

function messageView(m: WebhookMessage): z.infer<typeof Message> {
  const { endpointId: _e, agencyId: _a, expiresAt: _x, scheduledAttempts: _s, ...rest } = m;
  return rest;
}

function attemptView(a: WebhookAttempt): z.infer<typeof AttemptItem> {
  const { endpointId: _e, agencyId: _a, expiresAt: _x, ...rest } = a;
  return rest;
}

export function registerWebhookRoutes(app: OpenAPIHono<AppEnv>, services: Services, limiter: TokenBuckets): void {
  const middleware = [requireAgency(services), rateLimit(limiter)];
  const wh = services.store.webhooks;
  const cfg = services.config.webhooks;
  const policy: TargetPolicy = { allowLoopback: cfg.allowLoopback, allowHttp: cfg.allowLoopback };
  const nowIso = (): Time => services.clock.now().toISOString();
  const nowMs = (): number => services.clock.now().getTime();

  const sealingKey = () => {
    const key = cfg.secretKeys[0];
    if (!key) throw new ApiError('unavailable', 'webhooks are not configured on this service (LEDGERSEAL_WEBHOOK_SECRET_KEYS is unset)');
    return key;
  };

  /** Refuses a target the service must never call, before anything is stored (DNS rebinding is checked again at send time). */
  const checkTarget = async (raw: string): Promise<string> => {
    const v = checkWebhookUrl(raw, policy);
    if (!v.ok) throw new ApiError('webhook-target-refused', `url refused: ${v.reason}`);
    if (v.ip === null) {
      const r = await resolveWebhookTarget(v.host, policy);
      if (!r.ok) throw new ApiError('webhook-target-refused', `url refused: ${r.reason}`);
    }
    return v.url.href;
  };

  const endpointOf = async (agencyId: string, id: string): Promise<WebhookEndpoint> => {
    const ep = ENDPOINT_ID_RE.test(id) ? await wh.getEndpoint(agencyId, id) : null;
    if (!ep) throw new ApiError('not-found', 'no such webhook endpoint');
    return ep;
  };

  const updated = (ep: WebhookEndpoint | null): WebhookEndpoint => {
    if (!ep) throw new ApiError('not-found', 'no such webhook endpoint');
    return ep;
  };

  const enabledEndpoint = async (agencyId: string, id: string): Promise<WebhookEndpoint> => {
    const ep = await endpointOf(agencyId, id);
    if (ep.status !== 'enabled') throw new ApiError('endpoint-disabled', 'the endpoint is disabled: enable it first');
    return ep;
  };

  app.openapi({ ...routes.create, middleware }, async (c) => {
    const agencyId = agencyOf(c);
    const req = c.req.valid('json');
    const key = sealingKey();
    const url = await checkTarget(req.url);
    if ((await wh.listEndpoints(agencyId)).length >= MAX_ENDPOINTS) {
      throw new ApiError('limit-exceeded', `an agency has at most ${MAX_ENDPOINTS} webhook endpoints`);
    }
    const at = nowIso();
    const id = randomId('ep_', services.clock.now());
    const secret = generateWebhookSecret();
    const ep: WebhookEndpoint = {
      id,
      agencyId,
      url,
      ...(req.description !== undefined && { description: req.description }),
      ...(req.eventTypes !== undefined && { eventTypes: req.eventTypes }),
      status: 'enabled',
      secrets: [{ sealed: sealSecret(secret, key, agencyId, id), createdAt: at }],
      createdAt: at,
      updatedAt: at,
    };
    if (!(await wh.createEndpoint(ep))) throw new Error('endpoint id collision');
    return c.json({ ...view(ep), secret }, 201);
  });

  app.openapi({ ...routes.list, middleware }, async (c) => c.json({ items: (await wh.listEndpoints(agencyOf(c))).map(view) }, 200));

  app.openapi({ ...routes.get, middleware }, async (c) => c.json(view(await endpointOf(agencyOf(c), c.req.valid('param').id)), 200));

  app.openapi({ ...routes.update, middleware }, async (c) => {
    const agencyId = agencyOf(c);
    const ep = await endpointOf(agencyId, c.req.valid('param').id);
    const req = c.req.valid('json');
    const url = req.url !== undefined ? await checkTarget(req.url) : undefined;
    const next = await wh.updateEndpoint(agencyId, ep.id, {
      ...(url !== undefined && { url }),
      ...(req.eventTypes !== undefined && { eventTypes: req.eventTypes }),
      ...(req.description !== undefined && { description: req.description }),
      updatedAt: nowIso(),
    });
    return c.json(view(updated(next)), 200);
  });

  app.openapi({ ...routes.remove, middleware }, async (c) => {
    const agencyId = agencyOf(c);
    const ep = await endpointOf(agencyId, c.req.valid('param').id);
    if (!(await wh.deleteEndpoint(agencyId, ep.id))) throw new ApiError('not-found', 'no such webhook endpoint');
    return c.body(null, 204);
  });

  app.openapi({ ...routes.disable, middleware }, async (c) => {
    const agencyId = agencyOf(c);
    const ep = await endpointOf(agencyId, c.req.valid('param').id);
    if (ep.status === 'disabled') return c.json(view(ep), 200);
    const at = nowIso();
    const next = await wh.updateEndpoint(agencyId, ep.id, { status: 'disabled', disabledReason: 'manual', disabledAt: at, throttledUntil: null, updatedAt: at });
    return c.json(view(updated(next)), 200);
  });

  app.openapi({ ...routes.enable, middleware }, async (c) => {
    const agencyId = agencyOf(c);
    const ep = await endpointOf(agencyId, c.req.valid('param').id);
    const next = await wh.updateEndpoint(agencyId, ep.id, {
      status: 'enabled',
      disabledReason: null,
      disabledAt: null,
      failingSince: null,
      throttledUntil: null,
      updatedAt: nowIso(),
    });
    services.webhooks?.wake();
    return c.json(view(updated(next)), 200);
  });

  app.openapi({ ...routes.rotate, middleware }, async (c) => {
    const agencyId = agencyOf(c);
    const key = sealingKey();
    const ep = await endpointOf(agencyId, c.req.valid('param').id);
    const at = nowIso();
    const previousSecretExpiresAt = new Date(nowMs() + cfg.rotationGraceMs).toISOString();
    const secret = generateWebhookSecret();
    const current = ep.secrets[0]!;
    const next = await wh.updateEndpoint(agencyId, ep.id, {
      secrets: [{ sealed: sealSecret(secret, key, agencyId, ep.id), createdAt: at }, { ...current, expiresAt: previousSecretExpiresAt }],
      updatedAt: at,
    });
    updated(next);
    return c.json({ secret, previousSecretExpiresAt }, 200);
  });

  app.openapi({ ...routes.test, middleware }, async (c) => {
    const agencyId = agencyOf(c);
    const ep = await enabledEndpoint(agencyId, c.req.valid('param').id);
    const at = nowIso();
    const expiresAt = new Date(nowMs() + cfg.retentionMs).toISOString();
    const eventId = `endpoint.test:${ep.id}:${randomId('', services.clock.now())}`;
    const msgId = messageId(eventId, at);
    const data = { endpointId: ep.id, message: 'This is a test event from Ledgerseal.' };
    await wh.putPayloads([{ msgId, eventId, type: 'endpoint.test', body: envelope({ type: 'endpoint.test', time: at, data }), createdAt: at, expiresAt }]);
    await wh.putMessages([
      {
        endpointId: ep.id,
        agencyId,
        msgId,
        eventId,
        type: 'endpoint.test',
        eventTime: at,
        createdAt: at,
        status: 'pending',
        attempts: 0,
        scheduledAttempts: 0,
        nextAttemptAt: at,
        history: [],
        expiresAt,
      },
    ]);
    await wh.putDue([{ dueAt: at, endpointId: ep.id, msgId }]);
    services.webhooks?.wake();
    return c.json({ msgId }, 202);
  });

  const live = (m: WebhookMessage | undefined): m is WebhookMessage => m !== undefined && Date.parse(m.expiresAt) > nowMs();

  app.openapi({ ...routes.messages, middleware }, async (c) => {
    const ep = await endpointOf(agencyOf(c), c.req.valid('param').id);
    const { status, since, limit, cursor } = c.req.valid('query');
    if (since !== undefined && Number.isNaN(Date.parse(since))) throw new ApiError('validation-error', 'since must be an RFC 3339 time');
    const page = await wh.listMessages(ep.id, {
      limit,
      newestFirst: true,
      ...(cursor !== undefined && { cursor }),
      ...(status !== undefined && { status }),
    });
    const floor = since !== undefined ? messageIdFloor(new Date(Date.parse(since)).toISOString()) : undefined;
    const items = page.items.filter(live).filter((m) => floor === undefined || m.msgId >= floor).map(messageView);
    const ended = floor !== undefined && page.items.some((m) => m.msgId < floor);
    return c.json(page.cursor !== undefined && !ended ? { items, nextCursor: page.cursor } : { items }, 200);
  });

  const messageOf = async (agencyId: string, id: string, msgId: string): Promise<{ ep: WebhookEndpoint; m: WebhookMessage }> => {
    const ep = await endpointOf(agencyId, id);
    const m = MSG_ID_RE.test(msgId) ? (await wh.getMessages([{ endpointId: ep.id, msgId }])).get(`${ep.id}/${msgId}`) : undefined;
    if (!live(m)) throw new ApiError('not-found', 'no such message for this endpoint (messages are kept for the retention period)');
    return { ep, m };
  };

  app.openapi({ ...routes.message, middleware }, async (c) => {
    const { id, msgId } = c.req.valid('param');
    const { m } = await messageOf(agencyOf(c), id, msgId);
    const payload = (await wh.getPayloads([m.msgId])).get(m.msgId);
    const body = payload && Date.parse(payload.expiresAt) > nowMs() ? (JSON.parse(payload.body) as unknown) : undefined;
    return c.json({ ...messageView(m), ...(body !== undefined && { payload: body }) }, 200);
  });

  app.openapi({ ...routes.messageAttempts, middleware }, async (c) => {
    const { id, msgId } = c.req.valid('param');
    const { ep, m } = await messageOf(agencyOf(c), id, msgId);
    const { limit, cursor } = c.req.valid('query');
    const page = await wh.listAttempts(ep.id, { limit, msgId: m.msgId, ...(cursor !== undefined && { cursor }) });
    const items = page.items.filter((a) => Date.parse(a.expiresAt) > nowMs()).map(attemptView);
    return c.json(page.cursor !== undefined ? { items, nextCursor: page.cursor } : { items }, 200);
  });

  app.openapi({ ...routes.attempts, middleware }, async (c) => {
    const ep = await endpointOf(agencyOf(c), c.req.valid('param').id);
    const { limit, cursor } = c.req.valid('query');
    const page = await wh.listAttempts(ep.id, { limit, ...(cursor !== undefined && { cursor }) });
    const items = page.items.filter((a) => Date.parse(a.expiresAt) > nowMs()).map(attemptView);
    return c.json(page.cursor !== undefined ? { items, nextCursor: page.cursor } : { items }, 200);
  });

  app.openapi({ ...routes.resend, middleware }, async (c) => {
    const { id, msgId } = c.req.valid('param');
    const { ep, m } = await messageOf(agencyOf(c), id, msgId);
    if (ep.status !== 'enabled') throw new ApiError('endpoint-disabled', 'the endpoint is disabled: enable it first');
    const payload = (await wh.getPayloads([m.msgId])).get(m.msgId);
    if (!payload || Date.parse(payload.expiresAt) <= nowMs()) throw new ApiError('not-found', 'the payload of this message is no longer kept (retention period)');
    await wh.putDue([{ dueAt: nowIso(), endpointId: ep.id, msgId: m.msgId, manual: true }]);
    services.webhooks?.wake();
    return c.json({ msgId: m.msgId }, 202);
  });

  app.openapi({ ...routes.recover, middleware }, async (c) => {
    const ep = await enabledEndpoint(agencyOf(c), c.req.valid('param').id);
    const { since, until } = c.req.valid('json');
    const from = Date.parse(since);
    const to = until !== undefined ? Date.parse(until) : Infinity;
    if (Number.isNaN(from) || Number.isNaN(to) || to < from) throw new ApiError('validation-error', 'since and until must be RFC 3339 times, since <= until');
    const floor = messageIdFloor(new Date(from).toISOString());
    const due: { dueAt: Time; endpointId: string; msgId: string; manual: true }[] = [];
    const at = nowIso();
    let cursor: string | undefined;
    let truncated = false;
    do {
      const page = await wh.listMessages(ep.id, { limit: 1000, status: 'failed', from: floor, ...(cursor !== undefined && { cursor }) });
      for (const m of page.items) {
        if (!live(m) || Date.parse(m.eventTime) > to) continue;
        if (due.length === MAX_RECOVER) {
          truncated = true;
          break;
        }
        due.push({ dueAt: at, endpointId: ep.id, msgId: m.msgId, manual: true });
      }
      cursor = page.cursor;
    } while (cursor !== undefined && !truncated);
    await wh.putDue(due);
    if (due.length > 0) services.webhooks?.wake();
    return c.json({ queued: due.length, truncated }, 202);
  });
}
