/**
 * What each check of docs/protocol.md 6.2 means, in plain words, and the
 * verdict of one verification as the page lists it: the checks in order, each
 * passed, failed, not run (after a failure) or skipped (no record given).
 */
import type { ProofCheck, ProofResult } from '@ledgerseal/sdk';

export type CheckStatus = 'pass' | 'fail' | 'not-run' | 'skipped';

export interface CheckLine {
  check: ProofCheck;
  title: string;
  status: CheckStatus;
  text: string;
}

interface Meaning {
  title: string;
  pass: string;
  fail: string;
}

export const MEANINGS: Record<ProofCheck, Meaning> = {
  format: {
    title: 'Proof document',
    pass: 'The proof is a complete, well-formed Ledgerseal proof.',
    fail: 'This is not a valid Ledgerseal proof: the file is damaged, incomplete, or not a proof at all.',
  },
  anchor: {
    title: 'Record matches the proof',
    pass: 'The record, with its blinding, gives exactly the fingerprint sealed in this proof.',
    fail: 'The record does not match the fingerprint sealed in this proof: the record was changed since it was sealed, or it is not the record this proof is for, or the blinding (mask, receipt or key) is wrong.',
  },
  chain: {
    title: 'Path to the round',
    pass: "The path from the record's fingerprint up to the ledger round is intact.",
    fail: "The path from the record's fingerprint up to the ledger round is broken: the proof was altered.",
  },
  block: {
    title: 'Block header',
    pass: 'The block the record was sealed in is well formed.',
    fail: 'The block description in the proof is damaged or altered.',
  },
  'round-root': {
    title: 'Record sealed in the block',
    pass: "The block states exactly the round the record's path leads to.",
    fail: "The block does not contain the round the record's path leads to: the proof was altered or mixes two proofs.",
  },
  checkpoint: {
    title: 'Ledger checkpoint',
    pass: "The ledger's checkpoint is well formed and belongs to the trusted ledger.",
    fail: "The ledger's checkpoint in the proof is damaged, or belongs to another ledger than the one trusted.",
  },
  'calendar-inclusion': {
    title: "Block in the ledger's history",
    pass: "The block is part of the ledger's append-only history at this checkpoint.",
    fail: "The block is not part of the ledger's history as the checkpoint states it: the proof was altered.",
  },
  quorum: {
    title: 'Validator signatures',
    pass: 'Enough independent validators signed this checkpoint.',
    fail: 'Not enough of the trusted validators signed this checkpoint: the proof was altered, or it comes from a ledger you do not trust.',
  },
  publication: {
    title: 'Matches the publication',
    pass: "The ledger's history in the proof is exactly the one published.",
    fail: "The ledger's history in the proof is not the published one (or the proof does not reach that publication: extend it first).",
  },
};

/** The checks run under a trust, in order. */
export function checksFor(trust: 'validators' | 'publication'): ProofCheck[] {
  return ['format', 'anchor', 'chain', 'block', 'round-root', 'checkpoint', 'calendar-inclusion', trust === 'validators' ? 'quorum' : 'publication'];
}

/** The list of checks for a result: passed up to the failed one, which names what it means, the rest not run. */
export function checkLines(result: ProofResult, trust: 'validators' | 'publication', recordGiven: boolean): CheckLine[] {
  const order = checksFor(trust);
  const failedAt = result.ok ? order.length : order.indexOf(result.failed);
  return order.map((check, i) => {
    const m = MEANINGS[check];
    if (i < failedAt) {
      if (check === 'anchor' && !recordGiven) {
        return { check, title: m.title, status: 'skipped', text: 'Not checked: no record was given, so the proof was checked on its own, not tied to a record.' };
      }
      return { check, title: m.title, status: 'pass', text: m.pass };
    }
    if (i === failedAt && !result.ok) return { check, title: m.title, status: 'fail', text: `${m.fail} (${result.detail})` };
    return { check, title: m.title, status: 'not-run', text: 'Not run: an earlier check failed.' };
  });
}

/** The plain-language sentence of a successful verification. */
export function provenSentence(result: ProofResult & { ok: true }, recordGiven: boolean, publicationCode?: string, publishedOn?: string): string {
  const subject = recordGiven ? 'This record existed in exactly this form' : `The record with fingerprint ${result.anchor.slice(0, 16)}… existed`;
  if (result.time !== null) {
    return `${subject} no later than ${result.time.replace('T', ' ').replace(/\.\d+Z$/, ' UTC').replace(/Z$/, ' UTC')}, sealed in block ${result.height}, signed by ${(result.signers ?? []).join(', ')}.`;
  }
  const pub = `the publication of calendar size ${result.calendarSize}${publicationCode ? ` (code ${publicationCode})` : ''}`;
  if (publishedOn) {
    return `${subject} when the ledger was published, sealed in block ${result.height}, matching ${pub}, which this service made on ${publishedOn}: it existed no later than that publication.`;
  }
  return `${subject} when the ledger was published, sealed in block ${result.height}, matching ${pub}: it existed no later than the date that publication was printed.`;
}
