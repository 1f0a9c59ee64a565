/**
 * Receipts in PostgreSQL, beside the source table: schema `ledgerseal` (or
 * --receipts-schema) of the same database, tables `<dataset>_rows`,
 * `<dataset>_history`, `<dataset>_chunks`, `<dataset>_batches` and one
 * `datasets` table. The key columns keep the source's types, so the database
 * joins the table with its receipts itself (FULL JOIN on the key) and the CLI
 * streams the result once, whatever the table's size.
 *
 * Two connections: one streams (COPY ... TO STDOUT), one writes (transactions,
 * COPY ... FROM STDIN). A session advisory lock on the writer keeps two runs off
 * one dataset.
 */
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Client } from 'pg';
import { CliError, EXIT, errorText, sourceError } from '../errors.ts';
import { describePgQuery, describePgTable, preparePgSession, streamPg } from '../sources/postgres.ts';
import type { ColumnInfo } from '../sources/types.ts';
import { checkSameShape, copyField, redactUrl, resolveSqlSource } from './sql.ts';
import { CHUNK_ROWS, type BatchInfo, type ChunkInfo, type DatasetInfo, type ReceiptStore, type ReceiptRow, type RowReceipt, type ScanRow, type SealedChunk } from './store.ts';

export interface PgSourceOptions {
  url: string;
  table?: string;
  query?: string;
  key: string[];
  columns?: string[];
  dataset?: string;
  receiptsSchema?: string;
}

const q = (id: string): string => `"${id.replace(/"/g, '""')}"`;

function tableRef(table: string): string {
  // "schema.name" or "name"; already-quoted parts are kept.
  return table.split('.').map((p) => (p.startsWith('"') ? p : q(p))).join('.');
}

/** Canonical key text (ledgerseal-row/v1) to the text PostgreSQL parses for the column's type. */
function pgInput(kind: ColumnInfo['kind'], text: string): string {
  return kind === 'bytes' ? `\\x${text}` : text;
}

async function connect(url: string): Promise<Client> {
  let pg: typeof import('pg');
  try {
    pg = (await import('pg')).default as unknown as typeof import('pg');
  } catch {
    throw new CliError(EXIT.usage, 'reading PostgreSQL needs the "pg" package: npm install pg');
  }
  const client = new pg.Client({ connectionString: url, application_name: 'ledgerseal-cli' });
  try {
    await client.connect();
  } catch (e) {
    sourceError(`cannot connect to PostgreSQL at ${redactUrl(url)}: ${errorText(e)}`, e);
  }
  client.on('error', () => {}); // surfaced by the query in flight
  return client;
}

export async function openPostgres(opts: PgSourceOptions): Promise<ReceiptStore> {
  if ((opts.table === undefined) === (opts.query === undefined)) {
    throw new CliError(EXIT.usage, 'a PostgreSQL source needs --table <name> or --query <select>');
  }
  const reader = await connect(opts.url);
  const writer = await connect(opts.url);
  try {
    return await PgReceipts.open(reader, writer, opts);
  } catch (e) {
    await Promise.allSettled([reader.end(), writer.end()]);
    throw e;
  }
}

class PgReceipts implements ReceiptStore {
  readonly dataset: DatasetInfo;
  readonly #reader: Client;
  readonly #writer: Client;
  readonly #from: string;
  readonly #table: string | undefined;
  readonly #key: ColumnInfo[];
  readonly #t: { rows: string; history: string; chunks: string; batches: string; seqIndex: string };

  private constructor(reader: Client, writer: Client, dataset: DatasetInfo, from: string, table: string | undefined, key: ColumnInfo[], schema: string) {
    this.#reader = reader;
    this.#writer = writer;
    this.dataset = dataset;
    this.#from = from;
    this.#table = table;
    this.#key = key;
    const t = (suffix: string): string => `${q(schema)}.${q(`${dataset.name}_${suffix}`)}`;
    this.#t = { rows: t('rows'), history: t('history'), chunks: t('chunks'), batches: t('batches'), seqIndex: t('rows_seq') };
  }

