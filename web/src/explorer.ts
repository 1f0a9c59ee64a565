/**
 * The ledger explorer at `/explorer` (issue 10): the latest checkpoint, the
 * blocks newest first (older ones page by page at `/explorer?before=<height>`,
 * linked as "Older blocks" and "Newer blocks"), a block's detail at
 * `/explorer?block=<height>` (or `#block-<height>`), the validator set with
 * each validator's recent faults, the publications and a consistency check
 * between two checkpoints, verified in this browser with the sdk core.
 * Only same-origin GETs of the public API. Refreshes every few seconds while
 * visible and on focus (new blocks only on the newest page: an older page
 * stays as linked); rows are updated in place, never cleared first. The
 * server renders the same lists into the page (functions/api/explorer-html.ts)
 * so that they read without JavaScript; this script replaces them on load.
 */
import {
  bytesToHex,
  hexToBytes,
  parseBlockHeader,
  parseCheckpoint,
  parseNote,
  validatorSetHash,
  verifyCheckpointQuorum,
  verifyConsistency,
  type ValidatorSet,
} from '@ledgerseal/sdk';
import { validatorSetOf } from './inputs.ts';

const REFRESH_MS = 3000;
const BLOCKS_SHOWN = 25;
/** The recent faults: the newest this many of all validators (functions/api/explorer-html.ts EXPLORER_FAULTS). */
const FAULTS_READ = 100;
/** Faults listed per validator. */
const FAULTS_LISTED = 3;

interface ApiBlock {
  height: number;
  header: string;
  checkpoint: string;
  finalizedAt: string;
}
interface ApiFault {
  height: number;
  validator: string;
  reason: string;
  time: string;
  detail: string;
}
interface ApiPublication {
  size: number;
  root: string;
  code: string;
  checkpoint: string;
  publishedAt: string;
}

const $ = <T extends HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`the page has no #${id}`);
  return el as T;
};

function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: { text?: string; className?: string; attrs?: Record<string, string> } = {}, ...children: Node[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (props.text !== undefined) e.textContent = props.text;
  if (props.className) e.className = props.className;
  for (const [k, v] of Object.entries(props.attrs ?? {})) e.setAttribute(k, v);
  e.append(...children);
  return e;
}

async function getJson<T>(path: string): Promise<T> {
  const res = await fetch(path, { headers: { accept: 'application/json' } });
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
  return (await res.json()) as T;
}

let set: ValidatorSet | undefined;

/** The names that signed a checkpoint note: verified against the set when it is loaded, else read unverified. */
function signersOf(note: string): { text: string; ok: boolean | undefined } {
  try {
    if (set) {
      const q = verifyCheckpointQuorum(note, set);
      const names = q.cosignatures.map((c) => c.name);
      return { text: `${names.join(', ') || 'nobody'}${q.ok ? ' (quorum, verified)' : ` (no quorum: ${q.reason ?? 'unknown'})`}`, ok: q.ok };
    }
    return { text: `${parseNote(note).signatures.map((s) => s.name).join(', ')} (not verified)`, ok: undefined };
  } catch (e) {
    return { text: `unreadable signatures (${e instanceof Error ? e.message : String(e)})`, ok: false };
  }
}

function utc(iso: string): string {
  return iso.replace('T', ' ').replace(/\.\d{3}Z$/, '').replace(/Z$/, '');
}

function shortHex(hex: string): string {
  return `${hex.slice(0, 16)}…`;
}

// ---- latest checkpoint ----

let latestSize = 0;

async function loadCheckpoint(): Promise<boolean> {
  const res = await fetch('/v1/checkpoint', { headers: { accept: 'text/plain' } });
  if (res.status === 404) {
    $('cp-size').textContent = '0 (no block has been finalized yet)';
    return false;
  }
  if (!res.ok) throw new Error(`/v1/checkpoint: HTTP ${res.status}`);
  const note = await res.text();
  const { origin, size, root } = parseCheckpoint(parseNote(note).text);
  const changed = size !== latestSize;
  latestSize = size;
  $('cp-size').textContent = String(size);
  $('cp-root').textContent = bytesToHex(root);
  $('cp-origin').textContent = origin;
  $('cp-signers').textContent = signersOf(note).text;
  return changed;
}

// ---- blocks ----

