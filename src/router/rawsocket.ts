/**
 * WAMP over RawSocket for autobahn-js on Node, with JSON or MessagePack. wamp-authd uses this instead
 * of autobahn-js's own rawsocket transport, which (a) speaks JSON only — Crossbar decodes JSON from
 * its peers with a pure-Python scanner and MessagePack in C, so msgpack costs the router less per
 * authorize call (`npm run bench`, rows 2 and 2m) — and (b) opens its socket half-open and only
 * listens for 'close', so a router that dies is never noticed (no reconnect, /readyz stays green).
 * Here the socket is a plain one: the peer's FIN ends it, 'close' follows, autobahn reconnects.
 */
import { connect } from "node:net";
import { decode, encode } from "./msgpack.js";
import { autobahn } from "./wamp.js";

export type RawsocketSerializer = "json" | "msgpack";

/** autobahn transport type names, one per serializer. */
export const RAWSOCKET_TYPE: Record<RawsocketSerializer, string> = { json: "authd-rawsocket-json", msgpack: "authd-rawsocket-msgpack" };

const SERIALIZERS = {
  json: {
    id: 1,
    codec: {
      SERIALIZER_ID: "json",
      BINARY: false,
      serialize: (msg: unknown) => Buffer.from(JSON.stringify(msg), "utf8"),
      unserialize: (payload: Buffer) => JSON.parse(payload.toString("utf8")) as unknown,
    },
  },
  msgpack: { id: 2, codec: { SERIALIZER_ID: "msgpack", BINARY: true, serialize: encode, unserialize: decode } },
} as const;

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

function factoryFor(kind: RawsocketSerializer) {
  const { id: serializerId, codec: serializer } = SERIALIZERS[kind];
  const protocol = `wamp.2.${kind}`;
  return class RawsocketFactory {
    readonly type = RAWSOCKET_TYPE[kind];

    constructor(private readonly options: Options) {}

    create() {
      return openRawsocket(this.options, serializerId, serializer, protocol);
    }
  };
}

interface Codec {
  serialize(msg: unknown): Buffer | Uint8Array;
  unserialize(payload: Buffer): unknown;
}

function openRawsocket(o: Options, serializerId: number, serializer: Codec, protocol: string) {
  const socket = o.path ? connect({ path: o.path }) : connect({ host: o.host ?? "localhost", port: o.port ?? 8000 });
  let peerMaxLen = 0;
  let buffered: Buffer = Buffer.alloc(0);
  const transport = {
    protocol,
    serializer,
    info: { type: "rawsocket", url: null, protocol },
    onmessage: (_msg: unknown) => {},
    onopen: () => {},
    onclose: (_evt: CloseEvent) => {},
    send(msg: unknown) {
      const payload = serializer.serialize(msg);
      if (payload.length > peerMaxLen) {
        // The router would drop the connection; fail this message loudly instead.
        throw new Error(`WAMP message of ${payload.length} bytes exceeds the router's limit of ${peerMaxLen}`);
      }
      socket.write(frame(FRAME_WAMP, Buffer.from(payload.buffer, payload.byteOffset, payload.length)));
    },
    close() {
      socket.end();
    },
  };
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
      if (type === FRAME_WAMP) {
        let msg: unknown;
        try {
          msg = serializer.unserialize(payload);
        } catch (err) {
          // An undecodable frame ends the connection (autobahn reconnects) instead of the process.
          socket.destroy(err as Error);
          return;
        }
        transport.onmessage(msg);
      } else if (type === FRAME_PING) socket.write(frame(FRAME_PONG, payload));
    }
  });
  // "close" always follows "error"; autobahn decides about retrying from wasClean.
  socket.on("error", () => undefined);
  socket.on("close", (hadError: boolean) => transport.onclose({ code: 999, reason: "", wasClean: !hadError }));
  return transport;
}

/** Makes `{type: RAWSOCKET_TYPE[kind], path | host+port}` usable in autobahn Connection options. */
export function registerRawsocket(kind: RawsocketSerializer): string {
  const type = RAWSOCKET_TYPE[kind];
  if (!autobahn.transports.isRegistered(type)) autobahn.transports.register(type, factoryFor(kind));
  return type;
}
