/**
 * Proof assembly (docs/protocol.md 6, 7.6; README.md "Proof assembly"): the proof
 * document of an anchor, consistency proofs between calendar sizes, and proof
 * extensions. Everything is read by key; nothing scans.
 *
 * Items read for one confirmed anchor: the batch (agency check, anchor, batch
 * path), its placement, the latest block, the block of the anchor, the
 * proposal of that height (round path; cached per height), and one batched read
 * of the calendar nodes of the path. The proof is served as stored: if stored
 * data were altered, the verifier (sdk verifyProof) names the check that fails.
 */
import { buildProof, bytesToHex, hexToBytes, type MerkleTree, parseCheckpoint, type ProofDocument } from '@ledgerseal/sdk';
import { ServiceError, serviceFail } from '../errors.ts';
import { parseAnchorId } from '../ids.ts';
import type { Batch, Block, Store } from '../store/port.ts';
import { calendarConsistency, calendarInclusion } from './calendar.ts';
import { batchTree, HASH_LENGTH, roundTree } from './round.ts';

export type AnchorView =
  | { id: string; hash: string; status: 'pending' }
  | { id: string; hash: string; status: 'confirmed'; proof: ProofDocument };

/** Round trees by height (a proposal never changes once stored): a small LRU per store. */
const ROUND_CACHE_SIZE = 64;
const roundCaches = new WeakMap<Store, Map<number, { proposalId: string; tree: MerkleTree }>>();

async function roundTreeAt(store: Store, block: Block): Promise<MerkleTree> {
  let cache = roundCaches.get(store);
  if (!cache) roundCaches.set(store, (cache = new Map()));
  const hit = cache.get(block.height);
  if (hit && hit.proposalId === block.proposalId) {
    cache.delete(block.height); // re-insert: Map order is the recency order
    cache.set(block.height, hit);
    return hit.tree;
  }
  const proposal = await store.getProposal(block.height);
  if (!proposal || proposal.proposalId !== block.proposalId) {
    serviceFail('CORRUPT', `the stored proposal of height ${block.height} is not the one block ${block.height} names`);
  }
  const tree = roundTree(proposal.members);
  if (cache.size >= ROUND_CACHE_SIZE) cache.delete(cache.keys().next().value!);
  cache.set(block.height, { proposalId: block.proposalId, tree });
  return tree;
}

/**
 * The calendar size proofs are served at: the latest settled block's size. An
 * unsettled latest block may lack calendar nodes, except when its own anchors
 * are asked for (placements are written after the nodes; see settle.ts).
 */
async function servedBlock(store: Store, placedAt: number): Promise<Block> {
  const latest = await store.getLatestBlock();
  if (!latest) serviceFail('CORRUPT', `a batch is placed in block ${placedAt} but no block exists`);
  if (latest.settled || latest.height <= placedAt) return latest;
  const previous = await store.getBlock(latest.height - 1);
  if (!previous) serviceFail('CORRUPT', `block ${latest.height - 1} is missing below block ${latest.height}`);
  return previous;
}

/** Largest calendar size with all nodes stored. */
async function availableSize(store: Store): Promise<number> {
  const latest = await store.getLatestBlock();
  if (!latest) return 0;
  return latest.settled ? latest.height + 1 : latest.height;
}

export type BatchView = {
  id: string;
  size: number;
  root: string;
  arrivedAt: string;
  status: 'pending' | 'confirmed';
  proof?: ProofDocument;
  anchors?: string[];
};

/**
 * A batch of the agency, read by id: null when it does not exist or belongs to
 * another agency. A damaged batch throws UNREADABLE_BATCH to its own agency only.
 */
async function agencyBatch(store: Store, batchId: string, agencyId: string): Promise<Batch | null> {
  try {
    const batch = await store.getBatch(batchId);
    return batch && batch.agencyId === agencyId ? batch : null;
  } catch (e) {
    // A damaged batch is reported to its own agency only; to any other it does not exist.
    if (!(e instanceof ServiceError) || e.code !== 'UNREADABLE_BATCH') throw e;
    const owner = e.agencyId ?? (await store.getQuarantine(batchId))?.agencyId;
    if (owner !== agencyId) return null;
    throw e;
  }
}

/**
 * The proof of a batch's root (its anchor is the batch root, its chain the round
 * step only), or null while the batch waits for a round or its block is not yet
 * served (docs/protocol.md 7.6). Placement is read consistently, in one read with
 * the quarantine record: a stale miss would report a confirmed batch as pending.
 */
