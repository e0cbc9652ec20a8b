/**
 * Deadlines: with the users table locked (a stuck store), every login through the real Crossbar
 * still gets its ABORT within deadlineMs (+ slack), authorization keeps answering from memory, and
 * logins work again once the lock is gone.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import pg from "pg";
import * as admin from "../../src/store/adminQueries.js";
import { listAudit } from "../../src/store/auditQueries.js";
import { Aborted, ticketLogin } from "../helpers/client.js";
import { userWithTicket } from "../helpers/seed.js";
import { startStack, type Stack } from "../helpers/stack.js";

const DEADLINE_MS = 1000;
const SLACK_MS = 1500;

describe("deadlines with a stuck store (LOCK TABLE authd.users), through a real Crossbar", () => {
  let stack: Stack;

  before(async () => {
    stack = await startStack({ realms: { app: ["user"] }, service: { deadlineMs: DEADLINE_MS } });
    const db = stack.store.pool;
    await admin.addRealm(db, "app");
    await admin.addRole(db, "app", "user");
    await admin.grant(db, "app", "user", { uri: "com.example.", match: "prefix", allow: ["call", "register", "subscribe"] });
    await userWithTicket(db, { realm: "app", authid: "alice", role: "user" }, "alice-ticket");
    await stack.service!.reload();
  });

  after(async () => stack?.stop());

  it(
    "every login is answered with a denial within the deadline; authorize still answers; recovery after the lock",
    { timeout: 60_000 },
    async () => {
      const existing = await ticketLogin(stack.wsUrl, "app", "alice", "alice-ticket");
      const locker = new pg.Client({ connectionString: stack.store.url });
      await locker.connect();
      try {
        await locker.query("BEGIN");
        await locker.query("LOCK TABLE authd.users IN ACCESS EXCLUSIVE MODE");
        // More logins at once than the pool has connections (10): the queued ones are bounded too.
        const n = 14;
        const t0 = performance.now();
        const results = await Promise.all(
          Array.from({ length: n }, () =>
            ticketLogin(stack.wsUrl, "app", "alice", "alice-ticket").then(
              (c) => {
                c.close();
                return { ms: performance.now() - t0, abort: null as Aborted | null };
              },
              (e: unknown) => ({ ms: performance.now() - t0, abort: e as Aborted }),
            ),
          ),
        );
        const worst = Math.max(...results.map((r) => r.ms));
        console.log(
          `deadline ${DEADLINE_MS} ms: ${n} logins against a locked table answered in ${Math.min(...results.map((r) => r.ms)).toFixed(0)}..${worst.toFixed(0)} ms`,
        );
        for (const r of results) {
          assert.ok(r.abort instanceof Aborted, "denied, not welcomed");
          assert.equal(r.abort.reason, "wamp.error.authentication_failed");
          assert.equal(r.abort.abortMessage, "authentication service unavailable");
          assert.ok(r.ms >= DEADLINE_MS - 50, `answered after ${r.ms} ms: too early to be the deadline`);
        }
        assert.ok(worst < DEADLINE_MS + SLACK_MS, `slowest ABORT after ${worst.toFixed(0)} ms`);

        // The authorizer answers from memory, the lock does not touch it.
        await existing.session.register("com.example.still", () => "ok");
        assert.equal(await existing.session.call("com.example.still"), "ok");
      } finally {
        await locker.query("COMMIT").catch(() => undefined);
        await locker.end();
      }
      const again = await ticketLogin(stack.wsUrl, "app", "alice", "alice-ticket");
      assert.equal(again.welcome.authid, "alice");
      again.close();
      existing.close();
      await stack.service!.audit.flush();
      const rows = await listAudit(stack.store.pool, { authid: "alice", outcome: "deny" });
      assert.ok(
        rows.some((r) => /took longer than 1000 ms/.test(r.reason ?? "")),
        "the deadline is the audited reason",
      );
    },
  );
});
