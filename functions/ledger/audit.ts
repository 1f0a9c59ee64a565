/**
 * A full ledger audit: trust nothing derived, recompute it from the block
 * headers and the batches, and report every contradiction with the height where
 * it first shows. Per block h, in order:
 *
 *   sequence         heights are 0, 1, 2, ... without gaps
 *   header           the header parses and names height h
 *   prev             prev = calendar leaf hash of header h-1 (zeros for h = 0)
 *   time             not before block h-1's time
 *   validators       the header's validators hash is the given set's
 *   checkpoint       the note parses, has our origin (if given) and size h+1
 *   quorum           its signatures carry more than 2/3 of the set's weight
 *   checkpoint-root  its root is the calendar recomputed from headers 0..h
 *   consistency      RFC 9162 consistency proof (stored nodes) from checkpoint h-1 to h verifies
 *   calendar-node    the stored nodes completed by leaf h equal the recomputed ones
 *   proposal         the stored proposal is the block's (id, header, checkpoint body)
 *   batch-root       every member's stored anchors hash to its root (deep audit)
 *   round-root       the member roots hash to the header's round root, counts match
 *   placement        every member is placed at (h, its index) once the block is settled
 */
import {
  type BlockHeader,
  bytesToHex,
  equalBytes,
  hashRange,
  parseBlockHeader,
  type ValidatorSet,
  validatorSetHash,
  verifyCheckpointQuorum,
  verifyConsistency,
} from '@ledgerseal/sdk';
import type { Block, CalendarNode, Store } from '../store/port.ts';
import { appendNodes, calendarConsistency, frontierAfterAppend, headerLeafHash } from './calendar.ts';
import { checkMembers, roundTree } from './round.ts';

export const AUDIT_CHECKS = [
  'sequence', 'header', 'prev', 'time', 'validators', 'checkpoint', 'quorum', 'checkpoint-root',
  'consistency', 'calendar-node', 'proposal', 'batch-root', 'round-root', 'placement',
] as const;
export type AuditCheck = (typeof AUDIT_CHECKS)[number];

export interface AuditFinding {
  height: number;
  check: AuditCheck;
  detail: string;
}

export interface AuditReport {
  ok: boolean;
  /** Number of blocks audited. */
  size: number;
  /** Lowest height with a finding, or null. */
  firstBadHeight: number | null;
  findings: AuditFinding[];
}

export interface AuditOptions {
  /** Require this checkpoint origin. */
  origin?: string;
  /** Recompute batch and round roots from the stored batches (default true). */
  batches?: boolean;
  pageSize?: number;
}

export async function auditLedger(store: Store, validatorSet: ValidatorSet, opts: AuditOptions = {}): Promise<AuditReport> {
  const findings: AuditFinding[] = [];
  const setHash = validatorSetHash(validatorSet);
  let frontier: CalendarNode[] = [];
  let prevHeader: { text: string; parsed: BlockHeader | null } | null = null;
  let prevRoot: Uint8Array | null = null;
  let h = 0;
  for (;;) {
    const page = await store.listBlocks({ from: h, limit: opts.pageSize ?? 100, consistent: true });
    if (page.length === 0) break;
    for (const block of page) {
      if (block.height !== h) {
        findings.push({ height: h, check: 'sequence', detail: `expected block ${h}, found block ${block.height}` });
        return report(h, findings);
      }
      const add = (check: AuditCheck, detail: string): void => void findings.push({ height: h, check, detail });
      // Header and chain links.
      let header: BlockHeader | null = null;
      try {
        header = parseBlockHeader(block.header);
        if (header.height !== h) add('header', `header names height ${header.height}`);
      } catch (e) {
        add('header', (e as Error).message);
      }
      if (header) {
        const prev = prevHeader ? headerLeafHash(prevHeader.text) : new Uint8Array(32);
        if (!equalBytes(header.prev, prev)) add('prev', `prev ${bytesToHex(header.prev)} is not the leaf hash of block ${h - 1}`);
        if (prevHeader?.parsed && Date.parse(header.time) < Date.parse(prevHeader.parsed.time)) {
          add('time', `time ${header.time} is before block ${h - 1}'s ${prevHeader.parsed.time}`);
        }
        if (!equalBytes(header.validators, setHash)) add('validators', 'validators hash is not the given set');
      }
      // The calendar recomputed from headers alone.
      const appended = appendNodes(h, headerLeafHash(block.header), frontier);
      frontier = frontierAfterAppend(frontier, appended);
      const root = hashRange(frontier.map((n) => n.hash));
      // The signed checkpoint.
      let cpRoot: Uint8Array | null = null;
      try {
        const q = verifyCheckpointQuorum(block.checkpoint, validatorSet);
        cpRoot = q.checkpoint.root;
        if (q.checkpoint.size !== h + 1) add('checkpoint', `checkpoint size ${q.checkpoint.size} is not ${h + 1}`);
        if (opts.origin !== undefined && q.checkpoint.origin !== opts.origin) add('checkpoint', `origin "${q.checkpoint.origin}"`);
        if (!q.ok) add('quorum', `${q.reason}: signatures carry weight ${q.weight} of ${q.total}`);
        if (!equalBytes(cpRoot, root)) add('checkpoint-root', 'checkpoint root is not the calendar recomputed from the headers');
      } catch (e) {
        add('checkpoint', (e as Error).message);
      }
      if (block.settled) await auditNodes(store, h, appended, prevRoot, cpRoot, add);
      if (opts.batches ?? true) await auditRound(store, block, header, add);
      prevHeader = { text: block.header, parsed: header };
      prevRoot = cpRoot;
      h++;
    }
  }
  return report(h, findings);
}

