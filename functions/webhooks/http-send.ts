/**
 * One webhook attempt over HTTP (issue 8, the sending layer): a POST of the
 * signed JSON body to a checked target, through one keep-alive agent per
 * protocol whose connect-time lookup refuses any address the policy refuses
 * (DNS rebinding, see ssrf.ts), under one deadline for the whole attempt, with
 * a bounded read of the answer. Network failures become results, never throws.
 *
 * Follows RFC 9110: redirects are never followed, the 3xx `Location` is only
 * reported (§15.4); `Retry-After` is delta-seconds or an HTTP-date in any of
 * its three formats (§10.2.3, §5.6.7).
 *
 * Status wins: once the status line and headers have arrived, the receiver has
 * answered. A deadline or abort that hits while the body is still arriving ends
 * the read (the socket is destroyed, not kept alive) and the result carries the
 * status with the excerpt read so far, not 'timeout' or 'aborted'.
 */
import { Agent as HttpAgent, request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { checkWebhookUrl, guardedLookup, type Lookup, type TargetPolicy } from './ssrf.ts';

export const USER_AGENT = 'Ledgerseal-Webhooks/1.0';
const DAY_MS = 24 * 60 * 60 * 1000;

export type SendError = 'timeout' | 'refused-target' | 'dns' | 'connect' | 'tls' | 'protocol' | 'aborted';

export interface SendRequest {
  /** https:// (http:// only when policy.allowHttp). */
  url: string;
  /** webhook-id / webhook-timestamp / webhook-signature, set by the caller. */
  headers: Record<string, string>;
  /** JSON text, sent as-is with content-type application/json and its byte length. */
  body: string;
  /** The whole attempt: connect, send, response headers and reading the excerpt. */
  timeoutMs: number;
}

export interface SendResult {
  /** The receiver answered with this status (absent when it did not answer). */
  status?: number;
  /** Measured with performance.now(). */
  durationMs: number;
  /** First bytes of the response body decoded as UTF-8 (replacement chars allowed), at most excerptBytes bytes; absent when empty. */
  excerpt?: string;
  /** Present when there is no status, with `detail` in plain words (never header values). */
  error?: SendError;
  detail?: string;
  /** Parsed Retry-After (delta-seconds or HTTP-date relative to now), in ms, clamped to [0, 24h]; absent when missing or invalid. */
  retryAfterMs?: number;
  /** Location header of a 3xx answer (informational; never followed). */
  location?: string;
}

export interface Sender {
  /** Never throws for network problems: they become error results. Rejects only for a malformed request (e.g. a header with a forbidden character). */
  send(req: SendRequest, signal?: AbortSignal): Promise<SendResult>;
  /** Destroys the agents (keep-alive sockets). */
  close(): void;
}

export interface SenderOptions {
  policy: TargetPolicy;
  /** Bytes of the response body kept as the excerpt (default 1024). */
  excerptBytes?: number;
  /** Bytes of the response body read at most; past this the socket is destroyed (default 64 KiB). */
  maxBodyRead?: number;
  /** Sockets per origin (default 64). */
  maxSockets?: number;
  /**
   * Name resolution (tests): the sender builds the guarded connect-time lookup
   * from it, so an injected resolver can never bypass the address check.
   * Default: guardedLookup(policy) over the system resolver.
   */
  resolve?: Lookup;
  /** Clock for Retry-After dates (default Date.now). */
  now?: () => number;
}

export function createSender(opts: SenderOptions): Sender {
  const excerptBytes = opts.excerptBytes ?? 1024;
  const maxBodyRead = opts.maxBodyRead ?? 64 * 1024;
  const maxSockets = opts.maxSockets ?? 64;
  for (const [name, v, min] of [['excerptBytes', excerptBytes, 0], ['maxBodyRead', maxBodyRead, 1], ['maxSockets', maxSockets, 1]] as const) {
    if (!Number.isSafeInteger(v) || v < min) throw new RangeError(`createSender: ${name} must be an integer >= ${min}, got ${v}`);
  }
  if (maxBodyRead < excerptBytes) throw new RangeError('createSender: maxBodyRead must be at least excerptBytes');
  const { policy } = opts;
  const now = opts.now ?? Date.now;
  const lookup = guardedLookup(policy, opts.resolve);
  const agentOptions = { keepAlive: true, maxSockets, lookup };
  const agents = { http: new HttpAgent(agentOptions), https: new HttpsAgent(agentOptions) };

  async function send(r: SendRequest, signal?: AbortSignal): Promise<SendResult> {
    const started = performance.now();
    const elapsed = (): number => performance.now() - started;
    if (!(Number.isFinite(r.timeoutMs) && r.timeoutMs > 0)) throw new RangeError(`send: timeoutMs must be a positive number, got ${r.timeoutMs}`);
    // Node calls the agent's lookup only for names, never for IP literals: check the URL itself on every send.
    const target = checkWebhookUrl(r.url, policy);
    if (!target.ok) return { durationMs: elapsed(), error: 'refused-target', detail: target.reason };
    if (signal?.aborted) return { durationMs: elapsed(), error: 'aborted', detail: 'aborted before sending' };
    const tls = target.url.protocol === 'https:';
    const body = Buffer.from(r.body, 'utf8');
    const headers = { ...r.headers, 'user-agent': USER_AGENT, 'content-type': 'application/json', 'content-length': String(body.length) };

    return new Promise<SendResult>((resolve) => {
      const req: ClientRequest = (tls ? httpsRequest : httpRequest)(target.url, { method: 'POST', agent: tls ? agents.https : agents.http, headers });
      const kept: Buffer[] = [];
      let keptBytes = 0;
      let readBytes = 0;
      let res: IncomingMessage | undefined;
      let complete = false;
      let settled = false;

      const settle = (failure?: { error: SendError; detail: string }): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        // Only a fully read answer leaves its socket to the keep-alive pool.
        if (!complete) req.destroy();
        resolve(res ? answered(res, Buffer.concat(kept), elapsed(), now()) : { durationMs: elapsed(), ...failure });
      };
      const onAbort = (): void => settle({ error: 'aborted', detail: 'the send was aborted' });
      const timer = setTimeout(() => settle({ error: 'timeout', detail: `no answer within ${r.timeoutMs} ms` }), r.timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });

      req.on('error', (e) => settle(classify(e, target.host, tls)));
      req.on('response', (m) => {
        res = m;
        // A declared length past the limit: stop as soon as the excerpt is full.
        const tooLong = Number(m.headers['content-length']) > maxBodyRead;
        m.on('data', (chunk: Buffer) => {
          if (settled) return;
          readBytes += chunk.length;
          if (keptBytes < excerptBytes) {
            const part = chunk.subarray(0, excerptBytes - keptBytes);
            kept.push(part);
            keptBytes += part.length;
          }
          if (readBytes > maxBodyRead || (tooLong && keptBytes >= excerptBytes)) settle();
        });
        m.on('end', () => {
          complete = true;
          settle();
        });
        m.on('error', () => settle());
        m.on('close', () => settle());
      });
      req.end(body);
    });
  }

  return {
    send,
    close() {
      agents.http.destroy();
      agents.https.destroy();
    },
  };
}

