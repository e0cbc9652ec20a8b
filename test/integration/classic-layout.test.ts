/**
 * The layout of Crossbar's own docs: the authenticator registered in the app realm itself, over a
 * privileged transport with a static role. Safe because store roles never reach the service's
 * procedures, whatever their rules: an `admin` role with `*` all can neither register nor call them,
 * nor reach the `wamp.` meta API.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import * as admin from "../../src/store/adminQueries.js";
import { errorOf, ticketLogin, type Joined } from "../helpers/client.js";
import { userWithTicket } from "../helpers/seed.js";
import { startStack, type Stack } from "../helpers/stack.js";

describe("classic layout: authenticator in the app realm (real Crossbar)", () => {
  let stack: Stack;
  let root: Joined;

  before(async () => {
    stack = await startStack({
      realms: { app: ["user", "admin"] },
      crossbar: { authRealm: "app" },
      service: { router: { authRealm: "app", realms: ["app"] } },
    });
    const db = stack.store.pool;
    await admin.addRealm(db, "app");
    await admin.addRole(db, "app", "user");
    await admin.addRole(db, "app", "admin");
    await admin.grant(db, "app", "user", { uri: "com.example.", match: "prefix", allow: ["call"] });
    await admin.grant(db, "app", "admin", { uri: "", match: "prefix", allow: ["call", "register", "publish", "subscribe"] });
    await userWithTicket(db, { realm: "app", authid: "alice", role: "user" }, "alice-ticket");
    await userWithTicket(db, { realm: "app", authid: "root", role: "admin" }, "root-ticket");
    await stack.service!.reload();
    root = await ticketLogin(stack.wsUrl, "app", "root", "root-ticket");
  });

  after(async () => {
    root?.close();
    await stack?.stop();
  });

  it("logs users in through the authenticator registered in the app realm", async () => {
    const alice = await ticketLogin(stack.wsUrl, "app", "alice", "alice-ticket");
    assert.deepEqual([alice.welcome.authrole, alice.welcome.realm ?? "app"], ["user", "app"]);
    alice.close();
  });

  it("a store role allowed everything cannot register the service's procedures", async () => {
    for (const uri of ["authd.authenticate", "authd.authenticate.ticket", "authd.authorize"]) {
      const e = await errorOf(root.session.register(uri, () => ({ role: "trusted" }), { invoke: "roundrobin" }));
      assert.equal(e, "wamp.error.not_authorized", uri);
    }
    // Nor catch them with a pattern registration.
    assert.equal(await errorOf(root.session.register("authd.", () => null, { match: "prefix" })), "wamp.error.not_authorized");
    assert.equal(await errorOf(root.session.register("", () => null, { match: "prefix" })), "wamp.error.not_authorized");
  });

  it("nor call them (no decision oracle), nor reach the wamp. meta API through its catch-all rule", async () => {
    assert.equal(
      await errorOf(root.session.call("authd.authenticate", ["app", "alice", { authmethod: "ticket", ticket: "guess" }])),
      "wamp.error.not_authorized",
    );
    assert.equal(
      await errorOf(root.session.call("authd.authorize", [{ authrole: "user" }, "com.x", "call", {}])),
      "wamp.error.not_authorized",
    );
    assert.equal(await errorOf(root.session.call("wamp.session.kill_by_authrole", ["user"])), "wamp.error.not_authorized");
    // Everything else its rule allows still works.
    await root.session.register("com.example.echo", (args) => args[0]);
    assert.equal(await root.session.call("com.example.echo", ["ok"]), "ok");
  });
});
