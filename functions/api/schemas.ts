/**
 * Shared pieces of the HTTP contract: the Hono context variables, the security
 * schemes, and the zod schemas more than one route group uses. Every schema
 * that gets a name here becomes `#/components/schemas/<Name>` in openapi.json.
 */
import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { ApiError } from './problem.ts';

/** Variables the middleware sets on the Hono context. */
export interface AppEnv {
  Variables: {
    requestId: string;
    /** Set by requireAgency. */
    agencyId: string | undefined;
    /** The authenticated key id (`admin` / `coordinator` for the configured keys). */
    keyId: string | undefined;
  };
}

/** Names of the bearer security schemes in openapi.json. */
export const SECURITY = {
  agency: 'agencyKey',
  admin: 'adminKey',
  coordinator: 'coordinatorKey',
} as const;

export const SECURITY_SCHEMES = {
  [SECURITY.agency]: {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'lsk_<keyId>_<secret>',
    description: 'An agency API key, created with POST /v1/agencies or POST /v1/agencies/{id}/keys.',
  },
  [SECURITY.admin]: {
    type: 'http',
    scheme: 'bearer',
    description: 'The operator key whose SHA-256 is configured as LEDGERSEAL_ADMIN_KEY_HASH.',
  },
  [SECURITY.coordinator]: {
    type: 'http',
    scheme: 'bearer',
    description: 'The round coordinator key whose SHA-256 is configured as LEDGERSEAL_COORDINATOR_KEY_HASH.',
  },
} as const;

/** The agency of the authenticated request (requireAgency ran before). */
export function agencyOf(c: Context<AppEnv>): string {
  const id = c.get('agencyId');
  if (!id) throw new ApiError('unauthorized');
  return id;
}

export const HashHex = z
  .string()
  .regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex characters (a SHA-256 hash)')
  .openapi('Hash', { description: 'A SHA-256 hash: 64 lowercase hex characters', example: 'a'.repeat(64) });

export const Timestamp = z.string().openapi('Timestamp', {
  description: 'RFC 3339 UTC time with milliseconds',
  example: '2026-11-22T04:32:16.123Z',
});

/** Free text of 1..max characters without control characters (names, labels, descriptions). */
export const Text = (max: number) =>
  z.string().regex(new RegExp(`^[^\\p{Cc}\\p{Cs}]{1,${max}}$`, 'u'), `must be 1..${max} characters without control characters`);

export const Cursor = z
  .string()
  .min(1)
  .max(1024)
  .openapi({ description: 'Opaque pagination cursor: the nextCursor of the previous page' });

/** `limit` query parameter: decimal 1..max, default dflt. */
export function limitParam(max: number, dflt: number) {
  return z
    .string()
    .regex(/^[1-9][0-9]{0,5}$/, `must be an integer from 1 to ${max}`)
    .transform(Number)
    .pipe(z.number().int().min(1).max(max, `must be an integer from 1 to ${max}`))
    .optional()
    .default(dflt)
    .openapi({ type: 'integer', minimum: 1, maximum: max, default: dflt, description: `Page size, 1..${max}` });
}

/** A non-negative decimal integer in a path or query parameter. */
export function indexParam(description: string) {
  return z
    .string()
    .regex(/^(0|[1-9][0-9]{0,14})$/, 'must be a non-negative decimal integer')
    .transform(Number)
    .openapi({ type: 'integer', minimum: 0, description });
}
