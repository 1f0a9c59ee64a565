/**
 * C2SP signed notes (https://c2sp.org/signed-note) with Ed25519 keys, in the key
 * and note encodings of Go's golang.org/x/mod/sumdb/note, so that checkpoints
 * signed here open with existing note tooling and the other way round.
 *
 * - Signer key:   `PRIVATE+KEY+<name>+<hex8 key hash>+<base64(type || 32-byte seed)>`
 * - Verifier key: `<name>+<hex8 key hash>+<base64(type || 32-byte public key)>`
 * - Key hash:     first 4 bytes, big endian, of SHA-256(name || 0x0A || type || public key)
 * - Note:         text ending in "\n", a blank line, then one or more lines
 *                 `— <name> <base64(4-byte key hash || signature)>\n` (U+2014 EM DASH).
 *
 * Two signature types (C2SP signed-note, "Signature types"):
 * - 0x01 Ed25519: the signature is 64 bytes of Ed25519 over the text bytes, final
 *   newline included.
 * - 0x04 C2SP tlog-cosignature/v1 (https://c2sp.org/tlog-cosignature): the signature
 *   is an 8-byte big-endian timestamp and 64 bytes of Ed25519 over
 *   "cosignature/v1\ntime <timestamp>\n" || text. Verified here, made by
 *   cosignature.ts (cosignCheckpoint): signNote refuses these keys.
 *
 * Ed25519 verification is RFC 8032 strict (noble `zip215: false`): non-canonical
 * encodings and small-order public keys never verify. Signatures that do not verify,
 * or come from unknown keys, are ignored (C2SP signed-note, "Signatures").
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { ed25519Verify } from '#ed25519';
import { sha256 } from '#sha256';
import { _COSIGNATURE_BODY_LENGTH, _cosignedMessage, _decodeTime, COSIGNATURE_ALG_ED25519 } from './_cosignature-v1.ts';
import { base64ToBytes, bytesToBase64, concatBytes, utf8 } from './encoding.ts';
import { fail } from './errors.ts';

/** Signature type byte of Ed25519 note keys (C2SP signed-note, "Signature types"). */
export const NOTE_ALG_ED25519 = 0x01;
/**
 * The kinds of key this module reads: plain Ed25519 note keys (type 0x01) and
 * C2SP tlog-cosignature/v1 Ed25519 cosigner keys (type 0x04).
 */
export type NoteKeyType = 'ed25519' | 'cosignature/v1';
const ALG_OF: Readonly<Record<NoteKeyType, number>> = { ed25519: NOTE_ALG_ED25519, 'cosignature/v1': COSIGNATURE_ALG_ED25519 };
const TYPE_OF: ReadonlyMap<number, NoteKeyType> = new Map([
  [NOTE_ALG_ED25519, 'ed25519'],
  [COSIGNATURE_ALG_ED25519, 'cosignature/v1'],
]);
/** Largest note accepted, in UTF-8 bytes. */
export const NOTE_MAX_BYTES = 1 << 20;
/** Most signature lines accepted in one note (Go's limit; C2SP requires at least 16). */
export const NOTE_MAX_SIGNATURES = 100;

const SIG_PREFIX = '\u2014 '; // em dash, space
const SIGNER_PREFIX = 'PRIVATE+KEY+';
const HEX8 = /^[0-9a-f]{8}$/;
// Go's unicode.IsSpace is exactly the Unicode White_Space property.
const SPACE = /\p{White_Space}/u;

export interface NoteSignature {
  name: string;
  keyHash: number;
  /** The algorithm's signature: the bytes after the 4-byte key hash. */
  signature: Uint8Array;
}

export interface ParsedNote {
  text: string;
  signatures: NoteSignature[];
}

/** A verified C2SP tlog-cosignature/v1 signature. */
export interface NoteCosignature {
  /** The key name. */
  name: string;
  /** The verifier key string (as given) it verified under. */
  key: string;
  /** Its timestamp: POSIX seconds, as the cosigner wrote it (not checked against any clock). */
  time: number;
}

export interface NoteVerification {
  /** The signed text, final newline included. */
  text: string;
  /** Key names with at least one verified signature, each once, in order of appearance. */
  verified: string[];
  /** The verifier key strings (as given) whose signature verified, each once; cosigner keys included. */
  verifiedKeys: string[];
  /**
   * The verified cosignature/v1 signatures: one per cosigner key (the first line of
   * that key that verifies), in order of appearance.
   */
  cosignatures: NoteCosignature[];
}

