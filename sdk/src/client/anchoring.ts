/**
 * Anchoring records end to end over the client: local digests, masks and
 * anchors (docs/protocol.md 2: record contents never leave the process), local
 * KSI-style aggregation into blocks, one submitted root per block, bulk proofs
 * with one request per batch (docs/protocol.md 7.6), offline verification, and
 * proof extension.
 *
 * Shape of a receipt's proof chain (docs/protocol.md 6.1), bottom-up:
 *
 *   anchor --local step--> block root --batch step--> batch root --round step--> round root
 *
 * The local step is the anchor's place in its block (an RFC 9162 tree over the
 * block's anchors), the batch step the block root's place in the submitted batch
 * (an RFC 9162 tree over the request's roots, as the service builds it, 7.1).
 * The client holds all of them, so both steps are computed locally and kept in
 * the receipt; the service only ever sees block roots.
 */
import { parseBlockHeader } from '../block.ts';
import { parseCheckpoint } from '../checkpoint.ts';
import { bytesToHex, hexToBytes } from '../encoding.ts';
import { fail } from '../errors.ts';
import { hashRange, leafHash, MerkleTree, rootFromInclusionProof } from '../merkle.ts';
import { perfectSubtrees } from '../merkle-shape.ts';
import { parseNote } from '../note.ts';
import {
  type ChainStep,
  extendProof as extendProofDocument,
  parseProof,
  prependChain,
  PROOF_FORMAT,
  type ProofDocument,
  type ProofResult,
  type ProofTrust,
  verifyProof,
} from '../proof.ts';
import { anchorOf, blindingMask, hashRecord } from '../record.ts';
import { sha256Into } from '#sha256';
import { type LedgersealClient, LedgersealApiError, type Sleep, defaultSleep, unwrap } from './client.ts';
import type { components } from './openapi.ts';

export const RECEIPT_FORMAT = 'ledgerseal-receipt/v1';

/** Most anchors the service takes in one POST /v1/anchors (docs/api.md, "Submitting anchors"). */
export const MAX_ROOTS_PER_REQUEST = 10_000;
export const DEFAULT_BLOCK_SIZE = 1024;
/** Longest Idempotency-Key the service accepts. */
const MAX_IDEMPOTENCY_KEY = 255;

/**
 * What the agency keeps next to a record to prove it later: the values that
 * rebuild its anchor, and the two local aggregation steps under the service's
 * proof of its block root. Plain JSON. Not an API type: the service never sees it.
 */
export interface Receipt {
  format: typeof RECEIPT_FORMAT;
  recordKey: string;
  /** The record version of the mask: a number, or a decimal string for a bigint. */
  version: number | string;
  /** hashRecord(record), hex. */
  digest: string;
  /** blindingMask(blindingKey, recordKey, version), hex. Secret: it unblinds the anchor. */
  mask: string;
  /** anchorOf(digest, mask), hex. */
  anchor: string;
  /** [the anchor in its block tree, the block root in the submitted batch]. */
  steps: [ChainStep, ChainStep];
  batchId: string;
  /** The service's id of the block root: `<batchId>.<index>`. */
  anchorId: string;
}

export type SubmitMetadata = NonNullable<components['schemas']['AnchorInput']['metadata']>;

export interface AnchorRecordsOptions<R> {
  /** The record's key for the mask (a primary key, a path): non-empty, no U+0000. */
  recordKey: (record: R, index: number) => string;
  /** The record's version for the mask (default 0). */
  version?: (record: R, index: number) => number | bigint;
  /** The agency's blinding key, at least 32 bytes. It never leaves the process. */
  blindingKey: Uint8Array;
  /** Records per block (default 1024): one submitted root per block. */
  blockSize?: number;
  /**
   * Makes the whole call safe to repeat: request n is sent with the key
   * `<idempotencyKey>.<n>`, so a repeated call with the same records is answered
   * with the same batches. Without it each request gets a random key (which
   * still makes the client's own retries safe).
   */
  idempotencyKey?: string;
  /** A JSON object kept with every submitted block root (at most 1,024 bytes; never sent to validators). */
  metadata?: SubmitMetadata;
  signal?: AbortSignal;
}

/**
 * The whole-tree inclusion paths of `tree` in hex, each distinct node read and
 * encoded once (the paths of a tree share their upper nodes). Node (level, i) of
 * the level arrays covers leaves [i * 2^level, min((i + 1) * 2^level, size)), and
 * PATH(index) is the sibling of the index's node at each level where it has one
 * (RFC 9162 2.1.3.1 read from the levels, as MerkleTree.inclusionProof does).
 * `matches(index, path)` compares a path without building one.
 */
