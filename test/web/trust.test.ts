/**
 * The verify page's pinned trust (web/src/trust.ts) and its proof extension
 * (web/src/extend.ts), in Node: a calendar of 12 blocks, publications of it
 * signed by a 4-validator set, served honestly, then rewritten, then signed by
 * another set; consistency proofs and extensions served honestly and forged.
 */
import { describe, expect, it } from 'vitest';
import {
  bytesToHex,
  consistencyProof,
  cosignCheckpoint,
  encodeBlockHeader,
  encodePublicationCode,
  formatCheckpoint,
  generateCosignerKey,
  inclusionProof,
  merkleRoot,
  buildProof,
  utf8,
  validatorSetHash,
  type ValidatorSet,
} from '../../sdk/src/index.ts';
import { extendToLatestPublication } from '../../web/src/extend.ts';
import { InputError, verifyInputs } from '../../web/src/inputs.ts';
import { acceptSet, parsePins, reconcile, type ServedPublication, setFingerprint } from '../../web/src/trust.ts';

const ORIGIN = 'ledgerseal.test/pins';
const NOW = '2026-12-01T06:00:00.000Z';
const keys = ['v1', 'v2', 'v3', 'v4'].map((n, i) => generateCosignerKey(n, new Uint8Array(32).fill(i + 1)));
const set: ValidatorSet = { format: 'ledgerseal-validators/v1', origin: ORIGIN, validators: keys.map((k, i) => ({ name: `v${i + 1}`, key: k.verifierKey, weight: 1 })) };
const otherKeys = ['w1', 'w2', 'w3', 'w4'].map((n, i) => generateCosignerKey(n, new Uint8Array(32).fill(i + 11)));
const otherSet: ValidatorSet = { format: 'ledgerseal-validators/v1', origin: ORIGIN, validators: otherKeys.map((k, i) => ({ name: `w${i + 1}`, key: k.verifierKey, weight: 1 })) };

/** Block headers of a 12-block calendar (one anchor per block; the round tree is that anchor alone). */
const anchors = Array.from({ length: 12 }, (_, h) => new Uint8Array(32).fill(h + 1));
const headers = anchors.map((a, h) =>
  encodeBlockHeader({
    height: h,
    time: `2026-11-30T10:${String(h).padStart(2, '0')}:00.000Z`,
    prev: h === 0 ? new Uint8Array(32) : new Uint8Array(32).fill(200 + h),
    roundRoot: merkleRoot([a]),
    roundSize: 1,
    anchors: 1,
    validators: validatorSetHash(set),
  }),
);
const leaves = headers.map((h) => utf8(h));
const rootAt = (size: number, ls = leaves) => merkleRoot(ls.slice(0, size));

function checkpointAt(size: number, signers = keys, root = rootAt(size)): string {
  const text = formatCheckpoint({ origin: ORIGIN, size, root });
  return text + '\n' + signers.slice(0, 3).map((k, i) => cosignCheckpoint(text, k.signerKey, 1_790_000_000 + size * 60 + i)).join('');
}

function publication(size: number, opts: { signers?: typeof keys; root?: Uint8Array } = {}): ServedPublication {
  const root = opts.root ?? rootAt(size);
  return { size, root: bytesToHex(root), code: encodePublicationCode({ size, root }), checkpoint: checkpointAt(size, opts.signers, root), publishedAt: `2026-11-30T11:${String(size).padStart(2, '0')}:00.000Z` };
}

const honest = async (from: number, to: number) => consistencyProof(leaves, from, to);