export interface NoteVerifier {
  /** Same result as verifyNote(note, keys), remembered for repeated notes. */
  verify(note: string): NoteVerification;
  /** The verifier keys this verifier trusts, as given. */
  readonly verifierKeys: readonly string[];
  /** Cache counters, for metrics: a hit costs no signature verification. */
  cacheStats(): { hits: number; misses: number; entries: number };
}

/** Key names: non-empty, no Unicode space, no '+' (C2SP signed-note, "Format"). */
function isValidName(name: unknown): name is string {
  return typeof name === 'string' && name !== '' && !name.includes('+') && !SPACE.test(name) && _isNoteSafe(name);
}

/** Well-formed UTF-16 (so it has a UTF-8 form) with no control character other than "\n". */
export function _isNoteSafe(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 && c !== 0x0a) return false;
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (!(d >= 0xdc00 && d <= 0xdfff)) return false;
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) return false;
  }
  return true;
}

function keyHashOf(name: string, algAndKey: Uint8Array): number {
  const h = sha256(concatBytes(utf8(name), new Uint8Array([0x0a]), algAndKey));
  return ((h[0]! << 24) | (h[1]! << 16) | (h[2]! << 8) | h[3]!) >>> 0;
}

const hex8 = (n: number): string => n.toString(16).padStart(8, '0');

function algOf(type: NoteKeyType): number {
  const alg = Object.hasOwn(ALG_OF, type) ? ALG_OF[type] : undefined;
  if (alg === undefined) fail('INVALID_ARGUMENT', 'key type must be "ed25519" or "cosignature/v1"');
  return alg;
}

/**
 * The key hash (key ID) of an Ed25519 key: SHA-256(name || 0x0A || type byte || publicKey)[:4],
 * type byte 0x01 for a note key (the default), 0x04 for a cosignature/v1 cosigner key.
 */
export function noteKeyHash(name: string, publicKey: Uint8Array, type: NoteKeyType = 'ed25519'): number {
  const alg = algOf(type);
  if (!isValidName(name)) fail('MALFORMED_KEY', 'key name must be non-empty with no spaces, "+" or control characters');
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== 32) fail('MALFORMED_KEY', 'Ed25519 public key must be 32 bytes');
  return keyHashOf(name, concatBytes(new Uint8Array([alg]), publicKey));
}

/** `<name>+<hex8 key hash>+<base64(type byte || publicKey)>`; type 0x01 unless `type` says otherwise. */
export function formatVerifierKey(name: string, publicKey: Uint8Array, type: NoteKeyType = 'ed25519'): string {
  const hash = noteKeyHash(name, publicKey, type);
  return `${name}+${hex8(hash)}+${bytesToBase64(concatBytes(new Uint8Array([ALG_OF[type]]), publicKey))}`;
}

/** Split `<name>+<hex8>+<base64>` and check everything but the key material. */
function splitKey(rest: string, what: string): { name: string; keyHash: number; key: Uint8Array; type: NoteKeyType } {
  const i = rest.indexOf('+');
  const j = i < 0 ? -1 : rest.indexOf('+', i + 1);
  if (j < 0) fail('MALFORMED_KEY', `${what} must be <name>+<hex8 key hash>+<base64 key>`);
  const name = rest.slice(0, i);
  const hash16 = rest.slice(i + 1, j);
  if (!isValidName(name)) fail('MALFORMED_KEY', `${what} has an invalid key name`);
  if (!HEX8.test(hash16)) fail('MALFORMED_KEY', `${what} key hash must be 8 lowercase hex digits`);
  let key: Uint8Array;
  try {
    key = base64ToBytes(rest.slice(j + 1));
  } catch (e) {
    fail('MALFORMED_KEY', `${what} key is not canonical base64`, e);
  }
  if (key.length === 0) fail('MALFORMED_KEY', `${what} key is empty`);
  const type = TYPE_OF.get(key[0]!);
  if (type === undefined) fail('MALFORMED_KEY', `${what} has unknown algorithm ${key[0]}`);
  if (key.length !== 33) fail('MALFORMED_KEY', `${what} Ed25519 key must be 32 bytes`);
  return { name, keyHash: parseInt(hash16, 16), key: key.subarray(1), type };
}

