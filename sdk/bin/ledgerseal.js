#!/usr/bin/env node
// The `ledgerseal` command. In the published package the CLI is compiled JavaScript
// next to this directory (../cli/main.js); in the repository it is TypeScript
// (../src/cli/main.ts), run through tsx (a dev dependency of the repository).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const compiled = new URL('../cli/main.js', import.meta.url);
let entry = compiled;
if (!existsSync(fileURLToPath(compiled))) {
  const { register } = await import('tsx/esm/api');
  register();
  entry = new URL('../src/cli/main.ts', import.meta.url);
}
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));
