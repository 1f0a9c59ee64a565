/**
 * A UTF-8 text file read in blocks of whole lines, for the CSV and NDJSON
 * readers. Strict UTF-8: a file that is not UTF-8 is an error, not U+FFFD
 * replacements that would hash as different text. A byte order mark at the
 * very start is skipped (only there: U+FEFF inside the data is data).
 *
 * Blocks end at a line feed byte, which never occurs inside a UTF-8 sequence,
 * so each block decodes on its own into one flat string (the parsers scan
 * flat strings several times faster than concatenated ones).
 */
import { isUtf8 } from 'node:buffer';
import { createReadStream } from 'node:fs';

/** Bytes read at a time: small blocks keep few rows alive at once, which the garbage collector rewards. */
export const TEXT_CHUNK_BYTES = 1 << 16;

const LF = 10;

export class TextBlockReader {
  private readonly path: string;
  private readonly chunks: AsyncIterator<Buffer>;
  /** Bytes after the last line feed read so far. */
  private tail: Buffer = Buffer.alloc(0);
  /** File offset of the first byte not yet decoded (for error messages). */
  private offset = 0;
  private atStart = true;
  private ended = false;

  constructor(path: string) {
    this.path = path;
    this.chunks = createReadStream(path, { highWaterMark: TEXT_CHUNK_BYTES })[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  }

  /**
   * The next block: `carry` (the unparsed end of the previous block) followed
   * by newly read whole lines; `final` when the file has ended (the block then
   * also holds a last line without a line feed). At least doubles the text of
   * `carry` unless the file ends first, so a record longer than a block is
   * re-parsed a bounded number of times.
   */
  async read(carry: string): Promise<{ text: string; final: boolean }> {
    // The carry is encoded again and decoded with the new bytes: one flat string, not carry + text.
    const parts: Buffer[] = carry.length > 0 ? [Buffer.from(carry, 'utf8')] : [];
    const carried = parts[0]?.length ?? 0;
    if (this.tail.length > 0) parts.push(this.tail);
    let size = carried + this.tail.length;
    const target = 2 * size;
    while (!this.ended) {
      const next = await this.chunks.next();
      if (next.done) {
        this.ended = true;
        break;
      }
      parts.push(next.value);
      size += next.value.length;
      if (size >= target && next.value.includes(LF)) break;
    }
    let bytes = parts.length === 1 ? parts[0]! : Buffer.concat(parts, size);
    if (this.ended) this.tail = Buffer.alloc(0);
    else {
      const cut = bytes.lastIndexOf(LF);
      this.tail = bytes.subarray(cut + 1);
      bytes = bytes.subarray(0, cut + 1);
    }
    if (this.atStart && bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
      bytes = bytes.subarray(3);
      this.offset = 3;
    }
    this.atStart = false;
    // isUtf8 is a fast whole-buffer check; toString then decodes without replacements.
    if (!isUtf8(bytes)) throw new Error(`${this.path}: not valid UTF-8 (in the ${bytes.length} bytes from offset ${this.offset - carried})`);
    this.offset += bytes.length - carried;
    return { text: bytes.toString('utf8'), final: this.ended };
  }

  /** Stop reading and close the file. */
  async close(): Promise<void> {
    this.ended = true;
    await this.chunks.return?.();
  }
}