  static async open(reader: Client, writer: Client, opts: PgSourceOptions): Promise<PgReceipts> {
    await preparePgSession(reader);
    await preparePgSession(writer);
    await reader.query("SET work_mem = '256MB'");
    const { from, what, sel, name, keyIsPk } = await resolveSqlSource(opts, {
      describeTable: (t) => describePgTable(reader, t),
      describeQuery: (sql) => describePgQuery(reader, sql),
      tableRef,
    });
    const schema = opts.receiptsSchema ?? 'ledgerseal';

    // One run per dataset at a time.
    const lock = await writer.query('SELECT pg_try_advisory_lock(hashtext($1)) AS ok', [`ledgerseal:${schema}:${name}`]);
    if (!lock.rows[0].ok) throw new CliError(EXIT.receipts, `another ledgerseal run is working on dataset "${name}"; wait for it to finish`);

    await writer.query(`CREATE SCHEMA IF NOT EXISTS ${q(schema)}`);
    await writer.query(`CREATE TABLE IF NOT EXISTS ${q(schema)}.datasets (name text PRIMARY KEY, id text NOT NULL, source text NOT NULL,
      columns jsonb NOT NULL, key jsonb NOT NULL, created_at timestamptz NOT NULL DEFAULT now())`);
    const found = await writer.query('SELECT id, columns, key FROM ' + `${q(schema)}.datasets WHERE name = $1`, [name]);
    let id: string;
    const source = `${redactUrl(opts.url)} ${opts.table !== undefined ? `table ${opts.table}` : 'query'}`;
    const keyDdl = sel.key.map((c) => `${q(c.name)} ${c.sourceType} NOT NULL`).join(', ');
    const keyList = sel.key.map((c) => q(c.name)).join(', ');
    const t = (suffix: string): string => `${q(schema)}.${q(`${name}_${suffix}`)}`;
    if (found.rowCount) {
      id = found.rows[0].id;
      checkSameShape(name, { id, columns: found.rows[0].columns, key: found.rows[0].key }, sel);
    } else {
      id = randomUUID();
      await writer.query('BEGIN');
      await writer.query(`CREATE TABLE ${t('rows')} (${keyDdl}, ls_version integer NOT NULL, ls_digest bytea NOT NULL, ls_seq bigint NOT NULL, PRIMARY KEY (${keyList}))`);
      // seq only grows as rows are added, so a BRIN index finds a chunk's rows in a few pages for almost no bytes per row.
      await writer.query(`CREATE INDEX ${q(`${name}_rows_seq`)} ON ${t('rows')} USING brin (ls_seq) WITH (pages_per_range = 16)`);
      await writer.query(`CREATE TABLE ${t('history')} (${keyDdl}, ls_version integer NOT NULL, ls_digest bytea NOT NULL, ls_seq bigint NOT NULL, PRIMARY KEY (${keyList}, ls_version))`);
      await writer.query(`CREATE UNIQUE INDEX ON ${t('history')} (ls_seq)`);
      await writer.query(`CREATE TABLE ${t('chunks')} (id bigint PRIMARY KEY, size integer NOT NULL, root bytea NOT NULL, group_key text, batch_id text, batch_index integer)`);
      await writer.query(`CREATE TABLE ${t('batches')} (id text PRIMARY KEY, group_key text NOT NULL UNIQUE, size integer NOT NULL, root bytea NOT NULL, proof text)`);
      await writer.query(`INSERT INTO ${q(schema)}.datasets (name, id, source, columns, key) VALUES ($1, $2, $3, $4, $5)`,
        [name, id, source, JSON.stringify(sel.columns.map((c) => c.name)), JSON.stringify(sel.key.map((c) => c.name))]);
      await writer.query('COMMIT');
    }

    // A key that is not the table's primary key must still name one row, never NULL.
    if (!keyIsPk) {
      const nulls = await reader.query(`SELECT 1 FROM ${from} WHERE ${sel.key.map((c) => `${q(c.name)} IS NULL`).join(' OR ')} LIMIT 1`);
      if (nulls.rowCount) sourceError(`a row of ${what} has NULL in the key (${sel.key.map((c) => c.name).join(', ')}); a key must name one row`);
      const dup = await reader.query(`SELECT ${keyList} FROM ${from} GROUP BY ${keyList} HAVING count(*) > 1 LIMIT 1`);
      if (dup.rowCount) {
        sourceError(`duplicate key in ${what}: (${sel.key.map((c) => `${c.name}=${String(dup.rows[0][c.name])}`).join(', ')}) names more than one row; choose a --key that is unique`);
      }
    }
    const dataset: DatasetInfo = { name, id, columns: sel.columns, key: sel.key.map((c) => c.name), location: `PostgreSQL ${redactUrl(opts.url)} schema ${schema}, tables ${name}_*`, source };
    return new PgReceipts(reader, writer, dataset, from, opts.table, sel.key, schema);
  }

