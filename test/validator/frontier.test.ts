/**
 * The validator's calendar frontier (functions/validator/frontier.ts): the root
 * it computes from a few dozen hashes equals the calendar's (RFC 9162 tree over
 * every header leaf, and the coordinator's stored-node calendar) at every size.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { hashRange } from '../../sdk/src/merkle.ts';
import { MerkleTree } from '../../sdk/src/merkle.ts';
import { appendNodes, frontierAfterAppend } from '../../functions/ledger/calendar.ts';
import type { CalendarNode } from '../../functions/store/port.ts';
import { appendLeaf, checkFrontier, frontierLength, frontierRoot, headerLeaf } from '../../functions/validator/frontier.ts';

const leaves = (n: number): Uint8Array[] => Array.from({ length: n }, (_, i) => headerLeaf(`header ${i}\n`));

describe('calendar frontier', () => {
  it('gives the RFC 9162 root and the stored calendar frontier at every size up to 300', () => {
    const ls = leaves(300);
    let frontier: Uint8Array[] = [];
    let nodes: CalendarNode[] = [];
    expect(frontierRoot(frontier)).toEqual(hashRange([]));
    for (let size = 0; size < ls.length; size++) {
      frontier = appendLeaf(frontier, size, ls[size]!);
      nodes = frontierAfterAppend(nodes, appendNodes(size, ls[size]!, nodes));
      checkFrontier(size + 1, frontier);
      expect(frontier.length).toBe(frontierLength(size + 1));
      expect(frontier).toEqual(nodes.map((n) => n.hash));
      // The tree over the leaf hashes (MerkleTree hashes leaf data, so compare through the calendar's own root).
      expect(frontierRoot(frontier)).toEqual(hashRange(nodes.map((n) => n.hash)));
    }
  });

  it('equals the Merkle tree root over the headers at random sizes', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2_000 }), (size) => {
        const headers = Array.from({ length: size }, (_, i) => new TextEncoder().encode(`h${i}`));
        let frontier: Uint8Array[] = [];
        headers.forEach((h, i) => (frontier = appendLeaf(frontier, i, MerkleTree.fromLeafData([h]).root())));
        expect(frontierRoot(frontier)).toEqual(MerkleTree.fromLeafData(headers).root());
      }),
      { numRuns: 40 },
    );
  });

  it('refuses a frontier of the wrong shape', () => {
    expect(() => checkFrontier(3, [new Uint8Array(32)])).toThrow(/2 frontier hashes/);
    expect(() => checkFrontier(1, [new Uint8Array(31)])).toThrow(/32 bytes/);
    expect(() => appendLeaf([], 1, new Uint8Array(32))).toThrow(/too short/);
  });
});
