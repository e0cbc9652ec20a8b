/**
 * A scripted WAMP router for wire-level tests of wamp-authd's own transports: it speaks the
 * rawsocket handshake on a Unix socket (or a WebSocket upgrade on 127.0.0.1), answers HELLO and
 * REGISTER, records every YIELD / ERROR by request id, and lets a test push arbitrary frames.
 * Not a stand-in for Crossbar in integration tests: it only exercises framing and decoding.
 */
import { isUtf8 } from "node:buffer";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer as createHttpServer, type Server as HttpServer } from "node:http";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Duplex } from "node:stream";
import { decode, encode } from "../../src/router/msgpack.js";

export type FakeSerializer = "json" | "msgpack";

export interface FakeRouter {
  /** router URL for wamp-authd's config */
  url: string;
  /** connections accepted / ended so far */
  readonly connections: number;
  readonly closes: number;
  /** YIELD / ERROR(INVOCATION) messages the client sent, by request id */
  readonly replies: Map<number, unknown[][]>;
  /** every other message the client sent after REGISTER (e.g. GOODBYE) */
  readonly others: unknown[][];
  /** registration id of a procedure the client registered */
  registrationOf(procedure: string): number | undefined;
  /** sends one WAMP frame with this exact payload to the live connection */
  sendPayload(payload: Buffer): void;
  /** encodes a message with the link's serializer */
  encode(msg: unknown): Buffer;
  /** drops every connection and stops listening (the router is down) */
  pause(): Promise<void>;
  /** listens again on the same address */
  resume(): Promise<void>;
  close(): Promise<void>;
}

interface Conn {
  send(payload: Buffer): void;
}

