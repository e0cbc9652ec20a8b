/**
 * The LISTEN connection dies silently (a NAT or proxy stops forwarding without closing it): the
 * keepalive notices, /readyz turns 503, and once connections go through again the listener is back
 * and a change made meanwhile is applied. The service reaches Postgres through a small TCP proxy
 * in this test that can black-hole the listener's connections (recognised by the application_name
 * in their startup message); the pool's connections keep working, as they would behind a NAT that
 * dropped one idle connection.
 */
import assert from "node:assert/strict";
import { createServer, connect, type Server, type Socket } from "node:net";
import { after, before, describe, it } from "node:test";
import type { Service } from "../../src/service.js";
import { freePort } from "../../devstack/ports.js";
import * as admin from "../../src/store/adminQueries.js";
import { httpStatus, maySubscribe, ticketLogin } from "../helpers/client.js";
import { capturedLogger, waitFor } from "../helpers/logCapture.js";
import { userWithTicket } from "../helpers/seed.js";
import { startStack, type Stack } from "../helpers/stack.js";

interface Proxy {
  url: string;
  /** Stop forwarding the LISTEN connections (open ones and new ones) without closing anything. */
  freezeListen(): void;
  resume(): void;
  /** Frozen listener connections the client side closed (destroyed) since. */
  closedWhileFrozen: number;
  close(): Promise<void>;
}

async function startProxy(target: string): Promise<Proxy> {
  const t = new URL(target);
  const sockets = new Set<Socket>();
  let frozen = false;
  const listeners = new Set<Socket>(); // client sockets of LISTEN connections
  const black = new Set<Socket>(); // client sockets whose traffic goes nowhere
  const state = { closedWhileFrozen: 0 };
  const server: Server = createServer((client) => {
    const upstream = connect({ host: t.hostname, port: Number(t.port) });
    sockets.add(client).add(upstream);
    let sniffed = false;
    client.on("data", (d: Buffer) => {
      if (!sniffed) {
        sniffed = true;
        // The startup message carries application_name in the clear (no TLS on this loopback link).
        if (d.includes("wamp-authd-listen")) listeners.add(client);
      }
      if (frozen && listeners.has(client)) black.add(client);
      if (!black.has(client)) upstream.write(d);
    });
    upstream.on("data", (d: Buffer) => {
      if (frozen && listeners.has(client)) black.add(client);
      if (!black.has(client)) client.write(d);
    });
    const done = () => {
      if (black.has(client)) state.closedWhileFrozen++;
      black.delete(client);
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on("close", done).on("error", () => undefined);
    // A black-holed connection must not learn that the server side went away either.
    upstream.on("close", () => (black.has(client) ? undefined : done())).on("error", () => undefined);
  });
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, "127.0.0.1", r));
  const url = new URL(target);
  url.hostname = "127.0.0.1";
  url.port = String(port);
  return {
    url: url.toString(),
    freezeListen() {
      frozen = true;
      for (const c of listeners) black.add(c);
    },
    resume() {
      frozen = false; // new connections go through again; the frozen ones stay dead
    },
    get closedWhileFrozen() {
      return state.closedWhileFrozen;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

describe("LISTEN keepalive (a connection cut without closing, through a TCP proxy)", () => {
  let stack: Stack;
  let proxy: Proxy;
  let service: Service;
  let readyz: string;
  const logs = capturedLogger("info");
  const KEEPALIVE_MS = 300;
  const DEADLINE_MS = 700;

  before(async () => {
    stack = await startStack({ realms: { app: ["user"] } });
    const db = stack.store.pool;
    await admin.addRealm(db, "app");
    await admin.addRole(db, "app", "user");
    await admin.grant(db, "app", "user", { uri: "com.example.", match: "prefix", allow: ["subscribe"] });
    await userWithTicket(db, { realm: "app", authid: "alice", role: "user" }, "alice-ticket");
    await stack.service!.stop(); // replaced by one that reaches Postgres through the proxy
    proxy = await startProxy(stack.store.url);
    const httpPort = await freePort();
    readyz = `http://127.0.0.1:${httpPort}/readyz`;
    service = await stack.startService(
      {
        database: { url: proxy.url, listenKeepaliveMs: KEEPALIVE_MS, listenKeepaliveDeadlineMs: DEADLINE_MS },
        http: { port: httpPort },
      },
      logs.log,
    );
    await stack.ready(service);
  });

  after(async () => {
    await stack?.stop();
    await proxy?.close();
  });

  it("/readyz 503 within the deadline, then back, and the change made meanwhile is applied", { timeout: 90_000 }, async () => {
    const alice = await ticketLogin(stack.wsUrl, "app", "alice", "alice-ticket");
    try {
      await waitFor("/readyz 200", async () => (await httpStatus(readyz)) === 200, 10_000);
      assert.equal(await maySubscribe(alice, "com.example.a"), true);
      assert.equal(await maySubscribe(alice, "com.fresh.x"), false);

      proxy.freezeListen();
      // Made while the listener's connection is dead: its NOTIFY goes nowhere.
      await admin.grant(stack.store.pool, "app", "user", { uri: "com.fresh.", match: "prefix", allow: ["subscribe"] });
      const t503 = await waitFor("/readyz 503", async () => (await httpStatus(readyz)) === 503, KEEPALIVE_MS + DEADLINE_MS + 3000, 50);
      console.log(`LISTEN connection cut: /readyz 503 after ${t503} ms (keepalive ${KEEPALIVE_MS} ms, deadline ${DEADLINE_MS} ms)`);
      const body = JSON.parse(await (await fetch(readyz)).text()) as Record<string, unknown>;
      assert.equal(body.listener, false);
      assert.equal(body.store, true, "the pool still answers: only the listener is down");
      assert.equal(await maySubscribe(alice, "com.fresh.y"), false, "the change has not arrived");
      await waitFor("the dead connection destroyed by the service", () => proxy.closedWhileFrozen >= 1, 5000);

      proxy.resume();
      const t200 = await waitFor("/readyz 200 again", async () => (await httpStatus(readyz)) === 200, 20_000, 100);
      console.log(`forwarding resumed: /readyz 200 after ${t200} ms`);
      await waitFor("the grant made while the listener was cut", () => maySubscribe(alice, "com.fresh.z"), 10_000, 200);

      // Listening again: a later change arrives by notification.
      await admin.grant(stack.store.pool, "app", "user", { uri: "com.later.", match: "prefix", allow: ["subscribe"] });
      await waitFor("a grant made after recovery", () => maySubscribe(alice, "com.later.x"), 5000, 100);

      const lost = logs.records().filter((r) => r.msg === "change listener lost its connection; reconnecting");
      assert.ok(
        lost.some((r) => /^keepalive: no answer within 700 ms$/.test(String(r.why))),
        `the keepalive names the reason: ${JSON.stringify(lost)}`,
      );

      // Shutting down does not wait for a goodbye a dead connection never sends.
      proxy.freezeListen();
      const t0 = Date.now();
      await service.stop();
      assert.ok(Date.now() - t0 < 5000, `stopped in ${Date.now() - t0} ms with the LISTEN connection cut`);
    } finally {
      alice.close();
    }
  });
});
