/**
 * The authorization core v2 through a real Crossbar and real autobahn-js clients: pattern
 * subscriptions/registrations (options.match), the service's reserved URIs, the wamp. guard, and
 * denials that Crossbar must not cache.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import * as admin from "../../src/store/adminQueries.js";
import { errorOf, ticketLogin, type Joined } from "../helpers/client.js";
import { userWithTicket } from "../helpers/seed.js";
import { startStack, type Stack } from "../helpers/stack.js";
import { until } from "../helpers/wait.js";

interface Event {
  topic: string;
  args: unknown[];
}

/** Subscribes and records every event with the topic it was published to. */
async function recordingSubscribe(c: Joined, topic: string, options?: Record<string, unknown>): Promise<Event[]> {
  const events: Event[] = [];
  await c.session.subscribe(
    topic,
    (...a: unknown[]) => {
      const [args, , details] = a as [unknown[], unknown, { topic?: string }];
      events.push({ topic: details?.topic ?? topic, args });
    },
    options,
  );
  return events;
}

describe("authorization through Crossbar: patterns, reserved URIs, wamp., uncached denials", () => {
  let stack: Stack;
  const open: Joined[] = [];
  const login = async (authid: string): Promise<Joined> => {
    const c = await ticketLogin(stack.wsUrl, "app", authid, `${authid}-ticket`);
    open.push(c);
    return c;
  };

  before(async () => {
    stack = await startStack({ realms: { app: ["user", "pub", "admin", "cached"] } });
    const db = stack.store.pool;
    await admin.addRealm(db, "app");
    for (const role of ["user", "pub", "admin", "cached"]) await admin.addRole(db, "app", role);
    // user: only exact rules on the feed and the procedure.
    await admin.grant(db, "app", "user", { uri: "com.example.feed", match: "exact", allow: ["subscribe"] });
    await admin.grant(db, "app", "user", { uri: "com.example.proc", match: "exact", allow: ["register"] });
    // pub: publishes and calls anything under com.example.
    await admin.grant(db, "app", "pub", { uri: "com.example.", match: "prefix", allow: ["publish", "call"] });
    // admin: everything, Crossbar-style "*".
    await admin.grant(db, "app", "admin", { uri: "", match: "prefix", allow: ["call", "register", "publish", "subscribe"] });
    // cached: a cached rule that allows subscribe only.
    await admin.grant(db, "app", "cached", { uri: "com.cached.x", match: "exact", allow: ["subscribe"], cache: true });
    for (const [authid, role] of [
      ["alice", "user"],
      ["paul", "pub"],
      ["root", "admin"],
      ["carl", "cached"],
    ] as const) {
      await userWithTicket(db, { realm: "app", authid, role }, `${authid}-ticket`);
    }
    await stack.service!.reload();
  });

  after(async () => {
    for (const c of open) c.close();
    await stack?.stop();
  });

  it(
    "an exact subscribe rule does not allow a prefix subscription: refused, and nothing under it is received",
    { timeout: 30_000 },
    async () => {
      const alice = await login("alice");
      const paul = await login("paul");
      assert.equal(
        await errorOf(alice.session.subscribe("com.example.feed", () => undefined, { match: "prefix" })),
        "wamp.error.not_authorized",
      );
      assert.equal(
        await errorOf(alice.session.subscribe("com.example.", () => undefined, { match: "prefix" })),
        "wamp.error.not_authorized",
      );
      assert.equal(
        await errorOf(alice.session.subscribe("com.example..", () => undefined, { match: "wildcard" })),
        "wamp.error.not_authorized",
      );
      // Her legitimate exact subscription works and marks the end of the publications.
      const events = await recordingSubscribe(alice, "com.example.feed");
      for (const topic of ["com.example.feed.private.alice", "com.example.feedback_internal", "com.example.feed"]) {
        await paul.session.publish(topic, [topic], {}, { acknowledge: true });
      }
      await until("the marker event", () => events.length > 0);
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual(events, [{ topic: "com.example.feed", args: ["com.example.feed"] }]);
    },
  );

  it("with a covering prefix rule a prefix subscription works and receives events", { timeout: 30_000 }, async () => {
    const before = stack.service!.permissionIndex.ruleCount;
    await admin.grant(stack.store.pool, "app", "user", { uri: "com.example.open.", match: "prefix", allow: ["subscribe"] });
    await until("the grant to load", () => stack.service!.permissionIndex.ruleCount === before + 1);
    const alice = await login("alice");
    const paul = await login("paul");
    const events = await recordingSubscribe(alice, "com.example.open.", { match: "prefix" });
    await paul.session.publish("com.example.open.a.b", ["x"], {}, { acknowledge: true });
    await until("the event", () => events.length > 0);
    assert.deepEqual(events, [{ topic: "com.example.open.a.b", args: ["x"] }]);
  });

  it("an exact register rule does not allow a prefix registration; a covering prefix rule does", { timeout: 30_000 }, async () => {
    const alice = await login("alice");
    const paul = await login("paul");
    assert.equal(
      await errorOf(alice.session.register("com.example.proc", () => "hijacked", { match: "prefix" })),
      "wamp.error.not_authorized",
    );
    assert.equal(await errorOf(paul.session.call("com.example.proc.secret")), "wamp.error.no_such_procedure", "nobody registered it");
    const before = stack.service!.permissionIndex.ruleCount;
    await admin.grant(stack.store.pool, "app", "user", { uri: "com.example.procs.", match: "prefix", allow: ["register"] });
    await until("the grant to load", () => stack.service!.permissionIndex.ruleCount === before + 1);
    await alice.session.register("com.example.procs.", (_args, _kw, details) => `served ${(details as { procedure?: string }).procedure}`, {
      match: "prefix",
    });
    assert.equal(await paul.session.call("com.example.procs.x"), "served com.example.procs.x");
  });

  it(
    "a role allowed everything (prefix '') cannot register authd.authorize nor call wamp.session.kill_by_authrole",
    { timeout: 30_000 },
    async () => {
      const root = await login("root");
      // Joining the service's roundrobin pool is what an attacker wants: our authorizer refuses it.
      assert.equal(
        await errorOf(root.session.register("authd.authorize", () => ({ allow: true }), { invoke: "roundrobin" })),
        "wamp.error.not_authorized",
      );
      assert.equal(
        await errorOf(root.session.register("authd.", () => ({ allow: true }), { match: "prefix" })),
        "wamp.error.not_authorized",
      );
      // A single registration of that URI is refused by Crossbar itself, before asking the authorizer.
      assert.equal(
        await errorOf(root.session.register("authd.authorize", () => ({ allow: true }))),
        "wamp.error.procedure_exists_with_different_invocation_policy",
      );
      assert.equal(await errorOf(root.session.call("wamp.session.kill_by_authrole", ["user"])), "wamp.error.not_authorized");
      assert.equal(
        await errorOf(root.session.subscribe("wamp.session.", () => undefined, { match: "prefix" })),
        "wamp.error.not_authorized",
      );
      // The rule itself works elsewhere, and the service still answers alone (no second callee joined).
      await root.session.register("com.root.echo", (args: unknown[]) => args[0]);
      assert.equal(await root.session.call("com.root.echo", ["hi"]), "hi");
      const alice = await login("alice");
      assert.equal(alice.welcome.authrole, "user");
    },
  );

  it("a cached subscribe-only rule's call denial is not cached: a grant for call works at once", { timeout: 30_000 }, async () => {
    const root = await login("root");
    await root.session.register("com.cached.x", () => "called");
    const carl = await login("carl");
    assert.equal(await errorOf(carl.session.call("com.cached.x")), "wamp.error.not_authorized");
    // A grant (uncached) for call on that URI: same rule key, now allowing call too.
    await admin.grant(stack.store.pool, "app", "cached", { uri: "com.cached.x", match: "exact", allow: ["subscribe", "call"] });
    await until("the grant to load", () => stack.service!.permissionIndex.roleAllows("app", "cached", "com.cached.x", "call"));
    assert.equal(await carl.session.call("com.cached.x"), "called");
  });

  it(
    "a cached exact subscribe rule does not let a prefix subscription of the same URI through Crossbar's cache",
    { timeout: 30_000 },
    async () => {
      const before = stack.service!.permissionIndex.ruleCount;
      await admin.grant(stack.store.pool, "app", "cached", { uri: "com.cached.feed", match: "exact", allow: ["subscribe"], cache: true });
      await until("the grant to load", () => stack.service!.permissionIndex.ruleCount === before + 1);
      const carl = await login("carl");
      await carl.session.subscribe("com.cached.feed", () => undefined);
      // Crossbar's cache key is (realm, role, uri, action): had the exact allow been cached, this
      // prefix subscription to the same string would have been answered from it.
      assert.equal(
        await errorOf(carl.session.subscribe("com.cached.feed", () => undefined, { match: "prefix" })),
        "wamp.error.not_authorized",
      );
    },
  );
});