export async function batchRootProof(store: Store, origin: string, batch: Batch): Promise<ProofDocument | null> {
  const { placement, quarantine } = await store.getBatchState(batch.id);
  if (!placement) {
    if (quarantine) serviceFail('UNREADABLE_BATCH', `batch ${batch.id} was left out of every round on ${quarantine.at}: ${quarantine.reason}`);
    return null;
  }
  const [block, served] = await Promise.all([store.getBlock(placement.height), servedBlock(store, placement.height)]);
  if (!block) serviceFail('CORRUPT', `batch ${batch.id} is placed in block ${placement.height}, which does not exist`);
  if (served.height < block.height) return null;
  const size = served.height + 1;
  const [round, calendarPath] = await Promise.all([roundTreeAt(store, block), calendarInclusion(store, block.height, size)]);
  const checkpointOrigin = parseCheckpoint(served.checkpoint.slice(0, served.checkpoint.indexOf('\n\n') + 1)).origin;
  if (checkpointOrigin !== origin) serviceFail('CORRUPT', `stored checkpoint origin "${checkpointOrigin}" is not "${origin}"`);
  return buildProof({
    anchor: batch.root,
    chain: [{ index: placement.index, size: round.size, path: round.inclusionProof(placement.index) }],
    block: block.header,
    calendar: { size, path: calendarPath },
    checkpoint: served.checkpoint,
  });
}

/**
 * Status of one anchor for its agency: null when the id is malformed, the batch
 * does not exist, belongs to another agency, or has no such index.
 */
export async function readAnchor(store: Store, origin: string, anchorId: string, agencyId: string): Promise<AnchorView | null> {
  const id = parseAnchorId(anchorId);
  if (!id) return null;
  const batch = await agencyBatch(store, id.batchId, agencyId);
  if (!batch || id.index >= batch.count) return null;
  const anchor = batch.hashes.subarray(id.index * HASH_LENGTH, (id.index + 1) * HASH_LENGTH);
  const hash = bytesToHex(anchor);
  const rootProof = await batchRootProof(store, origin, batch);
  if (!rootProof) return { id: anchorId, hash, status: 'pending' };
  const proof = buildProof({
    anchor,
    chain: [
      { index: id.index, size: batch.count, path: batchTree(batch.hashes).inclusionProof(id.index) },
      ...rootProof.chain.map((s) => ({ index: s.index, size: s.size, path: s.path.map((h) => hexToBytes(h)) })),
    ],
    block: rootProof.block,
    calendar: { size: rootProof.calendar.size, path: rootProof.calendar.path.map((h) => hexToBytes(h)) },
    checkpoint: rootProof.checkpoint,
  });
  return { id: anchorId, hash, status: 'confirmed', proof };
}

/**
 * One batch for its agency (GET /v1/batches/{id}): status, size, root and, once
 * confirmed, the proof of its root, from which the client derives every anchor's
 * proof locally (sdk batchProofs). `withAnchors` adds the anchors in batch order,
 * for a client that no longer holds them. Null as for readAnchor.
 */
export async function readBatch(
  store: Store,
  origin: string,
  batchId: string,
  agencyId: string,
  withAnchors: boolean,
): Promise<BatchView | null> {
  const batch = await agencyBatch(store, batchId, agencyId);
  if (!batch) return null;
  const proof = await batchRootProof(store, origin, batch);
  const view: BatchView = {
    id: batch.id,
    size: batch.count,
    root: bytesToHex(batch.root),
    arrivedAt: batch.arrivedAt,
    status: proof ? 'confirmed' : 'pending',
  };
  if (proof) view.proof = proof;
  if (withAnchors) {
    view.anchors = [];
    for (let i = 0; i < batch.count; i++) view.anchors.push(bytesToHex(batch.hashes.subarray(i * HASH_LENGTH, (i + 1) * HASH_LENGTH)));
  }
  return view;
}

/** RFC 9162 consistency proof between calendar sizes 1 <= from <= to (bottom-up hashes). */
export async function consistencyProof(store: Store, from: number, to: number): Promise<Uint8Array[]> {
  if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || from < 1 || from > to) {
    serviceFail('INVALID_RANGE', `need 1 <= from <= to, got from ${from}, to ${to}`);
  }
  const available = await availableSize(store);
  if (to > available) serviceFail('NOT_FOUND', `the calendar has ${available} blocks; size ${to} does not exist yet`);
  return calendarConsistency(store, from, to);
}

/**
 * A proof extension (the input of sdk extendProof): the calendar path of block
 * `height` in the calendar of `size` blocks and the checkpoint of that size
 * (block size-1's signed note). Hashes are hex: this goes straight to JSON.
 */
export async function proofExtension(
  store: Store,
  height: number,
  size: number,
): Promise<{ calendar: { size: number; path: string[] }; checkpoint: string }> {
  if (!Number.isSafeInteger(height) || !Number.isSafeInteger(size) || height < 0 || height >= size) {
    serviceFail('INVALID_RANGE', `need 0 <= height < size, got height ${height}, size ${size}`);
  }
  const available = await availableSize(store);
  if (size > available) serviceFail('NOT_FOUND', `the calendar has ${available} blocks; size ${size} does not exist yet`);
  const [block, path] = await Promise.all([store.getBlock(size - 1), calendarInclusion(store, height, size)]);
  if (!block) serviceFail('CORRUPT', `block ${size - 1} is missing`);
  return { calendar: { size, path: path.map(bytesToHex) }, checkpoint: block.checkpoint };
}