function report(size: number, findings: AuditFinding[]): AuditReport {
  const firstBadHeight = findings.length === 0 ? null : Math.min(...findings.map((f) => f.height));
  return { ok: findings.length === 0, size, firstBadHeight, findings };
}

/** Stored nodes completed by leaf h, and the consistency proof (from stored nodes) of checkpoint h-1 to h. */
async function auditNodes(
  store: Store,
  h: number,
  expected: CalendarNode[],
  prevRoot: Uint8Array | null,
  cpRoot: Uint8Array | null,
  add: (check: AuditCheck, detail: string) => void,
): Promise<void> {
  const stored = new Map((await store.getCalendarNodes(expected, { consistent: true })).map((n) => [`${n.level}/${n.index}`, n.hash] as const));
  for (const n of expected) {
    const s = stored.get(`${n.level}/${n.index}`);
    if (!s) add('calendar-node', `node (level ${n.level}, index ${n.index}) is missing`);
    else if (!equalBytes(s, n.hash)) add('calendar-node', `node (level ${n.level}, index ${n.index}) differs from the recomputed one`);
  }
  if (h === 0 || !prevRoot || !cpRoot) return;
  try {
    const proof = await calendarConsistency(store, h, h + 1);
    if (!verifyConsistency(h, h + 1, proof, prevRoot, cpRoot)) add('consistency', `checkpoint ${h + 1} does not extend checkpoint ${h}`);
  } catch (e) {
    add('consistency', (e as Error).message);
  }
}

/** The stored proposal, batches and placements against the header (deep audit). */
async function auditRound(store: Store, block: Block, header: BlockHeader | null, add: (check: AuditCheck, detail: string) => void): Promise<void> {
  const h = block.height;
  const proposal = await store.getProposal(h);
  if (!proposal) return add('proposal', 'no proposal is stored');
  if (proposal.proposalId !== block.proposalId || proposal.header !== block.header || !block.checkpoint.startsWith(`${proposal.checkpoint}\n`)) {
    return add('proposal', 'the stored proposal is not the one the block was finalized from');
  }
  const members = proposal.members;
  const { problems, anchors } = checkMembers(members, await store.getBatches(members.map((m) => m.batchId)));
  for (const p of problems) add('batch-root', `batch ${p.batchId}: ${p.problem}`);
  if (header) {
    if (header.roundSize !== members.length || header.anchors !== anchors) {
      add('round-root', `header counts ${header.roundSize}/${header.anchors}, stored ${members.length}/${anchors}`);
    }
    if (!equalBytes(roundTree(members).root(), header.roundRoot)) add('round-root', 'member roots do not hash to round-root');
  }
  if (!block.settled) return;
  const placements = await store.getPlacements(members.map((m) => m.batchId), { consistent: true });
  members.forEach((m, i) => {
    const p = placements.get(m.batchId);
    if (!p || p.height !== h || p.index !== i) add('placement', `batch ${m.batchId} is placed at ${p ? `${p.height}/${p.index}` : 'nowhere'}`);
  });
}
