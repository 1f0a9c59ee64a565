/**
 * The embedded engine: dynalite (DynamoDB API on LevelDB) for tests, the local
 * runner and small installations, plus the DynamoDB client that talks to it.
 *
 * The engine listens on 127.0.0.1 only and flips tables to ACTIVE at once
 * (createTableMs / deleteTableMs / updateTableMs = 0). It implements the
 * DynamoDB wire protocol the adapter uses, but has no transactions, no streams
 * and no UpdateTimeToLive (README.md "What dynalite lacks").
 */
import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import dynalite from 'dynalite';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';

export interface DynaliteEngine {
  /** http://127.0.0.1:<port> */
  endpoint: string;
  /** Stop listening and close the LevelDB store (flushes it to disk when persisted). */
  close(): Promise<void>;
}

export async function startDynalite(opts: { path?: string; port?: number } = {}): Promise<DynaliteEngine> {
  if (opts.path !== undefined) mkdirSync(opts.path, { recursive: true });
  const server = dynalite({
    ...(opts.path !== undefined ? { path: opts.path } : {}),
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
  });
  await new Promise<void>((resolve, reject) => {
    const onError = (e: Error): void => reject(e);
    server.once('error', onError);
    server.listen(opts.port ?? 0, '127.0.0.1', () => {
      server.off('error', onError);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((e?: Error) => (e ? reject(e) : resolve()));
        // Keep-alive sockets of clients that were not destroyed would hold close() open.
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}

/**
 * The AWS SDK v3 warns once per process that it will soon need Node 22. The
 * project supports Node 20 until then, so only that one warning is dropped
 * while the client is constructed (that is when the SDK checks).
 */
function withoutNodeVersionWarning<T>(build: () => T): T {
  const original = process.emitWarning;
  const filtered = function (this: unknown, warning: string | Error, ...rest: unknown[]): void {
    const text = typeof warning === 'string' ? warning : warning.message;
    if (text.startsWith('NodeVersionSupportWarning')) return;
    (original as (...a: unknown[]) => void).call(process, warning, ...rest);
  };
  process.emitWarning = filtered as typeof process.emitWarning;
  try {
    return build();
  } finally {
    process.emitWarning = original;
  }
}

/** A client for a local endpoint: dummy credentials, region `local`, bounded retries and timeouts. */
export function createDynamoClient(endpoint: string): DynamoDBClient {
  return withoutNodeVersionWarning(
    () =>
      new DynamoDBClient({
        endpoint,
        region: 'local',
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
        maxAttempts: 4,
        retryMode: 'standard',
        requestHandler: { connectionTimeout: 2_000, requestTimeout: 30_000 },
      }),
  );
}
