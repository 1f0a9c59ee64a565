/**
 * The HTTP API on Lambda (sst.config.ts `Api`, API Gateway HTTP API, payload
 * format 2.0): Hono's adapter over the app wire() builds. Links: LedgerTable,
 * ValidatorSet, AdminKeyHash, WebhookSealingKeys (the API seals endpoint secrets).
 * It also serves the web front, from the web/dist that sst.config.ts copies
 * into this function's package (web-dist.ts).
 */
import { handle } from 'hono/aws-lambda';
import { Resource } from 'sst';
import { diskWebFiles } from '../web-files.ts';
import { awsLedger, once } from './resources.ts';
import { packagedWebDist } from './web-dist.ts';

const ledger = once(() =>
  awsLedger({
    table: Resource.LedgerTable.name,
    validatorSet: Resource.ValidatorSet.value,
    secrets: {
      LEDGERSEAL_ADMIN_KEY_HASH: Resource.AdminKeyHash.value,
      LEDGERSEAL_WEBHOOK_SECRET_KEYS: Resource.WebhookSealingKeys.value,
    },
    webFiles: diskWebFiles(packagedWebDist()),
  }),
);
const http = once(() => handle(ledger().app));

export const handler: ReturnType<typeof handle> = (event, context) => http()(event, context);
