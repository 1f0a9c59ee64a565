/**
 * The calendar (docs/protocol.md 4.5, 7.2): one append-only RFC 9162 tree whose leaf
 * i is the header of block i. The store keeps only perfect subtrees ("nodes",
 * `{ level, index }` = leaves [index * 2^level, (index + 1) * 2^level)); every
 * root and proof is, in the transparency-dev style:
 *
 *   pure shape (merkle-shape.ts: which leaf ranges, which perfect subtrees)
 *   -> ONE batched getCalendarNodes
 *   -> pure rehash (hashRange per range).
 *
 * Nodes are derived from block headers only, so writing them again (the settle
 * step after a crash, or two coordinators at once) writes identical items.
 */
import {
  consistencyProofRanges,
  hashRange,
  inclusionProofRanges,
  leafHash,
  type LeafRange,
  nodeHash,
  perfectSubtrees,
  type SubtreeId,
  utf8,
} from '@ledgerseal/sdk';
import type { CalendarNode, Store } from '../store/port.ts';
import { serviceFail } from '../errors.ts';

const nodeKey = (level: number, index: number): string => `${level}/${index}`;

/** The calendar leaf hash of a block: SHA-256(0x00 || header bytes). */
export function headerLeafHash(header: string): Uint8Array {
  return leafHash(utf8(header));
}

/** The perfect subtrees whose hashes make the root of a calendar of `size` blocks (left to right). */
export function frontierIds(size: number): SubtreeId[] {
  return perfectSubtrees(0, size);
}

/**
 * The nodes completed by appending leaf number `size` (0-based) with hash `leaf`
 * to a calendar whose frontier (frontierIds(size), in order) is `frontier`: the
 * leaf node itself, then each parent that becomes perfect, bottom-up. Pure.
 */
export function appendNodes(size: number, leaf: Uint8Array, frontier: readonly CalendarNode[]): CalendarNode[] {
  const out: CalendarNode[] = [{ level: 0, index: size, hash: leaf }];
  let hash = leaf;
  let index = size;
  let level = 0;
  let f = frontier.length - 1;
  // While the new node is a right child, its left sibling is the smallest frontier node.
  while (index % 2 === 1) {
    const left = frontier[f--];
    if (left === undefined || left.level !== level || left.index !== index - 1) {
      serviceFail('CORRUPT', `frontier of size ${size} lacks node (${level}, ${index - 1})`);
    }
    hash = nodeHash(left.hash, hash);
    index = (index - 1) / 2;
    level++;
    out.push({ level, index, hash });
  }
  return out;
}

/** The frontier of size + 1 from the frontier of size and the nodes appendNodes returned. Pure. */
export function frontierAfterAppend(frontier: readonly CalendarNode[], appended: readonly CalendarNode[]): CalendarNode[] {
  const consumed = appended.length - 1;
  return [...frontier.slice(0, frontier.length - consumed), appended[appended.length - 1]!];
}

/**
 * Fetch nodes in one batched read; a missing node is CALENDAR_INCOMPLETE (its
 * block is not settled). The frontier that a new block is appended to is read
 * consistently (`consistent`): the coordinator, the validators and settling
 * decide on it. Proof paths are read eventually consistently; the store reads
 * the misses again consistently.
 */
export async function readNodes(store: Store, ids: readonly SubtreeId[], consistent: boolean): Promise<Map<string, Uint8Array>> {
  const unique = new Map<string, SubtreeId>();
  for (const id of ids) unique.set(nodeKey(id.level, id.index), id);
  const found = new Map<string, Uint8Array>();
  if (unique.size === 0) return found;
  for (const n of await store.getCalendarNodes([...unique.values()], { consistent })) found.set(nodeKey(n.level, n.index), n.hash);
  for (const [key, id] of unique) {
    if (!found.has(key)) serviceFail('CALENDAR_INCOMPLETE', `calendar node (level ${id.level}, index ${id.index}) is not stored`);
  }
  return found;
}

/** Read the frontier of a calendar of `size` blocks, in order (consistently: it decides what is appended). */
export async function readFrontier(store: Store, size: number): Promise<CalendarNode[]> {
  const ids = frontierIds(size);
  const nodes = await readNodes(store, ids, true);
  return ids.map((id) => ({ ...id, hash: nodes.get(nodeKey(id.level, id.index))! }));
}

/** Pure: the subtree ids each proof range needs, flattened for one read. */
function rangeIds(ranges: readonly LeafRange[]): SubtreeId[] {
  return ranges.flatMap(([start, end]) => perfectSubtrees(start, end));
}

/** Pure: the Merkle Tree Hash of each range from the fetched nodes. */
function rehash(ranges: readonly LeafRange[], nodes: Map<string, Uint8Array>): Uint8Array[] {
  return ranges.map(([start, end]) => hashRange(perfectSubtrees(start, end).map((s) => nodes.get(nodeKey(s.level, s.index))!)));
}

function checkSize(name: string, n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) serviceFail('INVALID_RANGE', `${name} must be a non-negative integer, got ${n}`);
}

/** The calendar root of `size` blocks (the empty tree's root for 0). */
export async function calendarRoot(store: Store, size: number): Promise<Uint8Array> {
  checkSize('size', size);
  return hashRange((await readFrontier(store, size)).map((n) => n.hash));
}

/** RFC 9162 inclusion proof of block `index` in the calendar of `size` blocks, bottom-up. */
export async function calendarInclusion(store: Store, index: number, size: number): Promise<Uint8Array[]> {
  checkSize('size', size);
  checkSize('index', index);
  if (index >= size) serviceFail('INVALID_RANGE', `block ${index} is not in a calendar of size ${size}`);
  const ranges = inclusionProofRanges(index, size);
  return rehash(ranges, await readNodes(store, rangeIds(ranges), false));
}

/** RFC 9162 consistency proof from the calendar of size m to that of size n (m <= n), bottom-up. */
export async function calendarConsistency(store: Store, m: number, n: number): Promise<Uint8Array[]> {
  checkSize('from', m);
  checkSize('to', n);
  if (m > n) serviceFail('INVALID_RANGE', `consistency from size ${m} to the smaller size ${n}`);
  const ranges = consistencyProofRanges(m, n);
  return rehash(ranges, await readNodes(store, rangeIds(ranges), false));
}

/**
 * Append block `size` (its header) to the calendar in memory: reads the frontier
 * of `size`, returns the nodes to store and the root of size + 1. Writes nothing.
 */
export async function appendHeader(
  store: Store,
  size: number,
  header: string,
): Promise<{ nodes: CalendarNode[]; frontier: CalendarNode[]; root: Uint8Array; previousRoot: Uint8Array }> {
  const frontier = await readFrontier(store, size);
  const nodes = appendNodes(size, headerLeafHash(header), frontier);
  const next = frontierAfterAppend(frontier, nodes);
  return { nodes, frontier: next, root: hashRange(next.map((n) => n.hash)), previousRoot: hashRange(frontier.map((n) => n.hash)) };
}
