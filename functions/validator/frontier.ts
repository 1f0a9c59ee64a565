/**
 * The calendar frontier (RFC 9162 section 2.1.1, docs/protocol.md 4.5): the
 * roots of the perfect subtrees that make up a Merkle tree of `size` leaves,
 * left to right (largest first), one per set bit of `size`: at most 53 hashes
 * for any safe size. It is all a validator keeps of the calendar; from it
 * alone it computes the root of the next size after appending one header,
 * exactly as the coordinator's stored calendar does (functions/ledger/calendar.ts
 * appendNodes), without reading any calendar node.
 *
 * Pure functions, bytes in and bytes out.
 */
import { hashRange, leafHash, nodeHash, utf8 } from '@ledgerseal/sdk';

/** The calendar leaf hash of a block: SHA-256(0x00 || header bytes). */
export function headerLeaf(header: string): Uint8Array {
  return leafHash(utf8(header));
}

/** Number of frontier hashes of a tree of `size` leaves (its set bits). */
export function frontierLength(size: number): number {
  let n = 0;
  for (let s = size; s > 0; s = Math.floor(s / 2)) n += s % 2;
  return n;
}

/** Throws unless `frontier` has the shape of a tree of `size` leaves (32-byte hashes, one per set bit). */
export function checkFrontier(size: number, frontier: readonly Uint8Array[]): void {
  if (!Number.isSafeInteger(size) || size < 0) throw new Error(`frontier: size must be a non-negative safe integer, got ${size}`);
  if (frontier.length !== frontierLength(size)) throw new Error(`frontier: a tree of ${size} leaves has ${frontierLength(size)} frontier hashes, not ${frontier.length}`);
  for (const h of frontier) if (!(h instanceof Uint8Array) || h.length !== 32) throw new Error('frontier: every hash is 32 bytes');
}

/**
 * The frontier of size + 1 after appending the leaf hash `leaf` to a tree of
 * `size` leaves: while the new node is a right child (its index is odd), it
 * merges with the smallest frontier subtree, its left sibling.
 */
export function appendLeaf(frontier: readonly Uint8Array[], size: number, leaf: Uint8Array): Uint8Array[] {
  const out = frontier.slice();
  let hash = leaf;
  for (let index = size; index % 2 === 1; index = (index - 1) / 2) {
    const left = out.pop();
    if (left === undefined) throw new Error(`frontier: too short for a tree of ${size} leaves`);
    hash = nodeHash(left, hash);
  }
  out.push(hash);
  return out;
}

/** The Merkle Tree Hash of the tree the frontier describes (the empty tree's hash for no leaves). */
export function frontierRoot(frontier: readonly Uint8Array[]): Uint8Array {
  return hashRange([...frontier]);
}
