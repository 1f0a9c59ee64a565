/**
 * GET /healthz (public): 200 when the store answers a read, 503 `unavailable`
 * otherwise. Cheap enough for a load balancer to call every few seconds: one
 * query for the latest block, which also reports how far the ledger got.
 */
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import type { Services } from '../services.ts';
import { ApiError, problemResponses } from './problem.ts';
import { type AppEnv, Timestamp } from './schemas.ts';

const HEALTH_TIMEOUT_MS = 5_000;

const healthRoute = createRoute({
  method: 'get',
  path: '/healthz',
  operationId: 'health',
  tags: ['health'],
  summary: 'Liveness and store health',
  security: [],
  responses: {
    200: {
      description: 'The service and its store answer',
      content: {
        'application/json': {
          schema: z
            .object({
              status: z.literal('ok'),
              time: Timestamp,
              origin: z.string(),
              height: z.number().int().nullable().openapi({ description: 'Height of the latest block, null before the first' }),
            })
            .openapi('Health'),
        },
      },
    },
    ...problemResponses('unavailable'),
  },
});

export function registerHealthRoutes(app: OpenAPIHono<AppEnv>, services: Services): void {
  app.openapi(healthRoute, async (c) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`store did not answer within ${HEALTH_TIMEOUT_MS} ms`)), HEALTH_TIMEOUT_MS);
    });
    let height: number | null;
    try {
      height = (await Promise.race([services.store.getLatestBlock(), timeout]))?.height ?? null;
    } catch (e) {
      services.log.error({ msg: 'health check failed', requestId: c.get('requestId'), error: (e as Error).message });
      throw new ApiError('unavailable', 'the store does not answer');
    } finally {
      clearTimeout(timer);
    }
    c.header('cache-control', 'no-store');
    return c.json({ status: 'ok' as const, time: services.clock.now().toISOString(), origin: services.config.origin, height }, 200);
  });
}
