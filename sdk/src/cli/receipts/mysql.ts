/**
 * Receipts in MySQL/MariaDB, beside the source table: database `<db>_ledgerseal`
 * (or --receipts <database>) on the same server, tables `<dataset>_rows`,
 * `<dataset>_history`, `<dataset>_chunks`, `<dataset>_batches` and `datasets`.
 * The key columns are created from the source itself (CREATE TABLE ... SELECT
 * ... LIMIT 0), so they keep its types and collations, and the server joins the
 * table with its receipts (LEFT JOIN, plus the receipts whose row is gone).
 *
 * Two connections: one streams, one writes. GET_LOCK keeps two runs off one dataset.
 */
import { randomUUID } from 'node:crypto';
import type { Connection } from 'mysql2';
import { CliError, EXIT, errorText, sourceError } from '../errors.ts';
import { describeMysqlQuery, describeMysqlTable, prepareMysqlSession, streamMysql } from '../sources/mysql.ts';
import type { ColumnInfo } from '../sources/types.ts';
import { checkSameShape, redactUrl, resolveSqlSource } from './sql.ts';
import { CHUNK_ROWS, type BatchInfo, type ChunkInfo, type DatasetInfo, type ReceiptStore, type ReceiptRow, type RowReceipt, type ScanRow, type SealedChunk } from './store.ts';

export interface MysqlSourceOptions {
  url: string;
  table?: string;
  query?: string;
  key: string[];
  columns?: string[];
  dataset?: string;
  receiptsDatabase?: string;
}

const q = (id: string): string => `\`${id.replace(/`/g, '``')}\``;

function tableRef(table: string): string {
  return table.split('.').map((p) => (p.startsWith('`') ? p : q(p))).join('.');
}

/** Canonical key text (ledgerseal-row/v1) to a placeholder and the value MySQL parses for the column. */
function mysqlInput(kind: ColumnInfo['kind'], text: string): { sql: string; value: string } {
  switch (kind) {
    case 'bytes':
      return { sql: 'UNHEX(?)', value: text };
    case 'boolean':
      return { sql: '?', value: text === 'true' ? '1' : text === 'false' ? '0' : text };
    case 'timestamp':
      return { sql: '?', value: text.replace('T', ' ') };
    case 'timestamptz':
      return { sql: '?', value: text.replace('T', ' ').replace(/Z$/, '') };
    default:
      return { sql: '?', value: text };
  }
}

type Rows = Record<string, unknown>[];

async function connect(url: string): Promise<Connection> {
  let mysql: typeof import('mysql2');
  try {
    mysql = (await import('mysql2')).default as unknown as typeof import('mysql2');
  } catch {
    throw new CliError(EXIT.usage, 'reading MySQL/MariaDB needs the "mysql2" package: npm install mysql2');
  }
  const conn = mysql.createConnection({ uri: url, supportBigNumbers: true, bigNumberStrings: true, dateStrings: true, multipleStatements: false });
  conn.on('error', () => {});
  try {
    await conn.promise().connect();
  } catch (e) {
    sourceError(`cannot connect to MySQL/MariaDB at ${redactUrl(url)}: ${errorText(e)}`, e);
  }
  return conn;
}

export async function openMysql(opts: MysqlSourceOptions): Promise<ReceiptStore> {
  if ((opts.table === undefined) === (opts.query === undefined)) {
    throw new CliError(EXIT.usage, 'a MySQL source needs --table <name> or --query <select>');
  }
  const reader = await connect(opts.url);
  const writer = await connect(opts.url);
  try {
    return await MysqlReceipts.open(reader, writer, opts);
  } catch (e) {
    reader.destroy();
    writer.destroy();
    throw e;
  }
}

class MysqlReceipts implements ReceiptStore {
  readonly dataset: DatasetInfo;
  readonly #reader: Connection;
  readonly #writer: Connection;
  readonly #from: string;
  readonly #table: string | undefined;
  readonly #key: ColumnInfo[];
  readonly #t: { rows: string; history: string; chunks: string; batches: string };
  readonly #db: string;

  private constructor(reader: Connection, writer: Connection, dataset: DatasetInfo, from: string, table: string | undefined, key: ColumnInfo[], db: string) {
    this.#reader = reader;
    this.#writer = writer;
    this.dataset = dataset;
    this.#from = from;
    this.#table = table;
    this.#key = key;
    this.#db = db;
    const t = (suffix: string): string => `${q(db)}.${q(`${dataset.name}_${suffix}`)}`;
    this.#t = { rows: t('rows'), history: t('history'), chunks: t('chunks'), batches: t('batches') };
  }

