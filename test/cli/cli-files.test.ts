/**
 * The CLI on CSV and NDJSON files against the service as `npm start` runs it:
 * backfill, audit (exactly the rows changed, deleted and added), proof and
 * verify at each level, reports, tampered receipts, and a backfill killed at
 * each step that continues where it stopped without anchoring a row twice.
 */
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodePublicationCode, generateCosignerKey, hexToBytes } from '../../sdk/src/index.ts';
import { cli, cliChild } from '../helpers/cli.ts';
import { startService, type TestService } from '../helpers/service.ts';

let svc: TestService;
const dir = mkdtempSync(join(tmpdir(), 'ls-cli-files-'));
beforeAll(async () => {
  svc = await startService();
}, 120_000);
afterAll(async () => {
  await svc?.close();
  rmSync(dir, { recursive: true, force: true });
});

const TYPES = 'parcel=integer,area=decimal,registered=date,updated=timestamptz';

function csvRow(i: number, owner = `Owner ${i}`): string {
  const note = i % 7 === 0 ? '' : i % 11 === 0 ? '""' : `"note, ""${i}"""`; // NULL, empty string, quoted text
  return `${i},${owner},${(i * 10.5).toFixed(2)},2020-01-${String((i % 28) + 1).padStart(2, '0')},2026-11-22 10:00:00.${String(i % 1000).padStart(3, '0')}+02,${note}`;
}

function writeCsv(path: string, ids: number[], override: Record<number, string> = {}): void {
  writeFileSync(path, `parcel,owner,area,registered,updated,note\n${ids.map((i) => csvRow(i, override[i])).join('\n')}\n`);
}

const keys = (rows: { key: string[] }[]): string[] => rows.map((r) => r.key[0]!).sort((a, b) => Number(a) - Number(b));