const blocksBody = $<HTMLTableElement>('blocks').tBodies[0]!;
const shownHeights = new Set<number>();

/** `?before=<height>`: the page of blocks below that height; absent for the newest page. */
function requestedBefore(): number | undefined {
  const v = new URLSearchParams(location.search).get('before');
  return v !== null && /^\d{1,15}$/.test(v) ? Number(v) : undefined;
}
const before = requestedBefore();

/** The heights of the page shown: below `before` (the newest page when absent), at most BLOCKS_SHOWN (explorer-html.ts blockPage). */
function blockPage(size: number): { from: number; limit: number; older: boolean } {
  const older = before !== undefined && before < size;
  const end = older ? before : size;
  const from = Math.max(0, end - BLOCKS_SHOWN);
  return { from, limit: end - from, older };
}

/** "Newer blocks" (on an older page) and "Older blocks" (when there are any) links, as the server renders them. */
function renderPager(size: number): void {
  const page = blockPage(size);
  const lowest = page.from;
  const links: Node[] = [];
  if (page.older) {
    const end = page.from + page.limit;
    const href = end + BLOCKS_SHOWN >= size ? '/explorer' : `/explorer?before=${end + BLOCKS_SHOWN}`;
    links.push(el('a', { text: 'Newer blocks', attrs: { id: 'newer-blocks', rel: 'prev', href } }));
  }
  if (lowest > 0) links.push(el('a', { text: 'Older blocks', attrs: { id: 'older-blocks', rel: 'next', href: `/explorer?before=${lowest}` } }));
  const nav = $('blocks-pager');
  const same = nav.children.length === links.length && links.every((l, i) => (nav.children[i] as HTMLAnchorElement).href === (l as HTMLAnchorElement).href);
  if (!same) nav.replaceChildren(...links.flatMap((l, i) => (i === 0 ? [l] : [document.createTextNode(' '), l])));
}

function blockRow(b: ApiBlock, fresh: boolean): HTMLTableRowElement {
  const h = parseBlockHeader(b.header);
  const link = el('a', { text: String(b.height), attrs: { href: `/explorer?block=${b.height}`, 'aria-label': `Block ${b.height}` } });
  const signers = signersOf(b.checkpoint);
  return el(
    'tr',
    { className: fresh ? 'fresh' : '', attrs: { 'data-height': String(b.height), 'data-anchors': String(h.anchors) } },
    el('th', { attrs: { scope: 'row' } }, link),
    el('td', { text: utc(h.time) }),
    el('td', { text: String(h.anchors), className: 'num' }),
    el('td', { text: shortHex(bytesToHex(h.roundRoot)), className: 'hash', attrs: { title: bytesToHex(h.roundRoot) } }),
    el('td', { text: signers.text, attrs: { 'data-signers': signers.ok === false ? 'bad' : 'ok' } }),
  );
}

let blocksLoaded = false;

/**
 * Newest first; only heights not shown yet are added, at the top, and the list is trimmed at the
 * bottom. An older page (`?before=`) is read once: it does not change as the ledger grows.
 */
async function loadBlocks(): Promise<number> {
  if (latestSize === 0) return 0;
  const { from, limit, older } = blockPage(latestSize);
  if (older && blocksLoaded) return 0;
  if (older) {
    $('blocks-heading').textContent = `Blocks before height ${before}, newest first`;
    document.title = `Blocks before ${before} · Ledger explorer · Ledgerseal`;
  }
  const page = limit === 0 ? { items: [] } : await getJson<{ items: ApiBlock[] }>(`/v1/blocks?from=${from}&limit=${limit}`);
  const first = !blocksLoaded;
  blocksLoaded = true;
  if (first && page.items.length === 0 && older) {
    blocksBody.replaceChildren(el('tr', {}, el('td', { text: `No blocks before height ${before}.`, attrs: { colspan: '5' } })));
    renderPager(latestSize);
    return 0;
  }
  const added = page.items.filter((b) => !shownHeights.has(b.height)).sort((a, b) => b.height - a.height);
  const rows = added.map((b) => blockRow(b, !first));
  if (first) {
    // Replaces the rows the server rendered (functions/api/explorer-html.ts) in one step: same rows, signers now checked here.
    blocksBody.replaceChildren(...rows);
  } else {
    const top = blocksBody.rows[0];
    for (const r of rows) blocksBody.insertBefore(r, top ?? null);
  }
  for (const b of added) shownHeights.add(b.height);
  while (blocksBody.rows.length > BLOCKS_SHOWN) {
    const last = blocksBody.rows[blocksBody.rows.length - 1]!;
    shownHeights.delete(Number(last.dataset.height));
    last.remove();
  }
  renderPager(latestSize);
  return first ? 0 : added.length;
}

