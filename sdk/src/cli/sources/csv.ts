/**
 * CSV files as row sources (docs/rows.md): RFC 4180 records streamed from a
 * UTF-8 file, the header row naming the columns, NULL as in PostgreSQL's COPY
 * CSV (an unquoted empty field is NULL, a quoted empty field "" is the empty
 * string), every column of kind text unless `types` says otherwise.
 */
import { fail } from '../../errors.ts';
import { COLUMN_KINDS, type ColumnKind } from '../../row.ts';
import { canonicalizer, positiveInt, valueError, type Converter } from './convert.ts';
import { TextBlockReader } from './text-file.ts';
import type { ColumnInfo, RawRow } from './types.ts';

const QUOTE = 34;
const LF = 10;
const CR = 13;

/** A record's fields (null for an unquoted empty field) and the line it starts on. */
export type CsvRecordHandler = (fields: (string | null)[], line: number) => void;

/**
 * An incremental RFC 4180 parser: parse(text, final) reads every complete
 * record of text and returns where the first incomplete one starts (the caller
 * passes that tail again with more text). Records end with CRLF or LF; a quoted
 * field may hold delimiters, quotes written "" and line breaks. A quote inside
 * an unquoted field, or anything but a delimiter or line end after a closing
 * quote, is an error naming the line.
 */
export class CsvParser {
  /** The physical line (1-based) of the next unparsed character. */
  line = 1;
  private readonly delim: number;
  private readonly delimiter: string;
  private readonly name: string;

  constructor(delimiter = ',', name = 'CSV') {
    if (typeof delimiter !== 'string' || delimiter.length !== 1 || delimiter === '"' || delimiter === '\r' || delimiter === '\n') {
      fail('INVALID_ARGUMENT', `the CSV delimiter must be one character other than a quote or a line break, got ${JSON.stringify(delimiter)}`);
    }
    this.delimiter = delimiter;
    this.delim = delimiter.charCodeAt(0);
    this.name = name;
  }

  private error(line: number, message: string): never {
    throw new Error(`${this.name}: line ${line}: ${message}`);
  }

  parse(text: string, final: boolean, onRecord: CsvRecordHandler): number {
    const n = text.length;
    const D = this.delim;
    let pos = 0;
    let line = this.line;
    let nextDelim = -1;
    let nextNl = -1;
    let nextQuote = -1;
    records: while (pos < n) {
      const recordStart = pos;
      const recordLine = line;
      const fields: (string | null)[] = [];
      for (;;) {
        if (pos < n && text.charCodeAt(pos) === QUOTE) {
          const openLine = line;
          let value = '';
          let i = pos + 1;
          for (;;) {
            const q = text.indexOf('"', i);
            if (q < 0 || (q + 1 >= n && !final)) {
              if (final) this.error(openLine, 'unterminated quoted field (the quote opened on this line is never closed)');
              pos = recordStart;
              line = recordLine;
              break records;
            }
            if (text.charCodeAt(q + 1) === QUOTE) {
              value += text.slice(i, q + 1);
              i = q + 2;
              continue;
            }
            value += text.slice(i, q);
            i = q + 1;
            break;
          }
          for (let k = text.indexOf('\n', pos); k >= 0 && k < i; k = text.indexOf('\n', k + 1)) line++;
          pos = i;
          fields.push(value);
          const c = text.charCodeAt(pos);
          if (c === D) {
            pos++;
            continue;
          }
          if (c === LF) {
            pos++;
            line++;
            break;
          }
          if (c === CR && pos + 1 < n && text.charCodeAt(pos + 1) === LF) {
            pos += 2;
            line++;
            break;
          }
          if (pos >= n || (c === CR && pos + 1 >= n)) {
            if (!final) {
              pos = recordStart;
              line = recordLine;
              break records;
            }
            pos = n;
            break;
          }
          this.error(line, `unexpected ${JSON.stringify(text[pos])} after a closing quote (expected ${JSON.stringify(this.delimiter)} or the end of the line)`);
        }
        if (nextDelim < pos) {
          nextDelim = text.indexOf(this.delimiter, pos);
          if (nextDelim < 0) nextDelim = n;
        }
        if (nextNl < pos) {
          nextNl = text.indexOf('\n', pos);
          if (nextNl < 0) nextNl = n;
        }
        const end = nextDelim < nextNl ? nextDelim : nextNl;
        if (end === n && !final) {
          pos = recordStart;
          line = recordLine;
          break records;
        }
        let fieldEnd = end;
        if (end === nextNl && fieldEnd > pos && text.charCodeAt(fieldEnd - 1) === CR) fieldEnd--;
        if (nextQuote < pos) {
          nextQuote = text.indexOf('"', pos);
          if (nextQuote < 0) nextQuote = n;
        }
        if (nextQuote < fieldEnd) this.error(line, 'a quote inside an unquoted field (quote the whole field and double the quote)');
        fields.push(fieldEnd === pos ? null : text.slice(pos, fieldEnd));
        pos = end + 1;
        if (end === nextDelim && end < n) continue;
        if (end < n) line++;
        else pos = n;
        break;
      }
      onRecord(fields, recordLine);
    }
    this.line = line;
    return pos;
  }
}

