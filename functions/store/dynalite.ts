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
import { AbstractIterator } from 'abstract-level';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { withoutNodeVersionWarning } from './dynamo-client.ts';

/**
 * dynalite 4.0.0 wraps abstract-level iterators in streams whose destroy() calls
 * `iterator.return()` to release them, but abstract-level 3 iterators have no
 * `return()` (only `close()`), so every Query and Scan left its LevelDB iterator
 * open: an iterator pins its snapshot, and a long-running `npm start` grew by
 * hundreds of MB (3,000 Limit-1 queries: +569 MB; BENCHMARKS.md "Service").
 * Giving the iterators the `return()` dynalite expects closes each one when its
 * stream ends or is destroyed. Idempotent; test/store/dynalite-iterators.test.ts
 * fails if an upgrade changes either side.
 */
export function closeDynaliteIterators(): void {
  const common = Object.getPrototypeOf(AbstractIterator.prototype) as { return?: unknown; close(): Promise<void> };
  if (typeof common.return === 'function') return;
  Object.defineProperty(common, 'return', {
    value: function (this: { close(): Promise<void> }): Promise<void> {
      return this.close();
    },
    configurable: true,
    writable: true,
  });
}

export interface DynaliteEngine {
  /** http://127.0.0.1:<port> */
  endpoint: string;
  /** Stop listening and close the LevelDB store (flushes it to disk when persisted). */
  close(): Promise<void>;
}

export async function startDynalite(opts: { path?: string; port?: number } = {}): Promise<DynaliteEngine> {
  closeDynaliteIterators();
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
        // A local engine under load queues requests for a socket; that wait counts toward
        // connectionTimeout, so it is generous (a dead engine still fails within 10 s).
        requestHandler: { connectionTimeout: 10_000, requestTimeout: 30_000 },
      }),
  );
}
