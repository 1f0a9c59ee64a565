/**
 * The HTTP API on Lambda (sst.config.ts `Api`, API Gateway HTTP API, payload
 * format 2.0): Hono's adapter over the app wire() builds. Links: LedgerTable,
 * ValidatorSet, AdminKeyHash, WebhookSealingKeys (the API seals endpoint secrets).
 */
import { handle } from 'hono/aws-lambda';
import { Resource } from 'sst';
import { awsLedger, once } from './resources.ts';

const ledger = once(() =>
  awsLedger({
    table: Resource.LedgerTable.name,
    validatorSet: Resource.ValidatorSet.value,
    secrets: {
      LEDGERSEAL_ADMIN_KEY_HASH: Resource.AdminKeyHash.value,
      LEDGERSEAL_WEBHOOK_SECRET_KEYS: Resource.WebhookSealingKeys.value,
    },
  }),
);
const http = once(() => handle(ledger().app));

export const handler: ReturnType<typeof handle> = (event, context) => http()(event, context);
