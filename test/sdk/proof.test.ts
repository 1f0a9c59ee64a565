/**
 * The proof document end to end (docs/protocol.md 6): built from real parts
 * (batch trees, a round tree, block headers, a calendar, a checkpoint cosigned by
 * validators of a 4-validator set), verified, and tampered with field by field.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  anchorOf,
  blindingMask,
  buildProof,
  bytesToBase64,
  bytesToHex,
  cosignCheckpoint,
  encodeBlockHeader,
  encodePublicationCode,
  extendProof,
  formatCheckpoint,
  generateCosignerKey,
  generateNoteKey,
  GENESIS_PREV,
  hashRecord,
  leafHash,
  MerkleTree,
  parseProof,
  PROOF_FORMAT,
  utf8,
  validatorSetHash,
  verifyProof,
  verifyProofCacheStats,
  type ProofDocument,
  type ValidatorSet,
} from '../../sdk/src/index.ts';
import { expectSdkError as expectFail } from '../helpers/sdk-errors.ts';

const ORIGIN = 'ledgerseal.test/proof';
const keys = ['v1', 'v2', 'v3', 'v4'].map((n, i) => generateCosignerKey(n, new Uint8Array(32).fill(i + 1)));
/** Cosignature times: validator i cosigns at COSIGNED + i seconds (block 1's header claims 04:32:17.123). */
const COSIGNED = Date.UTC(2026, 10, 22, 4, 32, 20) / 1000;
const DEFAULT_TIMES = [0, 1, 2, 3].map((i) => COSIGNED + i);
const set: ValidatorSet = {
  format: 'ledgerseal-validators/v1',
  validators: keys.map((k, i) => ({ name: `v${i + 1}`, key: k.verifierKey, weight: 1 })),
};
const blindingKey = new Uint8Array(32).fill(7);

function bytes(seed: number): Uint8Array {
  const b = new Uint8Array(32);
  for (let i = 0; i < 32; i++) b[i] = (seed * 31 + i * 7) & 255;
  return b;
}

/** A small ledger: `blocks` rounds of 3 batches of 5 anchors; record 0 of batch 1 of block 1 is ours. */
function makeLedger(blocks: number, signers = 3) {
  const record = { parcel: 'KA-17/204', owner: 'Mari Maasikas', area_m2: 812.5 };
  const mask = blindingMask(blindingKey, 'parcel:KA-17/204', 3);
  const digest = hashRecord(record);
  const ourAnchor = anchorOf(digest, mask);
  const headers: string[] = [];
  const rounds: { batches: MerkleTree[]; round: MerkleTree }[] = [];
  let prev = GENESIS_PREV;
  for (let h = 0; h < blocks; h++) {
    const batches: MerkleTree[] = [];
    for (let b = 0; b < 3; b++) {
      const anchors = Array.from({ length: 5 }, (_, i) => (h === 1 && b === 1 && i === 0 ? ourAnchor : bytes(h * 100 + b * 10 + i)));
      batches.push(MerkleTree.fromLeafData(anchors));
    }
    const round = MerkleTree.fromLeafData(batches.map((t) => t.root()));
    const header = encodeBlockHeader({
      height: h,
      time: new Date(Date.UTC(2026, 10, 22, 4, 32, 16, 123) + h * 1000).toISOString(),
      roundSize: 3,
      anchors: 15,
      roundRoot: round.root(),
      prev,
      validators: validatorSetHash(set),
    });
    prev = leafHash(utf8(header));
    headers.push(header);
    rounds.push({ batches, round });
  }
  const calendar = MerkleTree.fromLeafData(headers.map(utf8));
  /** The checkpoint of `size`, cosigned by the first n validators at `times`. */
  const checkpointAt = (size: number, n = signers, times = DEFAULT_TIMES) => {
    const text = formatCheckpoint({ origin: ORIGIN, size, root: calendar.rootAt(size) });
    return text + '\n' + keys.slice(0, n).map((k, i) => cosignCheckpoint(text, k.signerKey, times[i]!)).join('');
  };
  const proofAt = (size: number, n = signers, times = DEFAULT_TIMES): ProofDocument =>
    buildProof({
      anchor: ourAnchor,
      chain: [
        { index: 0, size: 5, path: rounds[1]!.batches[1]!.inclusionProof(0) },
        { index: 1, size: 3, path: rounds[1]!.round.inclusionProof(1) },
      ],
      block: headers[1]!,
      calendar: { size, path: MerkleTree.fromLeafData(headers.slice(0, size).map(utf8)).inclusionProof(1) },
      checkpoint: checkpointAt(size, n, times),
    });
  return { record, mask, digest, ourAnchor, headers, calendar, proofAt, checkpointAt };
}

