/**
 * CLI configuration (sdk/src/cli/config.ts): precedence of options, environment
 * and config file; a secrets file readable by others is refused; secrets never
 * appear in messages. Progress (sdk/src/cli/progress.ts): bar with rate and ETA
 * on a terminal, plain lines otherwise, with an injected clock.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCliConfig } from '../../sdk/src/cli/config.ts';
import { CliError } from '../../sdk/src/cli/errors.ts';
import { Progress } from '../../sdk/src/cli/progress.ts';

const dir = mkdtempSync(join(tmpdir(), 'ls-cli-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const KEY = '0f'.repeat(32);

function secretFile(name: string, text: string, mode = 0o600): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  chmodSync(p, mode);
  return p;
}

function error(f: () => unknown): CliError {
  try {
    f();
  } catch (e) {
    if (e instanceof CliError) return e;
    throw e;
  }
  throw new Error('expected a CliError');
}

describe('loadCliConfig', () => {
  it('options over environment over the config file, and where each came from', () => {
    const file = secretFile('config.json', JSON.stringify({ url: 'http://file.example', apiKey: 'lsk_file', blindingKey: 'aa'.repeat(32) }));
    const env = { LEDGERSEAL_CONFIG: file, LEDGERSEAL_API_KEY: 'lsk_env' };
    const c = loadCliConfig({ env, url: 'http://127.0.0.1:8787/' });
    expect(c).toMatchObject({ url: 'http://127.0.0.1:8787', apiKey: 'lsk_env' });
    expect(Buffer.from(c.blindingKey!).toString('hex')).toBe('aa'.repeat(32));
    expect(c.origins).toEqual({ url: '--url', apiKey: 'LEDGERSEAL_API_KEY', blindingKey: file });
    const envKey = loadCliConfig({ env: { ...env, LEDGERSEAL_BLINDING_KEY: KEY } });
    expect(Buffer.from(envKey.blindingKey!).toString('hex')).toBe(KEY);
    expect(envKey.url).toBe('http://file.example');
    const fromFile = loadCliConfig({ env, blindingKeyFile: secretFile('bk', `${'bb'.repeat(32)}\n`) });
    expect(Buffer.from(fromFile.blindingKey!).toString('hex')).toBe('bb'.repeat(32));
  });

  it('refuses secrets files readable by others, bad keys and bad URLs, without printing a secret', () => {
    const open = secretFile('open.json', JSON.stringify({ apiKey: 'lsk_secret_value' }), 0o644);
    const e1 = error(() => loadCliConfig({ env: {}, configFile: open }));
    expect(e1.exitCode).toBe(2);
    expect(e1.message).toMatch(/readable by others \(mode 644\); run: chmod 600/);
    expect(e1.message).not.toContain('lsk_secret_value');
    const e2 = error(() => loadCliConfig({ env: {}, blindingKeyFile: secretFile('bk-open', KEY, 0o640) }));
    expect(e2.message).toMatch(/readable by others/);
    const e3 = error(() => loadCliConfig({ env: { LEDGERSEAL_BLINDING_KEY: 'abc123' } }));
    expect(e3.message).toMatch(/64 hexadecimal characters/);
    expect(e3.message).not.toContain('abc123');
    expect(error(() => loadCliConfig({ env: { LEDGERSEAL_URL: 'not a url' } })).message).toMatch(/not a URL/);
    expect(error(() => loadCliConfig({ env: { LEDGERSEAL_URL: 'ftp://x' } })).message).toMatch(/must be http\(s\)/);
    expect(error(() => loadCliConfig({ env: {}, configFile: secretFile('bad.json', '{"token":"x"}') })).message).toMatch(/unknown setting "token"/);
    expect(error(() => loadCliConfig({ env: {}, configFile: join(dir, 'missing.json') })).message).toMatch(/cannot read the config file/);
    // The default location is optional.
    expect(loadCliConfig({ env: { XDG_CONFIG_HOME: join(dir, 'none') } }).url).toBeUndefined();
  });
});

describe('Progress', () => {
  function stream(isTTY: boolean) {
    const out: string[] = [];
    return { out, s: { isTTY, write: (t: string) => out.push(t) } as unknown as NodeJS.WriteStream };
  }

  it('on a terminal: a bar with percentage, rate and ETA, redrawn in place', () => {
    let t = 0;
    const { out, s } = stream(true);
    const p = new Progress({ label: 'backfill parcels', total: 1000, unit: 'rows', stream: s, now: () => t });
    t = 1000;
    p.update(250);
    t = 1100; // within 200 ms: not redrawn
    p.update(260);
    t = 2000;
    p.update(500, '1 batches');
    p.finish();
    expect(out).toHaveLength(3);
    expect(out[0]).toMatch(/^\r\x1b\[2Kbackfill parcels {2}\[######-{18}\] {2}25% {2}250\/1000 {2}250\/s {2}ETA 0:03$/);
    expect(out[1]).toContain('ETA 0:02  1 batches');
    expect(out[2]).toMatch(/500 {2}250\/s {2}in 0:02 {2}1 batches\n$/);
  });

  it('elsewhere: a plain line at most every 5 s; disabled: nothing', () => {
    let t = 0;
    const { out, s } = stream(false);
    const p = new Progress({ label: 'audit', unit: 'rows', stream: s, now: () => t });
    for (t = 1000; t <= 12_000; t += 1000) p.update(t * 10);
    expect(out).toEqual(['audit  50.0k  10.0k/s\n', 'audit  100.0k  10.0k/s\n']);
    const quiet = stream(false);
    const q = new Progress({ label: 'x', unit: 'rows', stream: quiet.s, enabled: false, now: () => t });
    q.update(1);
    q.finish();
    expect(quiet.out).toEqual([]);
  });
});
