/**
 * The client's address for throttling and the per-client login limit. Pure: no I/O.
 *
 * From Crossbar's transport peer string (parsed by cidr.ts `peerIp`, the same reading anonymous CIDR
 * rules use) or, behind a trusted proxy, from the header entry that proxy wrote. Proxies *append* to
 * X-Forwarded-For (and Forwarded): everything left of the entries the trusted proxies added was
 * sent by the client and proves nothing, so the client address is the `hops`-th entry from the
 * right. Too few entries or an entry that is no address: the transport peer (the proxy) counts.
 *
 * The key is canonical text, so one client is one key: an IPv4 address (an IPv4-mapped IPv6 peer
 * is its IPv4 address), or an IPv6 network of `ipv6PrefixLength` bits (a host usually holds a whole
 * /64 and could otherwise rotate through its addresses). Null when there is no IP (unix sockets).
 */
import { formatIp, networkOf, parseIp, peerIp, type IpAddress } from "./cidr.js";
import type { TransportInfo } from "./request.js";

export interface PeerKeyOptions {
  /** HTTP header the trusted proxy writes (x-forwarded-for or forwarded); "" = the transport peer. */
  trustedProxyHeader?: string;
  /** Trusted proxies that append to the header (the client is this many entries from the right); default 1. */
  trustedProxyHops?: number;
  /** IPv6 clients are keyed by this many leading bits; default 64. */
  ipv6PrefixLength?: number;
}

/** The client's address: the trusted proxy's entry when configured and usable, else the transport peer. */
export function clientIp(transport: TransportInfo, o: PeerKeyOptions = {}): IpAddress | null {
  if (o.trustedProxyHeader) {
    const name = o.trustedProxyHeader.toLowerCase();
    const value = Object.hasOwn(transport.httpHeaders, name) ? transport.httpHeaders[name] : undefined;
    if (value !== undefined) {
      const entries = headerEntries(name, value);
      const hops = Math.max(1, o.trustedProxyHops ?? 1);
      const entry = entries.length >= hops ? entries[entries.length - hops] : undefined;
      const ip = entry === undefined ? null : parseForwardedAddress(entry);
      if (ip) return ip;
    }
  }
  return peerIp(transport.peer);
}

/** The throttle key of a client (see the module comment). */
export function peerKey(transport: TransportInfo, o: PeerKeyOptions = {}): string | null {
  const ip = clientIp(transport, o);
  if (!ip) return null;
  if (ip.family === 4) return formatIp(ip);
  const prefix = Math.max(1, Math.min(128, o.ipv6PrefixLength ?? 64));
  return `${formatIp(networkOf(ip, prefix))}/${prefix}`;
}

/**
 * The entries of a forwarding header, left to right. X-Forwarded-For: comma separated addresses.
 * Forwarded (RFC 7239): comma separated elements whose `for=` parameter is the address; an element
 * without one is an entry that is no address. Repeated headers arrive joined with ", " in order
 * (autobahn does that), which keeps appended entries rightmost.
 */
export function headerEntries(headerName: string, value: string): string[] {
  const parts = value.split(",");
  if (headerName !== "forwarded") return parts.map((p) => p.trim());
  return parts.map((element) => {
    for (const pair of element.split(";")) {
      const eq = pair.indexOf("=");
      if (eq > 0 && pair.slice(0, eq).trim().toLowerCase() === "for") return pair.slice(eq + 1).trim();
    }
    return "";
  });
}

/**
 * One entry as proxies write it: `203.0.113.7`, `203.0.113.7:4711`, `2001:db8::1`,
 * `[2001:db8::1]`, `[2001:db8::1]:4711`, optionally in double quotes (Forwarded). Null for anything
 * else (`unknown`, obfuscated identifiers, junk).
 */
export function parseForwardedAddress(entry: string): IpAddress | null {
  let s = entry.trim();
  if (s.length >= 2 && s.startsWith('"') && s.endsWith('"')) s = s.slice(1, -1).trim();
  if (s.length === 0 || s.length > 64) return null;
  if (s.startsWith("[")) {
    const close = s.indexOf("]");
    if (close < 0) return null;
    const rest = s.slice(close + 1);
    if (rest !== "" && !/^:\d{1,5}$/.test(rest)) return null;
    const ip = parseIp(s.slice(1, close));
    // Brackets hold IPv6 only (a mapped IPv4 inside is fine: parseIp unwraps it).
    return ip && (ip.family === 6 || s.slice(1, close).includes(":")) ? ip : null;
  }
  const v4port = /^(\d{1,3}(?:\.\d{1,3}){3}):\d{1,5}$/.exec(s);
  if (v4port) return parseIp(v4port[1]!);
  return parseIp(s);
}
