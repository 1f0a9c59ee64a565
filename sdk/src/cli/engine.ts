/**
 * Backfill, audit and row proofs over any receipt store (docs/cli.md).
 *
 * Backfill, resumable at every step (a run killed anywhere continues where it
 * stopped and anchors no row twice):
 *   1. finish earlier runs: chunks stored but not yet submitted are submitted,
 *      with the Idempotency-Key their group was given before it was first sent;
 *   2. scan the source joined with the receipts; a row whose digest equals its
 *      receipt's is unchanged; a new or changed row gets the next version;
 *   3. every 1024 such rows are one chunk, the local aggregation tree; chunks are
 *      stored with their rows' receipts, atomically, before anything is sent;
 *   4. up to 1024 stored chunks form a group: its Idempotency-Key is stored, then
 *      the chunk roots are POSTed as one batch, then the batch id is stored;
 *   5. (unless --no-wait) the batch proofs are fetched once per batch and stored.
 * A crash after 3 leaves stored, unsent chunks: step 1 sends them. After 4's
 * first write, the same key and roots are sent again, and the service answers
 * with the batch it already has. The scan sees stored rows as unchanged.
 *
 * Audit: every row re-hashed and compared with its receipt; every receipt's
 * anchor recomputed and every chunk root rebuilt from them and compared with the
 * stored root; every chunk root list compared with its batch root; every batch
 * proof verified (extended to the latest checkpoint when the service is reachable).
 */
import {
  batchProofs,
  bytesToHex,
  equalBytes,
  extendProof,
  MerkleTree,
  parseBlockHeader,
  parseCheckpoint,
  parseNote,
  parseProof,
  prependChain,
  type ProofDocument,
  rowEncoder,
  type ValidatorSet,
  verifyProof,
} from '../index.ts';
import { CliError, EXIT, errorText, receiptsError } from './errors.ts';
import { RowHasher, sha256Hex } from './hashing.ts';
import { Progress } from './progress.ts';
import { CHUNK_ROWS, type NewRowReceipt, type ReceiptStore, type SealedChunk } from './receipts/store.ts';
import type { Service } from './service.ts';

/**
 * The digest of a deletion: SHA-256 of the RFC 8785 text `null` (a row's canonical
 * form is always an object, so no row has this digest). A row gone from the source
 * is anchored as a new version with this digest, so its deletion is in its history
 * like any change, and verifies as the record `null`.
 */
export const DELETED_DIGEST = sha256Hex('null');

/** Chunks per submitted batch: 1024 chunk roots, about a million rows. */
export const GROUP_CHUNKS = 1024;
/** Chunks stored per receipts transaction: 64 chunks, 65,536 rows. */
export const FLUSH_CHUNKS = 64;

export interface RunOptions {
  blindingKey: Uint8Array;
  service: Service | null;
  progress: boolean;
  /** Seconds to wait for batch proofs after submitting (0: do not wait). */
  waitSeconds: number;
  sleep?: (ms: number) => Promise<void>;
  /** Chunks per submitted batch (default GROUP_CHUNKS) and per receipts transaction (default FLUSH_CHUNKS); tests make them small. */
  groupChunks?: number;
  flushChunks?: number;
  /** Crash injection for the resumability tests: exit at the named step (LEDGERSEAL_TEST_CRASH=step:count). */
  crashAt?: { step: string; count: number };
  log?: (line: string) => void;
}

export interface BackfillResult {
  dataset: string;
  receipts: string;
  scanned: number;
  unchanged: number;
  anchored: number;
  added: number;
  changed: number;
  /** Rows gone from the source since the last run, anchored as deletions (a new version with DELETED_DIGEST). */
  deleted: number;
  chunks: number;
  batches: { submitted: number; confirmed: number; pending: number };
  recovered: { chunks: number; batches: number };
  /** HTTP requests to the service. */
  requests: number;
  seconds: number;
}

const defaultSleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function crashPoint(opts: RunOptions, step: string): void {
  const c = opts.crashAt;
  if (!c || c.step !== step) return;
  c.count -= 1;
  if (c.count <= 0) {
    process.stderr.write(`ledgerseal: crash injected at ${step}\n`);
    process.kill(process.pid, 'SIGKILL');
  }
}

function groupKey(datasetId: string, ids: number[]): string {
  return `ledgerseal-cli/${datasetId}/chunks/${ids[0]}-${ids[ids.length - 1]}/${ids.length}`;
}

