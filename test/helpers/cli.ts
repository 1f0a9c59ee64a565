/**
 * Running the CLI in tests: in this process through main(argv, env, io) with
 * captured output, or as a child process (`node --import tsx`) when the test
 * needs to kill it.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { main } from '../../sdk/src/cli/main.ts';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  json<T = any>(): T;
}

function result(code: number, stdout: string, stderr: string): CliRun {
  return {
    code,
    stdout,
    stderr,
    json() {
      try {
        return JSON.parse(stdout);
      } catch {
        throw new Error(`CLI stdout is not JSON (exit ${code}):\n${stdout}\nstderr:\n${stderr}`);
      }
    },
  };
}

export async function cli(args: string[], env: Record<string, string>): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, { PATH: process.env.PATH, HOME: process.env.HOME, ...env }, {
    stdout: { write: (t: string) => (stdout += t) },
    stderr: { write: (t: string) => (stderr += t) },
  });
  return result(code, stdout, stderr);
}

const ROOT = join(import.meta.dirname, '..', '..');

/** The CLI in a child process (exit code null when it was killed by a signal). */
export function cliChild(args: string[], env: Record<string, string>): Promise<CliRun & { signal: NodeJS.Signals | null }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test', 'helpers', 'cli-child.ts'), ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => {
    child.on('close', (code, signal) => resolve({ ...result(code ?? -1, stdout, stderr), signal }));
  });
}
