/**
 * Concurrent retries of one request (docs/protocol.md 7.1): the same
 * Idempotency-Key, bodies that are the same canonical request but spell their
 * JSON keys in other orders, a batch over 350 kB (stored as a head and parts),
 * and a store whose writes are delayed at random and whose eventually
 * consistent reads lag (test/helpers/lagging-engine.ts, around the real
 * dynalite engine). Whatever the interleaving, exactly one batch is stored,
 * intact; the round finalizes it; its proofs verify.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { verifyProof } from '../../sdk/src/proof.ts';
import { runRound } from '../../functions/ledger/coordinator.ts';
import { inProcessValidator } from '../../functions/ledger/remote-validator.ts';
import { keys } from '../../functions/store/items.ts';
import { QueryCommand } from '@aws-sdk/client-dynamodb';
import { stopDynalite } from '../helpers/dynalite.ts';
import { laggingEngine } from '../helpers/lagging-engine.ts';
import { fixture, hostedValidator, ORIGIN } from './setup.ts';

afterAll(stopDynalite);

const ANCHORS = 4_000;
const ITERATIONS = 6;

/** One logical request: 4,000 anchors, each with metadata of several keys and incompressible values. */
function request(): { hash: string; metadata: Record<string, unknown> }[] {
  return Array.from({ length: ANCHORS }, (_, i) => ({
    hash: randomBytes(32).toString('hex'),
    metadata: { serial: i, checksum: randomBytes(48).toString('hex'), office: { code: `KA-${i % 97}`, open: i % 2 === 0 } },
  }));
}

/** The same JSON with the members of every object in another order (seeded per variant). */
function permuted(value: unknown, variant: number): unknown {
  if (Array.isArray(value)) return value.map((v) => permuted(v, variant));
  if (typeof value !== 'object' || value === null) return value;
  const entries = Object.entries(value);
  const order = variant % 2 === 0 ? entries.reverse() : [...entries.slice(1), ...entries.slice(0, 1)];
  return Object.fromEntries(order.map(([k, v]) => [k, permuted(v, variant + 1)]));
}

describe('concurrent retries of one batch over 350 kB', () => {
  it('store one intact batch whatever the interleaving; the round finalizes it and its proofs verify', { timeout: 300_000 }, async () => {
    const engine = laggingEngine({ seed: 20261130, maxLagWrites: 40, writeDelayMs: [0, 25] });
    const f = await fixture({ validators: 4, lagging: engine, config: { maxBodyBytes: 6 * 1024 * 1024 } });
    try {
      const { apiKey } = await f.agency();
      const validators = f.validatorKeys.map((_, index) =>
        inProcessValidator(hostedValidator({ set: f.services.validatorSet, keys: f.validatorKeys, source: f.source }, { index, now: () => f.clock.now() })),
      );
      for (let i = 0; i < ITERATIONS; i++) {
        const anchors = request();
        const headers = { 'idempotency-key': `import-${i}` };
        // Three copies in flight at once: the original and two permutations of it.
        const answers = await Promise.all(
          [anchors, permuted(anchors, 0), permuted(anchors, 1)].map((a) => f.call('POST', '/v1/anchors', { token: apiKey, body: { anchors: a }, headers })),
        );
        expect(answers.map((r) => r.status)).toEqual([202, 202, 202]);
        const bodies = (await Promise.all(answers.map((r) => r.json()))) as { batchId: string; anchors: { id: string }[] }[];
        expect(new Set(bodies.map((b) => b.batchId)).size).toBe(1);
        expect(answers.filter((r) => r.headers.get('idempotent-replayed') === 'true')).toHaveLength(2);
        const batchId = bodies[0]!.batchId;

        // One version stored: a head over parts (the batch is over 350 kB), nothing else under the id but what it names.
        const items = await f.ts.client.send(new QueryCommand({
          TableName: f.ts.tableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': keys.batch(batchId).pk! }, ConsistentRead: true,
        }));
        const head = items.Items!.find((it) => it.sk!.S === 'BATCH')!;
        const parts = items.Items!.filter((it) => it.sk!.S!.startsWith('PART#'));
        expect(Number(head.parts!.N)).toBeGreaterThanOrEqual(1);
        expect(parts.map((p) => p.sk!.S)).toEqual(parts.map((_, k) => `PART#${head.digest!.S}#${String(k + 1).padStart(4, '0')}`));

        const stored = (await f.store.getBatch(batchId))!;
        expect(stored.count).toBe(ANCHORS);
        expect(Buffer.from(stored.hashes).toString('hex')).toBe(anchors.map((a) => a.hash).join(''));
        expect(stored.entries).toEqual(anchors.map((a) => ({ metadata: a.metadata })));

        // The round takes it (the marker was written at least once, never twice) and its proofs verify.
        f.clock.advance(1_000);
        const o = await runRound({ store: f.store, origin: ORIGIN, validatorSet: f.services.validatorSet, validators, now: () => f.clock.now() });
        expect(o).toMatchObject({ status: 'finalized', batches: 1, anchors: ANCHORS, leftOut: [] });
        for (const index of [0, ANCHORS - 1]) {
          const got = (await (await f.call('GET', `/v1/anchors/${batchId}.${index}`, { token: apiKey })).json()) as { status: string; proof: unknown };
          expect(got.status).toBe('confirmed');
          expect(verifyProof(got.proof, { validators: f.services.validatorSet, origin: ORIGIN })).toMatchObject({ ok: true });
        }
      }
      expect(await f.store.listPending({ before: '2100-01-01T00:00:00.000Z', limit: 10 })).toEqual([]);
      expect(engine.stats().staleItems).toBeGreaterThan(0);
    } finally {
      f.close();
    }
  });
});
