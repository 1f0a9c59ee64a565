/**
 * Reading JSON text as I-JSON (`npm run bench -- json`): the sdk's
 * parseJsonStrict, which refuses a member name twice in one object, against
 * its floor, JSON.parse on the same text, on an NDJSON line of a property
 * registry (the CLI's NDJSON reader parses every line so), a line with an
 * escape (the exact scan runs), and a document of 100,000 members.
 */
import { performance } from 'node:perf_hooks';
import { parseJsonStrict } from '@ledgerseal/sdk';
import { fmt, printTable } from './_table.ts';

const ROUNDS = 5;

function linesPerSecond(f: (t: string) => unknown, text: string, n: number): number {
  let best = 0;
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) f(text);
    best = Math.max(best, n / ((performance.now() - t0) / 1000));
  }
  return best;
}

export async function run(): Promise<void> {
  const row = { parcel_id: 'KA-17/204', owner: 'Ada Lovelace', area_m2: 812.5, registered: '2001-05-04', updated_at: '2024-01-02T03:04:05Z', notes: null, district: 'Tartu', seq: 123456 };
  const plain = JSON.stringify(row);
  const escaped = JSON.stringify({ ...row, notes: 'line 1\nline 2 "quoted"' });
  const big = JSON.stringify(Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`k${i}`, i])));
  const rows: (string | number)[][] = [];
  for (const [name, text, n] of [['registry row, no escape', plain, 200_000], ['registry row with escapes', escaped, 200_000], ['one object of 100,000 members', big, 5]] as const) {
    const floor = linesPerSecond(JSON.parse, text, n);
    const strict = linesPerSecond(parseJsonStrict, text, n);
    rows.push([name, text.length, fmt(floor), fmt(strict), `${fmt(floor / strict, 2)}x`]);
  }
  console.log(`Best of ${ROUNDS} rounds, texts per second\n`);
  printTable(['text', 'bytes', 'floor: JSON.parse /s', 'parseJsonStrict /s', 'x floor'], rows);
}
