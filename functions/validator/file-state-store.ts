/**
 * ValidatorStateStore in a data directory (state-store.ts; README.md "State"):
 *
 *   <dir>/state.json   the state document and the last KEPT_RECORDS signed records, 0600
 *   <dir>/lock         pid of the process using the directory: one process per directory
 *
 * Every write replaces state.json atomically: write a temporary file, fsync it,
 * rename it over state.json, fsync the directory. A crash leaves the old or the
 * new document, never a torn one. The document stays in memory (the lock makes
 * this process its only writer) and writes are serialized, so a record is on
 * disk before recordSigned resolves, that is, before any signature leaves.
 *
 * `memoryStateStore()` is the same document without a file: for tests and
 * benchmarks that do not restart (a restart forgets what was signed).
 */
import { open, readFile, rename, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { bytesToHex, hexToBytes } from '@ledgerseal/sdk';
import { lockDirectory } from '../dir-lock.ts';
import { checkFrontier } from './frontier.ts';
import { KEPT_RECORDS, type RecordResult, type SignedRecord, type ValidatorState, type ValidatorStateStore } from './state-store.ts';

export const STATE_FILE = 'state.json';
export const STATE_FORMAT = 'ledgerseal-validator-state/v1';

interface StateDocument {
  format: typeof STATE_FORMAT;
  validator: string;
  origin: string;
  state: {
    size: number;
    frontier: string[];
    lastLeaf: string;
    lastTime: string;
    cosignedAt: number;
    conflict: string | null;
    updatedAt: string;
  } | null;
  /** [size, checkpoint hash, cosignature time], ascending by size. */
  signed: [number, string, number][];
}

export class StateFileError extends Error {
  override name = 'StateFileError';
}

const HEX64 = /^[0-9a-f]{64}$/;

function toState(d: NonNullable<StateDocument['state']>): ValidatorState {
  const state: ValidatorState = {
    size: d.size,
    frontier: d.frontier.map((h) => hexToBytes(h)),
    lastLeaf: hexToBytes(d.lastLeaf),
    lastTime: d.lastTime,
    cosignedAt: d.cosignedAt,
    conflict: d.conflict,
    updatedAt: d.updatedAt,
  };
  checkFrontier(state.size, state.frontier);
  return state;
}

function fromState(s: ValidatorState): NonNullable<StateDocument['state']> {
  return {
    size: s.size,
    frontier: s.frontier.map(bytesToHex),
    lastLeaf: bytesToHex(s.lastLeaf),
    lastTime: s.lastTime,
    cosignedAt: s.cosignedAt,
    conflict: s.conflict,
    updatedAt: s.updatedAt,
  };
}

function parseDocument(text: string, file: string, name: string, origin: string): StateDocument {
  let doc: StateDocument;
  try {
    doc = JSON.parse(text) as StateDocument;
    if (doc.format !== STATE_FORMAT) throw new Error(`format is not ${STATE_FORMAT}`);
    if (!Array.isArray(doc.signed) || doc.signed.some((r) => !Array.isArray(r) || !Number.isSafeInteger(r[0]) || !HEX64.test(String(r[1])) || !Number.isSafeInteger(r[2]))) {
      throw new Error('malformed signed records');
    }
    if (doc.state !== null) toState(doc.state);
  } catch (e) {
    throw new StateFileError(`${file} is not a validator state file (${(e as Error).message}); move it away to start this validator from an empty state`);
  }
  if (doc.validator !== name || doc.origin !== origin) {
    throw new StateFileError(`${file} holds the state of validator "${doc.validator}" of origin "${doc.origin}", not "${name}" of "${origin}"; use another data directory`);
  }
  return doc;
}

/** Take `<dir>/lock` (functions/dir-lock.ts): one process per validator state. Returns the release function. */
function lock(dir: string): () => void {
  return lockDirectory(dir, (r) =>
    new StateFileError(
      r.kind === 'this-process'
        ? `the validator state directory ${dir} is already open in this process`
        : r.kind === 'in-use'
          ? `the validator state directory ${dir} is in use by process ${r.pid}; two processes must never share one validator's state`
          : `cannot lock the validator state directory ${dir}`,
    ),
  );
}

/** The state document in memory; `persist` (absent: memory only) writes it durably. */
class DocumentStateStore implements ValidatorStateStore {
  #doc: StateDocument;
  #chain: Promise<unknown> = Promise.resolve();
  constructor(
    readonly location: string,
    doc: StateDocument,
    private readonly persist: ((doc: StateDocument) => Promise<void>) | null,
    private readonly release: () => void,
  ) {
    this.#doc = doc;
  }

  /** Run `fn` after every earlier write (one writer at a time). */
  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#chain.then(fn, fn);
    this.#chain = run.catch(() => {});
    return run;
  }

  /** Write `next` durably, then adopt it in memory (a failed write changes nothing). */
  async #commit(next: StateDocument): Promise<void> {
    if (this.persist) await this.persist(next);
    this.#doc = next;
  }

  async load(): Promise<ValidatorState | null> {
    return this.#doc.state ? toState(this.#doc.state) : null;
  }

  save(state: ValidatorState): Promise<boolean> {
    try {
      checkFrontier(state.size, state.frontier);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.#serial(async () => {
      if (this.#doc.state && this.#doc.state.size > state.size) return false;
      await this.#commit({ ...this.#doc, state: fromState(state) });
      return true;
    });
  }

  async getSigned(size: number): Promise<SignedRecord | null> {
    const r = this.#doc.signed.find((x) => x[0] === size);
    return r ? { size: r[0], hash: r[1], at: r[2] } : null;
  }

  recordSigned(record: SignedRecord): Promise<RecordResult> {
    if (!Number.isSafeInteger(record.size) || record.size < 1 || !HEX64.test(record.hash) || !Number.isSafeInteger(record.at)) {
      return Promise.reject(new Error('recordSigned: malformed record'));
    }
    return this.#serial(async () => {
      const found = this.#doc.signed.find((x) => x[0] === record.size);
      if (found) {
        const stored = { size: found[0], hash: found[1], at: found[2] };
        return { result: found[1] === record.hash ? 'same' : 'conflict', record: stored } as RecordResult;
      }
      const signed = [...this.#doc.signed, [record.size, record.hash, record.at] as [number, string, number]].sort((a, b) => a[0] - b[0]);
      await this.#commit({ ...this.#doc, signed: signed.slice(-KEPT_RECORDS) });
      return { result: 'recorded', record };
    });
  }

  async close(): Promise<void> {
    await this.#chain;
    await this.release();
  }
}

