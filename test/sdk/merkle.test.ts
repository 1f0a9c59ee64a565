/**
 * RFC 9162 section 2.1 Merkle trees: the Certificate Transparency reference vectors
 * (test/vectors/rfc6962.json), an exhaustive cross-check of small trees against a
 * reference implementation written from the RFC's definitions, fast-check properties
 * on random trees of up to a few thousand leaves, tampering, huge (2^53) sizes, and
 * one test per error.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bytesToHex, hexToBytes } from '../../sdk/src/encoding.ts';
import { LedgersealError } from '../../sdk/src/errors.ts';
import {
  consistencyProof, emptyRoot, hashRange, inclusionProof, LEAF_PREFIX, leafHash, merkleRoot, MerkleTree,
  NODE_PREFIX, nodeHash, rootFromInclusionProof, verifyConsistency, verifyInclusion,
} from '../../sdk/src/merkle.ts';
import { consistencyProofRanges, inclusionProofRanges, perfectSubtrees, type LeafRange } from '../../sdk/src/merkle-shape.ts';
import { expectSdkError as expectError } from '../helpers/sdk-errors.ts';

interface Vectors {
  source: string;
  leaves: string[];
  emptyRoot: string;
  roots: string[];
  nodes: string[][];
  inclusion: { index: number; size: number; path: string[] }[];
  consistency: { size1: number; size2: number; proof: string[] }[];
}
const V = JSON.parse(readFileSync(new URL('../vectors/rfc6962.json', import.meta.url), 'utf8')) as Vectors;
const LEAVES = V.leaves.map((h) => hexToBytes(h));
const hex = (bs: Uint8Array[]): string[] => bs.map(bytesToHex);


// ---------------------------------------------------------------------------
// Reference implementation: RFC 9162 2.1.1 MTH, 2.1.3.1 PATH, 2.1.4.1 PROOF/SUBPROOF,
// verbatim and deliberately naive (slices, recursion, node:crypto directly).
const HASH = (...parts: Uint8Array[]): Uint8Array => new Uint8Array(createHash('sha256').update(Buffer.concat(parts)).digest());
const k = (n: number): number => { let x = 1; while (x * 2 < n) x *= 2; return x; }; // largest power of two < n
function MTH(D: Uint8Array[]): Uint8Array {
  const n = D.length;
  if (n === 0) return HASH();
  if (n === 1) return HASH(Uint8Array.of(0x00), D[0]!);
  return HASH(Uint8Array.of(0x01), MTH(D.slice(0, k(n))), MTH(D.slice(k(n))));
}
function PATH(m: number, D: Uint8Array[]): Uint8Array[] {
  const n = D.length;
  if (n === 1) return [];
  if (m < k(n)) return [...PATH(m, D.slice(0, k(n))), MTH(D.slice(k(n)))];
  return [...PATH(m - k(n), D.slice(k(n))), MTH(D.slice(0, k(n)))];
}
function SUBPROOF(m: number, D: Uint8Array[], b: boolean): Uint8Array[] {
  const n = D.length;
  if (m === n) return b ? [] : [MTH(D)];
  if (m <= k(n)) return [...SUBPROOF(m, D.slice(0, k(n)), b), MTH(D.slice(k(n)))];
  return [...SUBPROOF(m - k(n), D.slice(k(n)), false), MTH(D.slice(0, k(n)))];
}
const PROOF = (m: number, D: Uint8Array[]): Uint8Array[] => SUBPROOF(m, D, true);
/** The same recursion as PATH, returning leaf ranges: the side of each sibling is the proof's shape. */
function PATH_RANGES(m: number, lo: number, hi: number): LeafRange[] {
  if (hi - lo === 1) return [];
  const s = lo + k(hi - lo);
  return m < s ? [...PATH_RANGES(m, lo, s), [s, hi]] : [...PATH_RANGES(m, s, hi), [lo, s]];
}
const pathShape = (m: number, size: number): string => PATH_RANGES(m, 0, size).map(([, end]) => (end <= m ? 'L' : 'R')).join('');
// ---------------------------------------------------------------------------

/** Leaf data for a random tree: varied lengths (including empty), derived from a seed. */
function makeLeaves(n: number, seed: number): Uint8Array[] {
  return Array.from({ length: n }, (_, i) => HASH(Uint8Array.of(seed & 255, seed >> 8, i & 255, i >> 8)).slice(0, (i * 7 + seed) % 41));
}

const flipBit = (b: Uint8Array, bit: number): Uint8Array => {
  const c = b.slice();
  c[(bit >> 3) % c.length]! ^= 1 << (bit & 7);
  return c;
};
const replaceAt = <T>(xs: T[], i: number, x: T): T[] => xs.map((y, j) => (j === i ? x : y));

