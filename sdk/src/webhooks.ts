/**
 * Standard Webhooks 1.0, symmetric scheme (docs/protocol.md 9; the
 * standard-webhooks project, spec/standard-webhooks.md):
 *
 *   webhook-id         msg id, the same on every retry (the receiver's idempotency key)
 *   webhook-timestamp  integer Unix seconds of this attempt
 *   webhook-signature  space-separated "v1,<base64 HMAC-SHA-256(secret, id.timestamp.body)>"
 *
 * The secret is "whsec_" + standard base64 of the key bytes. Byte-compatible with
 * the official `standardwebhooks` package, so any Standard Webhooks library can
 * verify what the service sends.
 */
import { hmacSha256 } from '#sha256';
import { base64ToBytes, bytesToBase64, concatBytes, equalBytes, fromUtf8, utf8 } from './encoding.ts';
import { fail } from './errors.ts';

/**
 * Event types the service sends (docs/protocol.md 9.6), in the order of the
 * OpenAPI `webhooks` section; test/sdk/webhook-receiver.test.ts checks that
 * this list and the generated `webhooks` interface name the same types.
 */
export const WEBHOOK_EVENT_TYPES = [
  'anchor.confirmed', // a batch's anchors, with their proofs when they fit
  'batch.confirmed', // a batch's root and the proof of the root
  'round.finalized',
  'checkpoint.published',
  'publication.created',
  'validator.fault', // a validator refused, timed out, or equivocated
  'batch.quarantined', // a pending batch could not be read or rechecked: left out of every round
  'endpoint.disabled',
  'endpoint.test', // sent on request, to check an endpoint
] as const;

export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** The body of every webhook: the spec's recommended envelope. */
export interface WebhookEvent<T = unknown> {
  /** One of WEBHOOK_EVENT_TYPES; typed as string so receivers survive new types. */
  type: string;
  /** RFC 3339 UTC time the event happened (not the delivery attempt). */
  timestamp: string;
  data: T;
}

export const WEBHOOK_SECRET_PREFIX = 'whsec_';
/** Default accepted clock difference, either way: the official libraries' 5 minutes. */
export const WEBHOOK_TOLERANCE_SECONDS = 300;
/** Random bytes in a generated secret (the spec asks for 24 to 64). */
const SECRET_BYTES = 32;
const SIGNATURE_VERSION = 'v1';
/** Message ids: printable ASCII without "." (the spec's rule) so id.timestamp.body splits one way. */
const MSG_ID = /^[\x21-\x2d\x2f-\x7e]+$/;

export type WebhookHeaders = Record<'webhook-id' | 'webhook-timestamp' | 'webhook-signature', string>;

function secretKey(secret: unknown): Uint8Array {
  if (typeof secret !== 'string') fail('WEBHOOK_INVALID_SECRET', 'webhook secret must be a string');
  const b64 = secret.startsWith(WEBHOOK_SECRET_PREFIX) ? secret.slice(WEBHOOK_SECRET_PREFIX.length) : secret;
  if (b64.startsWith('whsk_') || b64.startsWith('whpk_')) {
    fail('WEBHOOK_INVALID_SECRET', 'asymmetric (v1a) webhook keys are not supported');
  }
  let key: Uint8Array;
  try {
    key = base64ToBytes(b64);
  } catch (e) {
    fail('WEBHOOK_INVALID_SECRET', 'webhook secret is not "whsec_" followed by standard padded base64', e);
  }
  if (key.length === 0) fail('WEBHOOK_INVALID_SECRET', 'webhook secret is empty');
  return key;
}

function secretKeys(secrets: unknown): Uint8Array[] {
  const list = typeof secrets === 'string' ? [secrets] : secrets;
  if (!Array.isArray(list) || list.length === 0) fail('WEBHOOK_INVALID_SECRET', 'at least one webhook secret is needed');
  return list.map(secretKey);
}

function checkTimestamp(t: unknown): number {
  if (typeof t !== 'number' || !Number.isSafeInteger(t) || t < 0) {
    fail('INVALID_ARGUMENT', `timestamp must be non-negative integer seconds, got ${String(t)}`);
  }
  return t;
}

function bodyBytes(body: unknown): Uint8Array {
  if (typeof body === 'string') return utf8(body);
  if (body instanceof Uint8Array) return body;
  fail('INVALID_ARGUMENT', 'webhook body must be a string or a Uint8Array');
}

/** HMAC-SHA-256 over utf8(`${id}.${timestamp}.`) || body: the raw body bytes, as sent. */
function mac(key: Uint8Array, msgId: string, timestamp: number, body: Uint8Array): Uint8Array {
  return hmacSha256(key, concatBytes(utf8(`${msgId}.${timestamp}.`), body));
}

/** A fresh secret: "whsec_" + base64 of 32 random bytes. */
export function generateWebhookSecret(): string {
  return WEBHOOK_SECRET_PREFIX + bytesToBase64(globalThis.crypto.getRandomValues(new Uint8Array(SECRET_BYTES)));
}

/** One signature, "v1,<base64>". The secret may carry the "whsec_" prefix or not. */
export function signWebhook(secret: string, msgId: string, timestampSeconds: number, body: string | Uint8Array): string {
  const key = secretKey(secret);
  if (typeof msgId !== 'string' || !MSG_ID.test(msgId)) {
    fail('INVALID_ARGUMENT', 'msgId must be non-empty printable ASCII without "." or spaces');
  }
  const sig = mac(key, msgId, checkTimestamp(timestampSeconds), bodyBytes(body));
  return `${SIGNATURE_VERSION},${bytesToBase64(sig)}`;
}

