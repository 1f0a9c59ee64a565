/**
 * The node:http face of the app for the local runner (@hono/node-server).
 *
 * Node answers some requests itself, before any handler runs: headers larger
 * than its limit (431), a request that is not HTTP (400), a request that took
 * too long to arrive (408). Its own answers are plain text; here they are RFC
 * 9457 problem+json like every other error of the API (api/problem.ts), with a
 * `detail`. The client address for per-client limits comes from the socket.
 */
import { getConnInfo } from '@hono/node-server/conninfo';
import { serve, type ServerType } from '@hono/node-server';
import type { Socket } from 'node:net';
import { problemBody, type ProblemSlug } from '../api/problem.ts';
import type { LedgersealApp } from '../app.ts';
import type { ClientAddress } from '../services.ts';

/** The address of the socket a request came in on (no proxy header is trusted). */
export const socketAddress: ClientAddress = (c) => getConnInfo(c).remote.address;

/** What Node reports in a clientError, and the problem it becomes. */
function clientProblem(err: NodeJS.ErrnoException): { slug: ProblemSlug; detail: string } {
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW':
      return { slug: 'header-fields-too-large', detail: 'the request line and headers together exceed the server limit of 16 KiB' };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { slug: 'request-timeout', detail: 'the request did not arrive completely in time' };
    default:
      return { slug: 'malformed-request', detail: `the request is not valid HTTP/1.1 (${err.code ?? 'parse error'})` };
  }
}

/** Answer a client error with problem+json on the raw socket, then close it. */
export function answerClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const { slug, detail } = clientProblem(err);
  const { status, title, body } = problemBody(slug, detail);
  const text = JSON.stringify(body);
  socket.end(
    `HTTP/1.1 ${status} ${title}\r\ncontent-type: application/problem+json\r\ncache-control: no-store\r\n` +
      `content-length: ${Buffer.byteLength(text)}\r\nconnection: close\r\n\r\n${text}`,
  );
}

/** Listen on host:port; rejects with the listen error (port taken, ...). */
export async function listen(app: LedgersealApp, opts: { port: number; host: string }): Promise<{ server: ServerType; url: string }> {
  const server = await new Promise<ServerType>((ready, failed) => {
    const s = serve({ fetch: app.fetch, port: opts.port, hostname: opts.host }, () => ready(s));
    s.once('error', failed);
  });
  server.removeAllListeners('clientError');
  server.on('clientError', answerClientError);
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;
  return { server, url: `http://${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${port}` };
}