export interface OpenCsvOptions {
  /** Kinds of the columns that are not text, by header name. */
  types?: Record<string, ColumnKind>;
  /** One character; ',' by default. */
  delimiter?: string;
  /** Rows per yielded batch (default 4096). */
  batchRows?: number;
}

/** Check a `types` option against the column names. */
export function checkTypes(types: Record<string, ColumnKind> | undefined, names: readonly string[], file: string): void {
  if (types === undefined) return;
  if (typeof types !== 'object' || types === null) fail('INVALID_ARGUMENT', 'types must be an object of column kinds');
  for (const [name, kind] of Object.entries(types)) {
    if (!names.includes(name)) fail('INVALID_ARGUMENT', `${file}: types names column ${JSON.stringify(name)}, which the file does not have`);
    if (!COLUMN_KINDS.includes(kind)) fail('INVALID_ARGUMENT', `${file}: unknown kind ${JSON.stringify(kind)} for column ${JSON.stringify(name)}`);
  }
}

/**
 * Open a CSV file: the header row is read now (its names are the columns),
 * the data rows when `rows` is iterated, converted to canonical texts by each
 * column's kind. Errors name the file and the line.
 */
export async function openCsv(path: string, opts: OpenCsvOptions = {}): Promise<{ columns: ColumnInfo[]; rows: AsyncIterable<RawRow[]> }> {
  const parser = new CsvParser(opts.delimiter ?? ',', path);
  const batchRows = positiveInt('batchRows', opts.batchRows, 4096);
  const reader = new TextBlockReader(path);
  const state = { carry: '', done: false };
  const feed = async (): Promise<void> => {
    const { text, final } = await reader.read(state.carry);
    state.done = final;
    state.carry = text.slice(parser.parse(text, final, onRecord));
  };
  let columns: ColumnInfo[] | undefined;
  let converters: Converter[] = [];
  let width = 0;
  let pending: RawRow[] = [];

  const onRecord: CsvRecordHandler = (fields, line) => {
    if (columns === undefined) {
      columns = header(fields, line);
      converters = columns.map((c) => canonicalizer(c.kind));
      width = columns.length;
      return;
    }
    if (fields.length !== width) throw new Error(`${path}: line ${line}: ${fields.length} fields, the header has ${width}`);
    for (let i = 0; i < width; i++) {
      const v = fields[i]!;
      const f = converters[i];
      if (v !== null && f !== null && f !== undefined) {
        try {
          fields[i] = f(v);
        } catch (e) {
          throw valueError(`${path}: line ${line}`, columns[i]!, e);
        }
      }
    }
    pending.push(fields);
  };

  const header = (fields: (string | null)[], line: number): ColumnInfo[] => {
    const names = fields.map((f, i) => {
      if (f === null || f === '') throw new Error(`${path}: line ${line}: header field ${i + 1} is empty (every column needs a name)`);
      return f;
    });
    const seen = new Set<string>();
    for (const name of names) {
      if (seen.has(name)) throw new Error(`${path}: line ${line}: column ${JSON.stringify(name)} appears twice in the header`);
      seen.add(name);
    }
    checkTypes(opts.types, names, path);
    return names.map((name) => ({ name, kind: opts.types?.[name] ?? 'text', sourceType: 'csv' }));
  };

  try {
    while (columns === undefined && !state.done) await feed();
  } catch (e) {
    await reader.close();
    throw e;
  }
  if (columns === undefined) throw new Error(`${path}: empty file (no header row)`);

  async function* rows(): AsyncGenerator<RawRow[]> {
    try {
      for (;;) {
        while (pending.length < batchRows && !state.done) await feed();
        if (pending.length === 0) return;
        let i = 0;
        for (; i + batchRows <= pending.length; i += batchRows) yield pending.slice(i, i + batchRows);
        if (state.done && i < pending.length) {
          yield pending.slice(i);
          i = pending.length;
        }
        pending = pending.slice(i);
      }
    } finally {
      await reader.close();
    }
  }
  return { columns, rows: rows() };
}
