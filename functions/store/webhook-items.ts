/**
 * Keys and item shapes of the webhook entities (webhook-port.ts; README.md
 * "Key design"). Like items.ts: key builders and item <-> domain conversions,
 * nothing that talks to DynamoDB. Items that expire carry the table's TTL
 * attribute, epoch seconds of their expiresAt.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { N, S, corrupt, epochSeconds, num, optNum, optStr, pad, shardOf, str, type Item } from './codec.ts';
import { TTL_ATTRIBUTE } from './table.ts';
import type {
  AttemptResult,
  DueEntry,
  EndpointStatus,
  MessageStatus,
  OutboxEntry,
  WebhookAttempt,
  WebhookEndpoint,
  WebhookMessage,
  WebhookPayload,
  WebhookSecret,
} from './webhook-port.ts';

export const ENDPOINT_STATUSES: readonly EndpointStatus[] = ['enabled', 'disabled'];
export const MESSAGE_STATUSES: readonly MessageStatus[] = ['pending', 'delivered', 'failed'];

const key = (pk: string, sk: string): Item => ({ pk: S(pk), sk: S(sk) });
const afterPrefix = (v: string, prefix: string): string => (v.startsWith(prefix) ? v.slice(prefix.length) : corrupt(`key ${v}`));
const ttl = (expiresAt: string): Item => ({ [TTL_ATTRIBUTE]: N(epochSeconds(expiresAt)) });

/** The object without its undefined properties, so that a parsed item has exactly the fields that were stored. */
function present<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/** Attributes for the defined values only (absent optional fields are not stored). */
function attributes(values: Record<string, AttributeValue | undefined>): Item {
  return present(values) as Item;
}
const optS = (v: string | undefined): AttributeValue | undefined => (v === undefined ? undefined : S(v));
const optN = (v: number | undefined): AttributeValue | undefined => (v === undefined ? undefined : N(v));

function oneOf<T extends string>(it: Item, name: string, allowed: readonly T[]): T {
  const v = str(it, name);
  return (allowed as readonly string[]).includes(v) ? (v as T) : corrupt(`${name} ${v}`);
}