// ---- block detail ----

function requestedBlock(): number | undefined {
  const q = new URLSearchParams(location.search).get('block');
  const m = /^#block-(\d+)$/.exec(location.hash);
  const v = q ?? m?.[1];
  return v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined;
}

async function showBlock(height: number): Promise<void> {
  const section = $('block-detail');
  const heading = $('block-detail-heading');
  const body = $('block-detail-body');
  section.hidden = false;
  heading.textContent = `Block ${height}`;
  document.title = `Block ${height} · Ledger explorer · Ledgerseal`;
  const res = await fetch(`/v1/blocks/${height}`, { headers: { accept: 'application/json' } });
  if (res.status === 404) {
    body.replaceChildren(el('p', { text: `There is no block at height ${height} (yet).` }));
    return;
  }
  if (!res.ok) throw new Error(`/v1/blocks/${height}: HTTP ${res.status}`);
  const b = (await res.json()) as ApiBlock;
  const h = parseBlockHeader(b.header);
  const cp = parseCheckpoint(parseNote(b.checkpoint).text);
  const fact = (term: string, value: string | Node, cls = ''): Node[] => [el('dt', { text: term }), el('dd', { className: cls }, typeof value === 'string' ? document.createTextNode(value) : value)];
  const prevLink = h.height > 0 ? el('a', { text: bytesToHex(h.prev), attrs: { href: `/explorer?block=${h.height - 1}`, 'aria-label': `Previous block ${h.height - 1}: ${bytesToHex(h.prev)}` } }) : 'none (genesis)';
  body.replaceChildren(
    el(
      'dl',
      { className: 'facts', attrs: { id: 'block-facts', 'data-height': String(h.height) } },
      ...fact('Height', String(h.height)),
      ...fact('Time (UTC)', utc(h.time)),
      ...fact('Anchors', String(h.anchors)),
      ...fact('Batches in the round', String(h.roundSize)),
      ...fact('Round root', bytesToHex(h.roundRoot), 'hash'),
      ...fact('Previous block', prevLink, 'hash'),
      ...fact('Validator set (SHA-256)', bytesToHex(h.validators), 'hash'),
      ...fact('Checkpoint', `size ${cp.size}, root ${bytesToHex(cp.root)}`, 'hash'),
      ...fact('Signed by', signersOf(b.checkpoint).text),
      ...fact('Finalized at (UTC)', utc(b.finalizedAt)),
    ),
    el('h3', { text: 'Header text' }),
    el('pre', { text: b.header }),
    el('h3', { text: 'Signed checkpoint' }),
    el('pre', { text: b.checkpoint }),
  );
}

// ---- validators ----

async function loadValidators(): Promise<void> {
  const text = await (await fetch('/v1/validators', { headers: { accept: 'application/json' } })).text();
  const next = validatorSetOf(text);
  const fp = bytesToHex(validatorSetHash(next));
  if (set && bytesToHex(validatorSetHash(set)) === fp) return;
  set = next;
  const body = $<HTMLTableElement>('validators').tBodies[0]!;
  // Rows the server rendered for this very set stay (a deep link's :target is the element, not its id).
  const rendered = [...body.rows].map((r) => `${r.dataset.validator}=${r.cells[1]?.textContent ?? ''}`).join('\n');
  if (rendered === set.validators.map((v) => `${v.name}=${v.key}`).join('\n')) return;
  $('validators-fingerprint').textContent = `${set.validators.length} validators of ${set.origin ?? 'any origin'}; SHA-256 fingerprint ${fp.match(/.{4}/g)!.join(' ')}.`;
  body.replaceChildren(
    ...set.validators.map((v) =>
      el(
        'tr',
        { attrs: { id: `validator-${v.name}`, 'data-validator': v.name } },
        el('th', { attrs: { scope: 'row' } }, el('a', { text: v.name, attrs: { href: `/explorer#validator-${encodeURIComponent(v.name)}` } })),
        el('td', { text: v.key, className: 'hash' }),
        el('td', { text: String(v.weight), className: 'num' }),
        el('td', { text: '…', className: 'faults' }),
      ),
    ),
  );
  faultsKey = undefined; // new rows: fill their fault cells again
}