/**
 * Parse a verifier key of type 0x01 (Ed25519 note key) or 0x04 (cosignature/v1 cosigner
 * key); the key hash must match (computed with the key's own type byte) and the key
 * must be a usable Ed25519 point.
 */
export function parseVerifierKey(vkey: string): { name: string; keyHash: number; publicKey: Uint8Array; type: NoteKeyType } {
  if (typeof vkey !== 'string') fail('MALFORMED_KEY', 'verifier key must be a string');
  if (vkey.startsWith(SIGNER_PREFIX)) fail('MALFORMED_KEY', 'this is a signer (private) key, not a verifier key');
  const { name, keyHash, key, type } = splitKey(vkey, 'verifier key');
  if (keyHash !== noteKeyHash(name, key, type)) fail('MALFORMED_KEY', 'verifier key hash does not match name and key');
  let smallOrder: boolean;
  try {
    smallOrder = ed25519.Point.fromBytes(key, false).isSmallOrder();
  } catch (e) {
    fail('MALFORMED_KEY', 'verifier key is not a canonical Ed25519 point', e);
  }
  if (smallOrder) fail('MALFORMED_KEY', 'verifier key is a small-order Ed25519 point');
  return { name, keyHash, publicKey: key, type };
}

/**
 * Parse a signer key of type 0x01 or 0x04; the key hash must match the public key
 * derived from the seed (computed with the key's own type byte).
 */
export function parseSignerKey(skey: string): { name: string; keyHash: number; seed: Uint8Array; publicKey: Uint8Array; type: NoteKeyType } {
  if (typeof skey !== 'string' || !skey.startsWith(SIGNER_PREFIX)) {
    fail('MALFORMED_KEY', 'signer key must start with PRIVATE+KEY+');
  }
  const { name, keyHash, key: seed, type } = splitKey(skey.slice(SIGNER_PREFIX.length), 'signer key');
  const publicKey = ed25519.getPublicKey(seed);
  if (keyHash !== noteKeyHash(name, publicKey, type)) fail('MALFORMED_KEY', 'signer key hash does not match name and key');
  return { name, keyHash, seed, publicKey, type };
}

/** A new Ed25519 key pair of the given type; shared by generateNoteKey and generateCosignerKey. */
export function _generateKey(name: string, type: NoteKeyType, seed?: Uint8Array): { signerKey: string; verifierKey: string } {
  if (seed !== undefined && (!(seed instanceof Uint8Array) || seed.length !== 32)) {
    fail('MALFORMED_KEY', 'Ed25519 seed must be 32 bytes');
  }
  const s = seed ?? ed25519.utils.randomSecretKey();
  const verifierKey = formatVerifierKey(name, ed25519.getPublicKey(s), type);
  const hash = verifierKey.split('+')[1]!;
  const signerKey = `${SIGNER_PREFIX}${name}+${hash}+${bytesToBase64(concatBytes(new Uint8Array([ALG_OF[type]]), s))}`;
  return { signerKey, verifierKey };
}

/** A new Ed25519 note key pair (type 0x01); pass a 32-byte seed for a deterministic key. */
export function generateNoteKey(name: string, seed?: Uint8Array): { signerKey: string; verifierKey: string } {
  return _generateKey(name, 'ed25519', seed);
}

/** The verifier key of a signer key (of either type). */
export function verifierKeyOf(signerKey: string): string {
  const { name, publicKey, type } = parseSignerKey(signerKey);
  return formatVerifierKey(name, publicKey, type);
}

function utf8Length(s: string): number {
  // Cheap bound first: UTF-8 never has fewer bytes than the string has UTF-16 units.
  if (s.length > NOTE_MAX_BYTES) return s.length;
  return utf8(s).length;
}

/** Parse a signed note's syntax without checking any signature. */
export function parseNote(note: string): ParsedNote {
  const bad = (reason: string): never => fail('MALFORMED_NOTE', `malformed note: ${reason}`);
  if (typeof note !== 'string') bad('note must be a string');
  if (utf8Length(note) > NOTE_MAX_BYTES) bad(`larger than ${NOTE_MAX_BYTES} bytes`);
  if (!_isNoteSafe(note)) bad('not valid UTF-8 or contains a control character other than newline');
  // The text ends at the LAST blank line; the text itself may contain blank lines.
  const split = note.lastIndexOf('\n\n');
  if (split < 0) bad('no blank line between text and signatures');
  const text = note.slice(0, split + 1);
  const block = note.slice(split + 2);
  if (block === '') bad('no signature lines');
  if (!block.endsWith('\n')) bad('last signature line does not end in newline');
  const lines = block.slice(0, -1).split('\n');
  if (lines.length > NOTE_MAX_SIGNATURES) bad(`more than ${NOTE_MAX_SIGNATURES} signatures`);
  const signatures = lines.map((line, k) => _parseSignatureLine(line, `signature line ${k + 1}`));
  return { text, signatures };
}

