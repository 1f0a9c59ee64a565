/**
 * Merkle tree build + 1,000 inclusion proofs: Ledgerseal's RFC 9162 MerkleTree against
 * merkletreejs, @openzeppelin/merkle-tree and the hash-call floor (the same number of
 * one-shot `crypto.hash('sha256', buf)` calls a tree of n leaves needs: 2n - 1).
 *
 * Every case runs in its own child process (same node flags), so memory figures and
 * timings do not leak between libraries, and a peer that is too slow or runs out of
 * memory is stopped after 60 s and retried at a smaller size.
 */
import { spawnSync } from 'node:child_process';
import { hash, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { MerkleTree as Ours, verifyInclusion } from '../sdk/src/merkle.ts';
import { fmt, printTable } from './_table.ts';

const N = 1_000_000;
const PROOFS = 1_000;
const PEER_TIMEOUT_MS = 60_000;
const PEER_SIZES = [1_000_000, 250_000, 100_000, 25_000];
const CASE_ENV = 'LEDGERSEAL_MERKLE_BENCH_CASE';

interface Result {
  name: string;
  leaves: number;
  buildMs: number;
  proofsMs: number;
  floorMs: number;
  retainedMB: number;
  peakRssMB: number;
  verifyPerSec?: number;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const gc = (): void => (globalThis as { gc?: () => void }).gc?.();
/** GC, let V8 free the backing stores of dead ArrayBuffers (done off the main thread), GC again. */
async function settle(): Promise<void> {
  gc();
  await sleep(50);
  gc();
}
const usedMB = (): number => {
  const m = process.memoryUsage();
  return (m.heapUsed + m.external) / 1e6;
};

/** The hash-call floor: 2n - 1 one-shot SHA-256 calls on leaf-sized (33 B) and node-sized (65 B) inputs. */
function floor(n: number): number {
  const leaf = new Uint8Array(33);
  const node = new Uint8Array(65);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) hash('sha256', leaf);
  for (let i = 0; i < n - 1; i++) hash('sha256', node);
  return performance.now() - t0;
}

function leafData(n: number): Buffer[] {
  const data = randomBytes(32 * n);
  return Array.from({ length: n }, (_, i) => data.subarray(32 * i, 32 * i + 32));
}

/** Fixed pseudo-random proof indices (xorshift32), the same for every library. */
function proofIndices(n: number): number[] {
  let x = 0x9e3779b9;
  return Array.from({ length: PROOFS }, () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % n;
  });
}

/** Build, prove, measure; `reps` builds interleaved with floor runs, medians reported. */
async function measure(
  name: string, n: number, reps: number, build: (leaves: Buffer[]) => unknown, prove: (tree: unknown, i: number) => unknown,
): Promise<Result> {
  const leaves = leafData(n);
  const indices = proofIndices(n);
  const floors: number[] = [];
  const builds: number[] = [];
  let tree: unknown = null;
  let before = 0;
  for (let r = 0; r < reps; r++) {
    await settle();
    floors.push(floor(n));
    tree = null;
    await settle();
    before = usedMB();
    const t0 = performance.now();
    tree = build(leaves);
    builds.push(performance.now() - t0);
  }
  const proofTimes: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    for (const i of indices) prove(tree, i);
    proofTimes.push(performance.now() - t0);
  }
  await settle();
  const retainedMB = usedMB() - before;
  const result: Result = {
    name, leaves: n, buildMs: median(builds), proofsMs: median(proofTimes), floorMs: median(floors),
    retainedMB, peakRssMB: process.resourceUsage().maxRSS / 1024,
  };
  if (tree instanceof Ours) result.verifyPerSec = verifyRate(tree, indices);
  return result;
}

/** Inclusion proofs verified per second (verifyInclusion, one proof per leaf index, ~1 s). */
function verifyRate(tree: Ours, indices: number[]): number {
  const root = tree.root();
  const cases = indices.map((i) => ({ i, leaf: tree.leafHash(i), proof: tree.inclusionProof(i) }));
  let done = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < 1000) {
    for (const c of cases) if (!verifyInclusion(c.leaf, c.i, tree.size, c.proof, root)) throw new Error('proof failed');
    done += cases.length;
  }
  return done / ((performance.now() - t0) / 1000);
}

const require = createRequire(import.meta.url);

/** The cases a child process can run. */
const CASES: Record<string, (n: number) => Promise<Result>> = {
  ours: (n) =>
    measure('ledgerseal MerkleTree.fromLeafData', n, 3, (l) => Ours.fromLeafData(l), (t, i) => (t as Ours).inclusionProof(i)),
  merkletreejs: (n) => {
    const { MerkleTree } = require('merkletreejs') as typeof import('merkletreejs');
    // Fastest node:crypto SHA-256 we found for it: latin1 digest into a pooled Buffer.
    const sha256 = (d: Buffer): Buffer => Buffer.from(hash('sha256', d, 'binary'), 'latin1');
    return measure('merkletreejs', n, 1, (l) => new MerkleTree(l, sha256, { hashLeaves: true }),
      (t, i) => (t as InstanceType<typeof MerkleTree>).getProof((t as InstanceType<typeof MerkleTree>).getLeaf(i), i));
  },
  'merkletreejs-readme': (n) => {
    const { MerkleTree } = require('merkletreejs') as typeof import('merkletreejs');
    // As merkletreejs documents it: crypto-js SHA256.
    const SHA256 = require('crypto-js/sha256') as (d: unknown) => unknown;
    return measure('merkletreejs (README: crypto-js SHA256)', n, 1, (l) => new MerkleTree(l, SHA256, { hashLeaves: true }),
      (t, i) => (t as InstanceType<typeof MerkleTree>).getProof((t as InstanceType<typeof MerkleTree>).getLeaf(i), i));
  },
  openzeppelin: (n) => {
    const { SimpleMerkleTree } = require('@openzeppelin/merkle-tree') as typeof import('@openzeppelin/merkle-tree');
    return measure('@openzeppelin/merkle-tree', n, 1, (l) => SimpleMerkleTree.of(l, { sortLeaves: false }),
      (t, i) => (t as ReturnType<typeof SimpleMerkleTree.of>).getProof(i));
  },
};

