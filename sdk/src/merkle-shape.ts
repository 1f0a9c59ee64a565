/**
 * The shape of RFC 9162 (section 2.1) Merkle proofs, separate from storage, in the
 * style of transparency-dev/merkle: pure functions say WHICH hashes a proof needs,
 * a store fetches them in one batch, and `hashRange` (merkle.ts) rehashes.
 *
 * - A proof element is the Merkle Tree Hash of a leaf range [start, end), written
 *   as a `LeafRange` tuple. Ranges come out in RFC 9162 proof order: bottom-up,
 *   the element nearest the leaf first.
 * - A range is built from aligned perfect subtrees, `SubtreeId { level, index }`:
 *   the 2^level leaves [index * 2^level, (index + 1) * 2^level). These are the only
 *   nodes a store needs to keep; ragged right-edge subtrees are folded from them.
 *
 * All sizes are plain numbers and may be any safe integer (up to 2^53 - 1): the
 * arithmetic uses division, never 32-bit bitwise operators.
 */
import { fail } from './errors.ts';

/** Leaves [start, end) of the tree, end exclusive. */
export type LeafRange = [start: number, end: number];

/** The perfect subtree of 2^level leaves starting at leaf index * 2^level. */
export interface SubtreeId {
  level: number;
  index: number;
}

function checkSize(name: string, size: unknown): asserts size is number {
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
    fail('INVALID_TREE_SIZE', `${name} must be a non-negative safe integer, got ${String(size)}`);
  }
}

function checkIndex(index: unknown, size: number): asserts index is number {
  if (typeof index !== 'number' || !Number.isSafeInteger(index) || index < 0) {
    fail('INVALID_ARGUMENT', `leaf index must be a non-negative safe integer, got ${String(index)}`);
  }
  if (index >= size) fail('INVALID_ARGUMENT', `leaf index ${index} is out of range for tree size ${size}`);
}

/** RFC 9162 2.1.1: k, the largest power of two smaller than n (n >= 2). */
function split(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/**
 * The leaf ranges whose hashes form the inclusion proof of leaf `index` in a tree
 * of `size` leaves: RFC 9162 2.1.3.1 PATH(m, D[n]), bottom-up.
 */
export function inclusionProofRanges(index: number, size: number): LeafRange[] {
  checkSize('tree size', size);
  checkIndex(index, size);
  const topDown: LeafRange[] = [];
  let lo = 0;
  let hi = size;
  while (hi - lo > 1) {
    const k = split(hi - lo);
    if (index < lo + k) {
      topDown.push([lo + k, hi]); // PATH(m, D[0:k]) : MTH(D[k:n])
      hi = lo + k;
    } else {
      topDown.push([lo, lo + k]); // PATH(m - k, D[k:n]) : MTH(D[0:k])
      lo += k;
    }
  }
  return topDown.reverse();
}

/**
 * The leaf ranges whose hashes form the consistency proof between the trees of
 * `size1` and `size2` leaves: RFC 9162 2.1.4.1 PROOF(m, D[n]) = SUBPROOF(m, D[n], true),
 * bottom-up. Empty when size1 is 0 or size1 equals size2 (nothing to prove).
 */
export function consistencyProofRanges(size1: number, size2: number): LeafRange[] {
  checkSize('size1', size1);
  checkSize('size2', size2);
  if (size1 > size2) fail('INVALID_TREE_SIZE', `size1 ${size1} is larger than size2 ${size2}`);
  if (size1 === 0 || size1 === size2) return [];
  const topDown: LeafRange[] = [];
  let m = size1; // leaves of the old tree inside [lo, hi)
  let lo = 0;
  let hi = size2;
  let whole = true; // SUBPROOF's b: is [lo, lo + m) the whole old tree?
  for (;;) {
    if (m === hi - lo) {
      if (!whole) topDown.push([lo, hi]); // SUBPROOF(m, D[m], false) = {MTH(D[m])}
      break;
    }
    const k = split(hi - lo);
    if (m <= k) {
      topDown.push([lo + k, hi]); // SUBPROOF(m, D[0:k], b) : MTH(D[k:n])
      hi = lo + k;
    } else {
      topDown.push([lo, lo + k]); // SUBPROOF(m - k, D[k:n], false) : MTH(D[0:k])
      m -= k;
      lo += k;
      whole = false;
    }
  }
  return topDown.reverse();
}

/**
 * Decompose [start, end) into maximal aligned perfect subtrees, left to right
 * (widths strictly decrease after the first for a range that is a node of an
 * RFC 9162 tree, which every proof range is). Empty for an empty range.
 */
export function perfectSubtrees(start: number, end: number): SubtreeId[] {
  for (const [name, v] of [['start', start], ['end', end]] as const) {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
      fail('INVALID_ARGUMENT', `${name} must be a non-negative safe integer, got ${String(v)}`);
    }
  }
  if (start > end) fail('INVALID_ARGUMENT', `range start ${start} is after its end ${end}`);
  const out: SubtreeId[] = [];
  while (start < end) {
    let width = 1;
    let level = 0;
    while (start % (width * 2) === 0 && start + width * 2 <= end) {
      width *= 2;
      level++;
    }
    out.push({ level, index: start / width });
    start += width;
  }
  return out;
}
