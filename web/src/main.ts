/**
 * The verify page (issue 10, docs/verify.md): reads the form, verifies with the
 * sdk core in this browser (inputs.ts), lists each check (checks.ts) and
 * announces the verdict in an aria-live region. Requests go to this page's own
 * origin only: GET /v1/validators and /v1/publications once per load, pinned
 * in localStorage (trust.ts) with a consistency proof per new publication, and
 * GET /v1/proofs/extend when the user extends a proof (extend.ts). Verifying
 * needs no network once the page is loaded.
 */
import { hexToBytes, type ValidatorSet } from '@ledgerseal/sdk';
import { checkLines, provenSentence } from './checks.ts';
import { day, extendToLatestPublication } from './extend.ts';
import { InputError, type BlindingInput, type RecordInput, type TrustInput, validatorSetOf, verifyInputs } from './inputs.ts';
import { acceptSet, parsePins, PINS_KEY, type Pins, publicationOfSize, reconcile, type Reconciled, setFingerprint } from './trust.ts';

const $ = <T extends HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`the page has no #${id}`);
  return el as T;
};

const form = $<HTMLFormElement>('verify-form');
const proof = $<HTMLTextAreaElement>('proof');
const record = $<HTMLTextAreaElement>('record');
const recordFileName = $<HTMLParagraphElement>('record-file-name');
const blinding = $<HTMLSelectElement>('blinding');
const serviceSetLine = $<HTMLParagraphElement>('service-set');
const publicationsLine = $<HTMLParagraphElement>('service-publications');
const verdict = $<HTMLParagraphElement>('verdict');
const sentence = $<HTMLParagraphElement>('sentence');
const checks = $<HTMLOListElement>('checks');
const extendStatus = $<HTMLParagraphElement>('extend-status');
const extendedDownload = $<HTMLAnchorElement>('extended-download');

/** The record chosen as a file (hashed byte for byte), until the text area is edited. */
let recordFile: { bytes: Uint8Array; name: string } | undefined;
/** What this browser pinned of this service (validators, publications); undefined until loaded or when nothing could be. */
let pins: Pins | undefined;
/** The set the service serves when it differs from the pinned one, until the user accepts it. */
let offeredSet: ValidatorSet | undefined;

function readPins(): Pins | undefined {
  try {
    return parsePins(localStorage.getItem(PINS_KEY));
  } catch {
    return undefined; // storage disabled: pins last for this page only
  }
}

function savePins(): void {
  try {
    if (pins) localStorage.setItem(PINS_KEY, JSON.stringify(pins));
    else localStorage.removeItem(PINS_KEY);
  } catch {
    publicationsLine.textContent += ' (This browser does not keep pins: they last while this page is open.)';
  }
}

async function getJson(path: string): Promise<unknown> {
  const res = await fetch(path, { headers: { accept: 'application/json' } });
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  return res.json();
}

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));
const setSummary = (set: ValidatorSet): string => `${set.validators.length} validator${set.validators.length === 1 ? '' : 's'} (${set.validators.map((v) => v.name).join(', ')}) of ${set.origin ?? 'any origin'}`;

function showSet(status: Reconciled['setStatus'] | 'offline'): void {
  if (!pins) return;
  const since = status === 'first' ? 'pinned in this browser now' : `pinned in this browser on ${day(pins.setPinnedAt)}`;
  const note = status === 'offline' ? ' The service could not be reached; the pinned set is used.' : status === 'first' ? ' Compare this fingerprint with one you got another way.' : '';
  serviceSetLine.textContent = `${setSummary(pins.set)}, ${since}; SHA-256 fingerprint ${setFingerprint(pins.set)}.${note}`;
  $('set-changed').hidden = offeredSet === undefined;
  if (offeredSet) {
    $('set-changed-text').textContent =
      `Warning: this service now shows another validator set, ${setSummary(offeredSet)}, fingerprint ${setFingerprint(offeredSet)}. ` +
      'Proofs are still checked against the set pinned in this browser. Trust the new set only if you confirmed its fingerprint another way (the agency\'s website, an official letter).';
  }
}

function showPublications(r?: Reconciled): void {
  const pubs = pins?.publications ?? [];
  const latest = pubs.at(-1);
  let text = latest
    ? `${pubs.length} publication${pubs.length === 1 ? '' : 's'} pinned; the latest, of ${day(latest.publishedAt)}, has calendar size ${latest.size} and code ${latest.code}.`
    : 'No publication pinned yet: this service has not published one, or none could be checked.';
  if (r && r.added.length > 0 && r.setStatus !== 'first') text += ` New since the last visit: ${r.added.length}.`;
  if (r && r.refused.length > 0) text += ` Not pinned: ${r.refused.map((x) => `size ${x.size}, because ${x.reason}`).join('; ')}.`;
  publicationsLine.textContent = text;
  const alarm = $('publications-alarm');
  alarm.hidden = !r || r.conflicts.length === 0;
  if (r && r.conflicts.length > 0) {
    alarm.setAttribute('role', 'alert');
    alarm.textContent =
      `Warning: this service now shows a publication history that contradicts the one pinned in this browser (calendar size ${r.conflicts.map((c) => c.size).join(', ')}). ` +
      'A published history never changes: the service may have been tampered with. The pinned publications are kept.';
  }
  $('pinned-publications').hidden = pubs.length === 0;
  const rows = [...pubs].reverse().map((p) => {
    const tr = document.createElement('tr');
    for (const [text, cls] of [[day(p.publishedAt), ''], [String(p.size), ''], [p.code, 'code']] as const) {
      const td = document.createElement('td');
      td.textContent = text;
      if (cls) td.className = cls;
      tr.append(td);
    }
    return tr;
  });
  $('pinned-publications-rows').replaceChildren(...rows);
}

