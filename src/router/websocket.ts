/**
 * WAMP over WebSocket (Node's global WebSocket) for autobahn-js, with JSON or MessagePack, for
 * ws:// and wss:// router URLs. Why not autobahn-js's own websocket transport: it decodes inside the
 * WebSocket's message listener with JSON.parse, so one frame carrying Python's `NaN` (which Crossbar
 * forwards from clients) throws there, and a throw in a WebSocket listener ends the Node process.
 * Here every frame goes through the same screening as on the rawsocket link (frames.ts).
 */
import type { Logger } from "../log/logger.js";
import { CODECS, type Serializer, type WireCodec } from "./codecs.js";
import { encodeOutbound, receive } from "./frames.js";
import { autobahn } from "./wamp.js";

/** autobahn transport type names, one per serializer. */
const WEBSOCKET_TYPE: Record<Serializer, string> = { json: "authd-websocket-json", msgpack: "authd-websocket-msgpack" };

/** Largest message we send (WebSocket has no handshake that tells; rawsocket uses the router's). Our answers are far smaller. */
const MAX_MESSAGE_BYTES = 2 ** 24;

interface Options {
  url: string;
  log: Logger;
}

function factoryFor(kind: Serializer) {
  return class WebsocketFactory {
    readonly type = WEBSOCKET_TYPE[kind];

    constructor(private readonly options: Options) {}

    create() {
      return openWebsocket(this.options, CODECS[kind]);
    }
  };
}

function openWebsocket(o: Options, codec: WireCodec) {
  const protocol = `wamp.2.${codec.SERIALIZER_ID}`;
  const ws = new WebSocket(o.url, [protocol]);
  ws.binaryType = "arraybuffer";
  const transport = {
    protocol,
    serializer: codec,
    info: { type: "websocket", url: o.url, protocol: null as string | null },
    onmessage: (_msg: unknown) => {},
    onopen: () => {},
    onclose: (_evt: { code: number; reason: string; wasClean: boolean }) => {},
    send(msg: unknown) {
      ws.send(encodeOutbound(msg, codec, MAX_MESSAGE_BYTES, o.log));
    },
    close(code?: number, reason?: string) {
      try {
        ws.close(code, reason);
      } catch {
        // a code the WebSocket API refuses (autobahn passes its own): close plainly
        ws.close();
      }
    },
  };
  const sink = { codec, log: o.log, deliver: (msg: unknown[]) => transport.onmessage(msg), send: (msg: unknown[]) => transport.send(msg) };
  ws.onopen = () => {
    if (ws.protocol !== protocol) {
      o.log.error({ url: o.url, protocol: ws.protocol }, `router did not accept WebSocket subprotocol ${protocol}`);
      ws.close();
      return;
    }
    transport.info.protocol = ws.protocol;
    transport.onopen();
  };
  // Never let an exception escape a WebSocket listener: Node treats it as an uncaught exception.
  ws.onmessage = (evt: MessageEvent) => {
    const data: unknown = evt.data;
    if (typeof data === "string") receive(data, sink);
    else if (data instanceof ArrayBuffer) receive(Buffer.from(data), sink);
    else o.log.warn({ url: o.url }, "unexpected WebSocket message type from the router: dropped");
  };
  ws.onclose = (evt: { code: number; reason: string; wasClean: boolean }) =>
    transport.onclose({ code: evt.code, reason: evt.reason, wasClean: evt.wasClean });
  return transport;
}

/** Makes `{type, url, log}` usable in autobahn Connection options. */
export function registerWebsocket(kind: Serializer): string {
  const type = WEBSOCKET_TYPE[kind];
  if (!autobahn.transports.isRegistered(type)) autobahn.transports.register(type, factoryFor(kind));
  return type;
}
