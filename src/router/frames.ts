/**
 * What the router transports do with each WAMP frame, so that no frame can end the link: the
 * values in an INVOCATION are attacker-chosen (authextra, transport details, forward_for, ...).
 *
 * Inbound: a frame is decoded and screened before autobahn-js sees it. autobahn-js throws on a
 * malformed INVOCATION (a throw inside a socket or WebSocket listener ends the process) and closes
 * the session on anything it does not expect, so only well-formed messages reach it. An INVOCATION
 * that cannot be read but whose request id can is answered with an ERROR here, so the router's
 * call still completes (for the authenticator: the login is denied). Anything else is logged and
 * dropped.
 *
 * Outbound: a YIELD or ERROR that cannot be encoded or is larger than the router accepts becomes an
 * ERROR for the same request instead of an exception inside autobahn's promise chain.
 */
import type { Logger } from "../log/logger.js";
import type { WireCodec } from "./codecs.js";

const ERROR = 8;
const INVOCATION = 68;
const YIELD = 70;
/** What a router sends a client (WELCOME ... REGISTERED, UNREGISTERED, INVOCATION); autobahn-js ends the session on any other type. */
const FROM_ROUTER = new Set([2, 3, 4, 6, 8, 17, 33, 35, 36, 50, 65, 67, 68]);

const UNREADABLE_INVOCATION_URI = "wamp.error.invalid_argument";

export type Screened =
  { action: "deliver"; msg: unknown[] } | { action: "answer"; requestId: number; reason: string } | { action: "drop"; reason: string };

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

function isId(v: unknown): v is number {
  return Number.isSafeInteger(v) && (v as number) >= 0;
}

function errorText(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).slice(0, 200);
}

/** Decodes and screens one inbound frame. Never throws. */
export function screen(payload: Buffer | string, codec: WireCodec): Screened {
  let msg: unknown;
  try {
    msg = codec.unserialize(payload);
  } catch (err) {
    const reason = `undecodable frame: ${errorText(err)}`;
    let id: number | null = null;
    try {
      id = codec.invocationId(payload);
    } catch {
      // no id then
    }
    return id === null ? { action: "drop", reason } : { action: "answer", requestId: id, reason };
  }
  return check(msg);
}

/** WAMP shape of a decoded message; INVOCATION in full (autobahn-js dereferences its details unchecked). */
export function check(msg: unknown): Screened {
  if (!Array.isArray(msg) || !FROM_ROUTER.has(msg[0] as number)) return { action: "drop", reason: "not a WAMP message for a client" };
  if (msg[0] !== INVOCATION) return { action: "deliver", msg };
  const [, request, registration, details, args, kwargs] = msg as unknown[];
  if (!isId(request)) return { action: "drop", reason: "INVOCATION without a usable request id" };
  const ok =
    msg.length >= 4 &&
    msg.length <= 6 &&
    isId(registration) &&
    isPlainObject(details) &&
    (msg.length < 5 || Array.isArray(args)) &&
    (msg.length < 6 || isPlainObject(kwargs));
  return ok ? { action: "deliver", msg } : { action: "answer", requestId: request, reason: "malformed INVOCATION" };
}

function invocationError(requestId: number, uri: string, text: string): unknown[] {
  return [ERROR, INVOCATION, requestId, {}, uri, [text]];
}

export interface FrameSink {
  codec: WireCodec;
  log: Logger;
  /** hands a screened message to autobahn-js */
  deliver(msg: unknown[]): void;
  /** sends a message to the router */
  send(msg: unknown[]): void;
}

/** Screens one frame and acts on it. Never throws: a transport calls this from socket listeners. */
export function receive(payload: Buffer | string, sink: FrameSink): void {
  const s = screen(payload, sink.codec);
  const fields = () => ({ serializer: sink.codec.SERIALIZER_ID, bytes: payload.length });
  try {
    if (s.action === "deliver") {
      sink.deliver(s.msg);
    } else if (s.action === "answer") {
      sink.log.warn(
        { ...fields(), request: s.requestId, reason: s.reason },
        "unreadable INVOCATION from the router: answered with an ERROR",
      );
      sink.send(invocationError(s.requestId, UNREADABLE_INVOCATION_URI, `wamp-authd could not read this invocation (${s.reason})`));
    } else {
      sink.log.warn({ ...fields(), reason: s.reason }, "unreadable frame from the router: dropped");
    }
  } catch (err) {
    sink.log.error({ ...fields(), err: errorText(err) }, "handling a frame from the router failed");
  }
}

/** The request a YIELD or an INVOCATION ERROR answers, else null. */
function answeredRequest(msg: unknown): number | null {
  if (!Array.isArray(msg)) return null;
  if (msg[0] === YIELD && isId(msg[1])) return msg[1];
  if (msg[0] === ERROR && msg[1] === INVOCATION && isId(msg[2])) return msg[2];
  return null;
}

/**
 * Encodes an outbound message within the router's limit. A YIELD or ERROR that cannot be sent
 * is replaced by a short ERROR for its request (never an unanswered call); anything else throws
 * to its sender (a CALL or REGISTER rejects).
 */
export function encodeOutbound(msg: unknown, codec: WireCodec, maxBytes: number, log: Logger): Buffer | string {
  let failure: string;
  try {
    const payload = codec.serialize(msg);
    // A UTF-16 unit takes at most 3 UTF-8 bytes: count the bytes only when that bound is too high.
    const bytes = typeof payload !== "string" ? payload.length : payload.length * 3 <= maxBytes ? 0 : Buffer.byteLength(payload);
    if (bytes <= maxBytes) return payload;
    failure = `message of ${bytes} bytes exceeds the router's limit of ${maxBytes}`;
  } catch (err) {
    failure = `message cannot be encoded: ${errorText(err)}`;
  }
  const request = answeredRequest(msg);
  if (request === null) throw new Error(`WAMP ${failure}`);
  log.error({ request, reason: failure }, "answer could not be sent to the router: sent an ERROR instead");
  return codec.serialize(invocationError(request, "wamp.error.runtime_error", "wamp-authd could not send its answer"));
}
