/**
 * The docs are complete on their own (DEVELOPERS.md non-negotiable 6): every
 * Markdown link in README.md, docs/ and the READMEs under functions/ and sdk/
 * stays in the repository and resolves (the file exists; an `#anchor` names a
 * heading of that file, slugged as GitHub does), and the code's citations of
 * docs/protocol.md name sections that exist.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');

function files(dir: string, test: (name: string) => boolean): string[] {
  const abs = join(ROOT, dir);
  if (!existsSync(abs)) return [];
  return readdirSync(abs).flatMap((name) => {
    const p = join(abs, name);
    if (statSync(p).isDirectory()) return ['node_modules', 'dist', '.data', '.git', 'vectors'].includes(name) ? [] : files(relative(ROOT, p), test);
    return test(name) ? [relative(ROOT, p)] : [];
  });
}

const markdown = ['README.md', 'BENCHMARKS.md', ...files('docs', (n) => n.endsWith('.md')), ...files('functions', (n) => n === 'README.md'), ...files('sdk', (n) => n === 'README.md')];

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
export function anchors(text: string): Set<string> {
  const out = new Set<string>();
  const seen = new Map<string, number>();
  let fence = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('```')) fence = !fence;
    const m = !fence && /^#{1,6} (.*)$/.exec(line);
    if (!m) continue;
    const base = m[1]!.trim().toLowerCase().replace(/[^\p{L}\p{N}\- _]/gu, '').replace(/ /g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

/** Markdown links outside code spans and fences: [text](target). */
function links(text: string): string[] {
  const out: string[] = [];
  let fence = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('```')) fence = !fence;
    if (fence) continue;
    const bare = line.replace(/`[^`]*`/g, '');
    for (const m of bare.matchAll(/\]\(([^)\s]+)\)/g)) out.push(m[1]!);
  }
  return out;
}

describe('documentation links', () => {
  it('the anchor slugging matches GitHub on the headings this repository uses', () => {
    expect([...anchors('## 4.3 Cosignatures (C2SP tlog-cosignature/v1)\n### 7.3 Signing a checkpoint: `POST /v1/validator/sign`\n## A\n## A')]).toEqual([
      '43-cosignatures-c2sp-tlog-cosignaturev1',
      '73-signing-a-checkpoint-post-v1validatorsign',
      'a',
      'a-1',
    ]);
  });

  it('no link leaves the repository, and every link and anchor resolves', () => {
    const problems: string[] = [];
    for (const file of markdown) {
      const text = readFileSync(join(ROOT, file), 'utf8');
      for (const target of links(text)) {
        if (/^[a-z][a-z0-9+.-]*:/i.test(target)) {
          problems.push(`${file}: ${target} leaves the repository`);
          continue;
        }
        const [path, anchor] = target.split('#', 2) as [string, string | undefined];
        const dest = path === '' ? join(ROOT, file) : resolve(ROOT, dirname(file), path);
        if (!dest.startsWith(ROOT + '/') && dest !== ROOT) problems.push(`${file}: ${target} points outside the repository`);
        else if (!existsSync(dest)) problems.push(`${file}: ${target} does not exist`);
        else if (anchor !== undefined && dest.endsWith('.md') && !anchors(readFileSync(dest, 'utf8')).has(anchor)) {
          problems.push(`${file}: ${target} names no heading of ${relative(ROOT, dest)}`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('every "docs/protocol.md <n.m>" cited in code and docs is a section of docs/protocol.md', () => {
    const sections = new Set([...readFileSync(join(ROOT, 'docs/protocol.md'), 'utf8').matchAll(/^#{2,3} (\d+(?:\.\d+)?)[. ]/gm)].map((m) => m[1]!));
    const sources = [...files('functions', (n) => n.endsWith('.ts') || n.endsWith('.md')), ...files('sdk/src', (n) => n.endsWith('.ts')), ...markdown, 'openapi/openapi.json'];
    const missing: string[] = [];
    let cited = 0;
    for (const file of sources) {
      for (const m of readFileSync(join(ROOT, file), 'utf8').matchAll(/docs\/protocol\.md,? (?:section )?(\d+(?:\.\d+)?)/g)) {
        cited++;
        if (!sections.has(m[1]!)) missing.push(`${file}: docs/protocol.md ${m[1]}`);
      }
    }
    expect(missing).toEqual([]);
    expect(cited).toBeGreaterThan(10);
  });
});
