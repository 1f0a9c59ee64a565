/**
 * `ledgerseal`: anchor and audit legacy tables, print and verify proofs
 * (docs/cli.md). `main(argv)` returns the exit code; the bin calls it.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  canonicalValue,
  checkProofConsistency,
  type ColumnKind,
  hexToBytes,
  parseJsonStrict,
  parseValidatorSet,
  type ProofResult,
  type ValidatorSet,
  verifyProof,
} from '../index.ts';
import { loadCliConfig, requireBlindingKey, requireService } from './config.ts';
import { audit, auditChanged, backfill, rowProof } from './engine.ts';
import { CliError, EXIT, errorText, usage } from './errors.ts';
import { htmlReport, markdownReport } from './report.ts';
import { openFileSource } from './receipts/files.ts';
import type { ReceiptStore } from './receipts/store.ts';
import { createService, type Service, unreachable } from './service.ts';

export const VERSION = '0.1.0';

const HELP: Record<string, string> = {
  main: `ledgerseal ${VERSION}: anchor legacy tables in a Ledgerseal ledger, audit them, prove and verify rows

Usage:
  ledgerseal backfill <source> --key <col>[,<col>...] [options]   anchor new and changed rows, keep receipts
  ledgerseal audit <source> --key <col>[,<col>...] [options]      re-hash every row, check receipts and proofs
  ledgerseal proof <source> --key <col>[,...] --where <v>[,...]    print the proof of a row's anchored version
  ledgerseal verify <record.json> <proof.json> [options]          verify a proof offline

Sources:
  postgres://user@host:port/db   with --table <name> or --query <select>
  mysql://user@host:port/db      with --table <name> or --query <select>
  <file>.csv | <file>.ndjson     a file is its own table (streamed, any size)

Configuration (environment or a 0600 config file, see docs/cli.md):
  LEDGERSEAL_URL, LEDGERSEAL_API_KEY, LEDGERSEAL_BLINDING_KEY (64 hex characters) or --blinding-key-file

Exit codes: 0 ok, 1 internal error, 2 usage or configuration, 3 audit found changes,
  4 proof inconsistent, 5 no validator quorum, 6 no matching publication,
  7 service error, 8 source error, 9 receipts error.

Run "ledgerseal <command> --help" for a command's options.
`,
  backfill: `ledgerseal backfill <source> [--table <name> | --query <select>] --key <col>[,<col>...] [options]

Anchors every row that is new or changed since the last run (all rows the first time)
and keeps receipts beside the table. A run killed at any point continues where it
stopped when run again, and anchors no row twice.

Options:
  --table <name>          the table (database sources); schema.name allowed
  --query <select>        a query instead of a table (needs --dataset)
  --key <cols>            the columns that name a row, comma-separated
  --columns <cols>        hash only these columns (default: all); the key is always included
  --dataset <name>        receipts name (default: the table or file name)
  --receipts <where>      receipts schema (PostgreSQL), database (MySQL) or directory (files)
  --types <col=kind,...>  column kinds of a file source (integer, decimal, float, boolean, date,
                          time, timestamp, timestamptz, text, bytes, json, uuid); default text
  --wait <seconds>        wait this long for the batch proofs (default 120)
  --no-wait               do not wait for proofs (audit and proof fetch them later)
  --json                  print the result as one JSON object
  --quiet                 no progress on stderr
  --url <url>             the service (default LEDGERSEAL_URL)
  --blinding-key-file <f> the agency blinding key (64 hex characters, mode 0600)
  --config <file>         config file (JSON: url, apiKey, blindingKey; mode 0600)
`,
  audit: `ledgerseal audit <source> [--table <name> | --query <select>] --key <col>[,...] [options]

Re-hashes every row and checks it against its receipts, rebuilds every chunk root from
the receipts, and verifies every batch proof (extended to the latest checkpoint when
the service is reachable). Exit 0 when nothing changed, 3 when rows changed.

Options:
  --table, --query, --key, --columns, --dataset, --receipts, --types   as for backfill
  --json                  print the result as one JSON object: checked, unchanged,
                          altered, deleted, added ({"key": [...]} each), proofs, ...
  --report <file>         also write a readable report: file.html or file.md
  --validators <file>     trust this validator set document instead of the service's
  --quiet, --url, --blinding-key-file, --config   as for backfill
`,
  proof: `ledgerseal proof <source> [--table <name>] --key <col>[,...] --where <value>[,...] [options]

Prints the proof document (ledgerseal-proof/v1) of the anchored version of one row
(the latest, or an earlier one with --version: every version stays provable).

Options:
  --where <values>        the row's key values, comma-separated in --key order
                          (or a JSON array of strings when a value contains a comma)
  --version <n>           an earlier anchored version of the row (0 is the first); default: the latest
  --record <file>         also write the record file verify needs: the row, its key,
                          version and blinding mask (give it only to whom may see the row)
  --out <file>            write the proof there instead of stdout
  --table, --query, --dataset, --receipts, --types, --url, --blinding-key-file, --config
`,
  verify: `ledgerseal verify <record.json> <proof.json> [options]

Verifies a proof offline and names the failed check. Levels, as KSI's tools have them:
  internal      the proof is internally consistent and the record gives its anchor (exit 4 if not)
  quorum        ... and a quorum of the trusted validators cosigned it (exit 5 if not)
  publication   ... and its calendar root matches a trusted publication (exit 6 if not)

Options:
  --validators <file>     the trusted validator set document (level quorum)
  --publication <code>    a publication code from a gazette (level publication)
  --level <level>         internal, quorum or publication (default: the highest the trust allows)
  --mask <hex>            the blinding mask, when record.json is the record itself
  --origin <origin>       require this ledger origin
  --json                  print the result as JSON
`,
};

interface Common {
  table?: string;
  query?: string;
  key?: string;
  columns?: string;
  dataset?: string;
  receipts?: string;
  types?: string;
  json?: boolean;
  quiet?: boolean;
  url?: string;
  'blinding-key-file'?: string;
  config?: string;
}

const COMMON_OPTIONS = {
  table: { type: 'string' },
  query: { type: 'string' },
  key: { type: 'string' },
  columns: { type: 'string' },
  dataset: { type: 'string' },
  receipts: { type: 'string' },
  types: { type: 'string' },
  json: { type: 'boolean' },
  quiet: { type: 'boolean' },
  url: { type: 'string' },
  'blinding-key-file': { type: 'string' },
  config: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

function list(v: string | undefined): string[] | undefined {
  if (v === undefined) return undefined;
  const t = v.trim();
  if (t.startsWith('[')) {
    let a: unknown;
    try {
      a = JSON.parse(t);
    } catch {
      usage(`"${v}" is not a JSON array`);
    }
    if (!Array.isArray(a) || !a.every((x) => typeof x === 'string')) usage(`"${v}" must be a JSON array of strings`);
    return a as string[];
  }
  return t.split(',').map((s) => s.trim()).filter((s) => s !== '');
}

const KINDS: ColumnKind[] = ['integer', 'decimal', 'float', 'boolean', 'date', 'time', 'timestamp', 'timestamptz', 'text', 'bytes', 'json', 'uuid', 'other'];

function parseTypes(v: string | undefined): Record<string, ColumnKind> | undefined {
  if (v === undefined) return undefined;
  const out: Record<string, ColumnKind> = {};
  for (const part of list(v) ?? []) {
    const [name, kind] = part.split('=');
    if (!name || !kind || !KINDS.includes(kind as ColumnKind)) usage(`--types wants col=kind pairs with kind one of ${KINDS.join(', ')}; got "${part}"`);
    out[name] = kind as ColumnKind;
  }
  return out;
}

async function openSource(source: string, o: Common): Promise<ReceiptStore> {
  const key = list(o.key);
  if (!key || key.length === 0) usage('--key <col>[,<col>...] is required: the columns that name a row');
  const columns = list(o.columns);
  const base = { key, ...(columns ? { columns } : {}), ...(o.dataset !== undefined ? { dataset: o.dataset } : {}) };
  if (/^postgres(ql)?:\/\//i.test(source)) {
    if (o.types !== undefined) usage('--types is for file sources; a database says its own column types');
    const { openPostgres } = await import('./receipts/postgres.ts');
    return openPostgres({ url: source, ...base, ...(o.table !== undefined ? { table: o.table } : {}), ...(o.query !== undefined ? { query: o.query } : {}), ...(o.receipts !== undefined ? { receiptsSchema: o.receipts } : {}) });
  }
  if (/^(mysql|mariadb):\/\//i.test(source)) {
    if (o.types !== undefined) usage('--types is for file sources; a database says its own column types');
    const { openMysql } = await import('./receipts/mysql.ts');
    return openMysql({ url: source.replace(/^mariadb:/i, 'mysql:'), ...base, ...(o.table !== undefined ? { table: o.table } : {}), ...(o.query !== undefined ? { query: o.query } : {}), ...(o.receipts !== undefined ? { receiptsDatabase: o.receipts } : {}) });
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(source)) usage(`unsupported source "${source.split('://')[0]}://": use postgres://, mysql:// or a .csv/.ndjson file`);
  if (o.table !== undefined || o.query !== undefined) usage('--table and --query are for database sources; a file is its own table');
  const types = parseTypes(o.types);
  return openFileSource({ path: source, ...base, ...(o.receipts !== undefined ? { receipts: o.receipts } : {}), ...(types ? { types } : {}) });
}

/** Where output goes: the process's streams, or a test's buffers (main's third argument). */
export interface CliIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown; isTTY?: boolean };
}
let io: CliIo = { stdout: process.stdout, stderr: process.stderr };

