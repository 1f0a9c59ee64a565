/**
 * The two Ed25519 verifiers behind "#ed25519" (node:crypto on Node, @noble/curves
 * in browsers) must accept exactly the same signatures, or a proof could verify
 * in one place and not in another. Valid signatures, every kind of single-bit
 * damage, and adversarial encodings: non-canonical S (S + L), non-canonical and
 * small-order R, small-order and mixed-order public keys.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as browser from '../../sdk/src/_ed25519-browser.ts';
import * as node from '../../sdk/src/_ed25519-node.ts';

const L = 2n ** 252n + 27742317777372353535851937790883648493n;
const P = 2n ** 255n - 19n;

function leToBigint(b: Uint8Array): bigint {
  let x = 0n;
  for (let i = b.length - 1; i >= 0; i--) x = (x << 8n) | BigInt(b[i]!);
  return x;
}
function bigintToLe(x: bigint, n = 32): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    out[i] = Number(x & 255n);
    x >>= 8n;
  }
  return out;
}
/** Encoding of the point with the given y (sign bit 0): small-order points have small, known y. */
function encodeY(y: bigint, sign = 0): Uint8Array {
  const b = bigintToLe(y);
  b[31]! |= sign << 7;
  return b;
}

function both(sig: Uint8Array, msg: Uint8Array, pub: Uint8Array): boolean {
  const a = node.ed25519Verify(sig, msg, pub);
  const b = browser.ed25519Verify(sig, msg, pub);
  expect(a, 'node:crypto and @noble/curves disagree').toBe(b);
  return a;
}

const key = ed25519.utils.randomSecretKey();
const pub = ed25519.getPublicKey(key);
const msg = new TextEncoder().encode('ledgerseal.test/prod\n42\nq3mJ8RrD6kWf2M0cZsRh9b4b1mT7p7yq7m1bV3xQhO0=\n');
const sig = ed25519.sign(msg, key);

// Small-order points of edwards25519, by y: identity (1), order 2 (p-1), order 4 (0).
const SMALL_ORDER_Y = [1n, P - 1n, 0n];

describe('#ed25519: node:crypto and @noble/curves agree', () => {
  it('reports its backend', () => {
    expect(node.ED25519_BACKEND).toBe('node:crypto');
    expect(browser.ED25519_BACKEND).toBe('@noble/curves');
  });

  it('accepts valid signatures (random keys and messages)', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ maxLength: 300 }), (seed, m) => {
      const pk = ed25519.getPublicKey(seed);
      expect(both(ed25519.sign(m, seed), m, pk)).toBe(true);
    }), { numRuns: 200 });
  });

  it('rejects every single-bit change of signature, message or key', () => {
    for (let bit = 0; bit < 512; bit++) {
      const s = sig.slice();
      s[bit >> 3]! ^= 1 << (bit & 7);
      expect(both(s, msg, pub)).toBe(false);
    }
    for (let bit = 0; bit < 256; bit++) {
      const k = pub.slice();
      k[bit >> 3]! ^= 1 << (bit & 7);
      expect(both(sig, msg, k)).toBe(false);
    }
    fc.assert(fc.property(fc.nat(msg.length * 8 - 1), (bit) => {
      const m = msg.slice();
      m[bit >> 3]! ^= 1 << (bit & 7);
      expect(both(sig, m, pub)).toBe(false);
    }));
  });

  it('rejects a non-canonical S (S + L) and wrong lengths', () => {
    const s = leToBigint(sig.subarray(32));
    const big = sig.slice();
    big.set(bigintToLe(s + L), 32);
    expect(both(big, msg, pub)).toBe(false);
    expect(both(sig.subarray(0, 63), msg, pub)).toBe(false);
    expect(both(sig, msg, pub.subarray(0, 31))).toBe(false);
  });

  it('agrees on small-order and non-canonical R and on small-order and mixed-order keys', () => {
    const zeroS = new Uint8Array(32);
    for (const y of SMALL_ORDER_Y) {
      for (const sign of [0, 1]) {
        const point = encodeY(y, sign);
        // R small order with a valid key, S = 0 and the real S.
        both(Uint8Array.from([...point, ...zeroS]), msg, pub);
        both(Uint8Array.from([...point, ...sig.subarray(32)]), msg, pub);
        // Small-order public key with R = identity and S = 0: the cofactorless equation holds.
        both(Uint8Array.from([...encodeY(1n), ...zeroS]), msg, point);
        both(Uint8Array.from([...point, ...zeroS]), msg, point);
      }
    }
    // Non-canonical encodings of y (y + p fits in 255 bits only for y < 19).
    for (let y = 0n; y < 19n; y++) {
      const nc = encodeY(y + P);
      both(Uint8Array.from([...nc, ...zeroS]), msg, pub);
      both(Uint8Array.from([...encodeY(1n), ...zeroS]), msg, nc);
    }
    // Mixed-order key: A + T2 where T2 = (0, -1) has order 2, i.e. (-x, -y).
    const A = ed25519.Point.fromBytes(pub);
    const T2 = ed25519.Point.fromBytes(encodeY(P - 1n));
    const mixed = A.add(T2).toBytes();
    expect(both(sig, msg, mixed)).toBe(false);
    const mixedSig = ed25519.sign(msg, key); // a signature made for A does not carry over
    expect(both(mixedSig, msg, mixed)).toBe(false);
  });
});
