/**
 * Lambda invocations as AWS makes them, for calling the handlers in process:
 * the HTTP API's payload format 2.0 event (API Gateway HTTP API; a function
 * URL sends the same shape), the event the CronV2 schedules send (the config's
 * `event` with EventBridge Scheduler's context attributes filled in), and a
 * Lambda context whose remaining time counts down from the function's timeout.
 */
import { randomBytes, randomUUID } from 'node:crypto';

export interface HttpEvent {
  version: '2.0';
  routeKey: string;
  rawPath: string;
  rawQueryString: string;
  cookies?: string[];
  headers: Record<string, string>;
  queryStringParameters?: Record<string, string>;
  requestContext: {
    accountId: string;
    apiId: string;
    domainName: string;
    domainPrefix: string;
    http: { method: string; path: string; protocol: string; sourceIp: string; userAgent: string };
    requestId: string;
    routeKey: string;
    stage: string;
    time: string;
    timeEpoch: number;
  };
  body?: string;
  isBase64Encoded: boolean;
}

const API_ID = 'a1b2c3d4e5';
const DOMAIN = `${API_ID}.execute-api.us-east-1.amazonaws.com`;

/** `Mon/DD/YYYY:HH:MM:SS +0000` as in requestContext.time */
function clf(d: Date): string {
  const mon = d.toLocaleString('en-US', { month: 'short', timeZone: 'UTC' });
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${p(d.getUTCDate())}/${mon}/${d.getUTCFullYear()}:${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

export function httpEvent(
  method: string,
  target: string,
  opts: { token?: string; body?: unknown; sourceIp?: string; headers?: Record<string, string> } = {},
): HttpEvent {
  const url = new URL(target, `https://${DOMAIN}`);
  const now = new Date();
  const sourceIp = opts.sourceIp ?? '203.0.113.10';
  const headers: Record<string, string> = {
    accept: 'application/json',
    host: DOMAIN,
    'user-agent': 'ledgerseal-test/1.0',
    'x-amzn-trace-id': `Root=1-${Math.floor(now.getTime() / 1000).toString(16)}-${randomBytes(12).toString('hex')}`,
    'x-forwarded-for': sourceIp,
    'x-forwarded-port': '443',
    'x-forwarded-proto': 'https',
    ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
    ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
    ...opts.headers,
  };
  const body = opts.body === undefined ? undefined : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
  if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
  const query = url.search.slice(1);
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: url.pathname,
    rawQueryString: query,
    headers,
    ...(query !== '' ? { queryStringParameters: Object.fromEntries(url.searchParams) } : {}),
    requestContext: {
      accountId: '123456789012',
      apiId: API_ID,
      domainName: DOMAIN,
      domainPrefix: API_ID,
      http: { method, path: url.pathname, protocol: 'HTTP/1.1', sourceIp, userAgent: headers['user-agent']! },
      requestId: randomBytes(8).toString('base64url'),
      routeKey: '$default',
      stage: '$default',
      time: clf(now),
      timeEpoch: now.getTime(),
    },
    ...(body !== undefined ? { body } : {}),
    isBase64Encoded: false,
  };
}

export interface HttpResult {
  statusCode: number;
  headers?: Record<string, string>;
  body: string;
  isBase64Encoded: boolean;
}

/** The schedule's event as the CronV2 of sst.config.ts declares it, with the Scheduler's context attributes substituted. */
export function scheduleEvent(declared: Record<string, string>, schedule: string, attempt = 1): Record<string, string> {
  const values: Record<string, string> = {
    '<aws.scheduler.scheduled-time>': new Date(Math.floor(Date.now() / 60_000) * 60_000).toISOString().replace('.000Z', 'Z'),
    '<aws.scheduler.schedule-arn>': `arn:aws:scheduler:us-east-1:123456789012:schedule/default/ledgerseal-dev-${schedule}Schedule`,
    '<aws.scheduler.execution-id>': randomBytes(8).toString('hex'),
    '<aws.scheduler.attempt-number>': String(attempt),
  };
  return Object.fromEntries(Object.entries(declared).map(([k, v]) => [k, v.replace(/<aws\.scheduler\.[a-z-]+>/g, (m) => values[m] ?? m)]));
}

/** A Lambda context for a function with this timeout (e.g. "2 minutes", as in sst.config.ts). */
export function lambdaContext(functionName: string, timeout: string) {
  const m = /^(\d+) (second|minute)s?$/.exec(timeout);
  if (!m) throw new Error(`timeout "${timeout}"`);
  const deadline = Date.now() + Number(m[1]) * (m[2] === 'minute' ? 60_000 : 1000);
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${functionName}`,
    memoryLimitInMB: '1024',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `2026/12/01/[$LATEST]${randomBytes(16).toString('hex')}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}
