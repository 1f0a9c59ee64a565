/**
 * docs/rows.md section 7: the same logical rows read from PostgreSQL, from
 * MariaDB, from a CSV file and from an NDJSON file (each with its own way of
 * writing the values, time zones and padding) give the same canonical rows
 * and the same digests; and PostgreSQL's own CSV export reads back to the
 * digests of the table.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCsv } from '../../sdk/src/cli/sources/csv.ts';
import { describeMysqlTable, prepareMysqlSession, streamMysql } from '../../sdk/src/cli/sources/mysql.ts';
import { openNdjson } from '../../sdk/src/cli/sources/ndjson.ts';
import { describePgQuery, describePgTable, preparePgSession, streamPg } from '../../sdk/src/cli/sources/postgres.ts';
import type { ColumnInfo, RawRow } from '../../sdk/src/cli/sources/types.ts';
import { bytesToHex } from '../../sdk/src/encoding.ts';
import { rowDigest, rowEncoder, type ColumnKind } from '../../sdk/src/row.ts';
import { freshMysqlDatabase, freshPgSchema, type MysqlTestDatabase, type PgTestSchema } from '../helpers/databases.ts';

let pgdb: PgTestSchema;
let mydb: MysqlTestDatabase;
const dir = mkdtempSync(join(tmpdir(), 'ls-rows-cross-'));

async function all(iter: AsyncIterable<RawRow[]>): Promise<RawRow[]> {
  const out: RawRow[] = [];
  for await (const batch of iter) out.push(...batch);
  return out;
}

const NAMES = ['id', 'amount', 'active', 'born', 'seen', 'stamped', 'name', 'code', 'blob', 'doc', 'uid'];
const TYPES: Record<string, ColumnKind> = {
  id: 'integer', amount: 'decimal', active: 'boolean', born: 'date', seen: 'timestamp', stamped: 'timestamptz', blob: 'bytes', doc: 'json', uid: 'uuid',
};
const NAME = 'Jõgeva e\u0301 😀\ttab\nline\\back "quoted", comma';

/** The canonical rows every source must give, in column order. */
const EXPECTED: RawRow[] = [
  ['9223372036854775807', '1234.5', 'true', '2024-02-29', '2024-01-02T03:04:05.123456', '2024-07-01T07:30:00.000000Z', NAME, 'ab', '00ff10',
    '{"a":[1,2],"b":1.5}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'],
  ['0', '0', 'true', '0001-01-01', '9999-12-31T23:59:59.999999', '2000-01-01T00:00:00.000000Z', 'x', 'abcde', '5c4e', '[]', '00000000-0000-0000-0000-000000000000'],
  ['-5', '-0.1', 'false', null, null, null, '', '', '', null, null],
];

beforeAll(async () => {
  pgdb = await freshPgSchema('rows_cross');
  mydb = await freshMysqlDatabase('rows_cross');
  await pgdb.client.query(`CREATE TABLE t (id bigint PRIMARY KEY, amount numeric(12,2), active boolean, born date, seen timestamp(6),
    stamped timestamptz, name text, code char(5), blob bytea, doc jsonb, uid uuid)`);
  await pgdb.client.query(`INSERT INTO t VALUES
    (9223372036854775807, 1234.50, true, '2024-02-29', '2024-01-02 03:04:05.123456', '2024-06-30 23:30:00-08', $1, 'ab', '\\x00FF10',
     '{"b": 1.50, "a": [1, 2]}', 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'),
    (-5, -0.10, false, NULL, NULL, NULL, '', '', '', NULL, NULL),
    (0, 0.00, true, '0001-01-01', '9999-12-31 23:59:59.999999', '2000-01-01 05:30:00+05:30', 'x', 'abcde', '\\x5c4e', '[]',
     '00000000-0000-0000-0000-000000000000')`, [NAME]);
  await preparePgSession(pgdb.client);

  await mydb.conn.query(`CREATE TABLE t (id bigint PRIMARY KEY, amount decimal(12,2), active tinyint(1), born date, seen datetime(6),
    stamped timestamp(6) NULL DEFAULT NULL, name text, code char(5), \`blob\` blob, doc json, uid uuid)`);
  await mydb.conn.query(`SET time_zone = '-08:00'`);
  await mydb.conn.query(`INSERT INTO t VALUES (?, '1234.50', 1, '2024-02-29', '2024-01-02 03:04:05.123456', '2024-06-30 23:30:00', ?, 'ab   ', ?,
    '{"b": 1.50, "a": [1, 2]}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11')`, ['9223372036854775807', NAME, Buffer.from('00ff10', 'hex')]);
  await mydb.conn.query(`SET time_zone = '+05:30'`);
  await mydb.conn.query(`INSERT INTO t VALUES (-5, -0.10, 0, NULL, NULL, NULL, '', '', '', NULL, NULL),
    (0, 0, 1, '0001-01-01', '9999-12-31 23:59:59.999999', '2000-01-01 05:30:00', 'x', 'abcde', x'5c4e', '[]', '00000000-0000-0000-0000-000000000000')`);
  await prepareMysqlSession(mydb.conn);
});

