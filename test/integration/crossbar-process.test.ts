import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import autobahn from "autobahn";
import { crossbarConfig } from "../../devstack/crossbarConfig.js";
import { processGroupMembers, startCrossbar, type CrossbarHandle } from "../../devstack/crossbarProcess.js";
import { freePort } from "../../devstack/ports.js";
import { routeAutobahnLog } from "../../src/router/autobahnLog.js";
import { quietLog } from "../helpers/db.js";

// autobahn prints a warning on every disconnect; these tests close connections on purpose.
routeAutobahnLog(quietLog);

const ALLOW_ALL = [
  {
    uri: "",
    match: "prefix",
    allow: { call: true, register: true, publish: true, subscribe: true },
    disclose: { caller: true, publisher: true },
    cache: true,
  },
];

/** Opens an autobahn connection; resolves on join, rejects on ABORT / unreachable. No retries. */
function open(
  options: Omit<autobahn.ConnectionOptions, "use_es6_promises">,
): Promise<{ connection: autobahn.Connection; session: autobahn.Session; details: autobahn.WelcomeDetails }> {
  return new Promise((resolve, reject) => {
    const connection = new autobahn.Connection({
      use_es6_promises: true,
      max_retries: 0,
      retry_if_unreachable: false,
      on_user_error: () => undefined, // deliberate errors thrown by test endpoints
      ...options,
    });
    let joined = false;
    connection.onopen = (session, details) => {
      joined = true;
      resolve({ connection, session, details });
    };
    connection.onclose = (reason, details) => {
      if (!joined) reject(new Error(`connection ${reason}: ${String(details.reason)} ${String(details.message)}`));
      return true;
    };
    connection.open();
  });
}

function close(connection: autobahn.Connection): Promise<void> {
  return new Promise((resolve) => {
    if (!connection.isConnected) return resolve();
    connection.onclose = () => {
      resolve();
      return true;
    };
    connection.close();
  });
}

function tcpOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: "127.0.0.1", port });
    s.once("connect", () => (s.destroy(), resolve(true)));
    s.once("error", () => resolve(false));
  });
}

/** pids of live processes whose command line mentions `needle` (Linux /proc) */
function processesMentioning(needle: string): number[] {
  const out: number[] = [];
  for (const e of readdirSync("/proc")) {
    if (!/^\d+$/.test(e)) continue;
    try {
      if (readFileSync(`/proc/${e}/cmdline`, "utf8").includes(needle)) out.push(Number(e));
    } catch {
      // gone
    }
  }
  return out;
}

function assertGroupGone(pgid: number): void {
  assert.deepEqual(processGroupMembers(pgid), [], `process group ${pgid} still has live members`);
  // independent of /proc: the controller itself is gone (and reaped)
  assert.throws(
    () => process.kill(pgid, 0),
    (e: NodeJS.ErrnoException) => e.code === "ESRCH",
  );
}

