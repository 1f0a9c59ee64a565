/**
 * The Ledgerseal HTTP API: one Hono app built from a services container. It is
 * platform-free (it only sees Request and Response); the Lambda entry point
 * wraps it with `hono/aws-lambda`, the local runner with `@hono/node-server`,
 * tests call `app.request()`.
 *
 * Every route is declared with @hono/zod-openapi `createRoute` (request and
 * every response, problem responses included), so the OpenAPI 3.1 document
 * (GET /openapi.json, committed as openapi/openapi.json) is generated from the
 * same schemas that validate requests. Guide: docs/api.md.
 *
 * Middleware order: request id + access log -> body limit -> strict UTF-8 JSON
 * bodies (read lazily) -> (per route) auth -> rate limit -> media type and schema
 * validation -> handler; errors from any of
 * them go through the one onError in api/problem.ts.
 */
import { OpenAPIHono } from '@hono/zod-openapi';
import { bodyLimit } from 'hono/body-limit';
import { registerAgencyRoutes } from './api/agencies.ts';
import { registerAnchorRoutes } from './api/anchors.ts';
import { registerHealthRoutes } from './api/health.ts';
import { registerLedgerRoutes } from './api/ledger.ts';
import { ApiError, installProblemHandlers, PROBLEM_BASE, PROBLEM_SLUGS, PROBLEM_TYPES, validationHook } from './api/problem.ts';
import { tokenBuckets } from './api/rate-limit.ts';
import { strictJsonBody } from './api/json-body.ts';
import { requestLog } from './api/request-log.ts';
import { type AppEnv, SECURITY_SCHEMES } from './api/schemas.ts';
import { registerValidatorRoutes } from './api/validator.ts';
import { registerVerifyRoutes } from './api/verify.ts';
import { registerWebhookEvents } from './api/webhook-events.ts';
import { registerWebhookRoutes } from './api/webhooks.ts';
import { registerWebRoutes } from './api/web.ts';
import type { Services } from './services.ts';

export const API_VERSION = '1.0.0';

/** The document-level part of openapi.json (everything else comes from the routes). */
export const OPENAPI_OBJECT: Parameters<OpenAPIHono['getOpenAPI31Document']>[0] = {
  openapi: '3.1.0',
  info: {
    title: 'Ledgerseal API',
    version: API_VERSION,
    description:
      'Prove that a record existed in exactly this form at a given time: anchor hashes, get offline-verifiable proofs ' +
      '(RFC 9162 Merkle paths up to a validator-signed C2SP checkpoint), read the public calendar. ' +
      `Errors are RFC 9457 problem+json; problem types: ${PROBLEM_SLUGS.map((s) => `${PROBLEM_BASE}${s} (${PROBLEM_TYPES[s].status})`).join(', ')}. ` +
      'Guide: docs/api.md.',
    license: { name: 'Apache-2.0', url: 'https://www.apache.org/licenses/LICENSE-2.0' },
  },
  tags: [
    { name: 'anchors', description: 'Submit hashes and fetch their proofs (agency key)' },
    { name: 'verify', description: 'Server-side proof verification (public)' },
    { name: 'ledger', description: 'The public calendar: checkpoints, blocks, proofs, validators, publications' },
    { name: 'webhooks', description: 'Webhook endpoints, messages and attempts (agency key); the events are in the `webhooks` section' },
    { name: 'agencies', description: 'Agencies and API keys (admin key)' },
    { name: 'validator', description: 'The validator protocol (coordinator key)' },
    { name: 'health', description: 'Health check' },
  ],
};

export type LedgersealApp = OpenAPIHono<AppEnv>;

/** Build the app over the given services. Throws at once on an invalid rate-limit configuration. */
export function createApp(services: Services): LedgersealApp {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  for (const [name, scheme] of Object.entries(SECURITY_SCHEMES)) app.openAPIRegistry.registerComponent('securitySchemes', name, scheme);

  const limiter = tokenBuckets({
    perSecond: services.config.rateLimit.perSecond,
    burst: services.config.rateLimit.burst,
    now: () => services.clock.now().getTime(),
  });

  app.use('*', requestLog(services.log));
  app.use(
    '*',
    bodyLimit({
      maxSize: services.config.maxBodyBytes,
      onError: () => {
        throw new ApiError('payload-too-large', `request bodies are limited to ${services.config.maxBodyBytes} bytes`);
      },
    }),
  );
  app.use('*', strictJsonBody());

  registerAnchorRoutes(app, services, limiter);
  registerVerifyRoutes(app, services);
  registerLedgerRoutes(app, services);
  registerWebhookRoutes(app, services, limiter);
  registerWebhookEvents(app);
  registerAgencyRoutes(app, services, limiter);
  registerValidatorRoutes(app, services, limiter);
  registerHealthRoutes(app, services);
  app.doc31('/openapi.json', OPENAPI_OBJECT);
  if (services.webFiles) registerWebRoutes(app, services.webFiles, services);

  installProblemHandlers(app, services.log);
  return app;
}

/** The OpenAPI 3.1 document of an app (what scripts/gen-openapi.ts writes to openapi/openapi.json). */
export function openApiDocument(app: LedgersealApp): ReturnType<LedgersealApp['getOpenAPI31Document']> {
  return app.getOpenAPI31Document(OPENAPI_OBJECT);
}
