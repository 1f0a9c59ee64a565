/**
 * The one module that builds the service from a Config (docs/operations.md):
 * the HTTP app, the validators this process hosts, the round coordinator and
 * the publication job, each with the configured limits and the same logging. The local runner (local/runner.ts),
 * the Lambda handlers and the tests are thin wiring over `wire()`: they only
 * choose the store, the keys, the clock and the logger.
 */
import { type ValidatorSet } from '@ledgerseal/sdk';
import type { WebFiles } from './api/web.ts';
import { createApp, type LedgersealApp } from './app.ts';
import type { Config } from './config.ts';
import { runRound, type RoundDeps, type RoundOutcome, type Timers } from './ledger/coordinator.ts';
import { defaultValidatorSet, type ValidatorKey } from './ledger/keys.ts';
import { runPublication, type PublicationOutcome } from './ledger/publisher.ts';
import { httpValidator, type HttpValidatorOptions, inProcessValidator, type ValidatorClient } from './ledger/remote-validator.ts';
import { memoryStateStore } from './validator/file-state-store.ts';
import { httpLedgerSource, type LedgerSource } from './validator/ledger-source.ts';
import type { ValidatorStateStore } from './validator/state-store.ts';
import { Validator } from './validator/validator.ts';
import { type ClientAddress, type Clock, type Logger, type Services, silentLogger, systemClock } from './services.ts';
import type { Store } from './store/port.ts';
import { createSender, type Sender } from './webhooks/http-send.ts';
import { WebhookWorker } from './webhooks/worker.ts';

export interface WiringInput {
  config: Config;
  store: Store;
  /** Validators hosted by this process (their signer keys): signing in process, and behind POST /v1/validator/sign. */
  validatorKeys?: readonly ValidatorKey[];
  /**
   * The state store of each hosted validator (its own: never the ledger's table). The
   * local runner passes file stores under `<dataDir>/validators/<name>/`. Default: in
   * memory (tests and benchmarks; a restart forgets what was signed, and the
   * validator then relearns it from the public log at its start-up check).
   */
  validatorState?: (name: string) => ValidatorStateStore;
  /** The validator set in force. Default: the set of `validatorKeys`, weight 1 each, bound to the origin. */
  validatorSet?: ValidatorSet;
  /** Validators the coordinator reaches over HTTP instead of in process. */
  remoteValidators?: readonly Omit<HttpValidatorOptions, 'timeoutMs'>[];
  /** Validators reached through clients built by the caller (the local runner's supervised validator processes). */
  validatorClients?: readonly ValidatorClient[];
  /** The hosted validator that answers POST /v1/validator/sign (one of validatorKeys), if any. */
  signEndpointValidator?: string;
  clock?: Clock;
  log?: Logger;
  /** How the API learns a request's client address (rate limit of POST /v1/verify); platform adapters supply it. */
  clientAddress?: ClientAddress;
  /** The built verify page, served at `/` (functions/api/web.ts); the local runner reads web/dist. */
  webFiles?: WebFiles;
  /** Test hook: timers of the coordinator (sign timeouts, quorum grace). */
  timers?: Timers;
  /** Test hook: how webhooks are sent (default: HTTP with the configured target policy). */
  webhookSender?: Sender;
}

export interface Ledger {
  config: Config;
  services: Services;
  app: LedgersealApp;
  validatorSet: ValidatorSet;
  /** The validators hosted here, in set order. */
  validators: readonly Validator[];
  /** What the coordinator asks, in set order: in-process clients and HTTP clients. */
  validatorClients: readonly ValidatorClient[];
  roundDeps: RoundDeps;
  /** One round with the configured limits; its summary is logged (nothing for an empty round). */
  round(): Promise<RoundOutcome>;
  /** One run of the publication job; a new publication is logged. */
  publish(): Promise<PublicationOutcome>;
  /** The webhook delivery worker (start() it in long-running processes, drain() it per scheduled run). */
  webhooks: WebhookWorker;
  /** Stop the webhook worker (waiting for attempts in flight) and close its connections. */
  close(): Promise<void>;
}

const ms = (x: number): number => Math.round(x * 10) / 10;

