/**
 * Regression test for the dynalite iterator leak (functions/store/dynalite.ts,
 * closeDynaliteIterators): every Query, including one stopped early by Limit,
 * must close the LevelDB iterator it opened.
 */
import { PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { AbstractIterator } from 'abstract-level';
import { afterAll, describe, expect, it } from 'vitest';
import { createDynamoClient, startDynalite } from '../../functions/store/dynalite.ts';
import { ensureTable } from '../../functions/store/table.ts';

describe('dynalite iterators', () => {
  const common = Object.getPrototypeOf(AbstractIterator.prototype) as { close(): Promise<void> };
  const originalClose = common.close;
  let closes = 0;
  common.close = function (this: unknown) {
    closes++;
    return originalClose.call(this);
  };
  afterAll(() => {
    common.close = originalClose;
  });

  it('are closed after every Query, also when Limit stops it early', async () => {
    const engine = await startDynalite();
    const client = createDynamoClient(engine.endpoint);
    try {
      await ensureTable(client, 'iterators');
      for (let i = 0; i < 20; i++) {
        await client.send(new PutItemCommand({ TableName: 'iterators', Item: { pk: { S: 'P' }, sk: { S: String(i).padStart(3, '0') } } }));
      }
      const before = closes;
      const queries = 50;
      for (let i = 0; i < queries; i++) {
        await client.send(new QueryCommand({
          TableName: 'iterators',
          KeyConditionExpression: 'pk = :p',
          ExpressionAttributeValues: { ':p': { S: 'P' } },
          Limit: i % 2 === 0 ? 1 : 100,
          ScanIndexForward: i % 3 !== 0,
        }));
      }
      expect(closes - before).toBeGreaterThanOrEqual(queries);
    } finally {
      client.destroy();
      await engine.close();
    }
  });
});