/** Send every stored chunk that has no batch yet: earlier groups with their own key first, then new groups. */
async function submitStored(store: ReceiptStore, service: Service, opts: RunOptions): Promise<{ chunks: number; batches: number }> {
  const waiting = await store.chunks('unsubmitted');
  if (waiting.length === 0) return { chunks: 0, batches: 0 };
  const groups = new Map<string, typeof waiting>();
  const fresh: typeof waiting = [];
  for (const c of waiting) {
    if (c.groupKey === null) fresh.push(c);
    else groups.set(c.groupKey, [...(groups.get(c.groupKey) ?? []), c]);
  }
  const groupChunks = opts.groupChunks ?? GROUP_CHUNKS;
  for (let i = 0; i < fresh.length; i += groupChunks) {
    const part = fresh.slice(i, i + groupChunks);
    const key = groupKey(store.dataset.id, part.map((c) => c.id));
    await store.assignGroup(part.map((c) => c.id), key);
    crashPoint(opts, 'group');
    groups.set(key, part);
  }
  let batches = 0;
  for (const [key, part] of groups) {
    part.sort((a, b) => a.id - b.id);
    const roots = part.map((c) => c.root);
    const { batchId, replayed } = await service.submit(roots.map(bytesToHex), key);
    if (replayed) opts.log?.(`group ${key} was sent before: the service already had it as batch ${batchId}`);
    crashPoint(opts, 'submit');
    await store.recordBatch(key, batchId, part.map((c) => c.id), MerkleTree.fromLeafData(roots).root());
    batches++;
  }
  return { chunks: waiting.length, batches };
}

/** Poll the service for every batch without a stored proof; store each proof once. */
export async function collectProofs(store: ReceiptStore, service: Service, waitSeconds: number, sleep: (ms: number) => Promise<void>): Promise<{ confirmed: number; pending: number }> {
  const deadline = Date.now() + waitSeconds * 1000;
  let delay = 250;
  for (;;) {
    const batches = await store.batches();
    let pending = 0;
    for (const b of batches) {
      if (b.proof !== null) continue;
      const state = await service.batch(b.id);
      if (state.status === 'confirmed' && state.proof) {
        if (state.proof.anchor !== bytesToHex(b.root)) {
          throw new CliError(EXIT.service, `the service's proof of batch ${b.id} is for root ${state.proof.anchor}, not the submitted root ${bytesToHex(b.root)}`);
        }
        await store.saveBatchProof(b.id, JSON.stringify(state.proof));
      } else pending++;
    }
    const confirmed = batches.length - pending;
    if (pending === 0 || Date.now() >= deadline) return { confirmed, pending };
    await sleep(delay);
    delay = Math.min(2000, delay * 2);
  }
}

/** Root of the local aggregation tree over the first n anchors packed in buf. */
function chunkRoot(buf: Buffer, n: number): Uint8Array {
  const leaves: Uint8Array[] = new Array(n);
  for (let i = 0; i < n; i++) leaves[i] = buf.subarray(i * 32, i * 32 + 32);
  return MerkleTree.fromLeafData(leaves).root();
}

