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

/**
 * Parse JSON text as I-JSON (RFC 7493), which RFC 8785 requires of its input:
 * like JSON.parse, but an object with two members of the same name (after
 * unescaping: `"a"` and `"\u0061"` are the same name) is refused. JSON.parse
 * keeps the last of them, so two texts that differ only in the first would
 * canonicalize, hash and anchor alike: a change to a record nobody could
 * detect. Throws INVALID_JSON, with the name and where it is (`$.a.b`).
 */
export function parseJsonStrict(text: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    fail('INVALID_JSON', `not JSON: ${(e as Error).message}`, e);
  }
  // The text is valid JSON from here: one pass over it, tracking the member names of each open object.
  if (text.indexOf('{') >= 0) checkMemberNames(text);
  return value;
}

function checkMemberNames(text: string): void {
  // One entry per open container: the member names seen so far (objects) or null (arrays), with its path.
  const names: (Set<string> | null)[] = [];
  const paths: string[] = [];
  let lastName = '';
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      const start = i;
      let escaped = false;
      for (i++; i < n; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x5c /* \ */) {
          escaped = true;
          i++;
        } else if (d === 0x22) break;
      }
      // A string is a member name when the next non-space character is a colon.
      let j = i + 1;
      while (j < n && (text.charCodeAt(j) === 0x20 || text.charCodeAt(j) === 0x09 || text.charCodeAt(j) === 0x0a || text.charCodeAt(j) === 0x0d)) j++;
      if (text.charCodeAt(j) !== 0x3a /* : */) continue;
      const raw = text.slice(start + 1, i);
      const name = escaped ? (JSON.parse(text.slice(start, i + 1)) as string) : raw;
      const seen = names[names.length - 1];
      if (seen) {
        if (seen.has(name)) fail('INVALID_JSON', `duplicate member name ${JSON.stringify(name)} in the object at ${paths[paths.length - 1]} (I-JSON, RFC 7493 2.3)`);
        seen.add(name);
      }
      lastName = name;
      i = j;
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      const parent = paths.length === 0 ? '$' : paths[paths.length - 1]!;
      const inObject = names.length > 0 && names[names.length - 1] !== null;
      const path = names.length === 0 ? '$' : inObject ? `${parent}.${lastName}` : `${parent}[]`;
      names.push(c === 0x7b ? new Set<string>() : null);
      paths.push(path);
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      names.pop();
      paths.pop();
    }
  }
}
