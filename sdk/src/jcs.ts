/**
 * RFC 8785 JSON Canonicalization Scheme (JCS).
 *
 * - Objects: members sorted by key, comparing UTF-16 code units (RFC 8785 3.2.3),
 *   which is exactly JavaScript's default string ordering.
 * - Numbers: the ECMAScript Number-to-String algorithm (RFC 8785 3.2.2.3), i.e.
 *   `String(n)`, with -0 written as 0; NaN and Infinity are errors.
 * - Strings: JSON.stringify escaping (RFC 8785 3.2.2.2: only `"`, `\` and control
 *   characters are escaped, with \b \t \n \f \r short forms and lowercase \u00xx).
 *   Lone surrogates are errors: they have no UTF-8 form (RFC 8785 3.2.2.2, I-JSON).
 * - Only JSON values are accepted: undefined, functions, symbols, bigint, Dates and
 *   other class instances are refused rather than silently converted.
 */
import { fail } from './errors.ts';

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function serializeString(s: string, path: string): string {
  if (LONE_SURROGATE.test(s)) fail('NOT_CANONICALIZABLE', `lone surrogate in string at ${path}`);
  return JSON.stringify(s);
}

function serializeNumber(n: number, path: string): string {
  if (!Number.isFinite(n)) fail('NOT_CANONICALIZABLE', `${String(n)} is not a JSON number (at ${path})`);
  return Object.is(n, -0) ? '0' : String(n);
}

function serialize(value: unknown, path: string, depth: number): string {
  if (depth > 1000) fail('NOT_CANONICALIZABLE', `nesting deeper than 1000 at ${path}`);
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      return serializeNumber(value, path);
    case 'string':
      return serializeString(value, path);
    case 'object': {
      if (Array.isArray(value)) {
        const parts: string[] = [];
        for (let i = 0; i < value.length; i++) {
          if (!(i in value)) fail('NOT_CANONICALIZABLE', `sparse array at ${path}[${i}]`);
          parts.push(serialize(value[i], `${path}[${i}]`, depth + 1));
        }
        return `[${parts.join(',')}]`;
      }
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) {
        fail('NOT_CANONICALIZABLE', `${proto?.constructor?.name ?? 'object'} at ${path} is not a plain JSON object`);
      }
      const obj = value as Record<string, unknown>;
      const keys = Object.keys(obj).sort();
      const parts: string[] = [];
      for (const k of keys) {
        const childPath = `${path}.${k}`;
        parts.push(`${serializeString(k, childPath)}:${serialize(obj[k], childPath, depth + 1)}`);
      }
      return `{${parts.join(',')}}`;
    }
    default:
      fail('NOT_CANONICALIZABLE', `${typeof value} at ${path} is not a JSON value`);
  }
}

/** The RFC 8785 canonical JSON text of a JSON value. */
export function canonicalJson(value: unknown): string {
  return serialize(value, '$', 0);
}
