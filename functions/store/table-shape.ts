/**
 * The shape of the one Ledgerseal table (README.md "Key design"), with no
 * imports, so that `sst.config.ts` declares the AWS table from this very object
 * and `table.ts` creates the same table on dynalite: the shape is written once.
 *
 * Primary key pk (S) / sk (S); one global secondary index `gsi1` (gpk / gsk,
 * projection ALL) used only by the event listing, one partition per event type; TTL
 * attribute `ttl` (epoch seconds) on idempotency records. On-demand billing.
 */

export const EVENTS_INDEX = 'gsi1';
export const TTL_ATTRIBUTE = 'ttl';

/** The table in the words of SST's `sst.aws.Dynamo` component (fields, primaryIndex, globalIndexes, ttl). */
export const TABLE_SHAPE = {
  fields: { pk: 'string', sk: 'string', gpk: 'string', gsk: 'string' },
  primaryIndex: { hashKey: 'pk', rangeKey: 'sk' },
  globalIndexes: { [EVENTS_INDEX]: { hashKey: 'gpk', rangeKey: 'gsk', projection: 'all' } },
  ttl: TTL_ATTRIBUTE,
} as const;