export async function backfill(store: ReceiptStore, opts: RunOptions): Promise<BackfillResult> {
  const started = performance.now();
  const service = opts.service;
  if (!service) throw new CliError(EXIT.usage, 'backfill needs the service: set LEDGERSEAL_URL and LEDGERSEAL_API_KEY');
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const recovered = await submitStored(store, service, opts);
  if (recovered.chunks > 0) log(`finished an earlier run: ${recovered.chunks} stored chunks sent as ${recovered.batches} batches`);

  const ds = store.dataset;
  const hasher = new RowHasher(opts.blindingKey, ds.name);
  const encode = rowEncoder(ds.columns.map((c) => c.name));
  const estimate = await store.estimate();
  const progress = new Progress({ label: `backfill ${ds.name}`, unit: estimate?.unit ?? 'rows', enabled: opts.progress, ...(estimate ? { total: estimate.total } : {}) });

  let nextChunk = await store.nextChunkId();
  let leaves: NewRowReceipt[] = [];
  let anchorBuf = Buffer.alloc(CHUNK_ROWS * 32);
  let sealed: SealedChunk[] = [];
  let sealedRows = 0;
  let unsentChunks = 0;
  let submittedBatches = recovered.batches;
  let inflight: Promise<void> | null = null;
  const r = { scanned: 0, unchanged: 0, added: 0, changed: 0, deleted: 0, gone: 0, chunks: 0 };

  const seal = (): void => {
    if (leaves.length === 0) return;
    const id = nextChunk++;
    sealed.push({ id, size: leaves.length, root: chunkRoot(anchorBuf, leaves.length), rows: leaves });
    sealedRows += leaves.length;
    r.chunks++;
    leaves = [];
    anchorBuf = Buffer.alloc(CHUNK_ROWS * 32);
  };
  /** Store sealed chunks, then submit once a group's worth is stored. */
  const write = async (batch: SealedChunk[]): Promise<void> => {
    await store.writeChunks(batch);
    crashPoint(opts, 'chunks');
    unsentChunks += batch.length;
    if (unsentChunks >= (opts.groupChunks ?? GROUP_CHUNKS)) {
      submittedBatches += (await submitStored(store, service, opts)).batches;
      unsentChunks = 0;
    }
  };
  const takeSealed = (): SealedChunk[] => {
    const batch = sealed;
    sealed = [];
    sealedRows = 0;
    return batch;
  };

  for await (const rows of store.scan()) {
    for (const row of rows) {
      let digest: string;
      if (row.values === null) {
        r.gone++;
        if (row.digest === DELETED_DIGEST) continue; // its deletion is anchored already
        digest = DELETED_DIGEST;
        r.deleted++;
      } else {
        r.scanned++;
        digest = sha256Hex(encode(row.values));
      }
      if (row.digest === digest) {
        r.unchanged++;
        continue;
      }
      const known = row.version >= 0;
      const version = known ? row.version + 1 : 0;
      if (row.values !== null) {
        if (known && row.digest !== DELETED_DIGEST) r.changed++;
        else r.added++; // new, or back after its deletion was anchored
      }
      const leaf = leaves.length;
      leaves.push({ key: row.key, version, digest, seq: nextChunk * CHUNK_ROWS + leaf, replaces: known });
      hasher.anchorInto(row.key, version, digest, anchorBuf, leaf * 32);
      if (leaves.length === CHUNK_ROWS) seal();
    }
    if (sealedRows >= (opts.flushChunks ?? FLUSH_CHUNKS) * CHUNK_ROWS) {
      // Write in the background while the scan goes on; at most one write in flight.
      if (inflight) await inflight;
      inflight = write(takeSealed());
      inflight.catch(() => {}); // surfaced by the next await
    }
    progress.update(store.position(r.scanned + r.gone), `${submittedBatches} batches`);
  }
  seal();
  if (inflight) await inflight;
  if (sealed.length > 0) await write(takeSealed());
  submittedBatches += (await submitStored(store, service, opts)).batches;
  if (r.chunks > 0) await store.analyze();
  progress.finish(`${r.added + r.changed + r.deleted} anchored, ${r.unchanged} unchanged, ${submittedBatches} batches`);

  const proofs = opts.waitSeconds > 0 ? await collectProofs(store, service, opts.waitSeconds, opts.sleep ?? defaultSleep) : { confirmed: 0, pending: (await store.batches()).filter((b) => b.proof === null).length };
  return {
    dataset: ds.name,
    receipts: ds.location,
    scanned: r.scanned,
    unchanged: r.unchanged,
    anchored: r.added + r.changed + r.deleted,
    added: r.added,
    changed: r.changed,
    deleted: r.deleted,
    chunks: r.chunks,
    batches: { submitted: submittedBatches, ...proofs },
    recovered,
    requests: service.requests,
    seconds: Math.round((performance.now() - started) / 10) / 100,
  };
}

// ---- audit ----

export interface RowRef {
  key: string[];
}

export interface AuditResult {
  dataset: string;
  source: string;
  receipts: string;
  checked: number;
  unchanged: number;
  /** Rows gone from the source whose deletion was anchored by a backfill (not changes). */
  deletedAnchored: number;
  altered: RowRef[];
  deleted: RowRef[];
  added: RowRef[];
  /** Rows whose receipts or proofs do not hold up (the receipts were altered, or a proof fails). */
  unproven: (RowRef & { reason: string })[];
  receiptsCheck: { chunks: number; chunksMismatched: number[]; batches: number; batchesMismatched: string[] };
  proofs: {
    batches: number;
    verified: number;
    pending: number;
    /** Rows stored in chunks not yet submitted (run backfill to finish). */
    unsubmittedRows: number;
    failed: { batch: string; check: string; detail: string }[];
    checkpoint: { origin: string; size: number; root: string; signers: string[] } | null;
    trust: string;
    /** Batches whose proof could not be verified for want of a trusted validator set (service unreachable, no --validators). */
    unverified: number;
  };
  errors: string[];
  seconds: number;
}

