/**
 * The client's address for throttling: from Crossbar's transport peer string (parsed by cidr.ts
 * `peerIp`, the same reading anonymous CIDR rules use) or, behind a trusted proxy, from a configured
 * header. Canonical text (an IPv4-mapped IPv6 peer is its IPv4 address), so one client is one key.
 * Null when there is no IP (unix sockets, in-process).
 */
import { formatIp, parseIp, peerIp } from "./cidr.js";
import type { TransportInfo } from "./request.js";

export function peerAddress(transport: TransportInfo, trustedHeader = ""): string | null {
  if (trustedHeader) {
    const name = trustedHeader.toLowerCase();
    const value = Object.hasOwn(transport.httpHeaders, name) ? transport.httpHeaders[name] : undefined;
    const first = value?.split(",")[0]?.trim();
    const fromHeader = first ? parseIp(first) : null;
    if (fromHeader) return formatIp(fromHeader);
  }
  const ip = peerIp(transport.peer);
  return ip ? formatIp(ip) : null;
}
