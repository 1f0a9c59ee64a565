/**
 * The HTTP client of the Ledgerseal API: an openapi-fetch `Client<paths>` over the
 * generated contract (./openapi.ts, written by `npm run gen:openapi`), with
 *
 * - middleware: `Authorization: Bearer <apiKey>`, and an `Idempotency-Key` on every
 *   `POST /v1/anchors` (the caller's, or a fresh random one);
 * - a retrying transport under the middleware (the `fetch` it calls): idempotent
 *   requests (GET, HEAD, and any request carrying an Idempotency-Key, which
 *   every POST /v1/anchors does) are retried on network errors and on 408, 429,
 *   500, 502, 503 and 504, with exponential backoff and full jitter, or after
 *   the server's `Retry-After` (capped). Every attempt re-sends the same request,
 *   so a retried submission carries the same Idempotency-Key and the service
 *   answers it with the first batch. Other requests are never retried. Retrying
 *   below the middleware means every middleware (also ones added with `use`)
 *   sees one request and its final response.
 *
 * Errors: openapi-fetch returns `{ data }` or `{ error, response }` and does not
 * throw; `unwrap(result)` returns the data or throws `LedgersealApiError`, which
 * carries the HTTP status and the RFC 9457 problem (type, title, detail).
 *
 * Runs in Node (>= 20) and browsers: only fetch, Request, AbortSignal and Web
 * Crypto are used, nothing from `node:`.
 */
import createClient, { type Client, type Middleware } from 'openapi-fetch';
import type { components, paths } from './openapi.ts';

export type LedgersealClient = Client<paths>;

/** An RFC 9457 problem document as the API writes it (components.schemas.Problem). */
export type Problem = components['schemas']['Problem'];

/** Problem types are `${PROBLEM_TYPE_BASE}<slug>`. */
export const PROBLEM_TYPE_BASE = 'https://ledgerseal.dev/problems/';

/**
 * The slugs of the problem types the API answers (docs/api.md, "Errors"). A type
 * URI never changes meaning; new slugs may be added.
 */
export const PROBLEM_SLUGS = [
  'validation-error',
  'malformed-json',
  'malformed-request',
  'invalid-range',
  'webhook-target-refused',
  'unauthorized',
  'forbidden',
  'not-found',
  'method-not-allowed',
  'request-timeout',
  'payload-too-large',
  'unsupported-media-type',
  'limit-exceeded',
  'endpoint-disabled',
  'idempotency-key-reuse',
  'rate-limited',
  'header-fields-too-large',
  'internal-error',
  'unreadable-batch',
  'unavailable',
] as const;
export type ProblemSlug = (typeof PROBLEM_SLUGS)[number];

/** The problem type URI of a slug. */
export function problemType(slug: ProblemSlug): string {
  return PROBLEM_TYPE_BASE + slug;
}

/**
 * An API call answered with an error status. `type`, `title` and `detail` are the
 * RFC 9457 problem's (`type` is `about:blank` when the body was no problem
 * document, e.g. from a proxy); `problem` is the whole body.
 */
export class LedgersealApiError extends Error {
  readonly status: number;
  readonly type: string;
  readonly title: string;
  readonly detail: string | undefined;
  readonly problem: Problem;
  /** The request id (X-Request-Id, or the problem's `requestId`), for the service's log. */
  readonly requestId: string | undefined;

  constructor(status: number, problem: Problem, requestId?: string) {
    super(`${status} ${problem.title}${problem.detail !== undefined ? `: ${problem.detail}` : ''} (${problem.type})`);
    this.name = 'LedgersealApiError';
    this.status = status;
    this.type = problem.type;
    this.title = problem.title;
    this.detail = problem.detail;
    this.problem = problem;
    this.requestId = requestId ?? problem.requestId;
  }

  /** The slug of a Ledgerseal problem type (`rate-limited`), or undefined for any other type. */
  get slug(): string | undefined {
    return this.type.startsWith(PROBLEM_TYPE_BASE) ? this.type.slice(PROBLEM_TYPE_BASE.length) : undefined;
  }

  /** Whether this is the problem of the given slug: `if (e.is('rate-limited')) ...`. */
  is(slug: ProblemSlug): boolean {
    return this.type === PROBLEM_TYPE_BASE + slug;
  }

