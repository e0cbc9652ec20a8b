/**
 * Live narrowing through a real Crossbar: when a rule is removed, narrowed or expires, or a user
 * leaves a group, the subscriptions and registrations it no longer allows are removed within 1 s,
 * while the session stays connected and keeps what it may still use (autobahn-js). Also: a revoke
 * racing a subscribe, static roles and the service's own session left alone, kill-on-change roles
 * closed instead, and what autobahn-python does with a revoked subscription.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { errorOf, type Joined } from "../helpers/client.js";
import { cliEnv, cliOk } from "../helpers/cli.js";
import { pySubscriber } from "../helpers/pyClient.js";
import { startStack, type Stack } from "../helpers/stack.js";
import { sleep, until } from "../helpers/wait.js";
import { passwordUsers } from "../helpers/passwordUsers.js";

/** A subscription that records its events and whether the router revoked it. */
async function watchTopic(c: Joined, topic: string, options?: Record<string, unknown>) {
  const events: unknown[] = [];
  const sub = (await c.session.subscribe(topic, (args) => events.push((args as unknown[])[0]), options)) as {
    on_unsubscribe: Promise<string | undefined>;
  };
  let revoked: string | undefined | null = null;
  void sub.on_unsubscribe.then((reason) => (revoked = reason ?? ""));
  return { events, revoked: () => revoked };
}

