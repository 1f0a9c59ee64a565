/**
 * Receipts: what the CLI keeps, outside the legacy table, to prove and audit its
 * rows (docs/cli.md "Receipts"). One implementation per kind of source: a schema
 * beside the table in PostgreSQL, a database beside it in MySQL/MariaDB, a
 * directory beside the file for CSV/NDJSON.
 *
 * Per row (current version), small: the key columns, the version, the digest of
 * the canonical row (ledgerseal-row/v1) and `seq`, the row's place in the local
 * aggregation: chunk = floor(seq / 1024), leaf = seq mod 1024. Earlier versions
 * move to a history table when a changed row is anchored again. Per chunk (up to
 * 1024 rows): its root, the submission group (the Idempotency-Key) and, once
 * submitted, the service batch and the chunk's index in it. Per batch: the proof
 * of the batch root, once confirmed. Masks are never stored: they are recomputed
 * from the blinding key, the row's key and its version.
 */
import type { ColumnInfo } from '../sources/types.ts';

/** Rows per chunk (local aggregation tree): 2^CHUNK_BITS. */
export const CHUNK_BITS = 10;
export const CHUNK_ROWS = 1 << CHUNK_BITS;

export interface DatasetInfo {
  /** The dataset name: the receipts' table prefix and part of every row's recordKey. */
  name: string;
  /** Random id fixed when the receipts are created; part of every Idempotency-Key. */
  id: string;
  /** Columns hashed, in source order. */
  columns: ColumnInfo[];
  /** Key column names, in --key order. */
  key: string[];
  /** Where the receipts live, for messages and reports. */
  location: string;
  /** What was read, for messages and reports (credentials removed). */
  source: string;
}

export interface RowReceipt {
  version: number;
  /** SHA-256 of the canonical row, lowercase hex. */
  digest: string;
  seq: number;
}

/** One source row joined with its current receipt (flat: millions of these are made per run). */
export interface ScanRow {
  /** Canonical texts of the key columns. */
  key: string[];
  /** Canonical texts of the dataset's columns in source order; null when the row is gone from the source. */
  values: (string | null)[] | null;
  /** The current receipt's version, or -1 when the row was never anchored (then digest is null). */
  version: number;
  digest: string | null;
  seq: number;
}

export interface ReceiptRow extends RowReceipt {
  key: string[];
}

export interface NewRowReceipt extends RowReceipt {
  key: string[];
  /** True when an earlier version exists (it moves to history). */
  replaces: boolean;
}

export interface SealedChunk {
  id: number;
  size: number;
  root: Uint8Array;
  rows: NewRowReceipt[];
}

export interface ChunkInfo {
  id: number;
  size: number;
  root: Uint8Array;
  groupKey: string | null;
  batchId: string | null;
  batchIndex: number | null;
}

export interface BatchInfo {
  id: string;
  groupKey: string;
  size: number;
  root: Uint8Array;
  /** The proof of the batch root (JSON text) once confirmed, else null. */
  proof: string | null;
}

export interface ReceiptStore {
  readonly dataset: DatasetInfo;
  /** Approximate number of source rows (for progress), or bytes for files. */
  estimate(): Promise<{ total: number; unit: 'rows' | 'bytes' } | null>;
  /** Position of the scan in `estimate`'s unit. */
  position(rowsSeen: number): number;
  /** Every source row joined with its current receipt, and every receipt whose row is gone. */
  scan(): AsyncIterable<ScanRow[]>;
  /** The current values of one row in the source, or null. */
  sourceRow(key: string[]): Promise<(string | null)[] | null>;
  /** Next chunk id (one more than the largest stored). */
  nextChunkId(): Promise<number>;
  /** Store sealed chunks and their rows' receipts atomically (all or none). */
  writeChunks(chunks: SealedChunk[]): Promise<void>;
  chunks(filter: 'unsubmitted' | 'all'): Promise<ChunkInfo[]>;
  /** Record the Idempotency-Key of a submission group before it is sent. */
  assignGroup(chunkIds: number[], groupKey: string): Promise<void>;
  /** Record the batch a group became (chunk i of the group is batch index i). */
  recordBatch(groupKey: string, batchId: string, chunkIds: number[], root: Uint8Array): Promise<void>;
  batches(): Promise<BatchInfo[]>;
  saveBatchProof(batchId: string, proof: string): Promise<void>;
  /** The current receipt of one key, or (with `version`) the receipt of that version, current or historical. */
  receipt(key: string[], version?: number): Promise<RowReceipt | null>;
  /** Every receipt (current and history) of one chunk, by seq. */
  chunkRows(chunkId: number): Promise<ReceiptRow[]>;
  /** Every historical (superseded) receipt. */
  history(): AsyncIterable<ReceiptRow[]>;
  /** After a run that wrote receipts: refresh the database's statistics, so that lookups of one row or chunk use the indexes. */
  analyze(): Promise<void>;
  /** Bytes the receipts take (tables with indexes, or files). */
  size(): Promise<number>;
  close(): Promise<void>;
}
