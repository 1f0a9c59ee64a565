/**
 * Trust material pinned in the browser (issue 10, docs/verify.md "What to
 * trust"): the service's validator set and its publications are fetched once
 * and remembered, trust on first use, the way SSH remembers a host key.
 *
 * - The validator set: the first one seen is pinned. A later visit that is
 *   served another set keeps the pinned one and offers the new one, with both
 *   fingerprints, for the user to accept (validator sets do rotate, but a
 *   silent swap is how a compromised server would forge proofs).
 * - Publications: a served publication is pinned only when its code encodes
 *   its size and root, its checkpoint has that size and root and carries a
 *   quorum of the pinned validators' signatures, and the calendar it names is
 *   an RFC 9162 extension of the nearest pinned publication below it (and is
 *   extended by the nearest above, if any): consistency proofs fetched from
 *   the service, all at once, and checked here. A publication already pinned is never replaced: a served one of the
 *   same size with another root is a conflict, shown as an alarm, since it
 *   means the ledger's published history was rewritten.
 *
 * Pure but for the injected consistency-proof fetch, so it is tested in Node
 * (test/web/trust.test.ts); main.ts keeps the pins in localStorage.
 */
import {
  bytesToHex,
  encodePublicationCode,
  hexToBytes,
  parseCheckpoint,
  parseNote,
  parseValidatorSet,
  validatorSetHash,
  verifyCheckpointQuorum,
  verifyConsistency,
  type ValidatorSet,
} from '@ledgerseal/sdk';

/** The localStorage key of the pins (localStorage is per origin: one service, one entry). */
export const PINS_KEY = 'ledgerseal:trust:v1';
/** Most publications kept pinned (the newest); a year of hourly publications fits. */
export const MAX_PINNED_PUBLICATIONS = 10_000;

export interface PinnedPublication {
  size: number;
  /** Lowercase hex of the calendar root at `size`. */
  root: string;
  code: string;
  publishedAt: string;
}

export interface Pins {
  version: 1;
  set: ValidatorSet;
  /** SHA-256 of the set (hex), as in block headers. */
  setHash: string;
  setPinnedAt: string;
  /** Ascending by size, sizes unique. */
  publications: PinnedPublication[];
}

/** A publication as GET /v1/publications serves it. */
export interface ServedPublication {
  size: number;
  root: string;
  code: string;
  checkpoint: string;
  publishedAt: string;
}

export interface Reconciled {
  pins: Pins;
  /** first: nothing was pinned, the served set now is; unchanged; changed: another set is served, the pinned one kept. */
  setStatus: 'first' | 'unchanged' | 'changed';
  /** The served set when it differs from the pinned one: the user may accept it (acceptSet). */
  offeredSet?: ValidatorSet;
  added: PinnedPublication[];
  /** Served publications not pinned, and why (not signed by the pinned validators, a bad code...). */
  refused: { size: number; reason: string }[];
  /** A served publication whose root differs from the pinned one of the same size. */
  conflicts: { size: number; pinnedRoot: string; servedRoot: string }[];
}

/** An RFC 9162 consistency proof between two calendar sizes, from the service (GET /v1/proofs/consistency). */
export type ConsistencySource = (from: number, to: number) => Promise<Uint8Array[]>;

/** A fingerprint people can compare by eye: SHA-256 hex of the set in groups of 4. */
export function setFingerprint(set: ValidatorSet): string {
  return groups(bytesToHex(validatorSetHash(set)));
}

export function groups(hex: string): string {
  return hex.match(/.{1,4}/g)!.join(' ');
}

/** Pins read back from storage; undefined (start afresh) when absent or not pins of this version. */
export function parsePins(text: string | null): Pins | undefined {
  if (text === null) return undefined;
  try {
    const p = JSON.parse(text) as Pins;
    if (p.version !== 1 || !Array.isArray(p.publications) || typeof p.setPinnedAt !== 'string') return undefined;
    const set = parseValidatorSet(p.set);
    const setHash = bytesToHex(validatorSetHash(set));
    if (setHash !== p.setHash) return undefined;
    const publications = p.publications.filter(
      (x) => Number.isSafeInteger(x.size) && /^[0-9a-f]{64}$/.test(x.root) && x.code === encodePublicationCode({ size: x.size, root: hexToBytes(x.root) }),
    );
    return { version: 1, set, setHash, setPinnedAt: p.setPinnedAt, publications };
  } catch {
    return undefined;
  }
}

/** Why a served publication cannot be pinned under `set`, or null when it can (consistency aside). */
export function publicationProblem(p: ServedPublication, set: ValidatorSet): string | null {
  if (!Number.isSafeInteger(p.size) || p.size < 1 || !/^[0-9a-f]{64}$/.test(p.root)) return 'its size or root is malformed';
  if (encodePublicationCode({ size: p.size, root: hexToBytes(p.root) }) !== p.code) return 'its code does not encode its size and root';
  try {
    const cp = parseCheckpoint(parseNote(p.checkpoint).text);
    if (cp.size !== p.size || bytesToHex(cp.root) !== p.root) return 'its checkpoint is of another size or root';
    const q = verifyCheckpointQuorum(p.checkpoint, set);
    if (!q.ok) return q.reason === 'ORIGIN_MISMATCH' ? 'its checkpoint is of another ledger' : 'its checkpoint is not signed by a quorum of the pinned validators';
  } catch (e) {
    return `its checkpoint is unreadable (${e instanceof Error ? e.message : String(e)})`;
  }
  return null;
}

