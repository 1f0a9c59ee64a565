/**
 * PostgreSQL rows for `ledgerseal-row/v1` (docs/rows.md): the session settings
 * that fix the server's text output, table and query descriptions, and rows
 * streamed with `COPY (query) TO STDOUT` in text format through
 * pg-copy-streams. The caller passes a connected pg client; pg itself is only
 * a type here (an optional peer dependency), pg-copy-streams is loaded on first
 * use.
 */
import type { ClientBase } from 'pg';
import type { Readable } from 'node:stream';
import { canonicalValue, type ColumnKind } from '../../row.ts';
import { positiveInt, trimPadding, valueError, type Converter } from './convert.ts';
import type { ColumnInfo, RawRow } from './types.ts';

/** What the functions here use of a pg Client or PoolClient. */
export type PgClient = Pick<ClientBase, 'query'>;

/**
 * The session settings every PostgreSQL reader runs with (docs/rows.md lists
 * why): UTC, ISO dates, shortest exact floats, hex bytea, UTF-8, and the C
 * locale for money.
 */
export const PG_SESSION_SETTINGS = [
  "SET TIME ZONE 'UTC'",
  "SET DateStyle = 'ISO, YMD'",
  "SET IntervalStyle = 'postgres'",
  'SET extra_float_digits = 1',
  "SET bytea_output = 'hex'",
  "SET client_encoding = 'UTF8'",
  "SET lc_monetary = 'C'",
] as const;

export async function preparePgSession(client: PgClient): Promise<void> {
  await client.query(PG_SESSION_SETTINGS.join('; '));
}

/** `"name"` quoted as an SQL identifier. */
export function quotePgIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

const KIND_BY_TYPE: Record<string, ColumnKind> = {
  int2: 'integer',
  int4: 'integer',
  int8: 'integer',
  numeric: 'decimal',
  float4: 'float',
  float8: 'float',
  bool: 'boolean',
  date: 'date',
  time: 'time',
  timestamp: 'timestamp',
  timestamptz: 'timestamptz',
  text: 'text',
  varchar: 'text',
  bpchar: 'text',
  name: 'text',
  char: 'text',
  citext: 'text',
  bytea: 'bytes',
  json: 'json',
  jsonb: 'json',
  uuid: 'uuid',
};

/**
 * Kinds and source types of (type oid, typmod) pairs: a domain is followed to
 * its base type (keeping the domain's own typmod, as in `char(5)` domains), and
 * the sourceType names both, e.g. `postal_code (domain over character(5))`.
 */
async function kindsOf(client: PgClient, types: { oid: number; typmod: number }[]): Promise<{ kind: ColumnKind; sourceType: string }[]> {
  if (types.length === 0) return [];
  const { rows } = await client.query<{ ord: string; declared: string; base: string; typname: string; typtype: string }>(
    `WITH RECURSIVE input AS (
       SELECT * FROM unnest($1::oid[], $2::int4[]) WITH ORDINALITY AS x(oid, typmod, ord)
     ), chain AS (
       SELECT x.ord, t.oid, x.typmod, t.typtype, t.typbasetype, t.typtypmod, 0 AS depth
         FROM input x JOIN pg_type t ON t.oid = x.oid
       UNION ALL
       SELECT c.ord, b.oid, CASE WHEN c.typmod = -1 THEN c.typtypmod ELSE c.typmod END, b.typtype, b.typbasetype, b.typtypmod, c.depth + 1
         FROM chain c JOIN pg_type b ON b.oid = c.typbasetype
        WHERE c.typtype = 'd' AND c.depth < 100
     )
     SELECT c.ord::text AS ord, format_type(x.oid, x.typmod) AS declared, format_type(c.oid, c.typmod) AS base,
            t.typname, t.typtype
       FROM chain c JOIN input x ON x.ord = c.ord JOIN pg_type t ON t.oid = c.oid
      WHERE c.typtype <> 'd'
      ORDER BY c.ord`,
    [types.map((t) => t.oid), types.map((t) => t.typmod)],
  );
  if (rows.length !== types.length) throw new Error('could not resolve the column types (a type was dropped concurrently?)');
  return rows.map((r) => ({
    kind: r.typtype === 'e' ? 'text' : (KIND_BY_TYPE[r.typname] ?? 'other'),
    sourceType: r.declared === r.base ? r.declared : `${r.declared} (domain over ${r.base})`,
  }));
}