// ---- validator faults ----

let faultsKey: string | undefined;

/** A validator's recent faults: how many, and the newest few, each linked to the block of its height. */
function faultsCell(cell: HTMLTableCellElement, faults: readonly ApiFault[]): void {
  cell.dataset.faults = String(faults.length);
  if (faults.length === 0) {
    cell.replaceChildren('none');
    return;
  }
  const items = faults.slice(0, FAULTS_LISTED).map((f) =>
    el(
      'li',
      { attrs: { 'data-height': String(f.height), title: f.detail } },
      el('a', { text: `block ${f.height}`, attrs: { href: `/explorer?block=${f.height}` } }),
      document.createTextNode(`: ${f.reason}, ${utc(f.time)}`),
    ),
  );
  cell.replaceChildren(el('span', { text: `${faults.length} ${faults.length === 1 ? 'fault' : 'faults'}`, className: 'fault-count' }), el('ul', { className: 'fault-list' }, ...items));
}

/** The newest FAULTS_READ faults of all validators, counted and listed per validator row; rows change only when the faults do. */
async function loadFaults(): Promise<void> {
  const page = await getJson<{ items: ApiFault[] }>(`/v1/validators/faults?limit=${FAULTS_READ}`);
  const key = page.items.map((f) => `${f.height}:${f.validator}:${f.reason}`).join(',');
  if (key === faultsKey) return;
  faultsKey = key;
  for (const row of $<HTMLTableElement>('validators').tBodies[0]!.rows) {
    const cell = row.cells[3];
    if (cell) faultsCell(cell, page.items.filter((f) => f.validator === row.dataset.validator));
  }
}

// ---- publications ----

let publicationsKey: string | undefined;

async function loadPublications(): Promise<void> {
  const page = await getJson<{ items: ApiPublication[] }>('/v1/publications?limit=20');
  const key = page.items.map((p) => p.size).join(',');
  if (key === publicationsKey) return;
  publicationsKey = key;
  const body = $<HTMLTableElement>('publications').tBodies[0]!;
  // The same publications as the rows already there (the server's): keep them, and a deep link's :target.
  if (page.items.length > 0 && [...body.rows].map((r) => r.dataset.size ?? '').join(',') === key) return;
  if (page.items.length === 0) {
    body.replaceChildren(el('tr', {}, el('td', { text: 'No publication yet.', attrs: { colspan: '3' } })));
    return;
  }
  body.replaceChildren(
    ...page.items.map((p) =>
      el(
        'tr',
        { attrs: { id: `publication-${p.size}`, 'data-size': String(p.size) } },
        el('th', { attrs: { scope: 'row' } }, el('a', { text: String(p.size), attrs: { href: `/explorer#publication-${p.size}` } })), el('td', { text: utc(p.publishedAt) }), el('td', { text: p.code, className: 'code' })),
    ),
  );
}

// ---- consistency ----

async function checkpointOfSize(size: number): Promise<string> {
  const b = await getJson<ApiBlock>(`/v1/blocks/${size - 1}`);
  return b.checkpoint;
}