describe('ledgerseal on a CSV file', () => {
  const file = join(dir, 'registry.csv');
  const ids = Array.from({ length: 3000 }, (_, i) => i + 1);
  const args = (cmd: string, ...more: string[]) => [cmd, file, '--key', 'parcel', '--types', TYPES, '--quiet', ...more];

  it('backfill anchors every row in chunks of 1024, one batch, and waits for its proof', async () => {
    writeCsv(file, ids);
    const r = await cli(args('backfill', '--json'), svc.env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json()).toMatchObject({ dataset: 'registry', scanned: 3000, anchored: 3000, added: 3000, changed: 0, unchanged: 0, chunks: 3,
      batches: { submitted: 1, confirmed: 1, pending: 0 } });
    expect(r.json().receiptBytes).toBeGreaterThan(0);
    const again = await cli(args('backfill', '--json'), svc.env);
    expect(again.json()).toMatchObject({ scanned: 3000, anchored: 0, unchanged: 3000, batches: { submitted: 0 } });
  });

  it('audit: nothing changed is exit 0', async () => {
    const r = await cli(args('audit', '--json'), svc.env);
    expect(r.code, r.stderr).toBe(0);
    const a = r.json();
    expect(a).toMatchObject({ checked: 3000, unchanged: 3000, altered: [], deleted: [], added: [], unproven: [] });
    expect(a.proofs).toMatchObject({ batches: 1, verified: 1, pending: 0, failed: [] });
    expect(a.proofs.checkpoint.size).toBeGreaterThan(0);
  });

  it('audit reports exactly the rows altered, deleted and added (exit 3), as JSON, Markdown and HTML', async () => {
    const changed = ids.filter((i) => i !== 17 && i !== 2048).concat([3001]);
    writeCsv(file, changed, { 5: 'Someone Else', 1500: 'Owner 1500 ' });
    const md = join(dir, 'report.md');
    const html = join(dir, 'report.html');
    const r = await cli(args('audit', '--json', '--report', md), svc.env);
    expect(r.code, r.stderr).toBe(3);
    const a = r.json();
    expect(keys(a.altered)).toEqual(['5', '1500']);
    expect(keys(a.deleted)).toEqual(['17', '2048']);
    expect(keys(a.added)).toEqual(['3001']);
    expect(a.altered[0]).toEqual({ key: ['5'] });
    expect(a.checked).toBe(2999);
    expect(a.unchanged).toBe(2996);
    const mdText = readFileSync(md, 'utf8');
    expect(mdText).toContain('| Altered | 2 |');
    expect(mdText).toMatch(/## Deleted \(2\)[\s\S]*\| 17 \|/);
    expect((await cli(args('audit', '--report', html), svc.env)).code).toBe(3);
    const htmlText = readFileSync(html, 'utf8');
    expect(htmlText).toContain('<th scope="row">Deleted</th><td>2</td>');
    expect(htmlText).toContain('Changes found');
  });

  it('backfill anchors the new, changed and deleted rows as new versions; then audit is clean', async () => {
    const r = await cli(args('backfill', '--json'), svc.env);
    expect(r.json()).toMatchObject({ anchored: 5, added: 1, changed: 2, deleted: 2, unchanged: 2996 });
    const a = (await cli(args('audit', '--json'), svc.env)).json();
    expect(a).toMatchObject({ altered: [], added: [], deleted: [], unproven: [], deletedAnchored: 2 });
    expect(a.proofs).toMatchObject({ batches: 2, verified: 2, failed: [] });
    // A deletion is a version like any other: its proof verifies as the record null.
    const rec = join(dir, 'r17.json');
    const proof = join(dir, 'p17.json');
    expect((await cli(args('proof', '--where', '17', '--record', rec, '--out', proof), svc.env)).code).toBe(0);
    expect(JSON.parse(readFileSync(rec, 'utf8'))).toMatchObject({ key: ['17'], version: 1, row: null, deleted: true });
    expect((await cli(['verify', rec, proof], {})).code).toBe(0);
    // Nothing left to anchor; a row that comes back is new again.
    expect((await cli(args('backfill', '--json'), svc.env)).json()).toMatchObject({ anchored: 0, deleted: 0 });
  });

  it('proof and verify: each level, the failed check named, distinct exit codes', async () => {
    const proofFile = join(dir, 'p5.json');
    const recordFile = join(dir, 'r5.json');
    const setFile = join(dir, 'validators.json');
    writeFileSync(setFile, JSON.stringify(svc.validators));
    const p = await cli(args('proof', '--where', '5', '--out', proofFile, '--record', recordFile), svc.env);
    expect(p.code, p.stderr).toBe(0);
    const proof = JSON.parse(readFileSync(proofFile, 'utf8'));
    expect(proof.chain).toHaveLength(3); // local chunk step, batch step, round step
    const record = JSON.parse(readFileSync(recordFile, 'utf8'));
    expect(record).toMatchObject({ format: 'ledgerseal-row-record/v1', dataset: 'registry', key: ['5'], version: 1 });
    expect(record.row.owner).toBe('Someone Else');

    const internal = await cli(['verify', recordFile, proofFile], {});
    expect(internal.code).toBe(0);
    expect(internal.stdout).toMatch(/^OK \(level internal\)/);
    const quorum = await cli(['verify', recordFile, proofFile, '--validators', setFile, '--json'], {});
    expect(quorum.code).toBe(0);
    expect(quorum.json()).toMatchObject({ ok: true, level: 'quorum' });
    expect(quorum.json().time).toMatch(/^\d{4}-/);

    // Tampered record: the anchor check fails, exit 4.
    const tampered = join(dir, 'r5-tampered.json');
    writeFileSync(tampered, JSON.stringify({ ...record, row: { ...record.row, owner: 'Mallory' } }));
    const bad = await cli(['verify', tampered, proofFile, '--validators', setFile], {});
    expect(bad.code).toBe(4);
    expect(bad.stdout).toMatch(/check "anchor"/);
    // The same record with its owner written twice, the first one changed: refused as ambiguous, not verified.
    const ambiguous = join(dir, 'r5-ambiguous.json');
    const text = JSON.stringify(record);
    writeFileSync(ambiguous, text.replace('"owner":', '"owner":"Mallory","owner":'));
    const dup = await cli(['verify', ambiguous, proofFile, '--validators', setFile], {});
    expect(dup.code).toBe(2);
    expect(dup.stderr).toMatch(/not usable JSON: duplicate member name "owner" in the object at \$\.row /);
    // A set whose keys did not sign: quorum fails, exit 5.
    const stranger = generateCosignerKey('stranger');
    // Validator sets list their validators sorted by name.
    const otherSet = { ...svc.validators, validators: [{ name: 'stranger', key: stranger.verifierKey, weight: 5 }, ...svc.validators.validators.slice(0, 1)] };
    writeFileSync(join(dir, 'other.json'), JSON.stringify(otherSet));
    const noQuorum = await cli(['verify', recordFile, proofFile, '--validators', join(dir, 'other.json')], {});
    expect(noQuorum.code).toBe(5);
    expect(noQuorum.stdout).toMatch(/check "quorum"/);
    // A publication of the right size with another root: exit 6.
    const wrong = encodePublicationCode({ size: proof.calendar.size, root: hexToBytes('ab'.repeat(32)) });
    const noPub = await cli(['verify', recordFile, proofFile, '--publication', wrong], {});
    expect(noPub.code).toBe(6);
    expect(noPub.stdout).toMatch(/check "publication"/);
    // The right publication: the checkpoint's own root.
    const right = encodePublicationCode({ size: proof.calendar.size, root: hexToBytes(JSON.parse((await cli(['verify', recordFile, proofFile, '--json'], {})).stdout).calendarRoot) });
    expect((await cli(['verify', recordFile, proofFile, '--publication', right], {})).code).toBe(0);
  });

  it('receipts altered to hide a change are caught: the chunk no longer rebuilds its anchored root', async () => {
    const log = join(dir, '.ledgerseal', 'registry', 'receipts.log');
    const text = readFileSync(log, 'utf8');
    // Rewrite the receipt of row 9 as if its row had another value: the digest of the current row changes, the chunk root does not.
    const line = text.split('\n').find((l) => l.startsWith('["r",') && l.endsWith(',"9"]'))!;
    const fields = JSON.parse(line);
    fields[3] = 'cd'.repeat(32);
    writeFileSync(log, text.replace(line, JSON.stringify(fields)));
    const a = (await cli(args('audit', '--json'), svc.env)).json();
    expect(keys(a.altered)).toEqual(['9']);
    expect(a.receiptsCheck.chunksMismatched).toEqual([0]);
    expect(a.unproven.length).toBeGreaterThan(0);
    expect(a.unproven.map((u: { key: string[] }) => u.key[0])).toContain('9');
    writeFileSync(log, text);
  });

  it('audit with the service down: proofs verified offline with --validators, else exit 7 (rows alone prove nothing)', async () => {
    const setFile = join(dir, 'validators-offline.json');
    writeFileSync(setFile, JSON.stringify(svc.validators));
    const down = { ...svc.env, LEDGERSEAL_URL: 'http://127.0.0.1:9' };
    const offline = await cli(args('audit', '--json', '--validators', setFile), down);
    expect(offline.code, offline.stderr).toBe(0);
    expect(offline.json().proofs).toMatchObject({ verified: 2, unverified: 0, failed: [] });
    expect(offline.json().errors.join(' ')).toMatch(/latest checkpoint not fetched/);
    const noTrust = await cli(args('audit', '--json'), down);
    expect(noTrust.code).toBe(7);
    expect(noTrust.json().proofs).toMatchObject({ verified: 0, unverified: 2, trust: 'none' });
    expect(noTrust.stderr).toMatch(/2 batch proofs were not verified/);
  }, 60_000);

  it('clear errors: missing key column, duplicate key, no blinding key, service down', async () => {
    const noCol = await cli(['backfill', file, '--key', 'parcelid', '--quiet'], svc.env);
    expect(noCol.code).toBe(8);
    expect(noCol.stderr).toMatch(/key column "parcelid" is not a column/);
    const dup = join(dir, 'dup.csv');
    writeFileSync(dup, 'id,v\n1,a\n2,b\n1,c\n');
    const d = await cli(['backfill', dup, '--key', 'id', '--quiet'], svc.env);
    expect(d.code).toBe(8);
    expect(d.stderr).toMatch(/duplicate key \["1"\]/);
    const noKey = await cli(['backfill', file, '--key', 'parcel'], { ...svc.env, LEDGERSEAL_BLINDING_KEY: '' });
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toMatch(/no blinding key/);
    const down = await cli(['backfill', join(dir, 'other.csv'), '--key', 'id', '--quiet'], { ...svc.env, LEDGERSEAL_URL: 'http://127.0.0.1:9' });
    expect(down.code).toBe(8); // the file does not exist: the source is checked first
    writeFileSync(join(dir, 'other.csv'), 'id,v\n1,a\n');
    const down2 = await cli(['backfill', join(dir, 'other.csv'), '--key', 'id', '--quiet'], { ...svc.env, LEDGERSEAL_URL: 'http://127.0.0.1:9' });
    expect(down2.code).toBe(7);
    expect(down2.stderr).toMatch(/cannot reach the service at http:\/\/127\.0\.0\.1:9/);
    expect(down2.stderr).not.toContain(svc.apiKey);
    expect(down2.stderr).not.toContain(svc.blindingKeyHex);
  });
});

describe('ledgerseal on an NDJSON file', () => {
  it('backfill, change, audit', async () => {
    const file = join(dir, 'diplomas.ndjson');
    const line = (i: number, grade: string | null) => JSON.stringify({ id: `D-${i}`, name: `Student ${i}`, grade, issued: '2024-06-30', meta: { school: 'Tartu', n: i } });
    writeFileSync(file, `${Array.from({ length: 50 }, (_, i) => line(i, i % 5 === 0 ? null : 'A')).join('\n')}\n`);
    const b = await cli(['backfill', file, '--key', 'id', '--quiet', '--json'], svc.env);
    expect(b.code, b.stderr).toBe(0);
    expect(b.json()).toMatchObject({ anchored: 50, batches: { confirmed: 1 } });
    writeFileSync(file, `${Array.from({ length: 50 }, (_, i) => line(i, i === 3 ? 'B' : i % 5 === 0 ? null : 'A')).join('\n')}\n`);
    appendFileSync(file, `${line(99, 'C')}\n`);
    const a = await cli(['audit', file, '--key', 'id', '--quiet', '--json'], svc.env);
    expect(a.code).toBe(3);
    expect(a.json()).toMatchObject({ altered: [{ key: ['D-3'] }], deleted: [], added: [{ key: ['D-99'] }] });
  });
});

describe('backfill --no-wait', () => {
  it('returns before the round; proof and audit fetch the batch proof later and store it', async () => {
    const file = join(dir, 'nowait.csv');
    writeFileSync(file, 'id,v\n1,a\n2,b\n3,c\n');
    const b = await cli(['backfill', file, '--key', 'id', '--quiet', '--json', '--no-wait'], svc.env);
    expect(b.code, b.stderr).toBe(0);
    expect(b.json()).toMatchObject({ anchored: 3, batches: { submitted: 1, confirmed: 0, pending: 1 } });
    // The round runs every 100 ms: poll until the proof can be built (a bound only turns a hang into a failure).
    let p = await cli(['proof', file, '--key', 'id', '--where', '2'], svc.env);
    for (let i = 0; i < 600 && p.code === 9 && /not confirmed yet/.test(p.stderr); i++) {
      await new Promise((r) => setTimeout(r, 50));
      p = await cli(['proof', file, '--key', 'id', '--where', '2'], svc.env);
    }
    expect(p.code, p.stderr).toBe(0);
    expect(JSON.parse(p.stdout).chain).toHaveLength(3);
    const log = readFileSync(join(dir, '.ledgerseal', 'nowait', 'receipts.log'), 'utf8');
    expect(log).toMatch(/^\["p",/m); // the batch proof is stored now
    const a = await cli(['audit', file, '--key', 'id', '--quiet', '--json'], svc.env);
    expect(a.json()).toMatchObject({ unchanged: 3, proofs: { verified: 1, pending: 0 } });
  });
});

describe('a long backfill: receipts written in the background, groups submitted mid-run', () => {
  it('killed after its second mid-run submission, it resumes and every row is anchored once', async () => {
    const file = join(dir, 'long.csv');
    writeCsv(file, Array.from({ length: 5 * 1024 + 10 }, (_, i) => i + 1)); // 6 chunks
    const args = ['backfill', file, '--key', 'parcel', '--types', TYPES, '--quiet', '--json'];
    const knobs = { LEDGERSEAL_TEST_GROUP_CHUNKS: '2', LEDGERSEAL_TEST_FLUSH_CHUNKS: '1' };
    const killed = await cliChild(args, { ...svc.env, ...knobs, LEDGERSEAL_TEST_CRASH: 'submit:2' });
    expect(killed.signal, killed.stderr).toBe('SIGKILL');
    const resumed = await cliChild(args, { ...svc.env, ...knobs });
    expect(resumed.code, resumed.stderr).toBe(0);
    const r = resumed.json();
    expect(resumed.stderr).toMatch(/already had it/);
    expect(r.anchored + r.unchanged).toBe(5 * 1024 + 10);
    expect(r.batches).toMatchObject({ confirmed: 3, pending: 0 }); // 6 chunks in groups of 2
    const a = await cli(['audit', file, '--key', 'parcel', '--types', TYPES, '--quiet', '--json'], svc.env);
    expect(a.code, a.stderr).toBe(0);
    expect(a.json()).toMatchObject({ unchanged: 5 * 1024 + 10, receiptsCheck: { chunks: 6, chunksMismatched: [] }, proofs: { batches: 3, verified: 3 } });
  }, 120_000);
});

describe('a backfill killed at each step continues where it stopped and anchors no row twice', () => {
  for (const step of ['chunks', 'group', 'submit']) {
    it(`killed after "${step}"`, async () => {
      const file = join(dir, `crash_${step}.csv`);
      writeCsv(file, Array.from({ length: 2100 }, (_, i) => i + 1));
      const args = ['backfill', file, '--key', 'parcel', '--types', TYPES, '--quiet', '--json'];
      const killed = await cliChild(args, { ...svc.env, LEDGERSEAL_TEST_CRASH: `${step}:1` });
      expect(killed.signal, killed.stderr).toBe('SIGKILL');
      const resumed = await cliChild(args, svc.env);
      expect(resumed.code, resumed.stderr).toBe(0);
      const r = resumed.json();
      // Rows stored before the kill are unchanged now; together the two runs anchored each row once.
      expect(r.anchored + r.unchanged).toBe(2100);
      expect(r.anchored).toBe(0);
      expect(r.recovered.chunks).toBe(3);
      expect(r.batches).toMatchObject({ confirmed: 1, pending: 0 });
      if (step === 'submit') expect(resumed.stderr).toMatch(/already had/);
      const a = await cli(['audit', file, '--key', 'parcel', '--types', TYPES, '--quiet', '--json'], svc.env);
      expect(a.code, a.stderr).toBe(0);
      expect(a.json()).toMatchObject({ checked: 2100, unchanged: 2100, proofs: { batches: 1, verified: 1 } });
    }, 120_000);
  }
});