export interface PgTableDescription {
  /** Every column of the table, in table order. */
  columns: ColumnInfo[];
  /** The primary key's column names in key order; empty if the table has none. */
  primaryKey: string[];
  /** The table as a schema-qualified SQL name, quoted where SQL needs it, e.g. `public."Parcels"`. */
  relation: string;
}

/**
 * Describe a table, view or materialized view: `name` or `schema.name`, with
 * SQL's rules (unquoted names fold to lower case, `"Quoted"` keeps its case,
 * an unqualified name is looked up in the search_path).
 */
export async function describePgTable(client: PgClient, table: string): Promise<PgTableDescription> {
  let found: { oid: number; relation: string } | undefined;
  try {
    const { rows } = await client.query<{ oid: number; relation: string }>(
      `SELECT c.oid::int8 AS oid, quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS relation
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.oid = to_regclass($1) AND c.relkind IN ('r', 'p', 'v', 'm', 'f')`,
      [table],
    );
    found = rows[0];
  } catch (e) {
    throw new Error(`table ${JSON.stringify(table)} does not exist: ${(e as Error).message}`, { cause: e });
  }
  if (!found) throw new Error(`table ${JSON.stringify(table)} does not exist (or is not a table or view; unquoted names are folded to lower case)`);
  const oid = Number(found.oid);
  const { rows: attrs } = await client.query<{ name: string; oid: number; typmod: number }>(
    `SELECT attname AS name, atttypid::int8 AS oid, atttypmod AS typmod FROM pg_attribute
      WHERE attrelid = $1 AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
    [oid],
  );
  const kinds = await kindsOf(client, attrs.map((a) => ({ oid: Number(a.oid), typmod: a.typmod })));
  const { rows: pk } = await client.query<{ name: string }>(
    `SELECT a.attname AS name
       FROM pg_index i CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
       JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
      WHERE i.indrelid = $1 AND i.indisprimary ORDER BY k.ord`,
    [oid],
  );
  return {
    columns: attrs.map((a, i) => ({ name: a.name, ...kinds[i]! })),
    primaryKey: pk.map((r) => r.name),
    relation: found.relation,
  };
}

/** The query without trailing semicolons and white space, so it can be wrapped. */
function bareSql(sql: string): string {
  return sql.replace(/[\s;]+$/, '');
}

/**
 * The columns of an arbitrary query (SELECT, VALUES, WITH ...), from a zero-row
 * execution (`SELECT * FROM (query) LIMIT 0`) and the result fields' type oids.
 */
export async function describePgQuery(client: PgClient, sql: string): Promise<ColumnInfo[]> {
  const result = await client.query(`SELECT * FROM (\n${bareSql(sql)}\n) AS ledgerseal_query LIMIT 0`);
  const kinds = await kindsOf(client, result.fields.map((f) => ({ oid: f.dataTypeID, typmod: f.dataTypeModifier })));
  return result.fields.map((f, i) => ({ name: f.name, ...kinds[i]! }));
}

/** PostgreSQL's blank-padded character type, declared or under a domain: `character(5)`, `bpchar`. */
const PADDED_CHAR = /(?:^|\(domain over )(?:bpchar|character(?:\(\d+\))?|char(?:\(\d+\))?)\)?$/;

/** The converter of one described column for PostgreSQL's text output. */
export function pgConverter(column: ColumnInfo): Converter {
  const kind = column.kind;
  if (kind === 'text') return PADDED_CHAR.test(column.sourceType) ? trimPadding : null;
  if (kind === 'other') return null;
  return (text) => canonicalValue(kind, text);
}

// ---------------------------------------------------------------- COPY text format

const LF = 10;
const BACKSLASH = 92;
const utf8Fatal = new TextDecoder('utf-8', { fatal: true });

/** The number of backslashes right before index i: odd means the byte at i is escaped. */
function backslashesBefore(buf: Uint8Array, i: number): number {
  let n = 0;
  while (i - n - 1 >= 0 && buf[i - n - 1] === BACKSLASH) n++;
  return n;
}

function octal(c: number): boolean {
  return c >= 48 && c <= 55;
}

function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  const l = c | 0x20;
  return l >= 97 && l <= 102 ? l - 87 : -1;
}

/**
 * Decoder of PostgreSQL's COPY text format (one row per line, fields separated
 * by tabs, `\N` for NULL, backslash escapes \b \f \n \r \t \v \\, \ooo octal and
 * \xHH hex bytes, a backslash before any other character for the character).
 * Chunks may split rows, escapes and UTF-8 sequences anywhere: only complete
 * lines are decoded, and a line ends at a newline byte not escaped by a
 * backslash (a newline byte never occurs inside a UTF-8 sequence). The first
 * columns.length fields of a row go through their converters; further fields
 * are passed through decoded but otherwise as they are.
 */
export class CopyTextDecoder {
  private readonly columns: readonly ColumnInfo[];
  private readonly converters: Converter[];
  private readonly described: number;
  private pending: Uint8Array[] = [];
  private width = -1;
  /** Rows decoded so far, for error messages. */
  rowCount = 0;

  constructor(columns: readonly ColumnInfo[], converters: readonly Converter[] = columns.map(pgConverter)) {
    this.columns = columns;
    this.converters = [...converters];
    this.described = columns.length;
  }

  /** Decode the complete rows this chunk ends, appending them to `out`. */
  push(chunk: Uint8Array, out: RawRow[]): void {
    let nl = chunk.lastIndexOf(LF);
    while (nl >= 0) {
      const run = backslashesBefore(chunk, nl);
      if (run === nl && this.pending.length > 0) {
        // The backslashes before this newline may go on in the previous chunks: count them in the joined bytes.
        const joined = Buffer.concat([...this.pending, chunk]);
        this.pending = [];
        this.push(joined, out);
        return;
      }
      if (run % 2 === 0) break;
      nl = nl === 0 ? -1 : chunk.lastIndexOf(LF, nl - 1);
    }
    if (nl < 0) {
      this.pending.push(chunk);
      return;
    }
    let lines: Uint8Array;
    if (this.pending.length > 0) {
      lines = Buffer.concat([...this.pending, chunk.subarray(0, nl + 1)]);
      this.pending = [];
    } else lines = chunk.subarray(0, nl + 1);
    if (nl + 1 < chunk.length) this.pending.push(chunk.subarray(nl + 1));
    const buf = Buffer.isBuffer(lines) ? lines : Buffer.from(lines.buffer, lines.byteOffset, lines.byteLength);
    this.decodeLines(buf.toString('utf8'), out);
  }

  /** The end of the data: a partial row left over is an error. */
  end(): void {
    if (this.pending.some((p) => p.length > 0)) throw new Error(`COPY data ends inside row ${this.rowCount + 1}`);
  }

  private decodeLines(text: string, out: RawRow[]): void {
    const n = text.length;
    const conv = this.converters;
    const described = this.described;
    let nextTab = -1;
    let nextNl = -1;
    let nextBs = -1;
    let start = 0;
    while (start < n) {
      const row: RawRow = [];
      for (;;) {
        if (nextTab < start) {
          nextTab = text.indexOf('\t', start);
          if (nextTab < 0) nextTab = n;
        }
        if (nextNl < start) {
          nextNl = text.indexOf('\n', start);
          if (nextNl < 0) nextNl = n;
        }
        if (nextBs < start) {
          nextBs = text.indexOf('\\', start);
          if (nextBs < 0) nextBs = n;
        }
        let end = nextTab < nextNl ? nextTab : nextNl;
        let value: string | null;
        if (nextBs < end) {
          if (nextBs === start && end === start + 2 && text.charCodeAt(start + 1) === 78 /* N */) value = null;
          else {
            const field = this.unescape(text, start);
            value = field.value;
            end = field.end;
          }
        } else value = text.slice(start, end);
        const k = row.length;
        if (k < described && value !== null) {
          const f = conv[k];
          if (f !== null && f !== undefined) {
            try {
              value = f(value);
            } catch (e) {
              throw valueError(`row ${this.rowCount + 1}`, this.columns[k]!, e);
            }
          }
        }
        row.push(value);
        start = end + 1;
        if (end >= n || text.charCodeAt(end) === LF) break;
      }
      this.rowCount++;
      if (this.width < 0) {
        if (row.length < described) {
          throw new Error(`COPY row 1 has ${row.length} fields but ${described} columns were described (is the column list the query's?)`);
        }
        this.width = row.length;
      } else if (row.length !== this.width) {
        throw new Error(`COPY row ${this.rowCount} has ${row.length} fields, the first row had ${this.width}`);
      }
      out.push(row);
    }
  }

  /**
   * The slow path of a field with backslashes: decode from `start` to the first
   * tab or newline that is not escaped. Octal and hex escapes are bytes, so a
   * field with any is assembled as bytes and decoded as strict UTF-8.
   */
  private unescape(text: string, start: number): { value: string; end: number } {
    let out = '';
    let bytes: number[] | null = null;
    let seg = start;
    let i = start;
    const n = text.length;
    const emit = (s: string): void => {
      if (bytes === null) out += s;
      else for (const b of Buffer.from(s, 'utf8')) bytes.push(b);
    };
    const emitByte = (b: number): void => {
      if (bytes === null) {
        bytes = [...Buffer.from(out, 'utf8')];
        out = '';
      }
      bytes.push(b & 0xff);
    };
    for (; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c === 9 || c === LF) break;
      if (c !== BACKSLASH) continue;
      emit(text.slice(seg, i));
      const d = text.charCodeAt(++i);
      switch (d) {
        case 98: emit('\b'); break;
        case 102: emit('\f'); break;
        case 110: emit('\n'); break;
        case 114: emit('\r'); break;
        case 116: emit('\t'); break;
        case 118: emit('\v'); break;
        case 120: { // \xH or \xHH
          const h1 = hexDigit(text.charCodeAt(i + 1));
          if (h1 < 0) {
            emit('x');
            break;
          }
          const h2 = hexDigit(text.charCodeAt(i + 2));
          if (h2 < 0) {
            emitByte(h1);
            i += 1;
          } else {
            emitByte(h1 * 16 + h2);
            i += 2;
          }
          break;
        }
        default:
          if (octal(d)) { // \o, \oo or \ooo
            let v = d - 48;
            if (octal(text.charCodeAt(i + 1))) {
              v = v * 8 + text.charCodeAt(++i) - 48;
              if (octal(text.charCodeAt(i + 1))) v = v * 8 + text.charCodeAt(++i) - 48;
            }
            emitByte(v);
          } else if (i < n) emit(text[i]!); // any other character stands for itself (\\ is a backslash)
      }
      seg = i + 1;
    }
    emit(text.slice(seg, i));
    if (bytes === null) return { value: out, end: i };
    let value: string;
    try {
      value = utf8Fatal.decode(Uint8Array.from(bytes));
    } catch (e) {
      throw new Error(`COPY row ${this.rowCount + 1}: an octal or hex escape makes the field invalid UTF-8`, { cause: e });
    }
    return { value, end: i };
  }
}