async function checkConsistency(fromText: string, toText: string): Promise<{ ok: boolean; message: string }> {
  if (!/^\d+$/.test(fromText) || !/^\d+$/.test(toText)) return { ok: false, message: 'Give both calendar sizes as whole numbers.' };
  const from = Number(fromText);
  const to = Number(toText);
  if (from < 1 || from > to) return { ok: false, message: 'The older size must be at least 1 and no larger than the newer size.' };
  if (!set) return { ok: false, message: 'The validator set is not loaded yet.' };
  const [older, newer] = await Promise.all([checkpointOfSize(from), checkpointOfSize(to)]);
  for (const [size, note] of [[from, older], [to, newer]] as const) {
    const q = verifyCheckpointQuorum(note, set);
    if (!q.ok) return { ok: false, message: `The checkpoint of size ${size} is not signed by a quorum of the validator set (${q.reason ?? 'unknown'}).` };
  }
  const proof = await getJson<{ path: string[] }>(`/v1/proofs/consistency?from=${from}&to=${to}`);
  const r1 = parseCheckpoint(parseNote(older).text).root;
  const r2 = parseCheckpoint(parseNote(newer).text).root;
  const ok = verifyConsistency(from, to, proof.path.map((h) => hexToBytes(h, 32)), r1, r2);
  return ok
    ? { ok, message: `Consistent: the checkpoint of size ${to} extends the one of size ${from} without changing any of its ${from} blocks; both carry a quorum of signatures.` }
    : { ok, message: `Not consistent: the proof does not show that size ${to} extends size ${from}. The ledger may have been rewritten.` };
}

// ---- refresh ----

const status = $('refresh-status');
let refreshing = false;

async function refresh(initial: boolean): Promise<void> {
  if (refreshing) return;
  refreshing = true;
  try {
    if (initial) await loadValidators();
    const changed = await loadCheckpoint();
    const added = changed || initial ? await loadBlocks() : 0;
    await loadFaults();
    await loadPublications();
    const at = new Date().toISOString().slice(11, 19);
    // Announce only news, so a screen reader is not interrupted every few seconds.
    if (initial && blockPage(latestSize).older) status.textContent = `Showing the blocks before height ${before}; the ledger's size is ${latestSize}.`;
    else if (initial) status.textContent = `Showing the ledger at size ${latestSize}. Updates every ${REFRESH_MS / 1000} seconds.`;
    else if (added > 0) status.textContent = `${added} new block${added === 1 ? '' : 's'} at ${at} UTC; the ledger's size is now ${latestSize}.`;
  } catch (e) {
    status.textContent = `Could not refresh: ${e instanceof Error ? e.message : String(e)}. Retrying.`;
  } finally {
    refreshing = false;
  }
}

function start(): void {
  const wanted = requestedBlock();
  const initial = refresh(true);
  void initial.then(async () => {
    if (wanted === undefined) return;
    try {
      await showBlock(wanted);
    } catch (e) {
      $('block-detail-body').replaceChildren(el('p', { text: `The block could not be loaded: ${e instanceof Error ? e.message : String(e)}` }));
    }
    $('block-detail-heading').focus();
  });
  setInterval(() => {
    if (document.visibilityState === 'visible') void refresh(false);
  }, REFRESH_MS);
  window.addEventListener('focus', () => void refresh(false));
  window.addEventListener('hashchange', () => {
    const h = requestedBlock();
    if (h !== undefined) void showBlock(h).then(() => $('block-detail-heading').focus());
  });

  $<HTMLFormElement>('goto-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const v = $<HTMLInputElement>('goto-height').value.trim();
    if (/^\d+$/.test(v)) location.assign(`/explorer?block=${v}`);
  });

  const result = $('consistency-result');
  const fromInput = $<HTMLInputElement>('cons-from');
  const toInput = $<HTMLInputElement>('cons-to');
  const runCheck = (): void => {
    result.removeAttribute('data-ok');
    result.textContent = 'Checking…';
    const from = fromInput.value.trim();
    const to = toInput.value.trim();
    checkConsistency(from, to)
      .then((r) => {
        result.dataset.ok = String(r.ok);
        result.textContent = r.message;
        // The check's own address (/explorer?from=&to=), to share or bookmark; it runs again on load.
        if (/^\d+$/.test(from) && /^\d+$/.test(to)) history.replaceState(null, '', `/explorer?from=${from}&to=${to}#consistency`);
      })
      .catch((err: unknown) => {
        result.dataset.ok = 'error';
        result.textContent = `The check could not run: ${err instanceof Error ? err.message : String(err)}`;
      });
  };
  $<HTMLFormElement>('consistency-form').addEventListener('submit', (e) => {
    e.preventDefault();
    runCheck();
  });
  const params = new URLSearchParams(location.search);
  const from = params.get('from');
  const to = params.get('to');
  if (from !== null && to !== null) {
    fromInput.value = from;
    toInput.value = to;
    // Once the validator set is loaded (the first refresh), so the quorum can be checked.
    void initial.then(runCheck);
  }
}

start();