const ledger = makeLedger(6);
const proof = ledger.proofAt(4);
const trust = { validators: set, origin: ORIGIN };

describe('verifyProof', () => {
  it('accepts a proof signed by 3 of 4 validators', () => {
    const r = verifyProof(proof, trust);
    expect(r).toMatchObject({ ok: true, height: 1, calendarSize: 4, origin: ORIGIN });
    if (r.ok) expect(r.signers).toEqual(['v1', 'v2', 'v3']);
  });

  it('reports the attested time T + 1 s (T: more than 1/3 of the weight had cosigned), and the header time as claimed', () => {
    const r = verifyProof(proof, trust);
    if (!r.ok) throw new Error(r.detail);
    // Cosigned at COSIGNED, +1, +2 by v1, v2, v3: 2 of 4 is more than 1/3 at COSIGNED + 1, so T + 1 = COSIGNED + 2.
    expect(r.time).toBe('2026-11-22T04:32:22.000Z');
    expect(r.claimedTime).toBe('2026-11-22T04:32:17.123Z');
    expect(r.claimedTime).toBe(ledger.headers[1]!.split('\n')[2]!.slice('time '.length));
    expect(r.timeAttestedBy).toEqual(['v1', 'v2']);
    expect(r.detail).toContain('attested time 2026-11-22T04:32:22.000Z');
    expect(r.detail).toContain('v1, v2, more than 1/3');
    expect(r.detail).toContain('the header time 2026-11-22T04:32:17.123Z is claimed by the ledger, not attested');
  });

  it('T + 1: a timestamp T in whole seconds means "seen before T + 1"', () => {
    const t = Date.UTC(2027, 0, 1, 0, 0, 0) / 1000 - 1; // 2026-12-31T23:59:59Z
    const r = verifyProof(ledger.proofAt(4, 3, [t, t, t]), trust);
    expect(r).toMatchObject({ ok: true, time: '2027-01-01T00:00:00.000Z', timeAttestedBy: ['v1', 'v2', 'v3'] });
    const r2 = verifyProof(ledger.proofAt(4, 4, [t + 9, t + 3, t + 7, t + 1]), trust);
    expect(r2).toMatchObject({ ok: true, time: new Date((t + 4) * 1000).toISOString(), timeAttestedBy: ['v2', 'v4'] });
  });

  it('a validator cosigning a year early does not make the attested time earlier', () => {
    const early = COSIGNED - 365 * 86400;
    const r = verifyProof(ledger.proofAt(4, 3, [early, COSIGNED + 5, COSIGNED + 6]), trust);
    expect(r).toMatchObject({ ok: true, time: new Date((COSIGNED + 6) * 1000).toISOString(), timeAttestedBy: ['v1', 'v2'] });
  });

  it('fails quorum when the attested time is not a date of the years 0000-9999', () => {
    const far = 300_000_000_000; // year 11476
    expect(verifyProof(ledger.proofAt(4, 3, [far, far, far]), trust)).toMatchObject({ ok: false, failed: 'quorum', detail: expect.stringMatching(/0000-9999/) });
  });

  it('with publication trust reports no time: inclusion is proven, the header time is only claimed', () => {
    const r = verifyProof(proof, { publication: { size: 4, root: ledger.calendar.rootAt(4) } });
    if (!r.ok) throw new Error(r.detail);
    expect(r.time).toBeNull();
    expect(r.claimedTime).toBe('2026-11-22T04:32:17.123Z');
    expect(r).not.toHaveProperty('signers');
    expect(r).not.toHaveProperty('timeAttestedBy');
    expect(r.detail).toContain('under the published calendar root of size 4');
    expect(r.detail).toContain('publication trust attests inclusion, not time');
    expect(r.detail).toContain('no later than the date the publication was printed');
    expect(r.detail).toContain('the header time 2026-11-22T04:32:17.123Z is claimed by the ledger');
  });

  it('throws MALFORMED_VALIDATOR_SET for an invalid trusted set, before any proof check', () => {
    const plain = ['v1', 'v2', 'v3', 'v4'].map((n, i) => generateNoteKey(n, new Uint8Array(32).fill(i + 1)));
    const plainSet: ValidatorSet = { ...set, validators: plain.map((k, i) => ({ name: `v${i + 1}`, key: k.verifierKey, weight: 1 })) };
    expectFail(() => verifyProof(proof, { validators: plainSet }), 'MALFORMED_VALIDATOR_SET', /type 0x04/);
    expectFail(() => verifyProof('not even json', { validators: { ...set, validators: [] } }), 'MALFORMED_VALIDATOR_SET', /no validators/);
    expectFail(() => verifyProof(proof, { validators: undefined as unknown as ValidatorSet }), 'MALFORMED_VALIDATOR_SET');
    // Not plain JSON but a valid set all the same.
    expect(verifyProof(proof, { validators: { ...set, origin: undefined } }).ok).toBe(true);
  });

  it('a set changed in place is validated and verified afresh (the cache is keyed by content)', () => {
    const mine = structuredClone(set);
    expect(verifyProof(proof, { validators: mine }).ok).toBe(true);
    // v1's key replaced in place: v1's line no longer counts, 2 of 4 is no quorum.
    mine.validators[0]!.key = generateCosignerKey('v1', new Uint8Array(32).fill(42)).verifierKey;
    expect(verifyProof(proof, { validators: mine })).toMatchObject({ ok: false, failed: 'quorum' });
    const again = structuredClone(set);
    expect(verifyProof(proof, { validators: again }).ok).toBe(true);
    // v1 removed in place: 2 of 3 is no quorum.
    again.validators.shift();
    expect(verifyProof(proof, { validators: again })).toMatchObject({ ok: false, failed: 'quorum' });
    // Made invalid in place: now refused as a set.
    const broken = structuredClone(set);
    expect(verifyProof(proof, { validators: broken }).ok).toBe(true);
    broken.validators[0]!.weight = 0;
    expectFail(() => verifyProof(proof, { validators: broken }), 'MALFORMED_VALIDATOR_SET', /weight/);
  });

  it('a new object with equal content reuses the cached set and its signature results', () => {
    const p = ledger.proofAt(5);
    verifyProof(p, trust);
    const before = verifyProofCacheStats();
    for (let i = 0; i < 3; i++) expect(verifyProof(p, { validators: structuredClone(set), origin: ORIGIN }).ok).toBe(true);
    const after = verifyProofCacheStats();
    expect(after.sets.hits - before.sets.hits).toBe(3);
    expect(after.sets.misses).toBe(before.sets.misses);
    expect(after.notes.hits - before.notes.hits).toBe(3);
    expect(after.notes.misses).toBe(before.notes.misses);
    expect(after.sets.entries).toBeLessThanOrEqual(8);
  });

  it('accepts the JSON text of the proof and recomputes the anchor from the record and mask', () => {
    expect(verifyProof(JSON.stringify(proof), trust, { record: ledger.record, mask: ledger.mask }).ok).toBe(true);
    expect(verifyProof(proof, trust, { digest: ledger.digest, mask: ledger.mask }).ok).toBe(true);
  });

  it('names the anchor check when the record, digest or mask differ', () => {
    const changed = { ...ledger.record, area_m2: 812.6 };
    expect(verifyProof(proof, trust, { record: changed, mask: ledger.mask })).toMatchObject({ ok: false, failed: 'anchor' });
    const otherMask = blindingMask(blindingKey, 'parcel:KA-17/204', 4);
    expect(verifyProof(proof, trust, { record: ledger.record, mask: otherMask })).toMatchObject({ ok: false, failed: 'anchor' });
    expect(verifyProof(proof, trust, { record: ledger.record })).toMatchObject({ ok: false, failed: 'anchor' });
    expect(verifyProof(proof, trust, { digest: new Uint8Array(31), mask: ledger.mask })).toMatchObject({ ok: false, failed: 'anchor' });
  });

  it('refuses 2 of 4 signatures (exactly 1/2 is not a quorum) and an unknown validator set', () => {
    expect(verifyProof(ledger.proofAt(4, 2), trust)).toMatchObject({ ok: false, failed: 'quorum' });
    const other = generateCosignerKey('v1', new Uint8Array(32).fill(99));
    const fakeSet: ValidatorSet = { format: 'ledgerseal-validators/v1', validators: [{ name: 'v1', key: other.verifierKey, weight: 1 }] };
    expect(verifyProof(proof, { validators: fakeSet })).toMatchObject({ ok: false, failed: 'quorum' });
  });

  it('checks the trusted origin, given in the trust or bound into the validator set', () => {
    expect(verifyProof(proof, { validators: set, origin: 'someone.else/prod' })).toMatchObject({ ok: false, failed: 'checkpoint' });
    expect(verifyProof(proof, { validators: { ...set, origin: 'someone.else/prod' } })).toMatchObject({ ok: false, failed: 'checkpoint' });
    expect(verifyProof(proof, { validators: { ...set, origin: ORIGIN } }).ok).toBe(true);
    expect(verifyProof(proof, { publication: { size: 4, root: ledger.calendar.rootAt(4) }, origin: 'someone.else/prod' }))
      .toMatchObject({ ok: false, failed: 'checkpoint' });
  });

  it('verifies against a publication with hashes alone, as a code or as size and root', () => {
    const root = ledger.calendar.rootAt(4);
    expect(verifyProof(proof, { publication: { size: 4, root } }).ok).toBe(true);
    expect(verifyProof(proof, { publication: encodePublicationCode({ size: 4, root }) }).ok).toBe(true);
    expect(verifyProof(proof, { publication: [{ size: 3, root: ledger.calendar.rootAt(3) }, { size: 4, root }] }).ok).toBe(true);
    expect(verifyProof(proof, { publication: { size: 5, root: ledger.calendar.rootAt(5) } })).toMatchObject({ ok: false, failed: 'publication' });
    expect(verifyProof(proof, { publication: { size: 4, root: ledger.calendar.rootAt(3) } })).toMatchObject({ ok: false, failed: 'publication' });
    expect(verifyProof(proof, { publication: 'NOT-A-CODE' })).toMatchObject({ ok: false, failed: 'publication' });
  });

  it('rejects malformed documents under the format check', () => {
    const bad: unknown[] = [
      null, 42, 'not json', [], {},
      { ...proof, format: 'ledgerseal-proof/v2' },
      { ...proof, extra: 1 },
      { ...proof, anchor: proof.anchor.toUpperCase() },
      { ...proof, anchor: proof.anchor.slice(2) },
      { ...proof, chain: [] },
      { ...proof, chain: [{ ...proof.chain[0]!, index: 5 }] },
      { ...proof, chain: [{ ...proof.chain[0]!, size: 0 }] },
      { ...proof, chain: [{ ...proof.chain[0]!, path: 'ab' }] },
      { ...proof, calendar: { size: -1, path: [] } },
      { ...proof, calendar: { size: 4, path: ['zz'] } },
      { ...proof, calendar: { size: 4, path: [], more: 1 } },
      { ...proof, block: 7 },
      { ...proof, checkpoint: null },
    ];
    for (const b of bad) expect(verifyProof(b, trust)).toMatchObject({ ok: false, failed: 'format' });
  });

  it('names the chain check for a path of the wrong length', () => {
    const p = structuredClone(proof);
    p.chain[0]!.path.push(p.chain[0]!.path[0]!);
    expect(verifyProof(p, trust)).toMatchObject({ ok: false, failed: 'chain' });
  });

  it('names round-root when the round step does not match the header round size', () => {
    const p = structuredClone(proof);
    p.chain[1] = { index: 1, size: 4, path: p.chain[1]!.path };
    expect(verifyProof(p, trust)).toMatchObject({ ok: false, failed: 'round-root' });
  });

  it('names checkpoint when its size is not the calendar size, block when the header is garbage', () => {
    expect(verifyProof({ ...proof, checkpoint: ledger.checkpointAt(5) }, trust)).toMatchObject({ ok: false, failed: 'checkpoint' });
    expect(verifyProof({ ...proof, checkpoint: 'no signatures\n' }, trust)).toMatchObject({ ok: false, failed: 'checkpoint' });
    expect(verifyProof({ ...proof, block: 'ledgerseal-block/v2\n' }, trust)).toMatchObject({ ok: false, failed: 'block' });
  });

  it('names calendar-inclusion when the block is not at its height in the calendar', () => {
    const other = buildProof({ ...parsePartsForTest(proof), calendar: { size: 4, path: MerkleTree.fromLeafData(ledger.headers.slice(0, 4).map(utf8)).inclusionProof(2) } });
    expect(verifyProof(other, trust)).toMatchObject({ ok: false, failed: 'calendar-inclusion' });
  });
});