describe('RFC 6962 reference vectors (Certificate Transparency)', () => {
  const tree = MerkleTree.fromLeafData(LEAVES);

  it('names its source', () => {
    expect(V.source).toMatch(/certificate-transparency/);
    expect(V.source).toMatch(/transparency-dev\/merkle/);
  });

  it('hash prefixes and the empty tree root', () => {
    expect(LEAF_PREFIX).toBe(0x00);
    expect(NODE_PREFIX).toBe(0x01);
    expect(bytesToHex(emptyRoot())).toBe(V.emptyRoot);
    expect(bytesToHex(merkleRoot([]))).toBe(V.emptyRoot);
    expect(bytesToHex(MerkleTree.fromLeafHashes([]).root())).toBe(V.emptyRoot);
    expect(bytesToHex(tree.rootAt(0))).toBe(V.emptyRoot);
    expect(bytesToHex(hashRange([]))).toBe(V.emptyRoot);
  });

  for (let n = 0; n <= 8; n++) {
    it(`root of the first ${n} leaves`, () => {
      const want = V.roots[n]!;
      expect(bytesToHex(merkleRoot(LEAVES.slice(0, n)))).toBe(want);
      expect(bytesToHex(tree.rootAt(n))).toBe(want);
      expect(bytesToHex(MerkleTree.fromLeafHashes(LEAVES.slice(0, n).map(leafHash)).root())).toBe(want);
      expect(bytesToHex(MTH(LEAVES.slice(0, n)))).toBe(want);
    });
  }

  it('every stored node equals the vector node hashes', () => {
    V.nodes.forEach((level, l) => level.forEach((h, i) => expect(bytesToHex(tree.subtreeHash(l, i))).toBe(h)));
    V.nodes[0]!.forEach((h, i) => {
      expect(bytesToHex(tree.leafHash(i))).toBe(h);
      expect(bytesToHex(leafHash(LEAVES[i]!))).toBe(h);
    });
    expect(bytesToHex(nodeHash(hexToBytes(V.nodes[0]![0]!), hexToBytes(V.nodes[0]![1]!)))).toBe(V.nodes[1]![0]);
  });

  for (const v of V.inclusion) {
    it(`inclusion proof of leaf ${v.index} in a tree of ${v.size}`, () => {
      const leaves = LEAVES.slice(0, v.size);
      const root = hexToBytes(V.roots[v.size]!);
      const proof = v.path.map((h) => hexToBytes(h));
      const lh = leafHash(LEAVES[v.index]!);
      expect(hex(MerkleTree.fromLeafData(leaves).inclusionProof(v.index))).toEqual(v.path);
      expect(hex(tree.inclusionProof(v.index, v.size))).toEqual(v.path);
      expect(hex(inclusionProof(leaves, v.index))).toEqual(v.path);
      expect(hex(PATH(v.index, leaves))).toEqual(v.path);
      expect(verifyInclusion(lh, v.index, v.size, proof, root)).toBe(true);
      expect(bytesToHex(rootFromInclusionProof(lh, v.index, v.size, proof))).toBe(V.roots[v.size]);
      // transparency-dev/merkle corruptInclusionProof probes
      const probes: [Uint8Array, number, number, Uint8Array[], Uint8Array][] = [
        [lh, v.index - 1, v.size, proof, root], [lh, v.index + 1, v.size, proof, root], [lh, v.index ^ 2, v.size, proof, root],
        [lh, v.index, v.size * 2, proof, root], [lh, v.index, Math.floor(v.size / 2), proof, root],
        [leafHash(new TextEncoder().encode('WrongLeaf')), v.index, v.size, proof, root],
        [lh, v.index, v.size, proof, emptyRoot()],
        [lh, v.index, v.size, [...proof, new Uint8Array(0)], root], [lh, v.index, v.size, [...proof, root], root],
        [lh, v.index, v.size, [new Uint8Array(0), ...proof], root], [lh, v.index, v.size, [root, ...proof], root],
        ...proof.map((_, i): [Uint8Array, number, number, Uint8Array[], Uint8Array] => [lh, v.index, v.size, replaceAt(proof, i, flipBit(proof[i]!, 3)), root]),
      ];
      if (proof.length > 0) probes.push([lh, v.index, v.size, proof.slice(0, -1), root]);
      for (const p of probes) expect(verifyInclusion(...p)).toBe(false);
    });
  }

  for (const v of V.consistency) {
    it(`consistency proof from ${v.size1} to ${v.size2}`, () => {
      const root1 = hexToBytes(V.roots[v.size1]!);
      const root2 = hexToBytes(V.roots[v.size2]!);
      const proof = v.proof.map((h) => hexToBytes(h));
      expect(hex(tree.consistencyProof(v.size1, v.size2))).toEqual(v.proof);
      expect(hex(MerkleTree.fromLeafData(LEAVES.slice(0, v.size2)).consistencyProof(v.size1))).toEqual(v.proof);
      expect(hex(consistencyProof(LEAVES, v.size1, v.size2))).toEqual(v.proof);
      expect(hex(PROOF(v.size1, LEAVES.slice(0, v.size2)))).toEqual(v.proof);
      expect(verifyConsistency(v.size1, v.size2, proof, root1, root2)).toBe(true);
      if (proof.length === 0) return;
      // transparency-dev/merkle corruptConsistencyProof probes
      const wrong = new TextEncoder().encode('WrongRoot');
      const probes: [number, number, Uint8Array[], Uint8Array, Uint8Array][] = [
        [v.size1 - 1, v.size2, proof, root1, root2], [v.size1 + 1, v.size2, proof, root1, root2], [v.size1 ^ 2, v.size2, proof, root1, root2],
        [v.size1, v.size2 * 2, proof, root1, root2], [v.size1, Math.floor(v.size2 / 2), proof, root1, root2],
        [v.size1, v.size2, proof, wrong, root2], [v.size1, v.size2, proof, root1, wrong], [v.size1, v.size2, proof, root2, root1],
        [v.size1, v.size2, [], root1, root2],
        [v.size1, v.size2, [...proof, new Uint8Array(0)], root1, root2], [v.size1, v.size2, [...proof, root1], root1, root2],
        [v.size1, v.size2, [...proof, root2], root1, root2], [v.size1, v.size2, [new Uint8Array(0), ...proof], root1, root2],
        [v.size1, v.size2, [root1, ...proof], root1, root2], [v.size1, v.size2, [root2, ...proof], root1, root2],
        [v.size1, v.size2, [proof[0]!, ...proof], root1, root2], [v.size1, v.size2, proof.slice(0, -1), root1, root2],
        ...proof.map((_, i): [number, number, Uint8Array[], Uint8Array, Uint8Array] => [v.size1, v.size2, replaceAt(proof, i, flipBit(proof[i]!, 4)), root1, root2]),
      ];
      for (const p of probes) expect(verifyConsistency(...p)).toBe(false);
    });
  }
});

