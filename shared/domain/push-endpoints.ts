import { isIP } from 'node:net';

/**
 * Push endpoints are URLs a user hands us and the server then calls: checked so they cannot aim
 * the server at itself, its network or the cloud's metadata service (SSRF). Names are checked
 * here; the addresses they resolve to are checked again when connecting (webpush adapter).
 */

export interface EndpointPolicy {
  /** Local mode only: `http://127.0.0.1` is allowed (a test's push service). */
  allowLoopback: boolean;
}

const BLOCKED_NAMES = /(^|\.)(localhost|local|internal|localdomain|home\.arpa)$/i;

/** Why an address may not be called, or `undefined` when it may. */
export function addressProblem(address: string, policy: EndpointPolicy): string | undefined {
  const kind = isIP(address);
  if (kind === 4) return ipv4Problem(address, policy);
  if (kind === 6) {
    const a = address.toLowerCase();
    const embedded = embeddedIpv4(a);
    if (embedded) return ipv4Problem(embedded, policy);
    if (a === '::1' || a === '::') return 'a loopback or unspecified address';
    if (/^fe[89ab]/.test(a)) return 'a link-local address';
    if (/^f[cd]/.test(a)) return 'a private address (including the EC2 metadata service)';
    return undefined;
  }
  return 'not an IP address';
}

/**
 * The IPv4 address inside an IPv4-mapped or -compatible (`::ffff:a.b.c.d`, `::a.b.c.d`) or NAT64
 * (`64:ff9b::`) IPv6 address, in either spelling (URL parsing turns the dotted form into hex).
 */
function embeddedIpv4(a: string): string | undefined {
  const m = /^(?:::(?:ffff:)?|64:ff9b::)(?:(\d+\.\d+\.\d+\.\d+)|([0-9a-f]{1,4}):([0-9a-f]{1,4}))$/.exec(a);
  if (!m) return undefined;
  if (m[1]) return m[1];
  const hi = parseInt(m[2]!, 16);
  const lo = parseInt(m[3]!, 16);
  return [hi >> 8, hi & 255, lo >> 8, lo & 255].join('.');
}

function ipv4Problem(address: string, policy: EndpointPolicy): string | undefined {
  const [a = 0, b = 0] = address.split('.').map(Number);
  if (address === '127.0.0.1' && policy.allowLoopback) return undefined;
  if (a === 127 || a === 0) return 'a loopback or unspecified address';
  if (a === 169 && b === 254) return 'a link-local address (the metadata service lives there)';
  if (a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168)) return 'a private address';
  if (a === 100 && b >= 64 && b <= 127) return 'a shared (carrier-grade NAT) address';
  if (a >= 224) return 'a multicast or reserved address';
  return undefined;
}

/** Why the endpoint may not be subscribed, or `undefined` when it may. */
export function pushEndpointProblem(endpoint: string, policy: EndpointPolicy): string | undefined {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return 'not a URL';
  }
  if (url.username || url.password) return 'credentials in the URL are not allowed';
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const loopbackHttp = policy.allowLoopback && url.protocol === 'http:' && host === '127.0.0.1';
  if (url.protocol !== 'https:' && !loopbackHttp) return 'must be https';
  if (isIP(host)) return addressProblem(host, policy);
  if (!host.includes('.') || BLOCKED_NAMES.test(host)) return 'must be a public host name';
  return undefined;
}
