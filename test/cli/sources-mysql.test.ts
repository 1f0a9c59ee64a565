/**
 * The MySQL/MariaDB reader (docs/rows.md 6.2) against the machine's MariaDB:
 * every kind from a real table with edge values, descriptions, pass-through
 * fields, early stops. Each test file works in its own database
 * (test/helpers/databases.ts).
 */
import type { Connection } from 'mysql2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  describeMysqlQuery,
  describeMysqlTable,
  parseMysqlTableName,
  prepareMysqlSession,
  streamMysql,
} from '../../sdk/src/cli/sources/mysql.ts';
import type { ColumnInfo, RawRow } from '../../sdk/src/cli/sources/types.ts';
import { freshMysqlDatabase, type MysqlTestDatabase } from '../helpers/databases.ts';

let db: MysqlTestDatabase;

async function all(iter: AsyncIterable<RawRow[]>): Promise<RawRow[]> {
  const out: RawRow[] = [];
  for await (const batch of iter) out.push(...batch);
  return out;
}

beforeAll(async () => {
  db = await freshMysqlDatabase('rows_mysql');
});
afterAll(async () => {
  await db?.drop();
});

const COLUMNS: [string, string, string, string][] = [
  // name, declaration, kind, sourceType (information_schema COLUMN_TYPE as MariaDB 10.11 writes it)
  ['id', 'int PRIMARY KEY', 'integer', 'int(11)'],
  ['ti', 'tinyint', 'integer', 'tinyint(4)'],
  ['tb', 'tinyint(1)', 'boolean', 'tinyint(1)'],
  ['bo', 'boolean', 'boolean', 'tinyint(1)'],
  ['i', 'int', 'integer', 'int(11)'],
  ['bi', 'bigint', 'integer', 'bigint(20)'],
  ['bu', 'bigint unsigned', 'integer', 'bigint(20) unsigned'],
  ['d12', 'decimal(12,2)', 'decimal', 'decimal(12,2)'],
  ['f', 'float', 'float', 'float'],
  ['db', 'double', 'float', 'double'],
  ['dt', 'date', 'date', 'date'],
  ['tm', 'time(6)', 'time', 'time(6)'],
  ['dtm', 'datetime(6)', 'timestamp', 'datetime(6)'],
  ['ts', 'timestamp(6) NULL DEFAULT NULL', 'timestamptz', 'timestamp(6)'],
  ['vc', 'varchar(20)', 'text', 'varchar(20)'],
  ['c5', 'char(5)', 'text', 'char(5)'],
  ['tx', 'text', 'text', 'text'],
  ['bl', 'blob', 'bytes', 'blob'],
  ['vb', 'varbinary(8)', 'bytes', 'varbinary(8)'],
  ['j', 'json', 'json', 'json'],
  ['u', 'uuid', 'uuid', 'uuid'],
];

