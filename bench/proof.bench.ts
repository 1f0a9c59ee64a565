/**
 * verifyProof throughput (issue 2): a realistic proof — batch of 1,000 anchors,
 * round of 1,000 batches, calendar of 100,000 blocks, checkpoint cosigned
 * (C2SP tlog-cosignature/v1) by 3 of 4 validators — verified against the
 * validator set (set and signature result cached by content), with a set the
 * cache has not seen (every call validates the set and pays 3 Ed25519
 * verifications), and against a publication (hashes only). The floor rows time
 * the primitive operations the checks are made of.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { createPublicKey, verify as nodeVerify, generateKeyPairSync, sign as nodeSign } from 'node:crypto';
import {
  buildProof,
  cosignCheckpoint,
  encodeBlockHeader,
  formatCheckpoint,
  generateCosignerKey,
  GENESIS_PREV,
  MerkleTree,
  utf8,
  validatorSetHash,
  verifyInclusion,
  verifyProof,
  type ProofDocument,
  type ValidatorSet,
} from '../sdk/src/index.ts';
import { fmt, printTable } from './_table.ts';

function random32(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(32));
}

/** Run fn repeatedly for about `ms` milliseconds; returns operations per second. */
function opsPerSecond(fn: (i: number) => void, ms = 1500): number {
  for (let i = 0; i < 50; i++) fn(i); // warm up
  let n = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    for (let k = 0; k < 20; k++) fn(n++);
    now = performance.now();
  }
  return (n * 1000) / (now - start);
}

function setup(): { proofs: ProofDocument[]; set: ValidatorSet; root: Uint8Array; size: number } {
  const keys = [1, 2, 3, 4].map((i) => generateCosignerKey(`validator-${i}`));
  const set: ValidatorSet = {
    format: 'ledgerseal-validators/v1',
    validators: keys.map((k, i) => ({ name: `validator-${i + 1}`, key: k.verifierKey, weight: 1 })),
  };
  const anchors = Array.from({ length: 1000 }, random32);
  const batch = MerkleTree.fromLeafData(anchors);
  const roots = Array.from({ length: 1000 }, random32);
  roots[417] = batch.root();
  const round = MerkleTree.fromLeafData(roots);
  const size = 100_000;
  const height = 77_777;
  const header = encodeBlockHeader({
    height, time: '2026-11-22T04:32:16.123Z', roundSize: 1000, anchors: 1_000_000,
    roundRoot: round.root(), prev: GENESIS_PREV, validators: validatorSetHash(set),
  });
  const leaves = Array.from({ length: size }, random32);
  leaves[height] = utf8(header);
  const calendar = MerkleTree.fromLeafData(leaves);
  const text = formatCheckpoint({ origin: 'bench.ledgerseal/prod', size, root: calendar.root() });
  const now = Math.floor(Date.now() / 1000);
  const checkpoint = text + '\n' + keys.slice(0, 3).map((k, i) => cosignCheckpoint(text, k.signerKey, now + i)).join('');
  const calPath = calendar.inclusionProof(height);
  const roundPath = round.inclusionProof(417);
  const proofs = Array.from({ length: 1000 }, (_, i) => buildProof({
    anchor: anchors[i]!,
    chain: [{ index: i, size: 1000, path: batch.inclusionProof(i) }, { index: 417, size: 1000, path: roundPath }],
    block: header,
    calendar: { size, path: calPath },
    checkpoint,
  }));
  return { proofs, set, root: calendar.root(), size };
}

export async function run(): Promise<void> {
  const { proofs, set, root, size } = setup();
  for (const p of proofs.slice(0, 3)) if (!verifyProof(p, { validators: set }).ok) throw new Error('bench proof does not verify');

  const cached = opsPerSecond((i) => void verifyProof(proofs[i % proofs.length]!, { validators: set }));
  // The cache is keyed by the set's content: 1,000 sets of distinct equal weights (quorum unchanged) always miss it.
  const unseen = Array.from({ length: 1000 }, (_, k) => ({ ...set, validators: set.validators.map((v) => ({ ...v, weight: k + 2 })) }));
  const uncached = opsPerSecond((i) => void verifyProof(proofs[i % proofs.length]!, { validators: unseen[i % unseen.length]! }), 1000);
  const publication = opsPerSecond((i) => void verifyProof(proofs[i % proofs.length]!, { publication: { size, root } }));

  // Floors: the primitives one verification is made of.
  const t = MerkleTree.fromLeafHashes(Array.from({ length: 100_000 }, random32));
  const path = t.inclusionProof(77_777);
  const inclusion = opsPerSecond(() => void verifyInclusion(t.leafHash(77_777), 77_777, 100_000, path, t.root()));
  const sk = ed25519.utils.randomSecretKey();
  const pk = ed25519.getPublicKey(sk);
  const msg = utf8('bench.ledgerseal/prod\n100000\nAAAA\n');
  const sig = ed25519.sign(msg, sk);
  const noble = opsPerSecond(() => void ed25519.verify(sig, msg, pk), 1000);
  const kp = generateKeyPairSync('ed25519');
  const nsig = nodeSign(null, msg, kp.privateKey);
  const pub = createPublicKey(kp.publicKey.export({ format: 'pem', type: 'spki' }));
  const nodeEd = opsPerSecond(() => void nodeVerify(null, msg, pub, nsig), 1000);

  printTable(['operation', 'ops/s', 'µs/op'], [
    ['verifyProof, 3-of-4 cosigned checkpoint, set and signature result cached', fmt(cached), fmt(1e6 / cached, 1)],
    ['verifyProof, 3-of-4 cosigned checkpoint, set not cached (set validated and verifier built: 2 x 4 key parses; 3 verifies)', fmt(uncached), fmt(1e6 / uncached, 1)],
    ['verifyProof against a publication (hashes only)', fmt(publication), fmt(1e6 / publication, 1)],
    ['floor: verifyInclusion, 100,000-leaf tree (17 hashes)', fmt(inclusion), fmt(1e6 / inclusion, 1)],
    ['one Ed25519 verify, @noble/curves (the sdk in browsers)', fmt(noble), fmt(1e6 / noble, 1)],
    ['floor: one Ed25519 verify, node:crypto (the sdk on Node)', fmt(nodeEd), fmt(1e6 / nodeEd, 1)],
  ]);
  console.log('\nProof: batch of 1,000, round of 1,000 batches, calendar of 100,000 blocks (chain 10 + 10 hashes, calendar path 17).');
}
