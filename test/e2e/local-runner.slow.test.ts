/**
 * The local runner as a user meets it: `node --import tsx functions/local/main.ts`
 * (what `npm start` runs) in a child process with its own data dir. The README
 * quickstart (create an agency, anchor, fetch and verify a proof) through HTTP,
 * then Ctrl-C (SIGINT) stops it cleanly and the next start continues the same
 * ledger with the same keys and admin key.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { verifyProof, type ValidatorSet } from '../../sdk/src/index.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'ls-e2e-'));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

interface Started {
  child: ChildProcess;
  url: string;
  adminKey?: string;
  stdout: () => string;
  exited: Promise<number | null>;
}

async function start(extraEnv: Record<string, string> = {}): Promise<Started> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'functions/local/main.ts'], {
    cwd: join(import.meta.dirname, '..', '..'),
    env: { ...process.env, PORT: '0', LEDGERSEAL_DATA_DIR: dataDir, LEDGERSEAL_ROUND_INTERVAL_MS: '200', ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const url = await new Promise<string>((resolve, reject) => {
    // A generous bound, only so that a runner that never starts fails the test instead of hanging it.
    const timer = setTimeout(() => reject(new Error(`runner did not start:\n${err}`)), 120_000);
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /running at (http:\/\/\S+)/.exec(err);
      if (m && /admin key:.*\n/.test(err)) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.on('exit', (code) => reject(new Error(`runner exited with ${code}:\n${err}`)));
  });
  const adminKey = /admin key:\s+(lsa_\S+)/.exec(err)?.[1];
  return { child, url, ...(adminKey ? { adminKey } : {}), stdout: () => out, exited };
}

async function json(res: Response): Promise<any> {
  const body = await res.text();
  try {
    return JSON.parse(body);
  } catch {
    throw new Error(`not JSON (${res.status}): ${body}`);
  }
}

async function waitConfirmed(url: string, key: string, id: string): Promise<any> {
  // Polls until confirmed; the bound only turns a ledger that never confirms into a failure instead of a hang.
  for (let i = 0; i < 2_400; i++) {
    const r = await json(await fetch(`${url}/v1/anchors/${id}`, { headers: { authorization: `Bearer ${key}` } }));
    if (r.status === 'confirmed') return r;
    await new Promise((res) => setTimeout(res, 50));
  }
  throw new Error(`anchor ${id} not confirmed after 2,400 polls`);
}

describe('npm start (functions/local/main.ts)', () => {
  let adminKey = '';

  it('a first start that fails (bad config, port taken) keeps no admin-key hash nobody was shown', async () => {
    await expect(start({ LEDGERSEAL_ROUND_INTERVAL_MS: '5' })).rejects.toThrow(/LEDGERSEAL_ROUND_INTERVAL_MS/);
    const { createServer } = await import('node:net');
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', () => r()));
    const port = (busy.address() as { port: number }).port;
    try {
      await expect(start({ PORT: String(port) })).rejects.toThrow(/cannot listen/);
    } finally {
      busy.close();
    }
    expect(existsSync(join(dataDir, 'admin-key.sha256'))).toBe(false);
  });

  let apiKey = '';
  let firstProof: any;

  it('first start: prints URL and admin key, anchors and serves a verifiable proof', async () => {
    const s = await start();
    expect(s.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(s.adminKey).toBeDefined();
    adminKey = s.adminKey!;

    const agency = await fetch(`${s.url}/v1/agencies`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Diploma Register' }),
    });
    expect(agency.status).toBe(201);
    apiKey = (await json(agency)).apiKey;

    const hash = 'a'.repeat(64);
    const posted = await fetch(`${s.url}/v1/anchors`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ anchors: [{ hash, recordKey: 'diploma-2019-0042' }] }),
    });
    expect(posted.status).toBe(202);
    const id = (await json(posted)).anchors[0].id;
    const confirmed = await waitConfirmed(s.url, apiKey, id);
    firstProof = confirmed.proof;

    const validators: ValidatorSet = await json(await fetch(`${s.url}/v1/validators`));
    expect(verifyProof(firstProof, { validators })).toMatchObject({ ok: true, height: 0 });
    const server = await json(await fetch(`${s.url}/v1/verify`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ proof: firstProof }),
    }));
    expect(server.ok).toBe(true);

    // Structured logs: one JSON line per request and per round, never a key.
    const lines = s.stdout().trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.some((l) => l.msg === 'request' && l.path === '/v1/anchors' && typeof l.durationMs === 'number')).toBe(true);
    expect(lines.some((l) => l.msg === 'round' && l.status === 'finalized' && typeof l.totalMs === 'number')).toBe(true);
    expect(s.stdout()).not.toContain(apiKey);
    expect(s.stdout()).not.toContain(adminKey);

    // A second runner on the same data directory stops at once, saying why (it never opens the store).
    await expect(start()).rejects.toThrow(/exited with 1[\s\S]*data directory .* is in use by process \d+/);
    expect((await fetch(`${s.url}/healthz`)).status).toBe(200);

    // Ctrl-C stops cleanly.
    s.child.kill('SIGINT');
    expect(await s.exited).toBe(0);
    expect(statSync(join(dataDir, 'keys', 'validator-1.key')).mode & 0o777).toBe(0o600);
  });

  it('second start: same admin key and agency key, the ledger continues at the next height', async () => {
    const s = await start();
    expect(s.adminKey).toBeUndefined(); // printed on first start only
    const keys = await fetch(`${s.url}/v1/agencies`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Court Records' }),
    });
    expect(keys.status).toBe(201);

    const posted = await json(await fetch(`${s.url}/v1/anchors`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ anchors: [{ hash: 'b'.repeat(64), recordKey: 'diploma-2019-0042' }] }),
    }));
    const confirmed = await waitConfirmed(s.url, apiKey, posted.anchors[0].id);
    const validators: ValidatorSet = await json(await fetch(`${s.url}/v1/validators`));
    expect(verifyProof(confirmed.proof, { validators })).toMatchObject({ ok: true, height: 1 });

    // The first proof extends to the new checkpoint, and the record history lists both versions.
    const ext = await json(await fetch(`${s.url}/v1/proofs/extend?height=0&size=2`));
    const { extendProof } = await import('../../sdk/src/index.ts');
    expect(verifyProof(extendProof(firstProof, ext), { validators })).toMatchObject({ ok: true, calendarSize: 2 });
    const history = await json(await fetch(`${s.url}/v1/anchors?recordKey=diploma-2019-0042`, { headers: { authorization: `Bearer ${apiKey}` } }));
    expect(history.items.map((i: { hash: string }) => i.hash)).toEqual(['b'.repeat(64), 'a'.repeat(64)]);

    s.child.kill('SIGTERM');
    expect(await s.exited).toBe(0);
  });

  it('refuses to continue the ledger under another origin', async () => {
    await expect(start({ LEDGERSEAL_ORIGIN: 'somewhere.else/prod' })).rejects.toThrow(/has origin/);
  });
});
