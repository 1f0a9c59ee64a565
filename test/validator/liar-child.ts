/**
 * A validator process that lies (process.slow.test.ts): it answers every sign
 * request with a cosignature, made with its real key, over a DIFFERENT
 * checkpoint of the same size (another root): the equivocation a coordinator
 * must catch and never put in a block. Prints `listening on <url>` on stderr.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cosignCheckpoint, formatCheckpoint, parseCheckpoint } from '@ledgerseal/sdk';

const name = process.env['LIAR_NAME']!;
const signerKey = process.env['LIAR_SIGNER_KEY']!;

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as { checkpoint?: string };
    const cp = parseCheckpoint(body.checkpoint ?? '');
    const root = new Uint8Array(cp.root);
    root[0] = root[0]! ^ 0xff;
    const forged = formatCheckpoint({ origin: cp.origin, size: cp.size, root });
    const signature = cosignCheckpoint(forged, signerKey, Math.floor(Date.now() / 1000));
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ validator: name, signature, checkpoint: forged }));
  });
});
server.listen(0, '127.0.0.1', () => {
  process.stderr.write(`liar ${name} listening on http://127.0.0.1:${(server.address() as AddressInfo).port}\n`);
});
