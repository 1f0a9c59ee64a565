/**
 * Helpers shared by the SQL receipt stores: names, dataset metadata checks.
 */
import { CliError, EXIT, usage } from '../errors.ts';
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
