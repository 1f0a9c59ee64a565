/**
 * The services container: everything the HTTP app needs from the outside,
 * passed in by the wiring (Lambda entry points, the local runner, tests).
 * The app never reads the environment, the clock or the network on its own.
 */
import type { ValidatorSet } from '@ledgerseal/sdk';
import type { WebFiles } from './api/web.ts';
import type { Context } from 'hono';
import type { Config } from './config.ts';
import type { SignRequest, SignResponse } from './validator/protocol.ts';
import type { Store } from './store/port.ts';

export interface Clock {
  now(): Date;
}

/** One structured log record; the logger adds time and level and writes one JSON line. */
export type LogFields = Record<string, unknown>;

export interface Logger {
  info(fields: LogFields): void;
  warn(fields: LogFields): void;
  error(fields: LogFields): void;
}

/** A validator as the HTTP endpoint POST /v1/validator/sign sees it. */
export interface ValidatorService {
  /** The validator's name in the validator set. */
  readonly name: string;
  /** Checks and signs a proposal, or throws (see functions/ledger) when it refuses. */
  sign(req: SignRequest): Promise<SignResponse>;
}

/**
 * The address a request came from, as the platform adapter knows it (the socket
 * on node:http, the request context on Lambda); undefined when unknown. Used to
 * rate-limit public routes per client. Headers such as X-Forwarded-For are not
 * trusted unless the adapter that supplies this function decides so.
 */
export type ClientAddress = (c: Context) => string | undefined;

export interface Services {
  store: Store;
  config: Config;
  /** The validator set in force: served at GET /v1/validators, default trust of POST /v1/verify. */
  validatorSet: ValidatorSet;
  /** Present when this deployment hosts a validator behind POST /v1/validator/sign. */
  validator?: ValidatorService;
  clock: Clock;
  log: Logger;
  /** The webhook delivery worker of this process, told when the API queues a message (test, resend, recover). */
  webhooks?: { wake(): void };
  /** Set by the platform adapter; without it every client shares one rate-limit bucket on public routes. */
  clientAddress?: ClientAddress;
  /** The built verify page (functions/api/web.ts), read by the platform; without it `/` is not served. */
  webFiles?: WebFiles;
}

export const systemClock: Clock = { now: () => new Date() };

/**
 * A logger writing one JSON object per line through `write` (standard output by
 * default, written directly: console.log's formatting cost a measurable share of
 * a one-hash request; BENCHMARKS.md "Where the time of a request goes").
 */
export function jsonLogger(write: (line: string) => void = (line) => void process.stdout.write(`${line}\n`)): Logger {
  const emit = (level: string, fields: LogFields): void => {
    write(JSON.stringify({ time: new Date().toISOString(), level, ...fields }));
  };
  return {
    info: (f) => emit('info', f),
    warn: (f) => emit('warn', f),
    error: (f) => emit('error', f),
  };
}

/** A logger that drops everything (tests that do not look at logs). */
export const silentLogger: Logger = { info: () => {}, warn: () => {}, error: () => {} };
