/**
 * Sending one webhook attempt (functions/webhooks/http-send.ts) against real
 * node:http servers on 127.0.0.1: answers and excerpts, bounded body reads,
 * redirects not followed, Retry-After, the whole-attempt deadline, network
 * failures mapped to error codes, refused targets (by URL and at connect time
 * against DNS rebinding) with no connection made, keep-alive reuse, and abort.
 * Coordination is by server-side promises, never by sleeping.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { createSender, parseHttpDate, parseRetryAfter, USER_AGENT, type SendRequest } from '../../functions/webhooks/http-send.ts';

const LOCAL = { allowLoopback: true, allowHttp: true };

/** A throwaway self-signed certificate for 127.0.0.1 (node:crypto cannot make X.509); null without an openssl binary. */
const opensslCert = ((): { key: Buffer; cert: Buffer } | null => {
  const dir = mkdtempSync(join(tmpdir(), 'ledgerseal-tls-'));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    return { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) };
  } catch {
    return null;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
})();
const closers: (() => Promise<void>)[] = [];
afterAll(async () => {
  await Promise.all(closers.map((c) => c()));
});

interface Served {
  port: number;
  url: string;
  stats: { requests: number; connections: number };
}

async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<Served> {
  const stats = { requests: 0, connections: 0 };
  const server: Server = createServer((req, res) => {
    stats.requests++;
    handler(req, res);
  });
  server.on('connection', () => stats.connections++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closers.push(() => {
    server.closeAllConnections();
    return new Promise<void>((r) => server.close(() => r()));
  });
  const { port } = server.address() as AddressInfo;
  return { port, url: `http://127.0.0.1:${port}/hook`, stats };
}

function sender(opts: Partial<Parameters<typeof createSender>[0]> = {}): ReturnType<typeof createSender> {
  const s = createSender({ policy: LOCAL, ...opts });
  closers.push(async () => s.close());
  return s;
}

const HEADERS = { 'webhook-id': 'msg_2Kx', 'webhook-timestamp': '1700000000', 'webhook-signature': 'v1,c2VjcmV0LXNpZ25hdHVyZS12YWx1ZQ==' };
const post = (url: string, extra: Partial<SendRequest> = {}): SendRequest => ({ url, headers: HEADERS, body: '{"type":"proof.ready"}', timeoutMs: 10_000, ...extra });

/** Drains the request, then answers. */
const answer = (status: number, body = '', headers: Record<string, string> = {}) => (req: IncomingMessage, res: ServerResponse) => {
  req.resume();
  req.on('end', () => res.writeHead(status, headers).end(body));
};

/** Writes the body forever (with back-pressure) until the client goes away; resolves when the response closes. */
function endless(res: ServerResponse, onClose: () => void): void {
  const chunk = Buffer.alloc(16 * 1024, 'a');
  res.on('close', onClose);
  const pump = (): void => {
    while (!res.destroyed && res.write(chunk));
  };
  res.on('drain', pump);
  pump();
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('answers', () => {
  it('200 with the body as excerpt', async () => {
    const srv = await serve(answer(200, 'accepted'));
    const r = await sender().send(post(srv.url));
    expect(r).toMatchObject({ status: 200, excerpt: 'accepted' });
    expect(r.error).toBeUndefined();
    expect(r.durationMs).toBeGreaterThan(0);
  });

  it('cuts a body longer than excerptBytes, at a byte boundary (a split character becomes U+FFFD)', async () => {
    const srv = await serve(answer(200, '€'.repeat(500))); // 1500 bytes
    const r = await sender({ excerptBytes: 1024 }).send(post(srv.url));
    expect(r.status).toBe(200);
    expect(Buffer.byteLength(r.excerpt!.slice(0, 341))).toBe(1023);
    expect(r.excerpt).toBe(`${'€'.repeat(341)}\uFFFD`);
    const small = await sender({ excerptBytes: 10 }).send(post(srv.url));
    expect(small.excerpt).toBe('€€€\uFFFD');
  });

  it('204 without a body has no excerpt', async () => {
    const srv = await serve(answer(204));
    const r = await sender().send(post(srv.url));
    expect(r.status).toBe(204);
    expect('excerpt' in r).toBe(false);
  });

  it('410 is reported as an answer, not an error', async () => {
    const srv = await serve(answer(410, 'gone'));
    expect(await sender().send(post(srv.url))).toMatchObject({ status: 410, excerpt: 'gone' });
  });

  it.each([
    [301, '/moved'],
    [302, 'http://127.0.0.1:1/elsewhere'],
    [307, '/temporary'],
  ])('%i with Location is reported and not followed', async (status, location) => {
    const srv = await serve(answer(status, '', { location }));
    const r = await sender().send(post(srv.url));
    expect(r).toMatchObject({ status, location });
    expect(srv.stats.requests).toBe(1);
  });

  it('a 200 Location is not reported', async () => {
    const srv = await serve(answer(200, 'ok', { location: '/x' }));
    expect((await sender().send(post(srv.url))).location).toBeUndefined();
  });
});

describe('Retry-After', () => {
  const NOW = Date.UTC(2030, 0, 1, 0, 0, 0);

  it('429 with delta-seconds', async () => {
    const srv = await serve(answer(429, 'slow down', { 'retry-after': '120' }));
    expect(await sender().send(post(srv.url))).toMatchObject({ status: 429, retryAfterMs: 120_000 });
  });

  it('429 with an HTTP-date, relative to the injected clock', async () => {
    const srv = await serve(answer(429, '', { 'retry-after': 'Tue, 01 Jan 2030 00:01:30 GMT' }));
    expect(await sender({ now: () => NOW }).send(post(srv.url))).toMatchObject({ status: 429, retryAfterMs: 90_000 });
  });

  it('503 with an invalid Retry-After ignores it', async () => {
    const srv = await serve(answer(503, 'down', { 'retry-after': 'soon' }));
    const r = await sender().send(post(srv.url));
    expect(r.status).toBe(503);
    expect('retryAfterMs' in r).toBe(false);
  });

  it('parses the three HTTP-date formats and clamps to [0, 24h]', () => {
    const t = Date.UTC(1994, 10, 6, 8, 49, 37);
    expect(parseHttpDate('Sun, 06 Nov 1994 08:49:37 GMT', NOW)).toBe(t);
    expect(parseHttpDate('Sunday, 06-Nov-94 08:49:37 GMT', NOW)).toBe(t);
    expect(parseHttpDate('Sun Nov  6 08:49:37 1994', NOW)).toBe(t);
    expect(parseRetryAfter('0', NOW)).toBe(0);
    expect(parseRetryAfter(' 5 ', NOW)).toBe(5000);
    expect(parseRetryAfter('999999999999', NOW)).toBe(86_400_000);
    expect(parseRetryAfter('Sun, 06 Nov 1994 08:49:37 GMT', NOW)).toBe(0); // in the past
    expect(parseRetryAfter('Wed, 01 Jan 2031 00:00:00 GMT', NOW)).toBe(86_400_000);
    expect(parseRetryAfter(undefined, NOW)).toBeUndefined();
  });

  it.each(['', 'soon', '-5', '1.5', '1e3', '0x10', '2030-01-01T00:00:00Z', 'Tue, 31 Feb 2030 00:00:00 GMT', 'Tue, 01 Jan 2030 24:00:00 GMT', 'Tue, 01 Foo 2030 00:00:00 GMT', 'Tue, 01 Jan 2030 00:00:00 UTC'])(
    'refuses Retry-After %j',
    (v) => expect(parseRetryAfter(v, NOW)).toBeUndefined(),
  );
});

describe('bounded reads', () => {
  it.each([
    ['chunked', {}],
    ['with a declared length', { 'content-length': String(1 << 30) }],
  ])('an endless body (%s) is cut: status reported, socket destroyed, not reused', async (_name, headers) => {
    const closed = deferred();
    const srv = await serve((req, res) => {
      req.resume();
      if (req.url === '/small') return void res.end('ok');
      res.writeHead(200, headers);
      endless(res, closed.resolve);
    });
    const s = sender({ maxBodyRead: 64 * 1024 });
    const r = await s.send(post(srv.url, { timeoutMs: 20_000 }));
    expect(r.status).toBe(200);
    expect(r.error).toBeUndefined();
    expect(r.durationMs).toBeLessThan(20_000); // cut by the read limit, not by the deadline
    expect(r.excerpt).toBe('a'.repeat(1024));
    await closed.promise; // the server sees the connection go away
    expect(await s.send(post(`http://127.0.0.1:${srv.port}/small`))).toMatchObject({ status: 200, excerpt: 'ok' });
    expect(srv.stats.connections).toBe(2);
  });

  it('small bodies are read fully: two sends share one keep-alive socket', async () => {
    const srv = await serve(answer(200, 'x'.repeat(5000)));
    const s = sender();
    expect((await s.send(post(srv.url))).status).toBe(200);
    expect((await s.send(post(srv.url))).status).toBe(200);
    expect(srv.stats).toEqual({ requests: 2, connections: 1 });
  });
});

describe('the request', () => {
  it('arrives byte-exact: headers, content-type, user-agent, content-length in bytes, body', async () => {
    let seen: IncomingMessage | undefined;
    const srv = await serve((req, res) => {
      seen = req;
      const hash = createHash('sha256');
      req.on('data', (c: Buffer) => hash.update(c));
      req.on('end', () => res.end(hash.digest('hex')));
    });
    const body = JSON.stringify({ type: 'proof.ready', note: 'Grüße € 𝄞 \u2028', n: 1 });
    const r = await sender().send(post(srv.url, { body }));
    expect(r.excerpt).toBe(createHash('sha256').update(body, 'utf8').digest('hex'));
    expect(seen!.method).toBe('POST');
    expect(seen!.url).toBe('/hook');
    expect(seen!.headers).toMatchObject({ ...HEADERS, 'user-agent': USER_AGENT, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) });
    expect(seen!.headers['transfer-encoding']).toBeUndefined();
  });
});

describe('the deadline', () => {
  it('a receiver that accepts and never answers gets timeout', async () => {
    const srv = await serve(() => {}); // holds every request
    const r = await sender().send(post(srv.url, { timeoutMs: 200 }));
    expect(r).toMatchObject({ error: 'timeout' });
    expect(r.status).toBeUndefined();
    expect(r.durationMs).toBeGreaterThanOrEqual(200 * 0.9);
  });

  it('status wins: headers in time, body too slow → the status with the excerpt read so far', async () => {
    const srv = await serve((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('partial'); // and never ends
    });
    const r = await sender().send(post(srv.url, { timeoutMs: 1500 }));
    expect(r).toMatchObject({ status: 200, excerpt: 'partial' });
    expect(r.error).toBeUndefined();
    expect(r.durationMs).toBeGreaterThanOrEqual(1500 * 0.9);
  });
});

describe('network failures', () => {
  it('connection refused on a port that was just closed', async () => {
    const srv = createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const { port } = srv.address() as AddressInfo;
    await new Promise<void>((r) => srv.close(() => r()));
    const r = await sender().send(post(`http://127.0.0.1:${port}/`));
    expect(r).toMatchObject({ error: 'connect', detail: expect.stringMatching(/ECONNREFUSED/) });
  });

  it('garbage instead of HTTP is a protocol error (detail without header values)', async () => {
    const sockets = new Set<Socket>();
    const raw = createNetServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => {});
      socket.end('SMTP ready, not HTTP at all\r\n\r\n');
    });
    await new Promise<void>((r) => raw.listen(0, '127.0.0.1', r));
    closers.push(() => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((r) => raw.close(() => r()));
    });
    const r = await sender().send(post(`http://127.0.0.1:${(raw.address() as AddressInfo).port}/`));
    expect(r).toMatchObject({ error: 'protocol', detail: expect.stringMatching(/HPE_/) });
    for (const v of Object.values(HEADERS)) expect(r.detail).not.toContain(v);
  });

  it('https to a plain HTTP port is a TLS error', async () => {
    const srv = await serve(answer(200, 'ok'));
    const r = await sender().send(post(`https://127.0.0.1:${srv.port}/`));
    expect(r).toMatchObject({ error: 'tls', detail: expect.stringMatching(/wrong version number/) });
    expect(r.status).toBeUndefined();
  });

  it.skipIf(!opensslCert)('a self-signed certificate is a TLS error', async () => {
    const { key, cert } = opensslCert!;
    const tlsServer = createHttpsServer({ key, cert }, (_req, res) => res.end('ok'));
    let requests = 0;
    tlsServer.on('request', () => requests++);
    await new Promise<void>((r) => tlsServer.listen(0, '127.0.0.1', r));
    closers.push(() => {
      tlsServer.closeAllConnections();
      return new Promise<void>((r) => tlsServer.close(() => r()));
    });
    const r = await sender().send(post(`https://127.0.0.1:${(tlsServer.address() as AddressInfo).port}/`));
    expect(r).toMatchObject({ error: 'tls', detail: expect.stringMatching(/self-signed certificate \(DEPTH_ZERO_SELF_SIGNED_CERT\)/) });
    expect(requests).toBe(0);
  });

  it('a name that does not resolve is a dns error', async () => {
    const resolve = async (): Promise<string[]> => {
      throw Object.assign(new Error('getaddrinfo ENOTFOUND hooks.example.com'), { code: 'ENOTFOUND' });
    };
    const r = await sender({ resolve }).send(post('https://hooks.example.com/'));
    expect(r).toMatchObject({ error: 'dns', detail: expect.stringMatching(/hooks\.example\.com/) });
  });
});

