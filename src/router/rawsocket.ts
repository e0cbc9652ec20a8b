/**
 * WAMP over RawSocket for autobahn-js on Node, with JSON or MessagePack. wamp-authd uses this instead
 * of autobahn-js's own rawsocket transport, which (a) speaks JSON only — Crossbar decodes JSON from
 * its peers with a pure-Python scanner and MessagePack in C, so msgpack costs the router less per
 * authorize call (`npm run bench`, rows 2 and 2m) — and (b) opens its socket half-open and only
 * listens for 'close', so a router that dies is never noticed (no reconnect, /readyz stays green).
 * Here the socket is a plain one: the peer's FIN ends it, 'close' follows, autobahn reconnects.
 */
import { connect } from "node:net";
import type { Logger } from "../log/logger.js";
import { CODECS, type Serializer, type WireCodec } from "./codecs.js";
import { encodeOutbound, receive } from "./frames.js";
import { autobahn } from "./wamp.js";

/** autobahn transport type names, one per serializer. */
const RAWSOCKET_TYPE: Record<Serializer, string> = { json: "authd-rawsocket-json", msgpack: "authd-rawsocket-msgpack" };

const MAGIC = 0x7f;
/** We accept frames up to 2^24 bytes (16 MiB). */
const MAX_LEN_EXP = 24;
const FRAME_WAMP = 0;
const FRAME_PING = 1;
const FRAME_PONG = 2;

interface Options {
  path?: string;
  host?: string;
  port?: number;
  /** where rejected frames are reported */
  log: Logger;
}

interface CloseEvent {
  code: number;
  reason: string;
  wasClean: boolean;
}

function frame(type: number, payload: Buffer): Buffer {
  const out = Buffer.allocUnsafe(4 + payload.length);
  out[0] = type;
  out.writeUIntBE(payload.length, 1, 3);
  payload.copy(out, 4);
  return out;
}

function factoryFor(kind: Serializer) {
  return class RawsocketFactory {
    readonly type = RAWSOCKET_TYPE[kind];

    constructor(private readonly options: Options) {}

    create() {
      return openRawsocket(this.options, CODECS[kind]);
    }
  };
}

function openRawsocket(o: Options, codec: WireCodec) {
  const serializerId = codec.rawsocketId;
  const protocol = `wamp.2.${codec.SERIALIZER_ID}`;
  const socket = o.path ? connect({ path: o.path }) : connect({ host: o.host ?? "localhost", port: o.port ?? 8000 });
  let peerMaxLen = 0;
  let buffered: Buffer = Buffer.alloc(0);
  const transport = {
    protocol,
    serializer: codec,
    info: { type: "rawsocket", url: null, protocol },
    onmessage: (_msg: unknown) => {},
    onopen: () => {},
    onclose: (_evt: CloseEvent) => {},
    send(msg: unknown) {
      // Over the router's limit the router would drop the connection: encodeOutbound refuses instead.
      const payload = encodeOutbound(msg, codec, peerMaxLen, o.log);
      socket.write(frame(FRAME_WAMP, typeof payload === "string" ? Buffer.from(payload, "utf8") : payload));
    },
    close() {
      socket.end();
    },
  };
  const sink = { codec, log: o.log, deliver: (msg: unknown[]) => transport.onmessage(msg), send: (msg: unknown[]) => transport.send(msg) };
  socket.setNoDelay?.(true);
  socket.on("connect", () => socket.write(Buffer.from([MAGIC, ((MAX_LEN_EXP - 9) << 4) | serializerId, 0, 0])));
  socket.on("data", (chunk: Buffer) => {
    buffered = buffered.length > 0 ? Buffer.concat([buffered, chunk]) : chunk;
    if (peerMaxLen === 0) {
      if (buffered.length < 4) return;
      const b1 = buffered[1] as number;
      // Wrong magic, an error reply (serializer 0: e.g. this serializer not enabled on the transport) or another serializer.
      if (buffered[0] !== MAGIC || (b1 & 0x0f) !== serializerId) {
        socket.destroy(
          new Error(`rawsocket handshake refused (0x${b1.toString(16)}): is ${protocol.slice(7)} in the transport's serializers?`),
        );
        return;
      }
      peerMaxLen = 2 ** ((b1 >> 4) + 9);
      buffered = buffered.subarray(4);
      transport.onopen();
    }
    while (buffered.length >= 4) {
      const len = buffered.readUIntBE(1, 3);
      if (buffered.length < 4 + len) break;
      const type = (buffered[0] as number) & 0x07;
      const payload = buffered.subarray(4, 4 + len);
      buffered = buffered.subarray(4 + len);
      // A frame whose content is unreadable costs that frame (or that one call) only; only broken
      // framing (above: the handshake) ends the connection.
      if (type === FRAME_WAMP) receive(payload, sink);
      else if (type === FRAME_PING) socket.write(frame(FRAME_PONG, payload));
    }
  });
  // "close" always follows "error"; autobahn decides about retrying from wasClean.
  socket.on("error", () => undefined);
  socket.on("close", (hadError: boolean) => transport.onclose({ code: 999, reason: "", wasClean: !hadError }));
  return transport;
}

/** Makes `{type: RAWSOCKET_TYPE[kind], path | host+port, log}` usable in autobahn Connection options. */
export function registerRawsocket(kind: Serializer): string {
  const type = RAWSOCKET_TYPE[kind];
  if (!autobahn.transports.isRegistered(type)) autobahn.transports.register(type, factoryFor(kind));
  return type;
}
