/**
 * The per-row hashing of the CLI, on node:crypto (the hot path of a backfill or an
 * audit of millions of rows). Results are exactly the core's (test/cli/hashing.test.ts):
 *
 *   digest = SHA-256(utf8(canonical row JSON))             ledgerseal-row/v1, docs/rows.md
 *   mask   = HMAC-SHA-256(blindingKey, utf8(recordKey) || 0x00 || ascii(version))   docs/protocol.md 2.2
 *   anchor = SHA-256(mask || digest)                        docs/protocol.md 2.3
 *
 * with recordKey = rowRecordKey(dataset, key texts).
 */
import { createHash, createHmac } from 'node:crypto';
import { rowRecordKey } from '../row.ts';

export function sha256Text(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

export class RowHasher {
  readonly #key: Uint8Array;
  readonly #dataset: string;

  constructor(blindingKey: Uint8Array, dataset: string) {
    if (blindingKey.length < 32) throw new Error('the blinding key must be at least 32 bytes');
    this.#key = blindingKey;
    this.#dataset = dataset;
  }

  recordKey(key: readonly string[]): string {
    return rowRecordKey(this.#dataset, key);
  }

  mask(key: readonly string[], version: number): Buffer {
    return createHmac('sha256', this.#key).update(rowRecordKey(this.#dataset, key), 'utf8').update(`\u0000${version}`, 'latin1').digest();
  }

  anchor(key: readonly string[], version: number, digest: Uint8Array): Buffer {
    return createHash('sha256').update(this.mask(key, version)).update(digest).digest();
  }
}
