/**
 * The local runner's validators as separate processes (LEDGERSEAL_VALIDATORS=processes,
 * docs/operations.md "Validators as processes"): one `npm run validator` child
 * per validator (functions/validator/launch.ts validatorCommand), each on its
 * own data directory `<dataDir>/validators/<name>/`, on 127.0.0.1, with only the
 * SHA-256 of its coordinator token, the validator set document, and the
 * runner's own URL as the public log it catches up from. The coordinator
 * reaches it over HTTP (ledger/remote-validator.ts httpValidator).
 *
 * Readiness is the child's `listening on` line (launch.ts), never a sleep. A
 * child that exits on its own is logged and restarted with exponential backoff
 * on the same port (any free port if that fails); while it is down, the
 * coordinator's request fails at once (`unreachable`) and rounds finalize as
 * long as the others hold a quorum. `stop()` sends SIGTERM, then SIGKILL after
 * a bound, and keeps the validator down until `start()`. The child has an IPC
 * channel (unused but for this): if the runner dies, even by SIGKILL, the
 * channel closes and the child stops (main.ts), leaving no orphan holding its
 * state directory's lock or its port.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Env } from '../config.ts';
import { httpValidator, type ValidatorClient } from '../ledger/remote-validator.ts';
import type { Logger } from '../services.ts';
import { parseListeningLine, validatorCommand } from '../validator/launch.ts';

export interface ValidatorProcessSpec {
  name: string;
  /** Its data directory (state.json, lock). */
  dataDir: string;
  keyFile: string;
  /** Path of the validator set document. */
  validatorSetFile: string;
  /** SHA-256 (hex) of the coordinator token: the only form of the token the child sees. */
  coordinatorKeyHash: string;
  /** The coordinator's public API (the runner's own URL). */
  ledgerUrl: string;
  origin: string;
  maxClockSkewMs: number;
  maxBodyBytes: number;
}

export interface SupervisorOptions {
  /** Restart a child that exits on its own (default true). */
  restart?: boolean;
  /** First restart delay, doubled after each start that fails, up to maxBackoffMs (defaults 100 ms, 10 s). */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** SIGTERM, then SIGKILL after this long (default 5 s). */
  stopTimeoutMs?: number;
  /** A child that has not printed its listening line after this long is killed (default 60 s). */
  readyTimeoutMs?: number;
  /** Test hook: awaited before each automatic restart (after the backoff), so a test decides when it happens. */
  beforeRestart?: (name: string) => Promise<void>;
  log: Logger;
}

export interface ValidatorProcess {
  readonly name: string;
  /** Base URL while it listens, else null. */
  readonly url: string | null;
  /** The pid of the running child, else null. */
  readonly pid: number | null;
  /** How many times a child of this validator became ready. */
  readonly starts: number;
  /** Signal the running child as if it crashed; the supervisor restarts it (unless restarts are off). Resolves once it exited. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Stop it (SIGTERM, then SIGKILL after the bound) and keep it down until start(). */
  stop(): Promise<void>;
  /** Start it (after stop(), or after it died with restarts off); resolves once it listens. */
  start(): Promise<void>;
}

/** The child's environment: the runner's, minus every LEDGERSEAL_* and PORT, plus the validator's own. */
function childEnv(spec: ValidatorProcessSpec, port: number): Env {
  const env: Env = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('LEDGERSEAL_') && k !== 'PORT') env[k] = v;
  return {
    ...env,
    LEDGERSEAL_VALIDATOR_NAME: spec.name,
    LEDGERSEAL_ORIGIN: spec.origin,
    LEDGERSEAL_VALIDATOR_DATA_DIR: spec.dataDir,
    LEDGERSEAL_VALIDATOR_KEY_FILE: spec.keyFile,
    LEDGERSEAL_VALIDATOR_HOST: '127.0.0.1',
    LEDGERSEAL_VALIDATOR_PORT: String(port),
    LEDGERSEAL_LEDGER_URL: spec.ledgerUrl,
    LEDGERSEAL_VALIDATOR_SET: spec.validatorSetFile,
    LEDGERSEAL_COORDINATOR_KEY_HASH: spec.coordinatorKeyHash,
    LEDGERSEAL_MAX_CLOCK_SKEW_MS: String(spec.maxClockSkewMs),
    LEDGERSEAL_MAX_BODY_BYTES: String(spec.maxBodyBytes),
  };
}