  /** The error for an error response and its body as openapi-fetch parsed it (JSON, or text). */
  static fromResponse(response: Response, body: unknown): LedgersealApiError {
    const requestId = response.headers.get('x-request-id') ?? undefined;
    if (isProblem(body)) return new LedgersealApiError(response.status, body, requestId);
    const text = typeof body === 'string' && body.length > 0 ? body.slice(0, 1000) : undefined;
    const problem: Problem = { type: 'about:blank', title: response.statusText || `HTTP ${response.status}`, status: response.status };
    if (text !== undefined) problem.detail = text;
    return new LedgersealApiError(response.status, problem, requestId);
  }
}

function isProblem(v: unknown): v is Problem {
  if (typeof v !== 'object' || v === null) return false;
  const p = v as Record<string, unknown>;
  return typeof p.type === 'string' && typeof p.title === 'string' && (p.detail === undefined || typeof p.detail === 'string');
}

/**
 * The data of an openapi-fetch result, or a thrown LedgersealApiError for an error
 * response: `const batch = unwrap(await client.GET('/v1/batches/{id}', ...))`.
 */
export function unwrap<D>(result: { data?: D; error?: unknown; response: Response }): D {
  if (!result.response.ok) throw LedgersealApiError.fromResponse(result.response, result.error);
  return result.data as D;
}

// ---- retries ----

/** Statuses worth another attempt of an idempotent request. */
export const RETRY_STATUSES: readonly number[] = [408, 429, 500, 502, 503, 504];

export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

/** setTimeout as a promise; rejects with the signal's reason when it aborts. */
export const defaultSleep: Sleep = (ms, signal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });

export interface RetryOptions {
  /** Further attempts after the first (default 4). 0 turns retries off. */
  retries?: number;
  /** Backoff base: attempt n (from 0) waits a random time in [0, min(retryMaxMs, retryBaseMs * 2^n)) (default 250). */
  retryBaseMs?: number;
  /** Longest wait between attempts, also for a longer Retry-After (default 30,000). */
  retryMaxMs?: number;
  /** Waits between attempts (default: setTimeout); receives the request's signal. */
  sleep?: Sleep;
  /** Uniform in [0, 1) for the jitter (default Math.random). */
  random?: () => number;
  /** Milliseconds since the epoch, for a Retry-After given as an HTTP-date (default Date.now). */
  now?: () => number;
  /** Called before each retry, e.g. for logging. */
  onRetry?: (info: { attempt: number; delayMs: number; request: Request; status?: number; error?: unknown }) => void;
}

/**
 * The delay a `Retry-After` value asks for, in milliseconds (RFC 9110 10.2.3:
 * delay-seconds or an HTTP-date), or undefined when it is absent or unreadable.
 */