function out(text: string): void {
  io.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

function serviceOrNull(cfg: ReturnType<typeof loadCliConfig>): Service | null {
  if (cfg.url === undefined || cfg.apiKey === undefined) return null;
  return createService(cfg.url, cfg.apiKey);
}

function crashSpec(env: Record<string, string | undefined>): { step: string; count: number } | undefined {
  const v = env.LEDGERSEAL_TEST_CRASH;
  if (!v) return undefined;
  const [step, count] = v.split(':');
  return { step: step!, count: Number(count ?? 1) };
}

async function cmdBackfill(args: string[], env: Record<string, string | undefined>): Promise<number> {
  const { values: o, positionals } = parseArgs({ args, allowPositionals: true, options: { ...COMMON_OPTIONS, wait: { type: 'string' }, 'no-wait': { type: 'boolean' } } });
  if (o.help) return (out(HELP.backfill!), EXIT.ok);
  if (positionals.length !== 1) usage('backfill takes one source (a postgres:// or mysql:// URL, or a .csv/.ndjson file)');
  const cfg = loadCliConfig({ env, ...(o.url !== undefined ? { url: o.url } : {}), ...(o['blinding-key-file'] !== undefined ? { blindingKeyFile: o['blinding-key-file'] } : {}), ...(o.config !== undefined ? { configFile: o.config } : {}) });
  const blindingKey = requireBlindingKey(cfg);
  const svc = requireService(cfg);
  const waitSeconds = o['no-wait'] ? 0 : o.wait !== undefined ? Number(o.wait) : 120;
  if (!Number.isFinite(waitSeconds) || waitSeconds < 0) usage('--wait takes a number of seconds');
  const store = await openSource(positionals[0]!, o);
  try {
    const crash = crashSpec(env);
    // Test knobs (tests/cli): small groups and transactions exercise mid-run submissions with few rows.
    const groupChunks = Number(env.LEDGERSEAL_TEST_GROUP_CHUNKS ?? 0);
    const flushChunks = Number(env.LEDGERSEAL_TEST_FLUSH_CHUNKS ?? 0);
    const r = await backfill(store, {
      ...(groupChunks > 0 ? { groupChunks } : {}),
      ...(flushChunks > 0 ? { flushChunks } : {}),
      blindingKey, service: createService(svc.url, svc.apiKey), progress: !o.quiet && !(o.json && !io.stderr.isTTY === true), waitSeconds,
      ...(crash ? { crashAt: crash } : {}),
      log: (l) => io.stderr.write(`ledgerseal: ${l}\n`),
    });
    const bytes = await store.size();
    const result = { ...r, receiptBytes: bytes };
    if (o.json) out(JSON.stringify(result));
    else {
      out(`${r.dataset}: ${r.scanned} rows read, ${r.anchored} anchored (${r.added} new, ${r.changed} changed${r.deleted ? `, ${r.deleted} deleted` : ''}), ${r.unchanged} unchanged` +
        `${r.deleted ? `, ${r.deleted} deleted from the source (their deletions anchored)` : ''}; ${r.batches.submitted} batches submitted, ` +
        `${r.batches.confirmed} confirmed${r.batches.pending ? `, ${r.batches.pending} still pending (audit or proof fetches them later)` : ''}; ` +
        `receipts in ${r.receipts} (${bytes} bytes); ${r.seconds} s`);
    }
    return EXIT.ok;
  } finally {
    await store.close();
  }
}

async function loadValidators(path: string | undefined): Promise<ValidatorSet | null> {
  if (path === undefined) return null;
  try {
    return parseValidatorSet(JSON.parse(readFileSync(path, 'utf8')));
  } catch (e) {
    usage(`--validators ${path}: ${errorText(e)}`);
  }
}

async function cmdAudit(args: string[], env: Record<string, string | undefined>): Promise<number> {
  const { values: o, positionals } = parseArgs({ args, allowPositionals: true, options: { ...COMMON_OPTIONS, report: { type: 'string' }, validators: { type: 'string' } } });
  if (o.help) return (out(HELP.audit!), EXIT.ok);
  if (positionals.length !== 1) usage('audit takes one source (a postgres:// or mysql:// URL, or a .csv/.ndjson file)');
  if (o.report !== undefined && !/\.(html?|md|markdown)$/i.test(o.report)) usage('--report writes .html or .md files');
  const cfg = loadCliConfig({ env, ...(o.url !== undefined ? { url: o.url } : {}), ...(o['blinding-key-file'] !== undefined ? { blindingKeyFile: o['blinding-key-file'] } : {}), ...(o.config !== undefined ? { configFile: o.config } : {}) });
  const blindingKey = requireBlindingKey(cfg);
  const validators = await loadValidators(o.validators);
  const store = await openSource(positionals[0]!, o);
  try {
    const a = await audit(store, { blindingKey, service: serviceOrNull(cfg), validators, progress: !o.quiet && !(o.json && !io.stderr.isTTY === true) });
    if (o.report !== undefined) {
      const now = new Date();
      writeFileSync(o.report, /\.md|markdown$/i.test(o.report) ? markdownReport(a, now) : htmlReport(a, now));
    }
    if (o.json) out(JSON.stringify(a));
    else {
      out(`${a.dataset}: ${a.checked} rows checked, ${a.unchanged} unchanged, ${a.altered.length} altered, ${a.deleted.length} deleted, ${a.added.length} added` +
        `${a.deletedAnchored ? ` (and ${a.deletedAnchored} deletions anchored earlier)` : ''}`);
      for (const [label, rows] of [['altered', a.altered], ['deleted', a.deleted], ['added', a.added]] as const) {
        for (const r of rows.slice(0, 20)) out(`  ${label}: ${r.key.join(', ')}`);
        if (rows.length > 20) out(`  ... ${rows.length - 20} more ${label} rows (use --json or --report)`);
      }
      for (const u of a.unproven.slice(0, 20)) out(`  unproven: ${u.key.join(', ')}: ${u.reason}`);
      out(`proofs: ${a.proofs.verified} of ${a.proofs.batches} batches verified${a.proofs.pending ? `, ${a.proofs.pending} pending` : ''}${a.proofs.failed.length ? `, ${a.proofs.failed.length} FAILED` : ''}` +
        `${a.proofs.checkpoint ? ` against checkpoint size ${a.proofs.checkpoint.size} of ${a.proofs.checkpoint.origin}` : ''}; trust: ${a.proofs.trust}`);
      for (const e of a.errors) out(`  note: ${e}`);
    }
    if (auditChanged(a)) return EXIT.changed;
    if (a.proofs.unverified > 0) {
      // The rows match their receipts, but that alone proves nothing to a third party: say so, and do not exit 0.
      io.stderr.write(`ledgerseal: the rows match their receipts, but ${a.proofs.unverified} batch proofs were not verified: no validator set ` +
        '(the service is unreachable and no --validators <file> was given)\n');
      return EXIT.service;
    }
    return EXIT.ok;
  } finally {
    await store.close();
  }
}

async function cmdProof(args: string[], env: Record<string, string | undefined>): Promise<number> {
  const { values: o, positionals } = parseArgs({ args, allowPositionals: true, options: { ...COMMON_OPTIONS, where: { type: 'string' }, record: { type: 'string' }, out: { type: 'string' }, version: { type: 'string' } } });
  if (o.help) return (out(HELP.proof!), EXIT.ok);
  const version = o.version === undefined ? undefined : Number(o.version);
  if (version !== undefined && (!Number.isSafeInteger(version) || version < 0)) usage('--version takes a version number (0 is the first anchored version)');
  if (positionals.length !== 1) usage('proof takes one source');
  const where = list(o.where);
  if (!where || where.length === 0) usage('--where <value>[,<value>...] names the row by its key values');
  const cfg = loadCliConfig({ env, ...(o.url !== undefined ? { url: o.url } : {}), ...(o['blinding-key-file'] !== undefined ? { blindingKeyFile: o['blinding-key-file'] } : {}), ...(o.config !== undefined ? { configFile: o.config } : {}) });
  const blindingKey = requireBlindingKey(cfg);
  const store = await openSource(positionals[0]!, o);
  try {
    const ds = store.dataset;
    if (where.length !== ds.key.length) usage(`--where has ${where.length} values; the key (${ds.key.join(', ')}) has ${ds.key.length}`);
    const kinds = ds.key.map((k) => ds.columns.find((c) => c.name === k)!.kind);
    let key: string[];
    try {
      key = where.map((v, i) => canonicalValue(kinds[i]!, v));
    } catch (e) {
      usage(`--where: ${errorText(e)}`);
    }
    const p = await rowProof(store, key, { blindingKey, service: serviceOrNull(cfg), ...(version !== undefined ? { version } : {}) });
    if (!p.current && version === undefined) io.stderr.write(`ledgerseal: warning: the row ${JSON.stringify(key)} changed since version ${p.record.version} was anchored; this proof is of the anchored version (the record file has no row)\n`);
    const text = `${JSON.stringify(p.proof, null, 2)}\n`;
    if (o.out !== undefined) writeFileSync(o.out, text);
    else io.stdout.write(text);
    if (o.record !== undefined) writeFileSync(o.record, `${JSON.stringify(p.record, null, 2)}\n`, { mode: 0o600 });
    return EXIT.ok;
  } finally {
    await store.close();
  }
}

function readJson(path: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    usage(`cannot read the ${what} ${path}: ${errorText(e)}`);
  }
  try {
    return parseJsonStrict(text); // I-JSON: a member name twice is refused, not read as its last value
  } catch (e) {
    usage(`the ${what} ${path} is not usable JSON: ${errorText(e)}`);
  }
}

