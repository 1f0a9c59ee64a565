#!/usr/bin/env node
// The `ledgerseal` command. In the published package the CLI is compiled JavaScript
// next to this directory (../cli/main.js); in the repository it is TypeScript
// (../src/cli/main.ts), run through tsx (a dev dependency of the repository).
//
// backfill and audit hash millions of rows and make short-lived garbage at a high
// rate: with V8's default 16 MB young generation a quarter of their time goes to
// scavenges (docs/cli.md "Performance"). V8 reads that size only at start, so
// those two commands re-run this file once with --max-semi-space-size=64, unless
// the flag is already given (or LEDGERSEAL_NO_RESPAWN=1).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const heavy = args[0] === 'backfill' || args[0] === 'audit';
if (heavy && !process.execArgv.some((a) => a.startsWith('--max-semi-space-size')) && process.env.LEDGERSEAL_NO_RESPAWN !== '1') {
  const child = spawn(process.execPath, ['--max-semi-space-size=64', ...process.execArgv, fileURLToPath(import.meta.url), ...args], { stdio: 'inherit' });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => {
    if (signal) {
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    } else process.exit(code ?? 1);
  });
} else {
  const compiled = new URL('../cli/main.js', import.meta.url);
  let entry = compiled;
  if (!existsSync(fileURLToPath(compiled))) {
    const { register } = await import('tsx/esm/api');
    register();
    entry = new URL('../src/cli/main.ts', import.meta.url);
  }
  const { main } = await import(entry.href);
  process.exitCode = await main(args);
}
