/**
 * Writes the HTTP contract generated from the routes:
 *
 *   openapi/openapi.json   OpenAPI 3.1 from app.getOpenAPI31Document (functions/app.ts)
 *   openapi/types.d.ts     `paths` / `components` types from openapi-typescript
 *
 * Run `npm run gen:openapi` (= `tsx scripts/gen-openapi.ts`) after changing a
 * route or schema and commit both files; test/api/openapi-drift.test.ts fails
 * while they differ from what the routes produce.
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

export async function generateOpenApi(): Promise<{ json: string; types: string }> {
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
  return { json, types: COMMENT_HEADER + astToString(ast) };
}

async function main(): Promise<void> {
  const { json, types } = await generateOpenApi();
  mkdirSync(OPENAPI_DIR, { recursive: true });
  writeFileSync(OPENAPI_JSON, json);
  writeFileSync(OPENAPI_TYPES, types);
  console.log(`wrote ${OPENAPI_JSON} and ${OPENAPI_TYPES}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  main().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}
