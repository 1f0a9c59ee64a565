/**
 * RFC 9162 section 2.1 (identical to RFC 6962 2.1) Merkle trees over SHA-256:
 * hashing (2.1.1), inclusion proofs (2.1.3) and consistency proofs (2.1.4), their
 * generation from a built tree and their verification.
 *
 * `MerkleTree` hashes every node once and keeps each level as one contiguous
 * Uint8Array of 32-byte hashes. The RFC tree (split at the largest power of two
 * below n) has the same nodes as pairing each level left to right and promoting
 * an unpaired last node unchanged, so a level is simply the previous one halved,
 * and any proof is read from the levels without hashing (see
 * docs/protocol.md ("Merkle trees and proofs") for the design and the performance figures).
 */
import { sha256, sha256IntoU16 } from '#sha256';
import { equalBytes } from './encoding.ts';
import { fail } from './errors.ts';
import { consistencyProofRanges, inclusionProofRanges, perfectSubtrees } from './merkle-shape.ts';

/** RFC 9162 2.1.1: leaf hashes are SHA-256(0x00 || d). */
export const LEAF_PREFIX = 0x00;
/** RFC 9162 2.1.1: interior node hashes are SHA-256(0x01 || left || right). */
export const NODE_PREFIX = 0x01;

const HASH_LEN = 32;

function isHash(h: unknown): h is Uint8Array {
  return h instanceof Uint8Array && h.length === HASH_LEN;
}

function checkHash(name: string, h: unknown): asserts h is Uint8Array {
  if (!isHash(h)) fail('INVALID_ARGUMENT', `${name} must be a 32-byte Uint8Array`);
}

function isSize(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
}

// One scratch buffer for 0x01 || left || right; JS is single-threaded and
// sha256 returns a fresh array, so reuse across calls is safe.
const nodeInput = new Uint8Array(1 + 2 * HASH_LEN);
nodeInput[0] = NODE_PREFIX;

function hashNode(left: Uint8Array, right: Uint8Array): Uint8Array {
  nodeInput.set(left, 1);
  nodeInput.set(right, 1 + HASH_LEN);
  return sha256(nodeInput);
}

/** MTH({d}) = SHA-256(0x00 || d). */
export function leafHash(data: Uint8Array): Uint8Array {
  if (!(data instanceof Uint8Array)) fail('INVALID_ARGUMENT', 'leaf data must be a Uint8Array');
  const input = new Uint8Array(1 + data.length);
  input[0] = LEAF_PREFIX;
  input.set(data, 1);
  return sha256(input);
}

/** SHA-256(0x01 || left || right). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  checkHash('left', left);
  checkHash('right', right);
  return hashNode(left, right);
}

/** MTH({}) = SHA-256 of the empty string, the root of the empty tree. */
export function emptyRoot(): Uint8Array {
  return sha256(new Uint8Array(0));
}

/**
 * The Merkle Tree Hash of a range from the hashes of its perfect subtrees (left to
 * right, as `perfectSubtrees` lists them), folded right to left as RFC 9162 2.1.1
 * does for a ragged right edge. An empty list is the empty tree.
 */
export function hashRange(nodes: Uint8Array[]): Uint8Array {
  if (!Array.isArray(nodes)) fail('INVALID_ARGUMENT', 'nodes must be an array of 32-byte hashes');
  if (nodes.length === 0) return emptyRoot();
  nodes.forEach((h, i) => checkHash(`nodes[${i}]`, h));
  let acc = nodes[nodes.length - 1]!;
  for (let i = nodes.length - 2; i >= 0; i--) acc = hashNode(nodes[i]!, acc);
  return acc.slice();
}

