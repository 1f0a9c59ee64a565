/**
 * Keys and item shapes of every entity in the single table (README.md "Key
 * design"). Each entity has a key builder and, where it is read back, a pair
 * of functions item <-> domain object. Nothing here talks to DynamoDB.
 */
import type {
  Agency,
  AnchorEntry,
  ApiKey,
  Batch,
  Block,
  HistoryEntry,
  LedgerEvent,
  PendingBatch,
  Placement,
  Publication,
  Quarantine,
  RoundMember,
} from './port.ts';
import {
  B,
  BOOL,
  N,
  S,
  bin,
  bool,
  compact,
  concat,
  corrupt,
  height12,
  num,
  optNum,
  optStr,
  packCanonicalJson,
  packJson,
  pad,
  sha256Hex,
  shardOf,
  splitParts,
  str,
  unpackJson,
  type Item,
} from './codec.ts';

const HASH = 32;
const key = (pk: string, sk: string): Item => ({ pk: S(pk), sk: S(sk) });
const afterPrefix = (v: string, prefix: string): string => (v.startsWith(prefix) ? v.slice(prefix.length) : corrupt(`key ${v}`));

export const keys = {
  agency: (id: string) => key(`AGENCY#${id}`, 'META'),
  agencyKey: (agencyId: string, keyId: string) => key(`AGENCY#${agencyId}`, `KEY#${keyId}`),
  apiKey: (keyHash: string) => key(`APIKEY#${keyHash}`, 'APIKEY'),
  idempotency: (agencyId: string, k: string) => key(`IDEM#${agencyId}#${k}`, 'IDEM'),
  batch: (id: string) => key(`BATCH#${id}`, 'BATCH'),
  batchPart: (id: string, digest: string, n: number) => key(`BATCH#${id}`, `PART#${digest}#${pad(n, 4)}`),
  placement: (batchId: string) => key(`BATCH#${batchId}`, 'PLACEMENT'),
  quarantine: (batchId: string) => key(`BATCH#${batchId}`, 'QUARANTINE'),
  pending: (batchId: string, arrivedAt: string) => key(`PENDING#${shardOf(batchId)}`, `${arrivedAt}#${batchId}`),
  historyPk: (agencyId: string, recordKey: string) => `HIST#${agencyId}#${sha256Hex(recordKey)}`,
  proposal: (height: number) => key(`ROUND#${height12(height)}`, 'PROPOSAL'),
  members: (height: number, proposalId: string, n: number) => key(`ROUND#${height12(height)}`, `MEMBERS#${proposalId}#${pad(n, 4)}`),
  block: (height: number) => key('BLOCK', height12(height)),
  calendar: (level: number, index: number) => key(`CAL#${level}`, pad(index, 12)),
  event: (id: string) => key(`EVENT#${id}`, 'EVENT'),
  /** The events index partition of one event type. */
  eventsPartition: (type: string): string => `EVENTS#${type}`,
  publication: (size: number) => key('PUBLICATION', pad(size, 12)),
};

// ---- agencies and keys -------------------------------------------------------

export const agencyItem = (a: Agency): Item => ({ ...keys.agency(a.id), name: S(a.name), createdAt: S(a.createdAt) });
export const agencyFrom = (it: Item): Agency => ({
  id: afterPrefix(str(it, 'pk'), 'AGENCY#'),
  name: str(it, 'name'),
  createdAt: str(it, 'createdAt'),
});

export const apiKeyAttributes = (k: ApiKey): Item =>
  compact({
    keyId: S(k.keyId),
    agencyId: S(k.agencyId),
    keyHash: S(k.keyHash),
    createdAt: S(k.createdAt),
    revokedAt: k.revokedAt === undefined ? undefined : S(k.revokedAt),
    label: k.label === undefined ? undefined : S(k.label),
  });
export function apiKeyFrom(it: Item): ApiKey {
  const k: ApiKey = { keyId: str(it, 'keyId'), agencyId: str(it, 'agencyId'), keyHash: str(it, 'keyHash'), createdAt: str(it, 'createdAt') };
  const revokedAt = optStr(it, 'revokedAt');
  const label = optStr(it, 'label');
  if (revokedAt !== undefined) k.revokedAt = revokedAt;
  if (label !== undefined) k.label = label;
  return k;
}

// ---- batches: head item + continuation parts --------------------------------

/**
 * A batch is one byte string `hashes ‖ deflate(RFC 8785 JSON of entries)`, cut
 * into PART_BYTES pieces: piece 0 rides in the head item, pieces 1..n in
 * `PART#<digest>#000n`, where digest is the first 16 hex digits of the SHA-256
 * of the whole string. The head names the digest, so it commits to exactly one
 * set of parts: two writers of one batch id can never mix their pieces, and
 * the canonical JSON makes the string a function of the request's content.
 */
