/**
 * Throughput of the row readers (docs/rows.md): streamPg (COPY text decoding +
 * canonicalization), openCsv and openNdjson (parsing + canonicalization; NDJSON
 * lines are read as I-JSON, parseJsonStrict), optionally with
 * the row encoding and digest the CLI adds. Needs the PostgreSQL of the
 * machine (127.0.0.1:5432, user postgres, database test).
 *
 *   node --import tsx bench/rows-stream.ts [rows=1000000] [pg|csv|ndjson|encode ...]
 *
 * Each case runs once on a fresh table; name cases to run only those.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { openCsv } from '../sdk/src/cli/sources/csv.ts';
import { openNdjson } from '../sdk/src/cli/sources/ndjson.ts';
import { describePgTable, preparePgSession, streamPg } from '../sdk/src/cli/sources/postgres.ts';
import { rowEncoder } from '../sdk/src/row.ts';

const N = Number(process.argv[2] ?? 1_000_000);
const cases = process.argv.slice(3);
const want = (c: string): boolean => cases.length === 0 || cases.includes(c);
const TABLE = `bench_rows_${process.pid}`;

async function measure(name: string, run: () => Promise<number>): Promise<void> {
  const t0 = process.hrtime.bigint();
  const rows = await run();
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(`${name.padEnd(44)} ${rows} rows in ${s.toFixed(2)} s = ${Math.round(rows / s).toLocaleString('en')} rows/s`);
}

const client = new pg.Client({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test' });
await client.connect();
await preparePgSession(client);
const dir = mkdtempSync(join(tmpdir(), 'ls-rows-bench-'));
try {
  await client.query(`CREATE TABLE ${TABLE} (id bigint primary key, parcel text, owner varchar(80), area numeric(12,2), ratio float8,
    active boolean, born date, updated timestamptz, created timestamp, code char(6))`);
  await client.query(`INSERT INTO ${TABLE} SELECT i, 'parcel-' || i, 'Owner Name ' || (i % 1000), (i % 100000) / 100.0, i / 7.0, i % 2 = 0,
    date '2000-01-01' + (i % 9000), timestamptz '2020-01-01 00:00:00+00' + i * interval '1.5 second',
    timestamp '2020-01-01' + i * interval '1 minute', 'C' || (i % 1000) FROM generate_series(1, $1) i`, [N]);
  const { columns } = await describePgTable(client, TABLE);
  const sql = `SELECT * FROM ${TABLE}`;

  if (want('pg')) await measure('COPY only (raw bytes, no decoding)', async () => {
    const { to } = await import('pg-copy-streams');
    let bytes = 0;
    for await (const chunk of client.query(to(`COPY (${sql}) TO STDOUT`))) bytes += (chunk as Buffer).length;
    return bytes > 0 ? N : 0;
  });
  if (want('pg')) await measure('streamPg (decode + canonicalize)', async () => {
    let n = 0;
    for await (const batch of streamPg(client, sql, columns)) n += batch.length;
    return n;
  });
  const encode = rowEncoder(columns.map((c) => c.name));
  if (want('encode')) await measure('streamPg + rowEncoder + SHA-256', async () => {
    let n = 0;
    for await (const batch of streamPg(client, sql, columns)) {
      for (const row of batch) createHash('sha256').update(encode(row)).digest();
      n += batch.length;
    }
    return n;
  });

  const csv = join(dir, 'rows.csv');
  await client.query(`COPY ${TABLE} TO '${csv}' WITH (FORMAT csv, HEADER true)`).catch(async () => {
    // The server may not be allowed to write here: write the file from the client side instead.
    const { to } = await import('pg-copy-streams');
    const parts: Buffer[] = [];
    for await (const chunk of client.query(to(`COPY ${TABLE} TO STDOUT WITH (FORMAT csv, HEADER true)`))) parts.push(chunk as Buffer);
    writeFileSync(csv, Buffer.concat(parts));
  });
  const types = Object.fromEntries(columns.map((c) => [c.name, c.kind]));
  if (want('csv')) await measure('openCsv (parse + canonicalize)', async () => {
    const { rows } = await openCsv(csv, { types });
    let n = 0;
    for await (const batch of rows) n += batch.length;
    return n;
  });

  if (want('ndjson')) {
    // The same rows as NDJSON, one object per line (row_to_json; the values hold no backslash, so COPY's text format leaves them as is).
    const { to } = await import('pg-copy-streams');
    const parts: Buffer[] = [];
    for await (const chunk of client.query(to(`COPY (SELECT row_to_json(t) FROM ${TABLE} t) TO STDOUT`))) parts.push(chunk as Buffer);
    const ndjson = join(dir, 'rows.ndjson');
    writeFileSync(ndjson, Buffer.concat(parts));
    await measure('openNdjson (I-JSON parse + canonicalize)', async () => {
      const { rows } = await openNdjson(ndjson, { types });
      let n = 0;
      for await (const batch of rows) n += batch.length;
      return n;
    });
  }
} finally {
  await client.query(`DROP TABLE IF EXISTS ${TABLE}`);
  await client.end();
  rmSync(dir, { recursive: true, force: true });
}
