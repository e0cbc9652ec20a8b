/** Maps the configured router URL onto autobahn-js transport options (wamp-authd's own transports). */
import type { Logger } from "../log/logger.js";
import type { Serializer } from "./codecs.js";
import { registerRawsocket } from "./rawsocket.js";
import { registerWebsocket } from "./websocket.js";

export type TransportOptions =
  | { type: string; url: string; log: Logger }
  | { type: string; path: string; log: Logger }
  | { type: string; host: string; port: number; log: Logger };

/** `log` receives the frames the transport had to reject (structured, without their payload). */
export function transportFor(url: string, serializer: Serializer, log: Logger): TransportOptions {
  if (url.startsWith("ws://") || url.startsWith("wss://")) return { type: registerWebsocket(serializer), url, log };
  const unix = /^(?:rawsocket\+)?unix:\/\/(\/.+)$/.exec(url);
  if (unix) return { type: registerRawsocket(serializer), path: unix[1] as string, log };
  const tcp = /^tcp:\/\/([^/:]+):(\d+)\/?$/.exec(url);
  if (tcp) return { type: registerRawsocket(serializer), host: tcp[1] as string, port: Number(tcp[2]), log };
  throw new Error(`unsupported router URL ${url}`);
}
