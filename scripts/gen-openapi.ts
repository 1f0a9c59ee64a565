/**
 * Writes the HTTP contract generated from the routes:
 *
 *   openapi/openapi.json   OpenAPI 3.1 from app.getOpenAPI31Document (functions/app.ts)
 *   openapi/types.d.ts     `paths` / `components` types from openapi-typescript
 *   sdk/src/client/openapi.ts  the same types as a module of the sdk, so that the
 *                          published @ledgerseal/sdk/client is self-contained
 *
 * Run `npm run gen:openapi` (= `tsx scripts/gen-openapi.ts`) after changing a
 * route or schema and commit the three files; test/api/openapi-drift.test.ts
 * fails while they differ from what the routes produce.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import openapiTS, { astToString, COMMENT_HEADER } from 'openapi-typescript';
import { createApp, openApiDocument } from '../functions/app.ts';
import { loadConfig } from '../functions/config.ts';
import { silentLogger, systemClock } from '../functions/services.ts';
import type { Store } from '../functions/store/port.ts';

export const OPENAPI_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'openapi');
export const OPENAPI_JSON = join(OPENAPI_DIR, 'openapi.json');
export const OPENAPI_TYPES = join(OPENAPI_DIR, 'types.d.ts');
export const SDK_CLIENT_TYPES = join(dirname(fileURLToPath(import.meta.url)), '..', 'sdk', 'src', 'client', 'openapi.ts');
export const FIX_COMMAND = 'npm run gen:openapi';

/**
 * The document depends on the routes only, never on services: the app is built
 * over a store that refuses every call (nothing is called while describing routes).
 */
function documentOnlyStore(): Store {
  return new Proxy({} as Store, {
    get: (_t, name) => () => {
      throw new Error(`gen-openapi: store.${String(name)} called while generating the document`);
    },
  });
}

/** The first line of the sdk's copy: the rest is exactly openapi/types.d.ts. */
const SDK_COPY_NOTE = '// Written by `npm run gen:openapi` (scripts/gen-openapi.ts): a copy of openapi/types.d.ts owned by the sdk.\n';

export async function generateOpenApi(): Promise<{ json: string; types: string; sdkTypes: string }> {
  const app = createApp({
    store: documentOnlyStore(),
    config: loadConfig({}),
    validatorSet: { format: 'ledgerseal-validators/v1', validators: [] },
    clock: systemClock,
    log: silentLogger,
  });
  const doc = openApiDocument(app);
  const json = `${JSON.stringify(doc, null, 2)}\n`;
  const ast = await openapiTS(JSON.parse(json), { silent: true });
  const types = COMMENT_HEADER + astToString(ast);
  return { json, types, sdkTypes: SDK_COPY_NOTE + types };
}

async function main(): Promise<void> {
  const { json, types, sdkTypes } = await generateOpenApi();
  mkdirSync(OPENAPI_DIR, { recursive: true });
  mkdirSync(dirname(SDK_CLIENT_TYPES), { recursive: true });
  writeFileSync(OPENAPI_JSON, json);
  writeFileSync(OPENAPI_TYPES, types);
  writeFileSync(SDK_CLIENT_TYPES, sdkTypes);
  console.log(`wrote ${OPENAPI_JSON}, ${OPENAPI_TYPES} and ${SDK_CLIENT_TYPES}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  main().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}