function answered(res: IncomingMessage, excerpt: Buffer, durationMs: number, nowMs: number): SendResult {
  const status = res.statusCode ?? 0;
  const out: SendResult = { status, durationMs };
  if (excerpt.length > 0) out.excerpt = excerpt.toString('utf8');
  const retryAfterMs = parseRetryAfter(res.headers['retry-after'], nowMs);
  if (retryAfterMs !== undefined) out.retryAfterMs = retryAfterMs;
  if (status >= 300 && status < 400 && res.headers.location) out.location = res.headers.location;
  return out;
}

const TLS_CODE = /^(ERR_TLS_|ERR_SSL_|ERR_OSSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_SELF_SIGNED_CERT$|SELF_SIGNED_CERT_IN_CHAIN$|HOSTNAME_MISMATCH$)/;

/** A network error before any answer, as a result. Node's messages name codes and addresses, never header values. */
function classify(e: Error, host: string, tls: boolean): { error: SendError; detail: string } {
  // Happy-eyeballs connects (autoSelectFamily) fail with an AggregateError of the attempts.
  const inner = (e as { errors?: unknown[] }).errors?.[0] as NodeJS.ErrnoException | undefined;
  const code = String((e as NodeJS.ErrnoException).code ?? inner?.code ?? '');
  const message = inner && !(e as NodeJS.ErrnoException).code ? inner.message : e.message;
  if (code === 'ERR_WEBHOOK_TARGET') return { error: 'refused-target', detail: message };
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_FAIL' || code === 'ENODATA') return { error: 'dns', detail: `${host} did not resolve (${code})` };
  if (code.startsWith('HPE_')) return { error: 'protocol', detail: `the answer was not valid HTTP: ${message} (${code})` };
  if (TLS_CODE.test(code) || (tls && code === 'EPROTO')) {
    // OpenSSL failures read "write EPROTO 80EC…:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:…": keep the words.
    const words = /:SSL routines:[^:]*:([^:]+)/.exec(message)?.[1] ?? message.trim();
    return { error: 'tls', detail: `TLS with ${host} failed: ${words} (${code})` };
  }
  if (code === 'ECONNRESET') return { error: 'connect', detail: `${host} closed the connection before answering (${code})` };
  return { error: 'connect', detail: `could not connect to ${host}: ${message}${code && !message.includes(code) ? ` (${code})` : ''}` };
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const IMF_FIXDATE = /^[A-Z][a-z]{2}, (\d{2}) ([A-Z][a-z]{2}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT$/; // Sun, 06 Nov 1994 08:49:37 GMT
const RFC850_DATE = /^[A-Z][a-z]{5,8}, (\d{2})-([A-Z][a-z]{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2}) GMT$/; // Sunday, 06-Nov-94 08:49:37 GMT
const ASCTIME_DATE = /^[A-Z][a-z]{2} ([A-Z][a-z]{2}) ([ \d]\d) (\d{2}):(\d{2}):(\d{2}) (\d{4})$/; // Sun Nov  6 08:49:37 1994

/** An HTTP-date (RFC 9110 §5.6.7, all three formats) as ms since the epoch, or undefined. */
export function parseHttpDate(value: string, nowMs: number): number | undefined {
  const m = IMF_FIXDATE.exec(value) ?? RFC850_DATE.exec(value);
  const a = m ? null : ASCTIME_DATE.exec(value);
  const parts = m ? m.slice(1) : a ? [a[2], a[1], a[6], a[3], a[4], a[5]] : null;
  if (!parts) return undefined;
  const [day, mon, year, h, mi, s] = parts as [string, string, string, string, string, string];
  const month = MONTHS.indexOf(mon);
  let y = Number(year);
  if (year.length === 2) {
    // §5.6.7: a two-digit year that would be more than 50 years in the future is in the past century.
    const current = new Date(nowMs).getUTCFullYear();
    y += current - (current % 100);
    if (y > current + 50) y -= 100;
  }
  const t = Date.UTC(y, month, Number(day), Number(h), Number(mi), Number(s));
  const d = new Date(t);
  if (month < 0 || d.getUTCDate() !== Number(day) || Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) return undefined;
  return t;
}

/** Retry-After (RFC 9110 §10.2.3) in ms from now, clamped to [0, 24h], or undefined when missing or invalid. */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  const ms = /^\d+$/.test(v) ? Number(v) * 1000 : (parseHttpDate(v, nowMs) ?? Number.NaN) - nowMs;
  return Number.isNaN(ms) ? undefined : Math.min(Math.max(ms, 0), DAY_MS);
}
