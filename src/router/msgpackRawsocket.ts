/**
 * WAMP over RawSocket with MessagePack for autobahn-js on Node (autobahn-js's own rawsocket transport
 * speaks JSON only). Why: Crossbar decodes JSON from its peers with a pure-Python scanner
 * (autobahn-python keeps it for binary payloads) and MessagePack in C, so msgpack costs the router
 * less per authorize call (see `npm run bench`, rows 2 and 2m).
 */
import { connect } from "node:net";
import { decode, encode } from "./msgpack.js";
import { autobahn } from "./wamp.js";

export const MSGPACK_RAWSOCKET = "rawsocket-msgpack";

const MAGIC = 0x7f;
const SERIALIZER_MSGPACK = 2;
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

class MsgpackRawsocketFactory {
  readonly type = MSGPACK_RAWSOCKET;

  constructor(private readonly options: Options) {}

  create() {
    const serializer = { SERIALIZER_ID: "msgpack", BINARY: true, serialize: encode, unserialize: decode };
    const o = this.options;
    const socket = o.path ? connect({ path: o.path }) : connect({ host: o.host ?? "localhost", port: o.port ?? 8000 });
    let peerMaxLen = 0;
    let buffered: Buffer = Buffer.alloc(0);
    const transport = {
      protocol: "wamp.2.msgpack",
      serializer,
      info: { type: "rawsocket", url: null, protocol: "wamp.2.msgpack" },
      onmessage: (_msg: unknown) => {},
      onopen: () => {},
      onclose: (_evt: CloseEvent) => {},
      send(msg: unknown) {
        const payload = serializer.serialize(msg);
        if (payload.length > peerMaxLen) {
          // The router would drop the connection; fail this message loudly instead.
          throw new Error(`WAMP message of ${payload.length} bytes exceeds the router's limit of ${peerMaxLen}`);
        }
        socket.write(frame(FRAME_WAMP, payload));
      },
      close() {
        socket.end();
      },
    };
    socket.setNoDelay?.(true);
    socket.on("connect", () => socket.write(Buffer.from([MAGIC, ((MAX_LEN_EXP - 9) << 4) | SERIALIZER_MSGPACK, 0, 0])));
    socket.on("data", (chunk: Buffer) => {
      buffered = buffered.length > 0 ? Buffer.concat([buffered, chunk]) : chunk;
      if (peerMaxLen === 0) {
        if (buffered.length < 4) return;
        const b1 = buffered[1] as number;
        // Wrong magic, an error reply (serializer 0: e.g. msgpack not enabled on the transport) or another serializer.
        if (buffered[0] !== MAGIC || (b1 & 0x0f) !== SERIALIZER_MSGPACK) {
          socket.destroy(new Error(`rawsocket handshake refused (0x${b1.toString(16)}): is msgpack in the transport's serializers?`));
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
        if (type === FRAME_WAMP) transport.onmessage(serializer.unserialize(payload));
        else if (type === FRAME_PING) socket.write(frame(FRAME_PONG, payload));
      }
    });
    // "close" always follows "error"; autobahn decides about retrying from wasClean.
    socket.on("error", () => undefined);
    socket.on("close", (hadError: boolean) => transport.onclose({ code: 999, reason: "", wasClean: !hadError }));
    return transport;
  }
}

/** Makes `{type: "rawsocket-msgpack", path | host+port}` usable in autobahn Connection options. */
export function registerMsgpackRawsocket(): void {
  if (!autobahn.transports.isRegistered(MSGPACK_RAWSOCKET)) autobahn.transports.register(MSGPACK_RAWSOCKET, MsgpackRawsocketFactory);
}
