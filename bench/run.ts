/**
 * Benchmark runner: `npm run bench` runs every bench/*.bench.ts, `npm run bench -- merkle`
 * only the named ones. Each bench file exports `async function run(): Promise<void>`
 * and prints its own tables; files are independent of each other.
 */
import { readdirSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const dir = dirname(fileURLToPath(import.meta.url));
const all = readdirSync(dir).filter((f) => f.endsWith('.bench.ts')).sort();
const wanted = process.argv.slice(2);
const unknown = wanted.filter((w) => !all.includes(w) && !all.includes(`${w}.bench.ts`));
if (unknown.length > 0) {
  console.error(`unknown bench ${unknown.join(', ')}; available: ${all.map((f) => f.replace('.bench.ts', '')).join(', ')}`);
  process.exit(2);
}
const files = wanted.length === 0 ? all : all.filter((f) => wanted.includes(f) || wanted.includes(f.replace('.bench.ts', '')));

const cpu = cpus();
console.log(`Node ${process.version}, ${process.platform}/${process.arch}, ${cpu.length} x ${cpu[0]?.model ?? 'unknown CPU'}, ${new Date().toISOString()}`);
if (typeof globalThis.gc !== 'function') console.log('warning: run with --expose-gc (npm run bench does) for memory figures');

for (const f of files) {
  console.log(`\n## ${f.replace('.bench.ts', '')}\n`);
  const mod = (await import(pathToFileURL(join(dir, f)).href)) as { run?: () => Promise<void> };
  if (typeof mod.run !== 'function') throw new Error(`${f} does not export run()`);
  await mod.run();
}
