/**
 * The local runner with LEDGERSEAL_VALIDATORS=processes (docs/operations.md
 * "Validators as processes"): startLocal in this process, its four validators
 * as `npm run validator` children on 127.0.0.1, reached over HTTP, catching
 * up through the runner's own public API. Anchors go in through the HTTP API;
 * every wait is a poll of the API (or of the runner's log) every 50 ms with a
 * bound that only turns a hang into a failure; nothing asserts on durations.
 *
 * - rounds finalize and proofs verify against GET /v1/validators;
 * - one validator SIGKILLed right after a submission: the next rounds finalize
 *   (3 of 4 is a quorum), the runner restarts it, and it cosigns again;
 * - its state.json replaced by an older copy: on restart it catches up from
 *   the public log and cosigns again, no STATE_CONFLICT;
 * - with restarts off, 2 of 4 killed: no block, the latest checkpoint stays,
 *   one chain (audit); both back: the waiting round finalizes, every proof verifies.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLedger } from '../../functions/ledger/audit.ts';
import { type LocalRunner, startLocal, type StartOptions } from '../../functions/local/runner.ts';
import type { Logger, LogFields } from '../../functions/services.ts';
import { parseCheckpoint, type ValidatorSet, verifyProof } from '../../sdk/src/index.ts';

/** The size of a checkpoint note (its body is the text before the blank line). */
const sizeOf = (note: string): number => parseCheckpoint(note.slice(0, note.indexOf('\n\n') + 1)).size;

const POLL_MS = 50;
const BOUND_MS = 60_000;

interface Harness {
  runner: LocalRunner;
  apiKey: string;
  validators: ValidatorSet;
  lines: LogFields[];
  dir: string;
}

function memoryLogger(lines: LogFields[]): Logger {
  return {
    info: (f) => void lines.push({ level: 'info', ...f }),
    warn: (f) => void lines.push({ level: 'warn', ...f }),
    error: (f) => void lines.push({ level: 'error', ...f }),
  };
}

async function startHarness(options: StartOptions = {}): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'ls-vprocs-'));
  const lines: LogFields[] = [];
  const runner = await startLocal(
    { PORT: '0', LEDGERSEAL_HOST: '127.0.0.1', LEDGERSEAL_DATA_DIR: dir, LEDGERSEAL_ROUND_INTERVAL_MS: '100', LEDGERSEAL_VALIDATORS: 'processes' },
    memoryLogger(lines),
    options,
  );
  const res = await fetch(`${runner.url}/v1/agencies`, {
    method: 'POST',
    headers: { authorization: `Bearer ${runner.generatedAdminKey!}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'Land Registry' }),
  });
  expect(res.status).toBe(201);
  const { apiKey } = (await res.json()) as { apiKey: string };
  const validators = (await (await fetch(`${runner.url}/v1/validators`)).json()) as ValidatorSet;
  return { runner, apiKey, validators, lines, dir };
}

async function stopHarness(h: Harness | undefined): Promise<void> {
  if (!h) return;
  await h.runner.close();
  rmSync(h.dir, { recursive: true, force: true });
}

/** Poll `probe` every 50 ms until it returns a value (not undefined); the bound only turns a hang into a failure. */
async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined): Promise<T> {
  const deadline = Date.now() + BOUND_MS;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

async function submit(h: Harness, n: number): Promise<string[]> {
  const anchors = Array.from({ length: n }, () => ({ hash: randomBytes(32).toString('hex') }));
  const res = await fetch(`${h.runner.url}/v1/anchors`, {
    method: 'POST',
    headers: { authorization: `Bearer ${h.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ anchors }),
  });
  expect(res.status).toBe(202);
  return ((await res.json()) as { anchors: { id: string }[] }).anchors.map((a) => a.id);
}

async function anchor(h: Harness, id: string): Promise<{ status: string; proof?: unknown }> {
  const res = await fetch(`${h.runner.url}/v1/anchors/${id}`, { headers: { authorization: `Bearer ${h.apiKey}` } });
  expect(res.status).toBe(200);
  return (await res.json()) as { status: string; proof?: unknown };
}

/** Wait until every id is confirmed; every proof verifies against GET /v1/validators. Returns the proofs' heights. */
async function confirmed(h: Harness, ids: string[]): Promise<number[]> {
  const heights: number[] = [];
  for (const id of ids) {
    const a = await waitFor(`anchor ${id} confirmed`, async () => {
      const r = await anchor(h, id);
      return r.status === 'confirmed' ? r : undefined;
    });
    const v = verifyProof(a.proof as never, { validators: h.validators });
    expect(v).toMatchObject({ ok: true });
    heights.push((v as { height: number }).height);
  }
  return heights;
}

