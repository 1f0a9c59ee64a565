/**
 * The receiver as a Node request listener, `(req, res) => Promise<void>`:
 * `http.createServer(handler)`, or a route of Express, Fastify (`reply.raw`)
 * and the like. It reads the raw body itself, so mount it before any body
 * parser; a body an `express.raw()` parser already read (a Buffer in
 * `req.body`) is used as it is.
 *
 * The only module of the subpath that touches Node types, and only as types:
 * the subpath still bundles for browsers and edge runtimes.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { concatBytes } from '../encoding.ts';
import { answerFailed, answerMethodNotAllowed, answerResult, answerTooLarge, type WebhookHttpAnswer } from './response.ts';
import { createWebhookReceiver, errorReporter, type WebhookReceiverOptions } from './receiver.ts';

function send(res: ServerResponse, a: WebhookHttpAnswer, close = false): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  res.writeHead(a.status, { ...a.headers, ...(close && { connection: 'close' }) });
  res.end(a.status === 204 ? undefined : a.body);
}

/**
 * The raw body, or null when it is longer than `max` bytes (by its Content-Length
 * or as it streams in: then reading stops and the rest is never buffered).
 */
function readBody(req: IncomingMessage, max: number): Promise<Uint8Array | null> {
  const parsed = (req as { body?: unknown }).body;
  if (parsed instanceof Uint8Array) return Promise.resolve(parsed.byteLength > max ? null : parsed);
  if (req.readableEnded) return Promise.reject(new Error('the request body was already read: mount the webhook handler before any body parser, or use express.raw()'));
  const declared = req.headers['content-length'];
  if (declared !== undefined && /^[0-9]+$/.test(declared.trim()) && Number(declared.trim()) > max) return Promise.resolve(null);
  return new Promise((resolve, reject) => {
    const chunks: Uint8Array[] = [];
    let size = 0;
    const cleanup = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onFailure);
      req.off('close', onClose);
    };
    const onData = (chunk: Uint8Array): void => {
      size += chunk.byteLength;
      if (size > max) {
        cleanup();
        req.pause();
        resolve(null);
      } else {
        chunks.push(chunk);
      }
    };
    const onEnd = (): void => {
      cleanup();
      resolve(concatBytes(...chunks));
    };
    const onFailure = (e: unknown): void => {
      cleanup();
      reject(e);
    };
    const onClose = (): void => onFailure(new Error('the request was aborted before its body was read'));
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onFailure);
    req.on('close', onClose);
  });
}

/** Never rejects: every outcome is an answer (see ./response.ts), failures are reported to `onError`. */
export function webhookNodeHandler(options: WebhookReceiverOptions): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const receiver = createWebhookReceiver(options);
  const onError = errorReporter(options);
  return async (req, res) => {
    let id: string | null = null;
    try {
      if (req.method !== 'POST') return send(res, answerMethodNotAllowed());
      const body = await readBody(req, receiver.maxBodyBytes);
      // The unread rest of the body would have to be drained for the connection to be reused: close it instead.
      if (body === null) return send(res, answerTooLarge(receiver.maxBodyBytes), true);
      const given = req.headers['webhook-id'];
      id = typeof given === 'string' ? given : null;
      send(res, answerResult(await receiver.receive(req.headers, body)));
    } catch (e) {
      onError(e, { id });
      if (!res.destroyed) send(res, answerFailed());
    }
  };
}