describe('pinning the service trust material (web/src/trust.ts)', () => {
  it('pins the set and the publications on the first visit, checking each against the set and the one below it', async () => {
    const calls: string[] = [];
    const r = await reconcile(undefined, { set, publications: [publication(9), publication(4)] }, async (f, t) => (calls.push(`${f}-${t}`), honest(f, t)), NOW);
    expect(r.setStatus).toBe('first');
    expect(r.pins.setHash).toBe(bytesToHex(validatorSetHash(set)));
    expect(r.pins.publications.map((p) => p.size)).toEqual([4, 9]);
    expect(r.refused).toEqual([]);
    expect(r.conflicts).toEqual([]);
    expect(calls).toEqual(['4-9']);
    // Many new publications: every consistency proof is asked for at once, before the first is awaited.
    let inFlight = 0;
    let most = 0;
    const counting = async (f: number, t: number) => {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((r) => setImmediate(r));
      inFlight--;
      return honest(f, t);
    };
    const many = await reconcile(r.pins, { set, publications: [10, 5, 12, 11, 7].map((n) => publication(n)) }, counting, NOW);
    expect(many.added.map((p) => p.size)).toEqual([5, 7, 10, 11, 12]);
    expect(most).toBe(5);
    expect(setFingerprint(set)).toMatch(/^([0-9a-f]{4} ){15}[0-9a-f]{4}$/);
    // Stored and read back, they are the same pins.
    expect(parsePins(JSON.stringify(r.pins))).toEqual(r.pins);
  });

  it('on a later visit keeps what was pinned, adds newer publications, and reports nothing changed', async () => {
    const first = await reconcile(undefined, { set, publications: [publication(4)] }, honest, NOW);
    const later = await reconcile(first.pins, { set, publications: [publication(12), publication(9), publication(4)] }, honest, '2026-12-02T00:00:00.000Z');
    expect(later.setStatus).toBe('unchanged');
    expect(later.added.map((p) => p.size)).toEqual([9, 12]);
    expect(later.pins.publications.map((p) => p.size)).toEqual([4, 9, 12]);
    expect(later.pins.setPinnedAt).toBe(NOW);
  });

  it('keeps the pinned set when the service serves another, and offers it for the user to accept', async () => {
    const first = await reconcile(undefined, { set, publications: [] }, honest, NOW);
    const r = await reconcile(first.pins, { set: otherSet, publications: [publication(5, { signers: otherKeys })] }, honest, NOW);
    expect(r.setStatus).toBe('changed');
    expect(r.offeredSet).toEqual(otherSet);
    expect(r.pins.set).toEqual(set);
    // The new set's publication is not signed by the pinned validators: not pinned.
    expect(r.refused).toEqual([{ size: 5, reason: 'its checkpoint is not signed by a quorum of the pinned validators' }]);
    const accepted = acceptSet(r.pins, otherSet, '2026-12-03T00:00:00.000Z');
    expect(accepted.setHash).toBe(bytesToHex(validatorSetHash(otherSet)));
    const again = await reconcile(accepted, { set: otherSet, publications: [publication(5, { signers: otherKeys })] }, honest, NOW);
    expect([again.setStatus, again.added.map((p) => p.size)]).toEqual(['unchanged', [5]]);
  });

  it('raises a conflict, and keeps the pinned one, when a pinned publication is served with another root', async () => {
    const first = await reconcile(undefined, { set, publications: [publication(6)] }, honest, NOW);
    const forged = publication(6, { root: new Uint8Array(32).fill(9) });
    const r = await reconcile(first.pins, { set, publications: [forged] }, honest, NOW);
    expect(r.conflicts).toEqual([{ size: 6, pinnedRoot: bytesToHex(rootAt(6)), servedRoot: forged.root }]);
    expect(r.pins.publications).toEqual(first.pins.publications);
  });

  it('raises a conflict for a signed publication whose history does not extend the pinned one', async () => {
    const first = await reconcile(undefined, { set, publications: [publication(4)] }, honest, NOW);
    // A rewritten history: block 2 replaced, then the same quorum signs size 8 of it.
    const rewritten = leaves.map((l, i) => (i === 2 ? utf8('forged header') : l));
    const fork = publication(8, { root: rootAt(8, rewritten) });
    const r = await reconcile(first.pins, { set, publications: [fork] }, async (f, t) => consistencyProof(rewritten, f, t), NOW);
    expect(r.conflicts.map((c) => c.size)).toEqual([8]);
    expect(r.added).toEqual([]);
    // A forged publication first seen below a pinned one is checked against the one above it too.
    const later = await reconcile(first.pins, { set, publications: [publication(10)] }, honest, NOW);
    // (Block 5 rewritten: size 7 of it extends the pinned size 4, but size 10 does not extend it.)
    const rewritten5 = leaves.map((l, i) => (i === 5 ? utf8('forged header') : l));
    const source = async (f: number, t: number) => consistencyProof(t === 7 ? rewritten5 : leaves, f, t);
    const below = await reconcile(later.pins, { set, publications: [publication(7, { root: rootAt(7, rewritten5) })] }, source, NOW);
    expect(below.conflicts).toEqual([{ size: 7, pinnedRoot: bytesToHex(rootAt(10)), servedRoot: bytesToHex(rootAt(7, rewritten5)) }]);
  });

  it('refuses a publication whose code, checkpoint or signatures do not match, or whose consistency cannot be fetched', async () => {
    const first = await reconcile(undefined, { set, publications: [publication(3)] }, honest, NOW);
    const badCode = { ...publication(5), code: publication(6).code };
    const otherCheckpoint = { ...publication(7), checkpoint: checkpointAt(8) };
    const unsigned = publication(9, { signers: otherKeys });
    const r = await reconcile(first.pins, { set, publications: [badCode, otherCheckpoint, unsigned, publication(10)] }, async (f, t) => {
      if (t === 10) throw new Error('HTTP 503');
      return honest(f, t);
    }, NOW);
    expect(r.refused.map((x) => [x.size, x.reason])).toEqual([
      [5, 'its code does not encode its size and root'],
      [7, 'its checkpoint is of another size or root'],
      [9, 'its checkpoint is not signed by a quorum of the pinned validators'],
      [10, 'its consistency with publication 3 could not be checked (HTTP 503)'],
    ]);
    expect(r.pins.publications.map((p) => p.size)).toEqual([3]);
  });

  it('reads back nothing from storage that is absent, damaged or altered', () => {
    expect(parsePins(null)).toBeUndefined();
    expect(parsePins('{not json')).toBeUndefined();
    expect(parsePins(JSON.stringify({ version: 2 }))).toBeUndefined();
    const pins = { version: 1, set, setHash: bytesToHex(validatorSetHash(otherSet)), setPinnedAt: NOW, publications: [] };
    expect(parsePins(JSON.stringify(pins))).toBeUndefined(); // the hash is not the set's
    const p = publication(4);
    const ok = { ...pins, setHash: bytesToHex(validatorSetHash(set)), publications: [{ size: 4, root: p.root, code: p.code, publishedAt: p.publishedAt }, { size: 5, root: p.root, code: p.code, publishedAt: p.publishedAt }] };
    expect(parsePins(JSON.stringify(ok))!.publications.map((x) => x.size)).toEqual([4]); // a code not of its size and root is dropped
  });
});

