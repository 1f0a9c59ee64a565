/**
 * A validator as its own process (`npm run validator`, functions/validator/main.ts):
 * spawned with `node --import tsx`, real HTTP on 127.0.0.1 port 0, readiness
 * read from its stderr line (no sleeps). The coordinator runs rounds in this
 * process with three in-process validators and the process one over
 * httpValidator; the public API it catches up from is served over HTTP too.
 * - it signs; SIGKILLed, rounds finalize without it; restarted on the same
 *   directory, it catches up and signs again;
 * - restarted from an EMPTY state directory (same key), it rebuilds its state
 *   from the public API and signs on; every proof verifies.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { serve, type ServerType } from '@hono/node-server';
import { afterAll, describe, expect, it } from 'vitest';
import { createApp } from '../../functions/app.ts';
import { loadConfig } from '../../functions/config.ts';
import { runRound } from '../../functions/ledger/coordinator.ts';
import { httpValidator } from '../../functions/ledger/remote-validator.ts';
import { silentLogger, systemClock } from '../../functions/services.ts';
import { stopDynalite, withStore } from '../helpers/dynalite.ts';
import { clients, expectConsistentLedger, KEYS, ORIGIN, roundDeps, seedBatch, SET, validators } from '../ledger/_fixtures.ts';
import type { Batch } from '../../functions/store/port.ts';

afterAll(stopDynalite);

const ROOT = resolve(import.meta.dirname, '../..');
const TOKEN = 'process-test-coordinator-token';

function startValidator(env: Record<string, string>): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'functions/validator/main.ts'], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  return new Promise((resolvePromise, reject) => {
    let err = '';
    const safety = setTimeout(() => reject(new Error(`validator did not start: ${err}`)), 60_000);
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(err);
      if (m) {
        clearTimeout(safety);
        resolvePromise({ child, url: m[1]! });
      }
    });
    child.on('exit', (code) => {
      clearTimeout(safety);
      reject(new Error(`validator exited with ${code}: ${err}`));
    });
  });
}

const killed = (child: ChildProcess): Promise<void> =>
  new Promise((r) => {
    child.removeAllListeners('exit');
    child.once('exit', () => r());
    child.kill('SIGKILL');
  });

describe('a validator process that lies', () => {
  it('cosigns another checkpoint of the same size: an equivocation fault, rounds finalize without it, its line is in no block', { timeout: 120_000 }, async () => {
    const { store, close } = await withStore();
    const k = KEYS[3]!;
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/validator/liar-child.ts'], {
      cwd: ROOT,
      env: { ...process.env, LIAR_NAME: k.name, LIAR_SIGNER_KEY: k.signerKey },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    try {
      const url = await new Promise<string>((resolvePromise, reject) => {
        let err = '';
        child.stderr!.on('data', (d: Buffer) => {
          err += d.toString();
          const m = /listening on (http:\/\/\S+)/.exec(err);
          if (m) resolvePromise(m[1]!);
        });
        child.on('exit', (code) => reject(new Error(`liar exited with ${code}: ${err}`)));
      });
      const liar = httpValidator({ name: k.name, url, coordinatorKey: TOKEN, timeoutMs: 30_000 });
      const deps = roundDeps(store, [...clients(validators(store)).slice(0, 3), liar]);
      const batches: Batch[] = [];
      for (let i = 0; i < 3; i++) {
        batches.push(await seedBatch(store, 2));
        const o = await runRound(deps);
        expect(o.status).toBe('finalized');
        expect(o.signers).not.toContain(k.name);
        expect(o.faults.map((f) => [f.validator, f.reason])).toEqual([[k.name, 'equivocation']]);
        const block = await store.getBlock(o.height!);
        expect(block!.checkpoint).not.toContain(`\u2014 ${k.name} `);
      }
      await expectConsistentLedger(store, batches);
    } finally {
      if (child.exitCode === null) await killed(child);
      await close();
    }
  });
});

describe('a validator as its own process', () => {
  it('killed, it is a fault; restarted (same or empty state dir) it catches up from the public API and signs again', { timeout: 240_000 }, async () => {
    const { store, close } = await withStore();
    const dir = mkdtempSync(join(tmpdir(), 'ls-vproc-'));
    const app = createApp({ store, config: loadConfig({ LEDGERSEAL_ORIGIN: ORIGIN }), validatorSet: SET, clock: systemClock, log: silentLogger });
    const api: ServerType = await new Promise((r) => {
      const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => r(s));
    });
    const ledgerUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
    let child: ChildProcess | undefined;
    try {
      const k = KEYS[3]!;
      writeFileSync(join(dir, 'validator-4.key'), `${k.signerKey}\n`, { mode: 0o600 });
      writeFileSync(join(dir, 'set.json'), JSON.stringify(SET));
      const env = {
        LEDGERSEAL_VALIDATOR_NAME: k.name,
        LEDGERSEAL_ORIGIN: ORIGIN,
        LEDGERSEAL_VALIDATOR_DATA_DIR: join(dir, 'state'),
        LEDGERSEAL_VALIDATOR_KEY_FILE: join(dir, 'validator-4.key'),
        LEDGERSEAL_VALIDATOR_PORT: '0',
        LEDGERSEAL_LEDGER_URL: ledgerUrl,
        LEDGERSEAL_VALIDATOR_SET: join(dir, 'set.json'),
        LEDGERSEAL_COORDINATOR_KEY_HASH: createHash('sha256').update(TOKEN).digest('hex'),
      };
      const three = clients(validators(store)).slice(0, 3);
      const round = async (url: string | null) => {
        const v4 = url
          ? httpValidator({ name: k.name, url, coordinatorKey: TOKEN, timeoutMs: 30_000 })
          : httpValidator({ name: k.name, url: 'http://127.0.0.1:9', coordinatorKey: TOKEN });
        return runRound(roundDeps(store, [...three, v4]));
      };
      const batches: Batch[] = [];
      let started = await startValidator(env);
      child = started.child;
      batches.push(await seedBatch(store, 3));
      expect((await round(started.url)).signers).toContain('validator-4');

      await killed(child);
      for (let i = 0; i < 3; i++) {
        batches.push(await seedBatch(store, 1));
        const o = await round(started.url);
        expect(o.status).toBe('finalized');
        expect(o.faults.map((f) => [f.validator, f.reason])).toEqual([['validator-4', 'unreachable']]);
      }
      started = await startValidator(env);
      child = started.child;
      batches.push(await seedBatch(store, 1));
      const back = await round(started.url);
      expect(back).toMatchObject({ status: 'finalized', faults: [] });
      expect(back.signers).toContain('validator-4');

      // An empty state directory, same key: it rebuilds from the public API.
      await killed(child);
      rmSync(join(dir, 'state'), { recursive: true, force: true });
      started = await startValidator(env);
      child = started.child;
      batches.push(await seedBatch(store, 2));
      const rebuilt = await round(started.url);
      expect(rebuilt).toMatchObject({ status: 'finalized', faults: [] });
      expect(rebuilt.signers).toContain('validator-4');
      await expectConsistentLedger(store, batches);
    } finally {
      if (child && child.exitCode === null) await killed(child);
      await new Promise<void>((r) => api.close(() => r()));
      rmSync(dir, { recursive: true, force: true });
      await close();
    }
  });
});