async function latestCheckpoint(h: Harness): Promise<string | null> {
  const res = await fetch(`${h.runner.url}/v1/checkpoint`);
  if (res.status === 404) return null;
  expect(res.status).toBe(200);
  return res.text();
}

/** The names whose signature lines are on a checkpoint note. */
function signers(note: string): string[] {
  return [...note.matchAll(/^\u2014 (\S+) /gm)].map((m) => m[1]!);
}

async function blockSigners(h: Harness, height: number): Promise<string[]> {
  const res = await fetch(`${h.runner.url}/v1/blocks/${height}`);
  expect(res.status).toBe(200);
  return signers(((await res.json()) as { checkpoint: string }).checkpoint);
}

/** Submit one anchor per attempt until a block carrying `name`'s cosignature is finalized; returns its height. */
async function cosignedBy(h: Harness, name: string): Promise<number> {
  return waitFor(`a block cosigned by ${name}`, async () => {
    const [height] = await confirmed(h, await submit(h, 1));
    return (await blockSigners(h, height!)).includes(name) ? height : undefined;
  });
}

const faultsOf = (h: Harness, name: string): LogFields[] => h.lines.filter((l) => l.msg === 'validator fault' && l.validator === name);

describe('the local runner with LEDGERSEAL_VALIDATORS=processes', () => {
  let h: Harness | undefined;
  /** The runner's automatic restarts wait for this (a test holds it to see rounds without the killed validator). */
  let restartGate: Promise<void> = Promise.resolve();
  beforeAll(async () => {
    h = await startHarness({ beforeValidatorRestart: () => restartGate });
  });
  afterAll(() => stopHarness(h));

  it('runs four validator processes, each with its own data directory and token; rounds finalize and proofs verify', async () => {
    const { runner } = h!;
    expect(runner.validatorMode).toBe('processes');
    expect(runner.validatorProcesses.map((p) => p.name)).toEqual(['validator-1', 'validator-2', 'validator-3', 'validator-4']);
    const pids = new Set(runner.validatorProcesses.map((p) => p.pid));
    expect(pids.size).toBe(4);
    expect(pids.has(process.pid)).toBe(false);
    for (const p of runner.validatorProcesses) {
      expect(p.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect((await (await fetch(`${p.url}/v1/validator`)).json()) as { name: string }).toMatchObject({ name: p.name });
      // The token is kept by the runner; the child refuses anyone without it.
      expect((await fetch(`${p.url}/v1/validator/sign`, { method: 'POST', body: '{}' })).status).toBe(401);
      expect(readFileSync(join(runner.dataDir, 'validators', p.name, 'coordinator-token'), 'utf8')).toMatch(/^[A-Za-z0-9_-]{43}\n$/);
    }
    expect(JSON.parse(readFileSync(join(runner.dataDir, 'validator-set.json'), 'utf8'))).toEqual(h!.validators);

    const heights = await confirmed(h!, [...(await submit(h!, 3)), ...(await submit(h!, 2))]);
    const all = await blockSigners(h!, heights[0]!);
    expect(all.length).toBeGreaterThanOrEqual(3);
    for (const p of runner.validatorProcesses) {
      const state = JSON.parse(readFileSync(join(runner.dataDir, 'validators', p.name, 'state.json'), 'utf8')) as { validator: string };
      expect(state.validator).toBe(p.name);
    }
  });

  it('a validator SIGKILLed right after a submission: rounds finalize with 3 of 4, the runner restarts it, it cosigns again', async () => {
    const { runner } = h!;
    const v3 = runner.validatorProcesses.find((p) => p.name === 'validator-3')!;
    const before = v3.starts;
    const oldPid = v3.pid;
    let letItRestart!: () => void;
    restartGate = new Promise((r) => (letItRestart = r));
    const ids = await submit(h!, 4);
    await v3.kill('SIGKILL'); // a round may be cut from that submission meanwhile (100 ms rounds)
    const ids2 = await submit(h!, 2);
    // Its restart is held until these are confirmed: the round of ids2 ran without it.
    await confirmed(h!, [...ids, ...ids2]);
    letItRestart();
    expect(h!.lines.some((l) => l.msg === 'validator process exited' && l.validator === 'validator-3' && l.signal === 'SIGKILL')).toBe(true);
    const withoutIt = h!.lines.filter((l) => l.msg === 'round' && l.status === 'finalized' && (l.faults as string[]).includes('validator-3:unreachable'));
    expect(withoutIt.length).toBeGreaterThan(0);
    expect(withoutIt.every((l) => (l.signers as string[]).length === 3)).toBe(true);

    await waitFor('validator-3 restarted', () => (v3.starts > before && v3.pid !== null ? true : undefined));
    expect(v3.pid).not.toBe(oldPid);
    const height = await cosignedBy(h!, 'validator-3');
    expect(await blockSigners(h!, height)).toContain('validator-3');
  });

  it('a validator whose state.json is replaced by an older copy catches up from the public log and cosigns again', async () => {
    const { runner } = h!;
    const v2 = runner.validatorProcesses.find((p) => p.name === 'validator-2')!;
    const file = join(runner.dataDir, 'validators', 'validator-2', 'state.json');
    await cosignedBy(h!, 'validator-2');
    const copy = readFileSync(file);
    const oldSize = (JSON.parse(copy.toString()) as { state: { size: number } }).state.size;
    // More rounds, the last one cosigned by validator-2 (so the latest checkpoint carries its signature).
    await confirmed(h!, await submit(h!, 2));
    await confirmed(h!, await submit(h!, 2));
    await cosignedBy(h!, 'validator-2');
    const latest = sizeOf((await latestCheckpoint(h!))!);
    expect(latest).toBeGreaterThan(oldSize);

    await v2.stop();
    expect(v2.pid).toBeNull();
    writeFileSync(file, copy);
    const linesBefore = h!.lines.length;
    await v2.start();
    // Its start-up check found its own cosignature on a checkpoint above its state, and replayed the log.
    const caughtUp = h!.lines.slice(linesBefore).filter((l) => l.validator === 'validator-2' && typeof l.msg === 'string' && /behind a checkpoint it signed|caught up from the public log/.test(l.msg));
    expect(caughtUp.length).toBeGreaterThan(0);
    expect((JSON.parse(readFileSync(file, 'utf8')) as { state: { size: number } }).state.size).toBeGreaterThanOrEqual(latest);

    await cosignedBy(h!, 'validator-2');
    expect(faultsOf(h!, 'validator-2').filter((l) => JSON.stringify(l).includes('STATE_CONFLICT'))).toEqual([]);
    expect(h!.lines.some((l) => l.validator === 'validator-2' && /conflicts/.test(String(l.msg)))).toBe(false);
  });
});

describe('the local runner with validator processes, restarts off: 2 of 4 down', () => {
  let h: Harness | undefined;
  beforeAll(async () => {
    h = await startHarness({ restartValidators: false });
  });
  afterAll(() => stopHarness(h));

  it('no block and no fork while 2 of 4 are down; back, the waiting round finalizes and every proof verifies', async () => {
    const { runner } = h!;
    const first = await submit(h!, 2);
    await confirmed(h!, first);
    const checkpoint = await latestCheckpoint(h!);
    expect(checkpoint).not.toBeNull();

    const [v1, v2] = runner.validatorProcesses;
    await Promise.all([v1!.kill('SIGKILL'), v2!.kill('SIGKILL')]);
    expect([v1!.pid, v2!.pid]).toEqual([null, null]);

    const waiting = await submit(h!, 3);
    const from = h!.lines.length;
    // Two rounds without a quorum (each logs "round" with status no-quorum); the second shows the first left nothing behind.
    await waitFor('two no-quorum rounds', () => (h!.lines.slice(from).filter((l) => l.msg === 'round' && l.status === 'no-quorum').length >= 2 ? true : undefined));
    expect(await latestCheckpoint(h!)).toBe(checkpoint);
    for (const id of waiting) expect((await anchor(h!, id)).status).toBe('pending');
    expect([v1!.pid, v2!.pid]).toEqual([null, null]); // restarts are off: they stay down

    const during = await auditLedger(runner.ledger.services.store, runner.ledger.validatorSet, { origin: runner.origin });
    expect(during).toMatchObject({ ok: true, findings: [] });
    expect(during.size).toBe(sizeOf(checkpoint!));

    await Promise.all([v1!.start(), v2!.start()]);
    const more = await submit(h!, 1);
    await confirmed(h!, [...first, ...waiting, ...more]);
    const after = await auditLedger(runner.ledger.services.store, runner.ledger.validatorSet, { origin: runner.origin });
    expect(after).toMatchObject({ ok: true, findings: [] });
    expect(after.size).toBe(sizeOf((await latestCheckpoint(h!))!));
    expect(after.size).toBeGreaterThan(during.size);
  });
});