/** Fetch the service's validators and publications once, compare with the pins, pin what can be. */
async function loadTrust(): Promise<void> {
  pins = readPins();
  let served: ValidatorSet;
  try {
    served = validatorSetOf(JSON.stringify(await getJson('/v1/validators')));
  } catch (e) {
    if (pins) {
      showSet('offline');
      showPublications();
    } else {
      serviceSetLine.textContent = `The validator set could not be loaded (${message(e)}): paste a validator set or a publication code.`;
      publicationsLine.textContent = 'No publication could be loaded.';
    }
    return;
  }
  let publications: { size: number; root: string; code: string; checkpoint: string; publishedAt: string }[] = [];
  let pubError: string | undefined;
  try {
    publications = ((await getJson('/v1/publications?limit=20')) as { items: typeof publications }).items;
  } catch (e) {
    pubError = message(e);
  }
  const consistency = async (from: number, to: number): Promise<Uint8Array[]> =>
    ((await getJson(`/v1/proofs/consistency?from=${from}&to=${to}`)) as { path: string[] }).path.map((h) => hexToBytes(h, 32));
  const r = await reconcile(pins, { set: served, publications }, consistency, new Date().toISOString());
  pins = r.pins;
  offeredSet = r.offeredSet;
  savePins();
  showSet(r.setStatus);
  showPublications(r);
  if (pubError) publicationsLine.textContent += ` (The publications could not be loaded: ${pubError}.)`;
  performance.mark('ledgerseal:pinned'); // read by bench/web.bench.ts
}

async function readFile(input: HTMLInputElement): Promise<File | undefined> {
  return input.files?.[0] ?? undefined;
}

/** Dropping a file on a text area puts its text there. */
function acceptDrop(area: HTMLTextAreaElement, onBytes?: (bytes: Uint8Array, name: string) => void): void {
  area.addEventListener('dragover', (e) => e.preventDefault());
  area.addEventListener('drop', (e) => {
    const file = e.dataTransfer?.files[0];
    if (!file) return;
    e.preventDefault();
    void file.arrayBuffer().then((buf) => {
      const bytes = new Uint8Array(buf);
      area.value = new TextDecoder().decode(bytes);
      onBytes?.(bytes, file.name);
    });
  });
}

function showBlindingFields(): void {
  for (const kind of ['mask', 'receipt', 'key']) $(`blinding-${kind}`).hidden = blinding.value !== kind;
}

function trustKind(): string {
  return (form.querySelector<HTMLInputElement>('input[name="trust"]:checked')?.value) ?? 'service';
}

function showTrustFields(): void {
  $('trust-set-fields').hidden = trustKind() !== 'set';
  $('trust-code-fields').hidden = trustKind() !== 'code';
}

function recordInput(): RecordInput {
  if (recordFile) return { kind: 'bytes', ...recordFile };
  return record.value.trim() === '' ? { kind: 'none' } : { kind: 'json', text: record.value };
}

function blindingInput(): BlindingInput {
  switch (blinding.value) {
    case 'mask':
      return { kind: 'mask', hex: $<HTMLInputElement>('mask').value };
    case 'receipt':
      return { kind: 'receipt', text: $<HTMLTextAreaElement>('receipt').value };
    case 'key':
      return {
        kind: 'key',
        keyHex: $<HTMLInputElement>('blinding-key-hex').value,
        recordKey: $<HTMLInputElement>('record-key').value,
        version: $<HTMLInputElement>('record-version').value,
      };
    default:
      return { kind: 'none' };
  }
}

function trustInput(): TrustInput {
  switch (trustKind()) {
    case 'set':
      return { kind: 'validators', set: validatorSetOf($<HTMLTextAreaElement>('validator-set').value) };
    case 'code':
      return { kind: 'publication', code: $<HTMLInputElement>('publication-code').value };
    case 'publications':
      if (!pins || pins.publications.length === 0) throw new InputError('No publication of this service is pinned in this browser: choose another trust.');
      return { kind: 'publication', code: pins.publications.map((p) => p.code) };
    default:
      if (!pins) throw new InputError("This service's validator set is not loaded: paste a validator set or a publication code.");
      return { kind: 'validators', set: pins.set };
  }
}

function show(ok: boolean | null, headline: string, text: string): void {
  verdict.textContent = headline;
  verdict.dataset.ok = ok === null ? 'error' : String(ok);
  sentence.textContent = text;
}

