/**
 * A minimal WAMP ticket login over a hand-written WebSocket handshake (node:net), for tests that
 * need control over the raw HTTP request: e.g. the same header sent on two lines, which neither
 * autobahn client can do. JSON serializer, one login, then the socket is closed.
 */
import { randomBytes } from "node:crypto";
import { connect, type Socket } from "node:net";

export type RawResult = { welcome: { session: number; authid: string; authrole: string } } | { abort: string };

/** One client frame (clients must mask). */
function frame(text: string): Buffer {
  const payload = Buffer.from(text, "utf8");
  const mask = randomBytes(4);
  const len = payload.length;
  if (len >= 65536) throw new Error("frame too large for this helper");
  const head = len < 126 ? Buffer.from([0x81, 0x80 | len]) : Buffer.from([0x81, 0x80 | 126, len >> 8, len & 0xff]);
  const body = Buffer.alloc(len);
  for (let i = 0; i < len; i++) body[i] = payload[i]! ^ mask[i % 4]!;
  return Buffer.concat([head, mask, body]);
}

/** Complete server frames at the start of `buf` (servers do not mask): their text and the bytes used. */
function readFrames(buf: Buffer): { texts: string[]; used: number } {
  const texts: string[] = [];
  let at = 0;
  for (;;) {
    if (buf.length - at < 2) break;
    const opcode = buf[at]! & 0x0f;
    let len = buf[at + 1]! & 0x7f;
    let head = 2;
    if (len === 126) {
      if (buf.length - at < 4) break;
      len = buf.readUInt16BE(at + 2);
      head = 4;
    } else if (len === 127) {
      if (buf.length - at < 10) break;
      len = Number(buf.readBigUInt64BE(at + 2));
      head = 10;
    }
    if (buf.length - at < head + len) break;
    if (opcode === 1) texts.push(buf.subarray(at + head, at + head + len).toString("utf8"));
    at += head + len;
  }
  return { texts, used: at };
}

/**
 * Ticket login to `ws://host:port/path` with `headers` sent as given, one line per entry, in order.
 */
export function rawTicketLogin(
  url: string,
  realm: string,
  authid: string,
  ticket: string,
  headers: Array<[string, string]>,
  timeoutMs = 15_000,
): Promise<RawResult> {
  const u = new URL(url);
  return new Promise<RawResult>((resolve, reject) => {
    const socket: Socket = connect(Number(u.port), u.hostname);
    const timer = setTimeout(() => finish(new Error(`no WELCOME or ABORT within ${timeoutMs} ms`)), timeoutMs);
    let done = false;
    const finish = (r: RawResult | Error) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      if (r instanceof Error) reject(r);
      else resolve(r);
    };
    let buf = Buffer.alloc(0);
    let upgraded = false;
    socket.on("connect", () => {
      const lines = [
        `GET ${u.pathname} HTTP/1.1`,
        `Host: ${u.host}`,
        "Upgrade: websocket",
        "Connection: Upgrade",
        `Sec-WebSocket-Key: ${randomBytes(16).toString("base64")}`,
        "Sec-WebSocket-Version: 13",
        "Sec-WebSocket-Protocol: wamp.2.json",
        ...headers.map(([k, v]) => `${k}: ${v}`),
      ];
      socket.write(lines.join("\r\n") + "\r\n\r\n");
    });
    socket.on("data", (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (!upgraded) {
        const end = buf.indexOf("\r\n\r\n");
        if (end < 0) return;
        const status = buf.subarray(0, buf.indexOf("\r\n")).toString();
        if (!/^HTTP\/1\.1 101/.test(status)) return finish(new Error(`handshake refused: ${status}`));
        upgraded = true;
        buf = buf.subarray(end + 4);
        socket.write(frame(JSON.stringify([1, realm, { roles: { caller: {} }, authmethods: ["ticket"], authid }])));
      }
      const { texts, used } = readFrames(buf);
      buf = buf.subarray(used);
      for (const t of texts) {
        const msg = JSON.parse(t) as unknown[];
        if (msg[0] === 4) socket.write(frame(JSON.stringify([5, ticket, {}])));
        else if (msg[0] === 2) {
          const d = msg[2] as { authid: string; authrole: string };
          finish({ welcome: { session: msg[1] as number, authid: d.authid, authrole: d.authrole } });
        } else if (msg[0] === 3) finish({ abort: msg[2] as string });
      }
    });
    socket.on("error", (err) => finish(err));
    socket.on("close", () => finish(new Error("connection closed before WELCOME or ABORT")));
  });
}
