/**
 * The one Ledgerseal table (single-table design, README.md "Key design").
 *
 * Primary key pk (S) / sk (S); one global secondary index `gsi1` (gpk / gsk,
 * projection ALL) used only by the event listing, one partition per event type; TTL
 * attribute `ttl` (epoch seconds) on idempotency records. On-demand billing.
 * ensureTable is for dynalite and first local starts; the AWS deployment
 * (sst.config.ts) declares the same shape from TABLE_SHAPE (table-shape.ts).
 */
import {
  CreateTableCommand,
  DescribeTableCommand,
  type CreateTableCommandInput,
  type DynamoDBClient,
  type TableDescription,
} from '@aws-sdk/client-dynamodb';
import { EVENTS_INDEX } from './table-shape.ts';

export { EVENTS_INDEX, TABLE_SHAPE, TTL_ATTRIBUTE } from './table-shape.ts';

export function tableDefinition(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: 'pk', AttributeType: 'S' },
      { AttributeName: 'sk', AttributeType: 'S' },
      { AttributeName: 'gpk', AttributeType: 'S' },
      { AttributeName: 'gsk', AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: [
      {
        IndexName: EVENTS_INDEX,
        KeySchema: [
          { AttributeName: 'gpk', KeyType: 'HASH' },
          { AttributeName: 'gsk', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
    ],
  };
}

function isActive(t: TableDescription | undefined): boolean {
  if (t?.TableStatus !== 'ACTIVE') return false;
  return (t.GlobalSecondaryIndexes ?? []).every((i) => i.IndexStatus === undefined || i.IndexStatus === 'ACTIVE');
}

async function describe(client: DynamoDBClient, tableName: string): Promise<TableDescription | undefined> {
  try {
    return (await client.send(new DescribeTableCommand({ TableName: tableName }))).Table;
  } catch (e) {
    if ((e as Error).name === 'ResourceNotFoundException') return undefined;
    throw e;
  }
}

/**
 * Create the table if it does not exist and wait until it and its index are
 * ACTIVE. Safe to call from several processes at once (ResourceInUse is fine).
 * TTL is not switched on here: dynalite has no UpdateTimeToLive, and the
 * adapter treats expired idempotency records as absent anyway.
 */
export async function ensureTable(
  client: DynamoDBClient,
  tableName: string,
  opts: { timeoutMs?: number; pollMs?: number } = {},
): Promise<void> {
  const timeoutMs = opts.timeoutMs ?? 120_000;
  const pollMs = opts.pollMs ?? 25;
  let table = await describe(client, tableName);
  if (table === undefined) {
    try {
      table = (await client.send(new CreateTableCommand(tableDefinition(tableName)))).TableDescription;
    } catch (e) {
      if ((e as Error).name !== 'ResourceInUseException') throw e;
    }
  }
  const deadline = Date.now() + timeoutMs;
  let delay = pollMs;
  while (!isActive(table)) {
    if (Date.now() > deadline) throw new Error(`store: table ${tableName} not ACTIVE after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 2000);
    table = await describe(client, tableName);
  }
}
