import assert from "node:assert/strict";
import { routeAutobahnLog } from "../../src/router/autobahnLog.js";
import { autobahn, type WampConnection, type WampSession } from "../../src/router/wamp.js";
import { quietLog } from "./db.js";

// autobahn's console warnings on every disconnect/reconnect would fill the test output.
routeAutobahnLog(quietLog);

export interface Joined {
  session: WampSession & {
    subscribe(topic: string, handler: (...a: unknown[]) => void, options?: Record<string, unknown>): Promise<unknown>;
    publish(topic: string, args?: unknown[], kwargs?: Record<string, unknown>, options?: Record<string, unknown>): Promise<unknown>;
  };
  welcome: {
    authid: string;
    authrole: string;
    authmethod: string;
    authprovider: string;
    authextra: Record<string, unknown>;
    realm?: string;
  };
  connection: WampConnection;
  /** Resolves with the close reason/details when the session ends (e.g. killed by the router). */
  closed: Promise<{ reason: string; details: { reason?: string; message?: string } }>;
  close(): void;
}

export class Aborted extends Error {
  constructor(
    readonly reason: string,
    readonly abortMessage: string,
  ) {
    super(`aborted: ${reason} ${abortMessage}`);
  }
}

export interface ClientOptions {
  url: string;
  realm: string;
  authmethods?: string[];
  authid?: string;
  authextra?: Record<string, unknown>;
  onchallenge?: (session: unknown, method: string, extra: Record<string, unknown>) => string;
  timeoutMs?: number;
}

/** Connects a real autobahn-js client once (no retries): resolves on WELCOME, rejects with Aborted on ABORT. */
export function connect(o: ClientOptions): Promise<Joined> {
  return new Promise((resolve, reject) => {
    const connection = new autobahn.Connection({
      use_es6_promises: true,
      url: o.url,
      realm: o.realm,
      authmethods: o.authmethods,
      authid: o.authid,
      authextra: o.authextra,
      onchallenge: o.onchallenge,
      max_retries: 0,
      retry_if_unreachable: false,
    });
    let joined = false;
    let onClosed: (v: { reason: string; details: { reason?: string; message?: string } }) => void = () => undefined;
    const closed = new Promise<{ reason: string; details: { reason?: string; message?: string } }>((r) => (onClosed = r));
    const timer = setTimeout(() => {
      reject(new Error(`no WELCOME or ABORT within ${o.timeoutMs ?? 15000} ms`));
      connection.close();
    }, o.timeoutMs ?? 15000);
    connection.onopen = (session, details) => {
      joined = true;
      clearTimeout(timer);
      resolve({
        session: session,
        welcome: details as Joined["welcome"],
        connection,
        closed,
        close: () => {
          try {
            connection.close();
          } catch {
            // already closed
          }
        },
      });
    };
    connection.onclose = (reason, details) => {
      onClosed({ reason, details: { reason: details?.reason ?? undefined, message: details?.message ?? undefined } });
      if (!joined) {
        clearTimeout(timer);
        reject(new Aborted(details?.reason ?? reason, details?.message ?? ""));
      }
      return true;
    };
    connection.open();
  });
}

/** A ticket login. */
export function ticketLogin(url: string, realm: string, authid: string, ticket: string): Promise<Joined> {
  return connect({ url, realm, authmethods: ["ticket"], authid, onchallenge: () => ticket });
}

/** A ticket login whose ticket is a token (a JWT, an API token, a device ticket); the authid is optional. */
export function bearerLogin(url: string, realm: string, token: string, authid?: string): Promise<Joined> {
  return connect({ url, realm, authmethods: ["ticket"], ...(authid ? { authid } : {}), onchallenge: () => token });
}

/** Resolves with the close details, or rejects when the session is still open after `ms`. */
export function closedWithin(c: Joined, ms: number): Promise<{ reason: string; details: { reason?: string; message?: string } }> {
  return Promise.race([
    c.closed,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`session still open after ${ms} ms`)), ms)),
  ]);
}

/** The one login denial every refused credential gets: not_authorized, "authentication failed". */
export async function loginDenied(p: Promise<Joined>, what: string): Promise<void> {
  const a = await abortOf(p, what);
  assert.equal(a.reason, "wamp.error.not_authorized", what);
  assert.equal(a.abortMessage, "authentication failed", what);
}

/** The error URI a WAMP call/subscribe failed with. */
export async function errorOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    return String((err as { error?: unknown }).error ?? err);
  }
  throw new Error("expected the call to fail");
}

/** Resolves with the ABORT of a login that must fail; a login that succeeds is closed and fails the test. */
export async function abortOf(p: Promise<unknown>, what = "the login"): Promise<Aborted> {
  try {
    const joined = (await p) as Joined;
    joined.close();
  } catch (err) {
    if (err instanceof Aborted) return err;
    throw err;
  }
  throw new Error(`expected ${what} to be aborted`);
}

/** Does `c` get to subscribe to `topic`? (The router asks the authorizer every time.) Unsubscribes again. */
export async function maySubscribe(c: Joined, topic: string): Promise<boolean> {
  try {
    const sub = await c.session.subscribe(topic, () => undefined);
    await (c.session as unknown as { unsubscribe(s: unknown): Promise<unknown> }).unsubscribe(sub);
    return true;
  } catch (err) {
    if (String((err as { error?: unknown }).error ?? err) !== "wamp.error.not_authorized") throw err;
    return false;
  }
}

/** The HTTP status of a GET (0 when nothing answers within 2 s), for /readyz and friends. */
export async function httpStatus(url: string): Promise<number> {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(2000) })).status;
  } catch {
    return 0;
  }
}
