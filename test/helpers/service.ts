/**
 * The service as `npm start` runs it (the local runner: dynalite under a temp
 * data dir, HTTP on 127.0.0.1, the round scheduler and validators), started in
 * the test's process, with one agency and its API key.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocal, type LocalRunner } from '../../functions/local/runner.ts';
import { silentLogger } from '../../functions/services.ts';
import type { ValidatorSet } from '../../sdk/src/index.ts';

export interface TestService {
  url: string;
  apiKey: string;
  blindingKeyHex: string;
  validators: ValidatorSet;
  runner: LocalRunner;
  /** Environment for the CLI: LEDGERSEAL_URL, LEDGERSEAL_API_KEY, LEDGERSEAL_BLINDING_KEY. */
  env: Record<string, string>;
  close(): Promise<void>;
}

export async function startService(extraEnv: Record<string, string> = {}): Promise<TestService> {
  const dataDir = mkdtempSync(join(tmpdir(), 'ls-svc-'));
  const runner = await startLocal({ PORT: '0', LEDGERSEAL_HOST: '127.0.0.1', LEDGERSEAL_DATA_DIR: dataDir, LEDGERSEAL_ROUND_INTERVAL_MS: '100', ...extraEnv }, silentLogger);
  const admin = runner.generatedAdminKey!;
  const res = await fetch(`${runner.url}/v1/agencies`, {
    method: 'POST',
    headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'Land Registry' }),
  });
  if (res.status !== 201) throw new Error(`agency creation failed: ${res.status} ${await res.text()}`);
  const { apiKey } = (await res.json()) as { apiKey: string };
  const validators = (await (await fetch(`${runner.url}/v1/validators`)).json()) as ValidatorSet;
  const blindingKeyHex = randomBytes(32).toString('hex');
  return {
    url: runner.url,
    apiKey,
    blindingKeyHex,
    validators,
    runner,
    env: { LEDGERSEAL_URL: runner.url, LEDGERSEAL_API_KEY: apiKey, LEDGERSEAL_BLINDING_KEY: blindingKeyHex, XDG_CONFIG_HOME: dataDir },
    close: async () => {
      await runner.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
