/**
 * MySQL and MariaDB rows for `ledgerseal-row/v1` (docs/rows.md): session
 * settings, table and query descriptions from result metadata (which carries
 * MariaDB's JSON marker), and rows streamed over the text protocol with every
 * field read as the server's raw bytes (`typeCast: false`): no Date, number or
 * JSON conversion by the driver ever touches a value. Binary strings become
 * lowercase hex, everything else UTF-8 text (the session's character set),
 * then canonicalValue by kind. The caller passes a mysql2 connection
 * (callback or promise API); mysql2 itself is only a type here.
 */
import type { Connection as CallbackConnection, FieldPacket, Query } from 'mysql2';
import type { Connection as PromiseConnection } from 'mysql2/promise';
import type { Readable } from 'node:stream';
import { canonicalValue, type ColumnKind } from '../../row.ts';
import { positiveInt, trimPadding, valueError, type Converter } from './convert.ts';
import type { ColumnInfo, RawRow } from './types.ts';

/**
 * A mysql2 connection (or pool connection) of either API. The promise wrapper
 * keeps its callback connection as `.connection`, which the readers use.
 */
export type MysqlConnection = CallbackConnection | PromiseConnection;

function callbackConnection(conn: MysqlConnection): CallbackConnection {
  const inner = (conn as { connection?: unknown }).connection;
  if (inner !== undefined && inner !== null && typeof (inner as CallbackConnection).query === 'function') return inner as CallbackConnection;
  if (typeof (conn as CallbackConnection).query !== 'function') throw new TypeError('not a mysql2 connection');
  return conn as CallbackConnection;
}

function run<T>(conn: CallbackConnection, sql: string, values: unknown[] = []): Promise<T> {
  return new Promise((resolve, reject) => {
    conn.query(sql, values, (err, rows) => (err ? reject(err) : resolve(rows as T)));
  });
}

/**
 * The session settings every MySQL/MariaDB reader runs with: UTC for
 * TIMESTAMP columns (stored in UTC, shown in the session zone) and utf8mb4
 * results.
 */
export const MYSQL_SESSION_SETTINGS = ["SET time_zone = '+00:00'", 'SET NAMES utf8mb4'] as const;

export async function prepareMysqlSession(conn: MysqlConnection): Promise<void> {
  const c = callbackConnection(conn);
  for (const sql of MYSQL_SESSION_SETTINGS) await run(c, sql);
}

/** `name` quoted as a MySQL identifier. */
export function quoteMysqlIdent(name: string): string {
  return `\`${name.replaceAll('`', '``')}\``;
}