/**
 * One signature line, without its newline: `— <name> <base64(key hash || signature)>`.
 * `where` names the line in the MALFORMED_NOTE message.
 */
export function _parseSignatureLine(line: string, where: string): NoteSignature {
  const bad = (reason: string): never => fail('MALFORMED_NOTE', `malformed note: ${where} ${reason}`);
  if (!line.startsWith(SIG_PREFIX)) bad('does not start with "\u2014 "');
  const rest = line.slice(SIG_PREFIX.length);
  const sp = rest.indexOf(' ');
  const name = sp < 0 ? rest : rest.slice(0, sp);
  const b64 = sp < 0 ? '' : rest.slice(sp + 1);
  if (!isValidName(name)) bad('has an invalid key name');
  if (b64 === '') bad('has no signature');
  let raw: Uint8Array;
  try {
    raw = base64ToBytes(b64);
  } catch {
    return bad('is not canonical base64');
  }
  if (raw.length < 5) bad('is shorter than 5 bytes');
  const keyHash = ((raw[0]! << 24) | (raw[1]! << 16) | (raw[2]! << 8) | raw[3]!) >>> 0;
  return { name, keyHash, signature: raw.subarray(4) };
}

/** One signature line, `— <name> <base64(4-byte key hash ‖ signature bytes)>\n` (internal: signNote, cosignCheckpoint). */
export function _signatureLine(name: string, keyHash: number, signature: Uint8Array): string {
  const head = new Uint8Array([keyHash >>> 24, (keyHash >>> 16) & 255, (keyHash >>> 8) & 255, keyHash & 255]);
  return `${SIG_PREFIX}${name} ${bytesToBase64(concatBytes(head, signature))}\n`;
}

/**
 * Sign `text` (ending in "\n") with every signer key; returns the signed note. Plain
 * Ed25519 note keys (type 0x01) only: a cosignature/v1 signer key signs a different
 * message, with a timestamp, through cosignCheckpoint.
 */
export function signNote(text: string, signerKeys: string[]): string {
  if (typeof text !== 'string' || !text.endsWith('\n')) fail('MALFORMED_NOTE', 'note text must end in a newline');
  if (!_isNoteSafe(text)) fail('MALFORMED_NOTE', 'note text must be valid UTF-8 without control characters other than newline');
  if (!Array.isArray(signerKeys) || signerKeys.length === 0) fail('INVALID_ARGUMENT', 'at least one signer key is required');
  if (signerKeys.length > NOTE_MAX_SIGNATURES) fail('INVALID_ARGUMENT', `at most ${NOTE_MAX_SIGNATURES} signer keys`);
  const msg = utf8(text);
  const seen = new Set<string>();
  let out = text + '\n';
  for (const skey of signerKeys) {
    const { name, keyHash, seed, type } = parseSignerKey(skey);
    if (type !== 'ed25519') {
      fail('INVALID_ARGUMENT', `signer key ${name} is a cosignature/v1 (type 0x04) key: sign checkpoints with it through cosignCheckpoint`);
    }
    const id = `${name}+${hex8(keyHash)}`;
    if (seen.has(id)) fail('INVALID_ARGUMENT', `signer key ${id} given twice`);
    seen.add(id);
    out += _signatureLine(name, keyHash, ed25519.sign(msg, seed));
  }
  if (utf8Length(out) > NOTE_MAX_BYTES) fail('MALFORMED_NOTE', `signed note would be larger than ${NOTE_MAX_BYTES} bytes`);
  return out;
}

interface KnownKey {
  vkey: string;
  name: string;
  publicKey: Uint8Array;
  type: NoteKeyType;
}

