/**
 * NDJSON files as row sources (docs/rows.md): one JSON object per line, the
 * first object's keys are the columns, every object has exactly those keys.
 * A value converts by the column's kind from `types` when given, otherwise by
 * its JSON type: null is NULL, a string is text, a number is a float (an
 * IEEE-754 double: exact decimals belong in strings), true/false are
 * booleans, an object or array is canonical JSON.
 */
import { LedgersealError } from '../../errors.ts';
import { canonicalJson, parseJsonStrict } from '../../jcs.ts';
import { canonicalValue, type ColumnKind } from '../../row.ts';
import { checkTypes } from './csv.ts';
import { positiveInt, valueError } from './convert.ts';
import { TextBlockReader } from './text-file.ts';
import type { ColumnInfo, RawRow } from './types.ts';

export interface OpenNdjsonOptions {
  /** Kinds of columns, by key; other columns convert by each value's JSON type. */
  types?: Record<string, ColumnKind>;
  /** Rows per yielded batch (default 4096). */
  batchRows?: number;
}

/** A line of JSON white space only (RFC 8259: space, tab, CR). */
const BLANK = /^[ \t\r]*$/;

/** The kind a JSON value converts with when `types` does not name its column. */
function kindOfJson(v: unknown): ColumnKind {
  switch (typeof v) {
    case 'number': return 'float';
    case 'boolean': return 'boolean';
    case 'object': return v === null ? 'text' : 'json';
    default: return 'text';
  }
}

/** The canonical text of one JSON value, by the column's declared kind or the value's own type. */
function convert(v: unknown, declared: ColumnKind | undefined): string | null {
  if (v === null) return null;
  const kind = declared ?? kindOfJson(v);
  switch (typeof v) {
    case 'string':
      return kind === 'text' || kind === 'other' ? v : canonicalValue(kind, v);
    case 'number':
      if (kind === 'integer' && !Number.isSafeInteger(v)) {
        throw new LedgersealError('INVALID_ARGUMENT', `the JSON number ${String(v)} is not an exact integer (beyond 2^53 it lost digits when parsed; write it as a string)`);
      }
      return canonicalValue(kind, String(v));
    case 'boolean':
      return canonicalValue(kind, v ? 'true' : 'false');
    default: {
      const text = canonicalJson(v);
      return kind === 'json' ? text : canonicalValue(kind, text);
    }
  }
}

/**
 * Open an NDJSON file: the first object is read now (its keys, in its order,
 * are the columns), the rows when `rows` is iterated. Blank lines are skipped;
 * errors name the file and the line.
 */
export async function openNdjson(path: string, opts: OpenNdjsonOptions = {}): Promise<{ columns: ColumnInfo[]; rows: AsyncIterable<RawRow[]> }> {
  const batchRows = positiveInt('batchRows', opts.batchRows, 4096);
  const types = opts.types;
  const reader = new TextBlockReader(path);
  let line = 0;
  let carry = '';
  let done = false;
  let columns: ColumnInfo[] | undefined;
  let names: string[] = [];
  let declared: (ColumnKind | undefined)[] = [];
  let pending: RawRow[] = [];

  const onLine = (text: string, lineNo: number): void => {
    let obj: unknown;
    try {
      // I-JSON: a line with a duplicate member name is refused (JSON.parse would keep its last value).
      obj = parseJsonStrict(text);
    } catch (e) {
      throw new Error(`${path}: line ${lineNo}: ${(e as Error).message}`);
    }
    if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
      throw new Error(`${path}: line ${lineNo}: expected a JSON object, got ${obj === null ? 'null' : Array.isArray(obj) ? 'an array' : typeof obj}`);
    }
    const record = obj as Record<string, unknown>;
    if (columns === undefined) {
      names = Object.keys(record);
      if (names.length === 0) throw new Error(`${path}: line ${lineNo}: the first object has no keys (its keys are the columns)`);
      checkTypes(types, names, path);
      declared = names.map((n) => types?.[n]);
      columns = names.map((name, i) => ({ name, kind: declared[i] ?? kindOfJson(record[name]), sourceType: 'ndjson' }));
    } else {
      const keys = Object.keys(record);
      if (keys.length !== names.length || names.some((n) => !Object.hasOwn(record, n))) {
        const missing = names.filter((n) => !Object.hasOwn(record, n));
        const extra = keys.filter((k) => !names.includes(k));
        throw new Error(`${path}: line ${lineNo}: the keys differ from the first object's${missing.length ? `; missing ${missing.map((k) => JSON.stringify(k)).join(', ')}` : ''}${extra.length ? `; unexpected ${extra.map((k) => JSON.stringify(k)).join(', ')}` : ''}`);
      }
    }
    const row: RawRow = new Array(names.length);
    for (let i = 0; i < names.length; i++) {
      try {
        row[i] = convert(record[names[i]!], declared[i]);
      } catch (e) {
        throw valueError(`${path}: line ${lineNo}`, columns![i]!, e);
      }
    }
    pending.push(row);
  };

  /** Read one more block and handle its complete lines. */
  const feed = async (): Promise<void> => {
    const block = await reader.read(carry);
    done = block.final;
    const text = block.text;
    let pos = 0;
    for (;;) {
      let nl = text.indexOf('\n', pos);
      if (nl < 0) {
        if (!done) break;
        nl = text.length;
        if (pos >= nl) break;
      }
      line++;
      let end = nl;
      if (end > pos && text.charCodeAt(end - 1) === 13) end--;
      const lineText = text.slice(pos, end);
      if (!BLANK.test(lineText)) onLine(lineText, line);
      pos = nl + 1;
    }
    carry = pos < text.length ? text.slice(pos) : '';
  };

  try {
    while (columns === undefined && !done) await feed();
  } catch (e) {
    await reader.close();
    throw e;
  }
  if (columns === undefined) throw new Error(`${path}: no JSON object (the file is empty or blank)`);
  const described = columns;

  async function* rows(): AsyncGenerator<RawRow[]> {
    try {
      for (;;) {
        while (pending.length < batchRows && !done) await feed();
        if (pending.length === 0) return;
        let i = 0;
        for (; i + batchRows <= pending.length; i += batchRows) yield pending.slice(i, i + batchRows);
        if (done && i < pending.length) {
          yield pending.slice(i);
          i = pending.length;
        }
        pending = pending.slice(i);
      }
    } finally {
      await reader.close();
    }
  }
  return { columns: described, rows: rows() };
}
