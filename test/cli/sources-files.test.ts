/**
 * The CSV and NDJSON readers (docs/rows.md 6.3 and 6.4): RFC 4180 quoting, the
 * NULL convention, BOM, CRLF, errors with line numbers, records and UTF-8
 * characters across read blocks, and NDJSON's key and value rules.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { CsvParser, openCsv } from '../../sdk/src/cli/sources/csv.ts';
import { openNdjson } from '../../sdk/src/cli/sources/ndjson.ts';
import { TEXT_CHUNK_BYTES } from '../../sdk/src/cli/sources/text-file.ts';
import type { RawRow } from '../../sdk/src/cli/sources/types.ts';
import type { ColumnKind } from '../../sdk/src/row.ts';

const dir = mkdtempSync(join(tmpdir(), 'ls-rows-files-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

function file(content: string | Buffer, ext = 'csv'): string {
  const path = join(dir, `f${++files}.${ext}`);
  writeFileSync(path, content);
  return path;
}

async function all(iter: AsyncIterable<RawRow[]>): Promise<RawRow[]> {
  const out: RawRow[] = [];
  for await (const batch of iter) out.push(...batch);
  return out;
}

async function csv(content: string | Buffer, opts: { types?: Record<string, ColumnKind>; delimiter?: string; batchRows?: number } = {}) {
  const path = file(content);
  const { columns, rows } = await openCsv(path, opts);
  return { path, columns, rows: await all(rows) };
}

describe('CSV', () => {
  it('header, NULL (unquoted empty) against "" (quoted empty), kinds from types', async () => {
    const r = await csv('id,name,born,note\n1,Maria,2019-03-01,\n2,"",2020-01-01,""\n3,,,x\n', { types: { id: 'integer', born: 'date' } });
    expect(r.columns).toEqual([
      { name: 'id', kind: 'integer', sourceType: 'csv' },
      { name: 'name', kind: 'text', sourceType: 'csv' },
      { name: 'born', kind: 'date', sourceType: 'csv' },
      { name: 'note', kind: 'text', sourceType: 'csv' },
    ]);
    expect(r.rows).toEqual([
      ['1', 'Maria', '2019-03-01', null],
      ['2', '', '2020-01-01', ''],
      ['3', null, null, 'x'],
    ]);
  });

  it('quoted fields with delimiters, doubled quotes and line breaks; CRLF; no final line break', async () => {
    const r = await csv('a,b\r\n"x,y","say ""hi"""\r\n"two\nlines","crlf\r\ninside"\r\n  spaced  ,last');
    expect(r.rows).toEqual([
      ['x,y', 'say "hi"'],
      ['two\nlines', 'crlf\r\ninside'],
      ['  spaced  ', 'last'],
    ]);
  });

  it('a byte order mark at the start is skipped, U+FEFF elsewhere is data; other delimiters', async () => {
    expect((await csv('\uFEFFa;b\n\uFEFF1;"2"\n', { delimiter: ';' })).rows).toEqual([['\uFEFF1', '2']]);
    expect((await csv('\uFEFFa;b\n', { delimiter: ';' })).columns.map((c) => c.name)).toEqual(['a', 'b']);
    expect((await csv('a\tb\nx y\t"z\tw"\n', { delimiter: '\t' })).rows).toEqual([['x y', 'z\tw']]);
    await expect(csv('a\n', { delimiter: '"' })).rejects.toThrow(/delimiter must be one character/);
    await expect(csv('a\n', { delimiter: ',,' })).rejects.toThrow(/delimiter must be one character/);
  });

  it('names exactly as written; a header alone gives no rows; a blank line is one NULL field', async () => {
    const r = await csv('"Owner Name",owner,"a,b"\n');
    expect(r.columns.map((c) => c.name)).toEqual(['Owner Name', 'owner', 'a,b']);
    expect(r.rows).toEqual([]);
    expect((await csv('only\nx\n\ny\n')).rows).toEqual([['x'], [null], ['y']]);
  });

  it('errors name the file and the line', async () => {
    const bad = async (content: string, message: RegExp, opts = {}): Promise<void> => {
      const path = file(content);
      const open = async (): Promise<unknown> => all((await openCsv(path, opts)).rows);
      await expect(open()).rejects.toThrow(message);
    };
    await bad('a,b\n1,2\n"two\nlines",x\n1,2,3\n', /f\d+\.csv: line 5: 3 fields, the header has 2$/);
    await bad('a,b\n1,2\n\n', /line 3: 1 fields, the header has 2/);
    await bad('a,b\n1,2\n3,"open\nstill open\n', /line 3: unterminated quoted field/);
    await bad('a,b\n1,x"y\n', /line 2: a quote inside an unquoted field/);
    await bad('a,b\n1,"x"y\n', /line 2: unexpected "y" after a closing quote/);
    await bad('a,a\n', /line 1: column "a" appears twice in the header/);
    await bad('a,,b\n', /line 1: header field 2 is empty/);
    await bad('a,"",b\n', /line 1: header field 2 is empty/);
    await bad('d\n2024-01-01\n"x\ny"\n2023-02-29\n', /line 3, column "d" \(csv\): not a valid date value: "x\\ny"/, { types: { d: 'date' } });
    await bad('a\n1\n', /types names column "b", which the file does not have/, { types: { b: 'date' } });
    await bad('a\n1\n', /unknown kind "day" for column "a"/, { types: { a: 'day' } });
    await bad('', /empty file \(no header row\)/);
    const latin1 = file(Buffer.from('a\ncaf\xe9\n', 'latin1'));
    await expect((async () => all((await openCsv(latin1)).rows))()).rejects.toThrow(/not valid UTF-8/);
  });

  it('the incremental parser gives the same records for any split of the text (random CSVs)', () => {
    const field = fc.option(fc.string({ unit: fc.constantFrom('a', 'é', '😀', ',', '"', '\n', '\r\n', ' ', 'x') }), { nil: null });
    const quoteIf = (v: string | null, always: boolean): string =>
      v === null ? '' : always || v === '' || /[",\r\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v;
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }).chain((w) => fc.array(fc.array(field, { minLength: w, maxLength: w }), { minLength: 1, maxLength: 12 })),
        fc.boolean(), fc.boolean(), fc.boolean(), fc.array(fc.nat(), { maxLength: 5 }),
        (records, alwaysQuote, crlf, finalBreak, cuts) => {
          // A record of one NULL field is a blank line; as the last record it needs its line break (else it is the end of the file).
          const lastIsBlank = records.at(-1)!.length === 1 && records.at(-1)![0] === null;
          const text = records.map((r) => r.map((v) => quoteIf(v, alwaysQuote)).join(',')).join(crlf ? '\r\n' : '\n') + (finalBreak || lastIsBlank ? '\n' : '');
          const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
          const parser = new CsvParser(',');
          const got: (string | null)[][] = [];
          let carry = '';
          let last = 0;
          for (const p of [...points, text.length]) {
            const chunk = carry + text.slice(last, p);
            last = p;
            const final = p === text.length;
            carry = chunk.slice(parser.parse(chunk, final, (f) => got.push(f)));
          }
          expect(carry).toBe('');
          expect(got).toEqual(records);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('records, quoted line breaks and multibyte characters across read blocks', async () => {
    const huge = `${'é😀,"\n'.repeat(40_000)}end`; // about 440 kB in one quoted field
    const lines: string[] = ['id,text,n'];
    const expected: RawRow[] = [];
    for (let i = 1; i <= 30_000; i++) {
      const text = i === 777 ? huge : `row ${i} ${'é😀'.repeat(i % 11)}`;
      lines.push(`${i},"${text.replaceAll('"', '""')}",${i % 3 === 0 ? '' : `${i}.50`}`);
      expected.push([String(i), text, i % 3 === 0 ? null : `${i}.5`]);
    }
    const content = `${lines.join('\r\n')}\r\n`;
    expect(Buffer.byteLength(content)).toBeGreaterThan(10 * TEXT_CHUNK_BYTES);
    const r = await csv(content, { types: { id: 'integer', n: 'decimal' }, batchRows: 1000 });
    expect(r.rows.length).toBe(30_000);
    expect(r.rows).toEqual(expected);
    // Line numbers after the huge field still count its line breaks.
    const withError = content.replace('\r\n30000,', '\r\n30000,x,');
    await expect((async () => all((await openCsv(file(withError), {})).rows))()).rejects.toThrow(`line ${30_000 + 1 + 40_000}: 4 fields`);
  });

  it('batches of at most batchRows; stopping early closes the file', async () => {
    const path = file(`n\n${Array.from({ length: 2500 }, (_, i) => i).join('\n')}\n`);
    const sizes: number[] = [];
    for await (const batch of (await openCsv(path, { batchRows: 1000 })).rows) sizes.push(batch.length);
    expect(sizes).toEqual([1000, 1000, 500]);
    for await (const batch of (await openCsv(path, { batchRows: 10 })).rows) {
      expect(batch[0]).toEqual(['0']);
      break;
    }
  });
});

describe('NDJSON', () => {
  async function ndjson(content: string, types?: Record<string, ColumnKind>) {
    const { columns, rows } = await openNdjson(file(content, 'ndjson'), { types });
    return { columns, rows: await all(rows) };
  }

  it('columns from the first object; values by JSON type, or by types', async () => {
    const r = await ndjson(
      [
        '{"id":"4711","area":"1250.50","ratio":1.50,"ok":true,"meta":{"b":1,"a":[2]},"note":null,"born":"2019-03-01"}',
        '',
        '  {"born":null,"note":"","meta":[],"ok":false,"ratio":-0,"area":"-0.00","id":"-0"}  ',
        '{"id":"1","area":"1e3","ratio":1e21,"ok":true,"meta":"text","note":"x","born":"2020-02-29"}\r',
      ].join('\n') + '\n',
      { id: 'integer', area: 'decimal', born: 'date' },
    );
    expect(r.columns).toEqual([
      { name: 'id', kind: 'integer', sourceType: 'ndjson' },
      { name: 'area', kind: 'decimal', sourceType: 'ndjson' },
      { name: 'ratio', kind: 'float', sourceType: 'ndjson' },
      { name: 'ok', kind: 'boolean', sourceType: 'ndjson' },
      { name: 'meta', kind: 'json', sourceType: 'ndjson' },
      { name: 'note', kind: 'text', sourceType: 'ndjson' },
      { name: 'born', kind: 'date', sourceType: 'ndjson' },
    ]);
    expect(r.rows).toEqual([
      ['4711', '1250.5', '1.5', 'true', '{"a":[2],"b":1}', null, '2019-03-01'],
      ['0', '0', '0', 'false', '[]', '', null],
      ['1', '1000', '1e+21', 'true', 'text', 'x', '2020-02-29'],
    ]);
  });

  it('numbers with types; a BOM; objects and strings as json', async () => {
    const r = await ndjson('\uFEFF{"n":12,"d":0.1,"j":"{\\"b\\":1,\\"a\\":2}","t":5}\n', { n: 'integer', d: 'decimal', j: 'json', t: 'text' });
    expect(r.rows).toEqual([['12', '0.1', '{"a":2,"b":1}', '5']]);
  });

  it('errors name the file and the line', async () => {
    const bad = async (content: string, message: RegExp, types?: Record<string, ColumnKind>): Promise<void> => {
      const path = file(content, 'ndjson');
      await expect((async () => all((await openNdjson(path, { types })).rows))()).rejects.toThrow(message);
    };
    await bad('{"a":1}\n\n{"a":\n', /f\d+\.ndjson: line 3: not JSON/);
    await bad('{"a":1}\n[1]\n', /line 2: expected a JSON object, got an array/);
    // A member name twice (JSON.parse would keep the last): refused, at the top level, nested, or spelled with an escape.
    await bad('{"a":1}\n{"a":1,"a":2}\n', /line 2: duplicate member name "a" in the object at \$ \(I-JSON/);
    await bad('{"a":{"x":1,"y":{"z":1,"z":1}}}\n', /line 1: duplicate member name "z" in the object at \$\.a\.y /);
    await bad('{"a":1,"\\u0061":2}\n', /line 1: duplicate member name "a"/);
    await bad('{"a":1}\nnull\n', /line 2: expected a JSON object, got null/);
    await bad('{"a":1}\n"a"\n', /line 2: expected a JSON object, got string/);
    await bad('{"a":1,"b":2}\n{"a":1}\n', /line 2: the keys differ from the first object's; missing "b"$/);
    await bad('{"a":1}\n{"a":1,"c":3}\n', /line 2: the keys differ from the first object's; unexpected "c"$/);
    await bad('{"a":1,"b":2}\n{"a":1,"c":3}\n', /missing "b"; unexpected "c"/);
    await bad('{}\n', /line 1: the first object has no keys/);
    await bad('{"a":12345678901234567890}\n', /line 1, column "a" \(ndjson\): the JSON number 12345678901234567000 is not an exact integer/, { a: 'integer' });
    await bad('{"a":"2023-02-29"}\n', /line 1, column "a" \(ndjson\): not a valid date value/, { a: 'date' });
    await bad('{"a":1}\n', /types names column "b"/, { b: 'text' });
    await bad('\n \n', /no JSON object \(the file is empty or blank\)/);
  });

  it('many lines across read blocks', async () => {
    const lines = Array.from({ length: 20_000 }, (_, i) => JSON.stringify({ i: String(i), t: `é😀 ${'x'.repeat(i % 50)}`, n: i / 4 }));
    const r = await ndjson(`${lines.join('\n')}\n`, { i: 'integer' });
    expect(r.rows.length).toBe(20_000);
    expect(r.rows[12_345]).toEqual(['12345', `é😀 ${'x'.repeat(12_345 % 50)}`, String(12_345 / 4)]);
  });
});
