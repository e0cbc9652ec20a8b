import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import * as admin from "../../src/store/adminQueries.js";
import { Aborted, errorOf, ticketLogin, type Joined } from "../helpers/client.js";
import { userWithTicket } from "../helpers/seed.js";
import { startStack, type Stack } from "../helpers/stack.js";
import { until } from "../helpers/wait.js";

/** Retries while wamp-authd has not re-registered with the restarted router yet. */
async function loginWhenServed(login: () => Promise<Joined>): Promise<Joined> {
  const end = Date.now() + 10_000;
  for (;;) {
    try {
      return await login();
    } catch (err) {
      if (!(err instanceof Aborted && err.reason === "wamp.error.no_such_procedure") || Date.now() > end) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/**
 * What README and the CLI's cache warning claim about Crossbar's authorization cache, shown on the
 * pinned Crossbar: an answer with cache: true is kept per (realm, role, uri, action) for every
 * session of the role — new sessions included — until the router restarts; cache: false rules
 * change live.
 */
describe("Crossbar's authorization cache (cache: true answers)", () => {
  let stack: Stack;

  before(async () => {
    stack = await startStack({ realms: { app: ["user", "svc"] } });
    const db = stack.store.pool;
    await admin.addRealm(db, "app");
    await admin.addRole(db, "app", "user");
    await admin.addRole(db, "app", "svc");
    await admin.grant(db, "app", "user", { uri: "com.cached", match: "exact", allow: ["call"], cache: true });
    await admin.grant(db, "app", "user", { uri: "com.live", match: "exact", allow: ["call"] });
    // The callee's own role: revoking the callers' rules leaves its registrations alone (a revoked
    // register right would remove them: live narrowing).
    await admin.grant(db, "app", "svc", { uri: "com.", match: "prefix", allow: ["register"] });
    await userWithTicket(db, { realm: "app", authid: "alice", role: "svc" }, "alice-ticket");
    await userWithTicket(db, { realm: "app", authid: "bob", role: "user" }, "bob-ticket");
    await stack.service!.reload();
  });

  after(async () => stack?.stop());

  it(
    "a revoked cache: true rule keeps allowing until Crossbar restarts; a cache: false rule is denied at once",
    { timeout: 60_000 },
    async () => {
      const callee = await ticketLogin(stack.wsUrl, "app", "alice", "alice-ticket");
      await callee.session.register("com.cached", () => "cached");
      await callee.session.register("com.live", () => "live");
      const first = await ticketLogin(stack.wsUrl, "app", "bob", "bob-ticket");
      assert.equal(await first.session.call("com.cached"), "cached");
      assert.equal(await first.session.call("com.live"), "live");
      first.close();

      const db = stack.store.pool;
      const rulesBefore = stack.service!.permissionIndex.ruleCount;
      await admin.revokeGrant(db, "app", "user", "com.cached", "exact");
      await admin.revokeGrant(db, "app", "user", "com.live", "exact");
      await until("the index without the two rules", () => stack.service!.permissionIndex.ruleCount === rulesBefore - 2, 5000);

      // A brand-new session of the same role still gets the cached allow; the uncached rule is gone.
      const second = await ticketLogin(stack.wsUrl, "app", "bob", "bob-ticket");
      assert.equal(await second.session.call("com.cached"), "cached");
      assert.equal(await errorOf(second.session.call("com.live")), "wamp.error.not_authorized");
      second.close();
      callee.close();

      // Only a router restart clears it.
      await stack.crossbar!.restart();
      const callee2 = await loginWhenServed(() => ticketLogin(stack.wsUrl, "app", "alice", "alice-ticket"));
      await until("the service link ready", () => stack.service!.link.isReady(), 10_000); // the authorizer in realm app too
      await callee2.session.register("com.cached", () => "cached");
      const third = await ticketLogin(stack.wsUrl, "app", "bob", "bob-ticket");
      assert.equal(await errorOf(third.session.call("com.cached")), "wamp.error.not_authorized");
      third.close();
      callee2.close();
    },
  );
});
