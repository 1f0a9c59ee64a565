/**
 * Helpers shared by the SQL receipt stores: names, dataset metadata checks.
 */
import { CliError, EXIT, errorText, sourceError, usage } from '../errors.ts';
import type { ColumnInfo } from '../sources/types.ts';

/** A dataset name: letters, digits and underscores, starting with a letter, at most 40 characters. */
export function checkDatasetName(name: string): string {
  if (!/^[A-Za-z][A-Za-z0-9_]{0,39}$/.test(name)) {
    usage(`dataset name "${name}" must be 1-40 letters, digits or underscores, starting with a letter (choose one with --dataset)`);
  }
  return name.toLowerCase();
}

/** The default dataset name of a table reference: its last part, cleaned. */
export function datasetFromTable(table: string): string {
  const last = table.split('.').pop()!.replace(/^"|"$/g, '');
  const cleaned = last.replace(/[^A-Za-z0-9_]/g, '_').replace(/^[^A-Za-z]+/, '');
  return checkDatasetName(cleaned.slice(0, 40) || 'dataset');
}

export interface Selection {
  columns: ColumnInfo[];
  key: ColumnInfo[];
}

/** Resolve --key and --columns against the source's columns; key columns are always hashed. */
export function selectColumns(all: ColumnInfo[], key: string[], columns: string[] | undefined, what: string): Selection {
  const byName = new Map(all.map((c) => [c.name, c]));
  const names = all.map((c) => c.name).join(', ');
  const find = (n: string, role: string): ColumnInfo => {
    const c = byName.get(n);
    if (!c) throw new CliError(EXIT.source, `${role} column "${n}" is not a column of ${what} (its columns: ${names})`);
    return c;
  };
  if (key.length === 0) usage('--key names at least one column');
  if (new Set(key).size !== key.length) usage('--key names a column twice');
  const keyCols = key.map((k) => find(k, 'key'));
  let selected = all;
  if (columns !== undefined) {
    const wanted = new Set([...columns, ...key]);
    for (const n of wanted) find(n, '--columns');
    selected = all.filter((c) => wanted.has(c.name));
  }
  return { columns: selected, key: keyCols };
}

export interface StoredDataset {
  id: string;
  columns: string[];
  key: string[];
}

/** A later run must hash the same columns under the same key, or every row would look changed. */
export function checkSameShape(name: string, stored: StoredDataset, sel: Selection): void {
  const cols = sel.columns.map((c) => c.name);
  const key = sel.key.map((c) => c.name);
  if (JSON.stringify(stored.columns) !== JSON.stringify(cols) || JSON.stringify(stored.key) !== JSON.stringify(key)) {
    throw new CliError(EXIT.receipts,
      `dataset "${name}" was anchored with columns [${stored.columns.join(', ')}] and key [${stored.key.join(', ')}], ` +
      `not columns [${cols.join(', ')}] and key [${key.join(', ')}]; use the same --key and --columns, or --dataset <new name> for a new dataset`);
  }
}

/** Escape one field for PostgreSQL COPY text format. */
export function copyField(v: string): string {
  return /[\\\t\n\r]/.test(v) ? v.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r')) : v;
}

export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    u.password = '';
    return u.toString();
  } catch {
    return '(unparsable URL)';
  }
}

export interface SqlSourceOptions {
  table?: string;
  query?: string;
  key: string[];
  columns?: string[];
  dataset?: string;
}

export interface ResolvedSource {
  /** The relation to read: the quoted table, or `(query) AS ledgerseal_source`. */
  from: string;
  /** "table x" or "the query", for messages. */
  what: string;
  primaryKey: string[];
  sel: Selection;
  /** The dataset name. */
  name: string;
  /** Whether the key is exactly the table's primary key (else uniqueness and NOT NULL are checked). */
  keyIsPk: boolean;
}

/** The table or query of a database source, its columns, the selection and the dataset name (both SQL stores). */
export async function resolveSqlSource(
  opts: SqlSourceOptions,
  db: {
    describeTable(table: string): Promise<{ columns: ColumnInfo[]; primaryKey: string[] }>;
    describeQuery(sql: string): Promise<ColumnInfo[]>;
    tableRef(table: string): string;
  },
): Promise<ResolvedSource> {
  let all: ColumnInfo[];
  let primaryKey: string[] = [];
  let from: string;
  let what: string;
  if (opts.table !== undefined) {
    try {
      ({ columns: all, primaryKey } = await db.describeTable(opts.table));
    } catch (e) {
      sourceError(errorText(e), e);
    }
    from = db.tableRef(opts.table);
    what = `table ${opts.table}`;
  } else {
    try {
      all = await db.describeQuery(opts.query!);
    } catch (e) {
      sourceError(`the query does not run: ${errorText(e)}`, e);
    }
    from = `(${opts.query}) AS ledgerseal_source`;
    what = 'the query';
  }
  const sel = selectColumns(all, opts.key, opts.columns, what);
  const name = opts.dataset !== undefined ? checkDatasetName(opts.dataset) : opts.table !== undefined ? datasetFromTable(opts.table) : undefined;
  if (name === undefined) throw new CliError(EXIT.usage, 'a --query source needs --dataset <name> for its receipts');
  const keyIsPk = opts.table !== undefined && primaryKey.length === sel.key.length && sel.key.every((c) => primaryKey.includes(c.name));
  return { from, what, primaryKey, sel, name, keyIsPk };
}
