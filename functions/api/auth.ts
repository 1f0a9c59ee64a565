/**
 * Bearer-token authentication (RFC 6750 `Authorization: Bearer <token>`).
 *
 * Agency API keys have the form `lsk_<keyId>_<secret>`:
 * - keyId: 16 lower-case Crockford base32 characters (80 random bits), public,
 *   shown in key listings and logs;
 * - secret: 52 lower-case Crockford base32 characters encoding 32 random bytes
 *   (256 bits).
 * Only the lowercase hex SHA-256 of the whole token is stored; the token is
 * shown once, when it is created. A fast hash is enough because the secret is
 * 256 random bits (nothing to brute-force), and it allows a lookup by hash.
 *
 * The admin and the round-coordinator tokens are configured as hashes
 * (LEDGERSEAL_ADMIN_KEY_HASH, LEDGERSEAL_COORDINATOR_KEY_HASH) and compared in
 * constant time; any token works (the local runner generates `lsa_<secret>`).
 *
 * Key lookups are cached per process for LEDGERSEAL_KEY_CACHE_MS (2 s by
 * default), found and not found alike, so a request does not read the store to
 * authenticate: that read was a third of the store requests of a one-hash POST.
 * The bound is the revocation guarantee: a key revoked through this process is
 * refused at once; revoked through another process (another Lambda instance),
 * within the cache time (docs/api.md "Keys").
 */
import { bytesToHex, equalBytes, hexToBytes, sha256, utf8 } from '@ledgerseal/sdk';
import type { MiddlewareHandler } from 'hono';
import { base32Crockford, newKeyId, randomBytes } from '../ids.ts';
import type { Services } from '../services.ts';
import type { ApiKey } from '../store/port.ts';
import { ApiError } from './problem.ts';
import type { AppEnv } from './schemas.ts';

export const API_KEY_PREFIX = 'lsk_';
export const API_KEY_SECRET_BYTES = 32;
const API_KEY_RE = /^lsk_([0-9a-hjkmnp-tv-z]{16})_([0-9a-hjkmnp-tv-z]{52})$/;
const BEARER_RE = /^Bearer +([\x21-\x7e]{1,512}) *$/i;

/** Lowercase hex SHA-256 of a token: the only form in which tokens are stored or configured. */
export function hashToken(token: string): string {
  return bytesToHex(sha256(utf8(token)));
}

/** A new token `lsk_<keyId>_<secret>` with its hash; keyId defaults to a fresh random id. */
export function generateToken(keyId: string = newKeyId()): { keyId: string; token: string; keyHash: string } {
  const token = `${API_KEY_PREFIX}${keyId}_${base32Crockford(randomBytes(API_KEY_SECRET_BYTES)).toLowerCase()}`;
  return { keyId, token, keyHash: hashToken(token) };
}

/** A new admin token `lsa_<secret>` (the local runner's first start) with its hash. */
export function generateAdminToken(): { token: string; keyHash: string } {
  const token = `lsa_${base32Crockford(randomBytes(API_KEY_SECRET_BYTES)).toLowerCase()}`;
  return { token, keyHash: hashToken(token) };
}

/** The keyId of a well-formed agency token, or null. */
export function parseApiKey(token: string): { keyId: string } | null {
  const m = API_KEY_RE.exec(token);
  return m ? { keyId: m[1]! } : null;
}

/** Mint and store a new agency key; returns the token (shown once) and the stored record. */
export async function issueApiKey(services: Services, agencyId: string, label?: string): Promise<{ token: string; key: ApiKey }> {
  const { keyId, token, keyHash } = generateToken();
  const key: ApiKey = { keyId, agencyId, keyHash, createdAt: services.clock.now().toISOString() };
  if (label !== undefined) key.label = label;
  await services.store.putApiKey(key);
  return { token, key };
}

function bearer(header: string | undefined): string | null {
  if (!header) return null;
  const m = BEARER_RE.exec(header);
  return m ? m[1]! : null;
}

function unauthorized(detail: string, error?: 'invalid_token'): ApiError {
  const challenge = error ? `Bearer realm="ledgerseal", error="${error}"` : 'Bearer realm="ledgerseal"';
  return new ApiError('unauthorized', detail, { headers: { 'www-authenticate': challenge } });
}

/** Constant-time comparison of a presented token with a configured hash. */
function matchesHash(token: string, configuredHash: string | null): boolean {
  if (configuredHash === null) return false;
  return equalBytes(sha256(utf8(token)), hexToBytes(configuredHash, 32));
}

