/**
 * Where a validator reads the public log when it must catch up or check for a
 * rollback (README.md "Catching up"): the coordinator's PUBLIC API, never its
 * table. Nothing read here is trusted: catch-up.ts adopts a block only if its
 * checkpoint carries a quorum of the validator's own set and the validator's
 * frontier, extended by the block headers, gives exactly that root.
 *
 *   latestCheckpoint()   GET /v1/checkpoint            the latest signed note (null: no block yet)
 *   blocks(from, limit)  GET /v1/blocks?from=&limit=   blocks in height order (the ones that exist)
 *
 * One implementation over HTTP (fetch with a timeout). The local runner and the
 * tests pass `fetch: (url, init) => app.request(url, init)`: the same public
 * routes, served in process.
 */

export interface PublicBlock {
  height: number;
  header: string;
  /** Signed note of the checkpoint of size height + 1. */
  checkpoint: string;
}

export interface LedgerSource {
  /** Where it reads, for messages. */
  readonly location: string;
  latestCheckpoint(): Promise<string | null>;
  /** Up to `limit` (<= 1000) blocks from height `from` on, in height order; fewer when the log ends. */
  blocks(from: number, limit: number): Promise<PublicBlock[]>;
}

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response> | Response;

export interface HttpLedgerSourceOptions {
  /** The ledger API's base URL, e.g. `https://ledger.example.gov` (LEDGERSEAL_LEDGER_URL). */
  url: string;
  /** Per request (default 10 s). */
  timeoutMs?: number;
  /** Default: the global fetch. */
  fetch?: FetchLike;
}

/** Most blocks per GET /v1/blocks page (functions/api/ledger.ts BLOCKS_MAX). */
export const BLOCKS_PAGE = 1000;

export function httpLedgerSource(opts: HttpLedgerSourceOptions): LedgerSource {
  const base = opts.url.endsWith('/') ? opts.url : `${opts.url}/`;
  const doFetch: FetchLike = opts.fetch ?? ((input, init) => fetch(input, init));
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const get = async (path: string, accept: string): Promise<Response> => {
    const url = new URL(path, base).toString();
    let res: Response;
    try {
      res = await doFetch(url, { headers: { accept }, signal: AbortSignal.timeout(timeoutMs) });
    } catch (e) {
      throw new Error(`GET ${url} failed: ${e instanceof Error ? e.message : String(e)}`);
    }
    return res;
  };
  return {
    location: opts.url,
    async latestCheckpoint() {
      const res = await get('v1/checkpoint', 'text/plain');
      if (res.status === 404) return null;
      if (!res.ok) throw new Error(`GET /v1/checkpoint answered HTTP ${res.status}`);
      return res.text();
    },
    async blocks(from, limit) {
      const n = Math.max(1, Math.min(BLOCKS_PAGE, limit));
      const res = await get(`v1/blocks?from=${from}&limit=${n}`, 'application/json');
      if (!res.ok) throw new Error(`GET /v1/blocks answered HTTP ${res.status}`);
      const body = (await res.json()) as { items?: unknown };
      if (!Array.isArray(body.items)) throw new Error('GET /v1/blocks: no items');
      return body.items.map((b: unknown) => {
        const x = b as Partial<PublicBlock>;
        if (!Number.isSafeInteger(x.height) || typeof x.header !== 'string' || typeof x.checkpoint !== 'string') throw new Error('GET /v1/blocks: malformed block');
        return { height: x.height!, header: x.header, checkpoint: x.checkpoint };
      });
    },
  };
}
