/**
 * Settling a finalized block (README.md "Life of a round", step 5): everything
 * that follows from the block and can be derived again from it. Each write is
 * idempotent and the block is marked settled LAST, so a crash anywhere in here
 * leaves `settled: false` and the next run repeats the whole sequence, writing
 * identical items:
 *
 *   calendar nodes  (from the header and the frontier of the previous size)
 *   placements      ({ batchId, height, index } for every round member)
 *   pending markers deleted
 *   events          (round.finalized, checkpoint.published, anchor.confirmed per batch
 *                    scoped to the member's agencyId; deterministic ids, times taken
 *                    from the block)
 *   mark settled
 *
 * Reads: the proposal and the calendar frontier only, never the member batches.
 */
import { equalBytes, parseBlockHeader, type ValidatorSet, verifyCheckpointQuorum } from '@ledgerseal/sdk';
import type { Block, LedgerEvent, Store } from '../store/port.ts';
import { appendHeader } from './calendar.ts';
import { serviceFail } from '../errors.ts';
import { anchorConfirmedEvent, checkpointPublishedEvent, roundFinalizedEvent } from './events.ts';

export interface SettleDeps {
  store: Store;
  validatorSet: ValidatorSet;
  onEvent?: ((e: LedgerEvent) => void) | undefined;
  failAfter?: ((step: 'settle:nodes' | 'settle:placements' | 'settle:pending' | 'settle:events' | 'settle:mark') => void) | undefined;
}

export async function settleBlock(deps: SettleDeps, block: Block): Promise<void> {
  const { store } = deps;
  const { height } = block;
  const proposal = await store.getProposal(height);
  if (!proposal || proposal.proposalId !== block.proposalId) {
    serviceFail('CORRUPT', `block ${height} names proposal ${block.proposalId}, which is not the stored one`);
  }
  // Calendar nodes: the leaf and every subtree it completes (needs block height-1 settled).
  const q = verifyCheckpointQuorum(block.checkpoint, deps.validatorSet);
  const { nodes, root } = await appendHeader(store, height, block.header);
  if (!equalBytes(root, q.checkpoint.root)) {
    // The stored frontier is not the calendar the quorum signed: never derive more nodes from it.
    serviceFail('CORRUPT', `stored calendar nodes give a root of size ${height + 1} that differs from block ${height}'s checkpoint`);
  }
  await store.putCalendarNodes(nodes);
  deps.failAfter?.('settle:nodes');
  // Placements: which block and round position each batch ended in.
  await store.putPlacements(proposal.members.map((m, index) => ({ batchId: m.batchId, height, index })));
  deps.failAfter?.('settle:placements');
  await store.deletePending(proposal.members.map((m) => ({ batchId: m.batchId, arrivedAt: m.arrivedAt })));
  deps.failAfter?.('settle:pending');
  // Events: ids and times come from the block, so a repeat writes the same items. The owner
  // of each batch rides in its member row (checked against the stored batch before proposing
  // and again by every validator before signing), so no batch is read here.
  const header = parseBlockHeader(block.header);
  const time = block.finalizedAt;
  const events: LedgerEvent[] = [
    roundFinalizedEvent({
      height,
      time,
      blockTime: header.time,
      proposalId: block.proposalId,
      roundSize: header.roundSize,
      anchors: header.anchors,
      roundRoot: header.roundRoot,
      signers: q.signers,
    }),
    checkpointPublishedEvent({ size: height + 1, root, checkpoint: block.checkpoint, time }),
    ...proposal.members.map((m, index) =>
      anchorConfirmedEvent({ batchId: m.batchId, agencyId: m.agencyId, count: m.count, height, index, time }),
    ),
  ];
  await store.putEvents(events, { derived: true }); // pure functions of the block: a repeat writes the same items
  for (const e of events) deps.onEvent?.(e);
  deps.failAfter?.('settle:events');
  await store.markBlockSettled(height);
  deps.failAfter?.('settle:mark');
}
