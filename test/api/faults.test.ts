/**
 * GET /v1/validators/faults (docs/protocol.md 7.4): the validator.fault events
 * the real coordinator records, newest first, filtered by validator, paged by
 * cursor, without authentication; bad query parameters and cursors are 400
 * validation-error problems. Rounds run against four in-process validators
 * built from the fixture's keys, one of them refusing (its clock an hour
 * behind) or left out (unreachable).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runRound } from '../../functions/ledger/coordinator.ts';
import { inProcessValidator, type ValidatorClient } from '../../functions/ledger/remote-validator.ts';
import { stopDynalite } from '../helpers/dynalite.ts';
import { type Fixture, fixture, hashes, hostedValidator, ORIGIN, PROBLEM, problem } from './setup.ts';

afterAll(stopDynalite);

interface FaultPage {
  items: { height: number; validator: string; reason: string; time: string; detail: string }[];
  nextCursor?: string;
}

describe('GET /v1/validators/faults', () => {
  let f: Fixture;
  let apiKey: string;
  let honest: ValidatorClient[];
  let late: ValidatorClient;
  let seed = 0;

  /** One anchor, then one round with exactly these validators; the coordinator records the faults of the others. */
  const round = async (validators: ValidatorClient[]) => {
    const res = await f.call('POST', '/v1/anchors', { token: apiKey, body: { anchors: hashes(1, ++seed).map((hash) => ({ hash })) } });
    expect(res.status).toBe(202);
    f.clock.advance(1000);
    return runRound({ store: f.store, origin: ORIGIN, validatorSet: f.services.validatorSet, validators, now: () => f.clock.now() });
  };
  const get = async (query: string): Promise<FaultPage> => {
    const res = await f.call('GET', `/v1/validators/faults${query}`);
    expect(res.status, await res.clone().text()).toBe(200);
    return (await res.json()) as FaultPage;
  };

  beforeAll(async () => {
    f = await fixture({ validators: 4 });
    apiKey = (await f.agency()).apiKey;
    const now = () => f.clock.now();
    const x = { set: f.services.validatorSet, keys: f.validatorKeys, source: f.source };
    honest = [0, 1, 2, 3].map((index) => inProcessValidator(hostedValidator(x, { index, now })));
    // Its clock is an hour behind: every header time is too far in its future (BAD_TIME).
    late = inProcessValidator(hostedValidator(x, { index: 3, now: () => new Date(f.clock.now().getTime() - 3_600_000) }));
  });
  afterAll(() => f.close());

  it('is empty before any fault, and public', async () => {
    expect(await get('')).toEqual({ items: [] });
  });

  it('lists the faults of finalized rounds newest first, with the fields of the event', async () => {
    const [v1, v2, v3, v4] = honest as [ValidatorClient, ValidatorClient, ValidatorClient, ValidatorClient];
    expect((await round([v1, v2, v3, late])).status).toBe('finalized'); // height 0: validator-4 refuses
    const t0 = f.clock.now().toISOString();
    expect((await round([v1, v2, v3])).status).toBe('finalized'); // height 1: validator-4 has no client
    const t1 = f.clock.now().toISOString();
    expect((await round([v1, v2, v4])).status).toBe('finalized'); // height 2: validator-3 has no client
    const t2 = f.clock.now().toISOString();

    const all = await get('');
    expect(all.nextCursor).toBeUndefined();
    expect(all.items).toEqual([
      { height: 2, validator: 'validator-3', reason: 'unreachable', time: t2, detail: 'no client configured' },
      { height: 1, validator: 'validator-4', reason: 'unreachable', time: t1, detail: 'no client configured' },
      { height: 0, validator: 'validator-4', reason: 'refused', time: t0, detail: expect.stringMatching(/^BAD_TIME/) },
    ]);
    expect(Object.keys(all.items[0]!).sort()).toEqual(['detail', 'height', 'reason', 'time', 'validator']);
  });

  it('filters by validator', async () => {
    expect((await get('?validator=validator-4')).items.map((x) => [x.height, x.reason])).toEqual([[1, 'unreachable'], [0, 'refused']]);
    expect((await get('?validator=validator-3')).items.map((x) => x.height)).toEqual([2]);
    expect(await get('?validator=validator-1')).toEqual({ items: [] });
    expect(await get('?validator=no-such-validator')).toEqual({ items: [] });
  });

  it('pages with nextCursor, with and without the filter', async () => {
    const heights: number[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await get(`?limit=1${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.items).toHaveLength(1);
      heights.push(page.items[0]!.height);
      cursor = page.nextCursor;
      pages++;
    } while (cursor);
    expect(heights).toEqual([2, 1, 0]);
    expect(pages).toBe(3);
    const first = await get('?validator=validator-4&limit=1');
    expect(first.items.map((x) => x.height)).toEqual([1]);
    expect(await get(`?validator=validator-4&limit=1&cursor=${first.nextCursor!}`)).toEqual({ items: [expect.objectContaining({ height: 0 })] });
  });

  it('answers bad parameters and cursors with a 400 validation-error problem', async () => {
    // A cursor of another listing (the publications) names another partition.
    const other = Buffer.from(JSON.stringify({ pk: 'PUBLICATION', sk: '000000000001' })).toString('base64url');
    for (const query of ['?cursor=not-a-cursor!', `?cursor=${other}`, '?limit=0', '?limit=101', '?limit=x', '?validator=', '?validator=%07bell']) {
      const p = await problem(await f.call('GET', `/v1/validators/faults${query}`));
      expect(p.status, query).toBe(400);
      expect(p.contentType, query).toBe('application/problem+json');
      expect(p.body.type, query).toBe(`${PROBLEM}validation-error`);
      expect(p.body.errors?.[0]?.in, query).toBe('query');
    }
  });
});
