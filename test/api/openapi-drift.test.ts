/**
 * The committed contract (openapi/openapi.json and openapi/types.d.ts) must be
 * exactly what the routes generate; fix a failure with `npm run gen:openapi`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FIX_COMMAND, generateOpenApi, OPENAPI_JSON, OPENAPI_TYPES } from '../../scripts/gen-openapi.ts';

const read = (path: string): string | null => (existsSync(path) ? readFileSync(path, 'utf8') : null);

function firstDifference(a: string, b: string): string {
  const al = a.split('\n');
  const bl = b.split('\n');
  for (let i = 0; i < Math.max(al.length, bl.length); i++) {
    if (al[i] !== bl[i]) return `line ${i + 1}:\n  committed: ${al[i] ?? '<end of file>'}\n  generated: ${bl[i] ?? '<end of file>'}`;
  }
  return 'identical';
}

describe('OpenAPI contract drift', async () => {
  const generated = await generateOpenApi();

  for (const [name, path, fresh] of [
    ['openapi/openapi.json', OPENAPI_JSON, generated.json],
    ['openapi/types.d.ts', OPENAPI_TYPES, generated.types],
  ] as const) {
    it(`${name} matches the routes`, () => {
      const committed = read(path);
      const hint = `${name} is out of date with the routes; run \`${FIX_COMMAND}\` (or \`npx tsx scripts/gen-openapi.ts\`) and commit the result.`;
      if (committed === null) expect.fail(`${name} is missing. ${hint}`);
      if (committed !== fresh) expect.fail(`${hint}\nFirst difference at ${firstDifference(committed, fresh)}`);
    });
  }

  it('declares every operation with an operationId, tags, security and a problem response', () => {
    const doc = JSON.parse(generated.json) as { paths: Record<string, Record<string, Record<string, any>>> };
    const ids = new Set<string>();
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const where = `${method.toUpperCase()} ${path}`;
        expect(op.operationId, where).toBeTruthy();
        expect(ids.has(op.operationId), where).toBe(false);
        ids.add(op.operationId);
        expect(op.tags?.length, where).toBeGreaterThan(0);
        expect(Array.isArray(op.security), where).toBe(true);
        expect(op.responses['500']?.content?.['application/problem+json'], where).toBeTruthy();
      }
    }
    expect(ids.size).toBeGreaterThanOrEqual(17);
  });
});
