/**
 * ValidatorStateStore on the validator's OWN DynamoDB table (state-store.ts;
 * README.md "State"): never the coordinator's table. One table per validator,
 * primary key pk (S) / sk (S), no index, no TTL, on-demand billing:
 *
 * | item          | pk                  | sk                        | attributes |
 * | ------------- | ------------------- | ------------------------- | ---------- |
 * | state         | `VALIDATOR#<name>`  | `STATE`                   | origin, size (N), frontier (S: concatenated hex), lastLeaf, lastTime, cosignedAt (N), conflict, updatedAt |
 * | signed record | `VALIDATOR#<name>`  | `SIGNED#<size, 16 digits>`| hash, at (N) |
 *
 * Access patterns, each one item by key, read strongly consistently:
 * - recordSigned: PutItem with `attribute_not_exists(pk)`; when it fails, a
 *   consistent GetItem tells `same` from `conflict`. This conditional write is
 *   what keeps two instances of one validator (two Lambda instances, or a
 *   retry racing the first call) from ever signing two checkpoints of one size.
 * - save: PutItem with `attribute_not_exists(pk) OR size <= :size`: the state
 *   never moves back, whichever instance writes last.
 * Records are small (about 100 bytes) and kept: one per signed size.
 */
import {
  ConditionalCheckFailedException,
  CreateTableCommand,
  DescribeTableCommand,
  type CreateTableCommandInput,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';
import { bytesToHex, hexToBytes } from '@ledgerseal/sdk';
import { checkFrontier } from './frontier.ts';
import type { RecordResult, SignedRecord, ValidatorState, ValidatorStateStore } from './state-store.ts';

/** The validator's table (table-shape.ts, which sst.config.ts declares it from). */
export { VALIDATOR_TABLE_SHAPE } from './table-shape.ts';

export function validatorTableDefinition(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: 'pk', AttributeType: 'S' },
      { AttributeName: 'sk', AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ],
  };
}

/** Create the table if missing and wait until it is ACTIVE (dynalite, local starts, tests). */
export async function ensureValidatorTable(client: DynamoDBClient, tableName: string, timeoutMs = 60_000): Promise<void> {
  const status = async (): Promise<string | undefined> => {
    try {
      return (await client.send(new DescribeTableCommand({ TableName: tableName }))).Table?.TableStatus;
    } catch (e) {
      if ((e as Error).name === 'ResourceNotFoundException') return undefined;
      throw e;
    }
  };
  if ((await status()) === undefined) {
    try {
      await client.send(new CreateTableCommand(validatorTableDefinition(tableName)));
    } catch (e) {
      if ((e as Error).name !== 'ResourceInUseException') throw e;
    }
  }
  const deadline = Date.now() + timeoutMs;
  while ((await status()) !== 'ACTIVE') {
    if (Date.now() > deadline) throw new Error(`validator table ${tableName} not ACTIVE after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const S = (s: string): AttributeValue => ({ S: s });
const N = (n: number): AttributeValue => ({ N: String(n) });
const str = (it: Record<string, AttributeValue>, k: string): string => {
  const v = it[k]?.S;
  if (v === undefined) throw new Error(`validator state item lacks ${k}`);
  return v;
};
const num = (it: Record<string, AttributeValue>, k: string): number => {
  const v = Number(it[k]?.N);
  if (!Number.isSafeInteger(v)) throw new Error(`validator state item lacks ${k}`);
  return v;
};

const isConditionFailure = (e: unknown): boolean =>
  e instanceof ConditionalCheckFailedException || (e as Error).name === 'ConditionalCheckFailedException';

export class DynamoStateStore implements ValidatorStateStore {
  readonly location: string;
  readonly #pk: string;
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
    name: string,
    private readonly origin: string,
  ) {
    this.location = `dynamodb:${tableName}/${name}`;
    this.#pk = `VALIDATOR#${name}`;
  }

  #key(sk: string): Record<string, AttributeValue> {
    return { pk: S(this.#pk), sk: S(sk) };
  }

  async #get(sk: string): Promise<Record<string, AttributeValue> | null> {
    const r = await this.client.send(new GetItemCommand({ TableName: this.tableName, Key: this.#key(sk), ConsistentRead: true }));
    return r.Item ?? null;
  }

  async load(): Promise<ValidatorState | null> {
    const it = await this.#get('STATE');
    if (!it) return null;
    if (str(it, 'origin') !== this.origin) throw new Error(`${this.location} holds the state of origin "${str(it, 'origin')}", not "${this.origin}"`);
    const frontierHex = it.frontier?.S ?? '';
    const state: ValidatorState = {
      size: num(it, 'size'),
      frontier: (frontierHex.match(/.{64}/g) ?? []).map((h) => hexToBytes(h)),
      lastLeaf: hexToBytes(str(it, 'lastLeaf')),
      lastTime: it.lastTime?.S ?? '',
      cosignedAt: num(it, 'cosignedAt'),
      conflict: it.conflict?.S ?? null,
      updatedAt: it.updatedAt?.S ?? '',
    };
    checkFrontier(state.size, state.frontier);
    return state;
  }

  async save(state: ValidatorState): Promise<boolean> {
    checkFrontier(state.size, state.frontier);
    const item: Record<string, AttributeValue> = {
      ...this.#key('STATE'),
      origin: S(this.origin),
      size: N(state.size),
      lastLeaf: S(bytesToHex(state.lastLeaf)),
      cosignedAt: N(state.cosignedAt),
      updatedAt: S(state.updatedAt),
    };
    // Empty strings are allowed for non-key attributes, but leave them out to keep items small.
    if (state.frontier.length > 0) item.frontier = S(state.frontier.map(bytesToHex).join(''));
    if (state.lastTime !== '') item.lastTime = S(state.lastTime);
    if (state.conflict !== null) item.conflict = S(state.conflict);
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: item,
          ConditionExpression: 'attribute_not_exists(pk) OR #size <= :size',
          ExpressionAttributeNames: { '#size': 'size' },
          ExpressionAttributeValues: { ':size': N(state.size) },
        }),
      );
      return true;
    } catch (e) {
      if (isConditionFailure(e)) return false;
      throw e;
    }
  }

  static #sk(size: number): string {
    return `SIGNED#${String(size).padStart(16, '0')}`;
  }

  async getSigned(size: number): Promise<SignedRecord | null> {
    const it = await this.#get(DynamoStateStore.#sk(size));
    return it ? { size, hash: str(it, 'hash'), at: num(it, 'at') } : null;
  }

  async recordSigned(record: SignedRecord): Promise<RecordResult> {
    if (!Number.isSafeInteger(record.size) || record.size < 1 || !/^[0-9a-f]{64}$/.test(record.hash) || !Number.isSafeInteger(record.at)) {
      throw new Error('recordSigned: malformed record');
    }
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: { ...this.#key(DynamoStateStore.#sk(record.size)), hash: S(record.hash), at: N(record.at) },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return { result: 'recorded', record };
    } catch (e) {
      if (!isConditionFailure(e)) throw e;
    }
    const stored = await this.getSigned(record.size);
    if (!stored) throw new Error(`${this.location}: the record of size ${record.size} exists but cannot be read`);
    return { result: stored.hash === record.hash ? 'same' : 'conflict', record: stored };
  }

  async close(): Promise<void> {
    /* the client belongs to the caller */
  }
}