describe('edge cases of verification', () => {
  const some = hexToBytes('abacaba000000000000000000000000000000000000000000060061e00123456');
  const e = emptyRoot();
  it('inclusion: size 0 and index >= size never verify; size 1 has an empty proof', () => {
    for (const [index, size] of [[0, 0], [1, 0], [2, 1], [1, 1]] as const) {
      expect(verifyInclusion(some, index, size, [], some)).toBe(false);
      expect(verifyInclusion(some, index, size, [], e)).toBe(false);
    }
    const h = leafHash(new TextEncoder().encode('data'));
    expect(verifyInclusion(h, 0, 1, [], h)).toBe(true);
    expect(verifyInclusion(h, 0, 1, [h], h)).toBe(false);
    expect(verifyInclusion(h, 0, 1, [], new Uint8Array(0))).toBe(false);
    expect(verifyInclusion(new Uint8Array(0), 0, 1, [], h)).toBe(false);
  });

  it('consistency: equal sizes, size 0, and time travel (certificate-transparency VerifyConsistencyProof)', () => {
    expect(verifyConsistency(0, 0, [], e, e)).toBe(true);
    expect(verifyConsistency(0, 1, [], e, some)).toBe(true);
    expect(verifyConsistency(1, 1, [], some, some)).toBe(true);
    expect(verifyConsistency(0, 0, [], e, some)).toBe(false); // roots differ
    expect(verifyConsistency(0, 1, [], some, some)).toBe(false); // root1 is not the empty tree's root
    expect(verifyConsistency(1, 1, [], e, some)).toBe(false);
    expect(verifyConsistency(1, 0, [], some, some)).toBe(false);
    expect(verifyConsistency(2, 1, [], some, some)).toBe(false);
    expect(verifyConsistency(1, 2, [], some, some)).toBe(false); // empty proof
    expect(verifyConsistency(0, 0, [e], e, e)).toBe(false); // roots match but the proof is not empty
    expect(verifyConsistency(0, 1, [e], e, e)).toBe(false);
    expect(verifyConsistency(1, 1, [e], e, e)).toBe(false);
  });

  it('verifiers return false, never throw, on malformed input', () => {
    const h = leafHash(new Uint8Array(0));
    const throwing = new Proxy([h], { get: () => { throw new Error('boom'); } });
    const junk: unknown[] = [null, undefined, 'ab', 1.5, -1, NaN, 2 ** 53, Infinity, {}, [1], [null], [new Uint8Array(31)], throwing, 5n];
    for (const j of junk) {
      const x = j as never;
      expect(verifyInclusion(x, 0, 1, [], h)).toBe(false);
      expect(verifyInclusion(h, x, 1, [], h)).toBe(false);
      expect(verifyInclusion(h, 0, x, [], h)).toBe(false);
      expect(verifyInclusion(h, 0, 2, x, h)).toBe(false);
      expect(verifyInclusion(h, 0, 1, [], x)).toBe(false);
      expect(verifyConsistency(x, 2, [h], h, h)).toBe(false);
      expect(verifyConsistency(1, x, [h], h, h)).toBe(false);
      expect(verifyConsistency(1, 2, x, h, h)).toBe(false);
      expect(verifyConsistency(1, 2, [h], x, h)).toBe(false);
      expect(verifyConsistency(1, 2, [h], h, x)).toBe(false);
    }
  });

  it('an inclusion proof does not fix the tree size by itself (same shape, same root)', () => {
    // Leaf 0 of 3 and leaf 0 of 4 both have a two-element, right-right path: the
    // size-3 proof "verifies" against the size-3 root under size 4. Sizes must come
    // signed together with the root (a checkpoint); documented in 20-merkle.md.
    const t = MerkleTree.fromLeafData(LEAVES.slice(0, 3));
    expect(pathShape(0, 3)).toBe(pathShape(0, 4));
    expect(verifyInclusion(t.leafHash(0), 0, 4, t.inclusionProof(0), t.root())).toBe(true);
  });
});

