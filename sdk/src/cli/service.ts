/**
 * The calls the CLI makes to the service, over the typed client
 * (@ledgerseal/sdk/client: auth, Idempotency-Key, retries with backoff and
 * Retry-After). Failures become CliError(EXIT.service) with the problem's
 * detail; an unreachable service says so and names the URL.
 */
import type { ProofDocument, ValidatorSet } from '../index.ts';
import { createLedgersealClient, LedgersealApiError, unwrap } from '../client/client.ts';
import { CliError, EXIT } from './errors.ts';

export interface BatchState {
  id: string;
  size: number;
  root: string;
  status: 'pending' | 'confirmed';
  proof?: ProofDocument;
}

export interface Service {
  readonly url: string;
  /** HTTP requests made so far (retries included). */
  readonly requests: number;
  /** `replayed`: the service already had this Idempotency-Key and answered with the batch it stored then. */
  submit(roots: string[], idempotencyKey: string): Promise<{ batchId: string; replayed: boolean }>;
  batch(id: string): Promise<BatchState>;
  validators(): Promise<ValidatorSet>;
  /** The latest checkpoint note, or null before the first block. */
  checkpoint(): Promise<string | null>;
  extension(height: number, size: number): Promise<{ calendar: { size: number; path: string[] }; checkpoint: string }>;
}

interface Problem {
  type?: string;
  title?: string;
  detail?: string;
}

export function serviceError(url: string, status: number, problem: Problem | null, what: string): CliError {
  if (status === 401) return new CliError(EXIT.service, `${what}: the service at ${url} refused the API key (401); check LEDGERSEAL_API_KEY`);
  const detail = problem?.detail ?? problem?.title ?? `HTTP ${status}`;
  return new CliError(EXIT.service, `${what}: the service at ${url} answered ${status}: ${detail}`);
}

export function unreachable(url: string, e: unknown, what: string): CliError {
  const cause = e instanceof Error ? ((e.cause as Error | undefined)?.message ?? e.message) : String(e);
  return new CliError(EXIT.service, `${what}: cannot reach the service at ${url} (${cause}); is it running, and is LEDGERSEAL_URL right?`, { cause: e });
}

/**
 * The Service over the typed client. `fetchImpl` is the transport under the
 * client's retries (tests count or fail requests with it); `retries` 0 turns
 * retrying off (a service that is down answers at once).
 */
export function createService(url: string, apiKey: string, options: { fetch?: typeof fetch; retries?: number } = {}): Service {
  let requests = 0;
  const transport = options.fetch ?? globalThis.fetch;
  const client = createLedgersealClient({
    baseUrl: url,
    apiKey,
    retries: options.retries ?? 4,
    fetch: (input: Request) => {
      requests++;
      return transport(input);
    },
  });
  const call = async <T>(what: string, run: () => Promise<{ data?: T; error?: unknown; response: Response }>): Promise<{ data: T; response: Response }> => {
    let r: { data?: T; error?: unknown; response: Response };
    try {
      r = await run();
    } catch (e) {
      throw unreachable(url, e, what);
    }
    try {
      return { data: unwrap(r), response: r.response };
    } catch (e) {
      if (e instanceof LedgersealApiError) throw serviceError(url, e.status, { detail: e.detail ?? e.title ?? '' }, what);
      throw e;
    }
  };
  return {
    url,
    get requests() {
      return requests;
    },
    submit: async (roots, idempotencyKey) => {
      const { data, response } = await call('submitting anchors', () =>
        client.POST('/v1/anchors', { body: { anchors: roots.map((hash) => ({ hash })) }, params: { header: { 'idempotency-key': idempotencyKey } } }));
      return { batchId: data.batchId, replayed: response.headers.get('idempotent-replayed') === 'true' };
    },
    batch: async (id) => (await call('reading a batch', () => client.GET('/v1/batches/{id}', { params: { path: { id } } }))).data as BatchState,
    validators: async () => (await call('reading the validator set', () => client.GET('/v1/validators'))).data as ValidatorSet,
    checkpoint: async () => {
      try {
        return (await call('reading the checkpoint', () => client.GET('/v1/checkpoint', { parseAs: 'text' }))).data as string;
      } catch (e) {
        if (e instanceof CliError && / 404: /.test(e.message)) return null;
        throw e;
      }
    },
    extension: async (height, size) => (await call('extending a proof', () => client.GET('/v1/proofs/extend', { params: { query: { height, size } } }))).data,
  };
}