function buildKeyMap(verifierKeys: string[]): Map<string, KnownKey> {
  if (!Array.isArray(verifierKeys)) fail('MALFORMED_KEY', 'verifier keys must be an array of strings');
  const known = new Map<string, KnownKey>();
  for (const vkey of verifierKeys) {
    const { name, keyHash, publicKey, type } = parseVerifierKey(vkey);
    const id = `${name}+${hex8(keyHash)}`;
    // Go's VerifierList: two keys with one name and key hash are ambiguous, an error.
    if (known.has(id)) fail('MALFORMED_KEY', `ambiguous verifier keys: ${id} listed twice`);
    known.set(id, { vkey, name, publicKey, type });
  }
  return known;
}

/**
 * The timestamp of a cosignature/v1 signature by `key` if it verifies over `body`, else
 * null. A line whose bytes after the key ID are not exactly 8 + 64, or whose timestamp
 * is above 2^53 - 1 (the largest exact JavaScript integer; the spec allows up to
 * 2^63 - 1, some 285 million years later than 2^53 - 1 seconds), is ignored like any
 * other bad line: a deliberate bound, so that every time reported is exact.
 */
function verifyCosignature(sig: Uint8Array, body: Uint8Array, publicKey: Uint8Array): number | null {
  if (sig.length !== _COSIGNATURE_BODY_LENGTH) return null;
  const time = _decodeTime(sig);
  if (time === null) return null;
  return ed25519Verify(sig.subarray(8), _cosignedMessage(body, time), publicKey) ? time : null;
}

function verifyWith(known: Map<string, KnownKey>, note: string): NoteVerification {
  const { text, signatures } = parseNote(note);
  const msg = utf8(text);
  const done = new Set<string>();
  const verified: string[] = [];
  const verifiedKeys: string[] = [];
  const cosignatures: NoteCosignature[] = [];
  for (const sig of signatures) {
    const id = `${sig.name}+${hex8(sig.keyHash)}`;
    const key = known.get(id);
    // Unknown keys are ignored; a key already verified is counted once.
    if (key === undefined || done.has(id)) continue;
    if (key.type === 'cosignature/v1') {
      const time = verifyCosignature(sig.signature, msg, key.publicKey);
      if (time === null) continue;
      cosignatures.push({ name: key.name, key: key.vkey, time });
    } else if (sig.signature.length !== 64 || !ed25519Verify(sig.signature, msg, key.publicKey)) {
      continue;
    }
    done.add(id);
    verifiedKeys.push(key.vkey);
    if (!verified.includes(key.name)) verified.push(key.name);
  }
  return { text, verified, verifiedKeys, cosignatures };
}

/**
 * Open a note with trusted verifier keys. Throws only for a malformed note or key list;
 * the caller decides what an empty `verified` means (C2SP: reject the note).
 */
export function verifyNote(note: string, verifierKeys: string[]): NoteVerification {
  return verifyWith(buildKeyMap(verifierKeys), note);
}

/** Notes longer than this are verified but not cached, so the cache stays small. */
const CACHEABLE_NOTE_LENGTH = 64 * 1024;

/**
 * A verifier for a fixed key list that remembers the results of the last `cacheSize`
 * distinct notes (LRU), so a checkpoint shared by many proofs costs one Ed25519 pass.
 */
export function noteVerifier(verifierKeys: string[], options: { cacheSize?: number } = {}): NoteVerifier {
  const cacheSize = options.cacheSize ?? 1024;
  if (!Number.isSafeInteger(cacheSize) || cacheSize < 0) fail('INVALID_ARGUMENT', 'cacheSize must be a non-negative integer');
  const known = buildKeyMap(verifierKeys);
  const cache = new Map<string, NoteVerification>();
  let hits = 0;
  let misses = 0;
  const copy = (r: NoteVerification): NoteVerification => ({
    text: r.text,
    verified: [...r.verified],
    verifiedKeys: [...r.verifiedKeys],
    cosignatures: r.cosignatures.map((c) => ({ ...c })),
  });
  return {
    verifierKeys: Object.freeze([...verifierKeys]),
    cacheStats: () => ({ hits, misses, entries: cache.size }),
    verify(note: string): NoteVerification {
      const hit = cache.get(note);
      if (hit !== undefined) {
        hits++;
        cache.delete(note); // re-insert: Map order is the recency order
        cache.set(note, hit);
        return copy(hit);
      }
      misses++;
      const result = verifyWith(known, note);
      if (cacheSize > 0 && note.length <= CACHEABLE_NOTE_LENGTH) {
        if (cache.size >= cacheSize) cache.delete(cache.keys().next().value!);
        cache.set(note, result);
      }
      return copy(result);
    },
  };
}
