/**
 * A national property registry (issue 7): 7.5 million rows in PostgreSQL,
 * backfilled through the CLI against the local runner (`npm start`'s code, in
 * this process), then audited. Floor, measured in the same run: streaming the
 * table out (`COPY registry TO STDOUT`) into `sha256sum`.
 *
 *   npm run bench -- registry                        7,500,000 rows
 *   LEDGERSEAL_BENCH_ROWS=500000 npm run bench -- registry
 *
 * The table is generated once in database `ledgerseal_bench` (PostgreSQL at
 * 127.0.0.1:5432, trust auth) and reused while it has the wanted row count;
 * its receipts (schema ledgerseal) are dropped before every run.
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startLocal } from '../functions/local/runner.ts';
import { silentLogger } from '../functions/services.ts';
import type { DynamoStore } from '../functions/store/dynamo-store.ts';
import { fmt, printTable } from './_table.ts';

const ROWS = Number(process.env.LEDGERSEAL_BENCH_ROWS ?? 7_500_000);
const DB = 'ledgerseal_bench';
const PG = 'postgres://postgres@127.0.0.1:5432';
const ROOT = join(import.meta.dirname, '..');

async function ensureTable(): Promise<{ generatedSeconds: number | null; tableBytes: number }> {
  const admin = new pg.Client({ connectionString: `${PG}/postgres` });
  await admin.connect();
  const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [DB]);
  if (!exists.rowCount) await admin.query(`CREATE DATABASE ${DB}`);
  await admin.end();
  const c = new pg.Client({ connectionString: `${PG}/${DB}` });
  await c.connect();
  await c.query('DROP SCHEMA IF EXISTS ledgerseal CASCADE');
  const marker = await c.query("SELECT obj_description('public.registry'::regclass) AS d").catch(() => ({ rows: [{ d: null }] }));
  let generatedSeconds: number | null = null;
  if (marker.rows[0]?.d !== `rows=${ROWS}`) {
    console.log(`generating registry with ${fmt(ROWS)} rows in database ${DB} ...`);
    const t0 = performance.now();
    await c.query('DROP TABLE IF EXISTS registry');
    await c.query('SET synchronous_commit = off');
    await c.query(`CREATE TABLE registry (
      parcel_id text NOT NULL, cadastral_unit text NOT NULL, owner_name text NOT NULL, owner_code text,
      area_m2 numeric(12,2) NOT NULL, land_use text NOT NULL, registered_on date NOT NULL, updated_at timestamptz NOT NULL,
      valuation_eur numeric(14,2), mortgaged boolean NOT NULL, notes text)`);
    await c.query(`INSERT INTO registry SELECT
      'EE' || lpad(i::text, 9, '0'),
      lpad((i % 15000)::text, 5, '0') || ':' || lpad((i % 997)::text, 3, '0') || ':' || lpad((i % 9973)::text, 4, '0'),
      (ARRAY['Tamm','Saar','Sepp','Mägi','Kask','Kukk','Rebane','Ilves','Pärn','Koppel'])[1 + i % 10] || ', ' ||
        (ARRAY['Maria','Jüri','Anna','Mati','Kati','Peeter','Liis','Toomas'])[1 + (i / 10) % 8],
      CASE WHEN i % 13 = 0 THEN NULL ELSE lpad(((i::bigint * 7919) % 100000000000)::text, 11, '3') END,
      round((100 + (i::bigint * 37 % 500000) / 7.0)::numeric, 2),
      (ARRAY['residential','agricultural','forest','commercial','industrial','protected'])[1 + i % 6],
      date '1994-01-01' + (i % 11000),
      timestamptz '2010-01-01 00:00:00+00' + ((i::bigint * 7) % 500000000) * interval '1 second' + (i % 1000) * interval '1 millisecond',
      CASE WHEN i % 9 = 0 THEN NULL ELSE round((i::bigint * 13 % 900000 + 5000)::numeric * 1.5, 2) END,
      i % 4 = 0,
      CASE WHEN i % 5 = 0 THEN 'servitude ' || (i % 100) ELSE NULL END
      FROM generate_series(1, ${ROWS}) AS i`);
    await c.query('ALTER TABLE registry ADD PRIMARY KEY (parcel_id)');
    await c.query('VACUUM ANALYZE registry');
    await c.query(`COMMENT ON TABLE registry IS 'rows=${ROWS}'`);
    generatedSeconds = (performance.now() - t0) / 1000;
  }
  const size = await c.query("SELECT pg_total_relation_size('registry') AS n");
  await c.end();
  return { generatedSeconds, tableBytes: Number(size.rows[0].n) };
}

function floor(): number {
  const t0 = performance.now();
  execFileSync('bash', ['-c', `set -o pipefail; psql -X -q -h 127.0.0.1 -U postgres -d ${DB} -c "COPY registry TO STDOUT" | sha256sum > /dev/null`]);
  return (performance.now() - t0) / 1000;
}

interface Measured {
  seconds: number;
  rssMb: number;
  code: number;
  out: any;
  stderr: string;
}

/** The CLI in a child process under /usr/bin/time (peak RSS). */
function runCli(args: string[], env: Record<string, string>): Promise<Measured> {
  const t0 = performance.now();
  const child = spawn('/usr/bin/time', ['-f', 'LEDGERSEAL_RSS_KB=%M', process.execPath, join(ROOT, 'sdk', 'bin', 'ledgerseal.js'), ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => {
    child.on('close', (code) => {
      const rss = Number(/LEDGERSEAL_RSS_KB=(\d+)/.exec(stderr)?.[1] ?? 0) / 1024;
      let out: any = null;
      try {
        out = JSON.parse(stdout);
      } catch {
        out = null;
      }
      resolve({ seconds: (performance.now() - t0) / 1000, rssMb: rss, code: code ?? -1, out, stderr });
    });
  });
}

export async function run(): Promise<void> {
  const { generatedSeconds, tableBytes } = await ensureTable();
  console.log(`registry: ${fmt(ROWS)} rows, ${fmt(tableBytes / 2 ** 20)} MiB with its index${generatedSeconds !== null ? `, generated in ${fmt(generatedSeconds, 1)} s` : ' (reused)'}`);

  const floorBefore = floor();
  const dir = mkdtempSync(join(tmpdir(), 'ledgerseal-bench-registry-'));
  const adminKey = `lsa_bench_${randomBytes(24).toString('hex')}`;
  const runner = await startLocal({ ...process.env, PORT: '0', LEDGERSEAL_HOST: '127.0.0.1', LEDGERSEAL_DATA_DIR: dir, LEDGERSEAL_ADMIN_KEY: adminKey, LEDGERSEAL_ROUND_INTERVAL_MS: '1000' }, silentLogger);
  try {
    const store = runner.ledger.services.store as DynamoStore;
    const res = await fetch(`${runner.url}/v1/agencies`, { method: 'POST', headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'Land Board' }) });
    const { apiKey } = (await res.json()) as { apiKey: string };
    const env = { LEDGERSEAL_URL: runner.url, LEDGERSEAL_API_KEY: apiKey, LEDGERSEAL_BLINDING_KEY: randomBytes(32).toString('hex') };
    const source = `${PG}/${DB}`;
    const w0 = store.capacity.write;
    const back = await runCli(['backfill', source, '--table', 'registry', '--key', 'parcel_id', '--json', '--quiet'], env);
    if (back.code !== 0 || !back.out) throw new Error(`backfill failed (${back.code}): ${back.stderr}`);
    const writeUnits = store.capacity.write - w0;
    const aud = await runCli(['audit', source, '--table', 'registry', '--key', 'parcel_id', '--json', '--quiet'], env);
    if (aud.code !== 0 || !aud.out) throw new Error(`audit failed (${aud.code}): ${aud.stderr.slice(0, 2000)}`);
    const floorAfter = floor();
    const fl = Math.min(floorBefore, floorAfter);
    const b = back.out;
    console.log(`\nfloor (COPY registry TO STDOUT | sha256sum): ${fmt(floorBefore, 1)} s before, ${fmt(floorAfter, 1)} s after; the smaller is used\n`);
    printTable(
      ['run', 'rows', 'seconds', 'rows/s', 'x floor', 'peak RSS MB', 'service requests', 'service write units', 'receipt bytes/row'],
      [
        ['floor: COPY | sha256sum', ROWS, fmt(fl, 1), fmt(ROWS / fl), '1.0', '-', '-', '-', '-'],
        ['backfill (first run)', b.scanned, fmt(back.seconds, 1), fmt(b.scanned / back.seconds), fmt(back.seconds / fl, 1), fmt(back.rssMb), b.requests ?? '-', fmt(writeUnits), fmt(b.receiptBytes / b.scanned, 1)],
        ['audit', aud.out.checked, fmt(aud.seconds, 1), fmt(aud.out.checked / aud.seconds), fmt(aud.seconds / fl, 1), fmt(aud.rssMb), '-', '-', '-'],
      ],
    );
    console.log(`\nbackfill: ${b.chunks} chunks of up to 1,024 rows, ${b.batches.submitted} batches, ${b.batches.confirmed} confirmed; audit: ${aud.out.unchanged} unchanged, ` +
      `${aud.out.proofs.verified}/${aud.out.proofs.batches} batch proofs verified against checkpoint size ${aud.out.proofs.checkpoint?.size}`);
    // A row's proof from the receipts: rowProof over the stored batch proofs (no request), 50 random rows.
    const { openPostgres } = await import('../sdk/src/cli/receipts/postgres.ts');
    const { rowProof } = await import('../sdk/src/cli/engine.ts');
    const receipts = await openPostgres({ url: source, table: 'registry', key: ['parcel_id'] });
    const times: number[] = [];
    try {
      for (let i = 0; i < 50; i++) {
        const id = `EE${String(1 + Math.floor(Math.random() * ROWS)).padStart(9, '0')}`;
        const t0 = performance.now();
        await rowProof(receipts, [id], { blindingKey: Buffer.from(env.LEDGERSEAL_BLINDING_KEY, 'hex'), service: null });
        times.push(performance.now() - t0);
      }
    } finally {
      await receipts.close();
    }
    times.sort((a, b) => a - b);
    console.log(`one row's proof from the receipts (rowProof, 50 random rows): median ${fmt(times[25]!, 1)} ms, max ${fmt(times[49]!, 1)} ms`);
    const again = await runCli(['backfill', source, '--table', 'registry', '--key', 'parcel_id', '--json', '--quiet'], env);
    console.log(`second backfill (nothing changed): ${fmt(again.seconds, 1)} s, ${again.out?.anchored} anchored, peak RSS ${fmt(again.rssMb)} MB`);
  } finally {
    await runner.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