/** Write the document: temporary file, fsync, rename, fsync of the directory. */
async function writeAtomically(dir: string, doc: StateDocument): Promise<void> {
  const file = join(dir, STATE_FILE);
  const tmp = `${file}.${process.pid}.tmp`;
  const fh = await open(tmp, 'w', 0o600);
  try {
    await fh.writeFile(`${JSON.stringify(doc)}\n`, 'utf8');
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, file);
  const d = await open(dir, 'r');
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}

/**
 * Open (creating it, 0700) the state directory of validator `name` of `origin`:
 * takes its lock, reads state.json if present. A file of another validator or
 * origin, or one that does not parse, is refused with a sentence saying so.
 */
export async function openFileStateStore(opts: { dir: string; name: string; origin: string }): Promise<ValidatorStateStore> {
  const { dir, name, origin } = opts;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const release = lock(dir);
  try {
    const file = join(dir, STATE_FILE);
    let text: string | null = null;
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    const doc: StateDocument = text === null ? { format: STATE_FORMAT, validator: name, origin, state: null, signed: [] } : parseDocument(text, file, name, origin);
    return new DocumentStateStore(file, doc, (d) => writeAtomically(dir, d), release);
  } catch (e) {
    await release();
    throw e;
  }
}

/** The same store in memory only: for tests and benchmarks (a restart forgets everything). */
export function memoryStateStore(opts: { name: string; origin: string }): ValidatorStateStore {
  return new DocumentStateStore(`memory:${opts.name}`, { format: STATE_FORMAT, validator: opts.name, origin: opts.origin, state: null, signed: [] }, null, async () => {});
}
