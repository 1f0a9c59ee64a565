/**
 * Capacity by item kind for the service benchmarks. store.capacity
 * (functions/store/dynamo-store.ts) sums every unit the store consumed; to
 * split the writes of intake from the writes of rounds, this middleware on
 * the store's DynamoDB client attributes each response's ConsumedCapacity to
 * the kind of item written, read from its key (functions/store/README.md "Key
 * design"). It only observes: no request is changed.
 *
 * Not seen here: failed conditional writes (the error carries no
 * ConsumedCapacity; the store adds an estimate to store.capacity instead).
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';

/** intake: batch items, pending markers written, history, idempotency records; round: placements, pending markers deleted, proposals, blocks, calendar nodes, events and their outbox markers, validator records. */
export type WriteKind = 'intake' | 'round' | 'other';
export interface Meter {
  write: Record<WriteKind, number>;
  /** reads of API keys (one per authenticated request) vs everything else */
  read: { auth: number; rest: number };
  mixed: number;
  reset(): void;
}

function writeKind(pk: string, sk: string, op: 'put' | 'delete' | 'update'): WriteKind {
  if (pk.startsWith('BATCH#')) return sk === 'PLACEMENT' ? 'round' : 'intake';
  if (pk.startsWith('PENDING#')) return op === 'delete' ? 'round' : 'intake';
  if (pk.startsWith('HIST#') || pk.startsWith('IDEM#')) return 'intake';
  if (/^(ROUND#|BLOCK$|CAL#|EVENT#|OUTBOX#|VALIDATOR#)/.test(pk)) return 'round';
  return 'other';
}

type AttrMap = Record<string, { S?: string } | undefined> | undefined;
type CommandInput = {
  Item?: AttrMap;
  Key?: AttrMap;
  RequestItems?: Record<string, { PutRequest?: { Item?: AttrMap }; DeleteRequest?: { Key?: AttrMap } }[] | { Keys?: AttrMap[] }>;
  ExpressionAttributeValues?: AttrMap;
};

export function installMeter(client: DynamoDBClient): Meter {
  const meter: Meter = {
    write: { intake: 0, round: 0, other: 0 },
    read: { auth: 0, rest: 0 },
    mixed: 0,
    reset() {
      meter.write = { intake: 0, round: 0, other: 0 };
      meter.read = { auth: 0, rest: 0 };
      meter.mixed = 0;
    },
  };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      const input = args.input as CommandInput;
      const cc = (result.output as { ConsumedCapacity?: { CapacityUnits?: number } | { CapacityUnits?: number }[] }).ConsumedCapacity;
      const units = (Array.isArray(cc) ? cc : cc ? [cc] : []).reduce((n, c) => n + (c.CapacityUnits ?? 0), 0);
      const name = (context as { commandName?: string }).commandName ?? '';
      const pkOf = (m: AttrMap): [string, string] => [m?.pk?.S ?? '', m?.sk?.S ?? ''];
      if (name === 'PutItemCommand') meter.write[writeKind(...pkOf(input.Item), 'put')] += units;
      else if (name === 'UpdateItemCommand') meter.write[writeKind(...pkOf(input.Key), 'update')] += units;
      else if (name === 'DeleteItemCommand') meter.write[writeKind(...pkOf(input.Key), 'delete')] += units;
      else if (name === 'BatchWriteItemCommand') {
        const reqs = Object.values(input.RequestItems ?? {}).flat() as { PutRequest?: { Item?: AttrMap }; DeleteRequest?: { Key?: AttrMap } }[];
        const kinds = new Set(reqs.map((r) => (r.PutRequest ? writeKind(...pkOf(r.PutRequest.Item), 'put') : writeKind(...pkOf(r.DeleteRequest?.Key), 'delete'))));
        if (kinds.size > 1) meter.mixed += units;
        meter.write[[...kinds][0] ?? 'other'] += units;
      } else {
        const pk =
          name === 'GetItemCommand'
            ? pkOf(input.Key)[0]
            : name === 'BatchGetItemCommand'
              ? pkOf((Object.values(input.RequestItems ?? {})[0] as { Keys?: AttrMap[] } | undefined)?.Keys?.[0])[0]
              : (input.ExpressionAttributeValues?.[':pk']?.S ?? '');
        if (pk.startsWith('APIKEY#')) meter.read.auth += units;
        else meter.read.rest += units;
      }
      return result;
    },
    { step: 'initialize', name: 'ledgersealBenchMeter' },
  );
  return meter;
}
