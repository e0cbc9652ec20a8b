/**
 * IPv4/IPv6 addresses, CIDR blocks and Crossbar peer strings. Pure: no I/O.
 *
 * Addresses are held as bigints (32 bits for IPv4, 128 for IPv6). An IPv4-mapped IPv6 address
 * (`::ffff:10.1.2.3`, what a dual-stack listener reports for IPv4 clients) is treated as the IPv4
 * address it carries, so `10.0.0.0/8` matches it; otherwise the families never match each other
 * (like Postgres `inet <<= cidr`: `::/0` does not contain 10.1.2.3).
 */

export type Family = 4 | 6;

export interface IpAddress {
  family: Family;
  value: bigint;
}

export interface Cidr {
  family: Family;
  /** network address with the host bits cleared */
  network: bigint;
  prefix: number;
}

const WIDTH: Record<Family, number> = { 4: 32, 6: 128 };
const V4_MAPPED_PREFIX = 0xffffn; // ::ffff:0:0/96

function parseIPv4(s: string): bigint | null {
  const parts = s.split(".");
  if (parts.length !== 4) return null;
  let value = 0n;
  for (const p of parts) {
    // No leading zeros: "010" is octal to some parsers and decimal to others.
    if (!/^(0|[1-9]\d{0,2})$/.test(p)) return null;
    const n = Number(p);
    if (n > 255) return null;
    value = (value << 8n) | BigInt(n);
  }
  return value;
}

function parseIPv6(input: string): bigint | null {
  // A zone ("fe80::1%eth0") names the interface, not part of the address.
  const s = input.includes("%") ? input.slice(0, input.indexOf("%")) : input;
  if (s.length === 0 || s.length > 45) return null;
  const halves = s.split("::");
  if (halves.length > 2) return null;
  const groupsOf = (part: string): number[] | null => {
    if (part === "") return [];
    const out: number[] = [];
    const pieces = part.split(":");
    for (let i = 0; i < pieces.length; i++) {
      const g = pieces[i]!;
      if (i === pieces.length - 1 && g.includes(".")) {
        // trailing embedded IPv4 ("::ffff:1.2.3.4") = two groups
        const v4 = parseIPv4(g);
        if (v4 === null) return null;
        out.push(Number(v4 >> 16n), Number(v4 & 0xffffn));
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
        out.push(parseInt(g, 16));
      }
    }
    return out;
  };
  const head = groupsOf(halves[0]!);
  const tail = halves.length === 2 ? groupsOf(halves[1]!) : [];
  if (!head || !tail) return null;
  let groups: number[];
  if (halves.length === 2) {
    const missing = 8 - head.length - tail.length;
    if (missing < 1) return null; // "::" stands for at least one zero group
    groups = [...head, ...new Array<number>(missing).fill(0), ...tail];
  } else {
    groups = head;
  }
  if (groups.length !== 8) return null;
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
}

/** Parses an IPv4 or IPv6 address; IPv4-mapped IPv6 addresses come back as IPv4. Null if invalid. */
export function parseIp(s: string): IpAddress | null {
  const v4 = parseIPv4(s);
  if (v4 !== null) return { family: 4, value: v4 };
  const v6 = parseIPv6(s);
  if (v6 === null) return null;
  if (v6 >> 32n === V4_MAPPED_PREFIX) return { family: 4, value: v6 & 0xffffffffn };
  return { family: 6, value: v6 };
}

function mask(family: Family, prefix: number): bigint {
  const width = BigInt(WIDTH[family]);
  const all = (1n << width) - 1n;
  return all ^ ((1n << (width - BigInt(prefix))) - 1n);
}

/**
 * Parses "addr/prefix" (or a bare address = a single host). Host bits are cleared, as Postgres'
 * `cidr` type guarantees anyway. Null if invalid.
 */
export function parseCidr(s: string): Cidr | null {
  const slash = s.indexOf("/");
  const addrText = slash === -1 ? s : s.slice(0, slash);
  const prefixText = slash === -1 ? null : s.slice(slash + 1);
  if (prefixText !== null && !/^\d{1,3}$/.test(prefixText)) return null;
  const v4 = parseIPv4(addrText);
  let family: Family;
  let value: bigint;
  if (v4 !== null) {
    family = 4;
    value = v4;
  } else {
    const v6 = parseIPv6(addrText);
    if (v6 === null) return null;
    family = 6;
    value = v6;
  }
  let prefix = prefixText === null ? WIDTH[family] : Number(prefixText);
  if (prefix > WIDTH[family]) return null;
  if (family === 6 && prefix >= 96 && value >> 32n === V4_MAPPED_PREFIX) {
    // "::ffff:10.0.0.0/104" is the IPv4 block 10.0.0.0/8 (see parseIp)
    family = 4;
    value &= 0xffffffffn;
    prefix -= 96;
  }
  return { family, network: value & mask(family, prefix), prefix };
}

export function cidrContains(cidr: Cidr, ip: IpAddress): boolean {
  if (cidr.family !== ip.family) return false;
  return (ip.value & mask(cidr.family, cidr.prefix)) === cidr.network;
}

/** True when `ip` lies in one of `cidrs` (strings as Postgres prints them). Invalid entries never match. */
export function ipInCidrs(ip: string | IpAddress, cidrs: readonly string[]): boolean {
  const addr = typeof ip === "string" ? parseIp(ip) : ip;
  if (!addr) return false;
  return cidrs.some((c) => {
    const block = parseCidr(c);
    return block !== null && cidrContains(block, addr);
  });
}

/**
 * The client's IP address from Crossbar's `details.transport.peer`, or null when the peer has none.
 *
 * Crossbar (autobahn `peer2str`) writes `tcp4:127.0.0.1:48638`, `tcp6:::1:48638` (no brackets), and
 * `unix`, `unix:/path`, `process:<pid>`, `unknown` for non-IP transports. Bracketed IPv6 and a bare
 * address are accepted too (other writers, X-Forwarded-For handling). Non-IP peers give null so
 * that a CIDR restriction fails closed for them.
 */
export function peerIp(peer: string | null | undefined): IpAddress | null {
  if (!peer) return null;
  const m = /^tcp([46]):(.+):(\d{1,5})$/.exec(peer);
  if (m) {
    let host = m[2]!;
    if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
    const ip = parseIp(host);
    if (!ip) return null;
    // tcp4 must carry an IPv4 address; tcp6 may carry a mapped IPv4 (parseIp unwraps it).
    if (m[1] === "4" && ip.family !== 4) return null;
    return ip;
  }
  const bare = peer.startsWith("[") && peer.endsWith("]") ? peer.slice(1, -1) : peer;
  return parseIp(bare);
}

/** The network of `ip` with the first `prefix` bits kept (the host bits cleared). */
export function networkOf(ip: IpAddress, prefix: number): IpAddress {
  const width = WIDTH[ip.family];
  return { family: ip.family, value: ip.value & mask(ip.family, Math.max(0, Math.min(width, prefix))) };
}

/** Canonical text of an address (dotted quad; eight lowercase hex groups), e.g. for throttle keys. */
export function formatIp(ip: IpAddress): string {
  if (ip.family === 4) return [24n, 16n, 8n, 0n].map((shift) => String((ip.value >> shift) & 0xffn)).join(".");
  const groups: string[] = [];
  for (let shift = 112n; shift >= 0n; shift -= 16n) groups.push(((ip.value >> shift) & 0xffffn).toString(16));
  return groups.join(":");
}
