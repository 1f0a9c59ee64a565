/**
 * Accept-Encoding as the web routes read it (functions/api/web.ts
 * acceptsGzip, RFC 9110 12.5.3): gzip only when the client lists it (or `*`)
 * with a weight above zero; no header, identity only, or q=0 means the
 * uncompressed body.
 */
import { describe, expect, it } from 'vitest';
import { acceptsGzip } from '../../functions/api/web.ts';

describe('acceptsGzip', () => {
  it.each([
    ['gzip', true],
    ['gzip, deflate, br, zstd', true], // browsers
    ['br;q=1.0, gzip;q=0.8, *;q=0.1', true],
    ['x-gzip', true], // RFC 9110 8.4.1.3: an alias of gzip
    ['GZIP;Q=0.5', true], // codings and parameters are case-insensitive
    ['*', true],
    ['identity, *;q=0.5', true],
  ])('%s: gzip', (header, expected) => expect(acceptsGzip(header)).toBe(expected));

  it.each([
    [undefined, false],
    ['', false],
    ['identity', false],
    ['br', false],
    ['gzip;q=0', false],
    ['gzip;q=0.000, *', false], // an explicit gzip weight beats the wildcard
    ['*;q=0', false],
    ['deflate, *;q=0', false],
  ])('%s: not gzip', (header, expected) => expect(acceptsGzip(header)).toBe(expected));
});