// Values inserted (with the session time zone given) and the canonical texts expected, in column order.
const ROWS: { zone: string; values: unknown[]; expected: (string | null)[] }[] = [
  {
    zone: '+05:30',
    values: [1, -128, 0, 1, 0, '9223372036854775807', '18446744073709551615', '1234.50', 0.1, 0.1, '2024-02-29', '-10:00:00.5',
      '2024-01-02 03:04:05.123456', '2024-01-02 03:04:05.5', 'varchar', 'ab', 'a\tb\nc\\d é e\u0301 😀', Buffer.from([0, 0xff, 0x10]),
      Buffer.from([0]), '{"b": 1.50, "a": 3}', 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'],
    expected: ['1', '-128', 'false', 'true', '0', '9223372036854775807', '18446744073709551615', '1234.5', '0.1', '0.1', '2024-02-29',
      '-10:00:00.500000', '2024-01-02T03:04:05.123456', '2024-01-01T21:34:05.500000Z', 'varchar', 'ab', 'a\tb\nc\\d é e\u0301 😀', '00ff10',
      '00', '{"a":3,"b":1.5}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'],
  },
  {
    zone: '-08:00',
    values: [2, 127, 1, 0, -2147483648, '-9223372036854775808', 0, '-0.10', 1.5, 1e100, '0000-00-00', '838:59:59', '2024-01-02 03:04:05',
      '2024-06-30 23:30:00', '', '', '', Buffer.alloc(0), Buffer.alloc(0), 'null', '00000000-0000-0000-0000-000000000000'],
    expected: ['2', '127', 'true', 'false', '-2147483648', '-9223372036854775808', '0', '-0.1', '1.5', '1e+100', '0000-00-00',
      '838:59:59.000000', '2024-01-02T03:04:05.000000', '2024-07-01T07:30:00.000000Z', '', '', '', '', '', 'null',
      '00000000-0000-0000-0000-000000000000'],
  },
  {
    zone: '+00:00',
    values: [3, 0, 2, null, 7, 0, 1, '0.00', 1.2345678, 1.2345678901234567, '0001-01-01', '00:00:00', '9999-12-31 23:59:59.999999',
      '2038-01-19 03:14:07.999999', ' spaced ', 'abcde', '\\N', null, Buffer.from('5c4e', 'hex'), '[]', null],
    expected: ['3', '0', '2', null, '7', '0', '1', '0', '1.23457', '1.2345678901234567', '0001-01-01', '00:00:00.000000',
      '9999-12-31T23:59:59.999999', '2038-01-19T03:14:07.999999Z', ' spaced ', 'abcde', '\\N', null, '5c4e', '[]', null],
  },
  {
    zone: '+00:00',
    values: [4, ...Array.from({ length: 20 }, () => null)],
    expected: ['4', ...Array.from({ length: 20 }, () => null)],
  },
];

describe('MariaDB: every kind', () => {
  beforeAll(async () => {
    await db.conn.query(`CREATE TABLE every_type (${COLUMNS.map(([n, decl]) => `${n} ${decl}`).join(', ')})`);
    for (const row of ROWS) {
      await db.conn.query(`SET time_zone = '${row.zone}'`);
      await db.conn.query(`INSERT INTO every_type VALUES (${row.values.map(() => '?').join(', ')})`, row.values);
    }
    await prepareMysqlSession(db.conn);
  });

  it('describes the table: kinds, source types, primary key', async () => {
    const d = await describeMysqlTable(db.conn, 'every_type');
    expect(d.primaryKey).toEqual(['id']);
    expect(d.relation).toBe(`\`${db.database}\`.\`every_type\``);
    expect(d.columns.map((c) => [c.name, c.kind, c.sourceType])).toEqual(COLUMNS.map(([n, , kind, type]) => [n, kind, type]));
  });

  it('streams the exact canonical texts', async () => {
    const { columns } = await describeMysqlTable(db.conn, 'every_type');
    expect(await all(streamMysql(db.conn, 'SELECT * FROM every_type ORDER BY id', columns))).toEqual(ROWS.map((r) => r.expected));
  });

  it('also with a callback connection', async () => {
    const callback = (db.conn as unknown as { connection: Connection }).connection;
    const { columns } = await describeMysqlTable(callback, `${db.database}.every_type`);
    const rows = await all(streamMysql(callback, 'SELECT * FROM every_type ORDER BY id', columns, { batchRows: 1 }));
    expect(rows).toEqual(ROWS.map((r) => r.expected));
  });

  it('a query: its columns from the prepared metadata, extra fields passed through raw', async () => {
    const sql = 'SELECT id, tb, j, c5, ts, 1 + 1 AS two FROM every_type ORDER BY id';
    const columns = await describeMysqlQuery(db.conn, sql);
    expect(columns).toEqual([
      { name: 'id', kind: 'integer', sourceType: 'int' },
      { name: 'tb', kind: 'boolean', sourceType: 'tinyint(1)' },
      { name: 'j', kind: 'json', sourceType: 'json' },
      { name: 'c5', kind: 'text', sourceType: 'char' },
      { name: 'ts', kind: 'timestamptz', sourceType: 'timestamp(6)' },
      { name: 'two', kind: 'integer', sourceType: 'int' },
    ]);
    const withExtras = 'SELECT id, tb, j, c5, ts, 1 + 1 AS two, bl, ts AS raw_ts, tb AS raw_tb FROM every_type ORDER BY id';
    const rows = await all(streamMysql(db.conn, withExtras, columns));
    expect(rows[0]).toEqual(['1', 'false', '{"a":3,"b":1.5}', 'ab', '2024-01-01T21:34:05.500000Z', '2', '00ff10', '2024-01-01 21:34:05.500000', '0']);
    expect(rows[3]).toEqual(['4', null, null, null, null, '2', null, null, null]);
  });

  it('names: db.table, backticks, composite keys, and a clear error for a missing table', async () => {
    await db.conn.query('CREATE TABLE `Mixed ``Case` (`Id` int, `b` int, PRIMARY KEY (`b`, `Id`))');
    const d = await describeMysqlTable(db.conn, `\`${db.database}\`.\`Mixed \`\`Case\``);
    expect(d.columns.map((c) => c.name)).toEqual(['Id', 'b']);
    expect(d.primaryKey).toEqual(['b', 'Id']);
    await db.conn.query('CREATE VIEW no_key AS SELECT id, j FROM every_type');
    expect(await describeMysqlTable(db.conn, 'no_key')).toMatchObject({ primaryKey: [], columns: [{ name: 'id', kind: 'integer' }, { name: 'j' }] });
    await expect(describeMysqlTable(db.conn, 'nope')).rejects.toThrow(`table "nope" does not exist (in database "${db.database}")`);
    await expect(describeMysqlTable(db.conn, 'other_db.every_type')).rejects.toThrow(/does not exist \(in database "other_db"\)/);
    expect(parseMysqlTableName('a.b')).toEqual({ schema: 'a', name: 'b' });
    expect(parseMysqlTableName('`a.b`')).toEqual({ name: 'a.b' });
    expect(() => parseMysqlTableName('a.b.c')).toThrow(/expected table or db.table/);
    expect(() => parseMysqlTableName('`a')).toThrow(/unterminated backtick/);
  });

  it('a value that does not convert names the row and column; the connection stays usable', async () => {
    const wrong: ColumnInfo[] = [{ name: 'vc', kind: 'integer', sourceType: 'pretend' }];
    await expect(all(streamMysql(db.conn, 'SELECT vc FROM every_type ORDER BY id', wrong))).rejects.toThrow(
      /^row 1, column "vc" \(pretend\): not a valid integer value: "varchar"/,
    );
    expect((await db.conn.query('SELECT 1 AS one'))[0]).toEqual([{ one: 1 }]);
    await expect(all(streamMysql(db.conn, 'SELECT id FROM every_type', [...wrong, ...wrong]))).rejects.toThrow(/returns 1 fields but 2 columns/);
    await expect(all(streamMysql(db.conn, 'SELECT nope FROM every_type', wrong))).rejects.toThrow(/Unknown column 'nope'/);
    expect((await db.conn.query('SELECT 2 AS two'))[0]).toEqual([{ two: 2 }]);
  });

  it("refuses a JSON value with a member name twice (MariaDB's JSON keeps the text as written)", async () => {
    await db.conn.query('CREATE TABLE dup_json (id int PRIMARY KEY, j JSON)');
    await db.conn.query(`INSERT INTO dup_json VALUES (1, '{"a": 1}'), (2, '{"a": [1, 2], "a": 3}')`);
    const { columns } = await describeMysqlTable(db.conn, 'dup_json');
    await expect(all(streamMysql(db.conn, 'SELECT * FROM dup_json ORDER BY id', columns))).rejects.toThrow(
      /^row 2, column "j" \(.*\): not a valid json value: .* \(duplicate member name "a" in the object at \$ /,
    );
    expect((await db.conn.query('SELECT 3 AS three'))[0]).toEqual([{ three: 3 }]);
  });
});

describe('MariaDB: many rows', () => {
  beforeAll(async () => {
    await db.conn.query('CREATE TABLE many (id int PRIMARY KEY, t varchar(40), b varbinary(4))');
    await db.conn.query('SET max_recursive_iterations = 10000');
    await db.conn.query(`INSERT INTO many WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 5000)
      SELECT i, CONCAT('row ', i, '\\t', REPEAT('é', i % 7)), UNHEX(LPAD(HEX(i), 8, '0')) FROM s`);
  });

  it('batches of at most batchRows, every row, in order; an early stop leaves the connection usable', async () => {
    const { columns } = await describeMysqlTable(db.conn, 'many');
    let n = 0;
    let batches = 0;
    for await (const batch of streamMysql(db.conn, 'SELECT * FROM many ORDER BY id', columns, { batchRows: 700 })) {
      expect(batch.length).toBeLessThanOrEqual(700);
      for (const row of batch) {
        n++;
        expect(row).toEqual([String(n), `row ${n}\t${'é'.repeat(n % 7)}`, n.toString(16).padStart(8, '0')]);
      }
      batches++;
    }
    expect([n, batches]).toEqual([5000, 8]);
    for await (const batch of streamMysql(db.conn, 'SELECT * FROM many ORDER BY id', columns, { batchRows: 10 })) {
      expect(batch).toHaveLength(10);
      break;
    }
    expect((await db.conn.query('SELECT COUNT(*) AS n FROM many'))[0]).toEqual([{ n: 5000 }]);
  });
});
