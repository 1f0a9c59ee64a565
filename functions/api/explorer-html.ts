/**
 * The explorer's lists rendered on the server (issue 10, "readable without
 * JavaScript where possible"): the latest checkpoint, the latest blocks (or,
 * for `/explorer?before=<height>`, the page of older blocks below that height,
 * with "Older blocks" and "Newer blocks" links), the validator set with each
 * validator's recent faults, the publications and, for
 * `/explorer?block=<height>`, that block's detail, filled into the built
 * web/dist/explorer.html at its
 * `data-ssr` placeholders as plain escaped HTML. The page's script
 * (web/src/explorer.ts) then re-renders them with signatures checked in the
 * browser and keeps them live. Signers here are checked by the server against
 * the set it serves.
 */
import { bytesToHex, parseBlockHeader, parseCheckpoint, parseNote, validatorSetHash, verifyCheckpointQuorum, type ValidatorSet } from '@ledgerseal/sdk';
import { listValidatorFaults, type ValidatorFault } from '../ledger/events.ts';
import type { Block, Store } from '../store/port.ts';

export interface ExplorerData {
  store: Store;
  validatorSet: ValidatorSet;
}

/** As many blocks as the page's script shows (web/src/explorer.ts BLOCKS_SHOWN). */
export const EXPLORER_BLOCKS = 25;
/** The recent faults: the newest this many of all validators (web/src/explorer.ts FAULTS_READ). */
export const EXPLORER_FAULTS = 100;
/** Faults listed per validator (web/src/explorer.ts FAULTS_LISTED). */
export const EXPLORER_FAULTS_LISTED = 3;