export function batchItems(b: Batch): { head: Item; parts: Item[] } {
  const entries = b.entries === undefined ? undefined : packCanonicalJson(b.entries);
  const data = entries === undefined ? b.hashes : concat([b.hashes, entries]);
  const pieces = splitParts(data);
  const digest = pieces.length > 1 ? sha256Hex(data).slice(0, 16) : undefined;
  const head = compact({
    ...keys.batch(b.id),
    agencyId: S(b.agencyId),
    arrivedAt: S(b.arrivedAt),
    count: N(b.count),
    root: B(b.root),
    data: B(pieces[0]!),
    entriesBytes: entries === undefined ? undefined : N(entries.length),
    parts: digest === undefined ? undefined : N(pieces.length - 1),
    digest: digest === undefined ? undefined : S(digest),
    idempotencyKey: b.idempotencyKey === undefined ? undefined : S(b.idempotencyKey),
  });
  const parts = digest === undefined ? [] : pieces.slice(1).map((p, i) => ({ ...keys.batchPart(b.id, digest, i + 1), data: B(p) }));
  return { head, parts };
}

export const batchPartCount = (head: Item): number => optNum(head, 'parts') ?? 0;
/** The keys of the parts a head commits to (none for a batch that fits its head). */
export function batchPartRange(head: Item): { first: Item; last: Item } | null {
  const n = batchPartCount(head);
  if (n === 0) return null;
  const id = afterPrefix(str(head, 'pk'), 'BATCH#');
  const digest = str(head, 'digest');
  return { first: keys.batchPart(id, digest, 1), last: keys.batchPart(id, digest, n) };
}

/** Reassemble a batch from its head and its parts (parts in sort key order). */
export function batchFrom(head: Item, parts: Item[]): Batch {
  const id = afterPrefix(str(head, 'pk'), 'BATCH#');
  const n = batchPartCount(head);
  if (parts.length !== n) corrupt(`batch ${id} has ${parts.length} of ${n} parts`);
  const digest = n === 0 ? '' : str(head, 'digest');
  parts.forEach((p, i) => str(p, 'sk') === `PART#${digest}#${pad(i + 1, 4)}` || corrupt(`batch ${id} part order`));
  const data = parts.length === 0 ? bin(head, 'data') : concat([bin(head, 'data'), ...parts.map((p) => bin(p, 'data'))]);
  if (n > 0 && sha256Hex(data).slice(0, 16) !== digest) corrupt(`batch ${id} parts do not match the digest its head names`);
  const count = num(head, 'count');
  const entriesBytes = optNum(head, 'entriesBytes');
  if (data.length !== HASH * count + (entriesBytes ?? 0)) corrupt(`batch ${id} data length`);
  const batch: Batch = {
    id,
    agencyId: str(head, 'agencyId'),
    arrivedAt: str(head, 'arrivedAt'),
    hashes: data.subarray(0, HASH * count),
    count,
    root: bin(head, 'root', HASH),
  };
  if (entriesBytes !== undefined) {
    const entries = unpackJson(data.subarray(HASH * count));
    if (!Array.isArray(entries) || entries.length !== count) corrupt(`batch ${id} entries`);
    batch.entries = entries as AnchorEntry[];
  }
  const idempotencyKey = optStr(head, 'idempotencyKey');
  if (idempotencyKey !== undefined) batch.idempotencyKey = idempotencyKey;
  return batch;
}

/** A batch left out of rounds: `BATCH#<batchId>` / `QUARANTINE`. */
export const quarantineItem = (q: Quarantine): Item => ({
  ...keys.quarantine(q.batchId),
  agencyId: S(q.agencyId),
  reason: S(q.reason),
  at: S(q.at),
});
export const quarantineFrom = (it: Item): Quarantine => ({
  batchId: afterPrefix(str(it, 'pk'), 'BATCH#'),
  agencyId: str(it, 'agencyId'),
  reason: str(it, 'reason'),
  at: str(it, 'at'),
});

/** Written once a batch's block is settled: `BATCH#<batchId>` / `PLACEMENT`. */
export const placementItem = (p: Placement): Item => ({ ...keys.placement(p.batchId), height: N(p.height), index: N(p.index) });
export const placementFrom = (it: Item): Placement => ({
  batchId: afterPrefix(str(it, 'pk'), 'BATCH#'),
  height: num(it, 'height'),
  index: num(it, 'index'),
});

// ---- pending markers and history -------------------------------------------

