/**
 * Extending an older proof to the latest pinned publication, from the page
 * (issue 10; docs/protocol.md 6.4). The service gives the new calendar path
 * and checkpoint (GET /v1/proofs/extend); nothing it sends is trusted: the
 * sdk's extendProof checks that the path leads from the proof's block to the
 * new checkpoint, and the result must then verify against the pinned
 * publication's root before it is offered. The chain and the block, what ties
 * the record to the ledger, never change.
 */
import { encodePublicationCode, extendProof, hexToBytes, parseBlockHeader, parseProof, verifyProof, type ProofDocument } from '@ledgerseal/sdk';
import { InputError, proofOf } from './inputs.ts';
import type { Pins, PinnedPublication } from './trust.ts';

/** GET /v1/proofs/extend?height=&size= of this page's origin. */
export type ExtensionSource = (height: number, size: number) => Promise<{ calendar: { size: number; path: string[] }; checkpoint: string }>;

export interface Extended {
  proof: ProofDocument;
  publication: PinnedPublication;
  /** The proof already reached that publication: nothing was fetched. */
  already: boolean;
}

/** Extend the proof in `proofText` to the newest pinned publication. Throws InputError, in words, when it cannot. */
export async function extendToLatestPublication(proofText: string, pins: Pins | undefined, fetchExtension: ExtensionSource): Promise<Extended> {
  let doc: ProofDocument;
  try {
    doc = parseProof(proofOf(proofText));
  } catch (e) {
    throw e instanceof InputError ? e : new InputError(`The proof is not a valid proof document (${e instanceof Error ? e.message : String(e)}).`);
  }
  const latest = pins?.publications.at(-1);
  if (!latest) {
    throw new InputError('No publication of this service is pinned in this browser yet, so there is nothing to extend the proof to. Publications are made periodically; try again later.');
  }
  const size = doc.calendar.size;
  if (size === latest.size) return { proof: doc, publication: latest, already: true };
  if (size > latest.size) {
    throw new InputError(
      `This proof is newer than the latest publication (it reaches calendar size ${size}; the latest publication, of ${day(latest.publishedAt)}, has size ${latest.size}). ` +
        'It can be extended once a later publication is made.',
    );
  }
  const { height } = parseBlockHeader(doc.block);
  let extension;
  try {
    extension = await fetchExtension(height, latest.size);
  } catch (e) {
    throw new InputError(`The extension could not be fetched from the service (${e instanceof Error ? e.message : String(e)}). Extending needs the network; verifying does not.`);
  }
  let extended: ProofDocument;
  try {
    extended = extendProof(doc, extension);
  } catch (e) {
    throw new InputError(`The service's extension does not fit this proof, so it was not used (${e instanceof Error ? e.message : String(e)}).`);
  }
  const check = verifyProof(extended, { publication: { size: latest.size, root: hexToBytes(latest.root) } });
  if (!check.ok || encodePublicationCode({ size: latest.size, root: hexToBytes(latest.root) }) !== latest.code) {
    throw new InputError(`The extended proof does not reach the pinned publication, so it was not used (${check.ok ? 'code mismatch' : check.detail}).`);
  }
  return { proof: extended, publication: latest, already: false };
}

/** 2026-12-01T05:21:14.123Z → 2026-12-01 05:21 UTC */
export function day(iso: string): string {
  return iso.replace('T', ' ').replace(/:\d\d(\.\d+)?Z$/, ' UTC');
}
