/**
 * Validators as separate HTTP services on 127.0.0.1, for the handler tests:
 * the coordinator (rounds handler) reaches them as in AWS, over HTTP with a
 * bearer token, at the URLs of the ValidatorEndpoints secret.
 *
 * Until the independent validators land, a validator service is the current
 * code path: wire() hosting one validator behind POST /v1/validator/sign
 * (signEndpointValidator, api/validator.ts), which still reads the ledger
 * table. When validators become independent units with their own state and
 * HTTP app, only this file changes.
 */
import type { ServerType } from '@hono/node-server';
import type { Server } from 'node:http';
import { generateCosignerKey } from '../../sdk/src/cosignature.ts';
import type { ValidatorSet } from '../../sdk/src/index.ts';
import { generateAdminToken, hashToken } from '../../functions/api/auth.ts';
import { loadConfig } from '../../functions/config.ts';
import { defaultValidatorSet, type ValidatorKey } from '../../functions/ledger/keys.ts';
import { listen } from '../../functions/local/node-server.ts';
import { DynamoStore } from '../../functions/store/dynamo-store.ts';
import { createDynamoClient } from '../../functions/store/dynalite.ts';
import { wire } from '../../functions/wiring.ts';

export interface HttpValidator {
  name: string;
  url: string;
  /** The bearer token this validator accepts (only its hash is configured on it). */
  token: string;
  /** Sign requests it answered. */
  calls: () => number;
}

export interface HttpValidators {
  validators: HttpValidator[];
  set: ValidatorSet;
  close(): Promise<void>;
}

/** Start `names.length` validators, each with its own key and token, on loopback. */
export async function startHttpValidators(opts: {
  origin: string;
  endpoint: string;
  table: string;
  names: string[];
  /** The token each validator accepts (default: a fresh one each). */
  tokens?: Record<string, string>;
}): Promise<HttpValidators> {
  const keys: ValidatorKey[] = opts.names.map((name) => ({ name, ...generateCosignerKey(name) }));
  const set = defaultValidatorSet(opts.origin, keys);
  const servers: { server: ServerType; close: () => void }[] = [];
  const validators: HttpValidator[] = [];
  for (const key of keys) {
    const token = opts.tokens?.[key.name] ?? generateAdminToken().token;
    const client = createDynamoClient(opts.endpoint);
    const ledger = wire({
      config: { ...loadConfig({}), origin: opts.origin, coordinatorKeyHash: hashToken(token) },
      store: new DynamoStore(client, opts.table),
      validatorKeys: [key],
      validatorSet: set,
      signEndpointValidator: key.name,
    });
    let calls = 0;
    const app = ledger.app;
    const counted = { fetch: (req: Request) => (new URL(req.url).pathname === '/v1/validator/sign' && calls++, app.fetch(req)) };
    const { server, url } = await listen(counted as unknown as typeof app, { port: 0, host: '127.0.0.1' });
    servers.push({ server, close: () => client.destroy() });
    validators.push({ name: key.name, url, token, calls: () => calls });
  }
  return {
    validators,
    set,
    close: async () => {
      for (const s of servers) {
        (s.server as Server).closeAllConnections();
        await new Promise<void>((r) => s.server.close(() => r()));
        s.close();
      }
    },
  };
}
