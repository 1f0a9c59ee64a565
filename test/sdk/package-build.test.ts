/**
 * The sdk as it would be published (scripts/build-sdk.ts): compiled JavaScript
 * that plain Node imports without any TypeScript loader, picking node:crypto
 * through the "#sha256" condition, with declarations a strict consumer
 * type-checks against.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildSdk } from '../../scripts/build-sdk.ts';
import { bytesToHex, merkleRoot, utf8 } from '../../sdk/src/index.ts';

// Inside the repo's node_modules so the output resolves @noble/* like an installed package would.
const work = join(import.meta.dirname, '..', '..', 'node_modules', '.cache', `ledgerseal-sdk-build-${process.pid}`);
const dist = join(work, 'node_modules', '@ledgerseal', 'sdk');
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('published sdk build', () => {
  it('compiles, and plain Node imports it by package name with node:crypto selected', () => {
    buildSdk(dist);
    const manifest = JSON.parse(readFileSync(join(dist, 'package.json'), 'utf8'));
    expect(manifest).toMatchObject({ name: '@ledgerseal/sdk', type: 'module', sideEffects: false });
    // The manifest carries the package's own dependencies (the client and CLI ones too since 37862ea).
    const source = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'sdk', 'package.json'), 'utf8'));
    expect(manifest.dependencies).toEqual(source.dependencies);
    expect(Object.keys(manifest.dependencies)).toEqual(expect.arrayContaining(['@noble/curves', '@noble/hashes']));

    const script = `
      import * as sdk from '@ledgerseal/sdk';
      const leaves = Array.from({ length: 37 }, (_, i) => new TextEncoder().encode('leaf ' + i));
      console.log(JSON.stringify({ backend: sdk.SHA256_BACKEND, root: sdk.bytesToHex(sdk.merkleRoot(leaves)), n: Object.keys(sdk).length }));
    `;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: work, encoding: 'utf8' });
    const result = JSON.parse(out.trim());
    const leaves = Array.from({ length: 37 }, (_, i) => utf8(`leaf ${i}`));
    expect(result.backend).toBe('node:crypto');
    expect(result.root).toBe(bytesToHex(merkleRoot(leaves)));
    expect(result.n).toBeGreaterThan(50);
  });

  it('ships declarations a strict NodeNext consumer type-checks against', () => {
    mkdirSync(join(work, 'consumer'), { recursive: true });
    writeFileSync(join(work, 'consumer', 'package.json'), '{ "type": "module" }\n');
    writeFileSync(join(work, 'consumer', 'use.ts'), `
      import { verifyProof, MerkleTree, sha256, type ProofResult, type ValidatorSet } from '@ledgerseal/sdk';
      const set: ValidatorSet = { format: 'ledgerseal-validators/v1', validators: [] };
      const r: ProofResult = verifyProof({}, { validators: set });
      const root: Uint8Array = MerkleTree.fromLeafData([sha256(new Uint8Array(1))]).root();
      export const ok: boolean = r.ok && root.length === 32;
    `);
    const tsc = join(import.meta.dirname, '..', '..', 'node_modules', 'typescript', 'bin', 'tsc');
    execFileSync(process.execPath, [tsc, '--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext',
      '--target', 'es2022', '--types', 'node', '--typeRoots', join(import.meta.dirname, '..', '..', 'node_modules', '@types'), join(work, 'consumer', 'use.ts')],
      { cwd: join(work, 'consumer'), encoding: 'utf8' });
  });
});