describe('exhaustive cross-check of trees of 1..64 leaves (certificate-transparency style)', () => {
  const data = Array.from({ length: 64 }, (_, i) => Uint8Array.of(i));
  const full = MerkleTree.fromLeafData(data);
  const roots = Array.from({ length: 65 }, (_, n) => MTH(data.slice(0, n)));

  it('roots, every inclusion proof and its corruptions', () => {
    for (let size = 1; size <= 64; size++) {
      const D = data.slice(0, size);
      const t = MerkleTree.fromLeafData(D);
      expect(bytesToHex(t.root())).toBe(bytesToHex(roots[size]!));
      expect(bytesToHex(full.rootAt(size))).toBe(bytesToHex(roots[size]!));
      for (let m = 0; m < size; m++) {
        const ref = hex(PATH(m, D));
        const proof = t.inclusionProof(m);
        expect(hex(proof)).toEqual(ref);
        expect(hex(full.inclusionProof(m, size))).toEqual(ref);
        const lh = t.leafHash(m);
        expect(verifyInclusion(lh, m, size, proof, roots[size]!)).toBe(true);
        for (const [i, s] of [[m - 1, size], [m + 1, size], [m ^ 2, size], [m, size * 2], [m, Math.floor(size / 2)]] as const) {
          expect(verifyInclusion(lh, i, s, proof, roots[size]!)).toBe(false);
        }
      }
    }
  });

  it('every consistency proof and its corruptions', () => {
    for (let size2 = 1; size2 <= 64; size2++) {
      const D = data.slice(0, size2);
      for (let size1 = 1; size1 <= size2; size1++) {
        const proof = full.consistencyProof(size1, size2);
        expect(hex(proof)).toEqual(hex(PROOF(size1, D)));
        expect(verifyConsistency(size1, size2, proof, roots[size1]!, roots[size2]!)).toBe(true);
        if (proof.length === 0) continue;
        for (const [a, b] of [[size1 - 1, size2], [size1 + 1, size2], [size1 ^ 2, size2], [size1, size2 * 2], [size1, Math.floor(size2 / 2)]] as const) {
          expect(verifyConsistency(a, b, proof, roots[size1]!, roots[size2]!)).toBe(false);
        }
      }
    }
  });
});

