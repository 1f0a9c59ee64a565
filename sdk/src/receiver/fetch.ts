/**
 * The receiver as a Fetch handler, `(Request) => Promise<Response>`: Hono
 * (`app.post('/hooks', (c) => handler(c.req.raw))`), Cloudflare Workers, Deno,
 * Bun, Next.js route handlers, or Node through @hono/node-server. Nothing from
 * `node:`: it runs in browsers and edge runtimes too.
 */
import { concatBytes } from '../encoding.ts';
import { answerFailed, answerMethodNotAllowed, answerResult, answerTooLarge, type WebhookHttpAnswer } from './response.ts';
import { createWebhookReceiver, errorReporter, type WebhookReceiverOptions } from './receiver.ts';

const toResponse = (a: WebhookHttpAnswer): Response => new Response(a.status === 204 ? null : a.body, { status: a.status, headers: a.headers });

/** The raw body, or null when it is longer than `max` bytes (by its Content-Length or as it streams in). */
async function readBody(req: Request, max: number): Promise<Uint8Array | null> {
  const declared = req.headers.get('content-length');
  if (declared !== null && /^[0-9]+$/.test(declared.trim()) && Number(declared.trim()) > max) return null;
  if (req.body === null) return new Uint8Array(0);
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return concatBytes(...chunks);
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => {});
      return null;
    }
    chunks.push(value);
  }
}

export function webhookFetchHandler(options: WebhookReceiverOptions): (req: Request) => Promise<Response> {
  const receiver = createWebhookReceiver(options);
  const onError = errorReporter(options);
  return async (req) => {
    if (req.method !== 'POST') return toResponse(answerMethodNotAllowed());
    let id: string | null = null;
    try {
      const body = await readBody(req, receiver.maxBodyBytes);
      if (body === null) return toResponse(answerTooLarge(receiver.maxBodyBytes));
      id = req.headers.get('webhook-id');
      return toResponse(answerResult(await receiver.receive(req.headers, body)));
    } catch (e) {
      onError(e, { id });
      return toResponse(answerFailed());
    }
  };
}
