/**
 * The publication job (sst.config.ts `Publish`, CronV2 rate(1 hour)): publishes
 * the latest settled checkpoint once LEDGERSEAL_PUBLICATION_INTERVAL_MS has
 * passed since the last publication (publisher.ts; idempotent, so an hourly
 * schedule publishes daily within the hour). Links: LedgerTable, ValidatorSet
 * (the checkpoint must carry its quorum).
 */
import { Resource } from 'sst';
import { awsLedger, once } from './resources.ts';
import type { ScheduleEvent } from './scheduled.ts';

const ledger = once(() =>
  awsLedger({
    table: Resource.LedgerTable.name,
    validatorSet: Resource.ValidatorSet.value,
  }),
);

export async function handler(_event: ScheduleEvent): Promise<{ status: string; size?: number }> {
  const r = await ledger().publish();
  return { status: r.status, ...(r.status === 'published' ? { size: r.publication.size } : {}) };
}