/** Sort key `<arrivedAt>#<batchId>`: arrivedAt has a fixed width, so string order is (arrivedAt, batchId). */
export const pendingItem = (p: PendingBatch): Item => ({
  ...keys.pending(p.batchId, p.arrivedAt),
  agencyId: S(p.agencyId),
  root: B(p.root),
  count: N(p.count),
});
export function pendingFrom(it: Item): PendingBatch {
  const sk = str(it, 'sk');
  const cut = sk.indexOf('#');
  if (cut < 0) corrupt(`pending key ${sk}`);
  return {
    batchId: sk.slice(cut + 1),
    agencyId: str(it, 'agencyId'),
    arrivedAt: sk.slice(0, cut),
    root: bin(it, 'root', HASH),
    count: num(it, 'count'),
  };
}

export const historyItem = (pk: string, e: HistoryEntry): Item => ({
  pk: S(pk),
  sk: S(`${e.arrivedAt}#${e.anchorId}`),
  anchorId: S(e.anchorId),
  hash: B(Buffer.from(e.hash, 'hex')),
  arrivedAt: S(e.arrivedAt),
});
export const historyFrom = (it: Item): HistoryEntry => ({
  anchorId: str(it, 'anchorId'),
  hash: Buffer.from(bin(it, 'hash', HASH)).toString('hex'),
  arrivedAt: str(it, 'arrivedAt'),
});

// ---- round members (proposal chunks) -----------------------------------------

/**
 * One chunk: roots packed 32 bytes each, rows [batchId, arrivedAt, count, agencyId]
 * as deflated JSON. A row without its agencyId (or with anything else out of
 * shape) is CORRUPT: there is no older row format to fall back to.
 */
export const membersAttributes = (ms: RoundMember[]): Item => ({
  roots: B(concat(ms.map((m) => m.root))),
  rows: B(packJson(ms.map((m) => [m.batchId, m.arrivedAt, m.count, m.agencyId]))),
});
export function membersFrom(it: Item): RoundMember[] {
  const roots = bin(it, 'roots');
  const rows = unpackJson(bin(it, 'rows'));
  if (!Array.isArray(rows) || roots.length !== HASH * rows.length) corrupt('round member chunk');
  const text = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
  return rows.map((row: unknown, i) => {
    if (!Array.isArray(row) || row.length !== 4 || !text(row[0]) || !text(row[1]) || !Number.isSafeInteger(row[2]) || !text(row[3])) {
      corrupt('round member row');
    }
    return { batchId: row[0], agencyId: row[3], root: roots.slice(HASH * i, HASH * (i + 1)), count: row[2] as number, arrivedAt: row[1] };
  });
}

// ---- blocks, validators, events, publications -------------------------------

export const blockItem = (b: Block): Item => ({
  ...keys.block(b.height),
  header: S(b.header),
  checkpoint: S(b.checkpoint),
  proposalId: S(b.proposalId),
  finalizedAt: S(b.finalizedAt),
  settled: BOOL(b.settled),
});
export const blockFrom = (it: Item): Block => ({
  height: Number(str(it, 'sk')),
  header: str(it, 'header'),
  checkpoint: str(it, 'checkpoint'),
  proposalId: str(it, 'proposalId'),
  finalizedAt: str(it, 'finalizedAt'),
  settled: bool(it, 'settled'),
});

/**
 * The event item carries its own listing key on the events index: one partition per type
 * (gpk `EVENTS#<type>`, gsk `<time>#<id>`), so listing one type is a key condition and never
 * reads the other types (a round writes one `anchor.confirmed` per batch, but few faults).
 */
export const eventItem = (e: LedgerEvent): Item =>
  compact({
    ...keys.event(e.id),
    gpk: S(keys.eventsPartition(e.type)),
    gsk: S(`${e.time}#${e.id}`),
    type: S(e.type),
    time: S(e.time),
    agencyId: e.agencyId === undefined ? undefined : S(e.agencyId),
    data: S(JSON.stringify(e.data)),
  });
export function eventFrom(it: Item): LedgerEvent {
  const e: LedgerEvent = {
    id: afterPrefix(str(it, 'pk'), 'EVENT#'),
    type: str(it, 'type'),
    time: str(it, 'time'),
    data: JSON.parse(str(it, 'data')) as Record<string, unknown>,
  };
  const agencyId = optStr(it, 'agencyId');
  if (agencyId !== undefined) e.agencyId = agencyId;
  return e;
}

export const publicationItem = (p: Publication): Item => ({
  ...keys.publication(p.size),
  root: B(p.root),
  code: S(p.code),
  checkpoint: S(p.checkpoint),
  publishedAt: S(p.publishedAt),
});
export const publicationFrom = (it: Item): Publication => ({
  size: Number(str(it, 'sk')),
  root: bin(it, 'root', HASH),
  code: str(it, 'code'),
  checkpoint: str(it, 'checkpoint'),
  publishedAt: str(it, 'publishedAt'),
});