afterAll(async () => {
  await pgdb?.drop();
  await mydb?.drop();
  rmSync(dir, { recursive: true, force: true });
});

function csvField(v: string | null): string {
  return v === null ? '' : `"${v.replaceAll('"', '""')}"`;
}

describe('the same rows from four sources', () => {
  it('PostgreSQL', async () => {
    const { columns } = await describePgTable(pgdb.client, 't');
    expect(columns.map((c) => c.name)).toEqual(NAMES);
    expect(await all(streamPg(pgdb.client, 'SELECT * FROM t ORDER BY id DESC', columns))).toEqual(EXPECTED);
  });

  it('MariaDB', async () => {
    const { columns } = await describeMysqlTable(mydb.conn, 't');
    expect(columns.map((c) => c.name)).toEqual(NAMES);
    expect(await all(streamMysql(mydb.conn, 'SELECT * FROM t ORDER BY id DESC', columns))).toEqual(EXPECTED);
  });

  it('CSV with types (values written differently: other zone, upper-case hex, no padding)', async () => {
    const path = join(dir, 'rows.csv');
    const lines = [
      NAMES.join(','),
      ['9223372036854775807', '1234.50', 'TRUE', '2024-02-29', '2024-01-02T03:04:05.123456', '2024-07-01T09:30:00+02:00', NAME, 'ab', '00FF10',
        '{ "a": [1, 2], "b": 1.5 }', '{A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11}'].map(csvField).join(','),
      ['0', '0', 'yes', '0001-01-01', '9999-12-31 23:59:59.999999', '2000-01-01T00:00:00Z', 'x', 'abcde', '\\x5c4e', '[ ]',
        '00000000000000000000000000000000'].map(csvField).join(','),
      '-5,-0.1,0,,,,"","","",,',
    ];
    writeFileSync(path, `\uFEFF${lines.join('\r\n')}\r\n`);
    const { columns, rows } = await openCsv(path, { types: TYPES });
    expect(columns.map((c) => c.name)).toEqual(NAMES);
    expect(await all(rows)).toEqual(EXPECTED);
  });

  it('NDJSON with types (exact numbers as strings)', async () => {
    const path = join(dir, 'rows.ndjson');
    const objects = [
      { id: '9223372036854775807', amount: '1234.50', active: true, born: '2024-02-29', seen: '2024-01-02 03:04:05.123456', stamped: '2024-07-01T07:30:00Z',
        name: NAME, code: 'ab', blob: '\\x00ff10', doc: { b: 1.5, a: [1, 2] }, uid: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11' },
      { id: 0, amount: 0, active: 1, born: '0001-01-01', seen: '9999-12-31 23:59:59.999999', stamped: '1999-12-31 16:00:00-08', name: 'x', code: 'abcde',
        blob: '5C4E', doc: [], uid: '00000000-0000-0000-0000-000000000000' },
      { uid: null, doc: null, blob: '', code: '', name: '', stamped: null, seen: null, born: null, active: false, amount: '-0.10', id: '-5' },
    ];
    writeFileSync(path, objects.map((o) => JSON.stringify(o)).join('\n'));
    const { columns, rows } = await openNdjson(path, { types: { ...TYPES, active: 'boolean' } });
    expect(columns.map((c) => c.name)).toEqual(NAMES);
    expect(await all(rows)).toEqual(EXPECTED);
  });

  it('one digest per row, whatever the source: SHA-256 of the encoded row', () => {
    const encode = rowEncoder(NAMES);
    const digests = EXPECTED.map((r) => bytesToHex(rowDigest(Object.fromEntries(NAMES.map((n, i) => [n, r[i]!])))));
    expect(digests).toEqual(EXPECTED.map((r) => createHash('sha256').update(encode(r)).digest('hex')));
    expect(new Set(digests).size).toBe(EXPECTED.length);
  });
});

describe("PostgreSQL's CSV export", () => {
  it('reads back to the digests of the table (char(n) aside: the export keeps its padding)', async () => {
    const sql = 'SELECT id, amount, active, born, seen, stamped, name, blob, doc, uid FROM t ORDER BY id';
    const columns: ColumnInfo[] = await describePgQuery(pgdb.client, sql);
    const fromTable = await all(streamPg(pgdb.client, sql, columns));
    const { to } = await import('pg-copy-streams');
    const parts: Buffer[] = [];
    for await (const chunk of pgdb.client.query(to(`COPY (${sql}) TO STDOUT WITH (FORMAT csv, HEADER true)`))) parts.push(chunk as Buffer);
    const path = join(dir, 'export.csv');
    writeFileSync(path, Buffer.concat(parts));
    const csv = await openCsv(path, { types: Object.fromEntries(columns.map((c) => [c.name, c.kind])) });
    const fromCsv = await all(csv.rows);
    expect(fromCsv).toEqual(fromTable);
    const encode = rowEncoder(columns.map((c) => c.name));
    expect(fromCsv.map(encode)).toEqual(fromTable.map(encode));
  });
});
