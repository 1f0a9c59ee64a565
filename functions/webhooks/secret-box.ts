/**
 * Webhook signing secrets at rest (issue 8): a read of the table alone must not
 * reveal them, since whoever holds a secret can forge the agency's notifications.
 * The service must sign with the secret, so it cannot keep only a hash (as it
 * does for API keys); it keeps it encrypted with a key from configuration that is
 * not in the table:
 *
 *   sealed = "v1." + keyId + "." + base64url(nonce, 12 bytes) + "." + base64url(AES-256-GCM(key, nonce, secret) ‖ tag)
 *
 * with the additional data "ledgerseal-webhook-secret/v1\0<agencyId>\0<endpointId>", so
 * a sealed secret copied onto another endpoint's item does not open there. A fresh
 * random nonce per seal (96 bits: 2^32 seals per key before the birthday bound
 * matters, far beyond any endpoint count). `keyId` names the key so that keys can be
 * rotated: items sealed under an older key are opened with it while new ones use
 * the current key.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

export interface SecretKey {
  /** Short name of the key, stored with each sealed secret (rotation). */
  id: string;
  /** 32 bytes. */
  key: Uint8Array;
}

const VERSION = 'v1';
const AAD_PREFIX = 'ledgerseal-webhook-secret/v1';

function aad(agencyId: string, endpointId: string): Buffer {
  return Buffer.from(`${AAD_PREFIX}\u0000${agencyId}\u0000${endpointId}`, 'utf8');
}

function checkKey(k: SecretKey): void {
  if (k.key.length !== 32) throw new Error(`webhook secret key ${k.id} must be 32 bytes, got ${k.key.length}`);
  if (!/^[A-Za-z0-9_-]{1,32}$/.test(k.id)) throw new Error('a webhook secret key id is 1-32 letters, digits, _ or -');
}

/** Encrypt a secret for one endpoint: `v1.<keyId>.<nonce>.<ciphertext+tag>` (base64url parts). */
export function sealSecret(secret: string, key: SecretKey, agencyId: string, endpointId: string): string {
  checkKey(key);
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key.key, nonce);
  cipher.setAAD(aad(agencyId, endpointId));
  const body = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final(), cipher.getAuthTag()]);
  return `${VERSION}.${key.id}.${nonce.toString('base64url')}.${body.toString('base64url')}`;
}

/**
 * Decrypt a sealed secret with the key it names (from `keys`). Throws, naming no
 * secret material, when the format, the key or the authentication tag is wrong
 * (a tampered value, or one moved from another endpoint).
 */
export function openSecret(sealed: string, keys: readonly SecretKey[], agencyId: string, endpointId: string): string {
  const parts = sealed.split('.');
  if (parts.length !== 4 || parts[0] !== VERSION) throw new Error('not a sealed webhook secret (v1)');
  const key = keys.find((k) => k.id === parts[1]);
  if (!key) throw new Error(`the webhook secret was sealed with key "${parts[1]}", which is not configured`);
  checkKey(key);
  const nonce = Buffer.from(parts[2]!, 'base64url');
  const body = Buffer.from(parts[3]!, 'base64url');
  if (nonce.length !== 12 || body.length < 17) throw new Error('a sealed webhook secret is truncated');
  const decipher = createDecipheriv('aes-256-gcm', key.key, nonce);
  decipher.setAAD(aad(agencyId, endpointId));
  decipher.setAuthTag(body.subarray(body.length - 16));
  try {
    return Buffer.concat([decipher.update(body.subarray(0, body.length - 16)), decipher.final()]).toString('utf8');
  } catch {
    throw new Error('the sealed webhook secret does not open: altered, or sealed for another endpoint or key');
  }
}
