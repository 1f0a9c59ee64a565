/**
 * C2SP tlog-cosignature/v1, Ed25519 type (https://c2sp.org/tlog-cosignature): a
 * validator's timestamped signature on a calendar checkpoint.
 *
 * - Signer key:   `PRIVATE+KEY+<name>+<hex8 key ID>+<base64(0x04 || 32-byte seed)>`
 * - Verifier key: `<name>+<hex8 key ID>+<base64(0x04 || 32-byte public key)>`
 * - Key ID:       first 4 bytes of SHA-256(name || 0x0A || 0x04 || public key)
 * - Line:         `— <name> <base64(key ID (4) || timestamp (8, big-endian u64) || Ed25519 signature (64))>\n`
 * - Message:      "cosignature/v1\n" || "time <timestamp, decimal, no leading zeros>\n"
 *                 || the checkpoint note body (every line, final newline included;
 *                 no signature lines)
 *
 * The timestamp is POSIX seconds, truncated (like Go's time.Now().Unix()). The
 * statement a cosignature makes: as of that time, the consistent tree head with
 * the largest size the cosigner has observed for this origin has this root.
 *
 * This module signs. Verification is note.ts's: verifyNote and noteVerifier take
 * cosigner keys next to plain note keys and report the verified cosignatures with
 * their timestamps.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { _cosignedMessage, _COSIGNATURE_BODY_LENGTH, _decodeTime, _encodeTime } from './_cosignature-v1.ts';
import { parseCheckpoint } from './checkpoint.ts';
import { concatBytes, utf8 } from './encoding.ts';
import { fail } from './errors.ts';
import { _generateKey, _parseSignatureLine, _signatureLine, parseSignerKey } from './note.ts';

export { COSIGNATURE_ALG_ED25519, COSIGNATURE_HEADER } from './_cosignature-v1.ts';


function checkTime(time: unknown): asserts time is number {
  if (typeof time !== 'number' || !Number.isSafeInteger(time) || time < 0) {
    fail('INVALID_ARGUMENT', 'cosignature time must be an integer number of POSIX seconds from 0 to 2^53 - 1');
  }
}

/** A new cosigner key pair (type 0x04); pass a 32-byte seed for a deterministic key. */
export function generateCosignerKey(name: string, seed?: Uint8Array): { signerKey: string; verifierKey: string } {
  return _generateKey(name, 'cosignature/v1', seed);
}

/**
 * The bytes a cosigner signs for a checkpoint at `time`: "cosignature/v1\ntime <time>\n"
 * followed by the checkpoint text. The text must be a C2SP checkpoint (MALFORMED_CHECKPOINT).
 */
export function cosignatureMessage(checkpointText: string, time: number): Uint8Array {
  parseCheckpoint(checkpointText);
  checkTime(time);
  return _cosignedMessage(utf8(checkpointText), time);
}

/**
 * Cosign a checkpoint text (the note body, not a signed note) at `time` (POSIX
 * seconds) with a cosignature/v1 signer key. Returns the signature line, ending in
 * "\n", to append to the note: `text + "\n" + line1 + line2 + ...`.
 */
export function cosignCheckpoint(checkpointText: string, signerKey: string, time: number): string {
  parseCheckpoint(checkpointText);
  const { name, keyHash, seed, type } = parseSignerKey(signerKey);
  if (type !== 'cosignature/v1') {
    fail('INVALID_ARGUMENT', `signer key ${name} is a plain Ed25519 note key (type 0x01); cosigning needs a cosignature/v1 (type 0x04) key, plain keys sign through signNote`);
  }
  checkTime(time);
  const signature = ed25519.sign(_cosignedMessage(utf8(checkpointText), time), seed);
  return _signatureLine(name, keyHash, concatBytes(_encodeTime(time), signature));
}

/**
 * The timestamp of a cosignature/v1 signature line (with or without its final
 * newline), for a coordinator collecting lines. Only the layout is checked, not
 * the signature: verify the note with the cosigner's key (verifyNote) to trust it.
 * Throws MALFORMED_NOTE for a line that does not parse or whose bytes after the key
 * ID are not 8 + 64, or whose timestamp is above 2^53 - 1.
 */
export function cosignatureTime(line: string): number {
  if (typeof line !== 'string') fail('MALFORMED_NOTE', 'malformed note: cosignature line must be a string');
  const bare = line.endsWith('\n') ? line.slice(0, -1) : line;
  if (bare.includes('\n')) fail('MALFORMED_NOTE', 'malformed note: cosignature line contains a newline before its end');
  const { signature } = _parseSignatureLine(bare, 'cosignature line');
  if (signature.length !== _COSIGNATURE_BODY_LENGTH) {
    fail('MALFORMED_NOTE', `malformed note: cosignature line has ${4 + signature.length} bytes, a cosignature/v1 line has 4 + 8 + 64`);
  }
  const time = _decodeTime(signature);
  if (time === null) fail('MALFORMED_NOTE', 'malformed note: cosignature line has a timestamp above 2^53 - 1');
  return time;
}
