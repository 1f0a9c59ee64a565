/**
 * The Lambda side of the wiring (docs/deploy.md): what SST links to one
 * function, turned into the service configuration, and `wire()` built from
 * it once per container. Each handler file reads the `Resource.X` values its
 * function links (so that the resources a handler reads can be checked
 * against sst.config.ts's links, test/deploy) and passes them here; this
 * module reads no resource itself.
 *
 * - Secrets become the LEDGERSEAL_* variables of config.ts and go through
 *   loadConfig with the plain environment, so a malformed secret fails the
 *   container's first invocation with the same message as a bad variable.
 * - The validator set is a document (the ValidatorSet secret); validators are
 *   reached over HTTP (remote-validator.ts) at the URLs of the
 *   ValidatorEndpoints secret and of the validator functions this app hosts
 *   (the HostedValidators link), with the coordinator's bearer token.
 * - The DynamoDB client takes region, credentials and endpoint from the
 *   standard AWS SDK configuration (store/dynamo-client.ts).
 * - The API function alone serves the web front (`/`, `/explorer`, `/docs`,
 *   `/assets/*`): its handler passes `webFiles`, a reader over the web/dist
 *   packaged next to it (web-dist.ts); the other functions serve no HTTP.
 * - Webhook targets: config.ts never allows loopback or http: targets, and
 *   nothing here changes that (the local runner is the only place that does).
 */
import { parseValidatorSet, type ValidatorSet } from '@ledgerseal/sdk';
import type { WebFiles } from '../api/web.ts';
import { type Env, loadConfig } from '../config.ts';
import { type ClientAddress, jsonLogger } from '../services.ts';
import { createAwsDynamoClient } from '../store/dynamo-client.ts';
import { DynamoStore } from '../store/dynamo-store.ts';
import { type Ledger, type WiringInput, wire } from '../wiring.ts';

/** What a handler read from its links. */
export interface Linked {
  /** Resource.LedgerTable.name */
  table: string;
  /** Resource.ValidatorSet.value: the validator set document (JSON, sdk validator-set.ts). */
  validatorSet: string;
  /** Secret values under the names of the variables they set (LEDGERSEAL_ADMIN_KEY_HASH, ...). */
  secrets?: Env;
  /** The validators the round coordinator asks (rounds function only): see validatorEndpoints(). */
  validators?: readonly ValidatorEndpoint[];
  /**
   * Not a link: the web front the function serves (API function only), read from
   * the web/dist that sst.config.ts copies into its package (web-dist.ts).
   */
  webFiles?: WebFiles;
}

export interface ValidatorEndpoint {
  name: string;
  /** Base URL; the coordinator POSTs to `{url}/v1/validator/sign`. */
  url: string;
  /** The bearer token this validator expects from the coordinator. */
  coordinatorKey: string;
}

/** Test hooks, applied to every ledger built after they are set (never set in AWS). */
export interface TestHooks {
  webhookSender?: WiringInput['webhookSender'];
  log?: WiringInput['log'];
}
let hooks: TestHooks = {};
export function setTestHooks(h: TestHooks): void {
  hooks = h;
}

/**
 * The address a request came from, as API Gateway (HTTP API, payload 2.0) or a
 * function URL saw it: `requestContext.http.sourceIp`. No header is trusted.
 */
export const lambdaClientAddress: ClientAddress = (c) => {
  const env = c.env as { requestContext?: { http?: { sourceIp?: unknown } } } | undefined;
  const ip = env?.requestContext?.http?.sourceIp;
  return typeof ip === 'string' && ip !== '' ? ip : undefined;
};

/** A value built on first use and kept for the life of the container; a build that throws is tried again next time. */
export function once<T>(build: () => T): () => T {
  let built: { value: T } | undefined;
  return () => (built ??= { value: build() }).value;
}

function validatorSetOf(json: string, origin: string): ValidatorSet {
  let set: ValidatorSet;
  try {
    set = parseValidatorSet(JSON.parse(json));
  } catch (e) {
    throw new Error(`the ValidatorSet secret does not hold a validator set document: ${(e as Error).message}`, { cause: e });
  }
  if (set.origin !== undefined && set.origin !== origin) {
    throw new Error(`the ValidatorSet secret is bound to origin "${set.origin}", but this deployment's origin is "${origin}" (LEDGERSEAL_ORIGIN)`);
  }
  return set;
}

/**
 * The validators the coordinator reaches over HTTP: those of the
 * ValidatorEndpoints secret (a JSON array of `{ "name", "url", "token"? }`,
 * run by this operator elsewhere or by other agencies) and those this app
 * hosts (HostedValidators: name -> function URL). A validator without its own
 * token gets the CoordinatorToken. Names must be distinct; each must be in the
 * validator set (wire() checks).
 */
export function validatorEndpoints(external: string, hosted: Readonly<Record<string, string>>, coordinatorToken: string): ValidatorEndpoint[] {
  let list: unknown;
  try {
    list = JSON.parse(external);
  } catch (e) {
    throw new Error('the ValidatorEndpoints secret is not JSON', { cause: e });
  }
  const bad = (why: string): never => {
    throw new Error(`the ValidatorEndpoints secret must be a JSON array of { "name", "url", "token"? }: ${why}`);
  };
  if (!Array.isArray(list)) bad('not an array');
  const out: ValidatorEndpoint[] = [];
  for (const [i, v] of (list as unknown[]).entries()) {
    const e = (typeof v === 'object' && v !== null ? v : {}) as Record<string, unknown>;
    if (typeof e.name !== 'string' || typeof e.url !== 'string') bad(`entry ${i} needs string name and url`);
    if (e.token !== undefined && (typeof e.token !== 'string' || e.token === '')) bad(`entry ${i}: token must be a non-empty string`);
    const url = new URL(e.url as string);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') bad(`entry ${i}: url must be http(s)`);
    out.push({ name: e.name as string, url: url.href, coordinatorKey: (e.token as string | undefined) ?? coordinatorToken });
  }
  for (const [name, url] of Object.entries(hosted)) out.push({ name, url, coordinatorKey: coordinatorToken });
  const names = out.map((v) => v.name);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice !== undefined) throw new Error(`validator "${twice}" is listed twice (ValidatorEndpoints and HostedValidators together)`);
  if (out.length > 0 && coordinatorToken === '' && out.some((v) => v.coordinatorKey === '')) throw new Error('the CoordinatorToken secret is empty');
  return out;
}

/** Build the service of one Lambda function from what it links plus its plain environment. Throws at once on an inconsistent setup. */
export function awsLedger(linked: Linked, env: Env = process.env): Ledger {
  const config = loadConfig({ ...env, ...linked.secrets });
  const validatorSet = validatorSetOf(linked.validatorSet, config.origin);
  const store = new DynamoStore(createAwsDynamoClient(), linked.table);
  return wire({
    config,
    store,
    validatorSet,
    remoteValidators: linked.validators ?? [],
    clientAddress: lambdaClientAddress,
    ...(linked.webFiles ? { webFiles: linked.webFiles } : {}),
    log: hooks.log ?? jsonLogger(),
    ...(hooks.webhookSender ? { webhookSender: hooks.webhookSender } : {}),
  });
}