export const webhookKeys = {
  endpoint: (agencyId: string, id: string) => key('WHEP', `${agencyId}#${id}`),
  outbox: (eventId: string, writtenAt: string) => key(`OUTBOX#${shardOf(eventId)}`, `${writtenAt}#${eventId}`),
  payload: (msgId: string) => key(`WHPAY#${msgId}`, 'PAYLOAD'),
  messagePk: (endpointId: string) => `WHMSG#${endpointId}`,
  message: (endpointId: string, msgId: string) => key(`WHMSG#${endpointId}`, msgId),
  due: (e: DueEntry) => key(`WHDUE#${shardOf(`${e.endpointId}#${e.msgId}`)}`, `${e.dueAt}#${e.endpointId}#${e.msgId}`),
  attemptPk: (endpointId: string) => `WHATT#${endpointId}`,
  attempt: (a: WebhookAttempt) => key(`WHATT#${a.endpointId}`, `${a.at}#${a.msgId}#${pad(a.attempt, 4)}`),
  lease: (name: string) => key(`WHLEASE#${name}`, 'LEASE'),
};

// ---- endpoints ------------------------------------------------------------------

const secretValue = (s: WebhookSecret): AttributeValue => ({
  M: attributes({ sealed: S(s.sealed), createdAt: S(s.createdAt), expiresAt: optS(s.expiresAt) }),
});
function secretFrom(v: AttributeValue): WebhookSecret {
  const m = v.M ?? corrupt('secret is not a map');
  return present({ sealed: str(m, 'sealed'), createdAt: str(m, 'createdAt'), expiresAt: optStr(m, 'expiresAt') });
}

/** The attribute of one endpoint field: eventTypes a list of S, secrets a list of maps, any other field an S. */
export function endpointValue(v: string | string[] | WebhookSecret[]): AttributeValue {
  return typeof v === 'string' ? S(v) : { L: v.map((x) => (typeof x === 'string' ? S(x) : secretValue(x))) };
}

function list(it: Item, name: string): AttributeValue[] | undefined {
  const v = it[name];
  if (v === undefined) return undefined;
  return v.L ?? corrupt(`${name} is not a list`);
}

/** `WHEP` / `<agencyId>#<id>`; every field is an attribute of its own, so an update can touch one. */
export const endpointItem = (ep: WebhookEndpoint): Item => ({
  ...webhookKeys.endpoint(ep.agencyId, ep.id),
  ...attributes({
    id: S(ep.id),
    agencyId: S(ep.agencyId),
    url: S(ep.url),
    description: optS(ep.description),
    eventTypes: ep.eventTypes === undefined ? undefined : endpointValue(ep.eventTypes),
    status: S(ep.status),
    disabledReason: optS(ep.disabledReason),
    disabledAt: optS(ep.disabledAt),
    secrets: endpointValue(ep.secrets),
    failingSince: optS(ep.failingSince),
    throttledUntil: optS(ep.throttledUntil),
    createdAt: S(ep.createdAt),
    updatedAt: S(ep.updatedAt),
  }),
});
export const endpointFrom = (it: Item): WebhookEndpoint =>
  present({
    id: str(it, 'id'),
    agencyId: str(it, 'agencyId'),
    url: str(it, 'url'),
    description: optStr(it, 'description'),
    eventTypes: list(it, 'eventTypes')?.map((v) => v.S ?? corrupt('event type')),
    status: oneOf(it, 'status', ENDPOINT_STATUSES),
    disabledReason: optStr(it, 'disabledReason'),
    disabledAt: optStr(it, 'disabledAt'),
    secrets: (list(it, 'secrets') ?? corrupt('missing secrets')).map(secretFrom),
    failingSince: optStr(it, 'failingSince'),
    throttledUntil: optStr(it, 'throttledUntil'),
    createdAt: str(it, 'createdAt'),
    updatedAt: str(it, 'updatedAt'),
  });

// ---- outbox markers, payloads, due entries (key-only where the key says it all) --

/** `OUTBOX#<shard>` / `<writtenAt>#<eventId>`: the key is the whole marker. */
export const outboxItem = (eventId: string, writtenAt: string): Item => webhookKeys.outbox(eventId, writtenAt);
export function outboxFrom(it: Item): OutboxEntry {
  const sk = str(it, 'sk');
  const cut = sk.indexOf('#'); // writtenAt has no '#'; the event id may
  if (cut < 0) corrupt(`outbox key ${sk}`);
  return { eventId: sk.slice(cut + 1), shard: Number(afterPrefix(str(it, 'pk'), 'OUTBOX#')), writtenAt: sk.slice(0, cut) };
}

export const payloadItem = (p: WebhookPayload): Item => ({
  ...webhookKeys.payload(p.msgId),
  eventId: S(p.eventId),
  type: S(p.type),
  body: S(p.body),
  createdAt: S(p.createdAt),
  expiresAt: S(p.expiresAt),
  ...ttl(p.expiresAt),
});
export const payloadFrom = (it: Item): WebhookPayload => ({
  msgId: afterPrefix(str(it, 'pk'), 'WHPAY#'),
  eventId: str(it, 'eventId'),
  type: str(it, 'type'),
  body: str(it, 'body'),
  createdAt: str(it, 'createdAt'),
  expiresAt: str(it, 'expiresAt'),
});

/** `WHDUE#<shard>` / `<dueAt>#<endpointId>#<msgId>`: the key is the whole entry. */
export function dueFrom(it: Item): DueEntry {
  const parts = str(it, 'sk').split('#');
  if (parts.length !== 3) corrupt(`due key ${str(it, 'sk')}`);
  const [dueAt, endpointId, msgId] = parts as [string, string, string];
  return it['manual']?.BOOL === true ? { dueAt, endpointId, msgId, manual: true } : { dueAt, endpointId, msgId };
}

/** The key, plus `manual` (BOOL) for a resend asked for through the API. */
export const dueItem = (e: DueEntry): Item => ({ ...webhookKeys.due(e), ...(e.manual === true && { manual: { BOOL: true } }) });

// ---- messages and attempts ---------------------------------------------------------

/** `WHMSG#<endpointId>` / `<msgId>`; the history is one JSON string (at most 20 attempts). */
export const messageItem = (m: WebhookMessage): Item => ({
  ...webhookKeys.message(m.endpointId, m.msgId),
  ...attributes({
    agencyId: S(m.agencyId),
    eventId: S(m.eventId),
    type: S(m.type),
    eventTime: S(m.eventTime),
    createdAt: S(m.createdAt),
    status: S(m.status),
    attempts: N(m.attempts),
    scheduledAttempts: N(m.scheduledAttempts),
    nextAttemptAt: optS(m.nextAttemptAt),
    deliveredAt: optS(m.deliveredAt),
    history: S(JSON.stringify(m.history)),
    expiresAt: S(m.expiresAt),
  }),
  ...ttl(m.expiresAt),
});
export function messageFrom(it: Item): WebhookMessage {
  let history: unknown;
  try {
    history = JSON.parse(str(it, 'history'));
  } catch {
    corrupt('message history is not JSON');
  }
  if (!Array.isArray(history)) corrupt('message history is not a list');
  return present({
    endpointId: afterPrefix(str(it, 'pk'), 'WHMSG#'),
    agencyId: str(it, 'agencyId'),
    msgId: str(it, 'sk'),
    eventId: str(it, 'eventId'),
    type: str(it, 'type'),
    eventTime: str(it, 'eventTime'),
    createdAt: str(it, 'createdAt'),
    status: oneOf(it, 'status', MESSAGE_STATUSES),
    attempts: num(it, 'attempts'),
    scheduledAttempts: num(it, 'scheduledAttempts'),
    nextAttemptAt: optStr(it, 'nextAttemptAt'),
    deliveredAt: optStr(it, 'deliveredAt'),
    history: history as AttemptResult[],
    expiresAt: str(it, 'expiresAt'),
  });
}

/** `WHATT#<endpointId>` / `<at>#<msgId>#<attempt 4>`: newest first is descending sort key order. */
export const attemptItem = (a: WebhookAttempt): Item => ({
  ...webhookKeys.attempt(a),
  ...attributes({
    agencyId: S(a.agencyId),
    msgId: S(a.msgId),
    type: S(a.type),
    at: S(a.at),
    attempt: N(a.attempt),
    trigger: S(a.trigger),
    outcome: S(a.outcome),
    httpStatus: optN(a.httpStatus),
    durationMs: N(a.durationMs),
    error: optS(a.error),
    responseExcerpt: optS(a.responseExcerpt),
    expiresAt: S(a.expiresAt),
  }),
  ...ttl(a.expiresAt),
});
export const attemptFrom = (it: Item): WebhookAttempt =>
  present({
    endpointId: afterPrefix(str(it, 'pk'), 'WHATT#'),
    agencyId: str(it, 'agencyId'),
    msgId: str(it, 'msgId'),
    type: str(it, 'type'),
    at: str(it, 'at'),
    attempt: num(it, 'attempt'),
    trigger: oneOf(it, 'trigger', ['scheduled', 'manual'] as const),
    outcome: oneOf(it, 'outcome', ['delivered', 'failed'] as const),
    httpStatus: optNum(it, 'httpStatus'),
    durationMs: num(it, 'durationMs'),
    error: optStr(it, 'error'),
    responseExcerpt: optStr(it, 'responseExcerpt'),
    expiresAt: str(it, 'expiresAt'),
  });
