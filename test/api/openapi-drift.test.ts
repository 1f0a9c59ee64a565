/**
 * The committed contract (openapi/openapi.json, openapi/types.d.ts and the sdk's
 * copy of the types, sdk/src/client/openapi.ts) must be exactly what the routes
 * generate; fix a failure with `npm run gen:openapi`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FIX_COMMAND, generateOpenApi, OPENAPI_JSON, OPENAPI_TYPES, SDK_CLIENT_TYPES } from '../../scripts/gen-openapi.ts';

const read = (path: string): string | null => (existsSync(path) ? readFileSync(path, 'utf8') : null);

function firstDifference(a: string, b: string): string {
  const al = a.split('\n');
  const bl = b.split('\n');
  for (let i = 0; i < Math.max(al.length, bl.length); i++) {
    if (al[i] !== bl[i]) return `line ${i + 1}:\n  committed: ${al[i] ?? '<end of file>'}\n  generated: ${bl[i] ?? '<end of file>'}`;
  }
  return 'identical';
}

/** Why a committed file is not the generated one (with the command that fixes it), or null when it is. */
function drift(name: string, committed: string | null, fresh: string): string | null {
  const hint = `${name} is out of date with the routes; run \`${FIX_COMMAND}\` (or \`npx tsx scripts/gen-openapi.ts\`) and commit the result.`;
  if (committed === null) return `${name} is missing. ${hint}`;
  if (committed !== fresh) return `${hint}\nFirst difference at ${firstDifference(committed, fresh)}`;
  return null;
}

describe('OpenAPI contract drift', async () => {
  const generated = await generateOpenApi();

  for (const [name, path, fresh] of [
    ['openapi/openapi.json', OPENAPI_JSON, generated.json],
    ['openapi/types.d.ts', OPENAPI_TYPES, generated.types],
    ['sdk/src/client/openapi.ts', SDK_CLIENT_TYPES, generated.sdkTypes],
  ] as const) {
    it(`${name} matches the routes`, () => {
      const problem = drift(name, read(path), fresh);
      if (problem !== null) expect.fail(problem);
    });
  }

  it("the sdk's copy is openapi/types.d.ts under one comment line, and a stale copy fails with the fix command", () => {
    const [note, ...rest] = generated.sdkTypes.split('\n');
    expect(note).toMatch(/^\/\/ .*npm run gen:openapi/);
    expect(rest.join('\n')).toBe(generated.types);
    const stale = generated.sdkTypes.replace('"/v1/batches/{id}"', '"/v1/batch/{id}"');
    expect(stale).not.toBe(generated.sdkTypes);
    const problem = drift('sdk/src/client/openapi.ts', stale, generated.sdkTypes);
    expect(problem).toContain(`run \`${FIX_COMMAND}\``);
    expect(problem).toContain('sdk/src/client/openapi.ts is out of date');
    expect(drift('sdk/src/client/openapi.ts', null, generated.sdkTypes)).toMatch(/is missing.*npm run gen:openapi/);
  });

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