function treePaths(tree: MerkleTree): { pathOf(index: number): string[]; matches(index: number, path: readonly string[]): boolean } {
  const size = tree.size;
  const counts: number[] = [];
  for (let c = size; c > 1; c = Math.ceil(c / 2)) counts.push(c);
  const cache: (string | undefined)[][] = counts.map((c) => new Array<string | undefined>(c));
  const node = (level: number, i: number): string => {
    const width = 2 ** level;
    const start = i * width;
    const bytes = start + width <= size
      ? tree.subtreeHash(level, i)
      : hashRange(perfectSubtrees(start, size).map((s) => tree.subtreeHash(s.level, s.index))); // the ragged right edge
    return bytesToHex(bytes);
  };
  return {
    pathOf(index) {
      const out: string[] = [];
      for (let level = 0, i = index; level < counts.length; level++, i = Math.floor(i / 2)) {
        const sibling = i ^ 1;
        if (sibling < counts[level]!) out.push((cache[level]![sibling] ??= node(level, sibling)));
      }
      return out;
    },
    matches(index, path) {
      let j = 0;
      for (let level = 0, i = index; level < counts.length; level++, i = Math.floor(i / 2)) {
        const sibling = i ^ 1;
        if (sibling >= counts[level]!) continue;
        if (j >= path.length || path[j] !== (cache[level]![sibling] ??= node(level, sibling))) return false;
        j++;
      }
      return j === path.length;
    },
  };
}

const HEX_VALUES = new Int8Array(128).fill(-1);
for (let c = 0; c < 16; c++) HEX_VALUES['0123456789abcdef'.charCodeAt(c)] = c;

/** Decode 64 lowercase hex characters into out[offset .. offset+32); false for anything else. */
function hashHexInto(hex: unknown, out: Uint8Array, offset: number): boolean {
  if (typeof hex !== 'string' || hex.length !== 64) return false;
  for (let j = 0; j < 32; j++) {
    const a = hex.charCodeAt(2 * j);
    const b = hex.charCodeAt(2 * j + 1);
    const hi = a < 128 ? HEX_VALUES[a]! : -1;
    const lo = b < 128 ? HEX_VALUES[b]! : -1;
    if (hi < 0 || lo < 0) return false;
    out[offset + j] = (hi << 4) | lo;
  }
  return true;
}

function checkIdempotencyKey(key: string, requests: number): void {
  const longest = `${key}.${requests - 1}`;
  if (!/^[\x21-\x7e]+$/.test(key) || longest.length > MAX_IDEMPOTENCY_KEY) {
    fail('INVALID_ARGUMENT', `idempotencyKey must be visible ASCII and leave room for the suffix ".${requests - 1}" within ${MAX_IDEMPOTENCY_KEY} characters`);
  }
}

/**
 * Anchor records: each record's digest, mask and anchor are computed here (the
 * record never leaves the process), the anchors are cut into blocks of
 * `blockSize`, each block is an RFC 9162 tree, and only the block roots are
 * submitted (POST /v1/anchors, up to 10,000 roots per request). Returns one
 * receipt per record, in record order. Wait for the proofs with waitForProofs.
 */