describe('properties on random trees of up to 3,000 leaves', () => {
  const arbTree = fc.record({ n: fc.integer({ min: 1, max: 3000 }), seed: fc.integer({ min: 0, max: 65535 }) });
  const arbPick = fc.array(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), { minLength: 4, maxLength: 4 });

  it('root and sampled proofs agree with the RFC 9162 reference; they verify', () => {
    fc.assert(
      fc.property(arbTree, arbPick, ({ n, seed }, [a, b, c, d]) => {
        const D = makeLeaves(n, seed);
        const t = MerkleTree.fromLeafData(D);
        const root = t.root();
        expect(bytesToHex(root)).toBe(bytesToHex(MTH(D)));
        const m = Math.floor(a! * n);
        const proof = t.inclusionProof(m);
        expect(hex(proof)).toEqual(hex(PATH(m, D)));
        expect(verifyInclusion(leafHash(D[m]!), m, n, proof, root)).toBe(true);
        const size2 = 1 + Math.floor(b! * n);
        const size1 = 1 + Math.floor(c! * size2);
        const cp = t.consistencyProof(size1, size2);
        expect(hex(cp)).toEqual(hex(PROOF(size1, D.slice(0, size2))));
        expect(verifyConsistency(size1, size2, cp, t.rootAt(size1), t.rootAt(size2))).toBe(true);
        const small = 1 + Math.floor(d! * n);
        expect(bytesToHex(t.rootAt(small))).toBe(bytesToHex(MTH(D.slice(0, small))));
      }),
      { numRuns: 15 },
    );
  });

  it('every inclusion and consistency proof of a tree verifies', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 300 }), fc.integer({ min: 0, max: 65535 }), (n, seed) => {
        const t = MerkleTree.fromLeafData(makeLeaves(n, seed));
        const root = t.root();
        for (let m = 0; m < n; m++) expect(verifyInclusion(t.leafHash(m), m, n, t.inclusionProof(m), root)).toBe(true);
        for (let s = 0; s <= n; s++) expect(verifyConsistency(s, n, t.consistencyProof(s), t.rootAt(s), root)).toBe(true);
      }),
      { numRuns: 10 },
    );
  });

  it('a fromLeafHashes tree (array or packed) equals the fromLeafData tree', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2000 }), fc.integer({ min: 0, max: 65535 }), (n, seed) => {
        const D = makeLeaves(n, seed);
        const a = MerkleTree.fromLeafData(D);
        const hashes = D.map(leafHash);
        const packed = new Uint8Array(32 * n);
        hashes.forEach((h, i) => packed.set(h, 32 * i));
        const b = MerkleTree.fromLeafHashes(hashes);
        const c = MerkleTree.fromLeafHashes(packed);
        packed.fill(0); // the tree keeps its own copy
        for (const t of [b, c]) {
          expect(t.size).toBe(n);
          expect(bytesToHex(t.root())).toBe(bytesToHex(a.root()));
          if (n > 0) expect(hex(t.inclusionProof(n - 1))).toEqual(hex(a.inclusionProof(n - 1)));
        }
      }),
      { numRuns: 20 },
    );
  });

  it('inclusion: a flipped bit anywhere, another index, a reshaped size, or a truncated/extended proof fails', () => {
    fc.assert(
      fc.property(arbTree, arbPick, fc.nat(255), ({ n, seed }, [a, b, c], bit) => {
        const t = MerkleTree.fromLeafData(makeLeaves(n, seed));
        const root = t.root();
        const m = Math.floor(a! * n);
        const lh = t.leafHash(m);
        const proof = t.inclusionProof(m);
        expect(verifyInclusion(flipBit(lh, bit), m, n, proof, root)).toBe(false);
        expect(verifyInclusion(lh, m, n, proof, flipBit(root, bit))).toBe(false);
        if (proof.length > 0) {
          const i = Math.floor(b! * proof.length);
          expect(verifyInclusion(lh, m, n, replaceAt(proof, i, flipBit(proof[i]!, bit)), root)).toBe(false);
          expect(verifyInclusion(lh, m, n, proof.slice(0, -1), root)).toBe(false);
          expect(verifyInclusion(lh, m, n, proof.slice(1), root)).toBe(false);
          expect(() => rootFromInclusionProof(lh, m, n, proof.slice(1))).toThrow(LedgersealError);
        }
        expect(verifyInclusion(lh, m, n, [...proof, root], root)).toBe(false);
        expect(verifyInclusion(lh, m, n, [...proof, lh], root)).toBe(false);
        expect(() => rootFromInclusionProof(lh, m, n, [...proof, lh])).toThrow(LedgersealError);
        const other = Math.floor(c! * n);
        if (other !== m) expect(verifyInclusion(lh, other, n, proof, root)).toBe(false);
        expect(verifyInclusion(lh, m + n, n, proof, root)).toBe(false);
        // Another size verifies exactly when it gives the same proof shape (see the edge case above).
        const s2 = m + 1 + Math.floor(c! * 2 * n);
        if (s2 !== n) expect(verifyInclusion(lh, m, s2, proof, root)).toBe(pathShape(m, s2) === pathShape(m, n));
        expect(verifyInclusion(lh, m, n * 2, proof, root)).toBe(false);
      }),
      { numRuns: 60 },
    );
  });

  it('consistency: a flipped bit in a root or proof element, changed sizes, or a truncated/extended proof fails', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 3000 }), fc.integer({ min: 0, max: 65535 }), arbPick, fc.nat(255), (n, seed, [a, b, c], bit) => {
        const t = MerkleTree.fromLeafData(makeLeaves(n, seed));
        const size2 = 2 + Math.floor(a! * (n - 1));
        const size1 = 1 + Math.floor(b! * (size2 - 1)); // 0 < size1 < size2
        const r1 = t.rootAt(size1);
        const r2 = t.rootAt(size2);
        const proof = t.consistencyProof(size1, size2);
        expect(verifyConsistency(size1, size2, proof, r1, r2)).toBe(true);
        expect(verifyConsistency(size1, size2, proof, flipBit(r1, bit), r2)).toBe(false);
        expect(verifyConsistency(size1, size2, proof, r1, flipBit(r2, bit))).toBe(false);
        const i = Math.floor(c! * proof.length);
        expect(verifyConsistency(size1, size2, replaceAt(proof, i, flipBit(proof[i]!, bit)), r1, r2)).toBe(false);
        expect(verifyConsistency(size1, size2, proof.slice(0, -1), r1, r2)).toBe(false);
        expect(verifyConsistency(size1, size2, proof.slice(1), r1, r2)).toBe(false);
        expect(verifyConsistency(size1, size2, [...proof, r2], r1, r2)).toBe(false);
        expect(verifyConsistency(size1, size2, [proof[0]!, ...proof], r1, r2)).toBe(false);
        expect(verifyConsistency(size2, size1, proof, r2, r1)).toBe(false);
        // Sizes whose proof has another length can never verify (RFC 9162 2.1.4.2 consumes exactly that many).
        for (const [s1, s2] of [[size1 - 1, size2], [size1 + 1, size2], [size1, size2 + 1], [size1, size2 - 1], [size1, size2 * 2]] as const) {
          if (s1 < 1 || s1 >= s2) continue;
          if (PROOF(s1, new Array<Uint8Array>(s2).fill(new Uint8Array(0))).length !== proof.length) {
            expect(verifyConsistency(s1, s2, proof, r1, r2)).toBe(false);
          }
        }
      }),
      { numRuns: 40 },
    );
  });
});