/** The three headers of one delivery attempt, signed with every secret (rotation: old and new). */
export function webhookHeaders(
  secrets: string | readonly string[],
  msgId: string,
  timestampSeconds: number,
  body: string | Uint8Array,
): WebhookHeaders {
  const list = typeof secrets === 'string' ? [secrets] : secrets;
  if (!Array.isArray(list) || list.length === 0) fail('WEBHOOK_INVALID_SECRET', 'at least one webhook secret is needed');
  return {
    'webhook-id': msgId,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': list.map((s) => signWebhook(s, msgId, timestampSeconds, body)).join(' '),
  };
}

type HeaderSource = Headers | Record<string, string | string[] | undefined>;

/** All values of one header, whatever the case of its name; repeated headers give several values. */
function headerValues(headers: HeaderSource, name: string): string[] {
  const raw: unknown[] = [];
  if (typeof Headers !== 'undefined' && headers instanceof Headers) {
    raw.push(headers.get(name) ?? undefined);
  } else if (typeof headers === 'object' && headers !== null) {
    for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === name) raw.push(...(Array.isArray(v) ? v : [v]));
  } else {
    fail('INVALID_ARGUMENT', 'headers must be a Headers or a plain object');
  }
  return raw.filter((v): v is string => typeof v === 'string').map((v) => v.trim()).filter((v) => v !== '');
}

function singleHeader(headers: HeaderSource, name: string): string {
  const values = [...new Set(headerValues(headers, name))];
  if (values.length === 0) fail('WEBHOOK_MISSING_HEADERS', `missing ${name} header`);
  if (values.length > 1) fail('WEBHOOK_MISSING_HEADERS', `conflicting ${name} headers`);
  return values[0]!;
}

/**
 * Check a delivery and return its parsed JSON body. Checks, in order: the three
 * headers are present; the timestamp is an integer; some "v1" signature matches
 * some secret (constant-time); the timestamp is within the tolerance of now;
 * the body is UTF-8 JSON. Pass the raw body exactly as received.
 */
export function verifyWebhook(
  secretOrSecrets: string | readonly string[],
  headers: HeaderSource,
  body: string | Uint8Array,
  options: { toleranceSeconds?: number; now?: number } = {},
): unknown {
  // Misconfiguration first, whatever the request looks like.
  const keys = secretKeys(secretOrSecrets);
  const tolerance = options.toleranceSeconds ?? WEBHOOK_TOLERANCE_SECONDS;
  if (!Number.isSafeInteger(tolerance) || tolerance < 0) {
    fail('INVALID_ARGUMENT', 'toleranceSeconds must be a non-negative integer');
  }
  const now = options.now ?? Math.floor(Date.now() / 1000);
  if (!Number.isFinite(now)) fail('INVALID_ARGUMENT', 'now must be Unix seconds');
  const bytes = bodyBytes(body);

  // Headers are present and well formed.
  const msgId = singleHeader(headers, 'webhook-id');
  const timestampText = singleHeader(headers, 'webhook-timestamp');
  // Several webhook-signature headers (joined by ", " in a Fetch Headers) are one list.
  const signatureText = headerValues(headers, 'webhook-signature').join(' ');
  if (signatureText === '') fail('WEBHOOK_MISSING_HEADERS', 'missing webhook-signature header');
  if (msgId.includes('.')) fail('WEBHOOK_MISSING_HEADERS', 'webhook-id must not contain "."');
  // At most 15 digits: always a safe integer, and far beyond any real clock.
  if (!/^[0-9]{1,15}$/.test(timestampText)) {
    fail('WEBHOOK_TIMESTAMP', `webhook-timestamp is not integer seconds: ${JSON.stringify(timestampText.slice(0, 40))}`);
  }
  // Signed as the decimal number, as the official libraries do (leading zeros dropped).
  const timestamp = Number(timestampText);

  // Some v1 signature matches some secret; other versions (v1a, v2...) are skipped.
  const candidates: Uint8Array[] = [];
  let v1Entries = 0;
  for (const entry of signatureText.split(' ')) {
    const [version, sig, extra] = entry.replace(/,$/, '').split(',');
    if (version !== SIGNATURE_VERSION) continue;
    v1Entries++;
    if (sig === undefined || extra !== undefined) continue;
    try {
      candidates.push(base64ToBytes(sig, 32));
    } catch {
      // not a well-formed v1 signature: it cannot match
    }
  }
  if (v1Entries === 0) fail('WEBHOOK_SIGNATURE', 'no v1 signature in the webhook-signature header');
  let matched = false;
  for (const key of keys) {
    const expected = mac(key, msgId, timestamp, bytes);
    for (const c of candidates) matched = equalBytes(c, expected) || matched; // no early exit
  }
  if (!matched) fail('WEBHOOK_SIGNATURE', 'no webhook signature matches the secret(s)');

  // The attempt is recent: not a replay, and neither clock far off.
  if (now - timestamp > tolerance) fail('WEBHOOK_TIMESTAMP', `webhook timestamp too old (${now - timestamp} s)`);
  if (timestamp - now > tolerance) fail('WEBHOOK_TIMESTAMP', `webhook timestamp too new (${timestamp - now} s ahead)`);

  // The payload is JSON.
  try {
    return JSON.parse(fromUtf8(bytes));
  } catch (e) {
    fail('WEBHOOK_PAYLOAD', 'webhook body is not UTF-8 JSON', e);
  }
}
