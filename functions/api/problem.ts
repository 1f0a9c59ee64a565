/**
 * Errors as RFC 9457 problem details (`application/problem+json`).
 *
 * This is the ONE place that maps errors to responses. One exception type
 * (ApiError) carries one of a closed set of problem types; ONE onError and ONE
 * notFound handler turn everything into a problem response: ApiError as is,
 * Hono's HTTPExceptions (body limit, media type, malformed JSON) by status,
 * service errors (ServiceError) by code, validator refusals as the validator
 * protocol's problems, and anything else as a 500 whose body never carries a
 * message, a stack or any other internal detail (those go to the log only).
 * Routes do not catch errors to answer them.
 *
 * Every problem has a `detail` of at most MAX_DETAIL characters. Problem types:
 * `https://ledgerseal.dev/problems/<slug>`, slugs listed in PROBLEM_TYPES below
 * (and in docs/api.md). A type URI never changes meaning. The one exception is
 * POST /v1/validator/sign, whose refusals are part of the validator wire
 * protocol (validator/protocol.ts): they keep that protocol's own
 * `https://ledgerseal.dev/problems/validator/<code>` types.
 */
import { z } from '@hono/zod-openapi';
import type { Context, Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { ServiceError } from '../errors.ts';
import { refusalProblem, ValidatorRefusal } from '../validator/protocol.ts';
import { bodyProblem } from './json-body.ts';
import type { Logger } from '../services.ts';

export const PROBLEM_BASE = 'https://ledgerseal.dev/problems/';
export const PROBLEM_MEDIA_TYPE = 'application/problem+json';

/** The closed list of problem types: slug -> HTTP status and fixed title. */
export const PROBLEM_TYPES = {
  'validation-error': { status: 400, title: 'The request does not match the API contract' },
  'malformed-json': { status: 400, title: 'The request body is not valid JSON' },
  'malformed-request': { status: 400, title: 'The request is not valid HTTP' },
  'invalid-range': { status: 400, title: 'The requested range does not exist in the calendar' },
  'webhook-target-refused': { status: 400, title: 'Webhooks are never sent to this address' },
  unauthorized: { status: 401, title: 'A valid API key is required' },
  forbidden: { status: 403, title: 'This key may not use this operation' },
  'not-found': { status: 404, title: 'No such resource' },
  'method-not-allowed': { status: 405, title: 'Method not allowed on this resource' },
  'request-timeout': { status: 408, title: 'The request did not arrive in time' },
  'payload-too-large': { status: 413, title: 'The request body is too large' },
  'unsupported-media-type': { status: 415, title: 'Unsupported request media type' },
  'limit-exceeded': { status: 409, title: 'A limit on the number of such resources is reached' },
  'endpoint-disabled': { status: 409, title: 'The webhook endpoint is disabled' },
  'idempotency-key-reuse': { status: 422, title: 'The Idempotency-Key was already used with a different request body' },
  'rate-limited': { status: 429, title: 'Too many requests' },
  'header-fields-too-large': { status: 431, title: 'Request header fields too large' },
  'internal-error': { status: 500, title: 'Internal server error' },
  'unreadable-batch': { status: 500, title: 'A stored batch failed its integrity check' },
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

/** Longest `detail`, in characters; longer ones are cut with an ellipsis. */
export const MAX_DETAIL = 1_000;

/** Details for the problems that are raised without one. */
const DEFAULT_DETAIL: Partial<Record<ProblemSlug, string>> = {
  'malformed-json': 'the body must be one JSON value in UTF-8 without a byte order mark (RFC 8259)',
  unauthorized: 'send a valid key as "Authorization: Bearer <token>"',
  'not-found': 'no resource here',
  'payload-too-large': 'the request body exceeds the size limit',
  'internal-error': 'the server failed; the request id identifies it in the server log',
};

export const boundDetail = (d: string): string => (d.length <= MAX_DETAIL ? d : `${d.slice(0, MAX_DETAIL - 1)}\u2026`);

/** The body of a problem of this slug (status, title and a bounded detail). */
export function problemBody(slug: ProblemSlug, detail?: string): { status: number; title: string; body: Record<string, unknown> } {
  const t = PROBLEM_TYPES[slug];
  const d = boundDetail(detail ?? DEFAULT_DETAIL[slug] ?? t.title);
  return { status: t.status, title: t.title, body: { type: PROBLEM_BASE + slug, title: t.title, status: t.status, detail: d } };
}

export function problemResponse(c: Context, err: ApiError): Response {
  const { status, body } = problemBody(err.slug, err.detail);
  body.instance = c.req.path;
  const requestId = c.get('requestId' as never) as string | undefined;
  if (requestId) body.requestId = requestId;
  if (err.extras.errors) body.errors = err.extras.errors;
  const headers: Record<string, string> = { 'content-type': PROBLEM_MEDIA_TYPE, 'cache-control': 'no-store', ...err.extras.headers };
  return new Response(JSON.stringify(body), { status, headers });
}

const MAX_ISSUES = 20;

function pointer(path: readonly PropertyKey[]): string {
  return path.map((p) => '/' + String(p).replaceAll('~', '~0').replaceAll('/', '~1')).join('');
}

/** A path as people write it: `anchors[0].hash`; the whole part for an empty path. */
function fieldName(path: readonly PropertyKey[], where: ProblemIssue['in']): string {
  if (path.length === 0) return where === 'body' ? 'the body' : `the ${where}`;
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join('');
}

const TARGETS: Record<string, ProblemIssue['in']> = { json: 'body', form: 'body', query: 'query', param: 'path', header: 'header' };

/** A zod issue, as much of it as the mapping reads (zod 4 issue shapes). */
export interface ZodLikeIssue {
  path: readonly PropertyKey[];
  message: string;
  code?: string;
  expected?: unknown;
  minimum?: unknown;
  maximum?: unknown;
  origin?: unknown;
  inclusive?: unknown;
  keys?: readonly string[];
  values?: readonly unknown[];
}

const ZOD_DEFAULT = /^(Invalid input|Too (small|big)|Unrecognized key|Invalid (string|option|discriminator|element|key|union)|Required)/;
const plural = (n: unknown, unit: string): string => `${String(n)} ${unit}${n === 1 ? '' : 's'}`;

/** The rule an issue broke, in plain words (the schema's own message when it wrote one). */
export function plainMessage(issue: ZodLikeIssue): string {
  const custom = !ZOD_DEFAULT.test(issue.message);
  switch (issue.code) {
    case 'invalid_type': {
      const received = /received (\w+)/.exec(issue.message)?.[1];
      if (received === 'undefined') return 'is required';
      const expected = String(issue.expected);
      const article = /^[aeiou]/.test(expected) ? 'an' : 'a';
      return `must be ${expected === 'record' || expected === 'object' ? 'a JSON object' : `${article} ${expected}`}${received ? `, not ${received === 'null' ? 'null' : `${/^[aeiou]/.test(received) ? 'an' : 'a'} ${received}`}` : ''}`;
    }
    case 'unrecognized_keys':
      return `has ${issue.keys && issue.keys.length > 1 ? 'unknown fields' : 'an unknown field'} ${(issue.keys ?? []).map((k) => `"${k}"`).join(', ')}`;
    case 'too_small':
    case 'too_big': {
      if (custom) return issue.message;
      const bound = issue.code === 'too_small' ? issue.minimum : issue.maximum;
      const word = issue.code === 'too_small' ? 'at least' : 'at most';
      const strict = issue.inclusive === false ? (issue.code === 'too_small' ? 'more than' : 'less than') : word;
      if (issue.origin === 'string') return `must be ${strict} ${plural(bound, 'character')} long`;
      if (issue.origin === 'array' || issue.origin === 'set') return `must have ${strict} ${plural(bound, 'item')}`;
      return `must be ${strict} ${String(bound)}`;
    }
    case 'invalid_value':
      return custom ? issue.message : `must be ${(issue.values ?? []).length === 1 ? '' : 'one of '}${(issue.values ?? []).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'invalid_union':
      return custom ? issue.message : 'does not have any of the accepted shapes';
    case 'invalid_format':
      return custom ? issue.message : 'is not in the required format';
    default:
      return custom ? issue.message : 'is not valid';
  }
}

/** Turn zod issues into a validation-error ApiError: each names the field and the rule (at most 20 listed). */
export function validationError(target: string, issues: readonly ZodLikeIssue[]): ApiError {
  const where = TARGETS[target] ?? 'body';
  const errors = issues.slice(0, MAX_ISSUES).map((i) => ({ in: where, path: pointer(i.path), message: `${fieldName(i.path, where)} ${plainMessage(i)}` }));
  const first = errors[0]?.message ?? `the request ${where} is not valid`;
  const more = issues.length > 1 ? ` (and ${plural(issues.length - 1, 'more problem')}${issues.length > MAX_ISSUES ? `; the first ${MAX_ISSUES} are listed` : ''})` : '';
  return new ApiError('validation-error', `${where === 'body' ? '' : `${where}: `}${first}${more}`, { errors });
}

/** The OpenAPIHono defaultHook: every schema failure becomes one 400 validation-error problem. */
export function validationHook(
  result: { success: true } | { success: false; error: { issues: readonly ZodLikeIssue[] }; target: string },
): void {
  if (!result.success) throw validationError(result.target, result.error.issues);
}

/** Map a thrown value to an ApiError; null when it is unexpected (a 500). */
export function toApiError(err: unknown): ApiError | null {
  if (err instanceof ApiError) return err;
  if (err instanceof ServiceError) {
    switch (err.code) {
      case 'NOT_FOUND':
        return new ApiError('not-found', err.message);
      case 'INVALID_RANGE':
        return new ApiError('invalid-range', err.message);
      case 'INVALID_CURSOR':
        return validationError('query', [{ path: ['cursor'], message: 'is not a cursor returned by this endpoint' }]);
      case 'UNREADABLE_BATCH':
        return new ApiError('unreadable-batch', `${err.message}; an operator must restore it (docs/operations.md, "Quarantined batches")`);
      default:
        return null;
    }
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

/** Install the ONE onError and the ONE notFound (404, or 405 with Allow when another method matches). */
export function installProblemHandlers(app: Hono<any, any, any>, log: Logger): void {
  app.onError((err, c) => {
    const requestId = c.get('requestId' as never) as string | undefined;
    if (err instanceof ValidatorRefusal) {
      // An answer of the validator protocol, not a server error: its own problem type and status.
      const body = refusalProblem(err, err.validator ?? 'unknown');
      body.detail = boundDetail(body.detail);
      log.warn({ msg: 'validator refused', requestId, validator: body.validator, code: err.code, detail: body.detail });
      return new Response(JSON.stringify(body), { status: body.status, headers: { 'content-type': PROBLEM_MEDIA_TYPE, 'cache-control': 'no-store' } });
    }
    let apiError = toApiError(err);
    const why = apiError?.slug === 'malformed-json' ? bodyProblem(c) : undefined;
    if (why) apiError = new ApiError('malformed-json', why);
    if (apiError) {
      if (apiError.slug === 'unreadable-batch') log.error({ msg: 'unreadable batch', requestId, error: (err as Error).message });
      return problemResponse(c, apiError);
    }
    const e = err as Error;
    log.error({ msg: 'unhandled error', requestId, name: e?.name, error: e?.message, stack: e?.stack });
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
