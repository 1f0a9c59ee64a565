/**
 * The one configuration of the service: every environment variable, its
 * default and its bounds, read once and validated at start-up. A misconfigured
 * service refuses to start instead of failing on the first request (hono
 * style: misconfiguration fails at construction). The local runner, the
 * Lambda handlers and the tests all build the services from a Config through
 * wiring.ts; nothing else reads LEDGERSEAL_* variables. docs/operations.md
 * lists the same table.
 *
 * | variable                              | default                    | meaning |
 * | ------------------------------------- | -------------------------- | ------- |
 * | LEDGERSEAL_ORIGIN                     | `ledgerseal.localhost/dev` | checkpoint origin line (C2SP tlog-checkpoint); printable ASCII, no spaces, <= 255 chars |
 * | LEDGERSEAL_ADMIN_KEY_HASH             | (unset: admin routes answer 401) | lowercase hex SHA-256 of the admin bearer token |
 * | LEDGERSEAL_COORDINATOR_KEY_HASH       | (unset: POST /v1/validator/sign answers 401) | lowercase hex SHA-256 of the round coordinator's bearer token |
 * | LEDGERSEAL_MAX_BODY_BYTES             | 4194304 (4 MiB)            | largest request body (413 above); 1024..6291456 (Lambda's 6 MB payload cap) |
 * | LEDGERSEAL_RATE_LIMIT_PER_SECOND      | 20                         | token-bucket refill rate per API key; 0 turns per-key limiting off |
 * | LEDGERSEAL_RATE_LIMIT_BURST           | 100                        | token-bucket capacity per API key |
 * | LEDGERSEAL_VERIFY_RATE_LIMIT_PER_SECOND | 5                        | POST /v1/verify: refill rate per client address; 0 turns it off |
 * | LEDGERSEAL_VERIFY_RATE_LIMIT_BURST    | 20                         | POST /v1/verify: bucket capacity per client address |
 * | LEDGERSEAL_VERIFY_MAX_PER_SECOND      | 200                        | POST /v1/verify: refill rate of the one bucket all addresses share (burst: the same number); 0 turns it off |
 * | LEDGERSEAL_KEY_CACHE_MS               | 2000                       | how long an API key lookup is reused; a revoked key is refused within this bound (0..10000) |
 * | LEDGERSEAL_ROUND_INTERVAL_MS          | 1000                       | how often the local scheduler cuts a round (the AWS schedule has its own rate); 100..3600000 |
 * | LEDGERSEAL_MAX_BATCHES_PER_ROUND      | 1024                       | most batches in one round; 1..10000 |
 * | LEDGERSEAL_CUTOFF_LAG_MS              | 0                          | a round takes only batches that arrived at least this long ago |
 * | LEDGERSEAL_SIGN_TIMEOUT_MS            | (unset: grows with the round) | how long the coordinator waits for each validator; 100..600000 |
 * | LEDGERSEAL_MAX_CLOCK_SKEW_MS          | 60000                      | a validator refuses a header time further than this in its own future; 1000..3600000 |
 * | LEDGERSEAL_PUBLICATION_INTERVAL_MS    | 86400000 (a day)           | how often the latest checkpoint is published; 1000.. |
 * | LEDGERSEAL_PUBLIC_URL                 | (unset: links are paths)   | the API's public base URL, used in links inside webhook payloads |
 * | LEDGERSEAL_WEBHOOK_SECRET_KEYS        | (unset: endpoints cannot be created) | `<id>:<base64 of 32 bytes>`, comma-separated: keys that encrypt endpoint secrets at rest; the first seals new ones |
 * | LEDGERSEAL_WEBHOOK_RETRY_SCHEDULE     | `5,300,1800,7200,18000,36000,36000` | seconds before each retry after the first attempt (Standard Webhooks schedule), jittered by up to 20 % |
 * | LEDGERSEAL_WEBHOOK_TIMEOUT_MS         | 15000                      | one attempt, connection to the last byte read; 100..60000 |
 * | LEDGERSEAL_WEBHOOK_DISABLE_AFTER_MS   | 432000000 (5 days)         | an endpoint failing continuously this long is disabled |
 * | LEDGERSEAL_WEBHOOK_RETENTION_MS       | 2592000000 (30 days)       | payloads, messages and attempts are kept this long |
 * | LEDGERSEAL_WEBHOOK_ROTATION_GRACE_MS  | 86400000 (24 h)            | after a secret rotation the old secret keeps signing this long |
 * | LEDGERSEAL_WEBHOOK_POLL_MS            | 1000                       | how often the worker looks for work when nothing woke it; 10..60000 |
 * | LEDGERSEAL_WEBHOOK_CONCURRENCY        | 128                        | attempts in flight at once; 1..4096 |
 * | LEDGERSEAL_WEBHOOK_ENDPOINT_CONCURRENCY | 16                       | attempts in flight to one endpoint; 1..1024 |
 *
 * The local runner (`npm start`) reads five more (loadLocalConfig):
 *
 * | PORT                  | 8787       | HTTP port (0: any free port) |
 * | LEDGERSEAL_HOST       | 127.0.0.1  | interface to listen on |
 * | LEDGERSEAL_DATA_DIR   | `.data`    | dynalite files, validator keys and state, admin key hash, lock |
 * | LEDGERSEAL_ADMIN_KEY  | (generated on first start) | the admin token itself (its hash is used) |
 * | LEDGERSEAL_VALIDATORS | `in-process` | `in-process`: the four validators run inside the runner; `processes`: each is its own `npm run validator` child on 127.0.0.1, reached over HTTP, restarted when it dies |
 *
 * One validator as its own service (`npm run validator`, loadValidatorConfig;
 * functions/validator/README.md) reads LEDGERSEAL_ORIGIN,
 * LEDGERSEAL_COORDINATOR_KEY_HASH, LEDGERSEAL_MAX_CLOCK_SKEW_MS,
 * LEDGERSEAL_MAX_BODY_BYTES and these:
 *
 * | LEDGERSEAL_VALIDATOR_NAME      | (required)        | its name in the validator set |
 * | LEDGERSEAL_VALIDATOR_DATA_DIR  | `.validator`      | its key file and state (state.json, lock) |
 * | LEDGERSEAL_VALIDATOR_KEY_FILE  | `<data dir>/validator.key` | its signer key (generated, 0600, when missing) |
 * | LEDGERSEAL_VALIDATOR_PORT      | 8788              | HTTP port (0: any free port) |
 * | LEDGERSEAL_VALIDATOR_HOST      | 127.0.0.1         | interface to listen on |
 * | LEDGERSEAL_LEDGER_URL          | (required to sign) | the coordinator's public API, for catch-up and the rollback check |
 * | LEDGERSEAL_LEDGER_TIMEOUT_MS   | 10000             | one request to that API; 100..120000 |
 * | LEDGERSEAL_VALIDATOR_SET       | (required to sign) | path of the validator set document (or the JSON itself) |
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
  /** Per API key. */
  rateLimit: { perSecond: number; burst: number };
  /** POST /v1/verify (public): per client address, and one budget shared by all addresses. */
  verifyLimit: { perSecond: number; burst: number; globalPerSecond: number };
  /** Bound on how long a revoked API key may still be accepted (the key lookup cache). */
  keyCacheMs: number;
  rounds: {
    intervalMs: number;
    maxBatches: number;
    cutoffLagMs: number;
    /** null: the default that grows with the round (ledger/signatures.ts). */
    signTimeoutMs: number | null;
  };
  maxClockSkewMs: number;
  publicationIntervalMs: number;
  /** Public base URL of the API without a trailing slash, or null. */
  publicUrl: string | null;
  webhooks: WebhookConfig;
}