describe('refused targets: no connection is made', () => {
  it('by URL, under the default policy and with http allowed but not loopback', async () => {
    const srv = await serve(answer(200, 'ok'));
    const s = sender({ policy: {} });
    for (const url of [`http://127.0.0.1:${srv.port}/`, `https://127.0.0.1:${srv.port}/`, 'https://10.0.0.1/', 'https://[::1]/', 'https://[::ffff:127.0.0.1]/', 'https://localhost/']) {
      expect(await s.send(post(url)), url).toMatchObject({ error: 'refused-target', detail: expect.any(String) });
    }
    expect(await sender({ policy: { allowHttp: true } }).send(post(srv.url))).toMatchObject({ error: 'refused-target', detail: expect.stringMatching(/loopback/) });
    expect(srv.stats).toEqual({ requests: 0, connections: 0 });
  });

  it('DNS rebinding: a public name that now resolves to 127.0.0.1 is refused at connect time', async () => {
    const srv = await serve(answer(200, 'ok'));
    const asked: string[] = [];
    const to = (addresses: string[]) => async (host: string): Promise<string[]> => (asked.push(host), addresses);
    const url = `https://hooks.example.com:${srv.port}/hook`;
    const r = await sender({ policy: {}, resolve: to(['127.0.0.1']) }).send(post(url));
    expect(r).toMatchObject({ error: 'refused-target', detail: expect.stringMatching(/127\.0\.0\.1.*loopback/) });
    const mixed = await sender({ policy: {}, resolve: to(['93.184.216.34', '127.0.0.1']) }).send(post(url));
    expect(mixed.error).toBe('refused-target');
    expect(asked).toEqual(['hooks.example.com', 'hooks.example.com']);
    expect(srv.stats).toEqual({ requests: 0, connections: 0 });
    // The same injected resolver, under the local runner policy, does connect.
    const ok = await sender({ resolve: to(['127.0.0.1']) }).send(post(`http://hooks.example.com:${srv.port}/hook`));
    expect(ok).toMatchObject({ status: 200, excerpt: 'ok' });
  });
});

describe('abort', () => {
  it('aborting while waiting for the answer gives aborted', async () => {
    const arrived = deferred();
    const srv = await serve(() => arrived.resolve()); // never answers
    const ac = new AbortController();
    const pending = sender().send(post(srv.url), ac.signal);
    await arrived.promise;
    ac.abort();
    const r = await pending;
    expect(r).toMatchObject({ error: 'aborted' });
    expect(r.status).toBeUndefined();
  });

  it('an already aborted signal sends nothing', async () => {
    const srv = await serve(answer(200, 'ok'));
    const r = await sender().send(post(srv.url), AbortSignal.abort());
    expect(r.error).toBe('aborted');
    expect(srv.stats.connections).toBe(0);
  });
});

describe('misuse fails loudly', () => {
  it('bad options throw at construction; a bad timeout rejects', async () => {
    expect(() => createSender({ policy: {}, maxSockets: 0 })).toThrow(/maxSockets/);
    expect(() => createSender({ policy: {}, excerptBytes: 2048, maxBodyRead: 1024 })).toThrow(/maxBodyRead/);
    await expect(sender().send(post('http://127.0.0.1:1/', { timeoutMs: 0 }))).rejects.toThrow(/timeoutMs/);
  });
});