describe("crossbar process (real Crossbar)", { timeout: 240_000 }, () => {
  let dir: string;
  let wsPort: number;
  let anonPort: number;
  let socketPath: string;
  let cb: CrossbarHandle | undefined;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "authd-cbtest-"));
    wsPort = await freePort();
    anonPort = await freePort();
    socketPath = join(dir, "authd.sock");
  });

  after(async () => {
    await cb?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("starts, serves a static-permission client, restarts, and stops without leftovers", async () => {
    const config = crossbarConfig({
      socketPath,
      wsPort,
      realms: [{ name: "app", roles: [{ name: "anonymous", permissions: ALLOW_ALL }] }],
      extraTransports: [
        {
          type: "websocket",
          endpoint: { type: "tcp", port: anonPort, interface: "127.0.0.1" },
          serializers: ["json"],
          auth: { anonymous: { type: "static", role: "anonymous" } },
        },
      ],
    });
    const t0 = Date.now();
    cb = await startCrossbar(config, { dir });
    const startMs = Date.now() - t0;
    const pid1 = cb.pid;
    assert.ok(pid1 > 0);
    assert.equal(cb.dir, dir);
    assert.ok(existsSync(join(dir, ".crossbar", "config.json")));
    assert.ok(existsSync(socketPath), "unix socket exists");
    assert.ok(await tcpOpen(wsPort), "public ws port open");
    assert.match(cb.logs(), /NODE_BOOT_COMPLETE/);
    assert.ok(processGroupMembers(pid1).length >= 2, "controller + router worker in the process group");

    // a real client: register + call
    const a = await open({ url: `ws://127.0.0.1:${anonPort}/`, realm: "app" });
    assert.equal(a.details.authrole, "anonymous");
    await a.session.register("com.example.add2", (args) => (args[0] as number) + (args[1] as number));
    assert.equal(await a.session.call<number>("com.example.add2", [2, 3]), 5);
    await assert.rejects(
      Promise.resolve(a.session.call("com.example.nope")),
      (e: autobahn.Error) => e instanceof autobahn.Error && e.error === "wamp.error.no_such_procedure",
    );
    await close(a.connection);

    // restart: same dir and ports, new process group; a client can connect again
    const t1 = Date.now();
    await cb.restart();
    const restartMs = Date.now() - t1;
    assertGroupGone(pid1);
    assert.notEqual(cb.pid, pid1);
    const b = await open({ url: `ws://127.0.0.1:${anonPort}/`, realm: "app" });
    await b.session.register("com.example.echo", (args) => args[0]);
    assert.equal(await b.session.call("com.example.echo", ["again"]), "again");
    await close(b.connection);

    const pid2 = cb.pid;
    await cb.stop();
    assertGroupGone(pid2);
    assert.equal(await tcpOpen(wsPort), false, "public port closed");
    assert.equal(await tcpOpen(anonPort), false, "extra port closed");
    assert.equal(existsSync(socketPath), false, "unix socket removed on clean shutdown");
    await cb.stop(); // idempotent
    assert.match(cb.logs(), /restarting/);
    console.log(`crossbar start ${startMs} ms, restart ${restartMs} ms`);
  });

  it("generated config: service on the unix socket, dynamic ticket auth and authorizer", async () => {
    const config = crossbarConfig({
      socketPath,
      wsPort,
      realms: [{ name: "app", roles: [{ name: "user", authorizer: "authd.authorize" }] }],
    });
    cb = await startCrossbar(config, { dir });

    const authCalls: unknown[][] = [];
    const authzCalls: unknown[][] = [];
    const svcAuth = await open({ transports: [{ type: "rawsocket", path: socketPath }], realm: "authd" });
    assert.equal(svcAuth.details.authrole, "authd");
    const authenticate = (args: unknown[], _kw: Record<string, unknown>, inv: autobahn.Invocation) => {
      authCalls.push([...args, inv.caller_authrole]);
      const details = args[2] as { ticket?: string };
      if (details.ticket !== "s3cret") throw new autobahn.Error("com.example.invalid_ticket", ["bad ticket"]);
      return { role: "user", extra: { via: "authd" } };
    };
    await svcAuth.session.register("authd.authenticate", authenticate, { invoke: "roundrobin" });
    // a second registrant with the same policy is accepted (several authd instances)
    await svcAuth.session.register("authd.authenticate", authenticate, { invoke: "roundrobin" });
    // meta API allowed for the service role
    assert.equal(typeof (await svcAuth.session.call("wamp.session.count")), "number");
    // but nothing else
    await assert.rejects(
      Promise.resolve(svcAuth.session.register("authd.other", () => null)),
      (e: autobahn.Error) => e.error === "wamp.error.not_authorized",
    );

    const svcApp = await open({ transports: [{ type: "rawsocket", path: socketPath }], realm: "app" });
    await svcApp.session.register(
      "authd.authorize",
      (args) => {
        authzCalls.push(args);
        const uri = args[1] as string;
        return { allow: uri.startsWith("com.example."), disclose: false, cache: false };
      },
      { invoke: "roundrobin" },
    );
    await svcApp.session.subscribe("wamp.session.on_join", () => undefined);

    const user = await open({
      url: `ws://127.0.0.1:${wsPort}/ws`,
      realm: "app",
      authmethods: ["ticket"],
      authid: "alice",
      onchallenge: () => "s3cret",
    });
    assert.equal(user.details.authrole, "user");
    assert.equal(user.details.authmethod, "ticket");
    assert.equal(user.details.authprovider, "dynamic");
    assert.equal(user.details.authextra?.["via"], "authd");
    const [realm, authid, details, callerRole] = authCalls[0] as [string, string, Record<string, unknown>, string];
    assert.equal(realm, "app");
    assert.equal(authid, "alice");
    assert.equal(details["authmethod"], "ticket");
    assert.equal(callerRole, "trusted");

    await user.session.register("com.example.hello", () => "hi");
    assert.equal(await user.session.call("com.example.hello"), "hi");
    await assert.rejects(
      Promise.resolve(user.session.call("org.other.thing")),
      (e: autobahn.Error) => e.error === "wamp.error.not_authorized",
    );
    const [sessionDetails, uri, action] = authzCalls[0] as [Record<string, unknown>, string, string];
    assert.equal(sessionDetails["authid"], "alice");
    assert.equal(uri, "com.example.hello");
    assert.equal(action, "register");
    await close(user.connection);

    await assert.rejects(
      open({ url: `ws://127.0.0.1:${wsPort}/ws`, realm: "app", authmethods: ["ticket"], authid: "bob", onchallenge: () => "wrong" }),
      /com\.example\.invalid_ticket/,
    );

    await close(svcApp.connection);
    await close(svcAuth.connection);
    const pid = cb.pid;
    await cb.stop();
    assertGroupGone(pid);
  });

  it("rejects with the log tail when Crossbar cannot start", async () => {
    const badDir = await mkdtemp(join(tmpdir(), "authd-cbbad-"));
    try {
      // port taken by the test's own listener -> the transport cannot start
      const port = await freePort();
      const { createServer } = await import("node:net");
      const blocker = createServer().listen(port, "127.0.0.1");
      await new Promise((r) => blocker.once("listening", r));
      try {
        const config = crossbarConfig({ socketPath: join(badDir, "s.sock"), wsPort: port, realms: [] });
        await assert.rejects(startCrossbar(config, { dir: badDir, timeoutMs: 60_000 }), (e: Error) => {
          assert.match(e.message, /crossbar did not become ready/);
          assert.match(e.message, /last \d+ log lines/);
          return true;
        });
        assert.deepEqual(processesMentioning(badDir), [], "no crossbar process left behind");
      } finally {
        blocker.close();
      }
    } finally {
      await rm(badDir, { recursive: true, force: true });
    }
  });
});
