/**
 * The verify page (issue 10, docs/verify.md): reads the form, verifies with the
 * sdk core in this browser (inputs.ts), lists each check (checks.ts) and
 * announces the verdict in an aria-live region. The only request is GET
 * /v1/validators of this page's own origin, once, for the default trust.
 */
import { bytesToHex, validatorSetHash, type ValidatorSet } from '@ledgerseal/sdk';
import { checkLines, provenSentence } from './checks.ts';
import { InputError, type BlindingInput, type RecordInput, type TrustInput, validatorSetOf, verifyInputs } from './inputs.ts';

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
const verdict = $<HTMLParagraphElement>('verdict');
const sentence = $<HTMLParagraphElement>('sentence');
const checks = $<HTMLOListElement>('checks');

/** The record chosen as a file (hashed byte for byte), until the text area is edited. */
let recordFile: { bytes: Uint8Array; name: string } | undefined;
/** The service's validator set, fetched once and pinned for the page's life. */
let serviceSet: ValidatorSet | undefined;

/** A fingerprint people can compare by eye: SHA-256 hex in groups of 4. */
function fingerprint(set: ValidatorSet): string {
  return bytesToHex(validatorSetHash(set)).match(/.{4}/g)!.join(' ');
}

async function loadServiceSet(): Promise<void> {
  try {
    const res = await fetch('/v1/validators', { headers: { accept: 'application/json' } });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    serviceSet = validatorSetOf(await res.text());
    const names = serviceSet.validators.map((v) => v.name).join(', ');
    serviceSetLine.textContent = `${serviceSet.validators.length} validators (${names}) of ${serviceSet.origin ?? 'any origin'}; SHA-256 fingerprint ${fingerprint(serviceSet)}.`;
  } catch (e) {
    serviceSetLine.textContent = `The validator set could not be loaded (${e instanceof Error ? e.message : String(e)}): paste a validator set or a publication code.`;
  }
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
    default:
      if (!serviceSet) throw new InputError("This service's validator set is not loaded: paste a validator set or a publication code.");
      return { kind: 'validators', set: serviceSet };
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
    const code = trustKind() === 'code' ? $<HTMLInputElement>('publication-code').value.trim() : undefined;
    show(true, 'Verified.', provenSentence(v.result, v.recordGiven, code));
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
showBlindingFields();
showTrustFields();
void loadServiceSet();
