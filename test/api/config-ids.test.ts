import { describe, expect, it } from 'vitest';
import { generateToken, hashToken, parseApiKey } from '../../functions/api/auth.ts';
import { CONFIG_DEFAULTS, ConfigError, loadConfig, loadLocalConfig } from '../../functions/config.ts';
import { anchorId, base32Crockford, isBatchId, newBatchId, newKeyId, parseAnchorId, timeOfId } from '../../functions/ids.ts';

describe('config', () => {
  it('has documented defaults', () => {
    expect(loadConfig({})).toEqual({
      origin: CONFIG_DEFAULTS.origin,
      adminKeyHash: null,
      coordinatorKeyHash: null,
      maxBodyBytes: 4 * 1024 * 1024,
      rateLimit: { perSecond: 20, burst: 100 },
      verifyLimit: { perSecond: 5, burst: 20, globalPerSecond: 200 },
      keyCacheMs: 2_000,
      rounds: { intervalMs: 1_000, maxBatches: 1_024, cutoffLagMs: 0, signTimeoutMs: null },
      maxClockSkewMs: 60_000,
      publicationIntervalMs: 86_400_000,
      publicUrl: null,
      webhooks: {
        secretKeys: [],
        retryScheduleMs: [5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000],
        timeoutMs: 15_000,
        disableAfterMs: 5 * 86_400_000,
        retentionMs: 30 * 86_400_000,
        rotationGraceMs: 86_400_000,
        pollMs: 1_000,
        concurrency: 128,
        endpointConcurrency: 16,
        allowLoopback: false,
      },
    });
    expect(loadLocalConfig({}).local).toEqual({ port: 8787, host: '127.0.0.1', dataDir: '.data', adminKey: null, validators: 'in-process' });
  });

  it('reads LEDGERSEAL_* variables', () => {
    const h = 'ab'.repeat(32);
    const c = loadConfig({
      LEDGERSEAL_ORIGIN: 'registry.example.gov/prod',
      LEDGERSEAL_ADMIN_KEY_HASH: h,
      LEDGERSEAL_COORDINATOR_KEY_HASH: h,
      LEDGERSEAL_MAX_BODY_BYTES: '1048576',
      LEDGERSEAL_RATE_LIMIT_PER_SECOND: '0',
      LEDGERSEAL_RATE_LIMIT_BURST: '5',
      LEDGERSEAL_ROUND_INTERVAL_MS: '60000',
      LEDGERSEAL_VERIFY_RATE_LIMIT_PER_SECOND: '1',
      LEDGERSEAL_VERIFY_RATE_LIMIT_BURST: '2',
      LEDGERSEAL_VERIFY_MAX_PER_SECOND: '0',
      LEDGERSEAL_KEY_CACHE_MS: '0',
      LEDGERSEAL_MAX_BATCHES_PER_ROUND: '256',
      LEDGERSEAL_CUTOFF_LAG_MS: '500',
      LEDGERSEAL_SIGN_TIMEOUT_MS: '30000',
      LEDGERSEAL_MAX_CLOCK_SKEW_MS: '5000',
      LEDGERSEAL_PUBLICATION_INTERVAL_MS: '3600000',
      LEDGERSEAL_PUBLIC_URL: 'https://ledgerseal.example.gov/api/',
      LEDGERSEAL_WEBHOOK_SECRET_KEYS: `k2:${Buffer.alloc(32, 2).toString('base64')}, k1:${Buffer.alloc(32, 1).toString('base64')}`,
      LEDGERSEAL_WEBHOOK_RETRY_SCHEDULE: '0, 0.5,60',
      LEDGERSEAL_WEBHOOK_TIMEOUT_MS: '2000',
      LEDGERSEAL_WEBHOOK_DISABLE_AFTER_MS: '0',
      LEDGERSEAL_WEBHOOK_RETENTION_MS: '86400000',
      LEDGERSEAL_WEBHOOK_ROTATION_GRACE_MS: '60000',
      LEDGERSEAL_WEBHOOK_POLL_MS: '50',
      LEDGERSEAL_WEBHOOK_CONCURRENCY: '8',
      LEDGERSEAL_WEBHOOK_ENDPOINT_CONCURRENCY: '2',
    });
    expect(c).toEqual({
      origin: 'registry.example.gov/prod',
      adminKeyHash: h,
      coordinatorKeyHash: h,
      maxBodyBytes: 1048576,
      rateLimit: { perSecond: 0, burst: 5 },
      verifyLimit: { perSecond: 1, burst: 2, globalPerSecond: 0 },
      keyCacheMs: 0,
      rounds: { intervalMs: 60_000, maxBatches: 256, cutoffLagMs: 500, signTimeoutMs: 30_000 },
      maxClockSkewMs: 5_000,
      publicationIntervalMs: 3_600_000,
      publicUrl: 'https://ledgerseal.example.gov/api',
      webhooks: {
        secretKeys: [
          { id: 'k2', key: new Uint8Array(32).fill(2) },
          { id: 'k1', key: new Uint8Array(32).fill(1) },
        ],
        retryScheduleMs: [0, 500, 60_000],
        timeoutMs: 2_000,
        disableAfterMs: 0,
        retentionMs: 86_400_000,
        rotationGraceMs: 60_000,
        pollMs: 50,
        concurrency: 8,
        endpointConcurrency: 2,
        allowLoopback: false,
      },
    });
    const local = loadLocalConfig({ PORT: '0', LEDGERSEAL_HOST: '::1', LEDGERSEAL_DATA_DIR: '/tmp/x', LEDGERSEAL_ADMIN_KEY: 'lsa_0123456789abcdef', LEDGERSEAL_VALIDATORS: 'processes' }).local;
    expect(local).toEqual({ port: 0, host: '::1', dataDir: '/tmp/x', adminKey: 'lsa_0123456789abcdef', validators: 'processes' });
  });

  it('refuses to start with invalid values and lists every problem', () => {
    try {
      loadConfig({ LEDGERSEAL_ORIGIN: 'has space', LEDGERSEAL_ADMIN_KEY_HASH: 'lsk_token_not_hash', LEDGERSEAL_MAX_BODY_BYTES: '10', LEDGERSEAL_RATE_LIMIT_BURST: '1.5' });
      expect.fail('should throw');
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as ConfigError).problems).toHaveLength(4);
    }
    const webhookProblems = (env: Record<string, string>): string[] => {
      try {
        loadConfig(env);
        return [];
      } catch (e) {
        return (e as ConfigError).problems;
      }
    };
    expect(webhookProblems({ LEDGERSEAL_WEBHOOK_RETRY_SCHEDULE: '5,-1' })).toEqual([expect.stringMatching(/RETRY_SCHEDULE/)]);
    expect(webhookProblems({ LEDGERSEAL_WEBHOOK_RETRY_SCHEDULE: '' })).toEqual([]);
    expect(webhookProblems({ LEDGERSEAL_WEBHOOK_SECRET_KEYS: 'k:short' })).toEqual([expect.stringMatching(/SECRET_KEYS/)]);
    expect(webhookProblems({ LEDGERSEAL_WEBHOOK_SECRET_KEYS: `k:${Buffer.alloc(32).toString('base64')},k:${Buffer.alloc(32).toString('base64')}` })).toHaveLength(1);
    expect(webhookProblems({ LEDGERSEAL_PUBLIC_URL: 'ftp://x' })).toEqual([expect.stringMatching(/PUBLIC_URL/)]);
    expect(webhookProblems({ LEDGERSEAL_PUBLIC_URL: 'https://x.example/?q=1' })).toHaveLength(1);
    expect(() => loadLocalConfig({ PORT: '70000', LEDGERSEAL_ADMIN_KEY: 'short', LEDGERSEAL_SIGN_TIMEOUT_MS: '5' })).toThrow(
      expect.objectContaining({ problems: [expect.stringMatching(/LEDGERSEAL_SIGN_TIMEOUT_MS/), expect.stringMatching(/LEDGERSEAL_ADMIN_KEY/), expect.stringMatching(/^PORT/)] }),
    );
    expect(() => loadLocalConfig({ LEDGERSEAL_VALIDATORS: 'threads' })).toThrow(
      expect.objectContaining({ problems: ['LEDGERSEAL_VALIDATORS must be one of in-process, processes, got "threads"'] }),
    );
  });
});