export interface WebhookConfig {
  /** Keys that seal endpoint secrets; the first seals new ones. Empty: webhooks cannot be configured. */
  secretKeys: { id: string; key: Uint8Array }[];
  /** Delay before retry n (after attempt n), in ms. */
  retryScheduleMs: number[];
  timeoutMs: number;
  disableAfterMs: number;
  retentionMs: number;
  rotationGraceMs: number;
  pollMs: number;
  concurrency: number;
  endpointConcurrency: number;
  /** Loopback targets and http: allowed: the local runner only (never from the environment). */
  allowLoopback: boolean;
}

/** What only the local runner reads. */
export interface LocalConfig {
  port: number;
  host: string;
  dataDir: string;
  /** The admin token from LEDGERSEAL_ADMIN_KEY, or null (then the data dir keeps its hash). */
  adminKey: string | null;
  /** LEDGERSEAL_VALIDATORS: validators inside the runner, or each as its own child process over HTTP. */
  validators: ValidatorMode;
}

export const VALIDATOR_MODES = ['in-process', 'processes'] as const;
export type ValidatorMode = (typeof VALIDATOR_MODES)[number];

export type Env = Record<string, string | undefined>;

export const CONFIG_DEFAULTS = {
  origin: 'ledgerseal.localhost/dev',
  maxBodyBytes: 4 * 1024 * 1024,
  rateLimitPerSecond: 20,
  rateLimitBurst: 100,
  verifyPerSecond: 5,
  verifyBurst: 20,
  verifyGlobalPerSecond: 200,
  keyCacheMs: 2_000,
  roundIntervalMs: 1_000,
  maxBatchesPerRound: 1_024,
  cutoffLagMs: 0,
  maxClockSkewMs: 60_000,
  publicationIntervalMs: 24 * 60 * 60 * 1000,
  webhookRetryScheduleSeconds: [5, 300, 1800, 7200, 18000, 36000, 36000],
  webhookTimeoutMs: 15_000,
  webhookDisableAfterMs: 5 * 24 * 3_600_000,
  webhookRetentionMs: 30 * 24 * 3_600_000,
  webhookRotationGraceMs: 24 * 3_600_000,
  webhookPollMs: 1_000,
  webhookConcurrency: 128,
  webhookEndpointConcurrency: 16,
  port: 8787,
  host: '127.0.0.1',
  dataDir: '.data',
  validators: 'in-process',
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

/** A reader over one environment that collects every problem instead of stopping at the first. */
function reader(env: Env) {
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
  const optInt = (name: string, min: number, max: number): number | null => (str(name) === undefined ? null : int(name, min, min, max));
  const hash = (name: string): string | null => {
    const v = str(name);
    if (v === undefined) return null;
    if (!HASH_RE.test(v)) {
      problems.push(`${name} must be 64 lowercase hex characters (the SHA-256 of the token, not the token)`);
      return null;
    }
    return v;
  };
  return { problems, str, int, optInt, hash };
}

type Reader = ReturnType<typeof reader>;

/** One webhook sealing key, `<id>:<base64 of 32 bytes>` (LEDGERSEAL_WEBHOOK_SECRET_KEYS, the local runner's key file); null when malformed. */
export function parseSealingKey(text: string): { id: string; key: Uint8Array } | null {
  const m = /^([A-Za-z0-9_-]{1,32}):([A-Za-z0-9+/]{43}=)$/.exec(text.trim());
  return m ? { id: m[1]!, key: new Uint8Array(Buffer.from(m[2]!, 'base64')) } : null;
}

function readWebhooks({ problems, str, int }: Reader): WebhookConfig {
  const d = CONFIG_DEFAULTS;
  const schedule = str('LEDGERSEAL_WEBHOOK_RETRY_SCHEDULE');
  let retryScheduleMs = d.webhookRetryScheduleSeconds.map((s) => s * 1000);
  if (schedule !== undefined) {
    const parts = schedule.split(',').map((p) => p.trim());
    if (parts.length > 20 || parts.some((p) => !/^[0-9]{1,6}(\.[0-9]{1,3})?$/.test(p))) {
      problems.push('LEDGERSEAL_WEBHOOK_RETRY_SCHEDULE must be 1..20 comma-separated non-negative seconds (at most 3 decimals, each < 1000000)');
    } else {
      retryScheduleMs = parts.map((p) => Math.round(Number(p) * 1000));
    }
  }
  const secretKeys: WebhookConfig['secretKeys'] = [];
  const keys = str('LEDGERSEAL_WEBHOOK_SECRET_KEYS');
  if (keys !== undefined) {
    for (const entry of keys.split(',')) {
      const key = parseSealingKey(entry);
      if (!key || secretKeys.some((k) => k.id === key.id)) {
        problems.push('LEDGERSEAL_WEBHOOK_SECRET_KEYS must be comma-separated `<id>:<base64 of 32 bytes>` with distinct ids (1..32 of A-Z a-z 0-9 _ -)');
        break;
      }
      secretKeys.push(key);
    }
  }
  return {
    secretKeys,
    retryScheduleMs,
    timeoutMs: int('LEDGERSEAL_WEBHOOK_TIMEOUT_MS', d.webhookTimeoutMs, 100, 60_000),
    disableAfterMs: int('LEDGERSEAL_WEBHOOK_DISABLE_AFTER_MS', d.webhookDisableAfterMs, 0, 366 * 24 * 3_600_000),
    retentionMs: int('LEDGERSEAL_WEBHOOK_RETENTION_MS', d.webhookRetentionMs, 60_000, 366 * 24 * 3_600_000),
    rotationGraceMs: int('LEDGERSEAL_WEBHOOK_ROTATION_GRACE_MS', d.webhookRotationGraceMs, 0, 30 * 24 * 3_600_000),
    pollMs: int('LEDGERSEAL_WEBHOOK_POLL_MS', d.webhookPollMs, 10, 60_000),
    concurrency: int('LEDGERSEAL_WEBHOOK_CONCURRENCY', d.webhookConcurrency, 1, 4096),
    endpointConcurrency: int('LEDGERSEAL_WEBHOOK_ENDPOINT_CONCURRENCY', d.webhookEndpointConcurrency, 1, 1024),
    allowLoopback: false,
  };
}

function readPublicUrl({ problems, str }: Reader): string | null {
  const v = str('LEDGERSEAL_PUBLIC_URL');
  if (v === undefined) return null;
  let u: URL | undefined;
  try {
    u = new URL(v);
  } catch {
    // reported below
  }
  if (!u || (u.protocol !== 'https:' && u.protocol !== 'http:') || u.search !== '' || u.hash !== '' || u.username !== '') {
    problems.push('LEDGERSEAL_PUBLIC_URL must be an http(s) URL without query, fragment or credentials');
    return null;
  }
  return u.href.replace(/\/+$/, '');
}

/** Read and validate the service configuration; throws ConfigError listing every invalid variable. */
export function loadConfig(env: Env = globalThis.process?.env ?? {}): Config {
  const r = reader(env);
  const config = readConfig(r);
  if (r.problems.length > 0) throw new ConfigError(r.problems);
  return config;
}

function readConfig(r: Reader): Config {
  const { problems, str, int, optInt, hash } = r;
  const d = CONFIG_DEFAULTS;
  const origin = str('LEDGERSEAL_ORIGIN') ?? d.origin;
  if (!ORIGIN_RE.test(origin)) problems.push('LEDGERSEAL_ORIGIN must be 1..255 printable ASCII characters without spaces');
  const verifyGlobal = int('LEDGERSEAL_VERIFY_MAX_PER_SECOND', d.verifyGlobalPerSecond, 0, 1_000_000);
  return {
    origin,
    adminKeyHash: hash('LEDGERSEAL_ADMIN_KEY_HASH'),
    coordinatorKeyHash: hash('LEDGERSEAL_COORDINATOR_KEY_HASH'),
    maxBodyBytes: int('LEDGERSEAL_MAX_BODY_BYTES', d.maxBodyBytes, 1024, 6 * 1024 * 1024),
    rateLimit: {
      perSecond: int('LEDGERSEAL_RATE_LIMIT_PER_SECOND', d.rateLimitPerSecond, 0, 1_000_000),
      burst: int('LEDGERSEAL_RATE_LIMIT_BURST', d.rateLimitBurst, 1, 1_000_000),
    },
    verifyLimit: {
      perSecond: int('LEDGERSEAL_VERIFY_RATE_LIMIT_PER_SECOND', d.verifyPerSecond, 0, 1_000_000),
      burst: int('LEDGERSEAL_VERIFY_RATE_LIMIT_BURST', d.verifyBurst, 1, 1_000_000),
      globalPerSecond: verifyGlobal,
    },
    keyCacheMs: int('LEDGERSEAL_KEY_CACHE_MS', d.keyCacheMs, 0, 10_000),
    rounds: {
      intervalMs: int('LEDGERSEAL_ROUND_INTERVAL_MS', d.roundIntervalMs, 100, 3_600_000),
      maxBatches: int('LEDGERSEAL_MAX_BATCHES_PER_ROUND', d.maxBatchesPerRound, 1, 10_000),
      cutoffLagMs: int('LEDGERSEAL_CUTOFF_LAG_MS', d.cutoffLagMs, 0, 3_600_000),
      signTimeoutMs: optInt('LEDGERSEAL_SIGN_TIMEOUT_MS', 100, 600_000),
    },
    maxClockSkewMs: int('LEDGERSEAL_MAX_CLOCK_SKEW_MS', d.maxClockSkewMs, 1_000, 3_600_000),
    publicationIntervalMs: int('LEDGERSEAL_PUBLICATION_INTERVAL_MS', d.publicationIntervalMs, 1_000, 366 * 24 * 3_600_000),
    publicUrl: readPublicUrl(r),
    webhooks: readWebhooks(r),
  };
}

/** The service configuration plus what only the local runner reads; throws ConfigError listing every problem. */
export function loadLocalConfig(env: Env = globalThis.process?.env ?? {}): { config: Config; local: LocalConfig } {
  const r = reader(env);
  const config = readConfig(r);
  const adminKey = r.str('LEDGERSEAL_ADMIN_KEY') ?? null;
  if (adminKey !== null && !/^[\x21-\x7e]{16,512}$/.test(adminKey)) {
    r.problems.push('LEDGERSEAL_ADMIN_KEY must be 16..512 visible ASCII characters');
  }
  const mode = r.str('LEDGERSEAL_VALIDATORS') ?? CONFIG_DEFAULTS.validators;
  if (!(VALIDATOR_MODES as readonly string[]).includes(mode)) {
    r.problems.push(`LEDGERSEAL_VALIDATORS must be one of ${VALIDATOR_MODES.join(', ')}, got "${mode}"`);
  }
  const local: LocalConfig = {
    port: r.int('PORT', CONFIG_DEFAULTS.port, 0, 65_535),
    host: r.str('LEDGERSEAL_HOST') ?? CONFIG_DEFAULTS.host,
    dataDir: r.str('LEDGERSEAL_DATA_DIR') ?? CONFIG_DEFAULTS.dataDir,
    adminKey,
    validators: (VALIDATOR_MODES as readonly string[]).includes(mode) ? (mode as ValidatorMode) : CONFIG_DEFAULTS.validators,
  };
  if (r.problems.length > 0) throw new ConfigError(r.problems);
  return { config, local };
}

/** One validator as its own service (functions/validator/main.ts, or a Lambda per validator). */
export interface ValidatorConfig {
  name: string;
  origin: string;
  /** Lowercase hex SHA-256 of the coordinator's token; null: every sign request is 401. */
  coordinatorKeyHash: string | null;
  maxClockSkewMs: number;
  maxBodyBytes: number;
  /** The coordinator's public API base URL, or null (then it cannot catch up and refuses to sign). */
  ledgerUrl: string | null;
  ledgerTimeoutMs: number;
  /** Path of the validator set document, or the document itself (starts with `{`); null when not given yet. */
  validatorSet: string | null;
  dataDir: string;
  keyFile: string;
  port: number;
  host: string;
}

/** Read a validator's configuration; throws ConfigError listing every problem. */
export function loadValidatorConfig(env: Env = globalThis.process?.env ?? {}): ValidatorConfig {
  const r = reader(env);
  const { problems, str, int, hash } = r;
  const d = CONFIG_DEFAULTS;
  const name = str('LEDGERSEAL_VALIDATOR_NAME') ?? '';
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(name)) problems.push('LEDGERSEAL_VALIDATOR_NAME must be 1..64 of A-Z a-z 0-9 . _ - (its name in the validator set)');
  const origin = str('LEDGERSEAL_ORIGIN') ?? d.origin;
  if (!ORIGIN_RE.test(origin)) problems.push('LEDGERSEAL_ORIGIN must be 1..255 printable ASCII characters without spaces');
  const ledgerUrl = str('LEDGERSEAL_LEDGER_URL') ?? null;
  if (ledgerUrl !== null && !/^https?:\/\/[^\s]+$/.test(ledgerUrl)) problems.push('LEDGERSEAL_LEDGER_URL must be an http(s) URL');
  const dataDir = str('LEDGERSEAL_VALIDATOR_DATA_DIR') ?? '.validator';
  const config: ValidatorConfig = {
    name,
    origin,
    coordinatorKeyHash: hash('LEDGERSEAL_COORDINATOR_KEY_HASH'),
    maxClockSkewMs: int('LEDGERSEAL_MAX_CLOCK_SKEW_MS', d.maxClockSkewMs, 1_000, 3_600_000),
    maxBodyBytes: int('LEDGERSEAL_MAX_BODY_BYTES', d.maxBodyBytes, 1024, 6 * 1024 * 1024),
    ledgerUrl: ledgerUrl?.replace(/\/+$/, '') ?? null,
    ledgerTimeoutMs: int('LEDGERSEAL_LEDGER_TIMEOUT_MS', 10_000, 100, 120_000),
    validatorSet: str('LEDGERSEAL_VALIDATOR_SET') ?? null,
    dataDir,
    keyFile: str('LEDGERSEAL_VALIDATOR_KEY_FILE') ?? `${dataDir.replace(/\/+$/, '')}/validator.key`,
    port: int('LEDGERSEAL_VALIDATOR_PORT', 8788, 0, 65_535),
    host: str('LEDGERSEAL_VALIDATOR_HOST') ?? d.host,
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
