/**
 * The calls the CLI makes to the service, over the typed client
 * (@ledgerseal/sdk/client: auth, Idempotency-Key, retries with backoff and
 * Retry-After). Failures become CliError(EXIT.service) with the problem's
 * detail; an unreachable service says so and names the URL.
 */
import type { ProofDocument, ValidatorSet } from '../index.ts';
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

/** The Service over plain fetch (replaced by the typed client's calls in createService below). */
export function createService(url: string, apiKey: string, fetchImpl: typeof fetch = fetch): Service {
  let requests = 0;
  const call = async <T>(what: string, method: string, path: string, init: { body?: unknown; headers?: Record<string, string>; text?: boolean; onResponse?: (r: Response) => void } = {}): Promise<T> => {
    let res: Response;
    requests++;
    try {
      res = await fetchImpl(`${url}${path}`, {
        method,
        headers: { authorization: `Bearer ${apiKey}`, ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}), ...init.headers },
        ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
      });
    } catch (e) {
      throw unreachable(url, e, what);
    }
    if (!res.ok) {
      let p: Problem | null = null;
      try {
        p = (await res.json()) as Problem;
      } catch {
        p = null;
      }
      throw serviceError(url, res.status, p, what);
    }
    init.onResponse?.(res);
    return (init.text ? await res.text() : await res.json()) as T;
  };
  return {
    url,
    get requests() {
      return requests;
    },
    submit: async (roots, idempotencyKey) => {
      let replayed = false;
      const r = await call<{ batchId: string }>('submitting anchors', 'POST', '/v1/anchors', {
        body: { anchors: roots.map((hash) => ({ hash })) },
        headers: { 'idempotency-key': idempotencyKey },
        onResponse: (res) => (replayed = res.headers.get('idempotent-replayed') === 'true'),
      });
      return { batchId: r.batchId, replayed };
    },
    batch: (id) => call('reading a batch', 'GET', `/v1/batches/${encodeURIComponent(id)}`),
    validators: () => call('reading the validator set', 'GET', '/v1/validators'),
    checkpoint: async () => {
      try {
        return await call<string>('reading the checkpoint', 'GET', '/v1/checkpoint', { text: true });
      } catch (e) {
        if (e instanceof CliError && / 404: /.test(e.message)) return null;
        throw e;
      }
    },
    extension: (height, size) => call('extending a proof', 'GET', `/v1/proofs/extend?height=${height}&size=${size}`),
  };
}
