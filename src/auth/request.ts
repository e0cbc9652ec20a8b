/**
 * Validation of what the router sends to the authenticator. Everything is checked for type and
 * size; anything unexpected becomes a clear denial, never an exception trace.
 */
import { badRequest } from "../errors/authErrors.js";

const MAX_ID = 255;
const MAX_TEXT = 4096;
const DEFAULT_MAX_TICKET = 8192;

export interface TransportInfo {
  peer: string | null;
  /** "tcp", "tls", ... (current `channel_type`; the legacy format has no such key). */
  channelType: string | null;
  /** "websocket", "rawsocket" (current `channel_framing`, legacy `type`). */
  framing: string | null;
  /** Crossbar's tracking cookie (current `http_cbtid`, legacy `cbtid`). */
  cbtid: string | null;
  /** The client certificate as Crossbar describes it (`peer_cert`, legacy `client_cert`). */
  peerCert: Record<string, unknown> | null;
  httpHeaders: Record<string, string>;
}

export interface AuthDetails {
  authmethod: string;
  session: number | null;
  authextra: Record<string, unknown>;
  transport: TransportInfo;
  /** ticket only: the AUTHENTICATE signature (null when missing or too long). */
  ticket: string | null;
  /** The ticket was longer than the limit (tokens.maxTicketLength): it is not kept. */
  ticketTooLong: boolean;
}

export interface AuthRequest {
  realm: string | null;
  authid: string | null;
  details: AuthDetails;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function optionalString(v: unknown, what: string, max: number): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v !== "string") throw badRequest(`${what} must be a string`);
  if (v.length > max) throw badRequest(`${what} is too long`);
  // Postgres text cannot hold NUL, and lone surrogates are not valid UTF-8: refuse both up front.
  if (!v.isWellFormed() || v.includes("\u0000")) throw badRequest(`${what} is not valid text`);
  return v;
}

export interface ParseOptions {
  /** Longest ticket kept (config tokens.maxTicketLength); a longer one is flagged, not refused here. */
  maxTicketLength?: number;
}

/** Crossbar sends (realm, authid, details); the method-specific procedures get the same. */
export function parseAuthRequest(args: unknown, o: ParseOptions = {}): AuthRequest {
  if (!Array.isArray(args) || args.length !== 3) throw badRequest("expected (realm, authid, details)");
  const [realm, authid, details] = args as [unknown, unknown, unknown];
  if (!isObject(details)) throw badRequest("details must be an object");
  const authmethod = optionalString(details.authmethod, "details.authmethod", 64);
  if (!authmethod) throw badRequest("details.authmethod is missing");
  const session = details.session;
  if (session !== undefined && session !== null && !Number.isSafeInteger(session)) throw badRequest("details.session must be an integer");
  const rawExtra = details.authextra ?? {};
  if (!isObject(rawExtra)) throw badRequest("details.authextra must be an object");
  checkValues(rawExtra, "details.authextra");
  // Own enumerable keys only, on a plain object: nothing inherited through a decoded `__proto__`.
  const authextra: Record<string, unknown> = Object.fromEntries(Object.entries(rawExtra));
  if (serialisedLength(authextra) > 16 * 1024) throw badRequest("details.authextra is too large");
  // An oversized ticket gets the same denial as a wrong one (the ticket method refuses it), so a
  // client learns nothing from the limit; it is dropped before any text check.
  const maxTicket = o.maxTicketLength ?? DEFAULT_MAX_TICKET;
  const ticketTooLong = typeof details.ticket === "string" && details.ticket.length > maxTicket;
  return {
    realm: optionalString(realm, "realm", MAX_ID),
    authid: optionalString(authid, "authid", MAX_ID),
    details: {
      authmethod,
      session: typeof session === "number" ? session : null,
      authextra,
      transport: parseTransport(details.transport),
      ticket: ticketTooLong ? null : optionalString(details.ticket, "ticket", maxTicket),
      ticketTooLong,
    },
  };
}

/** Bounds for checkValues: far beyond what a client legitimately sends in authextra or Crossbar in transport. */
const MAX_VALUE_DEPTH = 32;
const MAX_VALUE_NODES = 10_000;

/**
 * Refuses numbers that are not numbers: Crossbar forwards a client's NaN / Infinity (Python's json
 * accepts them, and 1e999 is infinity) and the router link decodes them rather than drop the link.
 * Iterative and bounded: the nesting is attacker-chosen too.
 */
function checkValues(root: unknown, what: string): void {
  const stack: [unknown, number][] = [[root, 0]];
  let nodes = 0;
  for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
    const [v, depth] = top;
    if (++nodes > MAX_VALUE_NODES) throw badRequest(`${what} is too large`);
    if (typeof v === "number") {
      if (!Number.isFinite(v)) throw badRequest(`${what} holds a number that is not finite`);
    } else if (typeof v === "bigint") {
      throw badRequest(`${what} holds an integer out of range`);
    } else if (typeof v === "object" && v !== null && !(v instanceof Uint8Array)) {
      if (depth >= MAX_VALUE_DEPTH) throw badRequest(`${what} is nested too deeply`);
      for (const x of Array.isArray(v) ? (v as unknown[]) : Object.values(v)) stack.push([x, depth + 1]);
    }
  }
}

/** JSON size of a value; values JSON cannot hold (BigInt from a msgpack/CBOR decoder) count as too large. */
function serialisedLength(v: unknown): number {
  try {
    return JSON.stringify(v)?.length ?? 0;
  } catch {
    return Infinity;
  }
}

/** Reads both the current (TransportDetails, >= 22.4) and the legacy key names. */
export function parseTransport(t: unknown): TransportInfo {
  if (t === undefined || t === null) return { peer: null, channelType: null, framing: null, cbtid: null, peerCert: null, httpHeaders: {} };
  if (!isObject(t)) throw badRequest("details.transport must be an object");
  checkValues(t, "details.transport");
  const cert = t.peer_cert ?? t.client_cert ?? null;
  // No prototype: a header named __proto__ must stay a plain entry.
  const headers: Record<string, string> = Object.create(null) as Record<string, string>;
  if (isObject(t.http_headers_received)) {
    for (const [k, v] of Object.entries(t.http_headers_received).slice(0, 256)) {
      if (typeof v === "string" && v.length <= MAX_TEXT) headers[k.toLowerCase()] = v;
    }
  }
  return {
    peer: optionalString(t.peer, "details.transport.peer", 1024),
    channelType: optionalString(t.channel_type, "details.transport.channel_type", 64),
    framing: optionalString(t.channel_framing ?? t.type, "details.transport.channel_framing", 64),
    cbtid: optionalString(t.http_cbtid ?? t.cbtid, "details.transport.http_cbtid", 1024),
    peerCert: isObject(cert) ? cert : null,
    httpHeaders: headers,
  };
}
