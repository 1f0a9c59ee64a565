/**
 * Where a webhook may be sent (the first piece of webhook delivery, issue 8):
 * never to the service's own network. A target is refused when its address is
 * loopback, private, link-local, carrier-grade NAT, multicast, unspecified,
 * reserved or for documentation, or a cloud metadata address, including those
 * addresses written in IPv6 as IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible
 * (::a.b.c.d), NAT64 (64:ff9b::/96), 6to4 (2002::/16) or Teredo (2001::/32).
 *
 * Checked twice: when an endpoint is saved (`checkWebhookUrl`, then
 * `resolveWebhookTarget` for names) and at send time against the address the
 * socket actually connects to (`guardedLookup` in the HTTP agent), so a name
 * that resolves to a public address when saved and to 127.0.0.1 later (DNS
 * rebinding) is still refused. The local runner allows loopback targets
 * (`allowLoopback`); everything else stays refused there too.
 */
import { lookup as dnsLookup } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';

export interface TargetPolicy {
  /** Allow 127.0.0.0/8, ::1 and the name localhost (the local runner only). */
  allowLoopback?: boolean;
  /** Allow http: besides https: (the local runner only). */
  allowHttp?: boolean;
}

export type Verdict = { ok: true } | { ok: false; reason: string };

const LOOPBACK_V4: [string, number] = ['127.0.0.0', 8];

/** IPv4 ranges a webhook never goes to (RFC 6890 special-purpose registry, and the metadata address). */
const V4_REFUSED: [string, number, string][] = [
  ['0.0.0.0', 8, 'an unspecified ("this network") address'],
  ['10.0.0.0', 8, 'a private address (RFC 1918)'],
  ['100.64.0.0', 10, 'a carrier-grade NAT address (RFC 6598)'],
  ['127.0.0.0', 8, 'a loopback address'],
  ['169.254.0.0', 16, 'a link-local address (cloud metadata lives at 169.254.169.254)'],
  ['172.16.0.0', 12, 'a private address (RFC 1918)'],
  ['192.0.0.0', 24, 'an IETF protocol assignment address'],
  ['192.0.2.0', 24, 'a documentation address'],
  ['192.88.99.0', 24, 'a 6to4 relay anycast address'],
  ['192.168.0.0', 16, 'a private address (RFC 1918)'],
  ['198.18.0.0', 15, 'a benchmarking address'],
  ['198.51.100.0', 24, 'a documentation address'],
  ['203.0.113.0', 24, 'a documentation address'],
  ['224.0.0.0', 4, 'a multicast address'],
  ['240.0.0.0', 4, 'a reserved or broadcast address'],
];

const V6_REFUSED: [string, number, string][] = [
  ['::', 128, 'the unspecified address'],
  ['::1', 128, 'the loopback address'],
  ['100::', 64, 'a discard-only address'],
  ['2001:db8::', 32, 'a documentation address'],
  ['64:ff9b:1::', 48, 'a local-use NAT64 address'],
  ['fc00::', 7, 'a unique local (private) address (AWS metadata is fd00:ec2::254)'],
  ['fe80::', 10, 'a link-local address'],
  ['fec0::', 10, 'a site-local address'],
  ['ff00::', 8, 'a multicast address'],
];

function blockList(entries: [string, number, string][], type: 'ipv4' | 'ipv6'): { list: BlockList; reasons: [BlockList, string][] } {
  const list = new BlockList();
  const reasons: [BlockList, string][] = [];
  for (const [net, prefix, reason] of entries) {
    list.addSubnet(net, prefix, type);
    const one = new BlockList();
    one.addSubnet(net, prefix, type);
    reasons.push([one, reason]);
  }
  return { list, reasons };
}