export interface AuditOptions {
  blindingKey: Uint8Array;
  service: Service | null;
  /** Trusted validator set (from --validators, else fetched from the service). */
  validators: ValidatorSet | null;
  progress: boolean;
}

export function auditChanged(a: AuditResult): boolean {
  return a.altered.length + a.deleted.length + a.added.length + a.unproven.length > 0 ||
    a.receiptsCheck.chunksMismatched.length + a.receiptsCheck.batchesMismatched.length + a.proofs.failed.length > 0;
}

export async function audit(store: ReceiptStore, opts: AuditOptions): Promise<AuditResult> {
  const started = performance.now();
  const ds = store.dataset;
  const hasher = new RowHasher(opts.blindingKey, ds.name);
  const encode = rowEncoder(ds.columns.map((c) => c.name));
  const errors: string[] = [];
  const chunks = await store.chunks('all');
  const chunkById = new Map(chunks.map((c) => [c.id, c]));
  const maxChunk = chunks.reduce((m, c) => Math.max(m, c.id), -1);
  // Anchors recomputed from the receipts, by seq: 32 bytes per possible leaf.
  const anchorsBySeq = Buffer.alloc((maxChunk + 1) * CHUNK_ROWS * 32);
  const filled = new Uint8Array((maxChunk + 1) * CHUNK_ROWS);
  const estimate = await store.estimate();
  const progress = new Progress({ label: `audit ${ds.name}`, unit: estimate?.unit ?? 'rows', enabled: opts.progress, ...(estimate ? { total: estimate.total } : {}) });

  const res: AuditResult = {
    dataset: ds.name, source: ds.source, receipts: ds.location, checked: 0, unchanged: 0, deletedAnchored: 0, altered: [], deleted: [], added: [], unproven: [],
    receiptsCheck: { chunks: chunks.length, chunksMismatched: [], batches: 0, batchesMismatched: [] },
    proofs: { batches: 0, verified: 0, pending: 0, unsubmittedRows: 0, failed: [], checkpoint: null, trust: 'none', unverified: 0 },
    errors, seconds: 0,
  };
  const place = (seq: number, key: string[], version: number, digest: string): void => {
    const chunk = Math.floor(seq / CHUNK_ROWS);
    if (chunk > maxChunk || !chunkById.has(chunk)) {
      res.unproven.push({ key, reason: `its receipt points to chunk ${chunk}, which does not exist` });
      return;
    }
    hasher.anchorInto(key, version, digest, anchorsBySeq, seq * 32);
    filled[seq] = 1;
  };
  let seen = 0;
  for await (const rows of store.scan()) {
    for (const row of rows) {
      seen++;
      if (row.values === null) {
        // Gone from the source: a change, unless its deletion was anchored.
        if (row.digest !== DELETED_DIGEST) res.deleted.push({ key: row.key });
        else res.deletedAnchored++;
        if (row.digest !== null) place(row.seq, row.key, row.version, row.digest);
        continue;
      }
      res.checked++;
      if (row.digest === null || row.digest === DELETED_DIGEST) {
        // Never anchored, or back after its deletion was anchored.
        res.added.push({ key: row.key });
        if (row.digest !== null) place(row.seq, row.key, row.version, row.digest);
        continue;
      }
      let digest: string;
      try {
        digest = sha256Hex(encode(row.values));
      } catch (e) {
        errors.push(`row ${JSON.stringify(row.key)}: ${errorText(e)}`);
        continue;
      }
      if (digest === row.digest) res.unchanged++;
      else res.altered.push({ key: row.key });
      place(row.seq, row.key, row.version, row.digest);
    }
    progress.update(store.position(seen));
  }
  for await (const rows of store.history()) for (const h of rows) place(h.seq, h.key, h.version, h.digest);
  progress.finish(`${res.unchanged} unchanged, ${res.altered.length} altered, ${res.deleted.length} deleted, ${res.added.length} added`);

  // Chunk roots from the recomputed anchors.
  const mismatchedChunks = new Set<number>();
  for (const c of chunks) {
    const base = c.id * CHUNK_ROWS;
    const leaves: Uint8Array[] = [];
    let complete = true;
    for (let i = 0; i < c.size; i++) {
      if (!filled[base + i]) complete = false;
      leaves.push(anchorsBySeq.subarray((base + i) * 32, (base + i + 1) * 32));
    }
    if (!complete || !equalBytes(MerkleTree.fromLeafData(leaves).root(), c.root)) {
      res.receiptsCheck.chunksMismatched.push(c.id);
      mismatchedChunks.add(c.id);
    }
    if (c.batchId === null) res.proofs.unsubmittedRows += c.size;
  }

  // Batches: chunk roots give the batch root; the batch proof verifies.
  const batches = await store.batches();
  res.receiptsCheck.batches = batches.length;
  res.proofs.batches = batches.length;
  const byBatch = new Map<string, typeof chunks>();
  for (const c of chunks) if (c.batchId !== null) byBatch.set(c.batchId, [...(byBatch.get(c.batchId) ?? []), c]);
  let trust: ValidatorSet | null = opts.validators;
  if (trust === null && opts.service) {
    try {
      trust = await opts.service.validators();
      res.proofs.trust = `the validator set served by ${opts.service.url}`;
    } catch (e) {
      errors.push(`validator set not fetched: ${errorText(e)}`);
    }
  } else if (trust !== null) res.proofs.trust = 'the validator set given with --validators';
  let latest: { size: number; note: string } | null = null;
  if (opts.service) {
    try {
      const note = await opts.service.checkpoint();
      if (note) latest = { size: parseCheckpoint(parseNote(note).text).size, note };
    } catch (e) {
      errors.push(`latest checkpoint not fetched: ${errorText(e)}`);
    }
  }
  const badBatches = new Set<string>();
  for (const b of batches) {
    const members = (byBatch.get(b.id) ?? []).sort((x, y) => (x.batchIndex ?? 0) - (y.batchIndex ?? 0));
    if (members.length === 0 || !equalBytes(MerkleTree.fromLeafData(members.map((c) => c.root)).root(), b.root)) {
      res.receiptsCheck.batchesMismatched.push(b.id);
      badBatches.add(b.id);
    }
    let proofText = b.proof;
    if (proofText === null && opts.service) {
      try {
        const state = await opts.service.batch(b.id);
        if (state.status === 'confirmed' && state.proof) {
          proofText = JSON.stringify(state.proof);
          await store.saveBatchProof(b.id, proofText);
        }
      } catch (e) {
        errors.push(`batch ${b.id}: ${errorText(e)}`);
      }
    }
    if (proofText === null) {
      res.proofs.pending++;
      continue;
    }
    let proof: ProofDocument;
    try {
      proof = parseProof(proofText);
    } catch (e) {
      res.proofs.failed.push({ batch: b.id, check: 'format', detail: errorText(e) });
      badBatches.add(b.id);
      continue;
    }
    if (proof.anchor !== bytesToHex(b.root)) {
      res.proofs.failed.push({ batch: b.id, check: 'anchor', detail: `the stored proof is for ${proof.anchor}, the batch root is ${bytesToHex(b.root)}` });
      badBatches.add(b.id);
      continue;
    }
    if (latest && latest.size > proof.calendar.size && opts.service) {
      try {
        proof = extendProof(proof, await opts.service.extension(parseBlockHeader(proof.block).height, latest.size));
      } catch (e) {
        errors.push(`batch ${b.id}: not extended to size ${latest.size}: ${errorText(e)}`);
      }
    }
    if (trust === null) {
      res.proofs.unverified++;
      continue;
    }
    const v = verifyProof(proof, { validators: trust });
    if (!v.ok) {
      res.proofs.failed.push({ batch: b.id, check: v.failed, detail: v.detail });
      badBatches.add(b.id);
      continue;
    }
    res.proofs.verified++;
    if (!res.proofs.checkpoint || v.calendarSize > res.proofs.checkpoint.size) {
      res.proofs.checkpoint = { origin: v.origin, size: v.calendarSize, root: v.calendarRoot, signers: v.signers ?? [] };
    }
  }
  // Rows in chunks whose receipts do not rebuild the anchored root, or whose batch fails.
  if (mismatchedChunks.size > 0 || badBatches.size > 0) {
    const badChunks = new Set(mismatchedChunks);
    for (const c of chunks) if (c.batchId !== null && badBatches.has(c.batchId)) badChunks.add(c.id);
    for (const id of badChunks) {
      for (const row of await store.chunkRows(id)) {
        res.unproven.push({ key: row.key, reason: mismatchedChunks.has(id) ? `the receipts of chunk ${id} do not rebuild its anchored root (receipts altered)` : `its batch ${chunkById.get(id)?.batchId} does not verify` });
      }
    }
  }
  res.seconds = Math.round((performance.now() - started) / 10) / 100;
  return res;
}

