/**
 * The PostgreSQL reader (docs/rows.md 6.1) against the machine's PostgreSQL:
 * every kind from a real table with edge values, descriptions, the COPY text
 * decoder across every chunk boundary, pass-through fields, early stops.
 * Each test file works in its own schema (test/helpers/databases.ts).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CopyTextDecoder,
  describePgQuery,
  describePgTable,
  preparePgSession,
  streamPg,
} from '../../sdk/src/cli/sources/postgres.ts';
import type { ColumnInfo, RawRow } from '../../sdk/src/cli/sources/types.ts';
import { freshPgSchema, type PgTestSchema } from '../helpers/databases.ts';

let db: PgTestSchema;

async function all(iter: AsyncIterable<RawRow[]>): Promise<RawRow[]> {
  const out: RawRow[] = [];
  for await (const batch of iter) out.push(...batch);
  return out;
}

beforeAll(async () => {
  db = await freshPgSchema('rows_pg');
  await preparePgSession(db.client);
});
afterAll(async () => {
  await db?.drop();
});

const EVERY_TYPE = `
  CREATE DOMAIN postal_code AS char(5);
  CREATE TYPE mood AS ENUM ('sad', 'happy');
  CREATE TABLE every_type (
    id integer PRIMARY KEY,
    i2 smallint, i4 integer, i8 bigint,
    n12 numeric(12,2), n numeric,
    r real, d double precision,
    b boolean,
    dt date, tm time, ts timestamp, ts3 timestamp(3), tz timestamptz,
    t text, vc varchar(20), c5 char(5), pc postal_code, e mood,
    by bytea, j json, jb jsonb, u uuid,
    iv interval, arr integer[]
  )`;

// Each row: the SQL literals inserted, then the canonical texts expected (same order as the columns).
const ROWS: { values: string; expected: (string | null)[] }[] = [
  {
    values: `1, -32768, 0, 9223372036854775807, 1234.50, 1.5E+3, 0.1, 0.1, true, '2024-02-29', '24:00:00', '2024-01-02 03:04:05',
      '2024-01-02 03:04:05.12345', '2024-06-30 23:30:00-08', E'a\\tb\\nc\\\\d\\re', 'varchar', 'ab', '12', 'happy',
      '\\x00ff10', '{"b": 1.50, "a": 3}', '{"b": 1.50, "a": [1e2, null]}', 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11',
      '1 day 02:03:04', '{1,2,NULL}'`,
    expected: ['1', '-32768', '0', '9223372036854775807', '1234.5', '1500', '0.1', '0.1', 'true', '2024-02-29', '24:00:00.000000',
      '2024-01-02T03:04:05.000000', '2024-01-02T03:04:05.123000', '2024-07-01T07:30:00.000000Z', 'a\tb\nc\\d\re', 'varchar', 'ab', '12',
      'happy', '00ff10', '{"a":3,"b":1.5}', '{"a":[100,null],"b":1.5}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '1 day 02:03:04', '{1,2,NULL}'],
  },
  {
    values: `2, 32767, -2147483648, -9223372036854775808, -0.10, 'NaN', 1.2345678, 1e100, false, 'infinity', '00:00:00', '2024-01-02 03:04:05.123456',
      '2024-01-02 03:04:05.1', '2024-01-02 03:04:05.5+05:30', '', '', '', '', 'sad', '', 'null', '[]',
      '00000000-0000-0000-0000-000000000000', '-1 mons', '{}'`,
    expected: ['2', '32767', '-2147483648', '-9223372036854775808', '-0.1', 'NaN', '1.2345678', '1e+100', 'false', 'infinity', '00:00:00.000000',
      '2024-01-02T03:04:05.123456', '2024-01-02T03:04:05.100000', '2024-01-01T21:34:05.500000Z', '', '', '', '', 'sad', '', 'null', '[]',
      '00000000-0000-0000-0000-000000000000', '-1 mons', '{}'],
  },
  {
    values: `3, 0, 7, 0, 0.00, 0.000001230, '-0', '-0', true, '0044-03-15 BC', '23:59:59.999999', 'infinity', '-infinity', '-infinity',
      E'\\\\N', ' spaced ', 'abcde', 'x', NULL, '\\x', '"\\u00e9"', '{"z": {"y": 1, "x": 2}}', NULL, '00:00:00', NULL`,
    expected: ['3', '0', '7', '0', '0', '0.00000123', '0', '0', 'true', '0044-03-15 BC', '23:59:59.999999', 'infinity', '-infinity', '-infinity',
      '\\N', ' spaced ', 'abcde', 'x', null, '', '"é"', '{"z":{"x":2,"y":1}}', null, '00:00:00', null],
  },
  {
    values: `4, NULL, NULL, NULL, NULL, 'Infinity', 'Infinity', 'NaN', NULL, '10000-01-01', '12:00:00.5', '10000-01-01 00:00:00', NULL,
      '1900-01-01 00:00:00+01:39:49', 'e\u0301 é 😀 tab\there', 'Jõgeva', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '{{1,2},{3,4}}'`,
    expected: ['4', null, null, null, null, 'Infinity', 'Infinity', 'NaN', null, '10000-01-01', '12:00:00.500000', '10000-01-01T00:00:00.000000', null,
      '1899-12-31T22:20:11.000000Z', 'e\u0301 é 😀 tab\there', 'Jõgeva', null, null, null, null, null, null, null, null, '{{1,2},{3,4}}'],
  },
];

describe('PostgreSQL: every kind', () => {
  beforeAll(async () => {
    await db.client.query(EVERY_TYPE);
    for (const row of ROWS) await db.client.query(`INSERT INTO every_type VALUES (${row.values.replace('\\u0000-free', 'nul-free')})`);
  });

  it('describes the table: kinds, source types, primary key', async () => {
    const d = await describePgTable(db.client, 'every_type');
    expect(d.primaryKey).toEqual(['id']);
    expect(d.relation).toBe(`${db.schema}.every_type`);
    expect(d.columns.map((c) => [c.name, c.kind, c.sourceType])).toEqual([
      ['id', 'integer', 'integer'], ['i2', 'integer', 'smallint'], ['i4', 'integer', 'integer'], ['i8', 'integer', 'bigint'],
      ['n12', 'decimal', 'numeric(12,2)'], ['n', 'decimal', 'numeric'], ['r', 'float', 'real'], ['d', 'float', 'double precision'],
      ['b', 'boolean', 'boolean'], ['dt', 'date', 'date'], ['tm', 'time', 'time without time zone'],
      ['ts', 'timestamp', 'timestamp without time zone'], ['ts3', 'timestamp', 'timestamp(3) without time zone'],
      ['tz', 'timestamptz', 'timestamp with time zone'], ['t', 'text', 'text'], ['vc', 'text', 'character varying(20)'],
      ['c5', 'text', 'character(5)'], ['pc', 'text', 'postal_code (domain over character(5))'], ['e', 'text', 'mood'],
      ['by', 'bytes', 'bytea'], ['j', 'json', 'json'], ['jb', 'json', 'jsonb'], ['u', 'uuid', 'uuid'],
      ['iv', 'other', 'interval'], ['arr', 'other', 'integer[]'],
    ]);
  });

  it('streams the exact canonical texts', async () => {
    const { columns } = await describePgTable(db.client, 'every_type');
    const rows = await all(streamPg(db.client, 'SELECT * FROM every_type ORDER BY id', columns));
    expect(rows).toEqual(ROWS.map((r) => r.expected));
  });

  it('refuses a json value with a member name twice (the json type keeps it; jsonb keeps one value)', async () => {
    await db.client.query(`CREATE TABLE dup_json (id integer PRIMARY KEY, j json, jb jsonb)`);
    await db.client.query(`INSERT INTO dup_json VALUES (1, '{"a": 1}', '{"a": 1, "a": 2}'), (2, '{"a": [1, 2], "a": 3}', '{}')`);
    const { columns } = await describePgTable(db.client, 'dup_json');
    const jsonbOnly = columns.filter((c) => c.name !== 'j');
    expect(await all(streamPg(db.client, 'SELECT id, jb FROM dup_json ORDER BY id', jsonbOnly))).toEqual([['1', '{"a":2}'], ['2', '{}']]);
    await expect(all(streamPg(db.client, 'SELECT * FROM dup_json ORDER BY id', columns))).rejects.toThrow(/duplicate member name "a" in the object at \$/);
  });

  it('a query: its columns (a domain arrives as its base type), extra fields passed through raw', async () => {
    await db.client.query(`CREATE TABLE receipts (id integer, receipt text, at timestamptz)`);
    await db.client.query(`INSERT INTO receipts VALUES (1, E'r\\\\1\\tx', '2024-01-02 03:04:05+02'), (2, NULL, NULL)`);
    const sql = 'SELECT e.id, e.pc, e.n12 FROM every_type e ORDER BY e.id;';
    const columns = await describePgQuery(db.client, sql);
    expect(columns).toEqual([
      { name: 'id', kind: 'integer', sourceType: 'integer' },
      { name: 'pc', kind: 'text', sourceType: 'character(5)' },
      { name: 'n12', kind: 'decimal', sourceType: 'numeric(12,2)' },
    ]);
    const joined = `SELECT e.id, e.pc, e.n12, r.receipt, r.at, e.c5 FROM every_type e LEFT JOIN receipts r USING (id) ORDER BY e.id`;
    const rows = await all(streamPg(db.client, joined, columns));
    // The described fields are canonical (pc trimmed, numeric without trailing zero); the rest is the server's text.
    expect(rows[0]).toEqual(['1', '12', '1234.5', 'r\\1\tx', '2024-01-02 01:04:05+00', 'ab   ']);
    expect(rows[1]).toEqual(['2', '', '-0.1', null, null, '     ']);
    expect(await describePgQuery(db.client, 'SELECT 1 AS a, 1 AS a -- a comment')).toEqual([
      { name: 'a', kind: 'integer', sourceType: 'integer' },
      { name: 'a', kind: 'integer', sourceType: 'integer' },
    ]);
  });

  it('names: schema.name, quoted identifiers, and a clear error for a missing table', async () => {
    await db.client.query(`CREATE TABLE "Mixed Case" ("Id" int PRIMARY KEY, "Name" text, "Second" int, UNIQUE ("Name"))`);
    await db.client.query(`CREATE TABLE two_key (a text, b int, c int, PRIMARY KEY (b, a))`);
    const d = await describePgTable(db.client, `${db.schema}."Mixed Case"`);
    expect(d.columns.map((c) => c.name)).toEqual(['Id', 'Name', 'Second']);
    expect(d.primaryKey).toEqual(['Id']);
    expect(d.relation).toBe(`${db.schema}."Mixed Case"`);
    expect((await describePgTable(db.client, 'TWO_KEY')).primaryKey).toEqual(['b', 'a']);
    await db.client.query('CREATE VIEW no_key AS SELECT a FROM two_key');
    expect(await describePgTable(db.client, 'no_key')).toMatchObject({ primaryKey: [], columns: [{ name: 'a', kind: 'text' }] });
    await expect(describePgTable(db.client, 'Mixed Case')).rejects.toThrow(/table "Mixed Case" does not exist/);
    await expect(describePgTable(db.client, 'nope.every_type')).rejects.toThrow('table "nope.every_type" does not exist');
    await expect(describePgTable(db.client, 'a.b.c.d')).rejects.toThrow(/table "a\.b\.c\.d" does not exist/);
  });

  it('a value that does not convert names the row and column; the client stays usable', async () => {
    const wrong: ColumnInfo[] = [{ name: 't', kind: 'integer', sourceType: 'pretend integer' }];
    await expect(all(streamPg(db.client, `SELECT t FROM every_type ORDER BY id`, wrong))).rejects.toThrow(
      /^row 1, column "t" \(pretend integer\): not a valid integer value/,
    );
    expect((await db.client.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    await expect(all(streamPg(db.client, 'SELECT nope FROM every_type', wrong))).rejects.toThrow(/column "nope" does not exist/);
    expect((await db.client.query('SELECT 2 AS two')).rows).toEqual([{ two: 2 }]);
    await expect(all(streamPg(db.client, 'SELECT id FROM every_type', [...wrong, ...wrong]))).rejects.toThrow(/1 fields but 2 columns/);
  });
});

describe('PostgreSQL: many rows and long values', () => {
  const big = `${'ab\\\tc\né😀'.repeat(40_000)}\\N`;

  beforeAll(async () => {
    await db.client.query('CREATE TABLE many (id integer PRIMARY KEY, t text, b bytea)');
    await db.client.query(`INSERT INTO many SELECT i, 'row ' || i || E'\\t\\\\' || repeat('é', i % 7), decode(lpad(to_hex(i), 8, '0'), 'hex') FROM generate_series(1, 20000) i`);
    await db.client.query('INSERT INTO many VALUES (0, $1, $2)', [big, Buffer.alloc(300_000, 0x5c)]);
  });

  it('batches of at most batchRows, every row, in order', async () => {
    const { columns } = await describePgTable(db.client, 'many');
    let rows = 0;
    let batches = 0;
    for await (const batch of streamPg(db.client, 'SELECT * FROM many WHERE id > 0 ORDER BY id', columns, { batchRows: 1000 })) {
      expect(batch.length).toBeLessThanOrEqual(1000);
      for (const row of batch) {
        rows++;
        expect(row).toEqual([String(rows), `row ${rows}\t\\${'é'.repeat(rows % 7)}`, rows.toString(16).padStart(8, '0')]);
      }
      batches++;
    }
    expect(rows).toBe(20000);
    expect(batches).toBe(20);
  });

  it('a 480 kB text with escapes and multibyte characters and a 300 kB bytea arrive exactly', async () => {
    const { columns } = await describePgTable(db.client, 'many');
    const [row] = await all(streamPg(db.client, 'SELECT * FROM many WHERE id = 0', columns));
    expect(row![1]).toBe(big);
    expect(row![2]).toBe('5c'.repeat(300_000));
  });

  it('stopping early leaves the client usable', async () => {
    const { columns } = await describePgTable(db.client, 'many');
    for await (const batch of streamPg(db.client, 'SELECT * FROM many ORDER BY id', columns, { batchRows: 10 })) {
      expect(batch).toHaveLength(10);
      break;
    }
    expect((await db.client.query('SELECT count(*)::int AS n FROM many')).rows).toEqual([{ n: 20001 }]);
  });

  it('refuses a batch size that is not a positive integer', async () => {
    await expect(all(streamPg(db.client, 'SELECT 1', [], { batchRows: 0 }))).rejects.toThrow(/batchRows must be a positive integer/);
  });
});

describe('COPY text decoder', () => {
  const columns: ColumnInfo[] = [
    { name: 't', kind: 'text', sourceType: 'text' },
    { name: 'c', kind: 'text', sourceType: 'character(3)' },
    { name: 'n', kind: 'decimal', sourceType: 'numeric' },
  ];
  const input = Buffer.from(
    [
      'a\\tb\\\\c\\nd\\re\\bf\\fg\\vh\tx  \t1.50',
      '\\N\t\\N\t\\N',
      '\\\\N\tab\t-0.0',
      '\\101\\x42\\303\\251\\7\\x7\tq\t1e3', // octal and hex escapes are bytes: A B é BEL BEL
      'é😀\\é\\z\t\\\tz\t5', // a backslash before any other character is that character; \<TAB> is a tab in the data
      'line\\\nbreak\t\t0', // a backslash before a line feed byte: the line feed is data
    ].join('\n') + '\n',
    'utf8',
  );
  const expected: RawRow[] = [
    ['a\tb\\c\nd\re\bf\fg\vh', 'x', '1.5'],
    [null, null, null],
    ['\\N', 'ab', '0'],
    ['ABé\u0007\u0007', 'q', '1000'],
    ['é😀éz', '\tz', '5'],
    ['line\nbreak', '', '0'],
  ];

  function decode(chunks: Uint8Array[]): RawRow[] {
    const out: RawRow[] = [];
    const d = new CopyTextDecoder(columns);
    for (const c of chunks) d.push(c, out);
    d.end();
    return out;
  }

  it('decodes every escape', () => {
    expect(decode([input])).toEqual(expected);
  });

  it('gives the same rows for every split into two chunks, and one byte at a time', () => {
    for (let i = 0; i <= input.length; i++) expect(decode([input.subarray(0, i), input.subarray(i)])).toEqual(expected);
    expect(decode([...input].map((b) => Uint8Array.of(b)))).toEqual(expected);
  });

  it('random rows with every escape, split into random chunks, decode to themselves', () => {
    const text = fc.string({ unit: fc.constantFrom('a', 'é', '😀', '\t', '\n', '\r', '\\', 'N', '\b', '\f', '\v', '\u0001', 'x') });
    /** COPY's text escaping, as PostgreSQL writes it (and \N for NULL). */
    const escape = (v: string | null): string =>
      v === null ? '\\N' : v.replace(/[\\\t\n\r\b\f\v]/g, (c) => `\\${({ '\\': '\\', '\t': 't', '\n': 'n', '\r': 'r', '\b': 'b', '\f': 'f', '\v': 'v' } as Record<string, string>)[c]}`);
    const plain: ColumnInfo[] = [{ name: 'a', kind: 'text', sourceType: 'text' }, { name: 'b', kind: 'other', sourceType: 'x' }];
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.option(text, { nil: null }), fc.option(text, { nil: null }), fc.option(text, { nil: null })), { minLength: 1, maxLength: 20 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        (rows, cuts) => {
          const bytes = Buffer.from(rows.map((r) => r.map(escape).join('\t')).join('\n') + '\n', 'utf8');
          const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((x, y) => x - y);
          const chunks = [0, ...points].map((p, i, all) => bytes.subarray(p, all[i + 1] ?? bytes.length));
          const out: RawRow[] = [];
          const d = new CopyTextDecoder(plain);
          for (const c of chunks) d.push(c, out);
          d.end();
          expect(out).toEqual(rows);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('refuses data that ends inside a row, field counts that change, and invalid UTF-8 from escapes', () => {
    expect(() => decode([Buffer.from('a\tb\t1\nc')])).toThrow('COPY data ends inside row 2');
    expect(() => decode([Buffer.from('a\tb\t1\nc\td\t1\te\n')])).toThrow('COPY row 2 has 4 fields, the first row had 3');
    expect(() => decode([Buffer.from('\\377\tb\t1\n')])).toThrow(/invalid UTF-8/);
    expect(() => decode([Buffer.from('a\tb\tx\n')])).toThrow(/^row 1, column "n" \(numeric\): not a valid decimal value: "x"/);
  });
});