/** Run one case in a child process; `{ failed }` when it timed out or crashed (e.g. out of memory). */
function child(caseName: string, n: number, timeoutMs: number): Result | { failed: string } {
  const r = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url)], {
    env: { ...process.env, [CASE_ENV]: `${caseName}:${n}` },
    encoding: 'utf8',
    timeout: timeoutMs,
    maxBuffer: 1 << 20,
  });
  if (r.error || r.status !== 0) {
    const why = r.signal === 'SIGTERM' ? `did not finish within ${timeoutMs / 1000} s` : `failed (${r.signal ?? `exit ${r.status}`}${/heap out of memory/i.test(r.stderr) ? ', out of memory' : ''})`;
    return { failed: why };
  }
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Result;
}

const CONFIG: Record<string, string> = {
  ours: '`MerkleTree.fromLeafData(leaves)` then `tree.inclusionProof(i)`; RFC 9162 tree (0x00/0x01 prefixes), node:crypto through #sha256',
  merkletreejs: '`new MerkleTree(leaves, sha256, { hashLeaves: true })`, sha256 = `d => Buffer.from(crypto.hash("sha256", d, "binary"), "latin1")` '
    + '(faster for it than a "buffer" digest or createHash); `getProof(leaf, index)` (with the index: O(log n)). No 0x00/0x01 prefixes, so not RFC 9162',
  'merkletreejs-readme': '`new MerkleTree(leaves, SHA256, { hashLeaves: true })` with `SHA256 = require("crypto-js/sha256")`, as its README shows; '
    + '`getProof(leaf, index)`',
  openzeppelin: '`SimpleMerkleTree.of(leaves, { sortLeaves: false })`: default keccak256 sorted-pair node hash, leaves used as given (not hashed); '
    + '`getProof(index)` (it re-verifies each proof). A sorted-pair SHA-256 `nodeHash` was no faster in a trial. Not RFC 9162',
};

export async function run(): Promise<void> {
  const results: Result[] = [];
  const notes: string[] = [];
  const ours = child('ours', N, 10 * PEER_TIMEOUT_MS);
  if ('failed' in ours) throw new Error(`our Merkle bench ${ours.failed}`);
  results.push(ours);
  for (const peer of ['merkletreejs', 'merkletreejs-readme', 'openzeppelin']) {
    for (const n of PEER_SIZES) {
      const r = child(peer, n, PEER_TIMEOUT_MS);
      if (!('failed' in r)) {
        results.push(r);
        break;
      }
      notes.push(`${peer} at ${fmt(n)} leaves ${r.failed}; retried smaller.`);
    }
  }
  const rows = results.flatMap((r) => [
    [`hash-call floor (${fmt(2 * r.leaves - 1)} x crypto.hash)`, fmt(r.leaves), fmt(r.floorMs), '-', fmt(r.floorMs), '1.00x', '-'],
    [r.leaves < N ? `${r.name} (at ${fmt(r.leaves)} leaves: see notes)` : r.name, fmt(r.leaves), fmt(r.buildMs), fmt(r.proofsMs, 1), fmt(r.buildMs + r.proofsMs),
      `${((r.buildMs + r.proofsMs) / r.floorMs).toFixed(2)}x`, `${fmt(r.retainedMB)} / ${fmt(r.peakRssMB)}`],
  ]);
  printTable(['library', 'leaves', 'build ms', `${fmt(PROOFS)} proofs ms`, 'total ms', 'x floor', 'retained heap / peak RSS MB'], rows);
  console.log('\nx floor = total / floor at the same number of leaves, floor measured in the same process.');
  console.log('ours and its floor: median of 3 interleaved runs; peers: one run. Retained = heapUsed + external after GC with the tree alive, minus before the build.');
  for (const key of ['ours', 'merkletreejs', 'merkletreejs-readme', 'openzeppelin']) console.log(`- ${key}: ${CONFIG[key]}`);
  for (const note of notes) console.log(`- ${note}`);
  // Speed-up of ours over each peer, per leaf (a peer that ran at fewer leaves is compared per leaf).
  const perLeaf = (r: Result): number => (r.buildMs + r.proofsMs) / r.leaves;
  console.log('');
  for (const r of results.slice(1)) {
    console.log(`ours vs ${r.name}: ${(perLeaf(r) / perLeaf(ours)).toFixed(1)}x faster on build + ${fmt(PROOFS)} proofs${r.leaves < N ? ` (per leaf; it ran at ${fmt(r.leaves)} leaves)` : ''}`);
  }
  if (ours.verifyPerSec) console.log(`\nverifyInclusion (ours, ${fmt(N)}-leaf tree, ${Math.ceil(Math.log2(N))}-hash paths): ${fmt(ours.verifyPerSec)} proofs/s`);
}

// Child process entry: run one case and print its result as the last line of stdout.
const spec = process.env[CASE_ENV];
if (spec) {
  const [name, size] = spec.split(':');
  const fn = CASES[name!];
  if (!fn) throw new Error(`unknown case ${name}`);
  console.log(JSON.stringify(await fn(Number(size))));
}
