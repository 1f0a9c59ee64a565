/**
 * C2SP signed notes (https://c2sp.org/signed-note) with Ed25519 keys, in the key
 * and note encodings of Go's golang.org/x/mod/sumdb/note, so that checkpoints
 * signed here open with existing note tooling and the other way round.
 *
 * - Signer key:   `PRIVATE+KEY+<name>+<hex8 key hash>+<base64(0x01 || 32-byte seed)>`
 * - Verifier key: `<name>+<hex8 key hash>+<base64(0x01 || 32-byte public key)>`
 * - Key hash:     first 4 bytes, big endian, of SHA-256(name || 0x0A || 0x01 || public key)
 * - Note:         text ending in "\n", a blank line, then one or more lines
 *                 `— <name> <base64(4-byte key hash || 64-byte signature)>\n` (U+2014 EM DASH).
 *   The signature covers the text bytes, final newline included.
 *
 * Ed25519 verification is RFC 8032 strict (noble `zip215: false`): non-canonical
 * encodings and small-order public keys never verify. Signatures that do not verify,
 * or come from unknown keys, are ignored (C2SP signed-note, "Signatures").
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { ed25519Verify } from '#ed25519';
import { sha256 } from '#sha256';
import { base64ToBytes, bytesToBase64, concatBytes, utf8 } from './encoding.ts';
import { fail } from './errors.ts';

/** Signature type byte of Ed25519 note keys (C2SP signed-note, "Signature types"). */
export const NOTE_ALG_ED25519 = 0x01;
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

export interface NoteVerification {
  /** The signed text, final newline included. */
  text: string;
  /** Key names with at least one verified signature, each once, in order of appearance. */
  verified: string[];
  /** The verifier key strings (as given) whose signature verified, each once. */
  verifiedKeys: string[];
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

/** The key hash (key ID) of an Ed25519 note key: SHA-256(name || 0x0A || 0x01 || publicKey)[:4]. */
export function noteKeyHash(name: string, publicKey: Uint8Array): number {
  if (!isValidName(name)) fail('MALFORMED_KEY', 'key name must be non-empty with no spaces, "+" or control characters');
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== 32) fail('MALFORMED_KEY', 'Ed25519 public key must be 32 bytes');
  return keyHashOf(name, concatBytes(new Uint8Array([NOTE_ALG_ED25519]), publicKey));
}

/** `<name>+<hex8 key hash>+<base64(0x01 || publicKey)>`. */
export function formatVerifierKey(name: string, publicKey: Uint8Array): string {
  const hash = noteKeyHash(name, publicKey);
  return `${name}+${hex8(hash)}+${bytesToBase64(concatBytes(new Uint8Array([NOTE_ALG_ED25519]), publicKey))}`;
}

/** Split `<name>+<hex8>+<base64>` and check everything but the key material. */
function splitKey(rest: string, what: string): { name: string; keyHash: number; key: Uint8Array } {
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
  if (key[0] !== NOTE_ALG_ED25519) fail('MALFORMED_KEY', `${what} has unknown algorithm ${key[0]}`);
  if (key.length !== 33) fail('MALFORMED_KEY', `${what} Ed25519 key must be 32 bytes`);
  return { name, keyHash: parseInt(hash16, 16), key: key.subarray(1) };
}

/** Parse a verifier key; the key hash must match and the key must be a usable Ed25519 point. */
export function parseVerifierKey(vkey: string): { name: string; keyHash: number; publicKey: Uint8Array } {
  if (typeof vkey !== 'string') fail('MALFORMED_KEY', 'verifier key must be a string');
  if (vkey.startsWith(SIGNER_PREFIX)) fail('MALFORMED_KEY', 'this is a signer (private) key, not a verifier key');
  const { name, keyHash, key } = splitKey(vkey, 'verifier key');
  if (keyHash !== noteKeyHash(name, key)) fail('MALFORMED_KEY', 'verifier key hash does not match name and key');
  let smallOrder: boolean;
  try {
    smallOrder = ed25519.Point.fromBytes(key, false).isSmallOrder();
  } catch (e) {
    fail('MALFORMED_KEY', 'verifier key is not a canonical Ed25519 point', e);
  }
  if (smallOrder) fail('MALFORMED_KEY', 'verifier key is a small-order Ed25519 point');
  return { name, keyHash, publicKey: key };
}

/** Parse a signer key; the key hash must match the public key derived from the seed. */
export function parseSignerKey(skey: string): { name: string; keyHash: number; seed: Uint8Array; publicKey: Uint8Array } {
  if (typeof skey !== 'string' || !skey.startsWith(SIGNER_PREFIX)) {
    fail('MALFORMED_KEY', 'signer key must start with PRIVATE+KEY+');
  }
  const { name, keyHash, key: seed } = splitKey(skey.slice(SIGNER_PREFIX.length), 'signer key');
  const publicKey = ed25519.getPublicKey(seed);
  if (keyHash !== noteKeyHash(name, publicKey)) fail('MALFORMED_KEY', 'signer key hash does not match name and key');
  return { name, keyHash, seed, publicKey };
}