// ---- one row's proof ----

export interface RowProof {
  proof: ProofDocument;
  /** `deleted`: this version is the row's anchored deletion (it verifies as the record `null`). */
  record: { format: 'ledgerseal-row-record/v1'; dataset: string; key: string[]; version: number; mask: string; row: Record<string, string | null> | null; deleted?: true };
  /** True when the row in the source still hashes to the anchored digest. */
  current: boolean;
}

export async function rowProof(store: ReceiptStore, key: string[], opts: { blindingKey: Uint8Array; service: Service | null; version?: number }): Promise<RowProof> {
  const ds = store.dataset;
  const rc = await store.receipt(key, opts.version);
  if (!rc) {
    receiptsError(opts.version === undefined
      ? `no receipt for the row with key ${JSON.stringify(key)} in dataset ${ds.name}; was it backfilled?`
      : `no receipt of version ${opts.version} for the row with key ${JSON.stringify(key)} in dataset ${ds.name}`);
  }
  const chunkId = Math.floor(rc.seq / CHUNK_ROWS);
  const allChunks = await store.chunks('all');
  const chunk = allChunks.find((c) => c.id === chunkId);
  if (!chunk) receiptsError(`the receipt of ${JSON.stringify(key)} names chunk ${chunkId}, which is not stored`);
  if (chunk.batchId === null) receiptsError(`the row ${JSON.stringify(key)} is stored but not yet submitted; run backfill again to finish`);
  const hasher = new RowHasher(opts.blindingKey, ds.name);
  const rows = await store.chunkRows(chunkId);
  const anchors = rows.map((x) => hasher.anchor(x.key, x.version, x.digest));
  const local = MerkleTree.fromLeafData(anchors);
  if (!equalBytes(local.root(), chunk.root)) receiptsError(`the receipts of chunk ${chunkId} do not rebuild its anchored root: they were altered`);
  const leaf = rc.seq - chunkId * CHUNK_ROWS;
  const batches = await store.batches();
  const b = batches.find((x) => x.id === chunk.batchId);
  if (!b) receiptsError(`batch ${chunk.batchId} is not stored`);
  let proofText = b.proof;
  if (proofText === null && opts.service) {
    const state = await opts.service.batch(b.id);
    if (state.status === 'confirmed' && state.proof) {
      proofText = JSON.stringify(state.proof);
      await store.saveBatchProof(b.id, proofText);
    }
  }
  if (proofText === null) receiptsError(`batch ${b.id} is not confirmed yet; try again after the next round`);
  const members = allChunks.filter((c) => c.batchId === b.id).sort((x, y) => (x.batchIndex ?? 0) - (y.batchIndex ?? 0));
  const batchProof = batchProofs(proofText, members.map((c) => c.root)).proofAt(chunk.batchIndex ?? -1);
  const proof = prependChain(batchProof, anchors[leaf]!, [{ index: leaf, size: local.size, path: local.inclusionProof(leaf) }]);
  const values = await store.sourceRow(key);
  const row = values === null ? null : Object.fromEntries(ds.columns.map((c, i) => [c.name, values[i] ?? null]));
  const deleted = rc.digest === DELETED_DIGEST;
  const current = deleted ? values === null : values !== null && sha256Hex(rowEncoder(ds.columns.map((c) => c.name))(values)) === rc.digest;
  return {
    proof,
    record: { format: 'ledgerseal-row-record/v1', dataset: ds.name, key, version: rc.version, mask: bytesToHex(hasher.mask(key, rc.version)), row: current ? row : null,
      ...(deleted ? { deleted: true as const } : {}) },
    current,
  };
}