export function retryAfterMs(value: string | null, now: number): number | undefined {
  if (value === null) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  // HTTP-date: IMF-fixdate, or the obsolete RFC 850 and asctime forms; all start with the day name.
  if (!/^(Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*,? /.test(v)) return undefined;
  const date = Date.parse(v);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/** Safe to send twice: GET and HEAD, and requests made safe by an Idempotency-Key. */
export function isRetryable(request: Request): boolean {
  return request.method === 'GET' || request.method === 'HEAD' || request.headers.has('idempotency-key');
}

function nonNegative(name: string, v: number | undefined, fallback: number): number {
  const n = v ?? fallback;
  if (!Number.isFinite(n) || n < 0) throw new RangeError(`${name} must be a non-negative number, got ${String(v)}`);
  return n;
}

type FetchFn = (request: Request, init?: Record<string, unknown>) => Promise<Response>;

/**
 * A fetch that retries idempotent requests (see isRetryable) on network errors
 * and RETRY_STATUSES. The response of the last attempt is returned as it is; an
 * aborted request is never retried.
 */
export function retryingFetch(fetchFn: FetchFn, options: RetryOptions = {}): FetchFn {
  const retries = nonNegative('retries', options.retries, 4);
  if (!Number.isInteger(retries)) throw new RangeError(`retries must be an integer, got ${retries}`);
  const base = nonNegative('retryBaseMs', options.retryBaseMs, 250);
  const max = nonNegative('retryMaxMs', options.retryMaxMs, 30_000);
  const sleep = options.sleep ?? defaultSleep;
  const random = options.random ?? Math.random;
  const now = options.now ?? Date.now;

  const backoff = (attempt: number): number => Math.floor(random() * Math.min(max, base * 2 ** attempt));

  return async (request, init) => {
    if (retries === 0 || !isRetryable(request)) return fetchFn(request, init);
    // A pristine copy to re-send: the first attempt consumes `request`'s body.
    const template = request.clone();
    let current = request;
    for (let attempt = 0; ; attempt++) {
      let response: Response;
      try {
        response = await fetchFn(current, init);
      } catch (error) {
        if (request.signal.aborted || attempt >= retries) throw error;
        const delayMs = backoff(attempt);
        options.onRetry?.({ attempt: attempt + 1, delayMs, request, error });
        await sleep(delayMs, request.signal);
        current = template.clone();
        continue;
      }
      if (!RETRY_STATUSES.includes(response.status) || attempt >= retries || request.signal.aborted) return response;
      const asked = retryAfterMs(response.headers.get('retry-after'), now());
      const delayMs = asked !== undefined ? Math.min(asked, max) : backoff(attempt);
      await response.body?.cancel().catch(() => undefined); // free the connection
      options.onRetry?.({ attempt: attempt + 1, delayMs, request, status: response.status });
      await sleep(delayMs, request.signal);
      current = template.clone();
    }
  };
}

// ---- middleware ----

/** `Authorization: Bearer <apiKey>` on every request that does not set its own. */
export function authMiddleware(apiKey: string): Middleware {
  if (typeof apiKey !== 'string' || apiKey.length === 0) throw new TypeError('apiKey must be a non-empty string');
  return {
    onRequest({ request }) {
      if (!request.headers.has('authorization')) request.headers.set('authorization', `Bearer ${apiKey}`);
      return request;
    },
  };
}

/** A fresh Idempotency-Key: a random UUID (Web Crypto), or 128 random bits in hex where randomUUID is missing. */
export function randomIdempotencyKey(): string {
  const c = globalThis.crypto;
  if (typeof c.randomUUID === 'function') return c.randomUUID();
  let out = '';
  for (const b of c.getRandomValues(new Uint8Array(16))) out += b.toString(16).padStart(2, '0');
  return out;
}

/**
 * An Idempotency-Key on every POST /v1/anchors: the one the caller sent
 * (`params: { header: { 'idempotency-key': ... } }`) or a fresh one. It is set
 * once per call, before the retrying transport, so every retry carries it.
 */
export function idempotencyMiddleware(newKey: () => string = randomIdempotencyKey): Middleware {
  return {
    onRequest({ request, schemaPath }) {
      if (request.method === 'POST' && schemaPath === '/v1/anchors' && !request.headers.has('idempotency-key')) {
        request.headers.set('idempotency-key', newKey());
      }
      return request;
    },
  };
}

export interface LedgersealClientOptions extends RetryOptions {
  /** The service's base URL, e.g. `https://ledgerseal.example.gov` (no /v1). */
  baseUrl: string;
  /** The agency API key (`lsk_...`), sent as a bearer token; omit for the public ledger routes only. */
  apiKey?: string;
  /** The fetch to use (default globalThis.fetch, looked up at call time). */
  fetch?: (request: Request) => Promise<Response>;
  /** Headers sent with every request. */
  headers?: Record<string, string>;
  /** Makes the Idempotency-Key of a POST /v1/anchors the caller did not key (default randomIdempotencyKey). */
  idempotencyKey?: () => string;
}

/**
 * An openapi-fetch client of the Ledgerseal API with auth, idempotency keys and
 * retries (see the module comment). Per call, pass `signal` to abort (also
 * during a wait between retries) and `params.header['idempotency-key']` to key a
 * submission yourself.
 */
export function createLedgersealClient(options: LedgersealClientOptions): LedgersealClient {
  if (typeof options?.baseUrl !== 'string' || options.baseUrl.length === 0) throw new TypeError('baseUrl is required');
  const inner: FetchFn = (request, init) => (options.fetch ?? (globalThis.fetch as FetchFn))(request, init);
  const client = createClient<paths>({
    baseUrl: options.baseUrl,
    fetch: retryingFetch(inner, options),
    ...(options.headers ? { headers: options.headers } : {}),
  });
  if (options.apiKey !== undefined) client.use(authMiddleware(options.apiKey));
  client.use(idempotencyMiddleware(options.idempotencyKey));
  return client;
}
