/**
 * Validator key files for the local runner (docs/operations.md): one
 * file per validator, `<dir>/<name>.key`, holding its C2SP tlog-cosignature/v1
 * signer key string (`PRIVATE+KEY+<name>+<hex8>+<base64(0x04 || seed)>`, sdk
 * cosignature.ts) and a newline, mode 0600
 * in a 0700 directory. A missing key is generated on first use; an existing one is
 * parsed and must carry the file's name. In AWS the same string is an SST Secret.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  generateCosignerKey,
  parseSignerKey,
  parseValidatorSet,
  VALIDATOR_SET_FORMAT,
  type ValidatorSet,
  verifierKeyOf,
} from '@ledgerseal/sdk';
import { serviceFail } from '../errors.ts';

export interface ValidatorKey {
  name: string;
  /** The signer (private) key string; never logged, never sent. */
  signerKey: string;
  /** The verifier key string, as listed in the validator set. */
  verifierKey: string;
}

/** The names of the default local validator set. */
export const DEFAULT_VALIDATOR_NAMES = ['validator-1', 'validator-2', 'validator-3', 'validator-4'] as const;

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

function readKey(path: string, name: string): ValidatorKey {
  const signerKey = readFileSync(path, 'utf8').trim();
  let parsed: ReturnType<typeof parseSignerKey>;
  try {
    parsed = parseSignerKey(signerKey);
  } catch (e) {
    serviceFail('INVALID_ARGUMENT', `${path} does not hold a signer key`, e);
  }
  if (parsed.name !== name) serviceFail('INVALID_ARGUMENT', `${path} holds the key of "${parsed.name}", not "${name}"`);
  if (parsed.type !== 'cosignature/v1') {
    serviceFail('INVALID_ARGUMENT', `${path} holds a plain Ed25519 note key; validators cosign with C2SP tlog-cosignature/v1 (type 0x04) keys`);
  }
  return { name, signerKey, verifierKey: verifierKeyOf(signerKey) };
}

/** Load `<dir>/<name>.key` for every name, generating (0600, exclusive create) the missing ones. */
export function loadOrCreateValidatorKeys(dir: string, names: readonly string[] = DEFAULT_VALIDATOR_NAMES): ValidatorKey[] {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return names.map((name) => {
    if (!NAME.test(name)) serviceFail('INVALID_ARGUMENT', `validator name "${name}" is not a safe file name`);
    const path = join(dir, `${name}.key`);
    try {
      return readKey(path, name);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    const { signerKey, verifierKey } = generateCosignerKey(name);
    try {
      // 'wx': never overwrite a key another process created meanwhile; read theirs instead.
      writeFileSync(path, `${signerKey}\n`, { mode: 0o600, flag: 'wx' });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return readKey(path, name);
      throw e;
    }
    return { name, signerKey, verifierKey };
  });
}

/** The validator set of the given keys, weight 1 each, bound to the origin, sorted by name. */
export function defaultValidatorSet(origin: string, keys: readonly Pick<ValidatorKey, 'name' | 'verifierKey'>[]): ValidatorSet {
  const validators = [...keys]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((k) => ({ name: k.name, key: k.verifierKey, weight: 1 }));
  return parseValidatorSet({ format: VALIDATOR_SET_FORMAT, origin, validators });
}
