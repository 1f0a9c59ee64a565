/**
 * How the coordinator reaches a validator (../validator/protocol.ts): one interface,
 * two transports. In process (the local runner, tests) it calls Validator.sign
 * directly; over HTTP (one Lambda per validator, or another agency's validator)
 * it POSTs the SignRequest to `{url}/v1/validator/sign` with the coordinator's
 * bearer key. Either way a refusal surfaces as a ValidatorRefusal (a 'refused'
 * fault), a 200 without a SignResponse as InvalidSignResponse ('bad-signature'),
 * and anything else (network, 5xx, unparsable errors) as a plain Error ('unreachable').
 */
import type { Validator } from '../validator/validator.ts';
import {
  REFUSAL_CODES,
  type RefusalCode,
  type SignRequest,
  type SignResponse,
  SignResponseSchema,
  ValidatorRefusal,
} from '../validator/protocol.ts';

/** A validator answered, but not with a SignResponse: it counts as a bad signature, not an outage. */
export class InvalidSignResponse extends Error {
  override name = 'InvalidSignResponse';
}

export interface ValidatorClient {
  /** The validator's name in the validator set. */
  readonly name: string;
  /** Per-validator timeout; the coordinator's default applies when absent. */
  readonly timeoutMs?: number;
  /** Resolve with the signature, or reject (ValidatorRefusal for a refusal). Must honour `signal`. */
  sign(req: SignRequest, opts: { signal: AbortSignal }): Promise<SignResponse>;
}

/** A client that calls a Validator in this process. */
export function inProcessValidator(validator: Validator, opts: { timeoutMs?: number } = {}): ValidatorClient {
  return {
    name: validator.name,
    ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
    async sign(req, { signal }) {
      signal.throwIfAborted();
      return validator.sign(req);
    },
  };
}

export interface HttpValidatorOptions {
  name: string;
  /** Base URL of the validator's service, e.g. `https://validator-2.example.gov`. */
  url: string;
  /** The bearer key the validator expects from this coordinator. */
  coordinatorKey: string;
  timeoutMs?: number;
  /** Injected for tests; defaults to the global fetch. */
  fetch?: typeof fetch;
}

function isRefusalCode(v: unknown): v is RefusalCode {
  return typeof v === 'string' && (REFUSAL_CODES as readonly string[]).includes(v);
}

/** A client that speaks the validator protocol over HTTP. */
export function httpValidator(opts: HttpValidatorOptions): ValidatorClient {
  const endpoint = new URL('v1/validator/sign', opts.url.endsWith('/') ? opts.url : `${opts.url}/`).toString();
  const doFetch = opts.fetch ?? fetch;
  return {
    name: opts.name,
    ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
    async sign(req, { signal }) {
      const res = await doFetch(endpoint, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, application/problem+json',
          authorization: `Bearer ${opts.coordinatorKey}`,
        },
        body: JSON.stringify(req),
        signal,
      });
      const text = await res.text();
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        body = undefined;
      }
      if (res.ok) {
        const parsed = SignResponseSchema.safeParse(body);
        if (!parsed.success) throw new InvalidSignResponse(`validator ${opts.name} answered 200 with a malformed SignResponse`);
        return parsed.data;
      }
      const problem = (typeof body === 'object' && body !== null ? body : {}) as { code?: unknown; detail?: unknown };
      if (res.status >= 400 && res.status < 500 && isRefusalCode(problem.code)) {
        throw new ValidatorRefusal(problem.code, typeof problem.detail === 'string' ? problem.detail : `HTTP ${res.status}`);
      }
      throw new Error(`validator ${opts.name} answered HTTP ${res.status}`);
    },
  };
}
