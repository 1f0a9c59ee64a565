/**
 * One validator built from its configuration (../config.ts loadValidatorConfig):
 * the thin wiring every host shares. `npm run validator` (main.ts) passes a file
 * state store and its key file; a Lambda per validator passes a DynamoStateStore
 * on its own table and its secret key, then `handle(app)`.
 */
import { readFileSync } from 'node:fs';
import { parseValidatorSet, type ValidatorSet } from '@ledgerseal/sdk';
import type { ValidatorConfig } from '../config.ts';
import { createValidatorApp } from './app.ts';
import { type FetchLike, httpLedgerSource, type LedgerSource } from './ledger-source.ts';
import type { ValidatorStateStore } from './state-store.ts';
import { Validator, type ValidatorLogger } from './validator.ts';

export interface ValidatorServiceDeps {
  /** The C2SP tlog-cosignature/v1 signer key (a key file, or an SST secret). */
  signerKey: string;
  /** The validator set in force (readValidatorSet(config.validatorSet)). */
  validatorSet: ValidatorSet;
  /** Its own state store. */
  state: ValidatorStateStore;
  /** Default: httpLedgerSource over config.ledgerUrl (refusing CANNOT_CATCH_UP when it is not configured). */
  source?: LedgerSource;
  fetch?: FetchLike;
  now?: () => Date;
  log?: ValidatorLogger;
}

/** A validator set document from a path, or inline JSON (a value starting with `{`). */
export function readValidatorSet(spec: string): ValidatorSet {
  const text = spec.trimStart().startsWith('{') ? spec : readFileSync(spec, 'utf8');
  return parseValidatorSet(JSON.parse(text));
}

const noLedger: LedgerSource = {
  location: '(LEDGERSEAL_LEDGER_URL not set)',
  latestCheckpoint: () => Promise.reject(new Error('LEDGERSEAL_LEDGER_URL is not set')),
  blocks: () => Promise.reject(new Error('LEDGERSEAL_LEDGER_URL is not set')),
};

/** The validator and its HTTP app from a configuration. Throws at once on a misconfiguration. */
export function createValidatorService(config: ValidatorConfig, deps: ValidatorServiceDeps): { validator: Validator; app: ReturnType<typeof createValidatorApp> } {
  const source =
    deps.source ??
    (config.ledgerUrl !== null
      ? httpLedgerSource({ url: config.ledgerUrl, timeoutMs: config.ledgerTimeoutMs, ...(deps.fetch ? { fetch: deps.fetch } : {}) })
      : noLedger);
  const validator = new Validator({
    name: config.name,
    signerKey: deps.signerKey,
    origin: config.origin,
    validatorSet: deps.validatorSet,
    state: deps.state,
    source,
    maxClockSkewMs: config.maxClockSkewMs,
    ...(deps.now ? { now: deps.now } : {}),
    ...(deps.log ? { log: deps.log } : {}),
  });
  const app = createValidatorApp(validator, {
    coordinatorKeyHash: config.coordinatorKeyHash,
    maxBodyBytes: config.maxBodyBytes,
    ...(deps.log ? { log: deps.log } : {}),
  });
  return { validator, app };
}
