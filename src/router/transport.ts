/** Maps the configured router URL onto autobahn-js transport options. */
export type TransportOptions =
  | { type: "websocket"; url: string }
  | { type: "rawsocket"; path: string }
  | { type: "rawsocket"; host: string; port: number };

export function transportFor(url: string): TransportOptions {
  if (url.startsWith("ws://") || url.startsWith("wss://")) return { type: "websocket", url };
  const unix = /^(?:rawsocket\+)?unix:\/\/(\/.+)$/.exec(url);
  if (unix) return { type: "rawsocket", path: unix[1] as string };
  const tcp = /^tcp:\/\/([^/:]+):(\d+)\/?$/.exec(url);
  if (tcp) return { type: "rawsocket", host: tcp[1] as string, port: Number(tcp[2]) };
  throw new Error(`unsupported router URL ${url}`);
}