/** Most cached lookups; past it, the oldest entries go first. */
const KEY_CACHE_ENTRIES = 10_000;

interface KeyCache {
  entries: Map<string, { key: ApiKey | null; until: number }>;
  /** keyId -> keyHash of cached keys, to forget a key on revocation. */
  byId: Map<string, string>;
}

const caches = new WeakMap<Services, KeyCache>();

function cacheOf(services: Services): KeyCache {
  let c = caches.get(services);
  if (!c) caches.set(services, (c = { entries: new Map(), byId: new Map() }));
  return c;
}

/** Forget a cached key at once (revocation through this process). */
export function forgetApiKey(services: Services, keyId: string): void {
  const c = cacheOf(services);
  const hash = c.byId.get(keyId);
  if (hash !== undefined) c.entries.delete(hash);
  c.byId.delete(keyId);
}

/** The stored key of a token (cached for config.keyCacheMs), or null. */
async function lookupKey(services: Services, keyHash: string): Promise<ApiKey | null> {
  const ttl = services.config.keyCacheMs;
  if (ttl === 0) return services.store.getApiKeyByHash(keyHash);
  const c = cacheOf(services);
  const now = services.clock.now().getTime();
  const hit = c.entries.get(keyHash);
  if (hit && hit.until > now) return hit.key;
  const key = await services.store.getApiKeyByHash(keyHash);
  if (c.entries.size >= KEY_CACHE_ENTRIES) {
    const oldest = c.entries.keys().next().value!;
    c.entries.delete(oldest);
  }
  c.entries.delete(keyHash); // re-insert at the end: Map order is the age order
  c.entries.set(keyHash, { key, until: now + ttl });
  if (key) c.byId.set(key.keyId, keyHash);
  return key;
}

async function findAgencyKey(services: Services, token: string): Promise<ApiKey | null> {
  const parsed = parseApiKey(token);
  if (!parsed) return null;
  const key = await lookupKey(services, hashToken(token));
  if (!key || key.keyId !== parsed.keyId || key.revokedAt !== undefined) return null;
  return key;
}

/** Agency routes: a live agency key; sets agencyId and keyId. */
export function requireAgency(services: Services): MiddlewareHandler<AppEnv> {
  return async function requireAgency(c, next) {
    const token = bearer(c.req.header('authorization'));
    if (!token) throw unauthorized('send an agency API key as "Authorization: Bearer lsk_..."');
    const key = await findAgencyKey(services, token);
    if (!key) {
      // A valid key of another kind is authenticated but not allowed here: 403, as for agency keys on admin routes.
      const kind = matchesHash(token, services.config.adminKeyHash) ? 'admin' : matchesHash(token, services.config.coordinatorKeyHash) ? 'coordinator' : null;
      if (kind) throw new ApiError('forbidden', `the ${kind} key cannot use agency routes; send an agency API key (lsk_...)`);
      throw unauthorized('the API key is unknown, malformed or revoked', 'invalid_token');
    }
    c.set('agencyId', key.agencyId);
    c.set('keyId', key.keyId);
    await next();
  };
}

function requireConfigured(services: Services, which: 'admin' | 'coordinator'): MiddlewareHandler<AppEnv> {
  const hash = (): string | null => (which === 'admin' ? services.config.adminKeyHash : services.config.coordinatorKeyHash);
  return async function requireRole(c, next) {
    const token = bearer(c.req.header('authorization'));
    if (!token) throw unauthorized(`send the ${which} key as "Authorization: Bearer <token>"`);
    if (!matchesHash(token, hash())) {
      // A valid key of another kind (an agency key, the other configured key) is authenticated but not allowed here: 403, not 401.
      const other = which === 'admin' ? services.config.coordinatorKeyHash : services.config.adminKeyHash;
      if (matchesHash(token, other) || (await findAgencyKey(services, token))) throw new ApiError('forbidden', `this operation needs the ${which} key`);
      throw unauthorized(`the ${which} key is not valid`, 'invalid_token');
    }
    c.set('keyId', which);
    await next();
  };
}

/** Admin routes (agencies and keys). */
export const requireAdmin = (services: Services): MiddlewareHandler<AppEnv> => requireConfigured(services, 'admin');

/** The validator endpoint, called by the round coordinator. */
export const requireCoordinator = (services: Services): MiddlewareHandler<AppEnv> => requireConfigured(services, 'coordinator');