/** What the explorer shows: the block detail asked for (`?block=`), and the page of blocks below `before` (`?before=`). */
export interface ExplorerQuery {
  block?: number;
  before?: number;
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
const utc = (iso: string): string => iso.replace('T', ' ').replace(/(\.\d{3})?Z$/, '');

function signers(note: string, set: ValidatorSet): string {
  try {
    const q = verifyCheckpointQuorum(note, set);
    const names = q.cosignatures.map((c) => c.name).join(', ') || 'nobody';
    return `${names}${q.ok ? ' (quorum)' : ' (no quorum)'}`;
  } catch {
    return 'unreadable signatures';
  }
}

function blockRow(b: Block, set: ValidatorSet): string {
  const h = parseBlockHeader(b.header);
  const root = bytesToHex(h.roundRoot);
  return (
    `<tr data-height="${h.height}" data-anchors="${h.anchors}"><th scope="row"><a href="/explorer?block=${h.height}" aria-label="Block ${h.height}">${h.height}</a></th>` +
    `<td>${esc(utc(h.time))}</td><td class="num">${h.anchors}</td><td class="hash" title="${root}">${root.slice(0, 16)}…</td><td>${esc(signers(b.checkpoint, set))}</td></tr>`
  );
}

function blockDetail(b: Block, set: ValidatorSet): string {
  const h = parseBlockHeader(b.header);
  const cp = parseCheckpoint(parseNote(b.checkpoint).text);
  const fact = (t: string, v: string, cls = ''): string => `<dt>${esc(t)}</dt><dd${cls ? ` class="${cls}"` : ''}>${v}</dd>`;
  const prev = h.height > 0 ? `<a href="/explorer?block=${h.height - 1}">${bytesToHex(h.prev)}</a>` : 'none (genesis)';
  return (
    `<dl class="facts" id="block-facts" data-height="${h.height}">` +
    fact('Height', String(h.height)) +
    fact('Time (UTC)', esc(utc(h.time))) +
    fact('Anchors', String(h.anchors)) +
    fact('Batches in the round', String(h.roundSize)) +
    fact('Round root', bytesToHex(h.roundRoot), 'hash') +
    fact('Previous block', prev, 'hash') +
    fact('Validator set (SHA-256)', bytesToHex(h.validators), 'hash') +
    fact('Checkpoint', `size ${cp.size}, root ${bytesToHex(cp.root)}`, 'hash') +
    fact('Signed by', esc(signers(b.checkpoint, set))) +
    fact('Finalized at (UTC)', esc(utc(b.finalizedAt))) +
    `</dl><h3>Header text</h3><pre>${esc(b.header)}</pre><h3>Signed checkpoint</h3><pre>${esc(b.checkpoint)}</pre>`
  );
}

/** The heights of one page of blocks: below `before` (the newest page when absent), at most EXPLORER_BLOCKS. */
export function blockPage(size: number, before: number | undefined): { from: number; limit: number } {
  const end = Math.min(size, before ?? size);
  const from = Math.max(0, end - EXPLORER_BLOCKS);
  return { from, limit: end - from };
}

/** The pager links below a page of blocks that starts at height `from` and ends before `end` (web/src/explorer.ts renderPager). */
function pager(size: number, page: { from: number; limit: number }, older: boolean): string {
  const end = page.from + page.limit;
  const links: string[] = [];
  if (older) {
    const newer = end + EXPLORER_BLOCKS >= size ? '/explorer' : `/explorer?before=${end + EXPLORER_BLOCKS}`;
    links.push(`<a id="newer-blocks" rel="prev" href="${newer}">Newer blocks</a>`);
  }
  if (page.from > 0) links.push(`<a id="older-blocks" rel="next" href="/explorer?before=${page.from}">Older blocks</a>`);
  return links.join(' ');
}

/** A validator's recent faults: how many, and the newest few, each linked to the block of its height. */
function faultsCell(faults: readonly ValidatorFault[]): string {
  if (faults.length === 0) return '<td class="faults" data-faults="0">none</td>';
  const items = faults
    .slice(0, EXPLORER_FAULTS_LISTED)
    .map((f) => `<li data-height="${f.height}"><a href="/explorer?block=${f.height}">block ${f.height}</a>: ${esc(f.reason)}, ${esc(utc(f.time))}</li>`)
    .join('');
  return `<td class="faults" data-faults="${faults.length}"><span class="fault-count">${faults.length} ${faults.length === 1 ? 'fault' : 'faults'}</span><ul class="fault-list">${items}</ul></td>`;
}

/** Fill one `data-ssr="<name>"` element's (empty) content; the template is returned unchanged where it has no such element. */
function fill(html: string, name: string, content: string): string {
  const re = new RegExp(`(<(\\w+)[^>]*\\sdata-ssr="${name}"[^>]*>)[^<]*(</\\2>)`);
  return html.replace(re, (_m, open: string, _tag: string, close: string) => `${open}${content}${close}`);
}

/** explorer.html with its lists filled from the store, for the detail and the page of blocks asked for. */
export async function renderExplorer(template: string, data: ExplorerData, query: ExplorerQuery = {}): Promise<string> {
  const { store, validatorSet: set } = data;
  const { block, before } = query;
  let html = template;
  const latest = await store.getLatestBlock();
  const size = latest ? parseCheckpoint(parseNote(latest.checkpoint).text).size : 0;
  if (latest) {
    const cp = parseCheckpoint(parseNote(latest.checkpoint).text);
    html = fill(html, 'cp-size', String(cp.size));
    html = fill(html, 'cp-root', bytesToHex(cp.root));
    html = fill(html, 'cp-origin', esc(cp.origin));
    html = fill(html, 'cp-signers', esc(signers(latest.checkpoint, set)));
  } else {
    html = fill(html, 'cp-size', '0 (no block has been finalized yet)');
  }
  const page = blockPage(size, before);
  const older = before !== undefined && before < size;
  if (older) html = fill(html, 'blocks-heading', `Blocks before height ${before}, newest first`);
  const blocks = page.limit > 0 ? await store.listBlocks({ ...page, consistent: true }) : [];
  html = fill(
    html,
    'blocks',
    blocks.length === 0 && older ? `<tr><td colspan="5">No blocks before height ${before}.</td></tr>` : blocks.sort((a, b) => b.height - a.height).map((b) => blockRow(b, set)).join(''),
  );
  html = fill(html, 'blocks-pager', pager(size, page, older));
  const fp = bytesToHex(validatorSetHash(set)).match(/.{4}/g)!.join(' ');
  html = fill(html, 'validators-fingerprint', esc(`${set.validators.length} validators of ${set.origin ?? 'any origin'}; SHA-256 fingerprint ${fp}.`));
  const faults = await listValidatorFaults(store, { limit: EXPLORER_FAULTS });
  html = fill(
    html,
    'validators',
    set.validators
      .map(
        (v) =>
          `<tr id="validator-${esc(v.name)}" data-validator="${esc(v.name)}"><th scope="row"><a href="/explorer#validator-${esc(encodeURIComponent(v.name))}">${esc(v.name)}</a></th><td class="hash">${esc(v.key)}</td><td class="num">${v.weight}</td>` +
          `${faultsCell(faults.items.filter((f) => f.validator === v.name))}</tr>`,
      )
      .join(''),
  );
  const pubs = await store.listPublications({ limit: 20 });
  html = fill(
    html,
    'publications',
    pubs.items.length === 0
      ? '<tr><td colspan="3">No publication yet.</td></tr>'
      : pubs.items.map((p) => `<tr id="publication-${p.size}" data-size="${p.size}"><th scope="row"><a href="/explorer#publication-${p.size}">${p.size}</a></th><td>${esc(utc(p.publishedAt))}</td><td class="code">${esc(p.code)}</td></tr>`).join(''),
  );
  if (block !== undefined) {
    const b = await store.getBlock(block);
    html = fill(html, 'block-heading', `Block ${block}`);
    html = fill(html, 'block-detail', b ? blockDetail(b, set) : `<p>There is no block at height ${block} (yet).</p>`);
    html = html.replace(/(<section id="block-detail"[^>]*?)\shidden>/, '$1>');
  }
  return html;
}
