/**
 * @ledgerseal/sdk/client — the HTTP client of the Ledgerseal API and the
 * anchoring workflow on top of it. Runs in Node and browsers. The protocol
 * core (`@ledgerseal/sdk`) has no network code; this subpath adds it.
 */
export type { components, operations, paths } from './openapi.ts';
export * from './client.ts';
export * from './anchoring.ts';
