/**
 * Child process: a wamp-authd-like session on the router's privileged unix-socket transport
 * (autobahn-js rawsocket, JSON, role `authd`) that registers the floor's procedures:
 * - `bench.noop`: the procedure every benchmark client calls; returns nothing.
 * - `bench.noop_authorize`: an authorizer that does no work (allow, no cache); the floor of
 *   dynamic authorization itself.
 */
import "./quietConsole.js";
import { autobahn } from "../src/router/wamp.js";

const [socketPath, realm] = process.argv.slice(2) as [string, string];
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
    await session.register("bench.noop", () => null);
    await session.register("bench.noop_authorize", () => ALLOW);
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
