/**
 * The dev stack's demo backend: an autobahn-js session that logs in through wamp-authd like any
 * client (user demo-backend, role backend, examples/demo/data/0003_demo_backend.sql) and registers
 * demo.hello and demo.add2, so a new user's first allowed call returns something.
 */
import type { Logger } from "../src/log/logger.js";
import { autobahn, type WampConnection } from "../src/router/wamp.js";

export const DEMO_BACKEND = { authid: "demo-backend", ticket: "backend-secret" } as const;

const INVALID = "demo.error.invalid_argument";

/** demo.hello([name]): a greeting. Arguments come from any caller: checked, never trusted. */
function hello(args: unknown[]): string {
  const name = args[0] ?? "world";
  if (typeof name !== "string" || name.length === 0 || name.length > 100)
    throw new autobahn.Error(INVALID, ["name must be a string of 1 to 100 characters"]);
  return `Hello, ${name}!`;
}

/** demo.add2([a, b]): the sum of two finite numbers. */
function add2(args: unknown[]): number {
  const [a, b] = args;
  if (args.length !== 2 || typeof a !== "number" || typeof b !== "number" || !Number.isFinite(a) || !Number.isFinite(b))
    throw new autobahn.Error(INVALID, ["expected two finite numbers"]);
  return a + b;
}

export interface DemoCallee {
  stop(): Promise<void>;
}

/** Resolves once both procedures are registered; the session reconnects (and re-registers) by itself. */
export function startDemoCallee(o: { url: string; realm: string; log: Logger; timeoutMs?: number }): Promise<DemoCallee> {
  return new Promise((resolve, reject) => {
    let stopping = false;
    let first = true;
    const connection: WampConnection = new autobahn.Connection({
      use_es6_promises: true,
      url: o.url,
      realm: o.realm,
      authmethods: ["ticket"],
      authid: DEMO_BACKEND.authid,
      onchallenge: () => DEMO_BACKEND.ticket,
      max_retries: -1,
      max_retry_delay: 2,
      // A caller's bad arguments are its error, already answered; nothing to print.
      on_user_error: (err: unknown) => {
        if (!(err instanceof autobahn.Error)) o.log.error({ err: String(err) }, "demo callee handler failed");
      },
    });
    const timer = setTimeout(() => {
      stopping = true;
      connection.close();
      reject(new Error(`the demo callee could not register within ${o.timeoutMs ?? 30_000} ms`));
    }, o.timeoutMs ?? 30_000);
    const stop = () =>
      new Promise<void>((done) => {
        stopping = true;
        if (!connection.isOpen) return done();
        connection.onclose = () => {
          done();
          return true;
        };
        connection.close();
      });
    connection.onopen = (session) => {
      void Promise.all([session.register("demo.hello", hello), session.register("demo.add2", add2)]).then(
        () => {
          o.log.info({ realm: o.realm, procedures: ["demo.hello", "demo.add2"] }, "demo callee registered");
          if (first) {
            first = false;
            clearTimeout(timer);
            resolve({ stop });
          }
        },
        (err: unknown) => o.log.error({ err: JSON.stringify(err) }, "demo callee could not register"),
      );
    };
    connection.onclose = (reason) => {
      if (stopping) return true;
      o.log.warn({ reason }, "demo callee lost its session; reconnecting");
      return false;
    };
    connection.open();
  });
}
