/**
 * The hosted validators of sst.config.ts for the handler tests: each validator
 * function's Lambda handler (functions/aws/validator.ts) with its own signer
 * key, coordinator key hash and state table (a dynalite table of its own), each
 * served on 127.0.0.1 as a function URL would serve it: every HTTP request
 * becomes a payload 2.0 event for the handler. The coordinator (rounds
 * handler) reaches them over HTTP with its bearer token, as in AWS; they reach
 * the ledger only through its public API (LEDGERSEAL_LEDGER_URL).
 */
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateCosignerKey } from '../../sdk/src/cosignature.ts';
import type { ValidatorSet } from '../../sdk/src/index.ts';
import { defaultValidatorSet, type ValidatorKey } from '../../functions/ledger/keys.ts';
import { createDynamoClient } from '../../functions/store/dynalite.ts';
import { ensureValidatorTable } from '../../functions/validator/dynamo-state-store.ts';
import { httpEvent, type HttpResult, lambdaContext } from './lambda-events.ts';
import type { FunctionDecl } from './sst-stand-ins.ts';

type Handler = (event: unknown, context: unknown) => Promise<unknown>;

export interface Served {
  url: string;
  /** Requests served, by path. */
  calls(path: string): number;
  close(): Promise<void>;
}

/** Serve a Lambda HTTP handler on 127.0.0.1: each request becomes a payload 2.0 event, as a function URL sends it. */
export async function serveLambda(handler: Handler, timeout = '30 seconds'): Promise<Served> {
  const counts = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      counts.set(url.pathname, (counts.get(url.pathname) ?? 0) + 1);
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && k !== 'host' && k !== 'content-length') headers[k] = v;
      const body = chunks.length > 0 ? Buffer.concat(chunks).toString('utf8') : undefined;
      const event = httpEvent(req.method ?? 'GET', `${url.pathname}${url.search}`, { headers, ...(body !== undefined && { body }), sourceIp: '127.0.0.1' });
      (handler(event, lambdaContext('served', timeout)) as Promise<HttpResult>).then(
        (r) => {
          res.writeHead(r.statusCode, r.headers ?? {});
          res.end(r.isBase64Encoded ? Buffer.from(r.body, 'base64') : r.body);
        },
        (e: unknown) => {
          res.writeHead(502, { 'content-type': 'text/plain' });
          res.end(`handler failed: ${e instanceof Error ? e.message : String(e)}`);
        },
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls: (path) => counts.get(path) ?? 0,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

export interface HostedValidator {
  decl: FunctionDecl;
  name: string;
  key: ValidatorKey;
  table: string;
  handler: Handler;
  served: Served;
}

export interface HostedValidators {
  validators: HostedValidator[];
  set: ValidatorSet;
  /** SST_RESOURCE_<Name> values of their links. */
  resources: Record<string, unknown>;
  close(): Promise<void>;
}

/**
 * Every validator function the evaluated config declares, with its own key and
 * state table, served on loopback. `ledgerUrl` is read when a handler is first
 * built (the API must be served by then).
 */
export async function startHostedValidators(opts: {
  functions: FunctionDecl[];
  origin: string;
  endpoint: string;
  coordinatorToken: string;
  ledgerUrl: () => string;
}): Promise<HostedValidators> {
  const decls = opts.functions.filter((f) => f.file === 'functions/aws/validator.ts');
  const client = createDynamoClient(opts.endpoint);
  const hosted: Omit<HostedValidator, 'handler' | 'served'>[] = [];
  for (const decl of decls) {
    const env = decl.args.environment as Record<string, string>;
    const name = env['LEDGERSEAL_VALIDATOR_NAME']!;
    const table = `validator-state-${decl.name}-${Math.random().toString(36).slice(2, 8)}`;
    await ensureValidatorTable(client, table);
    hosted.push({ decl, name, key: { name, ...generateCosignerKey(name) }, table });
  }
  client.destroy();
  const set = defaultValidatorSet(opts.origin, hosted.map((h) => h.key));
  const tokenHash = createHash('sha256').update(opts.coordinatorToken, 'utf8').digest('hex');
  const resources: Record<string, unknown> = {};
  const validators: HostedValidator[] = [];
  for (const h of hosted) {
    const id = h.decl.name;
    resources[`${id}SignerKey`] = { type: 'sst.sst.Secret', value: h.key.signerKey };
    resources[`${id}CoordinatorKeyHash`] = { type: 'sst.sst.Secret', value: tokenHash };
    resources[`${id}State`] = { type: 'sst.aws.Dynamo', name: h.table };
    let built: Handler | undefined;
    const handler: Handler = async (event, context) => {
      // Imported on first use, like the other handlers: `sst` must load after the test installs its Resource view.
      const { validatorHandler } = await import('../../functions/aws/validator.ts');
      built ??= validatorHandler({
        ...process.env,
        ...(h.decl.args.environment as Record<string, string>),
        // What the stand-ins cannot know: the deployed API's URL and the validator set secret's value.
        LEDGERSEAL_LEDGER_URL: opts.ledgerUrl(),
        LEDGERSEAL_VALIDATOR_SET: JSON.stringify(set),
      }) as Handler;
      return built(event, context);
    };
    validators.push({ ...h, handler, served: await serveLambda(handler, String(h.decl.args.timeout)) });
  }
  return {
    validators,
    set,
    resources,
    close: async () => {
      for (const v of validators) await v.served.close();
    },
  };
}
