/**
 * One process per directory: a lock file `<dir>/lock`, created exclusively,
 * holding the owner's pid. A lock whose process is gone (crashed, killed) is
 * taken over; one held by a live process, or by this process already, is
 * refused. Used by the local runner's data directory (local/data-dir.ts) and
 * by a validator's file state (validator/file-state-store.ts), where two
 * processes writing one state could make a validator sign twice.
 * Platform-free of the service: the validator unit may import it.
 */
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Why a lock was refused: the caller turns it into its own error, in its own words. */
export type LockRefusal = { kind: 'in-use'; pid: number } | { kind: 'this-process' } | { kind: 'unavailable' };

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Take `<dir>/lock`; returns its release (idempotent). Throws `refuse(...)` when the directory is held. */
export function lockDirectory(dir: string, refuse: (r: LockRefusal) => Error): () => void {
  const file = join(dir, 'lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
      let released = false;
      return () => {
        if (released) return;
        released = true;
        try {
          if (readFileSync(file, 'utf8').trim() === String(process.pid)) unlinkSync(file);
        } catch {
          /* already gone */
        }
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      /* released meanwhile: try again */
    }
    const pid = Number(text.trim());
    if (pid === process.pid) throw refuse({ kind: 'this-process' });
    if (Number.isSafeInteger(pid) && pid > 0 && alive(pid)) throw refuse({ kind: 'in-use', pid });
    try {
      unlinkSync(file); // stale: its process is gone
    } catch {
      /* already gone */
    }
  }
  throw refuse({ kind: 'unavailable' });
}
