/** Maps the configured router URL onto autobahn-js transport options. */
import { MSGPACK_RAWSOCKET, registerMsgpackRawsocket } from "./msgpackRawsocket.js";

export type TransportOptions =
  | { type: "websocket"; url: string }
  | { type: "rawsocket" | typeof MSGPACK_RAWSOCKET; path: string }
  | { type: "rawsocket" | typeof MSGPACK_RAWSOCKET; host: string; port: number };

/** `serializer` applies to rawsocket URLs (autobahn-js's websocket transport negotiates its own). */
export function transportFor(url: string, serializer: "json" | "msgpack" = "json"): TransportOptions {
  const rawsocket = serializer === "msgpack" ? MSGPACK_RAWSOCKET : "rawsocket";
  if (serializer === "msgpack") registerMsgpackRawsocket();
  if (url.startsWith("ws://") || url.startsWith("wss://")) return { type: "websocket", url };
  const unix = /^(?:rawsocket\+)?unix:\/\/(\/.+)$/.exec(url);
  if (unix) return { type: rawsocket, path: unix[1] as string };
  const tcp = /^tcp:\/\/([^/:]+):(\d+)\/?$/.exec(url);
  if (tcp) return { type: rawsocket, host: tcp[1] as string, port: Number(tcp[2]) };
  throw new Error(`unsupported router URL ${url}`);
}
