/**
 * A validator's own table in the words of SST's `sst.aws.Dynamo` component:
 * one per validator, nothing shared with the ledger. Imports nothing, so that
 * sst.config.ts can load it (dynamo-state-store.ts is the adapter).
 */
export const VALIDATOR_TABLE_SHAPE = {
  fields: { pk: 'string', sk: 'string' },
  primaryIndex: { hashKey: 'pk', rangeKey: 'sk' },
} as const;
