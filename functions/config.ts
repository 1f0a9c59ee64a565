/**
 * Service configuration, read once from environment variables and validated
 * at start-up: a misconfigured service refuses to start instead of failing on
 * the first request (hono style: misconfiguration fails at construction).
 *
 * | variable                            | default                    | meaning |
 * | ----------------------------------- | -------------------------- | ------- |
 * | LEDGERSEAL_ORIGIN                   | `ledgerseal.localhost/dev` | checkpoint origin line (C2SP tlog-checkpoint); printable ASCII, no spaces, <= 255 chars |
 * | LEDGERSEAL_ADMIN_KEY_HASH           | (unset: admin routes always answer 401) | lowercase hex SHA-256 of the admin bearer token |
 * | LEDGERSEAL_COORDINATOR_KEY_HASH     | (unset: POST /v1/validator/sign always answers 401) | lowercase hex SHA-256 of the round coordinator's bearer token |
 * | LEDGERSEAL_MAX_BODY_BYTES           | 4194304 (4 MiB)            | largest request body; larger bodies get 413. 1024..6291456 (Lambda's 6 MB payload cap) |
 * | LEDGERSEAL_RATE_LIMIT_PER_SECOND    | 20                         | token-bucket refill rate per API key; 0 turns rate limiting off |
 * | LEDGERSEAL_RATE_LIMIT_BURST         | 100                        | token-bucket capacity per API key (requests allowed at once) |
 * | LEDGERSEAL_ROUND_INTERVAL_MS        | 60000                      | how often a round is cut (read by the round scheduler); 100..3600000 |
 *
 * The batch size limit (MAX_BATCH = 10,000 hashes) is part of the API contract
 * (it appears in openapi.json), so it is a constant, not a variable.
 */

export interface Config {
  origin: string;
  /** Lowercase hex SHA-256 of the admin token, or null when no admin is configured. */
  adminKeyHash: string | null;
  /** Lowercase hex SHA-256 of the coordinator token, or null when none is configured. */
  coordinatorKeyHash: string | null;
  maxBodyBytes: number;
  rateLimit: { perSecond: number; burst: number };
  roundIntervalMs: number;
}

export type Env = Record<string, string | undefined>;

export const CONFIG_DEFAULTS = {
  origin: 'ledgerseal.localhost/dev',
  maxBodyBytes: 4 * 1024 * 1024,
  rateLimitPerSecond: 20,
  rateLimitBurst: 100,
  roundIntervalMs: 60_000,
} as const;

/** Thrown by loadConfig with every problem found, one per line. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid Ledgerseal configuration:\n${problems.map((p) => `- ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const HASH_RE = /^[0-9a-f]{64}$/;
const ORIGIN_RE = /^[\x21-\x7e]{1,255}$/;

/** Read and validate the configuration; throws ConfigError listing every invalid variable. */
export function loadConfig(env: Env = globalThis.process?.env ?? {}): Config {
  const problems: string[] = [];
  const str = (name: string): string | undefined => {
    const v = env[name];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  };
  const int = (name: string, dflt: number, min: number, max: number): number => {
    const v = str(name);
    if (v === undefined) return dflt;
    if (!/^[0-9]+$/.test(v) || !Number.isSafeInteger(Number(v)) || Number(v) < min || Number(v) > max) {
      problems.push(`${name} must be an integer from ${min} to ${max}, got "${v}"`);
      return dflt;
    }
    return Number(v);
  };
  const hash = (name: string): string | null => {
    const v = str(name);
    if (v === undefined) return null;
    if (!HASH_RE.test(v)) {
      problems.push(`${name} must be 64 lowercase hex characters (the SHA-256 of the token, not the token)`);
      return null;
    }
    return v;
  };

  const origin = str('LEDGERSEAL_ORIGIN') ?? CONFIG_DEFAULTS.origin;
  if (!ORIGIN_RE.test(origin)) problems.push('LEDGERSEAL_ORIGIN must be 1..255 printable ASCII characters without spaces');
  const config: Config = {
    origin,
    adminKeyHash: hash('LEDGERSEAL_ADMIN_KEY_HASH'),
    coordinatorKeyHash: hash('LEDGERSEAL_COORDINATOR_KEY_HASH'),
    maxBodyBytes: int('LEDGERSEAL_MAX_BODY_BYTES', CONFIG_DEFAULTS.maxBodyBytes, 1024, 6 * 1024 * 1024),
    rateLimit: {
      perSecond: int('LEDGERSEAL_RATE_LIMIT_PER_SECOND', CONFIG_DEFAULTS.rateLimitPerSecond, 0, 1_000_000),
      burst: int('LEDGERSEAL_RATE_LIMIT_BURST', CONFIG_DEFAULTS.rateLimitBurst, 1, 1_000_000),
    },
    roundIntervalMs: int('LEDGERSEAL_ROUND_INTERVAL_MS', CONFIG_DEFAULTS.roundIntervalMs, 100, 3_600_000),
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