function parsePartsForTest(p: ProofDocument) {
  const hex = (h: string) => Uint8Array.from(h.match(/../g)!.map((x) => parseInt(x, 16)));
  return {
    anchor: hex(p.anchor),
    chain: p.chain.map((s) => ({ index: s.index, size: s.size, path: s.path.map(hex) })),
    block: p.block,
    calendar: { size: p.calendar.size, path: p.calendar.path.map(hex) },
    checkpoint: p.checkpoint,
  };
}

function flipHexBit(hex: string, bit: number): string {
  const i = Math.floor(bit / 4) % hex.length;
  const v = parseInt(hex[i]!, 16) ^ (1 << bit % 4);
  return hex.slice(0, i) + v.toString(16) + hex.slice(i + 1);
}

function flipTextBit(text: string, pos: number, bit: number): string {
  const i = pos % text.length;
  const c = text.charCodeAt(i) ^ (1 << bit % 7); // stay within ASCII
  return text.slice(0, i) + String.fromCharCode(c) + text.slice(i + 1);
}

describe('any single-bit change fails verification with the right check name', () => {
  it('anchor and chain paths → round-root', () => {
    fc.assert(fc.property(fc.nat(255), (bit) => {
      expect(verifyProof({ ...proof, anchor: flipHexBit(proof.anchor, bit) }, trust)).toMatchObject({ failed: 'round-root' });
    }));
    fc.assert(fc.property(fc.nat(1), fc.nat(10), fc.nat(255), (step, el, bit) => {
      const p = structuredClone(proof);
      const path = p.chain[step]!.path;
      const j = el % path.length;
      path[j] = flipHexBit(path[j]!, bit);
      expect(verifyProof(p, trust)).toMatchObject({ failed: 'round-root' });
    }));
  });

  it('calendar path → calendar-inclusion', () => {
    fc.assert(fc.property(fc.nat(10), fc.nat(255), (el, bit) => {
      const p = structuredClone(proof);
      const j = el % p.calendar.path.length;
      p.calendar.path[j] = flipHexBit(p.calendar.path[j]!, bit);
      expect(verifyProof(p, trust)).toMatchObject({ failed: 'calendar-inclusion' });
    }));
  });

  it('header: round-root line → round-root; any other byte → block or calendar-inclusion', () => {
    const lines = proof.block.split('\n');
    const rrStart = proof.block.indexOf('round-root ') + 'round-root '.length;
    fc.assert(fc.property(fc.nat(proof.block.length - 1), fc.nat(6), (pos, bit) => {
      const changed = flipTextBit(proof.block, pos, bit);
      const r = verifyProof({ ...proof, block: changed }, trust);
      expect(r.ok).toBe(false);
      if (pos >= rrStart && pos < rrStart + 64 && /^[0-9a-f]$/.test(changed[pos]!)) expect(r).toMatchObject({ failed: 'round-root' });
      else expect(['block', 'round-root', 'calendar-inclusion']).toContain((r as { failed: string }).failed);
    }));
    expect(lines[0]).toBe('ledgerseal-block/v1');
  });

  it('checkpoint root or size → calendar-inclusion or checkpoint; signature → quorum', () => {
    const sigStart = proof.checkpoint.indexOf('\n\n') + 2;
    fc.assert(fc.property(fc.nat(proof.checkpoint.length - 1), fc.nat(6), (pos, bit) => {
      const changed = flipTextBit(proof.checkpoint, pos, bit);
      const r = verifyProof({ ...proof, checkpoint: changed }, trust);
      expect(r.ok).toBe(false);
      const failed = (r as { failed: string }).failed;
      if (pos < sigStart) expect(['checkpoint', 'calendar-inclusion', 'quorum']).toContain(failed);
      else expect(['checkpoint', 'quorum']).toContain(failed);
    }), { numRuns: 300 });
  });

  it('each of the 3 signature lines: corrupting one leaves 2 of 4 → quorum', () => {
    const [text, sigs] = proof.checkpoint.split('\n\n') as [string, string];
    const lines = sigs.split('\n').filter(Boolean);
    for (let k = 0; k < lines.length; k++) {
      const parts = lines[k]!.split(' ');
      const sig = parts[2]!;
      const bad = sig.slice(0, 10) + (sig[10] === 'A' ? 'B' : 'A') + sig.slice(11);
      const changed = lines.map((l, i) => (i === k ? `${parts[0]} ${parts[1]} ${bad}` : l));
      expect(verifyProof({ ...proof, checkpoint: `${text}\n\n${changed.join('\n')}\n` }, trust)).toMatchObject({ failed: 'quorum' });
    }
  });
});

