/**
 * The CLI on a real PostgreSQL table (127.0.0.1:5432, database test) against the
 * service as `npm start` runs it: anchor a table with a two-column key, change,
 * delete and insert rows with SQL, and audit reports exactly those rows; a query
 * source; proofs of a row's versions; clear errors; a killed backfill resumes.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, cliChild } from '../helpers/cli.ts';
import { ensurePostgres } from '../helpers/databases.ts';
import { startService, type TestService } from '../helpers/service.ts';

const URL = 'postgres://postgres@127.0.0.1:5432/test';
const T = `cli_parcels_${process.pid}`;
const SCHEMA = `ls_cli_${process.pid}`;
let svc: TestService;
let db: pg.Client;
const dir = mkdtempSync(join(tmpdir(), 'ls-cli-pg-'));

beforeAll(async () => {
  await ensurePostgres();
  db = new pg.Client({ connectionString: URL });
  await db.connect();
  await db.query(`DROP TABLE IF EXISTS ${T}`);
  await db.query(`CREATE TABLE ${T} (district text NOT NULL, parcel integer NOT NULL, owner text, area numeric(12,2), registered date,
    updated timestamptz, deed bytea, attrs jsonb, active boolean, PRIMARY KEY (district, parcel))`);
  await db.query(`INSERT INTO ${T} SELECT (ARRAY['Tartu','Harju','Pärnu'])[1 + i % 3], i, 'Owner ' || i, i * 10.25, date '2000-01-01' + i,
    timestamptz '2026-11-22 10:00:00+02' + i * interval '1 second', decode(lpad(to_hex(i), 8, '0'), 'hex'),
    jsonb_build_object('zone', i % 4, 'tags', jsonb_build_array('a', i)), i % 2 = 0 FROM generate_series(1, 2500) i`);
  svc = await startService();
}, 180_000);

afterAll(async () => {
  await db?.query(`DROP TABLE IF EXISTS ${T}`).catch(() => {});
  await db?.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`).catch(() => {});
  await db?.end();
  await svc?.close();
  rmSync(dir, { recursive: true, force: true });
});

const base = (cmd: string, ...more: string[]) => [cmd, URL, '--table', T, '--key', 'district,parcel', '--receipts', SCHEMA, '--quiet', ...more];
const keyList = (rows: { key: string[] }[]) => rows.map((r) => r.key.join('/')).sort();

describe('ledgerseal on a PostgreSQL table', () => {
  it('backfill, then audit: nothing changed', async () => {
    const b = await cli(base('backfill', '--json'), svc.env);
    expect(b.code, b.stderr).toBe(0);
    expect(b.json()).toMatchObject({ scanned: 2500, anchored: 2500, chunks: 3, batches: { submitted: 1, confirmed: 1 } });
    const a = await cli(base('audit', '--json'), svc.env);
    expect(a.code, a.stderr).toBe(0);
    expect(a.json()).toMatchObject({ checked: 2500, unchanged: 2500, altered: [], deleted: [], added: [], proofs: { verified: 1, failed: [] } });
  });

  it('rows changed, deleted and inserted with SQL: audit reports exactly those', async () => {
    await db.query(`UPDATE ${T} SET owner = 'Maria Tamm' WHERE parcel = 10`); // district of 10: Harju (10 % 3 = 1)
    await db.query(`UPDATE ${T} SET area = area + 0.01 WHERE parcel = 2000`);
    await db.query(`UPDATE ${T} SET attrs = '{"tags":["a",33],"zone":1}' WHERE parcel = 33`); // same JSON, other key order: unchanged
    await db.query(`UPDATE ${T} SET deed = NULL WHERE parcel = 34`);
    await db.query(`DELETE FROM ${T} WHERE parcel IN (7, 1500)`);
    await db.query(`INSERT INTO ${T} (district, parcel, owner) VALUES ('Tartu', 9001, 'New Owner')`);
    const a = await cli(base('audit', '--json'), svc.env);
    expect(a.code).toBe(3);
    const r = a.json();
    expect(keyList(r.altered)).toEqual(['Harju/10', 'Harju/34', 'Pärnu/2000']);
    expect(keyList(r.deleted)).toEqual(['Harju/7', 'Tartu/1500']);
    expect(keyList(r.added)).toEqual(['Tartu/9001']);
    expect(r.unchanged).toBe(2500 - 2 - 3);
  });

  it('a second backfill anchors the changed rows as version 1; both versions stay provable', async () => {
    const before = join(dir, 'p10-v0.json');
    // Version 0 first (still the current receipt), then re-anchor.
    expect((await cli(base('proof', '--where', 'Harju,10', '--out', before), svc.env)).code).toBe(0);
    const b = await cli(base('backfill', '--json'), svc.env);
    expect(b.json()).toMatchObject({ anchored: 6, added: 1, changed: 3, deleted: 2 });
    const rec = join(dir, 'r10.json');
    const proof = join(dir, 'p10.json');
    const p = await cli(base('proof', '--where', 'Harju,10', '--out', proof, '--record', rec), svc.env);
    expect(p.code, p.stderr).toBe(0);
    const record = JSON.parse(readFileSync(rec, 'utf8'));
    expect(record).toMatchObject({ key: ['Harju', '10'], version: 1, row: { owner: 'Maria Tamm', district: 'Harju', parcel: '10' } });
    const set = join(dir, 'set.json');
    writeFileSync(set, JSON.stringify(svc.validators));
    expect((await cli(['verify', rec, proof, '--validators', set], {})).code).toBe(0);
    // The version-0 proof does not verify the current row (exit 4, the anchor check)...
    const old = await cli(['verify', rec, before, '--validators', set], {});
    expect(old.code).toBe(4);
    expect(old.stdout).toMatch(/"anchor"/);
    // Version 0 stays provable: its proof and mask from the receipts, with the row as it was then.
    const rec0 = join(dir, 'r10-v0.json');
    const proof0 = join(dir, 'p10-v0-again.json');
    const p0 = await cli(base('proof', '--where', 'Harju,10', '--version', '0', '--out', proof0, '--record', rec0), svc.env);
    expect(p0.code, p0.stderr).toBe(0);
    const [a0, b0] = [JSON.parse(readFileSync(proof0, 'utf8')), JSON.parse(readFileSync(before, 'utf8'))];
    expect({ anchor: a0.anchor, chain: a0.chain, block: a0.block }).toEqual({ anchor: b0.anchor, chain: b0.chain, block: b0.block });
    const r0 = JSON.parse(readFileSync(rec0, 'utf8'));
    expect(r0).toMatchObject({ version: 0, row: null });
    writeFileSync(rec0, JSON.stringify({ ...r0, row: { ...record.row, owner: 'Owner 10' } }));
    expect((await cli(['verify', rec0, proof0, '--validators', set], {})).code).toBe(0);
    expect((await cli(base('proof', '--where', 'Harju,10', '--version', '5'), svc.env)).code).toBe(9);
    // ...and the audit is clean again: the deletions are anchored too.
    const a = (await cli(base('audit', '--json'), svc.env)).json();
    expect(a).toMatchObject({ altered: [], added: [], deleted: [], unproven: [], deletedAnchored: 2 });
    expect(a.proofs).toMatchObject({ batches: 2, verified: 2 });
    // A deleted row that comes back is reported as added, until the next backfill anchors it again.
    await db.query(`INSERT INTO ${T} (district, parcel, owner) VALUES ('Harju', 7, 'Back again')`);
    const back = (await cli(base('audit', '--json'), svc.env)).json();
    expect(back.added).toEqual([{ key: ['Harju', '7'] }]);
    expect((await cli(base('backfill', '--json'), svc.env)).json()).toMatchObject({ anchored: 1, added: 1, changed: 0 });
    expect((await cli(base('audit', '--json'), svc.env)).code).toBe(0);
  });

  it('a query source with --dataset', async () => {
    const q = ['--query', `SELECT parcel, owner, area FROM ${T} WHERE district = 'Tartu'`, '--key', 'parcel', '--dataset', 'tartu', '--receipts', SCHEMA, '--quiet', '--json'];
    const b = await cli(['backfill', URL, ...q], svc.env);
    expect(b.code, b.stderr).toBe(0);
    const n = b.json().anchored;
    expect(n).toBeGreaterThan(800);
    await db.query(`UPDATE ${T} SET owner = 'Q' WHERE parcel = 3`);
    const a = await cli(['audit', URL, ...q], svc.env);
    expect(a.code).toBe(3);
    expect(a.json().altered).toEqual([{ key: ['3'] }]);
  });

  it('clear errors: no such table, no such column, a non-unique key, another column set, a wrong URL', async () => {
    const noTable = await cli(['backfill', URL, '--table', 'no_such_table', '--key', 'id', '--quiet'], svc.env);
    expect(noTable.code).toBe(8);
    expect(noTable.stderr).toMatch(/no_such_table/);
    const noCol = await cli(['backfill', URL, '--table', T, '--key', 'nope', '--quiet'], svc.env);
    expect(noCol.code).toBe(8);
    expect(noCol.stderr).toMatch(/key column "nope" is not a column/);
    const dup = await cli(['backfill', URL, '--table', T, '--key', 'district', '--dataset', 'dup', '--receipts', SCHEMA, '--quiet'], svc.env);
    expect(dup.code).toBe(8);
    expect(dup.stderr).toMatch(/duplicate key/);
    const shape = await cli(base('backfill', '--columns', 'owner'), svc.env);
    expect(shape.code).toBe(9);
    expect(shape.stderr).toMatch(/was anchored with columns/);
    const down = await cli(['backfill', 'postgres://postgres@127.0.0.1:1/test', '--table', T, '--key', 'parcel', '--quiet'], svc.env);
    expect(down.code).toBe(8);
    expect(down.stderr).toMatch(/cannot connect to PostgreSQL at postgres:\/\/postgres@127\.0\.0\.1:1\/test/);
  });

  it('a backfill killed after submitting continues without anchoring a row twice', async () => {
    await db.query(`UPDATE ${T} SET owner = owner || '!' WHERE parcel <= 1100`);
    const args = base('backfill', '--json');
    const killed = await cliChild(args, { ...svc.env, LEDGERSEAL_TEST_CRASH: 'submit:1' });
    expect(killed.signal, killed.stderr).toBe('SIGKILL');
    const resumed = await cliChild(args, svc.env);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.json()).toMatchObject({ anchored: 0, recovered: { batches: 1 } });
    expect(resumed.stderr).toMatch(/already had it/);
    const a = (await cli(base('audit', '--json'), svc.env)).json();
    expect(a).toMatchObject({ altered: [], added: [], unproven: [], proofs: { failed: [], pending: 0 } });
  }, 120_000);
});
