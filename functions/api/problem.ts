/**
 * Errors as RFC 9457 problem details (`application/problem+json`).
 *
 * One exception type (ApiError) carries one of a closed set of problem types;
 * ONE onError and ONE notFound handler turn everything into a problem response:
 * ApiError as is, Hono's HTTPExceptions (body limit, media type, malformed
 * JSON) by status, ledger errors by code, and anything else as a bare 500 whose
 * body never carries a message, a stack or any other internal detail (those go
 * to the log only).
 *
 * Problem types: `https://ledgerseal.dev/problems/<slug>`, slugs listed in
 * PROBLEM_TYPES below (and in docs/api.md). A type URI never changes meaning.
 * The one exception is POST /v1/validator/sign, whose refusals are part of the
 * validator wire protocol (ledger/validator-protocol.ts): they keep that
 * protocol's own `https://ledgerseal.dev/problems/validator/<code>` types.
 */
import { z } from '@hono/zod-openapi';
import type { Context, Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { ServiceError } from '../errors.ts';

export const PROBLEM_BASE = 'https://ledgerseal.dev/problems/';
export const PROBLEM_MEDIA_TYPE = 'application/problem+json';

/** The closed list of problem types: slug -> HTTP status and fixed title. */
export const PROBLEM_TYPES = {
  'validation-error': { status: 400, title: 'The request does not match the API contract' },
  'malformed-json': { status: 400, title: 'The request body is not valid JSON' },
  'invalid-range': { status: 400, title: 'The requested range does not exist in the calendar' },
  unauthorized: { status: 401, title: 'A valid API key is required' },
  forbidden: { status: 403, title: 'This key may not use this operation' },
  'not-found': { status: 404, title: 'No such resource' },
  'method-not-allowed': { status: 405, title: 'Method not allowed on this resource' },
  'payload-too-large': { status: 413, title: 'The request body is too large' },
  'unsupported-media-type': { status: 415, title: 'Unsupported request media type' },
  'idempotency-key-reuse': { status: 422, title: 'The Idempotency-Key was already used with a different request body' },
  'rate-limited': { status: 429, title: 'Too many requests' },
  'internal-error': { status: 500, title: 'Internal server error' },
  unavailable: { status: 503, title: 'The service is temporarily unavailable' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ProblemSlug = keyof typeof PROBLEM_TYPES;
export const PROBLEM_SLUGS = Object.keys(PROBLEM_TYPES) as ProblemSlug[];

/** One validation issue: where (`in` + RFC 6901 JSON Pointer) and what. */
export interface ProblemIssue {
  in: 'body' | 'query' | 'path' | 'header';
  path: string;
  message: string;
}

export interface ProblemExtras {
  errors?: ProblemIssue[];
  /** Extra response headers (Allow, Retry-After, WWW-Authenticate, RateLimit...). */
  headers?: Record<string, string>;
}

/** The one exception the API throws on purpose; onError renders it. */
export class ApiError extends Error {
  readonly status: number;
  constructor(readonly slug: ProblemSlug, readonly detail?: string, readonly extras: ProblemExtras = {}) {
    super(detail ?? PROBLEM_TYPES[slug].title);
    this.name = 'ApiError';
    this.status = PROBLEM_TYPES[slug].status;
  }
}

export const ProblemIssueSchema = z.object({
  in: z.enum(['body', 'query', 'path', 'header']),
  path: z.string().openapi({ description: 'RFC 6901 JSON Pointer into the request part named by `in`', example: '/anchors/0/hash' }),
  message: z.string(),
});

export const ProblemSchema = z
  .object({
    type: z.string().openapi({ description: `One of the documented types, ${PROBLEM_BASE}<slug>`, example: `${PROBLEM_BASE}not-found` }),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().optional(),
    instance: z.string().optional().openapi({ description: 'The request path' }),
    requestId: z.string().optional().openapi({ description: 'The request id, also sent as the X-Request-Id header' }),
    errors: z.array(ProblemIssueSchema).optional().openapi({ description: 'Validation issues (validation-error only), at most 20' }),
  })
  .openapi('Problem', { description: 'RFC 9457 problem details' });

type ProblemContent = { 'application/problem+json': { schema: typeof ProblemSchema } };
type ProblemResponseConfig = { description: string; headers?: Record<string, { description: string; schema: { type: 'string' | 'integer' } }>; content: ProblemContent };
type StatusOf<S extends ProblemSlug> = (typeof PROBLEM_TYPES)[S]['status'];

/** Response headers documented with some problem statuses. */
const PROBLEM_HEADERS: Partial<Record<number, ProblemResponseConfig['headers']>> = {
  401: { 'WWW-Authenticate': { description: 'RFC 6750 Bearer challenge', schema: { type: 'string' } } },
  429: {
    'Retry-After': { description: 'Seconds to wait before retrying', schema: { type: 'integer' } },
    RateLimit: { description: 'draft-ietf-httpapi-ratelimit-headers: remaining quota', schema: { type: 'string' } },
    'RateLimit-Policy': { description: 'draft-ietf-httpapi-ratelimit-headers: the quota policy', schema: { type: 'string' } },
  },
};

/**
 * OpenAPI response entries for the problems a route can answer, grouped by
 * status; `internal-error` (500) is always included.
 */
export function problemResponses<S extends ProblemSlug>(...slugs: S[]): Record<StatusOf<S> | 500, ProblemResponseConfig> {
  const byStatus = new Map<number, ProblemSlug[]>();
  for (const slug of [...slugs, 'internal-error' as const]) {
    const status = PROBLEM_TYPES[slug].status;
    const list = byStatus.get(status) ?? [];
    if (!list.includes(slug)) list.push(slug);
    byStatus.set(status, list);
  }
  const out: Record<number, ProblemResponseConfig> = {};
  for (const [status, list] of [...byStatus].sort((a, b) => a[0] - b[0])) {
    const headers = PROBLEM_HEADERS[status];
    out[status] = {
      description: `Problem ${list.map((k) => `\`${k}\``).join(', ')} (types ${PROBLEM_BASE}<slug>)`,
      ...(headers ? { headers } : {}),
      content: { [PROBLEM_MEDIA_TYPE]: { schema: ProblemSchema } } as ProblemContent,
    };
  }
  return out as Record<StatusOf<S> | 500, ProblemResponseConfig>;
}

export function problemResponse(c: Context, err: ApiError): Response {
  const t = PROBLEM_TYPES[err.slug];
  const body: Record<string, unknown> = { type: PROBLEM_BASE + err.slug, title: t.title, status: t.status };
  if (err.detail !== undefined) body.detail = err.detail;
  body.instance = c.req.path;
  const requestId = c.get('requestId' as never) as string | undefined;
  if (requestId) body.requestId = requestId;
  if (err.extras.errors) body.errors = err.extras.errors;
  const headers: Record<string, string> = { 'content-type': PROBLEM_MEDIA_TYPE, 'cache-control': 'no-store', ...err.extras.headers };
  return new Response(JSON.stringify(body), { status: t.status, headers });
}

const MAX_ISSUES = 20;

function pointer(path: readonly PropertyKey[]): string {
  return path.map((p) => '/' + String(p).replaceAll('~', '~0').replaceAll('/', '~1')).join('');
}

const TARGETS: Record<string, ProblemIssue['in']> = { json: 'body', form: 'body', query: 'query', param: 'path', header: 'header' };

/** Turn zod issues into a validation-error ApiError (at most 20 issues listed). */
export function validationError(target: string, issues: readonly { path: readonly PropertyKey[]; message: string }[]): ApiError {
  const where = TARGETS[target] ?? 'body';
  const errors = issues.slice(0, MAX_ISSUES).map((i) => ({ in: where, path: pointer(i.path), message: i.message }));
  const more = issues.length > MAX_ISSUES ? ` (first ${MAX_ISSUES} of ${issues.length} shown)` : '';
  return new ApiError('validation-error', `${issues.length} invalid value(s) in the request ${where}${more}`, { errors });
}

/** The OpenAPIHono defaultHook: every schema failure becomes one 400 validation-error problem. */
export function validationHook(
  result: { success: true } | { success: false; error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] }; target: string },
): void {
  if (!result.success) throw validationError(result.target, result.error.issues);
}

/** Map a thrown value to an ApiError; null when it is unexpected (a 500). */
export function toApiError(err: unknown): ApiError | null {
  if (err instanceof ApiError) return err;
  if (err instanceof ServiceError) {
    if (err.code === 'NOT_FOUND') return new ApiError('not-found', err.message);
    if (err.code === 'INVALID_RANGE') return new ApiError('invalid-range', err.message);
    return null;
  }
  if (err instanceof HTTPException) {
    switch (err.status) {
      case 400:
        return /json/i.test(err.message) ? new ApiError('malformed-json') : new ApiError('validation-error', err.message);
      case 401:
        return new ApiError('unauthorized');
      case 404:
        return new ApiError('not-found');
      case 413:
        return new ApiError('payload-too-large');
      case 415:
        return new ApiError('unsupported-media-type', 'send the body as application/json');
      default:
        return null;
    }
  }
  return null;
}

type LogFn = (fields: Record<string, unknown>) => void;

/** Install the ONE onError and the ONE notFound (404, or 405 with Allow when another method matches). */
export function installProblemHandlers(app: Hono<any, any, any>, logError: LogFn): void {
  app.onError((err, c) => {
    const apiError = toApiError(err);
    if (apiError) return problemResponse(c, apiError);
    const e = err as Error;
    logError({ msg: 'unhandled error', requestId: c.get('requestId' as never), name: e?.name, error: e?.message, stack: e?.stack });
    return problemResponse(c, new ApiError('internal-error'));
  });

  let table: { re: RegExp; method: string }[] | null = null;
  app.notFound((c) => {
    table ??= app.routes
      .filter((r) => r.method !== 'ALL' && !r.path.includes('*'))
      .map((r) => ({ method: r.method, re: new RegExp('^' + r.path.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/:[^/]+/g, '[^/]+') + '$') }));
    const allowed = new Set(table.filter((r) => r.re.test(c.req.path)).map((r) => r.method));
    if (allowed.size === 0 || allowed.has(c.req.method)) return problemResponse(c, new ApiError('not-found', `no resource at ${c.req.path}`));
    if (allowed.has('GET')) allowed.add('HEAD');
    const allow = [...allowed].sort().join(', ');
    return problemResponse(c, new ApiError('method-not-allowed', `${c.req.method} is not allowed here; use ${allow}`, { headers: { allow } }));
  });
}