describe('extending a proof to the latest pinned publication (web/src/extend.ts)', () => {
  const HEIGHT = 2;
  const proofAt = (size: number) =>
    buildProof({
      anchor: anchors[HEIGHT]!,
      chain: [{ index: 0, size: 1, path: [] }],
      block: headers[HEIGHT]!,
      calendar: { size, path: inclusionProof(leaves.slice(0, size), HEIGHT) },
      checkpoint: checkpointAt(size),
    });
  const honestExtension = async (height: number, size: number) => ({
    calendar: { size, path: inclusionProof(leaves.slice(0, size), height).map(bytesToHex) },
    checkpoint: checkpointAt(size),
  });
  const pinsWith = async (...sizes: number[]) => (await reconcile(undefined, { set, publications: sizes.map((s) => publication(s)) }, honest, NOW)).pins;

  it('extends an older proof to the newest publication, and the result verifies against that publication', async () => {
    const asked: string[] = [];
    const pins = await pinsWith(6, 11);
    const ext = await extendToLatestPublication(JSON.stringify(proofAt(4)), pins, async (h, s) => (asked.push(`${h}@${s}`), honestExtension(h, s)));
    expect(asked).toEqual(['2@11']);
    expect([ext.already, ext.publication.size, ext.proof.calendar.size]).toEqual([false, 11, 11]);
    expect(ext.proof.chain).toEqual(proofAt(4).chain);
    // An anchor answer ({ ..., proof }) is accepted too; a proof already there needs no request.
    const same = await extendToLatestPublication(JSON.stringify({ id: 'a', proof: ext.proof }), pins, () => Promise.reject(new Error('no request expected')));
    expect(same.already).toBe(true);
  });

  it('says in words why it cannot: nothing pinned, a newer proof, no network, a forged extension', async () => {
    const pins = await pinsWith(6);
    const fail = (p: Promise<unknown>) => expect(p).rejects.toBeInstanceOf(InputError);
    await fail(extendToLatestPublication(JSON.stringify(proofAt(4)), undefined, honestExtension));
    await expect(extendToLatestPublication(JSON.stringify(proofAt(8)), pins, honestExtension)).rejects.toThrow(/newer than the latest publication/);
    await expect(extendToLatestPublication(JSON.stringify(proofAt(4)), pins, () => Promise.reject(new Error('Failed to fetch')))).rejects.toThrow(/Extending needs the network; verifying does not/);
    // A path that does not lead to the checkpoint, or a checkpoint that is not the pinned publication's.
    const wrongPath = async (h: number, s: number) => ({ ...(await honestExtension(h, s)), calendar: { size: s, path: inclusionProof(leaves.slice(0, s), h + 1).map(bytesToHex) } });
    await expect(extendToLatestPublication(JSON.stringify(proofAt(4)), pins, wrongPath)).rejects.toThrow(/does not fit this proof/);
    const forgedLeaves = leaves.map((l, i) => (i === 5 ? utf8('forged') : l));
    const forged = async (h: number, s: number) => {
      const root = rootAt(s, forgedLeaves);
      const text = formatCheckpoint({ origin: ORIGIN, size: s, root });
      return { calendar: { size: s, path: inclusionProof(forgedLeaves.slice(0, s), h).map(bytesToHex) }, checkpoint: text + '\n' + keys.slice(0, 3).map((k, i) => cosignCheckpoint(text, k.signerKey, 1_790_000_000 + i)).join('') };
    };
    await expect(extendToLatestPublication(JSON.stringify(proofAt(4)), pins, forged)).rejects.toThrow(/does not reach the pinned publication/);
    await fail(extendToLatestPublication('{"format":"ledgerseal-proof/v1"}', pins, honestExtension));
  });
});

describe('the verify page refuses an ambiguous record (web/src/inputs.ts)', () => {
  it('a record JSON with a member name twice is refused before any check, in words', () => {
    const input = (text: string) => ({ proofText: '{}', record: { kind: 'json' as const, text }, blinding: { kind: 'mask' as const, hex: '00'.repeat(32) }, trust: { kind: 'validators' as const, set } });
    expect(() => verifyInputs(input('{"owner":"Ada","owner":"Mallory"}'))).toThrow(
      new InputError('The record is ambiguous: it has a duplicate member name "owner" in the object at $. Programs disagree on which value such a record holds, so it cannot be checked.'),
    );
    expect(() => verifyInputs(input('{"owner":'))).toThrow(/^The record is not valid JSON \(/);
  });
});