function verify(): void {
  checks.replaceChildren();
  let v;
  try {
    v = verifyInputs({ proofText: proof.value, record: recordInput(), blinding: blindingInput(), trust: trustInput() });
  } catch (e) {
    if (!(e instanceof InputError) && !(e instanceof Error)) throw e;
    show(null, 'Cannot verify yet.', e.message);
    return;
  }
  for (const line of checkLines(v.result, v.trust, v.recordGiven)) {
    const li = document.createElement('li');
    li.dataset.check = line.check;
    li.dataset.status = line.status;
    const mark = document.createElement('strong');
    mark.textContent = { pass: 'Passed', fail: 'Failed', 'not-run': 'Not run', skipped: 'Skipped' }[line.status];
    li.append(mark, ` ${line.title}: ${line.text}`);
    checks.append(li);
  }
  if (v.result.ok) {
    const pinned = trustKind() === 'publications' ? publicationOfSize(pins, v.result.calendarSize) : undefined;
    const code = trustKind() === 'code' ? $<HTMLInputElement>('publication-code').value.trim() : pinned?.code;
    show(true, 'Verified.', provenSentence(v.result, v.recordGiven, code, pinned && day(pinned.publishedAt)));
  } else {
    const failed = checks.querySelector('[data-status="fail"]')?.textContent ?? '';
    show(false, `Not verified: the check "${failed.replace(/^Failed /, '').split(':')[0]}" failed.`, failed.replace(/^Failed /, ''));
  }
}

form.addEventListener('submit', (e) => {
  e.preventDefault();
  verify();
});
blinding.addEventListener('change', showBlindingFields);
for (const r of form.querySelectorAll<HTMLInputElement>('input[name="trust"]')) r.addEventListener('change', showTrustFields);
record.addEventListener('input', () => {
  recordFile = undefined;
  recordFileName.hidden = true;
});
acceptDrop(proof);
acceptDrop(record, (bytes, name) => {
  recordFile = { bytes, name };
  recordFileName.textContent = `Record file ${name} (${bytes.length} bytes), checked byte for byte.`;
  recordFileName.hidden = false;
});
$<HTMLInputElement>('proof-file').addEventListener('change', async (e) => {
  const file = await readFile(e.target as HTMLInputElement);
  if (file) proof.value = await file.text();
});
$<HTMLInputElement>('record-file').addEventListener('change', async (e) => {
  const file = await readFile(e.target as HTMLInputElement);
  if (!file) return;
  recordFile = { bytes: new Uint8Array(await file.arrayBuffer()), name: file.name };
  record.value = '';
  recordFileName.textContent = `Record file ${file.name} (${recordFile.bytes.length} bytes), checked byte for byte.`;
  recordFileName.hidden = false;
});
$('accept-set').addEventListener('click', () => {
  if (!pins || !offeredSet) return;
  pins = acceptSet(pins, offeredSet, new Date().toISOString());
  offeredSet = undefined;
  savePins();
  showSet('unchanged');
  serviceSetLine.focus();
});
$('forget-pins').addEventListener('click', () => {
  pins = undefined;
  offeredSet = undefined;
  savePins();
  serviceSetLine.textContent = 'Nothing is pinned any more. Reload the page to pin what the service shows now.';
  publicationsLine.textContent = '';
  $('pinned-publications').hidden = true;
  $('set-changed').hidden = true;
});

let extendedUrl: string | undefined;
$('extend').addEventListener('click', async () => {
  extendStatus.textContent = 'Extending…';
  extendedDownload.hidden = true;
  try {
    const ext = await extendToLatestPublication(proof.value, pins, async (height, size) =>
      (await getJson(`/v1/proofs/extend?height=${height}&size=${size}`)) as { calendar: { size: number; path: string[] }; checkpoint: string },
    );
    const text = JSON.stringify(ext.proof, null, 2);
    proof.value = text;
    if (extendedUrl) URL.revokeObjectURL(extendedUrl);
    extendedUrl = URL.createObjectURL(new Blob([text], { type: 'application/json' }));
    extendedDownload.href = extendedUrl;
    extendedDownload.hidden = false;
    const pub = `the publication of ${day(ext.publication.publishedAt)} (calendar size ${ext.publication.size}, code ${ext.publication.code})`;
    extendStatus.textContent = ext.already
      ? `This proof already reaches the latest publication, ${pub}.`
      : `The proof was extended to ${pub} and checked against it; it replaced the proof above. Save it: from now on it can be checked against that publication's code alone.`;
    $<HTMLInputElement>('trust-publications').checked = true;
    showTrustFields();
    verify();
  } catch (e) {
    extendStatus.textContent = e instanceof InputError ? e.message : `Extending failed: ${message(e)}`;
  }
});

showBlindingFields();
showTrustFields();
void loadTrust();
// Keeps this page (not the API) so that it opens again without a network (web/sw/sw.template.js).
// Browsers allow it on HTTPS and loopback only; elsewhere the page works as before, online.
if ('serviceWorker' in navigator) navigator.serviceWorker.register('/sw.js').catch(() => undefined);
