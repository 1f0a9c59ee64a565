/**
 * The per-row hashing of the CLI on node:crypto, the hot path of a backfill or an
 * audit of millions of rows. Results are exactly the core's (test/cli/hashing.test.ts):
 *
 *   digest = SHA-256(utf8(canonical row JSON))             ledgerseal-row/v1, docs/rows.md
 *   mask   = HMAC-SHA-256(blindingKey, utf8(recordKey) || 0x00 || ascii(version))   docs/protocol.md 2.2
 *   anchor = SHA-256(mask || digest)                        docs/protocol.md 2.3
 *
 * with recordKey = rowRecordKey(dataset, key texts).
 *
 * Speed: one-shot `crypto.hash` calls only (no Hash or Hmac objects), HMAC
 * written out as RFC 2104 over preallocated buffers holding the padded key
 * blocks, and digests kept as hex strings (what the receipts store) or written
 * straight into the caller's buffer. Per row this is four hash calls and no
 * garbage beyond their results.
 */
import { hash } from 'node:crypto';
import { rowRecordKey } from '../row.ts';

/** SHA-256 of the UTF-8 of a string, as lowercase hex. */
export function sha256Hex(text: string): string {
  return hash('sha256', text, 'hex');
}

const BLOCK = 64;

export class RowHasher {
  readonly #dataset: string;
  /** `["<dataset>",` as RFC 8785 writes it. */
  readonly #prefix: string;
  /** ipad key block, then the message (grown when a message is longer). */
  #inner: Buffer;
  /** opad key block, then the inner hash. */
  readonly #outer = Buffer.alloc(BLOCK + 32);
  /** mask, then digest. */
  readonly #pair = Buffer.alloc(64);

  constructor(blindingKey: Uint8Array, dataset: string) {
    if (blindingKey.length < 32) throw new Error('the blinding key must be at least 32 bytes');
    this.#dataset = dataset;
    this.#prefix = `[${JSON.stringify(dataset)},`;
    // RFC 2104: keys longer than the block are hashed first; shorter ones are zero-padded.
    const k = Buffer.alloc(BLOCK);
    if (blindingKey.length > BLOCK) hash('sha256', blindingKey, 'buffer').copy(k);
    else Buffer.from(blindingKey).copy(k);
    this.#inner = Buffer.alloc(BLOCK + 256);
    for (let i = 0; i < BLOCK; i++) {
      this.#inner[i] = k[i]! ^ 0x36;
      this.#outer[i] = k[i]! ^ 0x5c;
    }
  }

  /** rowRecordKey(dataset, key): RFC 8785 of [dataset, ...key]; JSON.stringify writes a well-formed string exactly as RFC 8785 does. */
  recordKey(key: readonly string[]): string {
    let s = this.#prefix;
    for (let i = 0; i < key.length; i++) s += (i === 0 ? '' : ',') + JSON.stringify(key[i]);
    return `${s}]`;
  }

  /** The mask of (key, version) written into out[offset .. offset+32). */
  maskInto(key: readonly string[], version: number, out: Buffer, offset: number): void {
    const message = `${this.recordKey(key)}\u0000${version}`;
    const need = BLOCK + Buffer.byteLength(message, 'utf8');
    if (need > this.#inner.length) {
      const grown = Buffer.alloc(need * 2);
      this.#inner.copy(grown, 0, 0, BLOCK);
      this.#inner = grown;
    }
    const end = BLOCK + this.#inner.write(message, BLOCK, 'utf8');
    this.#outer.write(hash('sha256', this.#inner.subarray(0, end), 'binary'), BLOCK, 'binary');
    out.write(hash('sha256', this.#outer, 'binary'), offset, 'binary');
  }

  mask(key: readonly string[], version: number): Buffer {
    const out = Buffer.alloc(32);
    this.maskInto(key, version, out, 0);
    return out;
  }

  /** anchor = SHA-256(mask || digest), written into out[offset .. offset+32). */
  anchorInto(key: readonly string[], version: number, digestHex: string, out: Buffer, offset: number): void {
    this.maskInto(key, version, this.#pair, 0);
    this.#pair.write(digestHex, 32, 'hex');
    out.write(hash('sha256', this.#pair, 'binary'), offset, 'binary');
  }

  anchor(key: readonly string[], version: number, digestHex: string): Buffer {
    const out = Buffer.alloc(32);
    this.anchorInto(key, version, digestHex, out, 0);
    return out;
  }

  /** For tests: the same key through the core's rowRecordKey. */
  coreRecordKey(key: readonly string[]): string {
    return rowRecordKey(this.#dataset, key);
  }
}
