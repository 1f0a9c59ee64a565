/**
 * A bounded HTTP load generator for the service benchmarks: `fetch` from a
 * fixed number of workers (the concurrency), stopping at a fixed request count
 * OR a time cap, whichever comes first, and recording the latency of every
 * request (from the call until the body is read). Loopback only: a target
 * other than 127.0.0.1 is refused, so a mistyped URL never loads a real host.
 */

export interface LoadRequest {
  path: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
}

export interface LoadOptions {
  /** Base URL, e.g. http://127.0.0.1:8787 (must be 127.0.0.1). */
  url: string;
  concurrency: number;
  /** Requests to send in all (an upper bound: the time cap may stop earlier). */
  requests: number;
  /** No request starts after this many milliseconds. */
  timeCapMs: number;
  /** The i-th request (0-based); called right before it is sent. */
  request: (i: number) => LoadRequest;
  /** Expected status; anything else counts as an error. */
  expect: number;
  /** Called with the parsed JSON body of every expected answer. */
  onBody?: (i: number, body: unknown) => void;
}

export interface LoadResult {
  sent: number;
  ok: number;
  errors: number;
  /** First unexpected answer or exception, for the report. */
  firstError?: string;
  /** From the first request to the last answer. */
  wallMs: number;
  /** Latency of every expected answer, ms, sorted ascending. */
  latencies: Float64Array;
  /** True when the time cap, not the request count, ended the run. */
  capped: boolean;
}

export function assertLoopback(url: string): void {
  const u = new URL(url);
  if (u.hostname !== '127.0.0.1') throw new Error(`load generator: refusing non-loopback target ${u.hostname}`);
}

/** Nearest-rank percentile of an ascending array (p in 0..100). */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1]!;
}

export async function runLoad(opts: LoadOptions): Promise<LoadResult> {
  assertLoopback(opts.url);
  const base = opts.url.replace(/\/$/, '');
  const latencies: number[] = [];
  let next = 0;
  let ok = 0;
  let errors = 0;
  let firstError: string | undefined;
  let capped = false;
  const t0 = performance.now();
  const deadline = t0 + opts.timeCapMs;

  const worker = async (): Promise<void> => {
    for (;;) {
      if (next >= opts.requests) return;
      if (performance.now() >= deadline) {
        capped = true;
        return;
      }
      const i = next++;
      const r = opts.request(i);
      const started = performance.now();
      try {
        const res = await fetch(base + r.path, {
          method: r.method ?? 'GET',
          ...(r.headers ? { headers: r.headers } : {}),
          ...(r.body !== undefined ? { body: r.body } : {}),
        });
        const text = await res.text();
        const ms = performance.now() - started;
        if (res.status === opts.expect) {
          ok++;
          latencies.push(ms);
          opts.onBody?.(i, text === '' ? undefined : JSON.parse(text));
        } else {
          errors++;
          firstError ??= `HTTP ${res.status}: ${text.slice(0, 200)}`;
        }
      } catch (e) {
        errors++;
        firstError ??= e instanceof Error ? e.message : String(e);
      }
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, worker));
  const wallMs = performance.now() - t0;
  return {
    sent: next,
    ok,
    errors,
    ...(firstError !== undefined ? { firstError } : {}),
    wallMs,
    latencies: Float64Array.from(latencies).sort(),
    capped,
  };
}
