/**
 * The scheduled functions' budgets and the Lambda wiring's parsing of what
 * SST links (functions/aws/scheduled.ts, resources.ts), without AWS or a
 * store: a stub ledger that records what is asked of it.
 */
import { describe, expect, it } from 'vitest';
import { generateCosignerKey } from '../../sdk/src/cosignature.ts';
import { awsLedger, validatorEndpoints } from '../../functions/aws/resources.ts';
import { drainWebhooks, ROUND_RESERVE_MS, runRounds, WEBHOOK_RESERVE_MS } from '../../functions/aws/scheduled.ts';
import type { RoundStatus } from '../../functions/ledger/coordinator.ts';
import { defaultValidatorSet } from '../../functions/ledger/keys.ts';
import type { Ledger } from '../../functions/wiring.ts';

const silent = { info: () => {}, warn: () => {}, error: () => {} };

function stubLedger(statuses: RoundStatus[], roundMs = 0) {
  const asked: string[] = [];
  const ledger = {
    config: { webhooks: { timeoutMs: 15_000 } },
    services: { log: silent },
    round: async () => {
      asked.push('round');
      if (roundMs > 0) await new Promise((r) => setTimeout(r, roundMs));
      const status = statuses.shift() ?? 'empty';
      return { status, anchors: status === 'finalized' ? 10 : 0 };
    },
    webhooks: {
      drain: async (_max: number, deadline: number) => void asked.push(`drain:${Math.round((deadline - Date.now()) / 1000)}`),
      stop: async () => void asked.push('stop'),
    },
  } as unknown as Ledger;
  return { ledger, asked };
}

const context = (remainingMs: number) => {
  const end = Date.now() + remainingMs;
  return { getRemainingTimeInMillis: () => end - Date.now() };
};

describe('rounds within the Lambda budget', () => {
  it('runs rounds back to back until one finds nothing pending (a coordinator that fell behind catches up in one run)', async () => {
    const { ledger, asked } = stubLedger(['finalized', 'lost-race', 'finalized', 'finalized']);
    const run = await runRounds(ledger, context(120_000), { scheduledTime: new Date().toISOString() });
    expect(run).toEqual({ rounds: 4, finalized: 3, stoppedBy: 'drained', statuses: ['finalized', 'lost-race', 'finalized', 'finalized', 'empty'], anchors: 30 });
    expect(asked).toHaveLength(5);
  });

  it('stops at no quorum (the next run resumes the stored proposal)', async () => {
    const { ledger } = stubLedger(['finalized', 'no-quorum', 'finalized']);
    expect(await runRounds(ledger, context(120_000))).toMatchObject({ rounds: 2, stoppedBy: 'no-quorum' });
  });

  it('starts no round when less than the longest round is left of the Lambda timeout', async () => {
    const { ledger, asked } = stubLedger(['finalized']);
    expect(await runRounds(ledger, context(ROUND_RESERVE_MS - 1))).toMatchObject({ rounds: 0, stoppedBy: 'budget' });
    expect(asked).toEqual([]);
  });

  it('stops starting rounds once the budget is spent, finishing the round under way', async () => {
    const { ledger, asked } = stubLedger(Array(100).fill('finalized'), 20);
    const run = await runRounds(ledger, context(ROUND_RESERVE_MS + 100));
    expect(run.stoppedBy).toBe('budget');
    expect(asked.length).toBeGreaterThanOrEqual(3);
    expect(asked.length).toBeLessThanOrEqual(7);
  });

  it('drains webhooks keeping an attempt timeout in reserve, then gives the lease up', async () => {
    const { ledger, asked } = stubLedger([]);
    await drainWebhooks(ledger, context(60_000));
    expect(asked).toEqual([`drain:${Math.round((60_000 - 15_000 - WEBHOOK_RESERVE_MS) / 1000)}`, 'stop']);
    const short = stubLedger([]);
    await drainWebhooks(short.ledger, context(300_000));
    expect(short.asked[0]).toBe('drain:50'); // at most 50 s: the next scheduled run is due
  });
});

describe('what the Lambda wiring accepts from its links', () => {
  it('ValidatorEndpoints: name, url, optional token (default: the CoordinatorToken), plus hosted validators', () => {
    const list = validatorEndpoints(JSON.stringify([{ name: 'a', url: 'https://a.example/' }, { name: 'b', url: 'https://b.example/v', token: 'tb' }]), { c: 'https://c.lambda-url/' }, 'shared');
    expect(list).toEqual([
      { name: 'a', url: 'https://a.example/', coordinatorKey: 'shared' },
      { name: 'b', url: 'https://b.example/v', coordinatorKey: 'tb' },
      { name: 'c', url: 'https://c.lambda-url/', coordinatorKey: 'shared' },
    ]);
    expect(() => validatorEndpoints('{', {}, 't')).toThrow(/not JSON/);
    expect(() => validatorEndpoints('{}', {}, 't')).toThrow(/not an array/);
    expect(() => validatorEndpoints('[{"name":"a"}]', {}, 't')).toThrow(/needs string name and url/);
    expect(() => validatorEndpoints('[{"name":"a","url":"ftp://x"}]', {}, 't')).toThrow(/http/);
    expect(() => validatorEndpoints('[{"name":"a","url":"https://x"}]', { a: 'https://y' }, 't')).toThrow(/listed twice/);
  });

  it('a ValidatorSet bound to another origin, or not a set at all, fails the container at its first invocation', () => {
    const key = { name: 'validator-1', ...generateCosignerKey('validator-1') };
    const env = { LEDGERSEAL_ORIGIN: 'ledgerseal.example.gov/dev', AWS_REGION: 'us-east-1' };
    expect(() => awsLedger({ table: 't', validatorSet: JSON.stringify(defaultValidatorSet('elsewhere/prod', [key])) }, env)).toThrow(/bound to origin "elsewhere\/prod"/);
    expect(() => awsLedger({ table: 't', validatorSet: '{"format":"x"}' }, env)).toThrow(/does not hold a validator set document/);
    expect(() => awsLedger({ table: 't', validatorSet: JSON.stringify(defaultValidatorSet('ledgerseal.example.gov/dev', [key])), secrets: { LEDGERSEAL_ADMIN_KEY_HASH: 'not-a-hash' } }, env)).toThrow(
      /LEDGERSEAL_ADMIN_KEY_HASH must be 64 lowercase hex/,
    );
  });

  it('the deployed configuration never allows loopback or http: webhook targets', () => {
    const key = { name: 'validator-1', ...generateCosignerKey('validator-1') };
    const env = { LEDGERSEAL_ORIGIN: 'o/dev', AWS_REGION: 'us-east-1', LEDGERSEAL_WEBHOOK_ALLOW_LOOPBACK: 'true' };
    const ledger = awsLedger({ table: 't', validatorSet: JSON.stringify(defaultValidatorSet('o/dev', [key])) }, env);
    expect(ledger.config.webhooks.allowLoopback).toBe(false);
  });
});
