/**
 * Webhook delivery (sst.config.ts `Webhooks`, CronV2 rate(1 minute)): retries
 * that came due and messages the API queued (test, resend, recover). First
 * attempts after a round are made by the rounds function. Links: LedgerTable,
 * ValidatorSet, WebhookSealingKeys (to open endpoint secrets).
 */
import { Resource } from 'sst';
import { awsLedger, once } from './resources.ts';
import { drainWebhooks, type LambdaContext, type ScheduleEvent } from './scheduled.ts';

const ledger = once(() =>
  awsLedger({
    table: Resource.LedgerTable.name,
    validatorSet: Resource.ValidatorSet.value,
    secrets: { LEDGERSEAL_WEBHOOK_SECRET_KEYS: Resource.WebhookSealingKeys.value },
  }),
);

export async function handler(_event: ScheduleEvent, context: LambdaContext): Promise<{ ok: true }> {
  await drainWebhooks(ledger(), context);
  return { ok: true };
}
