/**
 * Progress on stderr: a bar with rate and ETA redrawn in place on a terminal,
 * plain lines (at most one per `lineEveryMs`) otherwise, nothing with --quiet or
 * --json on a non-terminal. Never writes to stdout, which belongs to results.
 */
export interface ProgressOptions {
  label: string;
  /** Expected total (rows or bytes), when known; estimates are fine. */
  total?: number;
  unit: 'rows' | 'bytes';
  stream?: NodeJS.WriteStream;
  enabled?: boolean;
  now?: () => number;
  lineEveryMs?: number;
}

function human(n: number, unit: 'rows' | 'bytes'): string {
  if (unit === 'bytes') {
    if (n >= 1 << 30) return `${(n / (1 << 30)).toFixed(2)} GiB`;
    if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(1)} MiB`;
    if (n >= 1 << 10) return `${(n / (1 << 10)).toFixed(1)} KiB`;
    return `${n} B`;
  }
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e4) return `${(n / 1e3).toFixed(1)}k`;
  return String(Math.round(n));
}

function clock(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${String(sec).padStart(2, '0')}` : `${m}:${String(sec).padStart(2, '0')}`;
}

export class Progress {
  readonly #o: Required<Omit<ProgressOptions, 'total'>> & { total?: number };
  readonly #tty: boolean;
  readonly #start: number;
  #last = 0;
  #done = 0;
  #extra = '';

  constructor(options: ProgressOptions) {
    const stream = options.stream ?? process.stderr;
    this.#o = { stream, enabled: true, now: () => performance.now(), lineEveryMs: 5000, ...options };
    this.#tty = stream.isTTY === true;
    this.#start = this.#o.now();
  }

  set total(n: number | undefined) {
    if (n !== undefined) this.#o.total = n;
  }

  /** Set the absolute position (rows or bytes done) and an optional note (e.g. "12 batches"). */
  update(done: number, extra?: string): void {
    this.#done = done;
    if (extra !== undefined) this.#extra = extra;
    if (!this.#o.enabled) return;
    const t = this.#o.now();
    if (t - this.#last < (this.#tty ? 200 : this.#o.lineEveryMs)) return;
    this.#last = t;
    this.#draw(false);
  }

  /** Final line (always drawn when enabled). */
  finish(extra?: string): void {
    if (extra !== undefined) this.#extra = extra;
    if (this.#o.enabled) this.#draw(true);
  }

  #draw(final: boolean): void {
    const { total, unit, label, stream } = this.#o;
    const elapsed = (this.#o.now() - this.#start) / 1000;
    const rate = elapsed > 0 ? this.#done / elapsed : 0;
    const parts = [label];
    if (total !== undefined && total > 0 && !final) {
      const frac = Math.min(1, this.#done / total);
      const width = 24;
      const filled = Math.round(frac * width);
      parts.push(`[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${(frac * 100).toFixed(0).padStart(3)}%`);
      parts.push(`${human(this.#done, unit)}/${human(total, unit)}`);
    } else {
      parts.push(human(this.#done, unit));
    }
    parts.push(`${human(rate, unit)}/s`);
    if (final) parts.push(`in ${clock(elapsed)}`);
    else if (total !== undefined && total > this.#done && rate > 0) parts.push(`ETA ${clock((total - this.#done) / rate)}`);
    if (this.#extra) parts.push(this.#extra);
    const line = parts.join('  ');
    if (this.#tty) stream.write(`\r\x1b[2K${line}${final ? '\n' : ''}`);
    else stream.write(`${line}\n`);
  }
}
