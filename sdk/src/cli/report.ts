/**
 * The audit report as Markdown or HTML (--report file.md|file.html): counts, the
 * changed rows, the proof status and the checkpoint it was checked against. The
 * JSON form is the AuditResult itself. Long lists are cut at 10,000 rows per
 * kind in the readable forms (the JSON keeps all).
 */
import type { AuditResult } from './engine.ts';
import { auditChanged } from './engine.ts';

const LIST_MAX = 10_000;

function keyText(key: string[]): string {
  return key.join(', ');
}

function summary(a: AuditResult): [string, string][] {
  return [
    ['Dataset', a.dataset],
    ['Source', a.source],
    ['Receipts', a.receipts],
    ['Rows checked', String(a.checked)],
    ['Unchanged', String(a.unchanged)],
    ['Altered', String(a.altered.length)],
    ['Deleted', String(a.deleted.length)],
    ['Added (not anchored, or back after an anchored deletion)', String(a.added.length)],
    ['Deletions anchored earlier (not changes)', String(a.deletedAnchored)],
    ['Receipts that do not hold up', String(a.unproven.length)],
    ['Chunks rebuilt / mismatched', `${a.receiptsCheck.chunks} / ${a.receiptsCheck.chunksMismatched.length}`],
    ['Batches verified / pending / failed', `${a.proofs.verified} / ${a.proofs.pending} / ${a.proofs.failed.length} of ${a.proofs.batches}`],
    ['Rows stored but not yet submitted', String(a.proofs.unsubmittedRows)],
    ['Trust', a.proofs.trust],
    ['Checked against checkpoint', a.proofs.checkpoint ? `${a.proofs.checkpoint.origin}, size ${a.proofs.checkpoint.size}, root ${a.proofs.checkpoint.root}, cosigned by ${a.proofs.checkpoint.signers.join(', ')}` : 'none'],
    ['Duration', `${a.seconds} s`],
  ];
}

function verdict(a: AuditResult): string {
  return auditChanged(a) ? 'Changes found: the rows below differ from what was anchored.' : 'No changes: every row matches its anchored version.';
}

function lists(a: AuditResult): [string, { key: string[]; reason?: string }[]][] {
  return [['Altered', a.altered], ['Deleted', a.deleted], ['Added', a.added], ['Receipts that do not hold up', a.unproven]];
}

export function markdownReport(a: AuditResult, at: Date): string {
  const out = [`# Audit of ${a.dataset}`, '', `${at.toISOString()}: ${verdict(a)}`, '', '| | |', '| --- | --- |'];
  const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  for (const [k, v] of summary(a)) out.push(`| ${k} | ${cell(v)} |`);
  for (const [title, rows] of lists(a)) {
    if (rows.length === 0) continue;
    out.push('', `## ${title} (${rows.length})`, '', `| key (${a.dataset}) |${rows.some((r) => r.reason) ? ' reason |' : ''}`, `| --- |${rows.some((r) => r.reason) ? ' --- |' : ''}`);
    for (const r of rows.slice(0, LIST_MAX)) out.push(`| ${cell(keyText(r.key))} |${r.reason ? ` ${cell(r.reason)} |` : ''}`);
    if (rows.length > LIST_MAX) out.push('', `... and ${rows.length - LIST_MAX} more (see the JSON report)`);
  }
  if (a.proofs.failed.length) {
    out.push('', '## Batch proofs that fail', '', '| batch | check | detail |', '| --- | --- | --- |');
    for (const f of a.proofs.failed) out.push(`| ${f.batch} | ${f.check} | ${cell(f.detail)} |`);
  }
  if (a.errors.length) out.push('', '## Errors', '', ...a.errors.map((e) => `- ${e}`));
  return `${out.join('\n')}\n`;
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export function htmlReport(a: AuditResult, at: Date): string {
  const changed = auditChanged(a);
  const rows = summary(a).map(([k, v]) => `<tr><th scope="row">${esc(k)}</th><td>${esc(v)}</td></tr>`).join('\n');
  const sections = lists(a).filter(([, r]) => r.length > 0).map(([title, r]) => {
    const withReason = r.some((x) => x.reason);
    const body = r.slice(0, LIST_MAX).map((x) => `<tr><td>${esc(keyText(x.key))}</td>${withReason ? `<td>${esc(x.reason ?? '')}</td>` : ''}</tr>`).join('\n');
    const more = r.length > LIST_MAX ? `<p>... and ${r.length - LIST_MAX} more (see the JSON report)</p>` : '';
    return `<section><h2>${esc(title)} (${r.length})</h2><table><thead><tr><th scope="col">key</th>${withReason ? '<th scope="col">reason</th>' : ''}</tr></thead><tbody>${body}</tbody></table>${more}</section>`;
  }).join('\n');
  const failed = a.proofs.failed.length
    ? `<section><h2>Batch proofs that fail</h2><table><thead><tr><th scope="col">batch</th><th scope="col">check</th><th scope="col">detail</th></tr></thead><tbody>${a.proofs.failed.map((f) => `<tr><td>${esc(f.batch)}</td><td>${esc(f.check)}</td><td>${esc(f.detail)}</td></tr>`).join('')}</tbody></table></section>`
    : '';
  const errors = a.errors.length ? `<section><h2>Errors</h2><ul>${a.errors.map((e) => `<li>${esc(e)}</li>`).join('')}</ul></section>` : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Audit of ${esc(a.dataset)}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a}
table{border-collapse:collapse;width:100%;margin:1rem 0}th,td{border:1px solid #bbb;padding:.3rem .5rem;text-align:left;vertical-align:top;word-break:break-all}
th[scope=row]{width:16rem;background:#f3f3f3}.verdict{padding:.75rem 1rem;border-radius:4px;font-weight:600}
.ok{background:#e6f4ea;color:#0b5227}.changed{background:#fdecea;color:#8a1c12}</style></head>
<body><main><h1>Audit of ${esc(a.dataset)}</h1>
<p class="verdict ${changed ? 'changed' : 'ok'}" role="status">${esc(verdict(a))}</p>
<p>Generated ${esc(at.toISOString())}.</p>
<table><tbody>${rows}</tbody></table>
${sections}
${failed}
${errors}
</main></body></html>
`;
}
