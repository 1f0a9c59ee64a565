/**
 * C2SP tlog-checkpoint (https://c2sp.org/tlog-checkpoint): the note text that
 * commits to an RFC 9162 tree head.
 *
 *     <origin>\n
 *     <tree size, ASCII decimal, no leading zeros>\n
 *     <root hash, standard base64 of 32 bytes>\n
 *     [<extension line>\n ...]
 *
 * The parser is strict so that one tree head has exactly one text (and so one
 * signed byte string): canonical decimal, canonical padded base64, no empty lines.
 * Tree sizes are limited to 2^53 - 1, the largest exact JavaScript integer.
 */
import { base64ToBytes, bytesToBase64 } from './encoding.ts';
import { fail } from './errors.ts';
import { _isNoteSafe, type NoteCosignature, type NoteVerifier, noteVerifier } from './note.ts';

export interface Checkpoint {
  /** The log identity, e.g. `ledgerseal.example.gov/prod`. */
  origin: string;
  /** Number of leaves (blocks) in the calendar tree. */
  size: number;
  /** RFC 9162 root of the calendar tree at `size`: 32 bytes. */
  root: Uint8Array;
  /** Optional opaque extension lines, without their newlines. */
  extensions: string[];
}

const DECIMAL = /^(0|[1-9][0-9]*)$/;
/** The checkpoint text is a note text; the note size limit bounds it. */
const MAX_CHECKPOINT_LENGTH = 1 << 20;

function bad(reason: string): never {
  fail('MALFORMED_CHECKPOINT', `malformed checkpoint: ${reason}`);
}

/** A line of checkpoint text: non-empty, well-formed, no control characters or newline. */
function checkLine(line: unknown, what: string): asserts line is string {
  if (typeof line !== 'string') bad(`${what} must be a string`);
  if (line === '') bad(`${what} is empty`);
  if (line.includes('\n') || !_isNoteSafe(line)) bad(`${what} contains a newline, control character or lone surrogate`);
}

/** Format a checkpoint's note text (every line ends in "\n"). */
export function formatCheckpoint(cp: { origin: string; size: number; root: Uint8Array; extensions?: string[] }): string {
  if (typeof cp !== 'object' || cp === null) bad('checkpoint must be an object');
  checkLine(cp.origin, 'origin');
  if (!Number.isSafeInteger(cp.size) || cp.size < 0) bad('size must be an integer from 0 to 2^53 - 1');
  if (!(cp.root instanceof Uint8Array) || cp.root.length !== 32) bad('root must be 32 bytes');
  const extensions = cp.extensions ?? [];
  if (!Array.isArray(extensions)) bad('extensions must be an array of lines');
  extensions.forEach((line, i) => checkLine(line, `extension line ${i + 1}`));
  let text = `${cp.origin}\n${cp.size}\n${bytesToBase64(cp.root)}\n`;
  for (const line of extensions) text += `${line}\n`;
  return text;
}

/** Parse a checkpoint's note text (not the signed note: see openCheckpoint). */
export function parseCheckpoint(text: string): Checkpoint {
  if (typeof text !== 'string') bad('text must be a string');
  if (text.length > MAX_CHECKPOINT_LENGTH) bad(`longer than ${MAX_CHECKPOINT_LENGTH} characters`);
  if (!text.endsWith('\n')) bad('text does not end in a newline');
  const lines = text.slice(0, -1).split('\n');
  if (lines.length < 3) bad(`expected at least 3 lines (origin, size, root), got ${lines.length}`);
  const [origin, sizeLine, rootLine, ...extensions] = lines as [string, string, string, ...string[]];
  checkLine(origin, 'origin');
  if (!DECIMAL.test(sizeLine)) bad('size is not a canonical decimal (digits only, no leading zeros)');
  const size = Number(sizeLine);
  if (!Number.isSafeInteger(size)) bad('size is larger than 2^53 - 1');
  let root: Uint8Array;
  try {
    root = base64ToBytes(rootLine, 32);
  } catch {
    bad('root is not 32 bytes of canonical base64');
  }
  extensions.forEach((line, i) => checkLine(line, `extension line ${i + 1}`));
  return { origin, size, root, extensions };
}

/**
 * Verify a signed checkpoint note and parse its text. `verifier` is a list of
 * verifier keys (plain note keys and cosigner keys alike) or a (caching)
 * NoteVerifier. Returns the names and keys whose signatures verified and the
 * verified cosignatures with their timestamps; the caller decides whether they
 * are enough (see verifyCheckpointQuorum).
 */
export function openCheckpoint(
  note: string,
  verifier: string[] | NoteVerifier,
): { checkpoint: Checkpoint; verified: string[]; verifiedKeys: string[]; cosignatures: NoteCosignature[] } {
  const v = Array.isArray(verifier) ? noteVerifier(verifier, { cacheSize: 0 }) : verifier;
  const { text, verified, verifiedKeys, cosignatures } = v.verify(note);
  return { checkpoint: parseCheckpoint(text), verified, verifiedKeys, cosignatures };
}
