/**
 * Webhook targets (functions/webhooks/ssrf.ts): the refused-address table, URL
 * forms that hide an address, names, resolution to a refused address, and the
 * connect-time check against DNS rebinding on a real loopback server.
 */
import { createServer, request, Agent } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkAddress, checkWebhookUrl, embeddedIPv4, guardedLookup, resolveWebhookTarget } from '../../functions/webhooks/ssrf.ts';

const REFUSED: [string, RegExp][] = [
  ['https://127.0.0.1/hook', /loopback/],
  ['https://127.255.255.254/', /loopback/],
  ['https://2130706433/', /127\.0\.0\.1 is a loopback/], // decimal
  ['https://0177.0.0.1/', /loopback/], // octal
  ['https://0x7f.1/', /loopback/], // hex, short form
  ['https://127.1/', /loopback/],
  ['https://[::1]/', /loopback/],
  ['https://[::ffff:127.0.0.1]/', /loopback/], // IPv4-mapped
  ['https://[0:0:0:0:0:ffff:a9fe:a9fe]/', /link-local/], // mapped metadata
  ['https://169.254.169.254/latest/meta-data/', /link-local.*metadata/],
  ['https://[fd00:ec2::254]/', /unique local/], // AWS IPv6 metadata
  ['https://10.0.0.5/', /private/],
  ['https://172.31.255.255/', /private/],
  ['https://192.168.1.1/', /private/],
  ['https://100.64.0.1/', /carrier-grade NAT/],
  ['https://0.0.0.0/', /unspecified/],
  ['https://[::]/', /unspecified/],
  ['https://224.0.0.1/', /multicast/],
  ['https://[ff02::1]/', /multicast/],
  ['https://255.255.255.255/', /broadcast/],
  ['https://[fe80::1]/', /link-local/],
  ['https://[fc00::1]/', /unique local/],
  ['https://[64:ff9b::7f00:1]/', /embeds 127\.0\.0\.1/], // NAT64
  ['https://[64:ff9b::a9fe:a9fe]/', /embeds 169\.254\.169\.254/],
  ['https://[2002:7f00:1::]/', /embeds 127\.0\.0\.1/], // 6to4
  ['https://[2002:a9fe:a9fe::1]/', /embeds 169\.254\.169\.254/],
  ['https://[2001:0:4136:e378:8000:63bf:80ff:fffe]/', /embeds 127\.0\.0\.1/], // Teredo client 127.0.0.1
  ['https://[::127.0.0.1]/', /embeds 127\.0\.0\.1/], // IPv4-compatible
  ['https://198.18.0.1/', /benchmarking/],
  ['https://localhost/hook', /loopback name/],
  ['https://LOCALHOST./hook', /loopback name/],
  ['https://api.localhost/', /loopback name/],
  ['https://metadata.google.internal/computeMetadata/v1/', /metadata name/],
  ['https://db.internal/', /local network name/],
  ['https://printer.local/', /local network name/],
  ['https://intranet/', /fully qualified/],
  ['https://user:secret@example.com/', /credentials/],
  ['http://example.com/hook', /must be https/],
  ['ftp://example.com/', /must be https/],
  ['not a url', /not a valid URL/],
];

describe('checkWebhookUrl refuses', () => {
  it.each(REFUSED)('%s', (url, why) => {
    const v = checkWebhookUrl(url);
    expect(v.ok).toBe(false);
    if (!v.ok) expect(v.reason).toMatch(why);
  });
  it(`the table has ${REFUSED.length} cases`, () => expect(REFUSED.length).toBeGreaterThanOrEqual(25));
});

describe('checkWebhookUrl allows', () => {
  it.each(['https://93.184.216.34/hook', 'https://[2606:4700:4700::1111]/', 'https://hooks.example.com/ledgerseal?x=1', 'https://8.8.8.8:8443/'])('%s', (url) => {
    expect(checkWebhookUrl(url).ok).toBe(true);
  });

  it('loopback and http only with the local runner policy; private addresses stay refused there', () => {
    const local = { allowLoopback: true, allowHttp: true };
    for (const url of ['http://127.0.0.1:9000/', 'http://[::1]:9000/', 'http://localhost:9000/', 'http://[::ffff:127.0.0.1]/']) expect(checkWebhookUrl(url, local).ok, url).toBe(true);
    for (const url of ['http://10.0.0.1/', 'http://169.254.169.254/', 'http://[fe80::1]/', 'http://metadata.google.internal/']) expect(checkWebhookUrl(url, local).ok, url).toBe(false);
  });
});

describe('addresses', () => {
  it('finds the IPv4 address inside IPv6 forms', () => {
    expect(embeddedIPv4('::ffff:10.1.2.3')).toEqual(['10.1.2.3']);
    expect(embeddedIPv4('64:ff9b::c0a8:101')).toEqual(['192.168.1.1']);
    expect(embeddedIPv4('2002:c0a8:0101::1')).toEqual(['192.168.1.1']);
    expect(embeddedIPv4('2001:0:4136:e378:8000:63bf:3fff:fdd2')).toEqual(['65.54.227.120', '192.0.2.45']);
    expect(embeddedIPv4('2606:4700::1111')).toEqual([]);
  });
  it('public addresses pass', () => {
    for (const ip of ['1.1.1.1', '93.184.216.34', '2606:4700:4700::1111', '2002:5db8:d822::1']) expect(checkAddress(ip).ok, ip).toBe(true);
  });
});

describe('names are checked after resolution, and again at connect time', () => {
  it('a name that resolves to any refused address is refused', async () => {
    const fake = (answers: Record<string, string[]>) => async (h: string) => answers[h] ?? [];
    const lookup = fake({ 'good.example': ['93.184.216.34'], 'rebind.example': ['93.184.216.34', '127.0.0.1'], 'meta.example': ['169.254.169.254'] });
    expect(await resolveWebhookTarget('good.example', {}, lookup)).toMatchObject({ ok: true, addresses: ['93.184.216.34'] });
    expect(await resolveWebhookTarget('rebind.example', {}, lookup)).toMatchObject({ ok: false, reason: expect.stringMatching(/resolves to 127\.0\.0\.1/) });
    expect(await resolveWebhookTarget('meta.example', {}, lookup)).toMatchObject({ ok: false, reason: expect.stringMatching(/metadata/) });
    expect(await resolveWebhookTarget('none.example', {}, lookup)).toMatchObject({ ok: false, reason: expect.stringMatching(/no address/) });
  });

  describe('guardedLookup on a real loopback server', () => {
    const server = createServer((_req, res) => res.end('ok'));
    let port = 0;
    beforeAll(async () => {
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      port = (server.address() as AddressInfo).port;
    });
    afterAll(() => new Promise<void>((r) => server.close(() => r())));

    const get = (lookup: ReturnType<typeof guardedLookup>): Promise<string> =>
      new Promise((resolve, reject) => {
        const req = request({ host: 'localhost', port, path: '/', agent: new Agent({ lookup } as ConstructorParameters<typeof Agent>[0]), lookup, family: 4 }, (res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d.toString()));
          res.on('end', () => resolve(body));
        });
        req.on('error', reject);
        req.end();
      });

    it('refuses to connect to a name that resolves to loopback', async () => {
      await expect(get(guardedLookup())).rejects.toMatchObject({ code: 'ERR_WEBHOOK_TARGET' });
    });
    it('connects when the policy allows loopback (the local runner)', async () => {
      expect(await get(guardedLookup({ allowLoopback: true }))).toBe('ok');
    });
  });
});
