/**
 * Receipts of a CSV or NDJSON file: a directory beside it (default
 * `<dir of the file>/.ledgerseal/<dataset>/`, or --receipts <dir>) holding
 * `dataset.json` and `receipts.log`, an append-only log of JSON lines, each
 * appended with fsync before the next step:
 *
 *   ["r", seq, version, digest, ...key]      a row receipt
 *   ["c", id, size, root]                    a chunk, after its rows
 *   ["g", groupKey, ...chunkIds]             a submission group, before it is sent
 *   ["b", batchId, groupKey, root, ...ids]   the batch the group became
 *   ["p", batchId, proof]                    the batch root's proof
 *
 * On open the log is read into memory: a torn last line (a crash mid-write) is
 * ignored, and row lines not followed by their chunk line are dropped (a crash
 * between them), so a chunk is stored whole or not at all. The index of current
 * receipts is a Map in memory: fine for files of a few million rows; anchor
 * bigger tables from their database.
 */
import { randomUUID } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, statSync, writeFileSync, writeSync, existsSync, renameSync, truncateSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import type { ColumnKind } from '../../row.ts';
import { CliError, EXIT, errorText, sourceError } from '../errors.ts';
import type { ColumnInfo, RawRow } from '../sources/types.ts';
import { checkDatasetName, checkSameShape, selectColumns } from './sql.ts';
import { CHUNK_ROWS, type BatchInfo, type ChunkInfo, type DatasetInfo, type ReceiptStore, type ReceiptRow, type RowReceipt, type ScanRow, type SealedChunk } from './store.ts';

export interface FileSourceOptions {
  path: string;
  key: string[];
  columns?: string[];
  dataset?: string;
  receipts?: string;
  types?: Record<string, ColumnKind>;
}

type Rec = ReceiptRow;

type Opened = { columns: ColumnInfo[]; rows: AsyncIterable<RawRow[]> };

async function openFile(path: string, types: Record<string, ColumnKind> | undefined): Promise<Opened> {
  const ext = extname(path).toLowerCase();
  const o = types ? { types } : {};
  if (ext === '.csv') return (await import('../sources/csv.ts')).openCsv(path, o);
  if (ext === '.ndjson' || ext === '.jsonl') return (await import('../sources/ndjson.ts')).openNdjson(path, o);
  throw new CliError(EXIT.usage, `${path}: a file source must end in .csv, .ndjson or .jsonl`);
}

export async function openFileSource(opts: FileSourceOptions): Promise<ReceiptStore> {
  const path = resolve(opts.path);
  if (!existsSync(path)) sourceError(`${opts.path}: no such file`);
  let first: Opened;
  try {
    first = await openFile(path, opts.types);
  } catch (e) {
    if (e instanceof CliError) throw e;
    sourceError(`${opts.path}: ${errorText(e)}`, e);
  }
  const sel = selectColumns(first.columns, opts.key, opts.columns, opts.path);
  const name = checkDatasetName(opts.dataset ?? (basename(path, extname(path)).replace(/[^A-Za-z0-9_]/g, '_').replace(/^[^A-Za-z]+/, '').slice(0, 40) || 'dataset'));
  const dir = resolve(opts.receipts ?? join(dirname(path), '.ledgerseal', name));
  mkdirSync(dir, { recursive: true });
  const metaPath = join(dir, 'dataset.json');
  let id: string;
  if (existsSync(metaPath)) {
    const meta = JSON.parse(readFileSync(metaPath, 'utf8')) as { id: string; columns: string[]; key: string[] };
    checkSameShape(name, meta, sel);
    id = meta.id;
  } else {
    id = randomUUID();
    const tmp = `${metaPath}.tmp`;
    writeFileSync(tmp, `${JSON.stringify({ format: 'ledgerseal-file-receipts/v1', name, id, source: path, columns: sel.columns.map((c) => c.name), key: sel.key.map((c) => c.name), createdAt: new Date().toISOString() }, null, 2)}\n`);
    renameSync(tmp, metaPath);
  }
  const dataset: DatasetInfo = { name, id, columns: sel.columns, key: sel.key.map((c) => c.name), location: dir, source: path };
  return new FileReceipts(dataset, path, dir, first.columns, opts.types);
}

class FileReceipts implements ReceiptStore {
  readonly dataset: DatasetInfo;
  readonly #path: string;
  readonly #log: string;
  readonly #fileColumns: ColumnInfo[];
  readonly #types: Record<string, ColumnKind> | undefined;
  readonly #current = new Map<string, Rec>();
  readonly #history: Rec[] = [];
  readonly #chunks = new Map<number, ChunkInfo>();
  readonly #batches = new Map<string, BatchInfo>();
  #fd: number;

