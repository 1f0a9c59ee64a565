/**
 * Standard Webhooks 1.0 (docs/protocol.md 9):
 * the reference vector, byte compatibility with the official `standardwebhooks`
 * package in both directions, and one test per failure mode.
 */
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { base64ToBytes, bytesToBase64, utf8 } from '../../sdk/src/encoding.ts';
import { LedgersealError } from '../../sdk/src/errors.ts';
import {
  generateWebhookSecret,
  signWebhook,
  verifyWebhook,
  WEBHOOK_EVENT_TYPES,
  WEBHOOK_TOLERANCE_SECONDS,
  webhookHeaders,
  type WebhookEvent,
} from '../../sdk/src/webhooks.ts';
import { expectSdkError as expectCode } from '../helpers/sdk-errors.ts';

interface Vector {
  name: string;
  source: string;
  secret: string;
  msgId: string;
  timestamp: number;
  body: string;
  signature: string;
}
const vectors = JSON.parse(readFileSync(new URL('../vectors/standard-webhooks.json', import.meta.url), 'utf8')) as {
  source: string;
  vectors: Vector[];
  rotation: Omit<Vector, 'secret'> & { secrets: string[] };
};


/** HMAC computed with node:crypto, independent of the sdk. */
function refSignature(secret: string, id: string, ts: number, body: string): string {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  return `v1,${createHmac('sha256', key).update(`${id}.${ts}.${body}`, 'utf8').digest('base64')}`;
}

const nowSeconds = (): number => Math.floor(Date.now() / 1000);
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const ID = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
const T = 1614265330;
const BODY = '{"type":"round.finalized","timestamp":"2026-11-22T04:32:16.123Z","data":{"height":41}}';
const headersFor = (body: string | Uint8Array = BODY, ts = T, id = ID): Record<string, string> =>
  webhookHeaders([SECRET], id, ts, body);

// Arbitraries shared by the interoperability properties.
const secretArb = fc
  .tuple(fc.uint8Array({ minLength: 24, maxLength: 64 }), fc.boolean())
  .map(([key, prefixed]) => (prefixed ? 'whsec_' : '') + bytesToBase64(key));
const idArb = fc.stringMatching(/^[A-Za-z0-9_-]{1,40}$/);
const tsNearNow = fc.integer({ min: -200, max: 200 }).map((d) => nowSeconds() + d);
const textBody = fc.oneof(fc.string({ unit: 'grapheme' }), fc.string({ unit: 'binary' }), fc.string());
const jsonBody = fc.jsonValue({ stringUnit: 'grapheme' }).map((v) => JSON.stringify(v));

describe('vectors (test/vectors/standard-webhooks.json)', () => {
  it('names its sources', () => {
    expect(vectors.source).toMatch(/Standard Webhooks/);
    for (const v of vectors.vectors) expect(v.source).not.toBe('');
  });

  for (const v of vectors.vectors) {
    it(`signs ${v.name}`, () => {
      expect(signWebhook(v.secret, v.msgId, v.timestamp, v.body)).toBe(v.signature);
      expect(signWebhook(v.secret, v.msgId, v.timestamp, utf8(v.body))).toBe(v.signature);
      expect(refSignature(v.secret, v.msgId, v.timestamp, v.body)).toBe(v.signature);
    });

    it(`verifies ${v.name}`, () => {
      const headers = { 'webhook-id': v.msgId, 'webhook-timestamp': String(v.timestamp), 'webhook-signature': v.signature };
      if (v.body === '') {
        // The signature is right; an empty body is simply not JSON.
        expectCode(() => verifyWebhook(v.secret, headers, v.body, { now: v.timestamp }), 'WEBHOOK_PAYLOAD');
      } else {
        expect(verifyWebhook(v.secret, headers, v.body, { now: v.timestamp })).toEqual(JSON.parse(v.body));
      }
    });
  }

  it('rotation: one signature per secret, space separated', () => {
    const r = vectors.rotation;
    const h = webhookHeaders(r.secrets, r.msgId, r.timestamp, r.body);
    expect(h).toEqual({ 'webhook-id': r.msgId, 'webhook-timestamp': String(r.timestamp), 'webhook-signature': r.signature });
    for (const s of r.secrets) expect(verifyWebhook(s, h, r.body, { now: r.timestamp })).toEqual(JSON.parse(r.body));
    expect(verifyWebhook(r.secrets, h, r.body, { now: r.timestamp })).toEqual(JSON.parse(r.body));
  });
});

