/**
 * Child process: a wamp-authd-like session on the router's privileged unix-socket transport
 * (autobahn-js rawsocket, JSON, role `authd`) that registers the floor's procedures:
 * - `bench.noop`: the procedure every benchmark client calls; returns nothing.
 * - `bench.noop_authorize`: an authorizer that does no work (allow, no cache); the floor of
 *   dynamic authorization itself.
 * With a third argument `authenticate` (in the authenticator realm) it registers only
 * - `bench.noop_authenticate`: an authenticator that does no work (role `user` for the authid the
 *   client named); the floor of dynamic authentication itself.
 */
import "./quietConsole.js";
import { autobahn } from "../src/router/wamp.js";

const [socketPath, realm, mode] = process.argv.slice(2) as [string, string, string | undefined];
const ALLOW = { allow: true, disclose: false, cache: false };
const connection = new autobahn.Connection({
  use_es6_promises: true,
  transports: [{ type: "rawsocket", path: socketPath }],
  realm,
  authmethods: ["anonymous"],
  max_retries: 10,
});
connection.onopen = (session) => {
  void (async () => {
    if (mode === "authenticate") {
      await session.register("bench.noop_authenticate", (args) => ({ role: "user", authid: args?.[1] ?? "noop" }));
    } else {
      await session.register("bench.noop", () => null);
      await session.register("bench.noop_authorize", () => ALLOW);
    }
    process.send?.({ type: "ready" });
  })().catch((err: unknown) => {
    process.send?.({ type: "error", message: String((err as { error?: unknown }).error ?? err) });
  });
};
connection.open();
process.on("message", (m: { cmd: string }) => {
  if (m.cmd === "stop") {
    connection.close();
    process.exit(0);
  }
});
process.on("disconnect", () => process.exit(0));