describe("live narrowing through a real Crossbar", () => {
  let stack: Stack;
  let env: NodeJS.ProcessEnv;
  let svc: Joined;
  const cli = (...args: string[]) => cliOk(args, { env });
  const { sessions, login, user } = passwordUsers(() => ({ wsUrl: stack.wsUrl, env }));
  /** Publishes (acknowledged) from the service-like client and gives the subscriber time to get it. */
  const publish = async (topic: string, value: unknown) => {
    await svc.session.publish(topic, [value], {}, { acknowledge: true });
    await sleep(150);
  };
  /** The sessions subscribed to (uri, match), as the router has them. */
  const subscribers = async (uri: string, match = "exact"): Promise<number[]> => {
    const root = stack.service!.link.session("app")!;
    const id = await root.call<number | null>("wamp.subscription.lookup", [uri, { match }]);
    if (id === null) return [];
    return root.call<number[]>("wamp.subscription.list_subscribers", [id]).catch(() => []);
  };
  /** Polls a call until the router says no callee is there; returns how long it took. */
  const noCallee = (proc: string) =>
    until(
      `${proc} to lose its callee`,
      async () => (await errorOf(svc.session.call(proc)).catch(() => "")) === "wamp.error.no_such_procedure",
      3000,
    );

  before(async () => {
    stack = await startStack({
      realms: { app: ["user", "svc", "ops"] },
      staticRoles: {
        app: [
          {
            name: "backend",
            permissions: [
              {
                uri: "com.app.",
                match: "prefix",
                allow: { call: true, register: true, publish: true, subscribe: true },
                disclose: { caller: false, publisher: false },
                cache: false,
              },
            ],
          },
        ],
      },
    });
    env = cliEnv(stack.store.url);
    await cli("realms", "add", "app");
    for (const r of ["user", "svc", "backend"]) await cli("roles", "add", "app", r);
    await cli("roles", "add", "app", "ops", "--kill-on-change");
    await cli("grants", "add", "app", "svc", "com.app.*", "--allow", "all");
    await cli("grants", "add", "app", "user", "com.app.shared.*", "--allow", "all");
    await cli("grants", "add", "app", "user", "com.app.team.{extra.team}.*", "--allow", "subscribe");
    await cli("grants", "add", "app", "ops", "com.app.shared.*", "--allow", "all");
    await user("alice", "user", '{"team":"blue"}');
    await user("bob");
    await user("carol");
    await user("dave", "ops");
    await user("be1", "backend");
    await user("svc1", "svc");
    for (const g of ["inner", "outer"]) await cli("groups", "add", "app", g);
    await cli("groups", "add-member", "app", "outer", "--group", "inner");
    await cli("groups", "add-member", "app", "inner", "--user", "carol");
    await cli("grants", "add", "app", "--group", "outer", "com.app.club.*", "--allow", "subscribe");
    svc = await login("svc1");
  });

  after(async () => {
    for (const s of sessions) s.close();
    await stack?.stop();
  });

  it("removing a user's rule removes its subscription and registration within 1 s; the session stays and keeps the rest", async () => {
    await cli("grants", "add", "app", "--user", "alice", "com.app.alice.*", "--allow", "all");
    const alice = await login("alice");
    const feed = await watchTopic(alice, "com.app.alice.feed");
    // A wildcard subscription too: Crossbar's realm-wide wamp.subscription.list leaves those out.
    const wild = await watchTopic(alice, "com.app.alice..feed", { match: "wildcard" });
    const shared = await watchTopic(alice, "com.app.shared.feed");
    await alice.session.register("com.app.alice.proc", () => "from alice");
    await publish("com.app.alice.feed", 1);
    assert.deepEqual(feed.events, [1]);
    assert.equal(await svc.session.call("com.app.alice.proc"), "from alice");

    const t0 = Date.now();
    await cli("grants", "remove", "app", "--user", "alice", "com.app.alice.*");
    const revokedIn = await until("the subscription to be revoked", () => feed.revoked() !== null, 3000);
    const calleeGoneIn = await noCallee("com.app.alice.proc");
    assert.ok(Date.now() - t0 < 1000 + 1500, "within 1 s of the change (plus the CLI's own exit)");
    assert.ok(revokedIn < 1000, `subscription revoked ${revokedIn} ms after the CLI returned`);
    assert.ok(revokedIn + calleeGoneIn < 1000 + 100, `registration removed ${revokedIn + calleeGoneIn} ms after`);
    assert.equal(feed.revoked(), "wamp.error.not_authorized");
    await until("the wildcard subscription to be revoked", () => wild.revoked() !== null, 1000);

    await publish("com.app.alice.feed", 2);
    assert.deepEqual(feed.events, [1], "no event after the revocation");
    // Still connected, still using what it may.
    assert.equal(alice.session.isOpen, true);
    await publish("com.app.shared.feed", "still");
    assert.deepEqual(shared.events, ["still"]);
    await alice.session.publish("com.app.shared.other", [1], {}, { acknowledge: true });
    assert.equal(await errorOf(alice.session.subscribe("com.app.alice.feed", () => undefined)), "wamp.error.not_authorized");
  });

  it("leaving a group (the user was in an inner group inside the rule's group) removes the group's subscriptions", async () => {
    const carol = await login("carol");
    const club = await watchTopic(carol, "com.app.club.news");
    const shared = await watchTopic(carol, "com.app.shared.news");
    await publish("com.app.club.news", "a");
    assert.deepEqual(club.events, ["a"]);
    await cli("groups", "remove-member", "app", "inner", "--user", "carol");
    const ms = await until("carol's club subscription to be revoked", () => club.revoked() !== null, 3000);
    assert.ok(ms < 1000, `${ms} ms`);
    await publish("com.app.club.news", "b");
    await publish("com.app.shared.news", "c");
    assert.deepEqual(club.events, ["a"]);
    assert.deepEqual(shared.events, ["c"]);
    assert.equal(carol.session.isOpen, true);
  });

  it("removing a group's rule, or taking a group out of the group holding the rule, narrows the members' sessions", async () => {
    for (const g of ["readers", "staff"]) await cli("groups", "add", "app", g);
    await cli("groups", "add-member", "app", "readers", "--user", "bob");
    await cli("groups", "add-member", "app", "staff", "--group", "readers");
    await cli("grants", "add", "app", "--group", "readers", "com.app.read.*", "--allow", "subscribe");
    await cli("grants", "add", "app", "--group", "staff", "com.app.staff.*", "--allow", "subscribe");
    const bob = await login("bob");
    const read = await watchTopic(bob, "com.app.read.news");
    const staff = await watchTopic(bob, "com.app.staff.news");
    await cli("grants", "remove", "app", "--group", "readers", "com.app.read.*");
    let ms = await until("the group rule's subscription to be revoked", () => read.revoked() !== null, 3000);
    assert.ok(ms < 1000, `${ms} ms`);
    assert.equal(staff.revoked(), null, "the other group's rule still holds");
    await cli("groups", "remove-member", "app", "staff", "--group", "readers");
    ms = await until("the outer group's subscription to be revoked", () => staff.revoked() !== null, 3000);
    assert.ok(ms < 1000, `${ms} ms`);
    assert.equal(bob.session.isOpen, true);
  });

  it("narrowing a role's rule (a deny beneath a prefix subscription) removes that pattern subscription from every session of the role", async () => {
    await cli("grants", "add", "app", "user", "com.app.wide.*", "--allow", "subscribe");
    const alice = await login("alice");
    const bob = await login("bob");
    const a = await watchTopic(alice, "com.app.wide.", { match: "prefix" });
    const b = await watchTopic(bob, "com.app.wide.", { match: "prefix" });
    const bobExact = await watchTopic(bob, "com.app.wide.open");
    await cli("grants", "add", "app", "user", "com.app.wide.private", "--deny", "subscribe");
    await until("both prefix subscriptions to be revoked", () => a.revoked() !== null && b.revoked() !== null, 3000);
    await publish("com.app.wide.open", "x");
    assert.deepEqual(bobExact.events, ["x"], "the exact subscription the rules still allow stays");
    assert.deepEqual(a.events, []);
    assert.equal(alice.session.isOpen && bob.session.isOpen, true);
  });

  it("a rule that expires (--until) is treated like a removed one", async () => {
    const until_ = new Date(Date.now() + 2500).toISOString();
    await cli("grants", "add", "app", "--user", "bob", "com.app.temp.*", "--allow", "subscribe", "--until", until_);
    const bob = await login("bob");
    const temp = await watchTopic(bob, "com.app.temp.x");
    await publish("com.app.temp.x", 1);
    assert.deepEqual(temp.events, [1]);
    await until("the window to close", () => Date.now() >= Date.parse(until_), 5000);
    const ms = await until("the expired subscription to be revoked", () => temp.revoked() !== null, 3000);
    assert.ok(ms < 1000, `${ms} ms after the window closed`);
    assert.equal(await errorOf(bob.session.subscribe("com.app.temp.y", () => undefined)), "wamp.error.not_authorized");
    assert.equal(bob.session.isOpen, true);
  });

  it("a changed stored extra narrows the template subscriptions built from it", async () => {
    const alice = await login("alice");
    const blue = await watchTopic(alice, "com.app.team.blue.news");
    await cli("users", "set-extra", "app", "alice", '{"team":"red"}');
    const ms = await until("the blue subscription to be revoked", () => blue.revoked() !== null, 3000);
    assert.ok(ms < 1000, `${ms} ms`);
    await alice.session.subscribe("com.app.team.red.news", () => undefined);
    await cli("users", "set-extra", "app", "alice", '{"team":"blue"}');
  });

  it("hostile: a rule revoked while a subscribe races it leaves no subscription behind", async () => {
    const bob = await login("bob");
    const db = stack.store.pool;
    const { rows } = await db.query<{ id: string }>(
      "SELECT u.id::text AS id FROM authd.users u JOIN authd.realms r ON r.id = u.realm_id WHERE r.name = 'app' AND u.authid = 'bob'",
    );
    const bobId = rows[0]!.id;
    let raced = 0;
    for (let i = 0; i < 12; i++) {
      const topic = `com.app.race${i}.t`;
      await db.query("INSERT INTO authd.permissions (user_id, uri, match, allow_subscribe) VALUES ($1, $2, 'prefix', true)", [
        bobId,
        `com.app.race${i}.`,
      ]);
      await until("the grant to reach the service", () => {
        const users = stack.service!.sessionRules.cached("app", "bob");
        return users?.some((u) => u.rules.some((r) => r.uri === `com.app.race${i}.`)) ?? false;
      });
      // The SUBSCRIBE and the DELETE go out together, in both orders, up to 3 ms apart: some
      // subscribes are answered from the rules before the change, some after.
      const subscribe = () =>
        bob.session
          .subscribe(topic, () => undefined)
          .then(
            () => true,
            () => false,
          );
      const revoke = () => db.query("DELETE FROM authd.permissions WHERE user_id = $1 AND uri = $2", [bobId, `com.app.race${i}.`]);
      let sub: Promise<boolean>;
      let del: Promise<unknown>;
      if (i % 2 === 0) {
        sub = subscribe();
        await sleep(i % 4);
        del = revoke();
      } else {
        del = revoke();
        await sleep(i % 3);
        sub = subscribe();
      }
      await del;
      if (await sub) raced++;
      await until(`no subscription of bob on ${topic}`, async () => !(await subscribers(topic)).includes(bob.session.id!), 2000);
    }
    assert.equal(bob.session.isOpen, true);
    // Not an assertion on timing: reported so a run shows whether the race was hit.
    process.stderr.write(`# race: ${raced} of 12 racing subscribes were allowed (and then removed); the others were denied\n`);
  });

  it("sessions of a static role and the service's own registrations and subscriptions are never touched", async () => {
    const be = await login("be1");
    const backend = await watchTopic(be, "com.app.backend.x");
    // The store's role backend has no rules at all: narrowing it would remove everything.
    await stack.service!.narrowing.rolesChanged("all");
    await stack.service!.narrower.sweepRealm("app");
    await sleep(300);
    assert.equal(backend.revoked(), null);
    assert.ok((await subscribers("com.app.backend.x")).includes(be.session.id!));
    assert.equal(stack.service!.link.isReady(), true, "the service's procedures are still registered");
    await publish("com.app.backend.x", "still");
    assert.deepEqual(backend.events, ["still"]);
    assert.equal(stack.service!.narrowing.governs("app", "backend"), false);
    assert.equal(stack.service!.narrowing.governs("app", "authd"), false);
  });

  it("a kill-on-change role's session is closed (not narrowed) when its user's rules change", async () => {
    const dave = await login("dave");
    await dave.session.subscribe("com.app.shared.x", () => undefined);
    await cli("grants", "add", "app", "--user", "dave", "com.app.dave.*", "--allow", "subscribe");
    const closed = await Promise.race([dave.closed, sleep(3000).then(() => null)]);
    assert.ok(closed, "dave's session was closed");
    assert.equal(closed.details.reason, "wamp.close.logout");
  });

  it("autobahn-python drops its connection when the router revokes its subscription (autobahn-js keeps it: above)", async () => {
    await cli("grants", "add", "app", "--user", "bob", "com.app.py.*", "--allow", "subscribe");
    const py = await pySubscriber({ url: stack.wsUrl, realm: "app", authid: "bob", ticket: "bob-pw", topic: "com.app.py.feed" });
    try {
      await py.waitFor((l) => l.subscribed === true);
      await publish("com.app.py.feed", "before");
      await py.waitFor((l) => l.event === "before");
      await cli("grants", "remove", "app", "--user", "bob", "com.app.py.*");
      const left = await py.waitFor((l) => "left" in l || "disconnected" in l, 5000);
      assert.ok(left, JSON.stringify(py.lines));
      await py.waitFor((l) => l.disconnected === true, 5000);
      process.stderr.write(`# autobahn-python on a revoked subscription: ${JSON.stringify(py.lines)}\n`);
    } finally {
      py.stop();
    }
  });
});
