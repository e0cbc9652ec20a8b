/**
 * The client's address, from Crossbar's transport peer string ("tcp4:1.2.3.4:5555",
 * "tcp6:[::1]:5555" or "tcp6:::1:5555", "unix", "unix:/path", "process:123") or, behind a trusted
 * proxy, from a configured header. Null when there is no IP (unix sockets, in-process).
 */
import { isIP } from "node:net";
import type { TransportInfo } from "./request.js";

export function peerAddress(transport: TransportInfo, trustedHeader = ""): string | null {
  if (trustedHeader) {
    const name = trustedHeader.toLowerCase();
    const value = Object.hasOwn(transport.httpHeaders, name) ? transport.httpHeaders[name] : undefined;
    const first = value?.split(",")[0]?.trim();
    if (first && isIP(first)) return first;
  }
  return parsePeer(transport.peer);
}

export function parsePeer(peer: string | null): string | null {
  if (!peer) return null;
  const m = /^tcp([46]):(.+):(\d+)$/.exec(peer);
  if (!m) return null;
  const host = (m[2] as string).replace(/^\[(.*)\]$/, "$1");
  return isIP(host) ? host : null;
}
