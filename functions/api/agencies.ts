/**
 * Agencies and their API keys (admin key). A key's token is returned exactly
 * once, when it is created; afterwards only its id, times and label are shown
 * (never the secret, never its hash). Rotation = create a new key, switch the
 * client over, revoke the old one; a revoked key gets 401 at once.
 */
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { newAgencyId } from '../ids.ts';
import type { Services } from '../services.ts';
import type { ApiKey } from '../store/port.ts';
import { forgetApiKey, issueApiKey, requireAdmin } from './auth.ts';
import { ApiError, problemResponses } from './problem.ts';
import { rateLimit, type TokenBuckets } from './rate-limit.ts';
import { type AppEnv, SECURITY, Text, Timestamp } from './schemas.ts';


const AgencyId = z
  .string()
  .openapi({ param: { name: 'id', in: 'path' }, description: 'Agency id', example: '01JD3Q8Y5ZK2M7N9P4R6S8T0VW' });
const KeyId = z.string().openapi({ param: { name: 'keyId', in: 'path' }, description: 'API key id', example: '7k2m9p4r6s8t0vwx' });
const AGENCY_ID_RE = /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/;
const KEY_ID_RE = /^[0-9a-hjkmnp-tv-z]{16}$/;

const ApiKeyInfo = z
  .object({ keyId: z.string(), createdAt: Timestamp, revokedAt: Timestamp.optional(), label: z.string().optional() })
  .openapi('ApiKeyInfo');

const NewApiKey = z
  .object({
    keyId: z.string(),
    apiKey: z.string().openapi({ description: 'The bearer token `lsk_<keyId>_<secret>`. Shown only in this response: store it now.' }),
    createdAt: Timestamp,
    label: z.string().optional(),
  })
  .openapi('NewApiKey');

const admin = [{ [SECURITY.admin]: [] }];

const createAgencyRoute = createRoute({
  method: 'post',
  path: '/v1/agencies',
  operationId: 'createAgency',
  tags: ['agencies'],
  summary: 'Create an agency and its first API key',
  security: admin,
  request: { body: { required: true, content: { 'application/json': { schema: z.strictObject({ name: Text(200) }).openapi('CreateAgencyRequest') } } } },
  responses: {
    201: {
      description: 'The agency and its first key (the token is shown only here)',
      content: {
        'application/json': {
          schema: z.object({ id: z.string(), name: z.string(), createdAt: Timestamp, keyId: z.string(), apiKey: z.string() }).openapi('CreatedAgency'),
        },
      },
    },
    ...problemResponses('validation-error', 'malformed-json', 'payload-too-large', 'unsupported-media-type', 'unauthorized', 'forbidden', 'rate-limited'),
  },
});

const createKeyRoute = createRoute({
  method: 'post',
  path: '/v1/agencies/{id}/keys',
  operationId: 'createApiKey',
  tags: ['agencies'],
  summary: 'Create another API key for an agency (rotation)',
  security: admin,
  request: {
    params: z.object({ id: AgencyId }),
    body: { required: false, content: { 'application/json': { schema: z.strictObject({ label: Text(100).optional() }).openapi('CreateApiKeyRequest') } } },
  },
  responses: {
    201: { description: 'The new key (the token is shown only here)', content: { 'application/json': { schema: NewApiKey } } },
    ...problemResponses('validation-error', 'malformed-json', 'payload-too-large', 'unsupported-media-type', 'unauthorized', 'forbidden', 'not-found', 'rate-limited'),
  },
});

const listKeysRoute = createRoute({
  method: 'get',
  path: '/v1/agencies/{id}/keys',
  operationId: 'listApiKeys',
  tags: ['agencies'],
  summary: "An agency's API keys (ids and times, never secrets)",
  security: admin,
  request: { params: z.object({ id: AgencyId }) },
  responses: {
    200: { description: 'All keys, revoked ones included', content: { 'application/json': { schema: z.object({ items: z.array(ApiKeyInfo) }).openapi('ApiKeyList') } } },
    ...problemResponses('unauthorized', 'forbidden', 'not-found', 'rate-limited'),
  },
});

const revokeKeyRoute = createRoute({
  method: 'delete',
  path: '/v1/agencies/{id}/keys/{keyId}',
  operationId: 'revokeApiKey',
  tags: ['agencies'],
  summary: 'Revoke an API key (idempotent)',
  security: admin,
  request: { params: z.object({ id: AgencyId, keyId: KeyId }) },
  responses: {
    204: { description: 'Revoked (or already revoked)' },
    ...problemResponses('unauthorized', 'forbidden', 'not-found', 'rate-limited'),
  },
});

function keyInfo(k: ApiKey) {
  return {
    keyId: k.keyId,
    createdAt: k.createdAt,
    ...(k.revokedAt !== undefined ? { revokedAt: k.revokedAt } : {}),
    ...(k.label !== undefined ? { label: k.label } : {}),
  };
}

export function registerAgencyRoutes(app: OpenAPIHono<AppEnv>, services: Services, limiter: TokenBuckets): void {
  const { store, clock } = services;
  const middleware = [requireAdmin(services), rateLimit(limiter)];

  async function existingAgency(id: string): Promise<void> {
    if (!AGENCY_ID_RE.test(id) || !(await store.getAgency(id))) throw new ApiError('not-found', 'no such agency');
  }

  app.openapi({ ...createAgencyRoute, middleware }, async (c) => {
    const { name } = c.req.valid('json');
    const now = clock.now();
    const agency = { id: newAgencyId(now), name, createdAt: now.toISOString() };
    await store.createAgency(agency);
    const { token, key } = await issueApiKey(services, agency.id);
    return c.json({ ...agency, keyId: key.keyId, apiKey: token }, 201);
  });

  app.openapi({ ...createKeyRoute, middleware }, async (c) => {
    const { id } = c.req.valid('param');
    const { label } = c.req.valid('json');
    await existingAgency(id);
    const { token, key } = await issueApiKey(services, id, label);
    return c.json({ ...keyInfo(key), apiKey: token }, 201);
  });

  app.openapi({ ...listKeysRoute, middleware }, async (c) => {
    const { id } = c.req.valid('param');
    await existingAgency(id);
    const keys = await store.listApiKeys(id);
    return c.json({ items: keys.map(keyInfo) }, 200);
  });

  app.openapi({ ...revokeKeyRoute, middleware }, async (c) => {
    const { id, keyId } = c.req.valid('param');
    await existingAgency(id);
    if (!KEY_ID_RE.test(keyId) || !(await store.revokeApiKey(id, keyId, clock.now().toISOString()))) {
      throw new ApiError('not-found', 'no such key for this agency');
    }
    forgetApiKey(services, keyId); // refused at once here; elsewhere within LEDGERSEAL_KEY_CACHE_MS
    return c.body(null, 204);
  });
}