type CopyTo = typeof import('pg-copy-streams').to;
let copyTo: Promise<CopyTo> | undefined;

function loadCopyTo(): Promise<CopyTo> {
  copyTo ??= import('pg-copy-streams').then((m) => {
    const mod = m as unknown as { to?: CopyTo; default?: { to?: CopyTo } };
    const to = mod.to ?? mod.default?.to;
    if (typeof to !== 'function') throw new Error('pg-copy-streams has no "to" export');
    return to;
  });
  return copyTo;
}

export interface StreamPgOptions {
  /** Rows per yielded batch (default 4096). */
  batchRows?: number;
}

/**
 * The rows of `sql` as batches of RawRow, read with `COPY (sql) TO STDOUT`:
 * the first columns.length fields canonicalized by their column's kind, any
 * further fields passed through as the server's text. Reads no further than
 * the consumer: the connection is paused while a batch is being used. If the
 * consumer stops early (or a value does not convert), the rest of the COPY
 * output is read and discarded in the background so the client stays usable;
 * end the client to stop the server sooner.
 */
export async function* streamPg(client: PgClient, sql: string, columns: readonly ColumnInfo[], opts: StreamPgOptions = {}): AsyncIterable<RawRow[]> {
  const batchRows = positiveInt('batchRows', opts.batchRows, 4096);
  const decoder = new CopyTextDecoder(columns);
  const to = await loadCopyTo();
  const stream: Readable = client.query(to(`COPY (\n${bareSql(sql)}\n) TO STDOUT`));
  let finished = false;
  try {
    let rows: RawRow[] = [];
    for await (const chunk of stream.iterator({ destroyOnReturn: false })) {
      decoder.push(chunk as Buffer, rows);
      if (rows.length >= batchRows) {
        let i = 0;
        for (; i + batchRows <= rows.length; i += batchRows) yield rows.slice(i, i + batchRows);
        rows = rows.slice(i);
      }
    }
    decoder.end();
    if (rows.length > 0) yield rows;
    finished = true;
  } finally {
    if (!finished && !stream.destroyed) {
      stream.on('error', () => {});
      stream.resume();
    }
  }
}