describe('proof shape separate from storage', () => {
  it('perfectSubtrees decomposes a range into aligned power-of-two subtrees, left to right', () => {
    expect(perfectSubtrees(0, 7)).toEqual([{ level: 2, index: 0 }, { level: 1, index: 2 }, { level: 0, index: 6 }]);
    expect(perfectSubtrees(4, 6)).toEqual([{ level: 1, index: 2 }]);
    expect(perfectSubtrees(5, 6)).toEqual([{ level: 0, index: 5 }]);
    expect(perfectSubtrees(0, 8)).toEqual([{ level: 3, index: 0 }]);
    expect(perfectSubtrees(3, 3)).toEqual([]);
    expect(perfectSubtrees(1, 8)).toEqual([{ level: 0, index: 1 }, { level: 1, index: 1 }, { level: 2, index: 1 }]);
    fc.assert(
      fc.property(fc.nat(1 << 20), fc.nat(1 << 20), (x, y) => {
        const [start, end] = x <= y ? [x, y] : [y, x];
        let at = start;
        for (const { level, index } of perfectSubtrees(start, end)) {
          expect(index * 2 ** level).toBe(at); // contiguous and aligned
          at += 2 ** level;
        }
        expect(at).toBe(end);
      }),
    );
  });

  it('ranges equal the RFC recursion and, with stored perfect subtrees + hashRange, rebuild the proofs', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2000 }), fc.integer({ min: 0, max: 65535 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (n, seed, a, b) => {
        const t = MerkleTree.fromLeafData(makeLeaves(n, seed));
        // A "store" holding only perfect subtree hashes, fetched by { level, index } in one batch.
        const fetch = ([start, end]: LeafRange): Uint8Array => hashRange(perfectSubtrees(start, end).map(({ level, index }) => t.subtreeHash(level, index)));
        const m = Math.floor(a * n);
        const ranges = inclusionProofRanges(m, n);
        expect(ranges).toEqual(PATH_RANGES(m, 0, n));
        expect(hex(ranges.map(fetch))).toEqual(hex(t.inclusionProof(m)));
        const size1 = Math.floor(b * (n + 1));
        expect(hex(consistencyProofRanges(size1, n).map(fetch))).toEqual(hex(t.consistencyProof(size1)));
        expect(bytesToHex(fetch([0, n]))).toBe(bytesToHex(t.root()));
      }),
      { numRuns: 50 },
    );
  });

  it('handles sizes up to 2^53 - 1 (no 32-bit arithmetic) in shapes and verifiers', () => {
    // A virtual tree: a perfect subtree nothing looks into is an opaque pseudo-random hash
    // (as a real one is to a verifier); subtrees on the leaf's path or across the old
    // tree's edge are hashed from their children, as RFC 9162 2.1.1 does.
    const opaque = (level: number, index: number): Uint8Array => HASH(new TextEncoder().encode(`${level}/${index}`));
    const virtualMth = (mustSplit: (lo: number, hi: number) => boolean) => {
      const mth = (lo: number, hi: number): Uint8Array => {
        const n = hi - lo;
        let level = 0;
        while (2 ** level < n) level++;
        if (n === 1 || (2 ** level === n && lo % n === 0 && !mustSplit(lo, hi))) return opaque(level, lo / n);
        return nodeHash(mth(lo, lo + k(n)), mth(lo + k(n), hi));
      };
      return ([lo, hi]: LeafRange): Uint8Array => mth(lo, hi);
    };
    const MAX = Number.MAX_SAFE_INTEGER;
    const unit = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });
    fc.assert(
      fc.property(fc.oneof(fc.integer({ min: 2, max: MAX }), fc.constantFrom(MAX, MAX - 1, 2 ** 52, 2 ** 52 + 1, 2 ** 32 + 1)), unit, unit, (size, a, b) => {
        const m = Math.min(size - 1, Math.floor(a * size));
        const mthI = virtualMth((lo, hi) => lo <= m && m < hi);
        const proof = inclusionProofRanges(m, size).map(mthI);
        const root = mthI([0, size]);
        const lh = opaque(0, m);
        expect(proof.length).toBeLessThanOrEqual(53);
        expect(verifyInclusion(lh, m, size, proof, root)).toBe(true);
        expect(bytesToHex(rootFromInclusionProof(lh, m, size, proof))).toBe(bytesToHex(root));
        expect(verifyInclusion(lh, m, size, proof, flipBit(root, 9))).toBe(false);
        if (m > 0) expect(verifyInclusion(lh, m - 1, size, proof, root)).toBe(false);
        const size1 = Math.max(1, Math.min(size - 1, Math.floor(b * size)));
        const mthC = virtualMth((lo, hi) => lo < size1 && size1 < hi);
        const cp = consistencyProofRanges(size1, size).map(mthC);
        const r1 = mthC([0, size1]);
        const r2 = mthC([0, size]);
        expect(verifyConsistency(size1, size, cp, r1, r2)).toBe(true);
        expect(verifyConsistency(size1, size, cp.slice(1), r1, r2)).toBe(false);
        expect(verifyConsistency(size1, size, cp, r1, flipBit(r2, 77))).toBe(false);
      }),
      { numRuns: 200 },
    );
  });
});

