/**
 * A hostile WAMP client: raw text frames over Node's WebSocket (subprotocol wamp.2.json), so a
 * test can send what autobahn-js never would — Python's NaN / Infinity tokens, odd options, floods.
 */
import { parseJson } from "../../src/router/json.js";

export class RawWamp {
  readonly received: unknown[][] = [];
  private waiters: Array<() => void> = [];
  closed = false;
  closeInfo: { code: number; reason: string } | null = null;

  private constructor(private readonly ws: WebSocket) {
    ws.onmessage = (evt: MessageEvent) => {
      try {
        this.received.push(parseJson(String(evt.data)) as unknown[]);
      } catch {
        this.received.push(["unparseable", String(evt.data).slice(0, 200)]);
      }
      this.wake();
    };
    ws.onclose = (evt: { code: number; reason: string }) => {
      this.closed = true;
      this.closeInfo = { code: evt.code, reason: evt.reason };
      this.wake();
    };
  }

  static open(url: string, timeoutMs = 5000): Promise<RawWamp> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, ["wamp.2.json"]);
      const timer = setTimeout(() => {
        ws.close();
        reject(new Error("WebSocket did not open in time"));
      }, timeoutMs);
      ws.onopen = () => {
        clearTimeout(timer);
        resolve(new RawWamp(ws));
      };
      ws.onerror = () => {
        clearTimeout(timer);
        reject(new Error("WebSocket failed to open"));
      };
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Sends one text frame as is. */
  send(text: string): void {
    if (!this.closed) this.ws.send(text);
  }

  /** The first received message (from `from` on) matching, or null once closed or after timeoutMs. */
  async next(match: (m: unknown[]) => boolean, timeoutMs = 10_000, from = 0): Promise<unknown[] | null> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.received.slice(from).find(match);
      if (hit) return hit;
      if (this.closed || Date.now() >= until) return null;
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.max(1, until - Date.now()));
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  close(): void {
    try {
      this.ws.close();
    } catch {
      // already closing
    }
  }
}

/** HELLO text for a ticket login into `realm`; `authextra` is spliced in verbatim (it may hold NaN). */
export function helloText(realm: string, authid: string, authextra = "{}"): string {
  return `[1,${JSON.stringify(realm)},{"roles":{"caller":{},"callee":{},"publisher":{},"subscriber":{}},"authmethods":["ticket"],"authid":${JSON.stringify(authid)},"authextra":${authextra}}]`;
}

/**
 * A ticket login with raw frames: HELLO, CHALLENGE, AUTHENTICATE. Resolves with the WELCOME or
 * ABORT message, or null when the router answered neither within timeoutMs.
 */
export async function rawTicketLogin(c: RawWamp, hello: string, ticket: string, timeoutMs = 10_000): Promise<unknown[] | null> {
  c.send(hello);
  const first = await c.next((m) => m[0] === 4 || m[0] === 2 || m[0] === 3, timeoutMs);
  if (!first || first[0] !== 4) return first;
  c.send(`[5,${JSON.stringify(ticket)},{}]`);
  return c.next((m) => m[0] === 2 || m[0] === 3, timeoutMs);
}
