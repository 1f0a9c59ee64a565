/**
 * The calendar from stored perfect subtrees equals the sdk's in-memory RFC 9162
 * tree: appendNodes completes exactly the right nodes, and roots, inclusion and
 * consistency proofs read with one batched node fetch match MerkleTree.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { equalBytes } from '../../sdk/src/encoding.ts';
import { hashRange, leafHash, MerkleTree, verifyConsistency, verifyInclusion } from '../../sdk/src/merkle.ts';
import {
  appendNodes,
  calendarConsistency,
  calendarInclusion,
  calendarRoot,
  frontierAfterAppend,
  readFrontier,
} from '../../functions/ledger/calendar.ts';
import type { CalendarNode, Store } from '../../functions/store/port.ts';
import { stopDynalite, withStore } from '../helpers/dynalite.ts';

afterAll(stopDynalite);

const N = 37;
const leaves = Array.from({ length: N }, () => new Uint8Array(randomBytes(40)));
const tree = MerkleTree.fromLeafData(leaves);

/** Append every leaf as the settle step does: nodes from the stored frontier, then write. */
async function buildCalendar(store: Store): Promise<void> {
  for (let i = 0; i < N; i++) {
    const frontier = await readFrontier(store, i);
    await store.putCalendarNodes(appendNodes(i, leafHash(leaves[i]!), frontier));
  }
}

describe('calendar nodes', () => {
  it('appendNodes completes each perfect subtree exactly once, with the tree hash', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 300 }), (n) => {
        const hashes = Array.from({ length: n }, (_, i) => leafHash(new Uint8Array([i & 255, i >> 8])));
        const t = MerkleTree.fromLeafHashes(hashes);
        let frontier: CalendarNode[] = [];
        const all = new Set<string>();
        for (let i = 0; i < n; i++) {
          const nodes = appendNodes(i, hashes[i]!, frontier);
          for (const node of nodes) {
            const key = `${node.level}/${node.index}`;
            if (all.has(key)) return false;
            all.add(key);
            if (!equalBytes(node.hash, t.subtreeHash(node.level, node.index))) return false;
            // a node is completed by its last leaf
            if ((node.index + 1) * 2 ** node.level - 1 !== i) return false;
          }
          frontier = frontierAfterAppend(frontier, nodes);
          if (!equalBytes(hashRange(frontier.map((f) => f.hash)), t.rootAt(i + 1))) return false;
        }
        return true;
      }),
      { numRuns: 40 },
    );
  });

  it('refuses a frontier that does not belong to the size', () => {
    const h = leafHash(new Uint8Array(1));
    expect(() => appendNodes(3, h, [{ level: 1, index: 0, hash: h }])).toThrow(/frontier/);
  });

  it('roots, inclusion and consistency proofs from stored nodes equal the in-memory tree', async () => {
    const { store, close } = await withStore();
    try {
      await buildCalendar(store);
      for (let size = 0; size <= N; size++) expect(equalBytes(await calendarRoot(store, size), tree.rootAt(size))).toBe(true);
      for (const size of [1, 2, 3, 7, 8, 13, 32, 33, N]) {
        for (let index = 0; index < size; index++) {
          const path = await calendarInclusion(store, index, size);
          expect(path).toEqual(tree.inclusionProof(index, size));
          expect(verifyInclusion(leafHash(leaves[index]!), index, size, path, tree.rootAt(size))).toBe(true);
        }
      }
      for (let n = 1; n <= N; n += 3) {
        for (let m = 0; m <= n; m++) {
          const path = await calendarConsistency(store, m, n);
          expect(path).toEqual(tree.consistencyProof(m, n));
          expect(verifyConsistency(m, n, path, tree.rootAt(m), tree.rootAt(n))).toBe(true);
        }
      }
      await expect(calendarInclusion(store, 5, 5)).rejects.toMatchObject({ code: 'INVALID_RANGE' });
      await expect(calendarConsistency(store, 6, 5)).rejects.toMatchObject({ code: 'INVALID_RANGE' });
      await expect(calendarRoot(store, N + 1)).rejects.toMatchObject({ code: 'CALENDAR_INCOMPLETE' });
    } finally {
      await close();
    }
  });
});