describe('errors', () => {
  const tree = MerkleTree.fromLeafData(LEAVES);
  const h = leafHash(new Uint8Array(0));

  it('constructors', () => {
    expectError(() => MerkleTree.fromLeafData('x' as never), 'INVALID_ARGUMENT', 'leaves must be an array of Uint8Array');
    expectError(() => MerkleTree.fromLeafData([new Uint8Array(1), 'a' as never]), 'INVALID_ARGUMENT', 'leaf 1 is not a Uint8Array');
    expectError(() => MerkleTree.fromLeafHashes(new Uint8Array(33)), 'INVALID_ARGUMENT', 'packed leaf hashes must be a multiple of 32 bytes, got 33');
    expectError(() => MerkleTree.fromLeafHashes([h, new Uint8Array(31)]), 'INVALID_ARGUMENT', 'leaf hash 1 must be a 32-byte Uint8Array');
    expectError(() => MerkleTree.fromLeafHashes('x' as never), 'INVALID_ARGUMENT', 'leaf hashes must be an array of 32-byte hashes or a packed Uint8Array');
  });

  it('out-of-range indices and sizes', () => {
    expectError(() => tree.inclusionProof(8), 'INVALID_ARGUMENT', 'leaf index 8 is out of range for tree size 8');
    expectError(() => tree.inclusionProof(5, 5), 'INVALID_ARGUMENT', 'leaf index 5 is out of range for tree size 5');
    expectError(() => tree.inclusionProof(-1), 'INVALID_ARGUMENT', 'leaf index must be a non-negative safe integer, got -1');
    expectError(() => tree.inclusionProof(0, 9), 'INVALID_TREE_SIZE', 'tree size 9 exceeds the tree size 8');
    expectError(() => tree.leafHash(8), 'INVALID_ARGUMENT', 'leaf index 8 is out of range for tree size 8');
    expectError(() => tree.leafHash(1.5), 'INVALID_ARGUMENT', 'leaf index must be a non-negative safe integer, got 1.5');
    expectError(() => tree.consistencyProof(5, 4), 'INVALID_TREE_SIZE', 'size1 5 is larger than size2 4');
    expectError(() => tree.consistencyProof(1, 9), 'INVALID_TREE_SIZE', 'size2 9 exceeds the tree size 8');
    expectError(() => tree.consistencyProof(9), 'INVALID_TREE_SIZE', 'size1 9 exceeds the tree size 8');
    expectError(() => tree.rootAt(9), 'INVALID_TREE_SIZE', 'tree size 9 exceeds the tree size 8');
    expectError(() => tree.rootAt(NaN), 'INVALID_TREE_SIZE', 'tree size must be a non-negative safe integer, got NaN');
    expectError(() => tree.subtreeHash(3, 1), 'INVALID_ARGUMENT', 'subtree (level 3, index 1) is not a complete subtree of a tree of size 8');
    expectError(() => MerkleTree.fromLeafData([]).inclusionProof(0), 'INVALID_ARGUMENT', 'leaf index 0 is out of range for tree size 0');
    expectError(() => inclusionProof([], 0), 'INVALID_ARGUMENT', 'leaf index 0 is out of range for tree size 0');
    expectError(() => consistencyProof(LEAVES, 3, 9), 'INVALID_TREE_SIZE', 'size2 9 exceeds the tree size 8');
  });

  it('shape functions', () => {
    expectError(() => inclusionProofRanges(3, 3), 'INVALID_ARGUMENT', 'leaf index 3 is out of range for tree size 3');
    expectError(() => inclusionProofRanges(0, -1), 'INVALID_TREE_SIZE', 'tree size must be a non-negative safe integer, got -1');
    expectError(() => consistencyProofRanges(4, 3), 'INVALID_TREE_SIZE', 'size1 4 is larger than size2 3');
    expectError(() => consistencyProofRanges(1, 2 ** 53), 'INVALID_TREE_SIZE', 'size2 must be a non-negative safe integer, got 9007199254740992');
    expectError(() => perfectSubtrees(5, 4), 'INVALID_ARGUMENT', 'range start 5 is after its end 4');
    expectError(() => perfectSubtrees(-1, 4), 'INVALID_ARGUMENT', 'start must be a non-negative safe integer, got -1');
    expectError(() => hashRange([h, new Uint8Array(3)]), 'INVALID_ARGUMENT', 'nodes[1] must be a 32-byte Uint8Array');
    expectError(() => nodeHash(h, new Uint8Array(0)), 'INVALID_ARGUMENT', 'right must be a 32-byte Uint8Array');
    expectError(() => leafHash('x' as never), 'INVALID_ARGUMENT', 'leaf data must be a Uint8Array');
  });

  it('rootFromInclusionProof', () => {
    const proof = tree.inclusionProof(2);
    expectError(() => rootFromInclusionProof(h, 8, 8, proof), 'INVALID_PROOF', 'leaf index 8 is out of range for tree size 8');
    expectError(() => rootFromInclusionProof(h, 0, 0, []), 'INVALID_PROOF', 'leaf index 0 is out of range for tree size 0');
    expectError(() => rootFromInclusionProof(h, 2, 8, proof.slice(1)), 'INVALID_PROOF', 'inclusion proof has length 2, expected 3 for leaf 2 of 8');
    expectError(() => rootFromInclusionProof(h, 0, 1, [h]), 'INVALID_PROOF', 'inclusion proof has length 1, expected 0 for leaf 0 of 1');
    expectError(() => rootFromInclusionProof(h, 2, 8, [proof[0]!, new Uint8Array(31), proof[2]!]), 'INVALID_PROOF', 'inclusion proof element 1 is not a 32-byte hash');
    expectError(() => rootFromInclusionProof(new Uint8Array(0), 0, 1, []), 'INVALID_ARGUMENT', 'leaf hash must be a 32-byte Uint8Array');
    expectError(() => rootFromInclusionProof(h, -1, 1, []), 'INVALID_ARGUMENT', 'leaf index must be a non-negative safe integer, got -1');
    expectError(() => rootFromInclusionProof(h, 0, 0.5, []), 'INVALID_TREE_SIZE', 'tree size must be a non-negative safe integer, got 0.5');
    expect(bytesToHex(rootFromInclusionProof(h, 0, 1, []))).toBe(bytesToHex(h));
  });
});

describe('the tree hands out copies', () => {
  it('mutating a returned root, leaf hash or proof element leaves the tree unchanged', () => {
    const tree = MerkleTree.fromLeafData(LEAVES);
    tree.root().fill(0);
    tree.leafHash(0).fill(0);
    tree.inclusionProof(3)[0]!.fill(0);
    tree.consistencyProof(3)[0]!.fill(0);
    tree.subtreeHash(1, 0).fill(0);
    expect(bytesToHex(tree.root())).toBe(V.roots[8]);
    expect(hex(tree.inclusionProof(0))).toEqual(V.inclusion[1]!.path);
    const one = MerkleTree.fromLeafData([LEAVES[0]!]);
    one.root().fill(0);
    expect(bytesToHex(one.root())).toBe(V.roots[1]);
  });
});