  async estimate(): Promise<{ total: number; unit: 'rows' } | null> {
    if (this.#table === undefined) return null;
    const r = await this.#reader.query('SELECT reltuples::bigint AS n FROM pg_class WHERE oid = $1::regclass', [tableRef(this.#table)]);
    const n = Number(r.rows[0]?.n ?? -1);
    if (n >= 0) return { total: n, unit: 'rows' };
    const c = await this.#reader.query(`SELECT count(*) AS n FROM ${this.#from}`);
    return { total: Number(c.rows[0].n), unit: 'rows' };
  }

  position(rowsSeen: number): number {
    return rowsSeen;
  }

  async *scan(): AsyncIterable<ScanRow[]> {
    const cols = this.dataset.columns;
    const k = this.#key;
    const nk = k.length;
    const nc = cols.length;
    const empty = (await this.#reader.query(`SELECT NOT EXISTS (SELECT 1 FROM ${this.#t.rows}) AS empty`)).rows[0].empty as boolean;
    const inner = `SELECT ${cols.map((c) => q(c.name)).join(', ')}, true AS ledgerseal_present FROM ${this.#from}`;
    // Fields: the values (canonicalized), the key (canonicalized; from the receipt when the row is gone), then raw:
    // present, version, digest, seq.
    const sql = empty
      ? `SELECT ${cols.map((c) => q(c.name)).join(', ')}, ${k.map((c) => q(c.name)).join(', ')}, true, NULL, NULL, NULL FROM ${this.#from}`
      : `SELECT ${cols.map((c) => `s.${q(c.name)}`).join(', ')}, ${k.map((c) => `COALESCE(s.${q(c.name)}, r.${q(c.name)})`).join(', ')},
           s.ledgerseal_present, r.ls_version, r.ls_digest, r.ls_seq
         FROM (${inner}) s FULL JOIN ${this.#t.rows} r ON ${k.map((c) => `s.${q(c.name)} = r.${q(c.name)}`).join(' AND ')}`;
    for await (const batch of streamPg(this.#reader, sql, [...cols, ...k])) {
      const out: ScanRow[] = new Array(batch.length);
      for (let i = 0; i < batch.length; i++) {
        const f = batch[i]!;
        const key: string[] = new Array(nk);
        for (let j = 0; j < nk; j++) key[j] = f[nc + j]!;
        const present = f[nc + nk] !== null;
        const version = f[nc + nk + 1];
        const known = version !== null && version !== undefined;
        const digest = known ? f[nc + nk + 2]!.slice(2) : null; // bytea text: \x + hex
        const seq = known ? Number(f[nc + nk + 3]) : -1;
        f.length = nc;
        out[i] = { key, values: present ? f : null, version: known ? Number(version) : -1, digest, seq };
      }
      yield out;
    }
  }

  #keyWhere(key: string[], alias = ''): string {
    if (key.length !== this.#key.length) throw new CliError(EXIT.usage, `the key has ${this.#key.length} columns (${this.dataset.key.join(', ')}); ${key.length} values given`);
    return this.#key.map((c, i) => `${alias}${q(c.name)} = ${this.#writer.escapeLiteral(pgInput(c.kind, key[i]!))}::${c.sourceType}`).join(' AND ');
  }

  async sourceRow(key: string[]): Promise<(string | null)[] | null> {
    const sql = `SELECT ${this.dataset.columns.map((c) => q(c.name)).join(', ')} FROM ${this.#from} WHERE ${this.#keyWhere(key)}`;
    for await (const batch of streamPg(this.#reader, sql, this.dataset.columns)) if (batch.length > 0) return batch[0]!;
    return null;
  }

  async nextChunkId(): Promise<number> {
    const r = await this.#writer.query(`SELECT coalesce(max(id) + 1, 0) AS n FROM ${this.#t.chunks}`);
    return Number(r.rows[0].n);
  }

  async writeChunks(chunks: SealedChunk[]): Promise<void> {
    const w = this.#writer;
    const { from: copyFrom } = (await import('pg-copy-streams')).default;
    await w.query('BEGIN');
    try {
      const replaced = chunks.flatMap((c) => c.rows.filter((r) => r.replaces));
      if (replaced.length > 0) {
        const arrays = this.#key.map((c, i) => replaced.map((r) => pgInput(c.kind, r.key[i]!)));
        const sub = `SELECT ${this.#key.map((c, i) => `unnest($${i + 1}::text[])::${c.sourceType}`).join(', ')}`;
        const tuple = `(${this.#key.map((c) => q(c.name)).join(', ')})`;
        await w.query(`INSERT INTO ${this.#t.history} SELECT * FROM ${this.#t.rows} WHERE ${tuple} IN (${sub})`, arrays);
        await w.query(`DELETE FROM ${this.#t.rows} WHERE ${tuple} IN (${sub})`, arrays);
      }
      const lines: string[] = [];
      for (const c of chunks) {
        for (const r of c.rows) {
          lines.push(`${r.key.map((v, i) => copyField(pgInput(this.#key[i]!.kind, v))).join('\t')}\t${r.version}\t\\\\x${r.digest}\t${r.seq}\n`);
        }
      }
      const cols = [...this.#key.map((c) => q(c.name)), 'ls_version', 'ls_digest', 'ls_seq'].join(', ');
      const stream = w.query(copyFrom(`COPY ${this.#t.rows} (${cols}) FROM STDIN`));
      await pipeline(Readable.from(chunkStrings(lines)), stream);
      await w.query(`INSERT INTO ${this.#t.chunks} (id, size, root) SELECT * FROM unnest($1::bigint[], $2::integer[], $3::bytea[])`,
        [chunks.map((c) => c.id), chunks.map((c) => c.size), chunks.map((c) => Buffer.from(c.root))]);
      await w.query('COMMIT');
      // BRIN ranges are summarized only on request (or by VACUUM): without it, finding a chunk's rows would read the whole table.
      await w.query('SELECT brin_summarize_new_values($1::regclass)', [this.#t.seqIndex]);
    } catch (e) {
      await w.query('ROLLBACK').catch(() => {});
      throw e;
    }
  }

  async chunks(filter: 'unsubmitted' | 'all'): Promise<ChunkInfo[]> {
    const r = await this.#writer.query(`SELECT id, size, root, group_key, batch_id, batch_index FROM ${this.#t.chunks}${filter === 'unsubmitted' ? ' WHERE batch_id IS NULL' : ''} ORDER BY id`);
    return r.rows.map((x) => ({ id: Number(x.id), size: x.size, root: new Uint8Array(x.root), groupKey: x.group_key, batchId: x.batch_id, batchIndex: x.batch_index }));
  }

  async assignGroup(chunkIds: number[], groupKey: string): Promise<void> {
    await this.#writer.query(`UPDATE ${this.#t.chunks} SET group_key = $1 WHERE id = ANY($2::bigint[])`, [groupKey, chunkIds]);
  }

  async recordBatch(groupKey: string, batchId: string, chunkIds: number[], root: Uint8Array): Promise<void> {
    const w = this.#writer;
    await w.query('BEGIN');
    try {
      await w.query(`INSERT INTO ${this.#t.batches} (id, group_key, size, root) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING`,
        [batchId, groupKey, chunkIds.length, Buffer.from(root)]);
      await w.query(`UPDATE ${this.#t.chunks} c SET batch_id = $1, batch_index = u.ord - 1 FROM unnest($2::bigint[]) WITH ORDINALITY AS u(id, ord) WHERE c.id = u.id`,
        [batchId, chunkIds]);
      await w.query('COMMIT');
    } catch (e) {
      await w.query('ROLLBACK').catch(() => {});
      throw e;
    }
  }

  async batches(): Promise<BatchInfo[]> {
    const r = await this.#writer.query(`SELECT id, group_key, size, root, proof FROM ${this.#t.batches} ORDER BY id`);
    return r.rows.map((x) => ({ id: x.id, groupKey: x.group_key, size: x.size, root: new Uint8Array(x.root), proof: x.proof }));
  }

  async saveBatchProof(batchId: string, proof: string): Promise<void> {
    await this.#writer.query(`UPDATE ${this.#t.batches} SET proof = $2 WHERE id = $1`, [batchId, proof]);
  }

  async receipt(key: string[], version?: number): Promise<RowReceipt | null> {
    const where = this.#keyWhere(key);
    const r = await this.#writer.query(version === undefined
      ? `SELECT ls_version, ls_digest, ls_seq FROM ${this.#t.rows} WHERE ${where}`
      : `SELECT ls_version, ls_digest, ls_seq FROM ${this.#t.rows} WHERE ${where} AND ls_version = $1
         UNION ALL SELECT ls_version, ls_digest, ls_seq FROM ${this.#t.history} WHERE ${where} AND ls_version = $1`, version === undefined ? [] : [version]);
    if (!r.rowCount) return null;
    return { version: r.rows[0].ls_version, digest: (r.rows[0].ls_digest as Buffer).toString('hex'), seq: Number(r.rows[0].ls_seq) };
  }

  async #receiptRows(where: string): Promise<ReceiptRow[]> {
    const k = this.#key.map((c) => q(c.name)).join(', ');
    const sql = `SELECT ${k}, ls_version, ls_digest, ls_seq FROM ${this.#t.rows}${where} UNION ALL SELECT ${k}, ls_version, ls_digest, ls_seq FROM ${this.#t.history}${where} ORDER BY ls_seq`;
    const out: ReceiptRow[] = [];
    const n = this.#key.length;
    for await (const batch of streamPg(this.#writer, sql, this.#key)) {
      for (const f of batch) out.push({ key: f.slice(0, n) as string[], version: Number(f[n]), digest: f[n + 1]!.slice(2), seq: Number(f[n + 2]) });
    }
    return out;
  }

  chunkRows(chunkId: number): Promise<ReceiptRow[]> {
    return this.#receiptRows(` WHERE ls_seq >= ${chunkId * CHUNK_ROWS} AND ls_seq < ${(chunkId + 1) * CHUNK_ROWS}`);
  }

  async *history(): AsyncIterable<ReceiptRow[]> {
    const k = this.#key.map((c) => q(c.name)).join(', ');
    const n = this.#key.length;
    for await (const batch of streamPg(this.#writer, `SELECT ${k}, ls_version, ls_digest, ls_seq FROM ${this.#t.history}`, this.#key)) {
      yield batch.map((f) => ({ key: f.slice(0, n) as string[], version: Number(f[n]), digest: f[n + 1]!.slice(2), seq: Number(f[n + 2]) }));
    }
  }

  async analyze(): Promise<void> {
    // A table the planner has no statistics for is read whole even for one chunk's 1,024 rows (milliseconds after ANALYZE).
    await this.#writer.query(`ANALYZE ${this.#t.rows}, ${this.#t.history}, ${this.#t.chunks}`);
  }

  async size(): Promise<number> {
    const t = this.#t;
    const r = await this.#writer.query(`SELECT pg_total_relation_size('${t.rows.replace(/'/g, "''")}') + pg_total_relation_size('${t.history.replace(/'/g, "''")}')
      + pg_total_relation_size('${t.chunks.replace(/'/g, "''")}') + pg_total_relation_size('${t.batches.replace(/'/g, "''")}') AS n`);
    return Number(r.rows[0].n);
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.#reader.end(), this.#writer.end()]);
  }
}

/** COPY input in pieces of about 1 MiB. */
function* chunkStrings(lines: string[]): Generator<string> {
  let buf: string[] = [];
  let len = 0;
  for (const l of lines) {
    buf.push(l);
    len += l.length;
    if (len >= 1 << 20) {
      yield buf.join('');
      buf = [];
      len = 0;
    }
  }
  if (buf.length) yield buf.join('');
}