/** Hash every level above `level0` (n packed leaf hashes): pair, hash, promote the odd one out. */
function buildLevels(level0: Uint8Array, n: number): Uint8Array[] {
  let total = 0;
  for (let c = n; c > 1; c = Math.ceil(c / 2)) total += Math.ceil(c / 2);
  // All upper levels share one allocation; each level is a contiguous view of it.
  const upper = new Uint8Array(total * HASH_LEN);
  const upper16 = new Uint16Array(upper.buffer);
  // 0x01 || left || right with left||right 4-byte aligned, so a pair is copied as 16 words.
  const scratchBuf = new ArrayBuffer(68);
  const scratch = new Uint8Array(scratchBuf, 3, 65);
  scratch[0] = NODE_PREFIX;
  const pairWords = new Uint32Array(scratchBuf, 4, 16);
  const levels = [level0];
  let cur = level0;
  let count = n;
  let offset = 0; // bytes into `upper`
  while (count > 1) {
    const pairs = count >>> 1;
    const nextCount = pairs + (count & 1);
    const next = upper.subarray(offset, offset + nextCount * HASH_LEN);
    const words = new Uint32Array(cur.buffer, cur.byteOffset, cur.length >>> 2);
    for (let i = 0, w = 0, o = offset >>> 1; i < pairs; i++, w += 16, o += 16) {
      for (let j = 0; j < 16; j++) pairWords[j] = words[w + j]!;
      sha256IntoU16(scratch, upper16, o);
    }
    // RFC 6962 shape: an unpaired last node moves up unchanged.
    if (count & 1) next.set(cur.subarray(pairs * 64, pairs * 64 + HASH_LEN), pairs * HASH_LEN);
    levels.push(next);
    offset += nextCount * HASH_LEN;
    cur = next;
    count = nextCount;
  }
  return levels;
}

/** A Merkle tree built once; its root, any prefix root and any proof are read from stored levels. */
export class MerkleTree {
  /** Number of leaves. */
  readonly size: number;
  readonly #levels: Uint8Array[];

  private constructor(levels: Uint8Array[], size: number) {
    this.#levels = levels;
    this.size = size;
  }

  /** Build from leaf data: leaf i is hashed as SHA-256(0x00 || leaves[i]). */
  static fromLeafData(leaves: Uint8Array[]): MerkleTree {
    if (!Array.isArray(leaves)) fail('INVALID_ARGUMENT', 'leaves must be an array of Uint8Array');
    const n = leaves.length;
    const level0 = new Uint8Array(n * HASH_LEN);
    const level0Words = new Uint16Array(level0.buffer);
    let input = new Uint8Array(1 + HASH_LEN); // reused while leaf lengths repeat
    for (let i = 0; i < n; i++) {
      const d = leaves[i];
      if (!(d instanceof Uint8Array)) fail('INVALID_ARGUMENT', `leaf ${i} is not a Uint8Array`);
      if (input.length !== d.length + 1) input = new Uint8Array(d.length + 1);
      input[0] = LEAF_PREFIX;
      input.set(d, 1);
      sha256IntoU16(input, level0Words, i * 16);
    }
    return new MerkleTree(buildLevels(level0, n), n);
  }

  /** Build from leaf hashes: an array of 32-byte hashes or one packed Uint8Array of 32 * n bytes (copied). */
  static fromLeafHashes(hashes: Uint8Array[] | Uint8Array): MerkleTree {
    let level0: Uint8Array;
    if (hashes instanceof Uint8Array) {
      if (hashes.length % HASH_LEN !== 0) {
        fail('INVALID_ARGUMENT', `packed leaf hashes must be a multiple of 32 bytes, got ${hashes.length}`);
      }
      level0 = hashes.slice();
    } else if (Array.isArray(hashes)) {
      level0 = new Uint8Array(hashes.length * HASH_LEN);
      hashes.forEach((h, i) => {
        checkHash(`leaf hash ${i}`, h);
        level0.set(h, i * HASH_LEN);
      });
    } else {
      fail('INVALID_ARGUMENT', 'leaf hashes must be an array of 32-byte hashes or a packed Uint8Array');
    }
    const n = level0.length / HASH_LEN;
    return new MerkleTree(buildLevels(level0, n), n);
  }

  /** MTH of all leaves (the empty tree's root when size is 0). */
  root(): Uint8Array {
    if (this.size === 0) return emptyRoot();
    return this.#levels[this.#levels.length - 1]!.slice(0, HASH_LEN);
  }

  /** The leaf hash at `index`. */
  leafHash(index: number): Uint8Array {
    this.#checkIndex(index, this.size);
    return this.#node(0, index).slice();
  }