export async function anchorRecords<R>(client: LedgersealClient, records: readonly R[], options: AnchorRecordsOptions<R>): Promise<Receipt[]> {
  if (!Array.isArray(records)) fail('INVALID_ARGUMENT', 'records must be an array');
  if (typeof options?.recordKey !== 'function') fail('INVALID_ARGUMENT', 'options.recordKey must be a function (record, index) => string');
  const blockSize = options.blockSize ?? DEFAULT_BLOCK_SIZE;
  if (!Number.isSafeInteger(blockSize) || blockSize < 1) fail('INVALID_ARGUMENT', `blockSize must be a positive integer, got ${String(blockSize)}`);
  if (records.length === 0) return [];
  const blocks = Math.ceil(records.length / blockSize);
  const requests = Math.ceil(blocks / MAX_ROOTS_PER_REQUEST);
  if (options.idempotencyKey !== undefined) checkIdempotencyKey(options.idempotencyKey, requests);

  // Local: digests, masks, anchors, block trees and the local steps.
  const receipts = new Array<Receipt>(records.length);
  const roots: Uint8Array[] = [];
  for (let b = 0; b < blocks; b++) {
    const start = b * blockSize;
    const end = Math.min(records.length, start + blockSize);
    const anchors: Uint8Array[] = [];
    for (let i = start; i < end; i++) {
      const record = records[i];
      const recordKey = options.recordKey(record as R, i);
      const version = options.version ? options.version(record as R, i) : 0;
      const digest = hashRecord(record);
      const mask = blindingMask(options.blindingKey, recordKey, version);
      const anchor = anchorOf(digest, mask);
      anchors.push(anchor);
      receipts[i] = {
        format: RECEIPT_FORMAT,
        recordKey,
        version: typeof version === 'bigint' ? version.toString(10) : version,
        digest: bytesToHex(digest),
        mask: bytesToHex(mask),
        anchor: bytesToHex(anchor),
        steps: [{ index: i - start, size: end - start, path: [] }, { index: 0, size: 0, path: [] }],
        batchId: '',
        anchorId: '',
      };
    }
    const tree = MerkleTree.fromLeafData(anchors);
    const paths = treePaths(tree);
    for (let i = start; i < end; i++) receipts[i]!.steps[0].path = paths.pathOf(i - start);
    roots.push(tree.root());
  }

  // Remote: the roots, up to MAX_ROOTS_PER_REQUEST per request; the batch steps are computed here too.
  for (let r = 0; r < requests; r++) {
    const first = r * MAX_ROOTS_PER_REQUEST;
    const chunk = roots.slice(first, first + MAX_ROOTS_PER_REQUEST);
    const hashes = chunk.map(bytesToHex);
    const body = { anchors: hashes.map((hash) => (options.metadata !== undefined ? { hash, metadata: options.metadata } : { hash })) };
    const result = await client.POST('/v1/anchors', {
      body,
      ...(options.idempotencyKey !== undefined ? { params: { header: { 'idempotency-key': `${options.idempotencyKey}.${r}` } } } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    const accepted = unwrap(result);
    if (accepted.anchors.length !== chunk.length || accepted.anchors.some((a, i) => a.hash !== hashes[i])) {
      fail('INVALID_PROOF', `the service accepted batch ${accepted.batchId} with other anchors than the ${chunk.length} submitted`);
    }
    const batchPaths = treePaths(MerkleTree.fromLeafData(chunk));
    for (let k = 0; k < chunk.length; k++) {
      const b = first + k;
      const batchStep: ChainStep = { index: k, size: chunk.length, path: batchPaths.pathOf(k) };
      const anchorId = accepted.anchors[k]!.id;
      // One shared batch step per block: receipts are plain data, never mutated here.
      for (let i = b * blockSize, end = Math.min(records.length, i + blockSize); i < end; i++) {
        const receipt = receipts[i]!;
        receipt.steps[1] = batchStep;
        receipt.batchId = accepted.batchId;
        receipt.anchorId = anchorId;
      }
    }
  }
  return receipts;
}

export interface WaitForProofsOptions {
  /** Time between polls of a pending batch (default 1,000 ms). */
  pollMs?: number;
  /** Give up after this long (default 600,000 ms) with a DOMException named TimeoutError. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Waits between polls (default: setTimeout). */
  sleep?: Sleep;
  /** Milliseconds since the epoch, for the timeout (default Date.now). */
  now?: () => number;
  /** How many batches are read at once (default 8). */
  concurrency?: number;
}

type BatchView = components['schemas']['Batch'];

/** Run `task` over `items`, at most `limit` at a time. */
async function eachLimited<T>(items: readonly T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await task(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

function sameStep(a: ChainStep, b: ChainStep): boolean {
  if (a === b) return true;
  if (a.index !== b.index || a.size !== b.size || a.path.length !== b.path.length) return false;
  for (let i = 0; i < a.path.length; i++) if (a.path[i] !== b.path[i]) return false;
  return true;
}

/**
 * The proofs of the receipts of one block (same batch step): prependChain's
 * result for each, with the work shared. When the receipts are the whole block
 * (local indices 0..n-1 of size n), the block tree is rebuilt once, its root is
 * folded through the batch step once, and each receipt's path is compared with
 * the tree's. Anything else (or any mismatch) goes through prependChain itself,
 * which throws its INVALID_PROOF for a receipt that does not lead to the batch root.
 */
function blockProofs(doc: ProofDocument, receipts: readonly Receipt[], members: readonly number[], out: ProofDocument[]): void {
  const one = (i: number): void => {
    const r = receipts[i]!;
    out[i] = prependChain(doc, r.anchor, r.steps);
  };
  const head = receipts[members[0]!]!;
  const n = head.steps[0]?.size;
  const batchStep = head.steps[1];
  let whole = n === members.length && batchStep !== undefined && doc.chain.length + 2 <= 16;
  const byIndex = whole ? new Array<number>(n!).fill(-1) : [];
  if (whole) {
    for (const i of members) {
      const s = receipts[i]!.steps;
      if (s.length !== 2 || s[0].size !== n || !Number.isSafeInteger(s[0].index) || s[0].index < 0 || s[0].index >= n!
        || byIndex[s[0].index] !== -1 || !sameStep(s[1], batchStep!)) {
        whole = false;
        break;
      }
      byIndex[s[0].index] = i;
    }
  }
  if (!whole) return members.forEach(one);
  // Leaf hashes straight into one buffer: no object per anchor.
  const leafHashes = new Uint8Array(32 * n!);
  const input = new Uint8Array(33); // 0x00 || anchor (RFC 9162 leaf)
  for (let k = 0; k < n!; k++) {
    if (!hashHexInto(receipts[byIndex[k]!]!.anchor, input, 1)) return members.forEach(one);
    sha256Into(input, leafHashes, 32 * k);
  }
  const tree = MerkleTree.fromLeafHashes(leafHashes);
  try {
    const root = rootFromInclusionProof(leafHash(tree.root()), batchStep!.index, batchStep!.size, batchStep!.path.map((h) => hexToBytes(h, 32)));
    if (bytesToHex(root) !== doc.anchor) return members.forEach(one);
  } catch {
    return members.forEach(one); // prependChain names the problem
  }
  const paths = treePaths(tree);
  const shared: ChainStep = { index: batchStep!.index, size: batchStep!.size, path: batchStep!.path };
  const tail = doc.chain;
  for (let k = 0; k < n!; k++) {
    const i = byIndex[k]!;
    const r = receipts[i]!;
    const local = r.steps[0];
    if (!paths.matches(k, local.path)) {
      one(i);
      continue;
    }
    const chain = new Array<ChainStep>(2 + tail.length);
    chain[0] = { index: local.index, size: local.size, path: local.path };
    chain[1] = shared;
    for (let j = 0; j < tail.length; j++) chain[2 + j] = tail[j]!;
    out[i] = { format: PROOF_FORMAT, anchor: r.anchor, chain, block: doc.block, calendar: doc.calendar, checkpoint: doc.checkpoint };
  }
}

/**
 * The proofs of the receipts, in receipt order, once their batches are confirmed:
 * one GET /v1/batches/{id} per distinct batch (repeated every `pollMs` while it
 * is pending), then each proof is prependChain(batchProof, receipt.anchor,
 * receipt.steps), computed locally: no request per receipt, and the work per
 * block is shared. Proofs of one batch share their common parts (the batch
 * proof's chain tail, calendar and paths): treat them as immutable, or copy.
 * Throws LedgersealApiError for an API error (a batch of another agency is
 * not-found), INVALID_PROOF for a receipt that does not lead to its batch's root,
 * and a DOMException named TimeoutError after `timeoutMs`.
 */
export async function waitForProofs(client: LedgersealClient, receipts: readonly Receipt[], options: WaitForProofsOptions = {}): Promise<ProofDocument[]> {
  if (!Array.isArray(receipts)) fail('INVALID_ARGUMENT', 'receipts must be an array');
  const pollMs = options.pollMs ?? 1_000;
  const timeoutMs = options.timeoutMs ?? 600_000;
  const sleep = options.sleep ?? defaultSleep;
  const now = options.now ?? Date.now;
  const concurrency = options.concurrency ?? 8;
  const deadline = now() + timeoutMs;

  // Receipts by batch, then by batch step (= block).
  const batches = new Map<string, Map<number, number[]>>();
  for (let i = 0; i < receipts.length; i++) {
    const r = receipts[i]!;
    if (typeof r?.batchId !== 'string' || r.batchId === '' || !Array.isArray(r.steps) || r.steps.length === 0) {
      fail('INVALID_ARGUMENT', `receipt ${i} has no batch id or steps`);
    }
    let blocks = batches.get(r.batchId);
    if (!blocks) batches.set(r.batchId, (blocks = new Map()));
    const key = r.steps.length === 2 ? r.steps[1]!.index : -1;
    let members = blocks.get(key);
    if (!members) blocks.set(key, (members = []));
    members.push(i);
  }

  const confirmed = new Map<string, BatchView>();
  let pending = [...batches.keys()];
  for (;;) {
    const still: string[] = [];
    await eachLimited(pending, concurrency, async (id) => {
      const b = unwrap(await client.GET('/v1/batches/{id}', { params: { path: { id } }, ...(options.signal ? { signal: options.signal } : {}) }));
      if (b.status === 'confirmed' && b.proof !== undefined) confirmed.set(id, b);
      else still.push(id);
    });
    pending = still;
    if (pending.length === 0) break;
    if (now() + pollMs > deadline) {
      throw new DOMException(`${pending.length} of ${batches.size} batches still pending after ${timeoutMs} ms (first: ${pending[0]})`, 'TimeoutError');
    }
    await sleep(pollMs, options.signal);
  }

  const out = new Array<ProofDocument>(receipts.length);
  for (const [id, blocks] of batches) {
    const b = confirmed.get(id)!;
    const doc = parseProof(b.proof);
    for (const [key, members] of blocks) {
      if (key === -1) members.forEach((i) => (out[i] = prependChain(doc, receipts[i]!.anchor, receipts[i]!.steps)));
      else blockProofs(doc, receipts, members, out);
    }
  }
  return out;
}

/**
 * Offline: does `proof` prove this record, as the receipt describes it? =
 * verifyProof(proof, trust, { record, mask: receipt.mask }), then the proof's
 * anchor must be the receipt's. A changed record fails with `failed: 'anchor'`.
 */
export function verifyRecord(record: unknown, receipt: Receipt, proof: unknown, trust: ProofTrust): ProofResult {
  let mask: Uint8Array;
  try {
    mask = hexToBytes(receipt.mask, 32);
  } catch (e) {
    return { ok: false, failed: 'anchor', detail: `the receipt's mask is not 32 bytes of hex: ${e instanceof Error ? e.message : String(e)}` };
  }
  const result = verifyProof(proof, trust, { record, mask });
  if (!result.ok) return result;
  if (result.anchor !== receipt.anchor) {
    return { ok: false, failed: 'anchor', detail: `the proof is for anchor ${result.anchor}, the receipt for ${receipt.anchor}` };
  }
  return result;
}

export type ExtendProofOptions = ({ size?: number; publication?: false } | { publication: true; size?: undefined }) & { signal?: AbortSignal };

/**
 * Bring a proof up to a later calendar size: GET /v1/proofs/extend, applied with
 * the core extendProof (which checks the new path against the new checkpoint;
 * verify the result). The size is `size`, or with `publication: true` the latest
 * publication's (GET /v1/publications), or by default the latest checkpoint's
 * (GET /v1/checkpoint). Throws INVALID_PROOF for a size below the proof's own.
 */
export async function extendProof(client: LedgersealClient, proof: unknown, options: ExtendProofOptions = {}): Promise<ProofDocument> {
  const doc = parseProof(proof);
  const { height } = parseBlockHeader(doc.block);
  const init = options.signal ? { signal: options.signal } : {};
  let size: number;
  let fromCheckpoint = false;
  if (options.publication === true) {
    const page = unwrap(await client.GET('/v1/publications', { params: { query: { limit: 1 } }, ...init }));
    const latest = page.items[0];
    if (!latest) fail('INVALID_ARGUMENT', 'the service has no publication yet');
    size = latest.size;
  } else if (options.size !== undefined) {
    size = options.size;
  } else {
    const text = unwrap(await client.GET('/v1/checkpoint', { parseAs: 'text', ...init }));
    size = parseCheckpoint(parseNote(text).text).size;
    fromCheckpoint = true;
  }
  if (!Number.isSafeInteger(size) || size < doc.calendar.size) {
    fail('INVALID_PROOF', `cannot extend a proof of calendar size ${doc.calendar.size} to ${String(size)}${options.publication === true ? ' (the latest publication is older than the proof)' : ''}`);
  }
  const fetchExtension = async (s: number) => unwrap(await client.GET('/v1/proofs/extend', { params: { query: { height, size: s } }, ...init }));
  try {
    return extendProofDocument(doc, await fetchExtension(size));
  } catch (e) {
    // The latest checkpoint's block may not be settled yet for a moment (docs/api.md, "The public ledger"):
    // then the one before it is.
    if (fromCheckpoint && e instanceof LedgersealApiError && e.is('not-found') && size - 1 > height && size - 1 >= doc.calendar.size) {
      return extendProofDocument(doc, await fetchExtension(size - 1));
    }
    throw e;
  }
}
