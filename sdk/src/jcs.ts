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
  if (text.indexOf('{') < 0) return value; // no object, no member name
  // Fast check, for text without escapes (each string in the value is then written as is in the text):
  // every colon of the text separates a member or is inside a string. JSON.parse drops all but one of
  // a repeated member, so the text has more colons than the value accounts for exactly when one repeats.
  if (text.indexOf('\\') < 0 && colons(text) === colonsOf(value)) return value;
  // The exact check, which also says where: one pass over the text, tracking each open object's member names.
  checkMemberNames(text);
  return value;
}

function colons(s: string): number {
  let count = 0;
  for (let i = s.indexOf(':'); i >= 0; i = s.indexOf(':', i + 1)) count++;
  return count;
}

/** The colons a text of `value` without escapes holds: one per member, and those inside names and strings. */
function colonsOf(value: unknown): number {
  if (typeof value === 'string') return colons(value);
  if (typeof value !== 'object' || value === null) return 0;
  let count = 0;
  if (Array.isArray(value)) {
    for (const v of value) count += colonsOf(v);
    return count;
  }
  for (const k of Object.keys(value)) count += 1 + colons(k) + colonsOf((value as Record<string, unknown>)[k]);
  return count;
}

function checkMemberNames(text: string): void {
  // One entry per open container: the member names seen so far (objects) or null (arrays), and how it
  // was reached (its member name, or null in an array) for the error's path, built only on an error.
  // A few names are kept in an array (includes() on a few strings is cheaper: NDJSON reads millions of
  // lines), more in a Set (an object of thousands of members stays linear).
  const names: (string[] | Set<string> | null)[] = [];
  const via: (string | null)[] = [];
  let lastName = '';
  const n = text.length;
  const anyEscape = text.indexOf('\\') >= 0;
  const duplicate = (name: string): never => {
    const path = via.slice(1).map((k) => (k === null ? '[]' : `.${k}`)).join('');
    return fail('INVALID_JSON', `duplicate member name ${JSON.stringify(name)} in the object at $${path} (I-JSON, RFC 7493 2.3)`);
  };
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      const start = i;
      // The closing quote: the next one not escaped (preceded by an even number of backslashes).
      let end = text.indexOf('"', i + 1);
      for (;;) {
        let b = end - 1;
        while (text.charCodeAt(b) === 0x5c /* \ */) b--;
        if ((end - 1 - b) % 2 === 0) break;
        end = text.indexOf('"', end + 1);
      }
      i = end;
      // A string is a member name when the next non-space character is a colon.
      let j = end + 1;
      let d = text.charCodeAt(j);
      while (d === 0x20 || d === 0x09 || d === 0x0a || d === 0x0d) d = text.charCodeAt(++j);
      if (d !== 0x3a /* : */) continue;
      let name = text.slice(start + 1, end);
      if (anyEscape && name.indexOf('\\') >= 0) name = JSON.parse(text.slice(start, end + 1)) as string;
      const seen = names[names.length - 1];
      if (Array.isArray(seen)) {
        if (seen.includes(name)) duplicate(name);
        seen.push(name);
        if (seen.length > 32) names[names.length - 1] = new Set(seen);
      } else if (seen) {
        if (seen.has(name)) duplicate(name);
        seen.add(name);
      }
      lastName = name;
      i = j;
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      const inObject = names.length > 0 && names[names.length - 1] !== null;
      via.push(inObject ? lastName : null);
      names.push(c === 0x7b ? [] : null);
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      names.pop();
      via.pop();
    }
  }
}
