/**
 * The validator's own state store (functions/validator/state-store.ts): one
 * conformance suite against each adapter (memory, file in a data directory,
 * DynamoDB on its own dynalite table), the file store's durability rules, and
 * two instances of one validator sharing one DynamoDB state table, asked by a
 * lying coordinator to sign two different checkpoints of one size at once:
 * exactly one is ever signed.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeBlockHeader, GENESIS_PREV } from '../../sdk/src/block.ts';
import { MerkleTree } from '../../sdk/src/merkle.ts';
import { formatCheckpoint } from '../../sdk/src/checkpoint.ts';
import { validatorSetHash } from '../../sdk/src/validator-set.ts';
import { createDynamoClient } from '../../functions/store/dynalite.ts';
import { DynamoStateStore, ensureValidatorTable, VALIDATOR_TABLE_SHAPE } from '../../functions/validator/dynamo-state-store.ts';
import { memoryStateStore, openFileStateStore } from '../../functions/validator/file-state-store.ts';
import { appendLeaf, frontierRoot, headerLeaf } from '../../functions/validator/frontier.ts';
import { ValidatorRefusal, type SignRequest } from '../../functions/validator/protocol.ts';
import { initialState, KEPT_RECORDS, type ValidatorStateStore } from '../../functions/validator/state-store.ts';
import { Validator } from '../../functions/validator/validator.ts';
import { sharedDynalite, stopDynalite } from '../helpers/dynalite.ts';
import { KEYS, ORIGIN, SET } from '../ledger/_fixtures.ts';

afterAll(stopDynalite);

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'ls-vstate-'));
  dirs.push(d);
  return d;
};

let tables = 0;
async function dynamoStore(name = 'validator-1', table?: string): Promise<{ store: ValidatorStateStore; table: string }> {
  const client = createDynamoClient((await sharedDynalite()).endpoint);
  const t = table ?? `v${process.pid}_${++tables}`;
  await ensureValidatorTable(client, t);
  return { store: new DynamoStateStore(client, t, name, ORIGIN), table: t };
}

const ADAPTERS: [string, () => Promise<ValidatorStateStore>][] = [
  ['memory', async () => memoryStateStore({ name: 'validator-1', origin: ORIGIN })],
  ['file', () => openFileStateStore({ dir: join(tempDir(), 'v1'), name: 'validator-1', origin: ORIGIN })],
  ['dynamodb', async () => (await dynamoStore()).store],
];

const hex = (c: string): string => c.repeat(64);

for (const [name, open] of ADAPTERS) {
  describe(`state store conformance: ${name}`, () => {
    it('starts empty, saves and loads the state, never moves it back', async () => {
      const s = await open();
      try {
        expect(await s.load()).toBeNull();
        const leaf = headerLeaf('h0');
        const state = { ...initialState(), size: 1, frontier: [leaf], lastLeaf: leaf, lastTime: '2026-01-01T00:00:00.000Z', cosignedAt: 7, updatedAt: 'x' };
        expect(await s.save(state)).toBe(true);
        expect(await s.load()).toEqual(state);
        const next = { ...state, size: 2, frontier: appendLeaf([leaf], 1, headerLeaf('h1')), conflict: 'a reason' };
        expect(await s.save(next)).toBe(true);
        expect(await s.save(state)).toBe(false);
        expect(await s.load()).toEqual(next);
        expect(frontierRoot((await s.load())!.frontier)).toEqual(frontierRoot(next.frontier));
        await expect(s.save({ ...state, size: 3 })).rejects.toThrow(/frontier/);
      } finally {
        await s.close();
      }
    });

    it('records signatures conditionally: recorded, same (the first time wins), conflict', async () => {
      const s = await open();
      try {
        expect(await s.getSigned(13)).toBeNull();
        expect(await s.recordSigned({ size: 13, hash: hex('a'), at: 100 })).toEqual({ result: 'recorded', record: { size: 13, hash: hex('a'), at: 100 } });
        expect(await s.recordSigned({ size: 13, hash: hex('a'), at: 200 })).toEqual({ result: 'same', record: { size: 13, hash: hex('a'), at: 100 } });
        expect(await s.recordSigned({ size: 13, hash: hex('b'), at: 300 })).toMatchObject({ result: 'conflict', record: { hash: hex('a') } });
        expect(await s.getSigned(13)).toEqual({ size: 13, hash: hex('a'), at: 100 });
        await expect(s.recordSigned({ size: 0, hash: hex('a'), at: 1 })).rejects.toThrow(/malformed/);
      } finally {
        await s.close();
      }
    });
  });
}

describe('file state store', () => {
  it('survives a reopen, writes atomically (0600, no temporary file left), keeps the last records, locks its directory', async () => {
    const dir = join(tempDir(), 'v1');
    const s = await openFileStateStore({ dir, name: 'validator-1', origin: ORIGIN });
    await expect(openFileStateStore({ dir, name: 'validator-1', origin: ORIGIN })).rejects.toThrow(/already open in this process/);
    for (let size = 1; size <= KEPT_RECORDS + 5; size++) await s.recordSigned({ size, hash: hex('c'), at: size });
    await s.save({ ...initialState(), size: 1, frontier: [headerLeaf('x')], lastLeaf: headerLeaf('x') });
    await s.close();
    expect(readdirSync(dir).sort()).toEqual(['state.json']);
    expect(statSync(join(dir, 'state.json')).mode & 0o777).toBe(0o600);
    const again = await openFileStateStore({ dir, name: 'validator-1', origin: ORIGIN });
    try {
      expect((await again.load())?.size).toBe(1);
      expect(await again.getSigned(5)).toBeNull();
      expect(await again.getSigned(KEPT_RECORDS + 5)).toEqual({ size: KEPT_RECORDS + 5, hash: hex('c'), at: KEPT_RECORDS + 5 });
      expect(existsSync(join(dir, 'lock'))).toBe(true);
    } finally {
      await again.close();
    }
    await expect(openFileStateStore({ dir, name: 'validator-2', origin: ORIGIN })).rejects.toThrow(/holds the state of validator "validator-1"/);
    await expect(openFileStateStore({ dir, name: 'validator-1', origin: 'other/x' })).rejects.toThrow(/of origin/);
  });
});

describe('two instances of one validator on one DynamoDB state table', () => {
  it('never sign two checkpoints of one size, however a lying coordinator splits its requests', async () => {
    expect(VALIDATOR_TABLE_SHAPE).toEqual({ fields: { pk: 'string', sk: 'string' }, primaryIndex: { hashKey: 'pk', rangeKey: 'sk' } });
    const source = { location: 'none', latestCheckpoint: async () => null, blocks: async () => [] };
    const make = (root: string): SignRequest => {
      const members = [{ root, count: 1 }];
      const header = encodeBlockHeader({
        height: 0,
        time: new Date().toISOString(),
        roundSize: 1,
        anchors: 1,
        roundRoot: MerkleTree.fromLeafData([Buffer.from(root, 'hex')]).root(),
        prev: GENESIS_PREV,
        validators: validatorSetHash(SET),
      });
      const checkpoint = formatCheckpoint({ origin: ORIGIN, size: 1, root: frontierRoot(appendLeaf([], 0, headerLeaf(header))) });
      return { origin: ORIGIN, height: 0, proposalId: `0-${root.slice(0, 4)}`, header, checkpoint, members };
    };
    for (let round = 0; round < 5; round++) {
      const { table: t } = await dynamoStore();
      const [a, b] = [
        new Validator({ name: KEYS[0]!.name, signerKey: KEYS[0]!.signerKey, origin: ORIGIN, validatorSet: SET, state: (await dynamoStore('validator-1', t)).store, source }),
        new Validator({ name: KEYS[0]!.name, signerKey: KEYS[0]!.signerKey, origin: ORIGIN, validatorSet: SET, state: (await dynamoStore('validator-1', t)).store, source }),
      ];
      const [p, q] = [make(hex(String(round))), make(hex('f'))];
      const answers = await Promise.allSettled([a.sign(p), b.sign(q), a.sign(q), b.sign(p)]);
      const signed = new Set(answers.flatMap((x) => (x.status === 'fulfilled' ? [x.value.checkpoint] : [])));
      expect(signed.size).toBe(1);
      for (const x of answers) {
        if (x.status === 'rejected') expect((x.reason as ValidatorRefusal).code).toBe('EQUIVOCATION');
      }
    }
  });
});
