/**
 * What every row source (postgres.ts, mysql.ts, csv.ts, ndjson.ts) hands to the
 * CLI: the selected columns with their kinds, then rows of canonical texts in
 * column order (docs/rows.md).
 */
import type { ColumnKind } from '../../row.ts';

export interface ColumnInfo {
  /** The column name exactly as the source spells it (case preserved). */
  name: string;
  /** How its values are canonicalized (canonicalValue). */
  kind: ColumnKind;
  /** The source's own type name, e.g. `character(5)`, `tinyint(1)`, `csv`. */
  sourceType: string;
}

/**
 * One row: the canonical text of each described column in column order, null
 * for SQL NULL; a database source passes further fields of its query through
 * as the server's raw text after them.
 */
export type RawRow = (string | null)[];
