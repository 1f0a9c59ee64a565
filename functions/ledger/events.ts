/**
 * Ledger events for the outbox (docs/protocol.md 7.5). Every event
 * id is derived from what it reports, so a step that is run again after a crash
 * writes the same ids and the store's putEvents turns the repeat into a no-op:
 *
 *   round.finalized:<height>
 *   checkpoint.published:<size>
 *   anchor.confirmed:<batchId>                       (agency-scoped: one per batch)
 *   validator.fault:<height>:<validator>:<reason>
 *   publication.created:<size>
 *   batch.quarantined:<batchId>                      (agency-scoped)
 *
 * Hashes in event data are lowercase hex (events are JSON at the edge).
 */
import { bytesToHex } from '@ledgerseal/sdk';
import type { LedgerEvent, Page, Publication, Store, Timestamp } from '../store/port.ts';

export const EVENT_TYPES = {
  roundFinalized: 'round.finalized',
  checkpointPublished: 'checkpoint.published',
  anchorConfirmed: 'anchor.confirmed',
  validatorFault: 'validator.fault',
  publicationCreated: 'publication.created',
  batchQuarantined: 'batch.quarantined',
} as const;

export const FAULT_REASONS = ['timeout', 'unreachable', 'refused', 'bad-signature', 'equivocation'] as const;
export type FaultReason = (typeof FAULT_REASONS)[number];

export function roundFinalizedEvent(b: {
  height: number;
  time: Timestamp;
  blockTime: Timestamp;
  proposalId: string;
  roundSize: number;
  anchors: number;
  roundRoot: Uint8Array;
  signers: string[];
}): LedgerEvent {
  return {
    id: `${EVENT_TYPES.roundFinalized}:${b.height}`,
    type: EVENT_TYPES.roundFinalized,
    time: b.time,
    data: {
      height: b.height,
      time: b.blockTime,
      proposalId: b.proposalId,
      roundSize: b.roundSize,
      anchors: b.anchors,
      roundRoot: bytesToHex(b.roundRoot),
      calendarSize: b.height + 1,
      signers: b.signers,
    },
  };
}

export function checkpointPublishedEvent(c: { size: number; root: Uint8Array; checkpoint: string; time: Timestamp }): LedgerEvent {
  return {
    id: `${EVENT_TYPES.checkpointPublished}:${c.size}`,
    type: EVENT_TYPES.checkpointPublished,
    time: c.time,
    data: { size: c.size, root: bytesToHex(c.root), checkpoint: c.checkpoint },
  };
}

/** One event per batch: the anchors `${batchId}.0` .. `${batchId}.${count - 1}` are final. */
export function anchorConfirmedEvent(a: {
  batchId: string;
  agencyId: string;
  count: number;
  height: number;
  index: number;
  time: Timestamp;
}): LedgerEvent {
  return {
    id: `${EVENT_TYPES.anchorConfirmed}:${a.batchId}`,
    type: EVENT_TYPES.anchorConfirmed,
    time: a.time,
    agencyId: a.agencyId,
    data: {
      batchId: a.batchId,
      anchors: { first: `${a.batchId}.0`, last: `${a.batchId}.${a.count - 1}`, count: a.count },
      height: a.height,
      roundIndex: a.index,
    },
  };
}

export function validatorFaultEvent(f: {
  validator: string;
  reason: FaultReason;
  height: number;
  detail: string;
  time: Timestamp;
}): LedgerEvent {
  return {
    id: `${EVENT_TYPES.validatorFault}:${f.height}:${f.validator}:${f.reason}`,
    type: EVENT_TYPES.validatorFault,
    time: f.time,
    data: { validator: f.validator, reason: f.reason, height: f.height, detail: f.detail },
  };
}

/** What a validator.fault event reports, with the time it was recorded. */
export interface ValidatorFault {
  height: number;
  validator: string;
  reason: FaultReason;
  time: Timestamp;
  detail: string;
}

/** The fault a stored validator.fault event reports; null for an event of another type or shape. */
export function validatorFaultOf(e: LedgerEvent): ValidatorFault | null {
  const { validator, reason, height, detail } = e.data;
  if (e.type !== EVENT_TYPES.validatorFault || typeof validator !== 'string' || typeof detail !== 'string') return null;
  if (!Number.isSafeInteger(height) || !(FAULT_REASONS as readonly unknown[]).includes(reason)) return null;
  return { height: height as number, validator, reason: reason as FaultReason, time: e.time, detail };
}

/**
 * Recorded faults, newest first, of one validator or of all: one Query of the
 * validator.fault partition of the events index (eventually consistent).
 */
export async function listValidatorFaults(
  store: Store,
  opts: { limit: number; cursor?: string; validator?: string },
): Promise<Page<ValidatorFault>> {
  const page = await store.listEvents({
    type: EVENT_TYPES.validatorFault,
    limit: opts.limit,
    newestFirst: true,
    ...(opts.cursor !== undefined && { cursor: opts.cursor }),
    ...(opts.validator !== undefined && { match: { field: 'validator', value: opts.validator } }),
  });
  const items = page.items.map(validatorFaultOf).filter((f): f is ValidatorFault => f !== null);
  return { items, ...(page.cursor !== undefined && { cursor: page.cursor }) };
}

export function publicationCreatedEvent(p: Publication): LedgerEvent {
  return {
    id: `${EVENT_TYPES.publicationCreated}:${p.size}`,
    type: EVENT_TYPES.publicationCreated,
    time: p.publishedAt,
    data: { size: p.size, root: bytesToHex(p.root), code: p.code, checkpoint: p.checkpoint, publishedAt: p.publishedAt },
  };
}

/**
 * A pending batch the coordinator cannot read or recheck: it is left out of
 * every round (docs/protocol.md 7.2). Scoped to the batch's agency, whose
 * anchors of that batch will never be confirmed until an operator restores it.
 */
export function batchQuarantinedEvent(q: { batchId: string; agencyId: string; reason: string; time: Timestamp }): LedgerEvent {
  return {
    id: `${EVENT_TYPES.batchQuarantined}:${q.batchId}`,
    type: EVENT_TYPES.batchQuarantined,
    time: q.time,
    agencyId: q.agencyId,
    data: { batchId: q.batchId, reason: q.reason },
  };
}
