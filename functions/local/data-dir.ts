/**
 * The local runner's data directory (docs/operations.md "Data directory"):
 *
 *   lock               pid of the process using it: one runner per directory
 *   ledger.json        the ledger's origin and on-disk format, fixed for life
 *   admin-key.sha256   the admin token's SHA-256 (never the token), 0600
 *   keys/<name>.key    validator signer keys, 0600 (ledger/keys.ts)
 *   webhook-key        the key that seals webhook endpoint secrets, 0600
 *                      (`local:<base64>`; LEDGERSEAL_WEBHOOK_SECRET_KEYS overrides)
 *   validator-set.json the validator set document (written at every start)
 *   validators/<name>/ each validator's own directory, in both modes:
 *     state.json, lock   its state (validator/file-state-store.ts)
 *     coordinator-token  the token the runner sends it, 0600 (LEDGERSEAL_VALIDATORS=processes
 *                        only; the child process is given its SHA-256 alone)
 *   dynamo/            dynalite's LevelDB files
 *
 * Everything here is checked before the store is opened, so a second
 * `npm start` on a directory in use, or a ledger of another origin or format,
 * stops with a sentence that says so instead of a LevelDB error.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ValidatorSet } from '@ledgerseal/sdk';
import { generateAdminToken, hashToken } from '../api/auth.ts';
import { parseSealingKey } from '../config.ts';
import { lockDirectory } from '../dir-lock.ts';

/**
 * The on-disk format of a local ledger. 2: validators cosign in C2SP
 * tlog-cosignature/v1 (type 0x04 keys) and batch parts are keyed by their
 * digest; ledgers of format 1 (plain Ed25519 notes) cannot be continued.
 */
export const LOCAL_LEDGER_FORMAT = 2;

export class DataDirError extends Error {
  override name = 'DataDirError';
}

/**
 * Take the directory's lock (an exclusively created file holding our pid). A
 * lock left by a process that no longer runs is taken over; one held by a live
 * process is refused. Returns the release function.
 */
export function lockDataDir(dir: string): () => void {
  return lockDirectory(dir, (r) =>
    new DataDirError(
      r.kind === 'in-use'
        ? `the data directory ${dir} is in use by process ${r.pid} (another npm start?); stop it or set LEDGERSEAL_DATA_DIR to another directory`
        : r.kind === 'this-process'
          ? `the data directory ${dir} is already open in this process`
          : `cannot lock the data directory ${dir}`,
    ),
  );
}

/** A ledger keeps its origin and format for life: refuse to continue one under another origin or format. */
export function checkLedgerFile(dir: string, origin: string, table: string): void {
  const file = join(dir, 'ledger.json');
  if (!existsSync(file)) {
    writeFileSync(file, `${JSON.stringify({ origin, table, format: LOCAL_LEDGER_FORMAT }, null, 2)}\n`, { mode: 0o600 });
    return;
  }
  const stored = JSON.parse(readFileSync(file, 'utf8')) as { origin?: string; format?: number };
  if (stored.origin !== origin) {
    throw new DataDirError(`the ledger in ${dir} has origin "${stored.origin}", not "${origin}"; unset LEDGERSEAL_ORIGIN or use another LEDGERSEAL_DATA_DIR`);
  }
  if ((stored.format ?? 1) !== LOCAL_LEDGER_FORMAT) {
    throw new DataDirError(
      `the ledger in ${dir} has on-disk format ${stored.format ?? 1}, written by an earlier Ledgerseal (validators signed plain Ed25519 notes); ` +
        `this version writes format ${LOCAL_LEDGER_FORMAT} and cannot continue it: use an empty LEDGERSEAL_DATA_DIR`,
    );
  }
}

/**
 * The admin key: LEDGERSEAL_ADMIN_KEY when set; otherwise the hash kept in the
 * data dir; on first start a new key is generated. Only its hash is ever written,
 * and only by `persist()`, called once the runner is up and the banner can show
 * the key: a first start that fails half-way must not keep a hash nobody saw.
 */
export function adminKey(dir: string, configured: string | null): { hash: string; generated?: string; persist(): void } {
  const file = join(dir, 'admin-key.sha256');
  const none = (): void => {};
  if (configured !== null) return { hash: hashToken(configured), persist: none };
  if (existsSync(file)) return { hash: readFileSync(file, 'utf8').trim(), persist: none };
  const { token, keyHash } = generateAdminToken();
  return { hash: keyHash, generated: token, persist: () => writeFileSync(file, `${keyHash}\n`, { mode: 0o600, flag: 'wx' }) };
}

export function ensureDataDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
}

/**
 * The local runner's webhook sealing key: read from the data dir, created on
 * first start. Losing it makes the stored endpoint secrets unusable (rotate them).
 */
export function webhookSealingKey(dir: string): { id: string; key: Uint8Array } {
  const file = join(dir, 'webhook-key');
  if (!existsSync(file)) {
    try {
      writeFileSync(file, `local:${randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
  const key = parseSealingKey(readFileSync(file, 'utf8'));
  if (!key) throw new DataDirError(`${file} is not \`<id>:<base64 of 32 bytes>\``);
  return key;
}

/** The directory of one validator (its state; its coordinator token in processes mode). */
export function validatorDir(dir: string, name: string): string {
  const d = join(dir, 'validators', name);
  mkdirSync(d, { recursive: true, mode: 0o700 });
  return d;
}

/**
 * The token the runner sends one validator process (`Authorization: Bearer`):
 * read from `validators/<name>/coordinator-token`, created (0600) on first use.
 * The child is given only its SHA-256 (LEDGERSEAL_COORDINATOR_KEY_HASH).
 */
export function coordinatorToken(dir: string, name: string): { token: string; hash: string } {
  const file = join(validatorDir(dir, name), 'coordinator-token');
  try {
    writeFileSync(file, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  const token = readFileSync(file, 'utf8').trim();
  if (!/^[A-Za-z0-9_-]{43}$/.test(token)) throw new DataDirError(`${file} does not hold a coordinator token (43 base64url characters); delete it to generate a new one`);
  return { token, hash: hashToken(token) };
}

/** Write the validator set document (`validator-set.json`, what GET /v1/validators serves); returns its path. */
export function writeValidatorSet(dir: string, set: ValidatorSet): string {
  const file = join(dir, 'validator-set.json');
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(set, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, file);
  return file;
}