  #w(sql: string, params: unknown[] = []): Promise<Rows> {
    return this.#writer.promise().query(sql, params).then(([rows]) => rows as Rows);
  }

  static async open(reader: Connection, writer: Connection, opts: MysqlSourceOptions): Promise<MysqlReceipts> {
    await prepareMysqlSession(reader);
    await prepareMysqlSession(writer);
    const w = (sql: string, params: unknown[] = []): Promise<Rows> => writer.promise().query(sql, params).then(([rows]) => rows as Rows);
    const currentDb = String((await w('SELECT DATABASE() AS db'))[0]?.db ?? '');
    const { from, what, sel, name, keyIsPk } = await resolveSqlSource(opts, {
      describeTable: (t) => describeMysqlTable(reader, t),
      describeQuery: (sql) => describeMysqlQuery(reader, sql),
      tableRef,
    });
    if (!currentDb && opts.receiptsDatabase === undefined) throw new CliError(EXIT.usage, 'the MySQL URL names no database; add /<database> or give --receipts <database>');
    const db = opts.receiptsDatabase ?? `${currentDb}_ledgerseal`;

    const lock = await w('SELECT GET_LOCK(?, 0) AS ok', [`ledgerseal:${db}:${name}`]);
    if (Number(lock[0]?.ok) !== 1) throw new CliError(EXIT.receipts, `another ledgerseal run is working on dataset "${name}"; wait for it to finish`);

    await w(`CREATE DATABASE IF NOT EXISTS ${q(db)} CHARACTER SET utf8mb4`);
    await w(`CREATE TABLE IF NOT EXISTS ${q(db)}.datasets (name VARCHAR(64) PRIMARY KEY, id CHAR(36) NOT NULL, source TEXT NOT NULL,
      columns_json TEXT NOT NULL, key_json TEXT NOT NULL, created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)`);
    const found = await w(`SELECT id, columns_json, key_json FROM ${q(db)}.datasets WHERE name = ?`, [name]);
    const source = `${redactUrl(opts.url)} ${opts.table !== undefined ? `table ${opts.table}` : 'query'}`;
    const keyList = sel.key.map((c) => q(c.name)).join(', ');
    const t = (suffix: string): string => `${q(db)}.${q(`${name}_${suffix}`)}`;
    let id: string;
    if (found.length) {
      id = String(found[0]!.id);
      checkSameShape(name, { id, columns: JSON.parse(String(found[0]!.columns_json)), key: JSON.parse(String(found[0]!.key_json)) }, sel);
    } else {
      id = randomUUID();
      // DDL commits implicitly: without the datasets row nothing was anchored, so leftovers of a run killed here are dropped.
      for (const s of ['rows', 'history', 'chunks', 'batches']) await w(`DROP TABLE IF EXISTS ${t(s)}`);
      for (const s of ['rows', 'history']) {
        await w(`CREATE TABLE ${t(s)} ENGINE=InnoDB AS SELECT ${keyList} FROM ${from} LIMIT 0`);
        await w(`ALTER TABLE ${t(s)} ${sel.key.map((c) => `MODIFY ${q(c.name)} ${c.sourceType} NOT NULL`).join(', ')},
          ADD COLUMN ls_version INT NOT NULL, ADD COLUMN ls_digest BINARY(32) NOT NULL, ADD COLUMN ls_seq BIGINT NOT NULL,
          ADD PRIMARY KEY (${keyList}${s === 'history' ? ', ls_version' : ''}), ADD UNIQUE KEY (ls_seq)`).catch(async () => {
          // MODIFY with the described type failed (an unusual type name): keep the copied type, add the rest.
          await w(`ALTER TABLE ${t(s)} ADD COLUMN ls_version INT NOT NULL, ADD COLUMN ls_digest BINARY(32) NOT NULL, ADD COLUMN ls_seq BIGINT NOT NULL,
            ADD PRIMARY KEY (${keyList}${s === 'history' ? ', ls_version' : ''}), ADD UNIQUE KEY (ls_seq)`);
        });
      }
      await w(`CREATE TABLE ${t('chunks')} (id BIGINT PRIMARY KEY, size INT NOT NULL, root BINARY(32) NOT NULL, group_key VARCHAR(255), batch_id VARCHAR(64), batch_index INT) ENGINE=InnoDB`);
      await w(`CREATE TABLE ${t('batches')} (id VARCHAR(64) PRIMARY KEY, group_key VARCHAR(255) NOT NULL UNIQUE, size INT NOT NULL, root BINARY(32) NOT NULL, proof MEDIUMTEXT) ENGINE=InnoDB`);
      await w(`INSERT INTO ${q(db)}.datasets (name, id, source, columns_json, key_json) VALUES (?, ?, ?, ?, ?)`,
        [name, id, source, JSON.stringify(sel.columns.map((c) => c.name)), JSON.stringify(sel.key.map((c) => c.name))]);
    }
    if (!keyIsPk) {
      const r = (sql: string): Promise<Rows> => reader.promise().query(sql).then(([rows]) => rows as Rows);
      const nulls = await r(`SELECT 1 FROM ${from} WHERE ${sel.key.map((c) => `${q(c.name)} IS NULL`).join(' OR ')} LIMIT 1`);
      if (nulls.length) sourceError(`a row of ${what} has NULL in the key (${sel.key.map((c) => c.name).join(', ')}); a key must name one row`);
      const dup = await r(`SELECT ${keyList} FROM ${from} GROUP BY ${keyList} HAVING count(*) > 1 LIMIT 1`);
      if (dup.length) sourceError(`duplicate key in ${what}: (${sel.key.map((c) => `${c.name}=${String(dup[0]![c.name])}`).join(', ')}) names more than one row; choose a --key that is unique`);
    }
    const dataset: DatasetInfo = { name, id, columns: sel.columns, key: sel.key.map((c) => c.name), location: `MySQL ${redactUrl(opts.url)} database ${db}, tables ${name}_*`, source };
    return new MysqlReceipts(reader, writer, dataset, from, opts.table, sel.key, db);
  }

  async estimate(): Promise<{ total: number; unit: 'rows' } | null> {
    if (this.#table === undefined) return null;
    const parts = this.#table.split('.');
    const rows = await this.#w('SELECT TABLE_ROWS AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ?',
      [parts.length > 1 ? parts[0] : null, parts[parts.length - 1]]);
    const n = Number(rows[0]?.n ?? NaN);
    return Number.isFinite(n) ? { total: n, unit: 'rows' } : null;
  }

  position(rowsSeen: number): number {
    return rowsSeen;
  }

  async *scan(): AsyncIterable<ScanRow[]> {
    const cols = this.dataset.columns;
    const k = this.#key;
    const nk = k.length;
    const nc = cols.length;
    const on = (a: string, b: string): string => k.map((c) => `${a}.${q(c.name)} = ${b}.${q(c.name)}`).join(' AND ');
    const src = (alias: string): string => (this.#from.startsWith('(') ? this.#from.replace(/ AS ledgerseal_source$/, ` AS ${alias}`) : `${this.#from} AS ${alias}`);
    const empty = (await this.#w(`SELECT NOT EXISTS (SELECT 1 FROM ${this.#t.rows}) AS e`))[0]?.e;
    // Fields: the values and the key (canonicalized; the key from the receipt when the row is gone), then
    // present, version, digest (hex), seq. MySQL has no FULL JOIN: rows with their receipts, then receipts without rows.
    const sql = Number(empty) === 1
      ? `SELECT ${cols.map((c) => q(c.name)).join(', ')}, ${k.map((c) => q(c.name)).join(', ')}, 1, NULL, NULL, NULL FROM ${this.#from}`
      : `SELECT ${cols.map((c) => `s.${q(c.name)}`).join(', ')}, ${k.map((c) => `s.${q(c.name)}`).join(', ')}, 1, r.ls_version, LOWER(HEX(r.ls_digest)), r.ls_seq
           FROM ${src('s')} LEFT JOIN ${this.#t.rows} r ON ${on('s', 'r')}
         UNION ALL
         SELECT ${cols.map(() => 'NULL').join(', ')}, ${k.map((c) => `r.${q(c.name)}`).join(', ')}, NULL, r.ls_version, LOWER(HEX(r.ls_digest)), r.ls_seq
           FROM ${this.#t.rows} r WHERE NOT EXISTS (SELECT 1 FROM ${src('s2')} WHERE ${on('s2', 'r')})`;
    for await (const batch of streamMysql(this.#reader, sql, [...cols, ...k])) {
      const out: ScanRow[] = new Array(batch.length);
      for (let i = 0; i < batch.length; i++) {
        const f = batch[i]!;
        const key: string[] = new Array(nk);
        for (let j = 0; j < nk; j++) key[j] = f[nc + j]!;
        const present = f[nc + nk] !== null;
        const version = f[nc + nk + 1];
        const known = version !== null && version !== undefined;
        const digest = known ? f[nc + nk + 2]! : null;
        const seq = known ? Number(f[nc + nk + 3]) : -1;
        f.length = nc;
        out[i] = { key, values: present ? f : null, version: known ? Number(version) : -1, digest, seq };
      }
      yield out;
    }
  }

  #keyWhere(key: string[]): { sql: string; params: string[] } {
    if (key.length !== this.#key.length) throw new CliError(EXIT.usage, `the key has ${this.#key.length} columns (${this.dataset.key.join(', ')}); ${key.length} values given`);
    const parts = this.#key.map((c, i) => mysqlInput(c.kind, key[i]!));
    return { sql: this.#key.map((c, i) => `${q(c.name)} = ${parts[i]!.sql}`).join(' AND '), params: parts.map((p) => p.value) };
  }

  async sourceRow(key: string[]): Promise<(string | null)[] | null> {
    const { sql, params } = this.#keyWhere(key);
    const full = this.#writer.format(`SELECT ${this.dataset.columns.map((c) => q(c.name)).join(', ')} FROM ${this.#from} WHERE ${sql}`, params);
    for await (const batch of streamMysql(this.#reader, full, this.dataset.columns)) if (batch.length > 0) return batch[0]!;
    return null;
  }

  async nextChunkId(): Promise<number> {
    return Number((await this.#w(`SELECT COALESCE(MAX(id) + 1, 0) AS n FROM ${this.#t.chunks}`))[0]?.n ?? 0);
  }

  async writeChunks(chunks: SealedChunk[]): Promise<void> {
    await this.#w('START TRANSACTION');
    try {
      const tuple = `(${this.#key.map((c) => q(c.name)).join(', ')})`;
      const replaced = chunks.flatMap((c) => c.rows.filter((r) => r.replaces));
      for (let i = 0; i < replaced.length; i += 500) {
        const part = replaced.slice(i, i + 500);
        const inputs = part.map((r) => this.#key.map((c, j) => mysqlInput(c.kind, r.key[j]!)));
        const list = inputs.map((ps) => `(${ps.map((p) => p.sql).join(', ')})`).join(', ');
        const params = inputs.flatMap((ps) => ps.map((p) => p.value));
        await this.#w(`INSERT INTO ${this.#t.history} SELECT * FROM ${this.#t.rows} WHERE ${tuple} IN (${list})`, params);
        await this.#w(`DELETE FROM ${this.#t.rows} WHERE ${tuple} IN (${list})`, params);
      }
      const rows = chunks.flatMap((c) => c.rows);
      const cols = [...this.#key.map((c) => q(c.name)), 'ls_version', 'ls_digest', 'ls_seq'].join(', ');
      for (let i = 0; i < rows.length; i += 2000) {
        const part = rows.slice(i, i + 2000);
        const values: string[] = [];
        const params: unknown[] = [];
        for (const r of part) {
          const ins = this.#key.map((c, j) => mysqlInput(c.kind, r.key[j]!));
          values.push(`(${ins.map((p) => p.sql).join(', ')}, ?, UNHEX(?), ?)`);
          for (const p of ins) params.push(p.value);
          params.push(r.version, r.digest, r.seq);
        }
        await this.#w(`INSERT INTO ${this.#t.rows} (${cols}) VALUES ${values.join(', ')}`, params);
      }
      await this.#w(`INSERT INTO ${this.#t.chunks} (id, size, root) VALUES ${chunks.map(() => '(?, ?, ?)').join(', ')}`,
        chunks.flatMap((c) => [c.id, c.size, Buffer.from(c.root)]));
      await this.#w('COMMIT');
    } catch (e) {
      await this.#w('ROLLBACK').catch(() => {});
      throw e;
    }
  }

  async chunks(filter: 'unsubmitted' | 'all'): Promise<ChunkInfo[]> {
    const rows = await this.#w(`SELECT id, size, root, group_key, batch_id, batch_index FROM ${this.#t.chunks}${filter === 'unsubmitted' ? ' WHERE batch_id IS NULL' : ''} ORDER BY id`);
    return rows.map((x) => ({ id: Number(x.id), size: Number(x.size), root: new Uint8Array(x.root as Buffer), groupKey: (x.group_key as string | null) ?? null,
      batchId: (x.batch_id as string | null) ?? null, batchIndex: x.batch_index === null ? null : Number(x.batch_index) }));
  }

  async assignGroup(chunkIds: number[], groupKey: string): Promise<void> {
    for (let i = 0; i < chunkIds.length; i += 1000) {
      const part = chunkIds.slice(i, i + 1000);
      await this.#w(`UPDATE ${this.#t.chunks} SET group_key = ? WHERE id IN (${part.map(() => '?').join(', ')})`, [groupKey, ...part]);
    }
  }

  async recordBatch(groupKey: string, batchId: string, chunkIds: number[], root: Uint8Array): Promise<void> {
    await this.#w('START TRANSACTION');
    try {
      await this.#w(`INSERT IGNORE INTO ${this.#t.batches} (id, group_key, size, root) VALUES (?, ?, ?, ?)`, [batchId, groupKey, chunkIds.length, Buffer.from(root)]);
      for (let i = 0; i < chunkIds.length; i += 1000) {
        const part = chunkIds.slice(i, i + 1000);
        await this.#w(`UPDATE ${this.#t.chunks} SET batch_id = ?, batch_index = CASE id ${part.map(() => 'WHEN ? THEN ?').join(' ')} END WHERE id IN (${part.map(() => '?').join(', ')})`,
          [batchId, ...part.flatMap((id, j) => [id, i + j]), ...part]);
      }
      await this.#w('COMMIT');
    } catch (e) {
      await this.#w('ROLLBACK').catch(() => {});
      throw e;
    }
  }

  async batches(): Promise<BatchInfo[]> {
    const rows = await this.#w(`SELECT id, group_key, size, root, proof FROM ${this.#t.batches} ORDER BY id`);
    return rows.map((x) => ({ id: String(x.id), groupKey: String(x.group_key), size: Number(x.size), root: new Uint8Array(x.root as Buffer), proof: (x.proof as string | null) ?? null }));
  }

  async saveBatchProof(batchId: string, proof: string): Promise<void> {
    await this.#w(`UPDATE ${this.#t.batches} SET proof = ? WHERE id = ?`, [proof, batchId]);
  }

  async receipt(key: string[], version?: number): Promise<RowReceipt | null> {
    const { sql, params } = this.#keyWhere(key);
    const rows = await (version === undefined
      ? this.#w(`SELECT ls_version, ls_digest, ls_seq FROM ${this.#t.rows} WHERE ${sql}`, params)
      : this.#w(`SELECT ls_version, ls_digest, ls_seq FROM ${this.#t.rows} WHERE ${sql} AND ls_version = ?
          UNION ALL SELECT ls_version, ls_digest, ls_seq FROM ${this.#t.history} WHERE ${sql} AND ls_version = ?`, [...params, version, ...params, version]));
    if (!rows.length) return null;
    return { version: Number(rows[0]!.ls_version), digest: (rows[0]!.ls_digest as Buffer).toString('hex'), seq: Number(rows[0]!.ls_seq) };
  }

  async #receiptRows(where: string): Promise<ReceiptRow[]> {
    const k = this.#key.map((c) => q(c.name)).join(', ');
    const sql = `SELECT ${k}, ls_version, LOWER(HEX(ls_digest)), ls_seq FROM ${this.#t.rows}${where} UNION ALL SELECT ${k}, ls_version, LOWER(HEX(ls_digest)), ls_seq FROM ${this.#t.history}${where} ORDER BY ls_seq`;
    const out: ReceiptRow[] = [];
    const n = this.#key.length;
    for await (const batch of streamMysql(this.#writer, sql, this.#key)) {
      for (const f of batch) out.push({ key: f.slice(0, n) as string[], version: Number(f[n]), digest: f[n + 1]!, seq: Number(f[n + 2]) });
    }
    return out;
  }

  chunkRows(chunkId: number): Promise<ReceiptRow[]> {
    return this.#receiptRows(` WHERE ls_seq >= ${chunkId * CHUNK_ROWS} AND ls_seq < ${(chunkId + 1) * CHUNK_ROWS}`);
  }

  async *history(): AsyncIterable<ReceiptRow[]> {
    const k = this.#key.map((c) => q(c.name)).join(', ');
    const n = this.#key.length;
    for await (const batch of streamMysql(this.#writer, `SELECT ${k}, ls_version, LOWER(HEX(ls_digest)), ls_seq FROM ${this.#t.history}`, this.#key)) {
      yield batch.map((f) => ({ key: f.slice(0, n) as string[], version: Number(f[n]), digest: f[n + 1]!, seq: Number(f[n + 2]) }));
    }
  }

  async analyze(): Promise<void> {
    await this.#w(`ANALYZE TABLE ${this.#t.rows}, ${this.#t.history}, ${this.#t.chunks}`);
  }

  async size(): Promise<number> {
    const rows = await this.#w(`SELECT COALESCE(SUM(DATA_LENGTH + INDEX_LENGTH), 0) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME LIKE ?`,
      [this.#db, `${this.dataset.name}\\_%`]);
    return Number(rows[0]?.n ?? 0);
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.#reader.promise().end(), this.#writer.promise().end()]);
  }
}