/** A new Ed25519 note key pair; pass a 32-byte seed for a deterministic key. */
export function generateNoteKey(name: string, seed?: Uint8Array): { signerKey: string; verifierKey: string } {
  if (seed !== undefined && (!(seed instanceof Uint8Array) || seed.length !== 32)) {
    fail('MALFORMED_KEY', 'Ed25519 seed must be 32 bytes');
  }
  const s = seed ?? ed25519.utils.randomSecretKey();
  const verifierKey = formatVerifierKey(name, ed25519.getPublicKey(s));
  const hash = verifierKey.split('+')[1]!;
  const signerKey = `${SIGNER_PREFIX}${name}+${hash}+${bytesToBase64(concatBytes(new Uint8Array([NOTE_ALG_ED25519]), s))}`;
  return { signerKey, verifierKey };
}

/** The verifier key of a signer key. */
export function verifierKeyOf(signerKey: string): string {
  const { name, publicKey } = parseSignerKey(signerKey);
  return formatVerifierKey(name, publicKey);
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
  const signatures = lines.map((line, k): NoteSignature => {
    if (!line.startsWith(SIG_PREFIX)) bad(`signature line ${k + 1} does not start with "\u2014 "`);
    const rest = line.slice(SIG_PREFIX.length);
    const sp = rest.indexOf(' ');
    const name = sp < 0 ? rest : rest.slice(0, sp);
    const b64 = sp < 0 ? '' : rest.slice(sp + 1);
    if (!isValidName(name)) bad(`signature line ${k + 1} has an invalid key name`);
    if (b64 === '') bad(`signature line ${k + 1} has no signature`);
    let raw: Uint8Array;
    try {
      raw = base64ToBytes(b64);
    } catch {
      return bad(`signature line ${k + 1} is not canonical base64`);
    }
    if (raw.length < 5) bad(`signature line ${k + 1} is shorter than 5 bytes`);
    const keyHash = ((raw[0]! << 24) | (raw[1]! << 16) | (raw[2]! << 8) | raw[3]!) >>> 0;
    return { name, keyHash, signature: raw.subarray(4) };
  });
  return { text, signatures };
}

/** Sign `text` (ending in "\n") with every signer key; returns the signed note. */
export function signNote(text: string, signerKeys: string[]): string {
  if (typeof text !== 'string' || !text.endsWith('\n')) fail('MALFORMED_NOTE', 'note text must end in a newline');
  if (!_isNoteSafe(text)) fail('MALFORMED_NOTE', 'note text must be valid UTF-8 without control characters other than newline');
  if (!Array.isArray(signerKeys) || signerKeys.length === 0) fail('INVALID_ARGUMENT', 'at least one signer key is required');
  if (signerKeys.length > NOTE_MAX_SIGNATURES) fail('INVALID_ARGUMENT', `at most ${NOTE_MAX_SIGNATURES} signer keys`);
  const msg = utf8(text);
  const seen = new Set<string>();
  let out = text + '\n';
  for (const skey of signerKeys) {
    const { name, keyHash, seed } = parseSignerKey(skey);
    const id = `${name}+${hex8(keyHash)}`;
    if (seen.has(id)) fail('INVALID_ARGUMENT', `signer key ${id} given twice`);
    seen.add(id);
    const head = new Uint8Array([keyHash >>> 24, (keyHash >>> 16) & 255, (keyHash >>> 8) & 255, keyHash & 255]);
    out += `${SIG_PREFIX}${name} ${bytesToBase64(concatBytes(head, ed25519.sign(msg, seed)))}\n`;
  }
  if (utf8Length(out) > NOTE_MAX_BYTES) fail('MALFORMED_NOTE', `signed note would be larger than ${NOTE_MAX_BYTES} bytes`);
  return out;
}

interface KnownKey {
  vkey: string;
  name: string;
  publicKey: Uint8Array;
}

function buildKeyMap(verifierKeys: string[]): Map<string, KnownKey> {
  if (!Array.isArray(verifierKeys)) fail('MALFORMED_KEY', 'verifier keys must be an array of strings');
  const known = new Map<string, KnownKey>();
  for (const vkey of verifierKeys) {
    const { name, keyHash, publicKey } = parseVerifierKey(vkey);
    const id = `${name}+${hex8(keyHash)}`;
    // Go's VerifierList: two keys with one name and key hash are ambiguous, an error.
    if (known.has(id)) fail('MALFORMED_KEY', `ambiguous verifier keys: ${id} listed twice`);
    known.set(id, { vkey, name, publicKey });
  }
  return known;
}

function verifyWith(known: Map<string, KnownKey>, note: string): NoteVerification {
  const { text, signatures } = parseNote(note);
  const msg = utf8(text);
  const done = new Set<string>();
  const verified: string[] = [];
  const verifiedKeys: string[] = [];
  for (const sig of signatures) {
    const id = `${sig.name}+${hex8(sig.keyHash)}`;
    const key = known.get(id);
    // Unknown keys are ignored; a key already verified is counted once.
    if (key === undefined || done.has(id) || sig.signature.length !== 64) continue;
    if (!ed25519Verify(sig.signature, msg, key.publicKey)) continue;
    done.add(id);
    verifiedKeys.push(key.vkey);
    if (!verified.includes(key.name)) verified.push(key.name);
  }
  return { text, verified, verifiedKeys };
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
  const copy = (r: NoteVerification): NoteVerification => ({ text: r.text, verified: [...r.verified], verifiedKeys: [...r.verifiedKeys] });
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
