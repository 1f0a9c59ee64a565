/**
 * What the HTTP adapters answer, in one place. The sender (docs/protocol.md 9)
 * counts only 2xx as delivered and retries everything else; it disables an
 * endpoint that answers 410 and throttles one that answers 429, 502, 504 or
 * sends Retry-After, so none of those is used here.
 *
 * | outcome | status |
 * | --- | --- |
 * | accepted, duplicate, ignored (unknown type) | 204 |
 * | invalid: headers, timestamp, signature, payload | 400 |
 * | the same id is being handled now | 409 |
 * | not POST | 405, `Allow: POST` |
 * | body over maxBodyBytes | 413 |
 * | the handler or the dedupe store failed | 500 |
 *
 * Error bodies are RFC 9457 problem+json with fixed texts: nothing of the
 * request, the secret or the handler's error is echoed.
 */
import type { ReceiveResult, WebhookRejection } from './receiver.ts';

export interface WebhookHttpAnswer {
  status: number;
  headers: Record<string, string>;
  /** Empty for 204. */
  body: string;
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Content Too Large',
  500: 'Internal Server Error',
};

const REJECTED: Record<WebhookRejection, string> = {
  WEBHOOK_MISSING_HEADERS: 'the webhook-id, webhook-timestamp and webhook-signature headers are required',
  WEBHOOK_TIMESTAMP: 'webhook-timestamp is not integer seconds or is outside the accepted tolerance',
  WEBHOOK_SIGNATURE: 'no webhook signature matches',
  WEBHOOK_PAYLOAD: 'the body is not a JSON webhook event',
};

function problem(status: number, detail: string, code?: string, headers: Record<string, string> = {}): WebhookHttpAnswer {
  const body = { type: 'about:blank', title: TITLES[status] ?? 'Error', status, detail, ...(code !== undefined && { code }) };
  return { status, headers: { 'content-type': 'application/problem+json', 'cache-control': 'no-store', ...headers }, body: JSON.stringify(body) };
}

const NO_CONTENT: WebhookHttpAnswer = { status: 204, headers: {}, body: '' };

export function answerResult(result: ReceiveResult): WebhookHttpAnswer {
  switch (result.status) {
    case 'accepted':
    case 'duplicate':
    case 'ignored':
      return NO_CONTENT;
    case 'in-flight':
      return problem(409, 'this webhook-id is being handled now; deliver it again later');
    case 'invalid':
      return problem(400, REJECTED[result.error], result.error);
  }
}

export const answerMethodNotAllowed = (): WebhookHttpAnswer => problem(405, 'webhooks are delivered with POST', undefined, { allow: 'POST' });
export const answerTooLarge = (maxBodyBytes: number): WebhookHttpAnswer => problem(413, `the body exceeds ${maxBodyBytes} bytes`);
export const answerFailed = (): WebhookHttpAnswer => problem(500, 'the webhook could not be handled; deliver it again later');