const V4 = blockList(V4_REFUSED, 'ipv4');
const V6 = blockList(V6_REFUSED, 'ipv6');
const LOOPBACK = new BlockList();
LOOPBACK.addSubnet(LOOPBACK_V4[0], LOOPBACK_V4[1], 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/** The eight 16-bit groups of an IPv6 address (with an embedded dotted quad allowed at the end). */
function hextets(ip: string): number[] {
  let s = ip.toLowerCase();
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  const quad = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(s);
  if (quad) {
    const [a, b, c, d] = quad.slice(1).map(Number) as [number, number, number, number];
    s = `${s.slice(0, quad.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = s.includes('::') ? s.split('::') as [string, string] : [s, undefined];
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const fill = tail === undefined ? [] : new Array(8 - h.length - t.length).fill('0');
  return [...h, ...fill, ...t].map((x) => Number.parseInt(x, 16));
}

function v4Of(hi: number, lo: number): string {
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

/** IPv4 addresses an IPv6 address carries (mapped, compatible, NAT64, 6to4, Teredo server and client). */
export function embeddedIPv4(ip: string): string[] {
  const g = hextets(ip);
  const zero = (from: number, to: number): boolean => g.slice(from, to).every((x) => x === 0);
  const out: string[] = [];
  if (zero(0, 5) && g[5] === 0xffff) out.push(v4Of(g[6]!, g[7]!)); // ::ffff:a.b.c.d
  if (zero(0, 6) && (g[6] !== 0 || g[7]! > 1)) out.push(v4Of(g[6]!, g[7]!)); // ::a.b.c.d (deprecated)
  if (g[0] === 0x64 && g[1] === 0xff9b && zero(2, 6)) out.push(v4Of(g[6]!, g[7]!)); // 64:ff9b::/96
  if (g[0] === 0x2002) out.push(v4Of(g[1]!, g[2]!)); // 6to4
  if (g[0] === 0x2001 && g[1] === 0) out.push(v4Of(g[2]!, g[3]!), v4Of(g[6]! ^ 0xffff, g[7]! ^ 0xffff)); // Teredo
  return out;
}

/** Whether a webhook may connect to this IP address. */
export function checkAddress(ip: string, policy: TargetPolicy = {}): Verdict {
  const family = isIP(ip);
  if (family === 0) return { ok: false, reason: `"${ip}" is not an IP address` };
  const type = family === 4 ? 'ipv4' : 'ipv6';
  if (policy.allowLoopback && LOOPBACK.check(ip, type)) return { ok: true };
  const table = family === 4 ? V4 : V6;
  // BlockList also matches IPv4-mapped IPv6 addresses against IPv4 subnets.
  if (table.list.check(ip, type) || (family === 6 && V4.list.check(ip, 'ipv6'))) {
    const reason = table.reasons.find(([l]) => l.check(ip, type))?.[1] ?? V4.reasons.find(([l]) => l.check(ip, 'ipv6'))?.[1] ?? 'a refused address';
    return { ok: false, reason: `${ip} is ${reason}` };
  }
  if (family === 6) {
    for (const v4 of embeddedIPv4(ip)) {
      const inner = checkAddress(v4, policy);
      if (!inner.ok) return { ok: false, reason: `${ip} embeds ${v4}: ${inner.reason}` };
    }
  }
  return { ok: true };
}

/** Host names that always mean the service's own network. */
function refusedName(host: string, policy: TargetPolicy): string | null {
  const h = host.replace(/\.$/, '').toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost')) return policy.allowLoopback ? null : `${host} is a loopback name`;
  if (h === 'metadata.google.internal' || h === 'metadata' || h === 'instance-data') return `${host} is a cloud metadata name`;
  if (h.endsWith('.internal') || h.endsWith('.local') || h.endsWith('.localdomain') || h.endsWith('.home.arpa')) return `${host} is a local network name`;
  if (!h.includes('.')) return `${host} is not a fully qualified name`;
  return null;
}

export type UrlVerdict = { ok: true; url: URL; host: string; ip: string | null } | { ok: false; reason: string };

/**
 * The first check, without DNS: the URL parses (WHATWG, which also turns
 * 2130706433, 0177.0.0.1 and 0x7f.1 into 127.0.0.1), is https (or http when the
 * policy allows), carries no credentials, and its host is not a refused address
 * or name. A host name still needs `resolveWebhookTarget`.
 */
export function checkWebhookUrl(raw: string, policy: TargetPolicy = {}): UrlVerdict {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: 'not a valid URL' };
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && policy.allowHttp)) {
    return { ok: false, reason: policy.allowHttp ? 'the URL must be http or https' : 'the URL must be https' };
  }
  if (url.username || url.password) return { ok: false, reason: 'the URL must not carry credentials (user:password@)' };
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  if (!host) return { ok: false, reason: 'the URL has no host' };
  if (isIP(host)) {
    const v = checkAddress(host, policy);
    return v.ok ? { ok: true, url, host, ip: host } : v;
  }
  const named = refusedName(host, policy);
  if (named) return { ok: false, reason: named };
  return { ok: true, url, host, ip: null };
}

export type Lookup = (host: string) => Promise<string[]>;

const systemLookup: Lookup = (host) =>
  new Promise((resolve, reject) => dnsLookup(host, { all: true }, (err, addrs) => (err ? reject(err) : resolve(addrs.map((a) => a.address)))));

/** Resolve a name and refuse it when any of its addresses is refused (an attacker controls which one a client picks). */
export async function resolveWebhookTarget(host: string, policy: TargetPolicy = {}, lookup: Lookup = systemLookup): Promise<Verdict & { addresses?: string[] }> {
  if (isIP(host)) return checkAddress(host, policy);
  let addresses: string[];
  try {
    addresses = await lookup(host);
  } catch (e) {
    return { ok: false, reason: `${host} does not resolve: ${(e as Error).message}` };
  }
  if (addresses.length === 0) return { ok: false, reason: `${host} has no address` };
  for (const a of addresses) {
    const v = checkAddress(a, policy);
    if (!v.ok) return { ok: false, reason: `${host} resolves to ${a}: ${v.reason}` };
  }
  return { ok: true, addresses };
}

/**
 * A `lookup` for http(s).Agent / net.connect: resolves as the system does (or
 * with `resolve`, injected by tests), then refuses (code ERR_WEBHOOK_TARGET) a
 * name with any address the policy refuses, since an attacker controls which
 * address a client picks; so the socket only ever connects to an allowed
 * address, checked at connect time.
 */
export function guardedLookup(policy: TargetPolicy = {}, resolve?: Lookup): LookupFunction {
  return (hostname, options, callback) => {
    const found: Promise<{ address: string; family: number }[]> = resolve
      ? resolve(hostname).then((as) => as.map((address) => ({ address, family: isIP(address) })))
      : new Promise((ok, fail) => dnsLookup(hostname, { ...options, all: true }, (err, addrs) => (err ? fail(err) : ok(addrs))));
    found.then(
      (all) => {
        for (const a of all) {
          const v = checkAddress(a.address, policy);
          if (!v.ok) return callback(Object.assign(new Error(`refused webhook target: ${hostname} resolves to ${v.reason}`), { code: 'ERR_WEBHOOK_TARGET' }), '', 0);
        }
        const want = options.family === 4 || options.family === 'IPv4' ? 4 : options.family === 6 || options.family === 'IPv6' ? 6 : 0;
        const list = all.filter((a) => a.family !== 0 && (want === 0 || a.family === want));
        if (list.length === 0) return callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), '', 0);
        if ((options as { all?: boolean }).all) return (callback as unknown as (e: null, a: typeof list) => void)(null, list);
        return callback(null, list[0]!.address, list[0]!.family);
      },
      (e: Error) => callback(e as NodeJS.ErrnoException, '', 0),
    );
  };
}