export async function startFakeRouter(kind: "rawsocket" | "websocket", serializer: FakeSerializer): Promise<FakeRouter> {
  const replies = new Map<number, unknown[][]>();
  const others: unknown[][] = [];
  const registrations = new Map<string, number>();
  let connections = 0;
  let closes = 0;
  let live: Conn | null = null;
  const sockets = new Set<Socket | Duplex>();
  const enc = (msg: unknown): Buffer => (serializer === "json" ? Buffer.from(JSON.stringify(msg)) : encode(msg));
  const dec = (payload: Buffer): unknown[] => (serializer === "json" ? JSON.parse(payload.toString()) : decode(payload)) as unknown[];

  const onMessage = (conn: Conn, payload: Buffer) => {
    const msg = dec(payload);
    switch (msg[0]) {
      case 1: // HELLO
        conn.send(enc([2, 4711, { realm: msg[1], roles: { dealer: { features: {} }, broker: { features: {} } } }]));
        return;
      case 64: {
        // REGISTER
        const id = 1000 + registrations.size;
        registrations.set(msg[3] as string, id);
        conn.send(enc([65, msg[1], id]));
        return;
      }
      case 70: // YIELD
      case 8: {
        // ERROR
        const id = (msg[0] === 70 ? msg[1] : msg[2]) as number;
        const list = replies.get(id) ?? [];
        list.push(msg);
        replies.set(id, list);
        return;
      }
      case 6: // GOODBYE
        conn.send(enc([6, {}, "wamp.close.goodbye_and_out"]));
        others.push(msg);
        return;
      default:
        others.push(msg);
    }
  };

  const dir = mkdtempSync(join(tmpdir(), "authd-fakerouter-"));
  let server: Server | HttpServer;
  let url: string;
  let listen: () => Promise<void>;
  if (kind === "rawsocket") {
    const path = join(dir, "router.sock");
    server = createServer((socket) => {
      connections++;
      sockets.add(socket);
      let buf = Buffer.alloc(0);
      let open = false;
      const conn: Conn = {
        send(payload) {
          const head = Buffer.alloc(4);
          head.writeUIntBE(payload.length, 1, 3);
          socket.write(Buffer.concat([head, payload]));
        },
      };
      live = conn;
      socket.on("data", (chunk: Buffer) => {
        buf = Buffer.concat([buf, chunk]);
        if (!open) {
          if (buf.length < 4) return;
          // Accept the client's serializer, max message length 2^24.
          socket.write(Buffer.from([0x7f, 0xf0 | ((buf[1] as number) & 0x0f), 0, 0]));
          buf = buf.subarray(4);
          open = true;
        }
        while (buf.length >= 4) {
          const len = buf.readUIntBE(1, 3);
          if (buf.length < 4 + len) break;
          const type = (buf[0] as number) & 7;
          const payload = buf.subarray(4, 4 + len);
          buf = buf.subarray(4 + len);
          if (type === 0) onMessage(conn, payload);
        }
      });
      socket.on("error", () => undefined);
      socket.on("close", () => {
        closes++;
        sockets.delete(socket);
        if (live === conn) live = null;
      });
    });
    listen = () => new Promise<void>((r) => server.listen(path, r));
    await listen();
    url = `rawsocket+unix://${path}`;
  } else {
    const protocol = `wamp.2.${serializer}`;
    const http = createHttpServer((_req, res) => res.writeHead(426).end());
    http.on("upgrade", (req, socket: Duplex) => {
      connections++;
      sockets.add(socket);
      const offered = String(req.headers["sec-websocket-protocol"] ?? "")
        .split(",")
        .map((s) => s.trim());
      const key = String(req.headers["sec-websocket-key"] ?? "");
      const accept = createHash("sha1").update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest("base64");
      socket.write(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
          `Sec-WebSocket-Accept: ${accept}\r\n` +
          (offered.includes(protocol) ? `Sec-WebSocket-Protocol: ${protocol}\r\n` : "") +
          "\r\n",
      );
      const wsFrame = (opcode: number, payload: Buffer): Buffer => {
        const n = payload.length;
        const head = n < 126 ? Buffer.from([0x80 | opcode, n]) : n < 65536 ? Buffer.alloc(4) : Buffer.alloc(10);
        if (n >= 126) {
          head[0] = 0x80 | opcode;
          if (n < 65536) {
            head[1] = 126;
            head.writeUInt16BE(n, 2);
          } else {
            head[1] = 127;
            head.writeBigUInt64BE(BigInt(n), 2);
          }
        }
        return Buffer.concat([head, payload]);
      };
      const conn: Conn = {
        // JSON goes as a text frame unless it is not UTF-8 (a text frame must be: the client would fail the connection).
        send: (payload) => socket.write(wsFrame(serializer === "json" && isUtf8(payload) ? 1 : 2, payload)),
      };
      live = conn;
      let buf = Buffer.alloc(0);
      socket.on("data", (chunk: Buffer) => {
        buf = Buffer.concat([buf, chunk]);
        for (;;) {
          if (buf.length < 2) return;
          const opcode = (buf[0] as number) & 0x0f;
          let len = (buf[1] as number) & 0x7f;
          let p = 2;
          if (len === 126) {
            if (buf.length < 4) return;
            len = buf.readUInt16BE(2);
            p = 4;
          } else if (len === 127) {
            if (buf.length < 10) return;
            len = Number(buf.readBigUInt64BE(2));
            p = 10;
          }
          if (buf.length < p + 4 + len) return;
          const mask = buf.subarray(p, p + 4);
          const payload = Buffer.from(buf.subarray(p + 4, p + 4 + len));
          for (let i = 0; i < payload.length; i++) payload[i] = (payload[i] as number) ^ (mask[i % 4] as number);
          buf = buf.subarray(p + 4 + len);
          if (opcode === 1 || opcode === 2) onMessage(conn, payload);
          else if (opcode === 8) {
            socket.write(wsFrame(8, payload.subarray(0, 2)));
            socket.end();
          } else if (opcode === 9) socket.write(wsFrame(10, payload));
        }
      });
      socket.on("error", () => undefined);
      socket.on("close", () => {
        closes++;
        sockets.delete(socket);
        if (live === conn) live = null;
      });
    });
    await new Promise<void>((r) => http.listen(0, "127.0.0.1", r));
    server = http;
    const address = http.address();
    const port = typeof address === "object" && address ? address.port : 0;
    listen = () => new Promise<void>((r) => http.listen(port, "127.0.0.1", r));
    url = `ws://127.0.0.1:${port}/ws`;
  }

  return {
    url,
    get connections() {
      return connections;
    },
    get closes() {
      return closes;
    },
    replies,
    others,
    registrationOf: (procedure) => registrations.get(procedure),
    sendPayload(payload) {
      if (!live) throw new Error("fake router: no live connection");
      live.send(payload);
    },
    encode: enc,
    async pause() {
      const closed = new Promise<void>((r) => server.close(() => r()));
      for (const s of sockets) s.destroy();
      await closed;
    },
    resume: () => listen(),
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