type Level = 'internal' | 'quorum' | 'publication';

async function cmdVerify(args: string[], env: Record<string, string | undefined>): Promise<number> {
  const { values: o, positionals } = parseArgs({
    args, allowPositionals: true,
    options: { validators: { type: 'string' }, publication: { type: 'string', multiple: true }, level: { type: 'string' }, mask: { type: 'string' }, origin: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
  });
  if (o.help) return (out(HELP.verify!), EXIT.ok);
  if (positionals.length !== 2) usage('verify takes two files: <record.json> <proof.json>');
  const recordFile = readJson(positionals[0]!, 'record file') as Record<string, unknown>;
  const proof = readJson(positionals[1]!, 'proof file');
  let record: unknown = recordFile;
  let mask: Uint8Array | undefined;
  if (recordFile && typeof recordFile === 'object' && recordFile.format === 'ledgerseal-row-record/v1') {
    if (recordFile.row === null && recordFile.deleted !== true) usage(`${positionals[0]} holds no row: the row had changed since it was anchored when the file was written`);
    record = recordFile.deleted === true ? null : recordFile.row;
    mask = hexToBytes(String(recordFile.mask), 32);
  }
  if (o.mask !== undefined) {
    try {
      mask = hexToBytes(o.mask, 32);
    } catch {
      usage('--mask takes 64 hex characters');
    }
  }
  if (mask === undefined) usage('the record file is not a ledgerseal record file; give its blinding mask with --mask <hex>');
  const validators = await loadValidators(o.validators);
  const level: Level = (o.level as Level | undefined) ?? (o.publication ? 'publication' : validators ? 'quorum' : 'internal');
  if (!['internal', 'quorum', 'publication'].includes(level)) usage('--level is internal, quorum or publication');
  const opts = { record, mask, ...(o.origin !== undefined ? { origin: o.origin } : {}) };
  let r: ProofResult = checkProofConsistency(proof, opts);
  let failedLevel: Level | null = r.ok ? null : 'internal';
  if (r.ok && level !== 'internal') {
    if (level === 'quorum') {
      let set = validators;
      if (!set) {
        const url = env.LEDGERSEAL_URL;
        if (!url) usage('level quorum needs --validators <file> (or LEDGERSEAL_URL to fetch the set, online)');
        const base = url.replace(/\/+$/, '');
        let body: unknown;
        try {
          body = await (await fetch(`${base}/v1/validators`)).json();
        } catch (e) {
          throw unreachable(base, e, 'reading the validator set');
        }
        set = parseValidatorSet(body);
      }
      r = verifyProof(proof, { validators: set, ...(o.origin !== undefined ? { origin: o.origin } : {}) }, { record, mask });
      if (!r.ok) failedLevel = r.failed === 'quorum' ? 'quorum' : 'internal';
    } else {
      if (!o.publication) usage('level publication needs --publication <code>');
      r = verifyProof(proof, { publication: o.publication, ...(o.origin !== undefined ? { origin: o.origin } : {}) }, { record, mask });
      if (!r.ok) failedLevel = r.failed === 'publication' ? 'publication' : 'internal';
    }
  }
  const code = failedLevel === null ? EXIT.ok : failedLevel === 'internal' ? EXIT.inconsistent : failedLevel === 'quorum' ? EXIT.noQuorum : EXIT.noPublication;
  if (o.json) out(JSON.stringify({ level, ...r, ...(failedLevel ? { failedLevel } : {}) }));
  else if (r.ok) out(`OK (level ${level}): ${r.detail}`);
  else out(`FAILED at level ${failedLevel}, check "${r.failed}": ${r.detail}`);
  return code;
}

/** Run the CLI; returns the exit code. */
export async function main(argv: string[], env: Record<string, string | undefined> = process.env, streams?: CliIo): Promise<number> {
  io = streams ?? { stdout: process.stdout, stderr: process.stderr };
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case undefined:
      case '--help':
      case '-h':
      case 'help':
        out(rest[0] && HELP[rest[0]] ? HELP[rest[0]]! : HELP.main!);
        return EXIT.ok;
      case '--version':
      case '-v':
        out(VERSION);
        return EXIT.ok;
      case 'backfill':
        return await cmdBackfill(rest, env);
      case 'audit':
        return await cmdAudit(rest, env);
      case 'proof':
        return await cmdProof(rest, env);
      case 'verify':
        return await cmdVerify(rest, env);
      default:
        usage(`unknown command "${command}"; run ledgerseal --help`);
    }
  } catch (e) {
    if (e instanceof CliError) {
      io.stderr.write(`ledgerseal: ${e.message}\n`);
      return e.exitCode;
    }
    if (e instanceof TypeError && (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.stderr.write(`ledgerseal: ${e.message}; run ledgerseal ${command} --help\n`);
      return EXIT.usage;
    }
    io.stderr.write(`ledgerseal: unexpected error: ${errorText(e)}\n`);
    if (env.LEDGERSEAL_DEBUG === '1' && e instanceof Error && e.stack) io.stderr.write(`${e.stack}\n`);
    return EXIT.internal;
  }
}