describe('extendProof', () => {
  it('moves a proof to a later checkpoint and the result verifies', () => {
    const later = ledger.proofAt(6);
    const extended = extendProof(proof, { calendar: later.calendar, checkpoint: later.checkpoint });
    expect(extended.calendar.size).toBe(6);
    expect(extended.chain).toEqual(proof.chain);
    expect(verifyProof(extended, trust).ok).toBe(true);
    expect(verifyProof(extended, { publication: { size: 6, root: ledger.calendar.rootAt(6) } }).ok).toBe(true);
  });

  it('refuses a smaller size and a path that does not reach the checkpoint root', () => {
    const smaller = ledger.proofAt(3);
    expect(() => extendProof(proof, { calendar: smaller.calendar, checkpoint: smaller.checkpoint })).toThrow(/smaller/);
    const later = ledger.proofAt(6);
    expect(() => extendProof(proof, { calendar: later.calendar, checkpoint: ledger.checkpointAt(5) })).toThrow();
    expect(() => extendProof(proof, { calendar: { size: 6, path: proof.calendar.path }, checkpoint: later.checkpoint })).toThrow();
  });
});

describe('buildProof / parseProof', () => {
  it('produces the exact v1 document shape', () => {
    expect(Object.keys(proof)).toEqual(['format', 'anchor', 'chain', 'block', 'calendar', 'checkpoint']);
    expect(proof.format).toBe(PROOF_FORMAT);
    expect(parseProof(JSON.stringify(proof))).toEqual(proof);
    expect(proof.anchor).toBe(bytesToHex(ledger.ourAnchor));
    expect(bytesToBase64(ledger.calendar.rootAt(4))).toBe(proof.checkpoint.split('\n')[2]);
  });
});
