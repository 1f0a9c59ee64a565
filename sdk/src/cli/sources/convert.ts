/**
 * Per-column conversion from a source's text to the canonical text of
 * `ledgerseal-row/v1` (docs/rows.md), chosen once per column so the row loops
 * make no per-field decisions. null means "keep the text as it is".
 */
import { LedgersealError, fail } from '../../errors.ts';
import { canonicalValue, COLUMN_KINDS, type ColumnKind } from '../../row.ts';
import type { ColumnInfo } from './types.ts';

export type Converter = ((text: string) => string) | null;

/** canonicalValue of a kind as a function, or null where it returns the text unchanged. */
export function canonicalizer(kind: ColumnKind): Converter {
  if (!COLUMN_KINDS.includes(kind)) fail('INVALID_ARGUMENT', `unknown column kind ${JSON.stringify(kind)}`);
  if (kind === 'text' || kind === 'other') return null;
  return (text) => canonicalValue(kind, text);
}

/** Remove trailing U+0020 spaces (the padding of SQL CHAR(n)). */
export function trimPadding(text: string): string {
  let end = text.length;
  while (end > 0 && text.charCodeAt(end - 1) === 32) end--;
  return end === text.length ? text : text.slice(0, end);
}

/** The error of a value that does not convert, naming where it is. */
export function valueError(where: string, column: ColumnInfo, e: unknown): Error {
  const message = `${where}, column ${JSON.stringify(column.name)} (${column.sourceType}): ${(e as Error).message}`;
  if (e instanceof LedgersealError) return new LedgersealError(e.code, message, { cause: e });
  return new Error(message, { cause: e });
}

/** A positive integer option, or its default. */
export function positiveInt(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) fail('INVALID_ARGUMENT', `${name} must be a positive integer, got ${String(value)}`);
  return value;
}