describe('ids', () => {
  it('batch ids are 26 Crockford characters that sort by time', () => {
    const a = newBatchId(new Date('2026-11-22T04:32:16.123Z'));
    const b = newBatchId(new Date('2026-11-22T04:32:16.124Z'));
    expect(a).toMatch(/^[0-7][0-9A-HJKMNP-TV-Z]{25}$/);
    expect(isBatchId(a)).toBe(true);
    expect(a < b).toBe(true);
    expect(timeOfId(a)).toBe(Date.parse('2026-11-22T04:32:16.123Z'));
    expect(newBatchId(new Date(0), () => new Uint8Array(10))).toBe('0'.repeat(26));
    expect(newBatchId(new Date(2 ** 48 - 1), (n) => new Uint8Array(n).fill(255))).toBe('7' + 'Z'.repeat(25));
  });

  it('anchor ids round-trip and reject anything else', () => {
    const b = newBatchId(new Date());
    expect(parseAnchorId(anchorId(b, 9999))).toEqual({ batchId: b, index: 9999 });
    for (const bad of [`${b}`, `${b}.`, `${b}.01`, `${b}.-1`, `${b.toLowerCase()}.0`, `x${b}.0`, `${b}.0.0`]) expect(parseAnchorId(bad)).toBeNull();
  });

  it('Crockford base32 matches RFC 4648 base32 bit order with the Crockford alphabet', () => {
    expect(base32Crockford(new Uint8Array([0xff]))).toBe('ZW');
    expect(base32Crockford(new TextEncoder().encode('foobar'))).toBe('CSQPYRK1E8');
    expect(newKeyId()).toMatch(/^[0-9a-hjkmnp-tv-z]{16}$/);
  });
});

describe('API keys', () => {
  it('tokens are lsk_<keyId>_<256-bit secret>, stored only as SHA-256 hex', () => {
    const { keyId, token, keyHash } = generateToken();
    expect(token).toMatch(/^lsk_[0-9a-hjkmnp-tv-z]{16}_[0-9a-hjkmnp-tv-z]{52}$/);
    expect(parseApiKey(token)).toEqual({ keyId });
    expect(keyHash).toBe(hashToken(token));
    expect(keyHash).toMatch(/^[0-9a-f]{64}$/);
    expect(generateToken().token).not.toBe(token);
    expect(parseApiKey(token.toUpperCase())).toBeNull();
  });
});