/** Compare what the service serves now with what was pinned, and pin what can be. */
export async function reconcile(
  pinned: Pins | undefined,
  served: { set: ValidatorSet; publications: ServedPublication[] },
  consistency: ConsistencySource,
  now: string,
): Promise<Reconciled> {
  const servedHash = bytesToHex(validatorSetHash(served.set));
  const setStatus = pinned === undefined ? 'first' : pinned.setHash === servedHash ? 'unchanged' : 'changed';
  const base: Pins = pinned ?? { version: 1, set: served.set, setHash: servedHash, setPinnedAt: now, publications: [] };
  const bySize = new Map(base.publications.map((p) => [p.size, p]));
  const out: Reconciled = { pins: base, setStatus, added: [], refused: [], conflicts: [] };
  if (setStatus === 'changed') out.offeredSet = served.set;

  const pubs = [...base.publications];
  const sorted = [...served.publications].sort((a, b) => a.size - b.size);
  // Each new publication's own checks (code, checkpoint, quorum signatures), once.
  const problems = new Map(sorted.filter((p) => !bySize.has(p.size)).map((p) => [p, publicationProblem(p, base.set)] as const));
  // The consistency proofs are fetched all at once, each from the publication that will be pinned just
  // below (if all pass); a pair that turns out otherwise is fetched again when its turn comes.
  const prefetched = new Map<string, Promise<Uint8Array[]>>();
  {
    const sizes = new Set(pubs.map((x) => x.size));
    const candidates = sorted.filter((p) => problems.get(p) === null);
    for (const c of candidates) sizes.add(c.size);
    const ascending = [...sizes].sort((a, b) => a - b);
    for (const c of candidates) {
      const below = ascending[ascending.indexOf(c.size) - 1];
      if (below === undefined) continue;
      const pending = consistency(below, c.size);
      pending.catch(() => undefined); // awaited (and reported) in turn below
      prefetched.set(`${below}-${c.size}`, pending);
    }
  }
  const proofBetween = (from: number, to: number): Promise<Uint8Array[]> => prefetched.get(`${from}-${to}`) ?? consistency(from, to);
  for (const p of sorted) {
    const known = bySize.get(p.size);
    if (known) {
      if (known.root !== p.root) out.conflicts.push({ size: p.size, pinnedRoot: known.root, servedRoot: p.root });
      continue;
    }
    const problem = problems.get(p) ?? null;
    if (problem) {
      out.refused.push({ size: p.size, reason: problem });
      continue;
    }
    // Consistent with the nearest pinned publications below and above it (pinned ones are ascending):
    // the pinned history stays one chain, whatever order publications are first seen in.
    const below = pubs.filter((x) => x.size < p.size).at(-1);
    const above = pubs.find((x) => x.size > p.size);
    const pairs: [PinnedPublication | ServedPublication, PinnedPublication | ServedPublication][] = [];
    if (below) pairs.push([below, p]);
    if (above) pairs.push([p, above]);
    let refused = false;
    for (const [older, newer] of pairs) {
      let ok = false;
      try {
        ok = verifyConsistency(older.size, newer.size, await proofBetween(older.size, newer.size), hexToBytes(older.root), hexToBytes(newer.root));
      } catch (e) {
        const other = older === p ? newer : older;
        out.refused.push({ size: p.size, reason: `its consistency with publication ${other.size} could not be checked (${e instanceof Error ? e.message : String(e)})` });
        refused = true;
        break;
      }
      if (!ok) {
        const pinned = older === p ? newer : older;
        out.conflicts.push({ size: p.size, pinnedRoot: pinned.root, servedRoot: p.root });
        refused = true;
        break;
      }
    }
    if (refused) continue;
    const pin: PinnedPublication = { size: p.size, root: p.root, code: p.code, publishedAt: p.publishedAt };
    pubs.push(pin);
    pubs.sort((a, b) => a.size - b.size);
    bySize.set(p.size, pin);
    out.added.push(pin);
  }
  out.pins = { ...base, publications: pubs.slice(-MAX_PINNED_PUBLICATIONS) };
  return out;
}

/** The user accepts the served set in place of the pinned one (publications stay pinned). */
export function acceptSet(pins: Pins, set: ValidatorSet, now: string): Pins {
  return { ...pins, set, setHash: bytesToHex(validatorSetHash(set)), setPinnedAt: now };
}

/** The pinned publication a proof of calendar size `size` reaches, if any. */
export function publicationOfSize(pins: Pins | undefined, size: number): PinnedPublication | undefined {
  return pins?.publications.find((p) => p.size === size);
}