/** Build everything from one configuration. Throws at once on an inconsistent setup. */
export function wire(input: WiringInput): Ledger {
  const { config, store } = input;
  const clock = input.clock ?? systemClock;
  const log = input.log ?? silentLogger;
  const keys = input.validatorKeys ?? [];
  const validatorSet = input.validatorSet ?? defaultValidatorSet(config.origin, keys);
  const now = (): Date => clock.now();

  // Hosted validators read the ledger only through its public API, served in process by this app
  // (created below; the closure reads it at call time).
  let app: LedgersealApp | undefined;
  const publicLog: LedgerSource = httpLedgerSource({
    url: 'http://ledger.in-process',
    fetch: (url, init) => {
      if (!app) throw new Error('the app is not built yet');
      return app.request(url, init);
    },
  });
  const stateOf = input.validatorState ?? ((name: string) => memoryStateStore({ name, origin: config.origin }));
  const validators = keys.map(
    (k) =>
      new Validator({
        name: k.name,
        signerKey: k.signerKey,
        origin: config.origin,
        validatorSet,
        state: stateOf(k.name),
        source: publicLog,
        maxClockSkewMs: config.maxClockSkewMs,
        now,
        log,
      }),
  );
  const remote = (input.remoteValidators ?? []).map((r) => httpValidator(r));
  const clients = [...validators.map((v) => inProcessValidator(v)), ...remote, ...(input.validatorClients ?? [])];
  for (const c of clients) {
    if (!validatorSet.validators.some((v) => v.name === c.name)) throw new Error(`validator "${c.name}" is not in the validator set`);
  }
  if (new Set(clients.map((c) => c.name)).size !== clients.length) throw new Error('a validator is configured twice');
  const order = new Map(validatorSet.validators.map((v, i) => [v.name, i] as const));
  clients.sort((a, b) => order.get(a.name)! - order.get(b.name)!);

  let signEndpoint: Validator | undefined;
  if (input.signEndpointValidator !== undefined) {
    signEndpoint = validators.find((v) => v.name === input.signEndpointValidator);
    if (!signEndpoint) throw new Error(`no hosted validator named "${input.signEndpointValidator}"`);
  }

  const services: Services = {
    store,
    config,
    validatorSet,
    clock,
    log,
    ...(signEndpoint ? { validator: signEndpoint } : {}),
    ...(input.clientAddress ? { clientAddress: input.clientAddress } : {}),
    ...(input.webFiles ? { webFiles: input.webFiles } : {}),
  };
  const sender = input.webhookSender ?? createSender({ policy: { allowLoopback: config.webhooks.allowLoopback, allowHttp: config.webhooks.allowLoopback } });
  const webhooks = new WebhookWorker({ store, config: config.webhooks, origin: config.origin, publicUrl: config.publicUrl, sender, clock, log });
  services.webhooks = webhooks;
  app = createApp(services);

  const roundDeps: RoundDeps = {
    store,
    origin: config.origin,
    validatorSet,
    validators: clients,
    maxBatchesPerRound: config.rounds.maxBatches,
    cutoffLagMs: config.rounds.cutoffLagMs,
    ...(config.rounds.signTimeoutMs !== null ? { signTimeoutMs: config.rounds.signTimeoutMs } : {}),
    now,
    ...(input.timers ? { timers: input.timers } : {}),
    // The summary below covers the info lines; keep the coordinator's warnings and errors.
    log: (level, message, fields) => {
      if (level !== 'info') log[level]({ msg: message, ...fields });
    },
  };

  return {
    config,
    services,
    app,
    validatorSet,
    validators,
    validatorClients: clients,
    roundDeps,
    async round() {
      const outcome = await runRound(roundDeps);
      if (outcome.status !== 'empty') {
        const line = {
          msg: 'round',
          status: outcome.status,
          height: outcome.height,
          batches: outcome.batches,
          anchors: outcome.anchors,
          signers: outcome.signers,
          faults: outcome.faults.map((f) => `${f.validator}:${f.reason}`),
          ...(outcome.leftOut.length > 0 ? { leftOut: outcome.leftOut.map((b) => b.batchId) } : {}),
          settleMs: ms(outcome.durations.settleMs),
          proposeMs: ms(outcome.durations.proposeMs),
          signMs: ms(outcome.durations.signMs),
          totalMs: ms(outcome.durations.totalMs),
        };
        if (outcome.status === 'finalized') log.info(line);
        else log.warn(line);
        webhooks.wake(); // events were written: finalized round, faults, quarantines
      }
      return outcome;
    },
    async publish() {
      const r = await runPublication({ store, validatorSet, intervalMs: config.publicationIntervalMs, now });
      if (r.status === 'published') {
        log.info({ msg: 'publication', size: r.publication.size, code: r.publication.code });
        webhooks.wake();
      }
      if (r.status === 'no-quorum') log.error({ msg: 'publication refused', size: r.size, detail: r.detail });
      return r;
    },
    webhooks,
    async close() {
      await webhooks.stop();
      if (!input.webhookSender) sender.close();
    },
  };
}
