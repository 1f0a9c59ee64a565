/**
 * Store fixtures for tests: one in-memory dynalite per test file (started on
 * first use; stop it in afterAll with stopDynalite), a fresh table per store,
 * optionally behind a lagging engine (lagging-engine.ts: eventually consistent
 * reads that lag like DynamoDB's).
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoStore } from '../../functions/store/dynamo-store.ts';
import { createDynamoClient, startDynalite, type DynaliteEngine } from '../../functions/store/dynalite.ts';
import { ensureTable } from '../../functions/store/table.ts';
import type { LaggingEngine } from './lagging-engine.ts';

export interface TestStore {
  store: DynamoStore;
  /** The engine's own client: never lagged, and a lagging engine does not record the writes sent through it. */
  client: DynamoDBClient;
  tableName: string;
  /** Destroys the client (the shared engine keeps running for the next test). */
  close(): Promise<void>;
}

let shared: Promise<DynaliteEngine> | undefined;
let tables = 0;

/** The file's shared in-memory engine. */
export function sharedDynalite(): Promise<DynaliteEngine> {
  shared ??= startDynalite();
  return shared;
}

export async function stopDynalite(): Promise<void> {
  const engine = shared;
  shared = undefined;
  if (engine) await (await engine).close();
}

/**
 * A store on a fresh table of the shared engine, or on `endpoint` / `tableName`
 * when given. With `lagging`, the store sends through `lagging.wrap(client)`;
 * `now` is the store's clock (outbox markers).
 */
export async function withStore(
  opts: { endpoint?: string; tableName?: string; lagging?: LaggingEngine; now?: () => Date } = {},
): Promise<TestStore> {
  const endpoint = opts.endpoint ?? (await sharedDynalite()).endpoint;
  const tableName = opts.tableName ?? `t${process.pid}_${++tables}_${Math.random().toString(36).slice(2, 8)}`;
  const client = createDynamoClient(endpoint);
  await ensureTable(client, tableName);
  const storeClient = opts.lagging ? opts.lagging.wrap(client) : client;
  return { store: new DynamoStore(storeClient, tableName, opts.now ? { now: opts.now } : {}), client, tableName, close: async () => client.destroy() };
}
