/**
 * Where the CLI finds the service and its secrets (docs/cli.md "Configuration"):
 *
 *   1. options (--url, --blinding-key-file),
 *   2. the environment: LEDGERSEAL_URL, LEDGERSEAL_API_KEY, LEDGERSEAL_BLINDING_KEY
 *      (64 hex characters: the agency's 32-byte blinding key),
 *   3. a JSON config file: --config <file>, else $LEDGERSEAL_CONFIG, else
 *      $XDG_CONFIG_HOME/ledgerseal/config.json (~/.config/...) when it exists:
 *      { "url", "apiKey", "blindingKey" }. A file holding secrets must not be
 *      readable by group or others (mode 0600), as ssh insists for its keys.
 *
 * Secrets are never printed: `describeConfig` names where each came from, never
 * its value.
 */
import { readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { CliError, EXIT, usage } from './errors.ts';

export interface CliConfig {
  url?: string;
  apiKey?: string;
  blindingKey?: Uint8Array;
  /** Where each setting came from, for messages (never the value). */
  origins: Record<string, string>;
}

export interface ConfigInputs {
  env: Record<string, string | undefined>;
  url?: string;
  blindingKeyFile?: string;
  configFile?: string;
}

function parseBlindingKey(text: string, where: string): Uint8Array {
  const hex = text.trim();
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) {
    usage(`the blinding key from ${where} must be 64 hexadecimal characters (32 bytes); it is ${hex.length} characters long`);
  }
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function checkPrivate(path: string): void {
  if (process.platform === 'win32') return;
  const mode = statSync(path).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new CliError(EXIT.usage, `${path} holds secrets but is readable by others (mode ${mode.toString(8)}); run: chmod 600 ${path}`);
  }
}

function readConfigFile(path: string, required: boolean): Record<string, unknown> | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if (!required && (e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    usage(`cannot read the config file ${path}: ${(e as Error).message}`);
  }
  checkPrivate(path);
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    usage(`the config file ${path} is not valid JSON`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) usage(`the config file ${path} must hold a JSON object`);
  for (const k of Object.keys(v)) {
    if (!['url', 'apiKey', 'blindingKey'].includes(k)) usage(`unknown setting "${k}" in ${path} (known: url, apiKey, blindingKey)`);
  }
  return v as Record<string, unknown>;
}

export function loadCliConfig(inputs: ConfigInputs): CliConfig {
  const { env } = inputs;
  const explicit = inputs.configFile ?? env.LEDGERSEAL_CONFIG;
  const defaultPath = join(env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), 'ledgerseal', 'config.json');
  const filePath = explicit ?? defaultPath;
  const file = readConfigFile(filePath, explicit !== undefined) ?? {};
  const str = (k: string): string | undefined => {
    const v = file[k];
    if (v !== undefined && typeof v !== 'string') usage(`"${k}" in ${filePath} must be a string`);
    return v;
  };
  const cfg: CliConfig = { origins: {} };
  const set = (name: 'url' | 'apiKey', value: string | undefined, origin: string): void => {
    if (value !== undefined && value !== '' && cfg[name] === undefined) {
      cfg[name] = value;
      cfg.origins[name] = origin;
    }
  };
  set('url', inputs.url, '--url');
  set('url', env.LEDGERSEAL_URL, 'LEDGERSEAL_URL');
  set('url', str('url'), filePath);
  set('apiKey', env.LEDGERSEAL_API_KEY, 'LEDGERSEAL_API_KEY');
  set('apiKey', str('apiKey'), filePath);
  if (inputs.blindingKeyFile !== undefined) {
    checkPrivate(inputs.blindingKeyFile);
    let text: string;
    try {
      text = readFileSync(inputs.blindingKeyFile, 'utf8');
    } catch (e) {
      usage(`cannot read the blinding key file ${inputs.blindingKeyFile}: ${(e as Error).message}`);
    }
    cfg.blindingKey = parseBlindingKey(text, inputs.blindingKeyFile);
    cfg.origins.blindingKey = inputs.blindingKeyFile;
  } else if (env.LEDGERSEAL_BLINDING_KEY) {
    cfg.blindingKey = parseBlindingKey(env.LEDGERSEAL_BLINDING_KEY, 'LEDGERSEAL_BLINDING_KEY');
    cfg.origins.blindingKey = 'LEDGERSEAL_BLINDING_KEY';
  } else if (str('blindingKey') !== undefined) {
    cfg.blindingKey = parseBlindingKey(str('blindingKey')!, filePath);
    cfg.origins.blindingKey = filePath;
  }
  if (cfg.url !== undefined) {
    let u: URL;
    try {
      u = new URL(cfg.url);
    } catch {
      usage(`the service URL from ${cfg.origins.url} is not a URL: "${cfg.url}"`);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') usage(`the service URL from ${cfg.origins.url} must be http(s), got ${u.protocol}`);
    cfg.url = u.toString().replace(/\/+$/, '');
  }
  return cfg;
}

export function requireService(cfg: CliConfig): { url: string; apiKey: string } {
  if (cfg.url === undefined) usage('no service URL: set LEDGERSEAL_URL (or --url, or "url" in the config file)');
  if (cfg.apiKey === undefined) usage('no API key: set LEDGERSEAL_API_KEY (or "apiKey" in the config file)');
  return { url: cfg.url, apiKey: cfg.apiKey };
}

export function requireBlindingKey(cfg: CliConfig): Uint8Array {
  if (cfg.blindingKey === undefined) {
    usage('no blinding key: set LEDGERSEAL_BLINDING_KEY to the agency\'s 32-byte key as 64 hex characters, or pass --blinding-key-file');
  }
  return cfg.blindingKey;
}