const LEVELS = new Set(['info', 'warn', 'error']);

class Supervised implements ValidatorProcess {
  url: string | null = null;
  starts = 0;
  #child: ChildProcess | null = null;
  #exited: Promise<void> = Promise.resolve();
  #port = 0;
  #held = false;
  #closed = false;
  #failures = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #starting: Promise<void> | null = null;

  constructor(
    readonly spec: ValidatorProcessSpec,
    readonly opts: Required<Omit<SupervisorOptions, 'log' | 'beforeRestart'>> & Pick<SupervisorOptions, 'beforeRestart'> & { log: Logger },
  ) {}

  get name(): string {
    return this.spec.name;
  }

  get pid(): number | null {
    return this.#child?.exitCode === null && this.#child.signalCode === null ? (this.#child.pid ?? null) : null;
  }

  /** Spawn one child and wait for its listening line; rejects if it exits or times out first. */
  #spawn(): Promise<void> {
    const { command, args, cwd } = validatorCommand();
    const child = spawn(command, args, { cwd, env: childEnv(this.spec, this.#port), stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    child.on('error', () => {}); // reported through the start promise below; never an unhandled 'error'
    this.#child = child;
    const log = this.opts.log;
    const name = this.spec.name;
    // Its JSON log lines (stdout) become the runner's, tagged with the validator's name.
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let f: Record<string, unknown>;
      try {
        f = JSON.parse(line) as Record<string, unknown>;
      } catch {
        f = { level: 'info', msg: line };
      }
      const { time: _t, level, ...fields } = f;
      const lvl = typeof level === 'string' && LEVELS.has(level) ? (level as 'info' | 'warn' | 'error') : 'info';
      log[lvl]({ ...fields, msg: typeof fields.msg === 'string' ? fields.msg : 'validator process output', validator: name });
    });
    const stderr: string[] = [];
    let ready = false;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    this.#exited = exited;
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`validator process ${name} did not listen within ${this.opts.readyTimeoutMs} ms: ${stderr.join(' | ')}`));
        child.kill('SIGKILL');
      }, this.opts.readyTimeoutMs);
      createInterface({ input: child.stderr! }).on('line', (line) => {
        const l = parseListeningLine(line);
        if (!ready && l && l.name === name) {
          ready = true;
          clearTimeout(timer);
          this.url = l.url;
          this.#port = Number(new URL(l.url).port);
          this.starts++;
          log.info({ msg: 'validator process listening', validator: name, url: l.url, pid: child.pid });
          resolve();
          return;
        }
        stderr.push(line);
        if (stderr.length > 20) stderr.shift();
      });
      child.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        if (this.#child === child) {
          this.#child = null;
          this.url = null;
        }
        if (!ready) {
          reject(new Error(`validator process ${name} exited before listening (${signal ?? `status ${code}`}): ${stderr.join(' | ')}`));
          return;
        }
        if (this.#held || this.#closed) return;
        log.error({ msg: 'validator process exited', validator: name, pid: child.pid, code, signal, restart: this.opts.restart, ...(stderr.length ? { stderr: stderr.join(' | ') } : {}) });
        this.#failures = 0; // it had started: the next start is a restart, not a failing start
        this.#scheduleRestart();
      });
    });
  }

  #scheduleRestart(): void {
    if (!this.opts.restart || this.#held || this.#closed || this.#timer) return;
    const delay = Math.min(this.opts.maxBackoffMs, this.opts.initialBackoffMs * 2 ** this.#failures);
    this.#timer = setTimeout(async () => {
      await this.opts.beforeRestart?.(this.name);
      this.#timer = undefined;
      if (this.#held || this.#closed) return;
      this.#starting = this.#spawn().then(
        () => {
          this.#starting = null;
          this.#failures = 0;
          this.opts.log.info({ msg: 'validator process restarted', validator: this.name, url: this.url });
        },
        (e: unknown) => {
          this.#starting = null;
          this.#failures++;
          this.#port = 0; // its port may be taken meanwhile: take any free one
          this.opts.log.error({ msg: 'validator process restart failed', validator: this.name, error: e instanceof Error ? e.message : String(e), attempt: this.#failures });
          this.#scheduleRestart();
        },
      );
    }, delay);
  }

  async start(): Promise<void> {
    if (this.#closed) throw new Error(`validator process ${this.name} is closed`);
    this.#held = false;
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    if (this.#starting) await this.#starting.catch(() => {});
    if (this.pid !== null) return;
    await this.#spawn();
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.#child;
    if (!child || this.pid === null) return;
    const exited = this.#exited;
    child.kill(signal);
    await exited;
  }

  async stop(): Promise<void> {
    this.#held = true;
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    if (this.#starting) await this.#starting.catch(() => {});
    const child = this.#child;
    if (!child || this.pid === null) return;
    const exited = this.#exited;
    child.kill('SIGTERM');
    let force: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([exited, new Promise<void>((r) => (force = setTimeout(r, this.opts.stopTimeoutMs)))]);
    clearTimeout(force);
    if (this.pid !== null) {
      this.opts.log.warn({ msg: 'validator process did not stop in time: SIGKILL', validator: this.name, pid: child.pid });
      child.kill('SIGKILL');
      await exited;
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.stop();
  }

  /** What the coordinator asks: HTTP to wherever the child listens now; a validator that is down fails at once. */
  client(coordinatorKey: string): ValidatorClient {
    let cached: { url: string; client: ValidatorClient } | null = null;
    return {
      name: this.name,
      sign: (req, opts) => {
        const url = this.url;
        if (url === null) return Promise.reject(new Error(`validator process ${this.name} is not running`));
        if (cached?.url !== url) cached = { url, client: httpValidator({ name: this.name, url, coordinatorKey }) };
        return cached.client.sign(req, opts);
      },
    };
  }
}

export interface ValidatorProcesses {
  readonly processes: readonly ValidatorProcess[];
  /** One client per validator, for wire({ validatorClients }); usable before the children run (they fail as unreachable). */
  readonly clients: readonly ValidatorClient[];
  /** Start every child with the coordinator's public URL and wait until all listen; if one cannot start, all are stopped and the error is thrown. */
  start(ledgerUrl: string): Promise<void>;
  /** Stop every child (SIGTERM, then SIGKILL after the bound); no restarts afterwards. */
  close(): Promise<void>;
}

/**
 * The supervisor of one child per spec, not started yet (the runner needs the
 * clients to build the coordinator before it listens, and the children need the
 * URL it listens on). `coordinatorKeys` holds each validator's token: the runner
 * keeps it; the child only gets its hash.
 */
export function validatorProcesses(
  specs: readonly Omit<ValidatorProcessSpec, 'ledgerUrl'>[],
  coordinatorKeys: ReadonlyMap<string, string>,
  options: SupervisorOptions,
): ValidatorProcesses {
  const opts = {
    restart: options.restart ?? true,
    initialBackoffMs: options.initialBackoffMs ?? 100,
    maxBackoffMs: options.maxBackoffMs ?? 10_000,
    stopTimeoutMs: options.stopTimeoutMs ?? 5_000,
    readyTimeoutMs: options.readyTimeoutMs ?? 60_000,
    ...(options.beforeRestart !== undefined && { beforeRestart: options.beforeRestart }),
    log: options.log,
  };
  const all = specs.map((s) => new Supervised({ ...s, ledgerUrl: '' }, opts));
  const clients = all.map((p) => {
    const key = coordinatorKeys.get(p.name);
    if (key === undefined) throw new Error(`no coordinator token for validator ${p.name}`);
    return p.client(key);
  });
  const close = async (): Promise<void> => void (await Promise.all(all.map((p) => p.close())));
  return {
    processes: all,
    clients,
    async start(ledgerUrl) {
      for (const p of all) p.spec.ledgerUrl = ledgerUrl;
      const started = await Promise.allSettled(all.map((p) => p.start()));
      const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) {
        await close();
        throw failed.reason;
      }
    },
    close,
  };
}
