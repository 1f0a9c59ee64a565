/**
 * Webhook secrets at rest (functions/webhooks/secret-box.ts): AES-256-GCM bound to
 * the agency and endpoint, key rotation by key id, tampering and moving refused.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateWebhookSecret } from '../../sdk/src/index.ts';
import { openSecret, sealSecret } from '../../functions/webhooks/secret-box.ts';

const k1 = { id: 'k1', key: randomBytes(32) };
const k2 = { id: 'k2', key: randomBytes(32) };

describe('sealSecret / openSecret', () => {
  it('round-trips, with a fresh nonce each time and nothing of the secret in the sealed text', () => {
    const secret = generateWebhookSecret();
    const a = sealSecret(secret, k1, 'agency-1', 'ep-1');
    const b = sealSecret(secret, k1, 'agency-1', 'ep-1');
    expect(a).not.toBe(b);
    expect(a).toMatch(/^v1\.k1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+$/);
    expect(a).not.toContain(secret.slice(6, 20));
    expect(openSecret(a, [k1], 'agency-1', 'ep-1')).toBe(secret);
  });

  it('rotation: old items open with their own key, new ones use the current one', () => {
    const old = sealSecret('whsec_old', k1, 'a', 'e');
    const fresh = sealSecret('whsec_new', k2, 'a', 'e');
    expect(openSecret(old, [k2, k1], 'a', 'e')).toBe('whsec_old');
    expect(openSecret(fresh, [k2, k1], 'a', 'e')).toBe('whsec_new');
    expect(() => openSecret(old, [k2], 'a', 'e')).toThrow(/key "k1", which is not configured/);
  });

  it('refuses a sealed secret moved to another endpoint or agency, altered, truncated or malformed', () => {
    const s = sealSecret('whsec_x', k1, 'agency-1', 'ep-1');
    expect(() => openSecret(s, [k1], 'agency-1', 'ep-2')).toThrow(/does not open/);
    expect(() => openSecret(s, [k1], 'agency-2', 'ep-1')).toThrow(/does not open/);
    const parts = s.split('.');
    const body = Buffer.from(parts[3]!, 'base64url');
    body[0]! ^= 1;
    expect(() => openSecret([...parts.slice(0, 3), body.toString('base64url')].join('.'), [k1], 'agency-1', 'ep-1')).toThrow(/does not open/);
    expect(() => openSecret([...parts.slice(0, 3), 'AAAA'].join('.'), [k1], 'agency-1', 'ep-1')).toThrow(/truncated/);
    expect(() => openSecret('whsec_plain', [k1], 'agency-1', 'ep-1')).toThrow(/not a sealed webhook secret/);
    const wrongKey = { id: 'k1', key: randomBytes(32) };
    expect(() => openSecret(s, [wrongKey], 'agency-1', 'ep-1')).toThrow(/does not open/);
  });

  it('refuses keys of the wrong size or id', () => {
    expect(() => sealSecret('x', { id: 'k', key: randomBytes(16) }, 'a', 'e')).toThrow(/32 bytes/);
    expect(() => sealSecret('x', { id: 'bad id', key: randomBytes(32) }, 'a', 'e')).toThrow(/key id/);
  });
});
