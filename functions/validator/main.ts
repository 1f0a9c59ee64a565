/**
 * `npm run validator`: ONE validator as its own HTTP service (README.md "HTTP
 * service"), configured by environment variables (../config.ts
 * loadValidatorConfig). On start it prints its verifier key (for the validator
 * set document), then, with a set and the ledger URL, opens its state
 * directory, checks its state against the public log (rollback check), listens,
 * and prints `ledgerseal-validator <name> listening on <url>` on standard error
 * (launch.ts listeningLine: what the local runner and the tests wait for).
 * A start that cannot happen prints one line saying why and exits with status 1.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { serve } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import { generateCosignerKey, parseSignerKey, verifierKeyOf } from '@ledgerseal/sdk';
import { loadValidatorConfig } from '../config.ts';
import { openFileStateStore } from './file-state-store.ts';
import { listeningLine } from './launch.ts';
import { createValidatorService, readValidatorSet } from './service.ts';

const say = (line: string): void => void process.stderr.write(`${line}\n`);
const log = {
  info: (f: Record<string, unknown>) => void process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), level: 'info', ...f })}\n`),
  warn: (f: Record<string, unknown>) => void process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), level: 'warn', ...f })}\n`),
  error: (f: Record<string, unknown>) => void process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), level: 'error', ...f })}\n`),
};

/** The signer key of `name` from `file`, generated (0600, exclusive create) when missing. */
function signerKey(file: string, name: string): string {
  try {
    const key = readFileSync(file, 'utf8').trim();
    if (parseSignerKey(key).name !== name) throw new Error(`${file} holds the key of "${parseSignerKey(key).name}", not "${name}"`);
    return key;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const { signerKey: key } = generateCosignerKey(name);
  writeFileSync(file, `${key}\n`, { mode: 0o600, flag: 'wx' });
  return key;
}

async function main(): Promise<void> {
  const config = loadValidatorConfig();
  const key = signerKey(config.keyFile, config.name);
  say(`ledgerseal-validator ${config.name} verifier key: ${verifierKeyOf(key)}`);
  if (config.validatorSet === null) {
    say('  add this key to the validator set document and set LEDGERSEAL_VALIDATOR_SET to its path to start signing');
    process.exit(2);
  }
  const validatorSet = readValidatorSet(config.validatorSet);
  const state = await openFileStateStore({ dir: config.dataDir, name: config.name, origin: config.origin });
  const { validator, app } = createValidatorService(config, { signerKey: key, validatorSet, state, log });
  try {
    await validator.start();
  } catch (e) {
    // Not fatal: the check runs again before the first signature (and refuses until it passes).
    log.warn({ msg: 'start-up check against the public log failed', validator: config.name, error: e instanceof Error ? e.message : String(e) });
  }
  const server = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, (info: AddressInfo) => {
    say(listeningLine(config.name, `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${info.port}`));
  });
  const stop = (): void => {
    server.close(() => void state.close().then(() => process.exit(0)));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  // Started by a parent with an IPC channel (the local runner): stop when the parent is gone, even if it
  // was SIGKILLed, so that no orphan keeps the state directory's lock and the port.
  if (process.channel) {
    process.channel.unref();
    process.on('disconnect', stop);
  }
}

main().catch((e) => {
  say(`ledgerseal-validator: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
