/**
 * The two lower steps of the aggregation chain (docs/protocol.md 7.1, 7.2), shared by
 * the coordinator (building a round), the validators (recomputing it), the proof
 * service and the audit:
 *
 * - batch tree: RFC 9162 tree whose leaf data are the batch's 32-byte anchors;
 * - round tree: RFC 9162 tree whose leaf data are the 32-byte batch roots, in the
 *   proposal's member order.
 */
import { equalBytes, MerkleTree } from '@ledgerseal/sdk';
import type { BatchRead, RoundMember } from '../store/port.ts';

export const HASH_LENGTH = 32;

/** The anchors of a packed batch as views (no copy). */
export function splitHashes(packed: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let o = 0; o < packed.length; o += HASH_LENGTH) out.push(packed.subarray(o, o + HASH_LENGTH));
  return out;
}

/** The batch tree over the stored anchors. */
export function batchTree(hashes: Uint8Array): MerkleTree {
  return MerkleTree.fromLeafData(splitHashes(hashes));
}

/** The round tree over the members' batch roots. */
export function roundTree(members: readonly Pick<RoundMember, 'root'>[]): MerkleTree {
  return MerkleTree.fromLeafData(members.map((m) => m.root));
}

/**
 * Recheck the members of a round against the stored batches: each exists and
 * decodes, its anchors hash to the member's root, its count matches, it belongs
 * to the member's agency (which scopes its anchor.confirmed event).
 * Returns the first problem per failing member (empty when all hold) and the total
 * anchor count.
 */
export function checkMembers(
  members: readonly RoundMember[],
  read: BatchRead,
): { problems: { batchId: string; problem: string }[]; anchors: number } {
  const problems: { batchId: string; problem: string }[] = [];
  const seen = new Set<string>();
  let anchors = 0;
  for (const m of members) {
    const b = read.found.get(m.batchId);
    if (seen.has(m.batchId)) problems.push({ batchId: m.batchId, problem: 'listed twice in the round' });
    seen.add(m.batchId);
    const unreadable = read.unreadable.get(m.batchId);
    if (unreadable !== undefined) {
      problems.push({ batchId: m.batchId, problem: unreadable });
      continue;
    }
    if (!b) {
      problems.push({ batchId: m.batchId, problem: 'batch is not stored' });
      continue;
    }
    anchors += b.count;
    if (b.hashes.length !== b.count * HASH_LENGTH || b.count === 0) {
      problems.push({ batchId: m.batchId, problem: `stored hashes (${b.hashes.length} bytes) do not hold ${b.count} anchors` });
    } else if (m.count !== b.count) {
      problems.push({ batchId: m.batchId, problem: `member count ${m.count} differs from the batch's ${b.count}` });
    } else if (!equalBytes(batchTree(b.hashes).root(), m.root)) {
      problems.push({ batchId: m.batchId, problem: 'the stored anchors do not hash to the member root' });
    } else if (m.agencyId !== b.agencyId) {
      problems.push({ batchId: m.batchId, problem: `member agency ${m.agencyId} differs from the batch's ${b.agencyId}` });
    }
  }
  return { problems, anchors };
}
