/**
 * Postgres going away and coming back (a private cluster, stopped and started by the test), with a
 * real Crossbar and two wamp-authd instances: one serving realm `app` with authorize.whenStoreDown
 * serve-stale, one serving realm `app2` with fail-closed (both answer authd.authenticate).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type pg from "pg";
import type { Service } from "../../src/service.js";
import { createDatabase, startPrivatePostgres, type PrivatePostgres } from "../../devstack/postgres.js";
import { freePort } from "../../devstack/ports.js";
import * as admin from "../../src/store/adminQueries.js";
import { migrate } from "../../src/store/migrate.js";
import { createPool } from "../../src/store/pool.js";
import { Aborted, httpStatus, maySubscribe, ticketLogin } from "../helpers/client.js";
import { quietLog } from "../helpers/db.js";
import { capturedLogger, waitFor } from "../helpers/logCapture.js";
import { userWithTicket } from "../helpers/seed.js";
import { startStack, type Stack } from "../helpers/stack.js";

describe("Postgres down and back (private cluster, real Crossbar)", () => {
  let priv: PrivatePostgres;
  let db: pg.Pool;
  let dbUrl: string;
  let stack: Stack;
  let stale: Service;
  let closed: Service;
  let readyz: string;
  const logs = capturedLogger("info");

  before(async () => {
    priv = await startPrivatePostgres();
    const created = await createDatabase(priv.adminUrl, "authd_faults");
    dbUrl = created.url;
    db = createPool(dbUrl, quietLog, 3);
    db.on("error", () => undefined);
    await migrate(db, quietLog);
    for (const realm of ["app", "app2"]) {
      await admin.addRealm(db, realm);
      await admin.addRole(db, realm, "user");
      await admin.grant(db, realm, "user", { uri: "com.example.", match: "prefix", allow: ["call", "register", "subscribe"] });
    }
    await userWithTicket(db, { realm: "app", authid: "alice", role: "user" }, "alice-ticket");
    await userWithTicket(db, { realm: "app2", authid: "bob", role: "user" }, "bob-ticket");

    const httpPort = await freePort();
    readyz = `http://127.0.0.1:${httpPort}/readyz`;
    stack = await startStack({
      realms: { app: ["user"], app2: ["user"] },
      service: { database: { url: dbUrl }, router: { realms: ["app"] }, http: { port: httpPort } },
      log: logs.log,
    });
    stale = stack.service!;
    closed = await stack.startService({ router: { realms: ["app2"] }, http: { port: 0 }, authorize: { whenStoreDown: "fail-closed" } });
    await stack.ready(closed);
  });

  after(async () => {
    await stack?.stop();
    await db?.end().catch(() => undefined);
    await priv?.destroy();
  });

  it(
    "denies logins with a clear reason, /readyz 503, serves stale or fails closed, and recovers (LISTEN + full reload)",
    { timeout: 120_000 },
    async () => {
      const alice = await ticketLogin(stack.wsUrl, "app", "alice", "alice-ticket");
      const bob = await ticketLogin(stack.wsUrl, "app2", "bob", "bob-ticket");
      try {
        assert.equal(await httpStatus(readyz), 200);
        assert.equal(await maySubscribe(alice, "com.example.a"), true);
        assert.equal(await maySubscribe(bob, "com.example.b"), true);

        await priv.stop();
        const t503 = await waitFor("/readyz 503", async () => (await httpStatus(readyz)) === 503, 15_000);
        await waitFor("both instances to notice the store is gone", () => !stale.storeReachable && !closed.storeReachable, 15_000);
        console.log(`store down: /readyz 503 after ${t503} ms`);

        const denied = await ticketLogin(stack.wsUrl, "app", "alice", "alice-ticket").then(
          (c) => {
            c.close();
            return null;
          },
          (e: unknown) => e as Aborted,
        );
        assert.ok(denied instanceof Aborted, "no login while the store is down");
        assert.equal(denied.reason, "wamp.error.authentication_failed");
        assert.equal(denied.abortMessage, "authentication service unavailable");

        // serve-stale keeps answering from memory; fail-closed denies.
        assert.equal(await maySubscribe(alice, "com.example.a2"), true);
        assert.equal(await maySubscribe(bob, "com.example.b2"), false);

        const recs = logs.records();
        assert.ok(
          recs.some((r) => r.level === 50 && /store unreachable/.test(String(r.msg))),
          "an error line says the store is unreachable",
        );
        assert.ok(
          recs.some((r) => r.msg === "authentication denied" && /^store unavailable: /.test(String(r.reason))),
          "the denial's logged reason names the store",
        );

        await priv.start();
        // A grant made right after the restart, quite possibly before LISTEN is re-established: only
        // the full reload after reconnecting can bring it in.
        await admin.grant(db, "app", "user", { uri: "com.fresh.", match: "prefix", allow: ["subscribe"] });
        const tBack = await waitFor("/readyz 200 again", async () => (await httpStatus(readyz)) === 200, 20_000);
        await waitFor("both instances to see the store again", () => stale.storeReachable && closed.storeReachable, 20_000);
        console.log(`store back: /readyz 200 after ${tBack} ms`);
        await waitFor("the grant made during recovery", () => maySubscribe(alice, "com.fresh.x"), 10_000, 200);
        assert.equal(await maySubscribe(bob, "com.example.b3"), true, "fail-closed answers again");

        // LISTEN is back: a grant made now arrives by notification.
        await admin.grant(db, "app", "user", { uri: "com.later.", match: "prefix", allow: ["subscribe"] });
        const tNotify = await waitFor("a grant made after recovery", () => maySubscribe(alice, "com.later.x"), 5_000, 100);
        console.log(`grant after recovery seen in ${tNotify} ms`);

        const again = await ticketLogin(stack.wsUrl, "app", "alice", "alice-ticket");
        assert.equal(again.welcome.authid, "alice");
        again.close();
        assert.ok(logs.records().some((r) => /store reachable again/.test(String(r.msg))));
      } finally {
        alice.close();
        bob.close();
      }
    },
  );
});