describe('compatibility with the official standardwebhooks package', () => {
  it('ours signs, theirs verifies (random ids, timestamps, bodies, secrets)', () => {
    fc.assert(
      fc.property(secretArb, idArb, tsNearNow, textBody, fc.boolean(), (secret, id, ts, body, asBytes) => {
        const headers = webhookHeaders([secret], id, ts, asBytes ? utf8(body) : body);
        expect(() => new Webhook(secret).verify(asBytes ? Buffer.from(utf8(body)) : body, headers, { jsonParse: false })).not.toThrow();
      }),
    );
  });

  it('theirs signs, ours verifies', () => {
    fc.assert(
      fc.property(secretArb, idArb, tsNearNow, jsonBody, fc.boolean(), (secret, id, ts, body, asBytes) => {
        const signature = new Webhook(secret).sign(id, new Date(ts * 1000), body);
        expect(signWebhook(secret, id, ts, body)).toBe(signature);
        const headers = { 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': signature };
        expect(verifyWebhook(secret, headers, asBytes ? utf8(body) : body)).toEqual(JSON.parse(body));
      }),
    );
  });

  it('theirs signs any text body, ours accepts the signature', () => {
    fc.assert(
      fc.property(secretArb, idArb, tsNearNow, textBody, (secret, id, ts, body) => {
        const signature = new Webhook(secret).sign(id, new Date(ts * 1000), body);
        expect(signWebhook(secret, id, ts, body)).toBe(signature);
        const headers = { 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': signature };
        try {
          verifyWebhook(secret, headers, body);
        } catch (e) {
          // Only the JSON check, which comes after the signature, may fail.
          expect((e as LedgersealError).code).toBe('WEBHOOK_PAYLOAD');
        }
      }),
    );
  });

  it('several secrets: ours signs with all, theirs verifies with each', () => {
    fc.assert(
      fc.property(fc.array(secretArb, { minLength: 1, maxLength: 4 }), idArb, tsNearNow, jsonBody, (secrets, id, ts, body) => {
        const headers = webhookHeaders(secrets, id, ts, body);
        expect(headers['webhook-signature'].split(' ')).toHaveLength(secrets.length);
        for (const s of secrets) expect(new Webhook(s).verify(body, headers)).toEqual(JSON.parse(body));
      }),
    );
  });

  it('several secrets: theirs signs with each, ours verifies with any one of them', () => {
    fc.assert(
      fc.property(fc.array(secretArb, { minLength: 2, maxLength: 4 }), secretArb, idArb, tsNearNow, jsonBody, (secrets, other, id, ts, body) => {
        const signature = secrets.map((s) => new Webhook(s).sign(id, new Date(ts * 1000), body)).join(' ');
        const headers = { 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': signature };
        for (const s of secrets) expect(verifyWebhook([other, s], headers, body)).toEqual(JSON.parse(body));
        fc.pre(!secrets.some((s) => base64ToBytes(s.replace(/^whsec_/, '')).join() === base64ToBytes(other.replace(/^whsec_/, '')).join()));
        expectCode(() => verifyWebhook(other, headers, body), 'WEBHOOK_SIGNATURE');
      }),
    );
  });

  it('the official library accepts generated secrets', () => {
    const secret = generateWebhookSecret();
    const ts = nowSeconds();
    expect(new Webhook(secret).verify(BODY, webhookHeaders(secret, ID, ts, BODY))).toEqual(JSON.parse(BODY));
  });
});

describe('headers', () => {
  it('accepts a Fetch Headers object and any header-name case', () => {
    const h = headersFor();
    expect(verifyWebhook(SECRET, new Headers(h), BODY, { now: T })).toEqual(JSON.parse(BODY));
    const upper = { 'Webhook-Id': ID, 'WEBHOOK-TIMESTAMP': String(T), 'Webhook-Signature': h['webhook-signature']! };
    expect(verifyWebhook(SECRET, upper, BODY, { now: T })).toEqual(JSON.parse(BODY));
  });

  it('accepts Node-style array values and repeated signature headers', () => {
    const sig = signWebhook(SECRET, ID, T, BODY);
    const nodeStyle = { 'webhook-id': [ID], 'webhook-timestamp': String(T), 'webhook-signature': ['v1,AAAA', sig], other: undefined };
    expect(verifyWebhook(SECRET, nodeStyle, BODY, { now: T })).toEqual(JSON.parse(BODY));
    const fetchStyle = new Headers();
    fetchStyle.set('webhook-id', ID);
    fetchStyle.set('webhook-timestamp', String(T));
    fetchStyle.append('webhook-signature', 'v1a,bm9wZQ==');
    fetchStyle.append('webhook-signature', sig); // .get() joins them with ", "
    expect(verifyWebhook(SECRET, fetchStyle, BODY, { now: T })).toEqual(JSON.parse(BODY));
  });

  it('missing or empty headers', () => {
    for (const name of ['webhook-id', 'webhook-timestamp', 'webhook-signature']) {
      const h = headersFor();
      delete h[name];
      expectCode(() => verifyWebhook(SECRET, h, BODY, { now: T }), 'WEBHOOK_MISSING_HEADERS', new RegExp(name));
      expectCode(() => verifyWebhook(SECRET, { ...headersFor(), [name]: '  ' }, BODY, { now: T }), 'WEBHOOK_MISSING_HEADERS');
    }
    expectCode(() => verifyWebhook(SECRET, {}, BODY, { now: T }), 'WEBHOOK_MISSING_HEADERS');
    // svix-* headers are not read: Ledgerseal sends the unbranded names only.
    const svix = { 'svix-id': ID, 'svix-timestamp': String(T), 'svix-signature': signWebhook(SECRET, ID, T, BODY) };
    expectCode(() => verifyWebhook(SECRET, svix, BODY, { now: T }), 'WEBHOOK_MISSING_HEADERS');
  });

  it('conflicting ids, and ids with "."', () => {
    const h = { ...headersFor(), 'Webhook-Id': 'msg_other' };
    expectCode(() => verifyWebhook(SECRET, h, BODY, { now: T }), 'WEBHOOK_MISSING_HEADERS', /conflicting webhook-id/);
    const sig = new Webhook(SECRET).sign('a.b', new Date(T * 1000), BODY);
    const dotted = { 'webhook-id': 'a.b', 'webhook-timestamp': String(T), 'webhook-signature': sig };
    expectCode(() => verifyWebhook(SECRET, dotted, BODY, { now: T }), 'WEBHOOK_MISSING_HEADERS', /"\."/);
  });
});

describe('timestamps', () => {
  it(`accepts up to ${WEBHOOK_TOLERANCE_SECONDS} s either way, refuses beyond`, () => {
    const h = headersFor();
    expect(verifyWebhook(SECRET, h, BODY, { now: T + 300 })).toBeTruthy();
    expect(verifyWebhook(SECRET, h, BODY, { now: T - 300 })).toBeTruthy();
    expectCode(() => verifyWebhook(SECRET, h, BODY, { now: T + 301 }), 'WEBHOOK_TIMESTAMP', /too old/);
    expectCode(() => verifyWebhook(SECRET, h, BODY, { now: T - 301 }), 'WEBHOOK_TIMESTAMP', /too new/);
    expectCode(() => verifyWebhook(SECRET, h, BODY), 'WEBHOOK_TIMESTAMP', /too old/); // real clock, 2021 message
  });

  it('honours toleranceSeconds', () => {
    const h = headersFor();
    expect(verifyWebhook(SECRET, h, BODY, { now: T + 3600, toleranceSeconds: 3600 })).toBeTruthy();
    expectCode(() => verifyWebhook(SECRET, h, BODY, { now: T + 11, toleranceSeconds: 10 }), 'WEBHOOK_TIMESTAMP');
    expect(verifyWebhook(SECRET, h, BODY, { now: T, toleranceSeconds: 0 })).toBeTruthy();
    expectCode(() => verifyWebhook(SECRET, h, BODY, { now: T, toleranceSeconds: -1 }), 'INVALID_ARGUMENT');
    expectCode(() => verifyWebhook(SECRET, h, BODY, { now: Number.NaN }), 'INVALID_ARGUMENT');
  });

  it('refuses timestamps that are not integer seconds', () => {
    for (const t of ['hello', '12.5', '-5', '+5', '1e9', '0x10', '1614265330000000', '١٦١']) {
      expectCode(() => verifyWebhook(SECRET, { ...headersFor(), 'webhook-timestamp': t }, BODY, { now: T }), 'WEBHOOK_TIMESTAMP', /integer/);
    }
  });

  it('signs the timestamp as a number, like the official libraries (leading zeros)', () => {
    const h = { ...headersFor(), 'webhook-timestamp': `00${T}` };
    expect(verifyWebhook(SECRET, h, BODY, { now: T })).toEqual(JSON.parse(BODY));
  });

  it('checks the signature before the age: a forged stale message is a signature failure', () => {
    const h = { ...headersFor(), 'webhook-signature': signWebhook(generateWebhookSecret(), ID, T, BODY) };
    expectCode(() => verifyWebhook(SECRET, h, BODY, { now: T + 10_000 }), 'WEBHOOK_SIGNATURE');
  });
});

describe('signatures', () => {
  it('any change to id, timestamp or body is refused', () => {
    const h = headersFor();
    expectCode(() => verifyWebhook(SECRET, h, `${BODY} `, { now: T }), 'WEBHOOK_SIGNATURE');
    expectCode(() => verifyWebhook(SECRET, { ...h, 'webhook-id': `${ID}x` }, BODY, { now: T }), 'WEBHOOK_SIGNATURE');
    expectCode(() => verifyWebhook(SECRET, { ...h, 'webhook-timestamp': String(T + 1) }, BODY, { now: T }), 'WEBHOOK_SIGNATURE');
    fc.assert(
      fc.property(fc.nat({ max: BODY.length - 1 }), fc.integer({ min: 1, max: 255 }), (i, flip) => {
        const tampered = utf8(BODY);
        tampered[i]! ^= flip;
        expectCode(() => verifyWebhook(SECRET, h, tampered, { now: T }), 'WEBHOOK_SIGNATURE');
      }),
    );
  });

  it('ignores unknown versions and malformed entries, but needs one v1 match', () => {
    const good = signWebhook(SECRET, ID, T, BODY);
    const withSig = (s: string) => ({ ...headersFor(), 'webhook-signature': s });
    const list = `v1a,hnO3f9T8Ytu9HwrXslvumlUpqtNVqkhqw/enGzPCXe5BdqzCInXqYXFymVJaA7AZdpXwVLPo3mNl8EM+m7TBAg== v2,${good.slice(3)}  v1,AAAA ${good}`;
    expect(verifyWebhook(SECRET, withSig(list), BODY, { now: T })).toEqual(JSON.parse(BODY));
    expectCode(() => verifyWebhook(SECRET, withSig(`v2,${good.slice(3)} v1a,abc`), BODY, { now: T }), 'WEBHOOK_SIGNATURE', /no v1 signature/);
    expectCode(() => verifyWebhook(SECRET, withSig('v1,'), BODY, { now: T }), 'WEBHOOK_SIGNATURE');
    expectCode(() => verifyWebhook(SECRET, withSig(good.slice(0, 8)), BODY, { now: T }), 'WEBHOOK_SIGNATURE');
    expectCode(() => verifyWebhook(SECRET, withSig(`${good},x`), BODY, { now: T }), 'WEBHOOK_SIGNATURE');
    expectCode(() => verifyWebhook(SECRET, withSig(good.toUpperCase()), BODY, { now: T }), 'WEBHOOK_SIGNATURE');
    expectCode(() => verifyWebhook(SECRET, withSig('v1,dawfeoifkpqwoekfpqoekf'), BODY, { now: T }), 'WEBHOOK_SIGNATURE');
  });
});

describe('payload', () => {
  it('returns the parsed JSON, from a string or bytes', () => {
    const event: WebhookEvent<{ height: number }> = { type: 'round.finalized', timestamp: '2026-11-22T04:32:16.123Z', data: { height: 41 } };
    const body = JSON.stringify(event);
    expect(verifyWebhook(SECRET, headersFor(body), utf8(body), { now: T })).toEqual(event);
  });

  it('refuses a body that is not UTF-8 JSON (after the signature matched)', () => {
    for (const body of ['not json', '', '{"a":', utf8('{"a":"\u00e9"}').subarray(0, 8), Uint8Array.of(0x22, 0xff, 0x22)]) {
      expectCode(() => verifyWebhook(SECRET, headersFor(body), body, { now: T }), 'WEBHOOK_PAYLOAD');
    }
  });
});

describe('secrets', () => {
  it('refuses empty, malformed and asymmetric secrets, at signing and at verifying', () => {
    const bad = ['', 'whsec_', 'whsec_!!!!', 'whsec_QUI', 'whsec_QR==', 'whpk_MCowBQYDK2VwAyEA', 'whsec_whsk_QUJD', 42 as unknown as string];
    for (const s of bad) {
      expectCode(() => signWebhook(s, ID, T, BODY), 'WEBHOOK_INVALID_SECRET');
      expectCode(() => verifyWebhook(s, headersFor(), BODY, { now: T }), 'WEBHOOK_INVALID_SECRET');
    }
    expectCode(() => verifyWebhook([], headersFor(), BODY, { now: T }), 'WEBHOOK_INVALID_SECRET');
    expectCode(() => verifyWebhook([SECRET, ''], headersFor(), BODY, { now: T }), 'WEBHOOK_INVALID_SECRET');
    expectCode(() => webhookHeaders([], ID, T, BODY), 'WEBHOOK_INVALID_SECRET');
    // A misconfigured secret is reported even when the request is garbage.
    expectCode(() => verifyWebhook('', {}, 'x'), 'WEBHOOK_INVALID_SECRET');
  });

  it('the prefix is optional, as in the official library', () => {
    expect(signWebhook(SECRET.slice(6), ID, T, BODY)).toBe(signWebhook(SECRET, ID, T, BODY));
  });

  it('generateWebhookSecret: "whsec_" + 32 random bytes', () => {
    const a = generateWebhookSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(base64ToBytes(a.slice(6))).toHaveLength(32);
    expect(generateWebhookSecret()).not.toBe(a);
  });
});

describe('signing arguments', () => {
  it('refuses ids the receiver could split differently, and bad timestamps or bodies', () => {
    for (const id of ['', 'a.b', 'has space', 'caf\u00e9', 'a\nb']) {
      expectCode(() => signWebhook(SECRET, id, T, BODY), 'INVALID_ARGUMENT', /msgId/);
    }
    for (const ts of [-1, 1.5, Number.NaN, 2 ** 53]) expectCode(() => signWebhook(SECRET, ID, ts, BODY), 'INVALID_ARGUMENT', /timestamp/);
    expectCode(() => signWebhook(SECRET, ID, T, 5 as unknown as string), 'INVALID_ARGUMENT', /body/);
  });
});

describe('event types', () => {
  it('lists the docs/protocol.md 9.6 types, in the spec-recommended form', () => {
    expect([...WEBHOOK_EVENT_TYPES]).toEqual([
      'anchor.confirmed',
      'batch.confirmed',
      'round.finalized',
      'checkpoint.published',
      'publication.created',
      'validator.fault',
      'batch.quarantined',
      'endpoint.disabled',
      'endpoint.test',
    ]);
    for (const t of WEBHOOK_EVENT_TYPES) expect(t).toMatch(/^[a-zA-Z0-9_]+(\.[a-zA-Z0-9_]+)+$/);
  });
});