  constructor(dataset: DatasetInfo, path: string, dir: string, fileColumns: ColumnInfo[], types: Record<string, ColumnKind> | undefined) {
    this.dataset = dataset;
    this.#path = path;
    this.#log = join(dir, 'receipts.log');
    this.#fileColumns = fileColumns;
    this.#types = types;
    this.#load();
    this.#fd = openSync(this.#log, 'a');
  }

  #load(): void {
    if (!existsSync(this.#log)) return;
    let text = readFileSync(this.#log, 'utf8');
    if (!text.endsWith('\n') && text.length > 0) {
      // A torn last line (a crash mid-append): cut it, so the next append starts a fresh line.
      text = text.slice(0, text.lastIndexOf('\n') + 1);
      truncateSync(this.#log, Buffer.byteLength(text));
    }
    const lines = text.split('\n');
    const complete = lines.length - 1; // after the last \n: empty
    let pending: Rec[] = [];
    for (let i = 0; i < complete; i++) {
      const line = lines[i]!;
      if (line === '') continue;
      let v: unknown[];
      try {
        v = JSON.parse(line) as unknown[];
      } catch {
        throw new CliError(EXIT.receipts, `${this.#log}:${i + 1}: not a receipt line; the receipts were damaged`);
      }
      switch (v[0]) {
        case 'r':
          pending.push({ seq: v[1] as number, version: v[2] as number, digest: v[3] as string, key: v.slice(4) as string[] });
          break;
        case 'c': {
          const c: ChunkInfo = { id: v[1] as number, size: v[2] as number, root: Buffer.from(v[3] as string, 'hex'), groupKey: null, batchId: null, batchIndex: null };
          this.#chunks.set(c.id, c);
          for (const r of pending) this.#put(r);
          pending = [];
          break;
        }
        case 'g':
          for (const id of v.slice(2) as number[]) {
            const c = this.#chunks.get(id);
            if (c) c.groupKey = v[1] as string;
          }
          break;
        case 'b': {
          const ids = v.slice(4) as number[];
          this.#batches.set(v[1] as string, { id: v[1] as string, groupKey: v[2] as string, size: ids.length, root: Buffer.from(v[3] as string, 'hex'), proof: null });
          ids.forEach((id, i) => {
            const c = this.#chunks.get(id);
            if (c) {
              c.batchId = v[1] as string;
              c.batchIndex = i;
            }
          });
          break;
        }
        case 'p': {
          const b = this.#batches.get(v[1] as string);
          if (b) b.proof = v[2] as string;
          break;
        }
        default:
          throw new CliError(EXIT.receipts, `${this.#log}:${i + 1}: unknown receipt line`);
      }
    }
  }

  #put(r: Rec): void {
    const k = JSON.stringify(r.key);
    const old = this.#current.get(k);
    if (old) this.#history.push(old);
    this.#current.set(k, r);
  }

  #append(lines: string[]): void {
    writeSync(this.#fd, lines.join(''));
    fsyncSync(this.#fd);
  }

  async estimate(): Promise<{ total: number; unit: 'bytes' } | null> {
    return null;
  }

  position(rowsSeen: number): number {
    return rowsSeen;
  }

  async *scan(): AsyncIterable<ScanRow[]> {
    const { rows } = await openFile(this.#path, this.#types);
    const idx = new Map(this.#fileColumns.map((c, i) => [c.name, i]));
    const keyIdx = this.dataset.key.map((k) => idx.get(k)!);
    const colIdx = this.dataset.columns.map((c) => idx.get(c.name)!);
    const seen = new Set<string>();
    let n = 0;
    for await (const batch of rows) {
      const out: ScanRow[] = [];
      for (const f of batch) {
        n++;
        const key: string[] = [];
        for (const i of keyIdx) {
          const v = f[i];
          if (v === null || v === undefined) sourceError(`${this.#path}: row ${n} has no value in key column ${this.#fileColumns[i]!.name}; a key must name one row`);
          key.push(v);
        }
        const k = JSON.stringify(key);
        if (seen.has(k)) sourceError(`${this.#path}: duplicate key ${k} (row ${n}); choose a --key that is unique`);
        seen.add(k);
        const rc = this.#current.get(k);
        out.push({ key, values: colIdx.map((i) => f[i] ?? null), version: rc ? rc.version : -1, digest: rc ? rc.digest : null, seq: rc ? rc.seq : -1 });
      }
      yield out;
    }
    const gone: ScanRow[] = [];
    for (const [k, rc] of this.#current) {
      if (!seen.has(k)) gone.push({ key: rc.key, values: null, version: rc.version, digest: rc.digest, seq: rc.seq });
    }
    if (gone.length) yield gone;
  }

  async sourceRow(key: string[]): Promise<(string | null)[] | null> {
    const want = JSON.stringify(key);
    const { rows } = await openFile(this.#path, this.#types);
    const idx = new Map(this.#fileColumns.map((c, i) => [c.name, i]));
    const keyIdx = this.dataset.key.map((k) => idx.get(k)!);
    const colIdx = this.dataset.columns.map((c) => idx.get(c.name)!);
    for await (const batch of rows) {
      for (const f of batch) if (JSON.stringify(keyIdx.map((i) => f[i])) === want) return colIdx.map((i) => f[i] ?? null);
    }
    return null;
  }

  async nextChunkId(): Promise<number> {
    let max = -1;
    for (const id of this.#chunks.keys()) max = Math.max(max, id);
    return max + 1;
  }

  async writeChunks(chunks: SealedChunk[]): Promise<void> {
    const lines: string[] = [];
    for (const c of chunks) {
      for (const r of c.rows) lines.push(`${JSON.stringify(['r', r.seq, r.version, r.digest, ...r.key])}\n`);
      lines.push(`${JSON.stringify(['c', c.id, c.size, Buffer.from(c.root).toString('hex')])}\n`);
    }
    this.#append(lines);
    for (const c of chunks) {
      this.#chunks.set(c.id, { id: c.id, size: c.size, root: c.root, groupKey: null, batchId: null, batchIndex: null });
      for (const r of c.rows) this.#put({ key: r.key, version: r.version, digest: r.digest, seq: r.seq });
    }
  }

  async chunks(filter: 'unsubmitted' | 'all'): Promise<ChunkInfo[]> {
    return [...this.#chunks.values()].filter((c) => filter === 'all' || c.batchId === null).sort((a, b) => a.id - b.id).map((c) => ({ ...c }));
  }

  async assignGroup(chunkIds: number[], groupKey: string): Promise<void> {
    this.#append([`${JSON.stringify(['g', groupKey, ...chunkIds])}\n`]);
    for (const id of chunkIds) this.#chunks.get(id)!.groupKey = groupKey;
  }

  async recordBatch(groupKey: string, batchId: string, chunkIds: number[], root: Uint8Array): Promise<void> {
    if (this.#batches.has(batchId)) return;
    this.#append([`${JSON.stringify(['b', batchId, groupKey, Buffer.from(root).toString('hex'), ...chunkIds])}\n`]);
    this.#batches.set(batchId, { id: batchId, groupKey, size: chunkIds.length, root, proof: null });
    chunkIds.forEach((id, i) => {
      const c = this.#chunks.get(id)!;
      c.batchId = batchId;
      c.batchIndex = i;
    });
  }

  async batches(): Promise<BatchInfo[]> {
    return [...this.#batches.values()].map((b) => ({ ...b }));
  }

  async saveBatchProof(batchId: string, proof: string): Promise<void> {
    this.#append([`${JSON.stringify(['p', batchId, proof])}\n`]);
    const b = this.#batches.get(batchId);
    if (b) b.proof = proof;
  }

  async receipt(key: string[], version?: number): Promise<RowReceipt | null> {
    const k = JSON.stringify(key);
    let r = this.#current.get(k);
    if (version !== undefined && r?.version !== version) r = this.#history.find((h) => h.version === version && JSON.stringify(h.key) === k);
    return r ? { version: r.version, digest: r.digest, seq: r.seq } : null;
  }

  async chunkRows(chunkId: number): Promise<Rec[]> {
    const lo = chunkId * CHUNK_ROWS;
    const hi = lo + CHUNK_ROWS;
    const out: Rec[] = [];
    for (const r of this.#current.values()) if (r.seq >= lo && r.seq < hi) out.push(r);
    for (const r of this.#history) if (r.seq >= lo && r.seq < hi) out.push(r);
    return out.sort((a, b) => a.seq - b.seq);
  }

  async *history(): AsyncIterable<Rec[]> {
    if (this.#history.length) yield this.#history;
  }

  async analyze(): Promise<void> {
    // In memory: nothing to refresh.
  }

  async size(): Promise<number> {
    return existsSync(this.#log) ? statSync(this.#log).size : 0;
  }

  async close(): Promise<void> {
    closeSync(this.#fd);
  }
}
