/**
 * The round coordinator (sst.config.ts `Rounds`, CronV2 rate(1 minute)): rounds
 * until nothing is pending (scheduled.ts), asking the validators over HTTP,
 * then the first webhook attempts for what those rounds finalized. Links:
 * LedgerTable, ValidatorSet, CoordinatorToken, ValidatorEndpoints,
 * HostedValidators, WebhookSealingKeys (to sign those first attempts).
 */
import { Resource } from 'sst';
import { awsLedger, once, validatorEndpoints } from './resources.ts';
import { drainWebhooks, type LambdaContext, runRounds, type RoundsRun, type ScheduleEvent } from './scheduled.ts';

const ledger = once(() =>
  awsLedger({
    table: Resource.LedgerTable.name,
    validatorSet: Resource.ValidatorSet.value,
    validators: validatorEndpoints(Resource.ValidatorEndpoints.value, Resource.HostedValidators.endpoints, Resource.CoordinatorToken.value),
    secrets: { LEDGERSEAL_WEBHOOK_SECRET_KEYS: Resource.WebhookSealingKeys.value },
  }),
);

export async function handler(event: ScheduleEvent, context: LambdaContext): Promise<RoundsRun> {
  const startedAt = Date.now();
  const run = await runRounds(ledger(), context, event);
  await drainWebhooks(ledger(), context, startedAt);
  return run;
}
