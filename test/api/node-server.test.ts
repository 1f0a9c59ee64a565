/**
 * The node:http adapter of the local runner (functions/local/node-server.ts):
 * what Node answers on its own, before the app runs (431 for oversized
 * headers, 400 for a request that is not HTTP), is RFC 9457 problem+json with
 * a detail too, and the client address comes from the socket.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listen } from '../../functions/local/node-server.ts';
import { stopDynalite } from '../helpers/dynalite.ts';
import { type Fixture, fixture, PROBLEM } from './setup.ts';

afterAll(stopDynalite);

/** Send raw bytes, read until the server closes the connection. */
function raw(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let out = '';
    socket.on('data', (d) => (out += d.toString('latin1')));
    socket.on('end', () => resolve(out));
    socket.on('error', reject);
    socket.write(request);
  });
}

function parse(response: string): { status: number; headers: string; body: Record<string, unknown> } {
  const [head, body] = response.split('\r\n\r\n', 2) as [string, string];
  return { status: Number(head.split(' ')[1]), headers: head.toLowerCase(), body: JSON.parse(body) as Record<string, unknown> };
}

describe('node:http client errors', () => {
  let f: Fixture;
  let port: number;
  let close: () => Promise<void>;
  beforeAll(async () => {
    f = await fixture();
    const { server, url } = await listen(f.app, { port: 0, host: '127.0.0.1' });
    port = Number(new URL(url).port);
    close = () => new Promise<void>((r) => server.close(() => r()));
  });
  afterAll(async () => {
    await close();
    f.close();
  });

  it('431 for headers larger than Node accepts, as problem+json with a detail', async () => {
    const r = parse(await raw(port, `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`));
    expect(r.status).toBe(431);
    expect(r.headers).toContain('content-type: application/problem+json');
    expect(r.body).toMatchObject({ type: `${PROBLEM}header-fields-too-large`, status: 431, detail: expect.stringContaining('16 KiB') });
  });

  it('400 malformed-request for bytes that are not HTTP', async () => {
    const r = parse(await raw(port, 'HELLO THERE\r\n\r\n'));
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ type: `${PROBLEM}malformed-request`, status: 400, detail: expect.any(String) });
  });

  it('an ordinary request still reaches the app', async () => {
    const res = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(res.status).toBe(200);
  });
});
