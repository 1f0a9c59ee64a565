/**
 * A delivery worker in its own process, for the kill test (killed.test.ts):
 * the real WebhookWorker over the parent's dynalite table, with loopback
 * targets allowed. Its clock runs LEDGERSEAL_TEST_CLOCK_OFFSET_MS ahead, so that
 * it can take over the lease of a worker killed before it. It prints "ready"
 * once started, then runs until it is killed.
 */
import { loadConfig } from '../../functions/config.ts';
import { silentLogger } from '../../functions/services.ts';
import { DynamoStore } from '../../functions/store/dynamo-store.ts';
import { createDynamoClient } from '../../functions/store/dynalite.ts';
import { createSender } from '../../functions/webhooks/http-send.ts';
import { WebhookWorker } from '../../functions/webhooks/worker.ts';

const env = process.env;
const offset = Number(env['LEDGERSEAL_TEST_CLOCK_OFFSET_MS'] ?? 0);
const loaded = loadConfig(env);
const config = { ...loaded.webhooks, allowLoopback: true };
const store = new DynamoStore(createDynamoClient(env['LEDGERSEAL_TEST_DYNAMO']!), env['LEDGERSEAL_TEST_TABLE']!);
const worker = new WebhookWorker({
  store,
  config,
  origin: loaded.origin,
  publicUrl: null,
  sender: createSender({ policy: { allowLoopback: true, allowHttp: true } }),
  clock: { now: () => new Date(Date.now() + offset) },
  log: silentLogger,
  owner: `child-${process.pid}`,
});
worker.start();
process.stdout.write('ready\n');
