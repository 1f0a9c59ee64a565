/**
 * The machine's database servers for connector tests: PostgreSQL 15 at
 * 127.0.0.1:5432 (user postgres, trust auth, database `test`) and MariaDB at
 * 127.0.0.1:3306 (root, empty password, database `test`).
 *
 * ensurePostgres / ensureMariadb connect; when the connection is refused they
 * start the server themselves and poll until it accepts connections (up to
 * 120 s), so nobody has to start anything by hand. freshPgSchema /
 * freshMysqlDatabase give each test file its own schema or database (named
 * with the process id), so test files running in parallel never collide;
 * call drop() in afterAll.
 */
import { exec } from 'node:child_process';
import mysql from 'mysql2/promise';
import pg from 'pg';

export const PG_CONFIG = { host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test' } as const;
export const MARIADB_CONFIG = { host: '127.0.0.1', port: 3306, user: 'root', password: '', database: 'test' } as const;

const START_PG = 'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start';
const START_MARIADB = 'start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd';
/** How long a server may take to come up after being started. */
const START_DEADLINE_MS = 120_000;

/** Errors of a server that is down or still starting: worth polling again. */
function isNotUp(e: unknown): boolean {
  const inner = (e as { errors?: unknown }).errors;
  if (Array.isArray(inner) && inner.some(isNotUp)) return true; // AggregateError of a multi-address connect
  const code = (e as { code?: unknown }).code;
  return (
    code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'ENOENT' || code === 'EPIPE' ||
    code === '57P03' /* PostgreSQL: the database system is starting up */ ||
    code === 'PROTOCOL_CONNECTION_LOST' || code === 'ER_SERVER_SHUTDOWN' ||
    /Connection terminated unexpectedly|server closed the connection/i.test(String((e as Error)?.message))
  );
}

function run(command: string): Promise<void> {
  // A failed start (say, another test file started the server a moment ago) is not an error: polling decides.
  return new Promise((resolve) => exec(command, { timeout: START_DEADLINE_MS }, () => resolve()));
}

async function connectOrStart<T>(name: string, connect: () => Promise<T>, start: string): Promise<T> {
  try {
    return await connect();
  } catch (e) {
    if (!isNotUp(e)) throw e;
  }
  await run(start);
  const deadline = Date.now() + START_DEADLINE_MS;
  for (let attempt = 0; ; attempt++) {
    try {
      return await connect();
    } catch (e) {
      if (!isNotUp(e)) throw e;
      if (Date.now() > deadline) throw new Error(`${name} did not accept connections within ${START_DEADLINE_MS / 1000} s after \`${start}\`: ${(e as Error).message}`);
    }
    // Poll again: a short wait between connection attempts, not a bet on how long the start takes.
    await new Promise((r) => setTimeout(r, Math.min(50 * 2 ** attempt, 1000)));
  }
}

async function pgClient(database: string = PG_CONFIG.database): Promise<pg.Client> {
  const client = new pg.Client({ ...PG_CONFIG, database });
  try {
    await client.connect();
  } catch (e) {
    await client.end().catch(() => {});
    throw e;
  }
  return client;
}

let pgUp: Promise<void> | undefined;
let mariadbUp: Promise<void> | undefined;

/** A factory of connected pg clients (database `test`), starting PostgreSQL first if it is not running. */
export async function ensurePostgres(): Promise<() => Promise<pg.Client>> {
  pgUp ??= connectOrStart('PostgreSQL', pgClient, START_PG).then((c) => c.end());
  await pgUp;
  return () => pgClient();
}

async function mariadbConnection(): Promise<mysql.Connection> {
  return mysql.createConnection({ ...MARIADB_CONFIG });
}

/** A factory of mysql2/promise connections (database `test`), starting MariaDB first if it is not running. */
export async function ensureMariadb(): Promise<() => Promise<mysql.Connection>> {
  mariadbUp ??= connectOrStart('MariaDB', mariadbConnection, START_MARIADB).then((c) => c.end());
  await mariadbUp;
  return mariadbConnection;
}

let serial = 0;

/** A name unique to this process and call: `<name>_<pid>_<n>`, lower case, safe unquoted in both servers. */
function uniqueName(name: string): string {
  const base = name.toLowerCase().replace(/[^a-z0-9_]/g, '_').slice(0, 32);
  return `${base}_${process.pid}_${++serial}`;
}

export interface PgTestSchema {
  /** A client whose search_path is the schema alone. */
  client: pg.Client;
  schema: string;
  /** Drop the schema and everything in it, and end the client. */
  drop(): Promise<void>;
}

export async function freshPgSchema(name: string): Promise<PgTestSchema> {
  const connect = await ensurePostgres();
  const client = await connect();
  const schema = uniqueName(name);
  await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE; CREATE SCHEMA ${schema}; SET search_path TO ${schema}`);
  return {
    client,
    schema,
    async drop() {
      try {
        await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      } finally {
        await client.end();
      }
    },
  };
}

export interface MysqlTestDatabase {
  /** A connection whose current database is the fresh one. */
  conn: mysql.Connection;
  database: string;
  /** Drop the database and close the connection. */
  drop(): Promise<void>;
}

export async function freshMysqlDatabase(name: string): Promise<MysqlTestDatabase> {
  const connect = await ensureMariadb();
  const conn = await connect();
  const database = uniqueName(name);
  await conn.query(`DROP DATABASE IF EXISTS \`${database}\``);
  await conn.query(`CREATE DATABASE \`${database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
  await conn.query(`USE \`${database}\``);
  return {
    conn,
    database,
    async drop() {
      try {
        await conn.query(`DROP DATABASE IF EXISTS \`${database}\``);
      } finally {
        await conn.end();
      }
    },
  };
}
