/**
 * How a validator process is started and how it says it is ready (README.md
 * "HTTP service"). `npm run validator` (main.ts) prints the readiness line;
 * whoever spawns validators as processes (the local runner,
 * functions/local/validator-processes.ts; the tests) builds the command and
 * reads the line from here, so the two cannot drift apart.
 */
import { fileURLToPath } from 'node:url';

/** The entry point `npm run validator` runs. */
export const VALIDATOR_MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));

/** The package root (where `tsx` resolves from). */
const PACKAGE_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** What `npm run validator` runs, without npm: `node --import tsx functions/validator/main.ts`, from the package root. */
export function validatorCommand(): { command: string; args: string[]; cwd: string } {
  return { command: process.execPath, args: ['--import', 'tsx', VALIDATOR_MAIN], cwd: PACKAGE_ROOT };
}

/** The line (on standard error) that says the validator accepts requests. */
export function listeningLine(name: string, url: string): string {
  return `ledgerseal-validator ${name} listening on ${url}`;
}

const LISTENING_RE = /^ledgerseal-validator (\S+) listening on (https?:\/\/\S+)$/;

/** The name and URL of a readiness line, or null for any other line. */
export function parseListeningLine(line: string): { name: string; url: string } | null {
  const m = LISTENING_RE.exec(line.trim());
  return m ? { name: m[1]!, url: m[2]! } : null;
}
