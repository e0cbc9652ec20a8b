/** Maps the configured router URL onto autobahn-js transport options. */
import { registerRawsocket, type RawsocketSerializer } from "./rawsocket.js";

export type TransportOptions =
  { type: "websocket"; url: string } | { type: string; path: string } | { type: string; host: string; port: number };

/** `serializer` applies to rawsocket URLs (autobahn-js's websocket transport negotiates its own). */
export function transportFor(url: string, serializer: RawsocketSerializer = "json"): TransportOptions {
  if (url.startsWith("ws://") || url.startsWith("wss://")) return { type: "websocket", url };
  const unix = /^(?:rawsocket\+)?unix:\/\/(\/.+)$/.exec(url);
  if (unix) return { type: registerRawsocket(serializer), path: unix[1] as string };
  const tcp = /^tcp:\/\/([^/:]+):(\d+)\/?$/.exec(url);
  if (tcp) return { type: registerRawsocket(serializer), host: tcp[1] as string, port: Number(tcp[2]) };
  throw new Error(`unsupported router URL ${url}`);
}