  /** The hash of the perfect subtree `{ level, index }` (2^level leaves from index * 2^level). */
  subtreeHash(level: number, index: number): Uint8Array {
    if (!isSize(level) || !isSize(index) || (index + 1) * 2 ** level > this.size) {
      fail('INVALID_ARGUMENT', `subtree (level ${String(level)}, index ${String(index)}) is not a complete subtree of a tree of size ${this.size}`);
    }
    return this.#node(level, index).slice();
  }

  /** RFC 9162 2.1.3.1 PATH(index, D[size]), bottom-up; `size` defaults to the whole tree. */
  inclusionProof(index: number, size: number = this.size): Uint8Array[] {
    this.#checkSize('tree size', size);
    this.#checkIndex(index, size);
    if (size !== this.size) return inclusionProofRanges(index, size).map(([a, b]) => this.#rangeHash(a, b));
    // Whole tree: the sibling at each level, skipped where the node was promoted unpaired.
    const proof: Uint8Array[] = [];
    let i = index;
    for (let level = 0; level < this.#levels.length - 1; level++) {
      const sibling = i ^ 1;
      if (sibling * HASH_LEN < this.#levels[level]!.length) proof.push(this.#node(level, sibling).slice());
      i >>>= 1;
    }
    return proof;
  }

  /** RFC 9162 2.1.4.1 PROOF(size1, D[size2]), bottom-up; `size2` defaults to the whole tree. */
  consistencyProof(size1: number, size2: number = this.size): Uint8Array[] {
    this.#checkSize('size1', size1);
    this.#checkSize('size2', size2);
    return consistencyProofRanges(size1, size2).map(([a, b]) => this.#rangeHash(a, b));
  }

  /** MTH(D[0:size]): the root the tree had when it held `size` leaves. */
  rootAt(size: number): Uint8Array {
    this.#checkSize('tree size', size);
    if (size === this.size) return this.root();
    return this.#rangeHash(0, size);
  }

  #node(level: number, index: number): Uint8Array {
    return this.#levels[level]!.subarray(index * HASH_LEN, index * HASH_LEN + HASH_LEN);
  }

  #rangeHash(start: number, end: number): Uint8Array {
    return hashRange(perfectSubtrees(start, end).map(({ level, index }) => this.#node(level, index)));
  }

  #checkSize(name: string, size: unknown): asserts size is number {
    if (!isSize(size)) fail('INVALID_TREE_SIZE', `${name} must be a non-negative safe integer, got ${String(size)}`);
    if (size > this.size) fail('INVALID_TREE_SIZE', `${name} ${size} exceeds the tree size ${this.size}`);
  }

  #checkIndex(index: unknown, size: number): asserts index is number {
    if (!isSize(index)) fail('INVALID_ARGUMENT', `leaf index must be a non-negative safe integer, got ${String(index)}`);
    if (index >= size) fail('INVALID_ARGUMENT', `leaf index ${index} is out of range for tree size ${size}`);
  }
}

/** MTH(D[n]) of the given leaf data. */
export function merkleRoot(leafData: Uint8Array[]): Uint8Array {
  return MerkleTree.fromLeafData(leafData).root();
}

/** PATH(index, D[n]) over the given leaf data. */
export function inclusionProof(leafData: Uint8Array[], index: number): Uint8Array[] {
  return MerkleTree.fromLeafData(leafData).inclusionProof(index);
}

/** PROOF(size1, D[size2]) over the first size2 of the given leaf data. */
export function consistencyProof(leafData: Uint8Array[], size1: number, size2: number): Uint8Array[] {
  return MerkleTree.fromLeafData(leafData).consistencyProof(size1, size2);
}

const half = (n: number): number => Math.floor(n / 2);
const odd = (n: number): boolean => n % 2 === 1;

/** RFC 9162 2.1.3.2 steps 1-5 without the final comparison: the root, or null when the shape is wrong. */
function foldInclusion(hash: Uint8Array, index: number, size: number, proof: Uint8Array[]): Uint8Array | null {
  if (index >= size) return null; // step 1
  let fn = index; // step 2
  let sn = size - 1;
  let r = hash; // step 3
  for (const p of proof) { // step 4
    if (sn === 0) return null;
    if (odd(fn) || fn === sn) {
      r = hashNode(p, r);
      while (!odd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      r = hashNode(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 ? r : null; // step 5 (the root comparison is the caller's)
}

/** Number of elements of PATH(index, D[size]) (index < size). */
function inclusionPathLength(index: number, size: number): number {
  let fn = index;
  let sn = size - 1;
  let length = 0;
  while (sn !== 0) {
    length++;
    if (fn === sn) {
      while (!odd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    }
    fn = half(fn);
    sn = half(sn);
  }
  return length;
}

/**
 * Fold an inclusion proof into the root it implies (RFC 9162 2.1.3.2). Throws
 * INVALID_PROOF when index >= size or the proof has the wrong length for (index, size).
 */
export function rootFromInclusionProof(leafHash: Uint8Array, index: number, size: number, proof: Uint8Array[]): Uint8Array {
  checkHash('leaf hash', leafHash);
  if (!isSize(index)) fail('INVALID_ARGUMENT', `leaf index must be a non-negative safe integer, got ${String(index)}`);
  if (!isSize(size)) fail('INVALID_TREE_SIZE', `tree size must be a non-negative safe integer, got ${String(size)}`);
  if (!Array.isArray(proof)) fail('INVALID_PROOF', 'inclusion proof must be an array of 32-byte hashes');
  if (index >= size) fail('INVALID_PROOF', `leaf index ${index} is out of range for tree size ${size}`);
  const expected = inclusionPathLength(index, size);
  if (proof.length !== expected) {
    fail('INVALID_PROOF', `inclusion proof has length ${proof.length}, expected ${expected} for leaf ${index} of ${size}`);
  }
  proof.forEach((p, i) => {
    if (!isHash(p)) fail('INVALID_PROOF', `inclusion proof element ${i} is not a 32-byte hash`);
  });
  return foldInclusion(leafHash, index, size, proof)!.slice();
}

/** RFC 9162 2.1.3.2: does `proof` show leaf `index` of a `size`-leaf tree with root `root` has hash `leafHash`? Never throws. */
export function verifyInclusion(leafHash: Uint8Array, index: number, size: number, proof: Uint8Array[], root: Uint8Array): boolean {
  try {
    if (!isHash(leafHash) || !isHash(root) || !isSize(index) || !isSize(size)) return false;
    if (!Array.isArray(proof) || !proof.every(isHash)) return false;
    const r = foldInclusion(leafHash, index, size, proof);
    return r !== null && equalBytes(r, root);
  } catch {
    return false;
  }
}

function isPowerOfTwo(n: number): boolean {
  while (n > 1 && !odd(n)) n = half(n);
  return n === 1;
}

/**
 * RFC 9162 2.1.4.2: is the tree (size2, root2) an append-only extension of (size1, root1)?
 * Edge cases the RFC leaves to the caller: size1 === size2 holds with an empty proof
 * and equal roots; size1 === 0 holds with an empty proof when root1 is the empty
 * tree's root; size1 > size2 never holds. Never throws.
 */
export function verifyConsistency(size1: number, size2: number, proof: Uint8Array[], root1: Uint8Array, root2: Uint8Array): boolean {
  try {
    if (!isSize(size1) || !isSize(size2) || !isHash(root1) || !isHash(root2)) return false;
    if (!Array.isArray(proof) || !proof.every(isHash)) return false;
    if (size1 > size2) return false;
    if (size1 === 0) return proof.length === 0 && equalBytes(root1, emptyRoot()) && (size2 > 0 || equalBytes(root2, root1));
    if (size1 === size2) return proof.length === 0 && equalBytes(root1, root2);
    if (proof.length === 0) return false; // step 1
    const path = isPowerOfTwo(size1) ? [root1, ...proof] : proof; // step 2
    let fn = size1 - 1; // step 3
    let sn = size2 - 1;
    while (odd(fn)) { // step 4
      fn = half(fn);
      sn = half(sn);
    }
    let fr = path[0]!; // step 5
    let sr = path[0]!;
    for (let i = 1; i < path.length; i++) { // step 6
      const c = path[i]!;
      if (sn === 0) return false;
      if (odd(fn) || fn === sn) {
        fr = hashNode(c, fr);
        sr = hashNode(c, sr);
        while (!odd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      } else {
        sr = hashNode(sr, c);
      }
      fn = half(fn);
      sn = half(sn);
    }
    return equalBytes(fr, root1) && equalBytes(sr, root2) && sn === 0; // step 7
  } catch {
    return false;
  }
}
