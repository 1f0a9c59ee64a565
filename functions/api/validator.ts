/**
 * POST /v1/validator/sign (coordinator key): the HTTP face of a validator
 * (docs/protocol.md 7.3; wire format in validator/protocol.ts). The
 * handler only delegates to the injected validator, which runs its own checks
 * and records what it signs before answering.
 *
 * A refusal is an answer of the protocol, not a server error: the API's one
 * error mapping (problem.ts) returns it as the protocol's own problem+json (`type` .../problems/validator/<code>,
 * `code`, `validator`) with the status of its code (409 or 422), so the
 * coordinator's HTTP client can tell refusals from outages.
 */
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { SignRefusalSchema, SignRequestSchema, SignResponseSchema } from '../validator/protocol.ts';
import type { Services } from '../services.ts';
import { requireCoordinator } from './auth.ts';
import { ApiError, problemResponses } from './problem.ts';
import { rateLimit, type TokenBuckets } from './rate-limit.ts';
import { type AppEnv, SECURITY } from './schemas.ts';

const refusal = (description: string) => ({ description, content: { 'application/problem+json': { schema: SignRefusalSchema } } });

const signRoute = createRoute({
  method: 'post',
  path: '/v1/validator/sign',
  operationId: 'validatorSign',
  tags: ['validator'],
  summary: 'Ask this validator to check a proposal and sign its checkpoint',
  security: [{ [SECURITY.coordinator]: [] }],
  request: { body: { required: true, content: { 'application/json': { schema: SignRequestSchema } } } },
  responses: {
    200: { description: 'The signature line over the checkpoint', content: { 'application/json': { schema: SignResponseSchema } } },
    ...problemResponses('validation-error', 'malformed-json', 'payload-too-large', 'unsupported-media-type', 'unauthorized', 'forbidden', 'not-found', 'rate-limited'),
    409: refusal('Refusal: a state conflict (STALE_HEIGHT, CANNOT_CATCH_UP, EQUIVOCATION, STATE_CONFLICT)'),
    422: refusal('Refusal: a failed check (BAD_PREV, BAD_TIME, BAD_ROUND, BAD_CHECKPOINT, ...)'),
  },
});

export function registerValidatorRoutes(app: OpenAPIHono<AppEnv>, services: Services, limiter: TokenBuckets): void {
  const middleware = [requireCoordinator(services), rateLimit(limiter)];
  app.openapi({ ...signRoute, middleware }, async (c) => {
    const validator = services.validator;
    if (!validator) throw new ApiError('not-found', 'this deployment hosts no validator');
    // A refusal (ValidatorRefusal) is answered by the one onError (api/problem.ts) with the protocol's problem.
    return c.json(await validator.sign(c.req.valid('json')), 200);
  });
}
