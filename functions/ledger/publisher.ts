/**
 * Publications (docs/protocol.md 7.7): periodically (default daily) the latest
 * settled block's checkpoint is chosen, its root published with a publication
 * code, so proofs extended to it verify with hashes alone. A publication is
 * trusted by everyone who reads it, so the checkpoint must carry a quorum of
 * the configured validator set, verified here from its signatures: a stored
 * block is not taken at its word.
 *
 * One run is idempotent: the event id is `publication.created:<size>` and the
 * publication put is conditional on its size, so two publishers, or a publisher
 * killed between the two writes and run again, leave one publication and one
 * event. The event is written first, because the next run re-derives the same
 * publication only while it is still missing: a crash between the two writes is
 * repaired by that run (its publication carries the later publishedAt).
 */
import { encodePublicationCode, type ValidatorSet, verifyCheckpointQuorum } from '@ledgerseal/sdk';
import type { LedgerEvent, Publication, Store } from '../store/port.ts';
import { publicationCreatedEvent } from './events.ts';

export const DEFAULT_PUBLICATION_INTERVAL_MS = 24 * 60 * 60 * 1000;

export interface PublicationDeps {
  store: Store;
  /** The validator set in force: the checkpoint must carry its quorum. */
  validatorSet: ValidatorSet;
  now?: () => Date;
  intervalMs?: number;
  onEvent?: (e: LedgerEvent) => void;
}

export type PublicationOutcome =
  | { status: 'published'; publication: Publication }
  | { status: 'no-quorum'; size: number; detail: string }
  | { status: 'not-due' | 'nothing-new' | 'no-block' | 'lost-race'; publication?: Publication };

export async function runPublication(deps: PublicationDeps): Promise<PublicationOutcome> {
  const { store } = deps;
  const now = (deps.now ?? (() => new Date()))();
  const intervalMs = deps.intervalMs ?? DEFAULT_PUBLICATION_INTERVAL_MS;
  const [last, latest] = await Promise.all([store.getLatestPublication(), store.getLatestBlock()]);
  // Publish only settled sizes: a proof extended to it needs the calendar nodes.
  const block = latest && !latest.settled && latest.height > 0 ? await store.getBlock(latest.height - 1) : latest;
  if (!block || (!block.settled && block === latest)) return { status: 'no-block' };
  const size = block.height + 1;
  if (last && last.size >= size) return { status: 'nothing-new', publication: last };
  if (last && now.getTime() - Date.parse(last.publishedAt) < intervalMs) return { status: 'not-due', publication: last };
  let root: Uint8Array;
  try {
    const q = verifyCheckpointQuorum(block.checkpoint, deps.validatorSet);
    if (!q.ok) return { status: 'no-quorum', size, detail: `${q.reason}: signatures carry weight ${q.weight} of ${q.total}` };
    if (q.checkpoint.size !== size) return { status: 'no-quorum', size, detail: `the checkpoint of block ${block.height} has size ${q.checkpoint.size}` };
    root = q.checkpoint.root;
  } catch (e) {
    return { status: 'no-quorum', size, detail: `the checkpoint of block ${block.height} does not parse: ${(e as Error).message}` };
  }
  const publication: Publication = {
    size,
    root,
    code: encodePublicationCode({ size, root }),
    checkpoint: block.checkpoint,
    publishedAt: now.toISOString(),
  };
  const event = publicationCreatedEvent(publication);
  await store.putEvents([event]);
  deps.onEvent?.(event);
  if (!(await store.putPublication(publication))) return { status: 'lost-race' };
  return { status: 'published', publication };
}