/** `table` or `db.table`, each part plain or in backticks (`` `a``b` ``). */
export function parseMysqlTableName(table: string): { schema?: string; name: string } {
  const parts: string[] = [];
  let i = 0;
  while (i <= table.length) {
    let part = '';
    if (table[i] === '`') {
      i++;
      for (;;) {
        if (i >= table.length) throw new Error(`table name ${JSON.stringify(table)}: unterminated backtick`);
        if (table[i] === '`') {
          if (table[i + 1] === '`') {
            part += '`';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        part += table[i++];
      }
      if (i < table.length && table[i] !== '.') throw new Error(`table name ${JSON.stringify(table)}: expected "." after a quoted name`);
    } else {
      const dot = table.indexOf('.', i);
      const end = dot < 0 ? table.length : dot;
      part = table.slice(i, end);
      i = end;
    }
    if (part === '') throw new Error(`table name ${JSON.stringify(table)}: empty name part`);
    parts.push(part);
    i++; // the dot
  }
  if (parts.length > 2) throw new Error(`table name ${JSON.stringify(table)}: expected table or db.table`);
  return parts.length === 2 ? { schema: parts[0]!, name: parts[1]! } : { name: parts[0]! };
}

// mysql2's protocol type codes (lib/constants/types.js).
const T = {
  DECIMAL: 0x00, TINY: 0x01, SHORT: 0x02, LONG: 0x03, FLOAT: 0x04, DOUBLE: 0x05, NULL: 0x06, TIMESTAMP: 0x07,
  LONGLONG: 0x08, INT24: 0x09, DATE: 0x0a, TIME: 0x0b, DATETIME: 0x0c, YEAR: 0x0d, NEWDATE: 0x0e, VARCHAR: 0x0f,
  BIT: 0x10, TIMESTAMP2: 0x11, DATETIME2: 0x12, TIME2: 0x13, JSON: 0xf5, NEWDECIMAL: 0xf6, ENUM: 0xf7, SET: 0xf8,
  TINY_BLOB: 0xf9, MEDIUM_BLOB: 0xfa, LONG_BLOB: 0xfb, BLOB: 0xfc, VAR_STRING: 0xfd, STRING: 0xfe, GEOMETRY: 0xff,
} as const;
const BINARY_CHARSET = 63;
/** Types whose binary-charset values are bytes, not text (numbers and dates also report charset 63). */
const STRING_TYPES = new Set<number>([T.VARCHAR, T.VAR_STRING, T.STRING, T.TINY_BLOB, T.MEDIUM_BLOB, T.LONG_BLOB, T.BLOB, T.BIT, T.GEOMETRY]);

function fieldType(f: FieldPacket): number {
  return f.columnType ?? f.type ?? -1;
}

/** Whether a result field's values are bytes (written as hex). */
function isBinaryField(f: FieldPacket): boolean {
  return STRING_TYPES.has(fieldType(f)) && (f.characterSet ?? f.charsetNr) === BINARY_CHARSET;
}

/** Kind and a type name of a result field, from its metadata alone. */
function describeField(f: FieldPacket): { kind: ColumnKind; sourceType: string } {
  const t = fieldType(f);
  const binary = isBinaryField(f);
  const frac = f.decimals > 0 && f.decimals <= 6 ? `(${f.decimals})` : '';
  if (f.extendedFormat === 'json') return { kind: 'json', sourceType: 'json' };
  if (f.extendedTypeName === 'uuid') return { kind: 'uuid', sourceType: 'uuid' };
  if (f.extendedTypeName) return { kind: binary ? 'bytes' : 'other', sourceType: f.extendedTypeName };
  switch (t) {
    case T.TINY:
      return f.columnLength === 1 ? { kind: 'boolean', sourceType: 'tinyint(1)' } : { kind: 'integer', sourceType: 'tinyint' };
    case T.SHORT: return { kind: 'integer', sourceType: 'smallint' };
    case T.INT24: return { kind: 'integer', sourceType: 'mediumint' };
    case T.LONG: return { kind: 'integer', sourceType: 'int' };
    case T.LONGLONG: return { kind: 'integer', sourceType: 'bigint' };
    case T.YEAR: return { kind: 'integer', sourceType: 'year' };
    case T.DECIMAL:
    case T.NEWDECIMAL: return { kind: 'decimal', sourceType: 'decimal' };
    case T.FLOAT: return { kind: 'float', sourceType: 'float' };
    case T.DOUBLE: return { kind: 'float', sourceType: 'double' };
    case T.DATE:
    case T.NEWDATE: return { kind: 'date', sourceType: 'date' };
    case T.TIME:
    case T.TIME2: return { kind: 'time', sourceType: `time${frac}` };
    case T.DATETIME:
    case T.DATETIME2: return { kind: 'timestamp', sourceType: `datetime${frac}` };
    case T.TIMESTAMP:
    case T.TIMESTAMP2: return { kind: 'timestamptz', sourceType: `timestamp${frac}` };
    case T.JSON: return { kind: 'json', sourceType: 'json' };
    case T.STRING: return binary ? { kind: 'bytes', sourceType: 'binary' } : { kind: 'text', sourceType: 'char' };
    case T.VARCHAR:
    case T.VAR_STRING: return binary ? { kind: 'bytes', sourceType: 'varbinary' } : { kind: 'text', sourceType: 'varchar' };
    case T.TINY_BLOB:
    case T.MEDIUM_BLOB:
    case T.LONG_BLOB:
    case T.BLOB: return binary ? { kind: 'bytes', sourceType: 'blob' } : { kind: 'text', sourceType: 'text' };
    case T.ENUM: return { kind: 'text', sourceType: 'enum' };
    case T.SET: return { kind: 'text', sourceType: 'set' };
    case T.BIT: return { kind: 'bytes', sourceType: 'bit' };
    case T.NULL: return { kind: 'text', sourceType: 'null' };
    default: return { kind: binary ? 'bytes' : 'other', sourceType: `type ${t}` };
  }
}

/** The result fields of a query, from preparing it (nothing is executed). */
function fieldsOf(conn: CallbackConnection, sql: string): Promise<FieldPacket[]> {
  return new Promise((resolve, reject) => {
    conn.prepare(sql, (err, statement) => {
      if (err) return reject(err);
      const fields = [...((statement as unknown as { columns?: FieldPacket[] }).columns ?? [])];
      conn.unprepare(sql);
      resolve(fields);
    });
  });
}

/** The columns of an arbitrary query, from the metadata of preparing it. */
export async function describeMysqlQuery(conn: MysqlConnection, sql: string): Promise<ColumnInfo[]> {
  const fields = await fieldsOf(callbackConnection(conn), sql);
  return fields.map((f) => ({ name: f.name, ...describeField(f) }));
}

export interface MysqlTableDescription {
  /** Every column of the table, in table order. */
  columns: ColumnInfo[];
  /** The primary key's column names in key order; empty if the table has none. */
  primaryKey: string[];
  /** The table as a quoted SQL name, `` `db`.`table` ``. */
  relation: string;
}

/**
 * Describe a table or view: `table` (in the connection's database) or
 * `db.table`, backticks allowed. sourceType is information_schema's
 * COLUMN_TYPE (`tinyint(1)`, `decimal(12,2)`, `bigint(20) unsigned`), or
 * `json` for MariaDB's JSON (a LONGTEXT the result metadata marks as JSON).
 */
export async function describeMysqlTable(conn: MysqlConnection, table: string): Promise<MysqlTableDescription> {
  const c = callbackConnection(conn);
  const parsed = parseMysqlTableName(table);
  let schema = parsed.schema;
  if (schema === undefined) {
    const [row] = await run<{ db: string | null }[]>(c, 'SELECT DATABASE() AS db');
    schema = row?.db ?? undefined;
    if (schema === undefined) throw new Error(`table ${JSON.stringify(table)}: no database selected; write it as db.table`);
  }
  const columns = await run<{ name: string; columnType: string; dataType: string }[]>(
    c,
    `SELECT COLUMN_NAME AS name, COLUMN_TYPE AS columnType, DATA_TYPE AS dataType FROM information_schema.COLUMNS
      WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`,
    [schema, parsed.name],
  );
  if (columns.length === 0) throw new Error(`table ${JSON.stringify(table)} does not exist (in database ${JSON.stringify(schema)})`);
  const relation = `${quoteMysqlIdent(schema)}.${quoteMysqlIdent(parsed.name)}`;
  const fields = await fieldsOf(c, `SELECT * FROM ${relation}`);
  if (fields.length !== columns.length) throw new Error(`table ${relation} changed while it was being described`);
  const pk = await run<{ name: string }[]>(
    c,
    `SELECT COLUMN_NAME AS name FROM information_schema.KEY_COLUMN_USAGE
      WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND CONSTRAINT_NAME = 'PRIMARY' ORDER BY ORDINAL_POSITION`,
    [schema, parsed.name],
  );
  return {
    columns: columns.map((col, i) => {
      const { kind } = describeField(fields[i]!);
      const declared = String(col.columnType).toLowerCase();
      return { name: col.name, kind, sourceType: kind === 'json' && declared !== 'json' ? 'json' : declared };
    }),
    primaryKey: pk.map((r) => r.name),
    relation,
  };
}

/** The converter of one described column for MySQL/MariaDB text (binary values arrive as hex already). */
export function mysqlConverter(column: ColumnInfo): Converter {
  const { kind, sourceType } = column;
  if (kind === 'text') return /^char\b/i.test(sourceType) ? trimPadding : null;
  if (kind === 'other') return null;
  if (kind === 'bytes') return (hex) => canonicalValue('bytes', hex);
  if (kind === 'boolean' && /^tinyint/i.test(sourceType)) {
    // TINYINT(1) holds any TINYINT: 0 and 1 are the booleans, anything else stays a number.
    return (text) => (text === '0' ? 'false' : text === '1' ? 'true' : canonicalValue('integer', text));
  }
  if (kind === 'timestamptz' && /^timestamp/i.test(sourceType)) {
    // TIMESTAMP is stored in UTC and shown in the session zone, which prepareMysqlSession sets to +00:00.
    return (text) => canonicalValue('timestamptz', `${text}Z`);
  }
  return (text) => canonicalValue(kind, text);
}

export interface StreamMysqlOptions {
  /** Rows per yielded batch (default 4096). */
  batchRows?: number;
}

/**
 * The rows of `sql` as batches of RawRow: the first columns.length fields
 * canonicalized by their column's kind, any further fields passed through as
 * the server's text (hex for binary strings). Streams with backpressure: the
 * connection is paused while the consumer holds a batch; stopping early lets
 * mysql2 read and discard the rest, so the connection stays usable.
 */
export async function* streamMysql(conn: MysqlConnection, sql: string, columns: readonly ColumnInfo[], opts: StreamMysqlOptions = {}): AsyncIterable<RawRow[]> {
  const batchRows = positiveInt('batchRows', opts.batchRows, 4096);
  const converters = columns.map(mysqlConverter);
  const described = columns.length;
  const c = callbackConnection(conn);
  const query: Query = c.query({ sql, rowsAsArray: true, typeCast: false });
  let hex: boolean[] | undefined;
  query.on('fields', (fields: FieldPacket[]) => {
    hex = fields.map(isBinaryField);
  });
  const stream: Readable = query.stream({ highWaterMark: Math.min(batchRows, 1024) });
  let batch: RawRow[] = [];
  let rowNumber = 0;
  for await (const raw of stream) {
    const values = raw as (Buffer | null)[];
    rowNumber++;
    if (hex === undefined) throw new Error('mysql2 sent rows before the field list');
    if (values.length < described) throw new Error(`the query returns ${values.length} fields but ${described} columns were described`);
    const row: RawRow = new Array(values.length);
    for (let k = 0; k < values.length; k++) {
      const b = values[k];
      if (b === null || b === undefined) {
        row[k] = null;
        continue;
      }
      let v = hex[k] ? b.toString('hex') : b.toString('utf8');
      if (k < described) {
        const f = converters[k];
        if (f !== null && f !== undefined) {
          try {
            v = f(v);
          } catch (e) {
            throw valueError(`row ${rowNumber}`, columns[k]!, e);
          }
        }
      }
      row[k] = v;
    }
    batch.push(row);
    if (batch.length === batchRows) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}
