/**
 * Rules that follow the user, through a real Crossbar with autobahn-js clients: per-user rules,
 * templates (and authids that try to widen them), nested groups, an explicit deny in a group beating
 * an allow on the role, the router's cache kept honest, a second instance that never saw the login.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { errorOf } from "../helpers/client.js";
import { cliEnv, cliOk, runCli } from "../helpers/cli.js";
import { startStack, type Stack } from "../helpers/stack.js";
import { until } from "../helpers/wait.js";
import { passwordUsers } from "../helpers/passwordUsers.js";

describe("session rules (users, groups, templates, denials) through a real Crossbar", () => {
  let stack: Stack;
  let env: NodeJS.ProcessEnv;
  const cli = (...args: string[]) => cliOk(args, { env });
  const { sessions, login, user } = passwordUsers(() => ({ wsUrl: stack.wsUrl, env }));

  before(async () => {
    stack = await startStack({ realms: { app: ["user", "svc"] } });
    env = cliEnv(stack.store.url);
    await cli("realms", "add", "app");
    await cli("roles", "add", "app", "user");
    await cli("roles", "add", "app", "svc");
    await cli("grants", "add", "app", "svc", "com.app.*", "--allow", "all");
    await cli("grants", "add", "app", "user", "com.app.shared.*", "--allow", "all");
    await cli("grants", "add", "app", "user", "com.app.user.{authid}.*", "--allow", "all");
    await cli("grants", "add", "app", "user", "com.app.team.{extra.team}.*", "--allow", "subscribe");
    await cli("grants", "add", "app", "user", "com.app.secret", "--allow", "call");
    await cli("grants", "add", "app", "user", "com.app.cached", "--allow", "call", "--cache");
    await user("alice", "user", '{"team":"blue"}');
    await user("bob", "user", '{"team":"red"}');
    await user("carol");
    await user("alice.evil", "user", '{"team":"blue.red"}');
    await user("svc1", "svc");
    await cli("grants", "add", "app", "--user", "alice", "com.app.alice.*", "--allow", "all");
    // Four nested groups: g1 inside g2 inside g3 inside g4; carol is in g1, the rule is on g4.
    for (const g of ["g1", "g2", "g3", "g4", "blockers"]) await cli("groups", "add", "app", g);
    await cli("groups", "add-member", "app", "g2", "--group", "g1");
    await cli("groups", "add-member", "app", "g3", "--group", "g2");
    await cli("groups", "add-member", "app", "g4", "--group", "g3");
    await cli("groups", "add-member", "app", "g1", "--user", "carol");
    await cli("grants", "add", "app", "--group", "g4", "com.app.g4.*", "--allow", "subscribe,call");
    await cli("groups", "add-member", "app", "blockers", "--user", "bob");
    await cli("grants", "add", "app", "--group", "blockers", "com.app.secret", "--deny", "call");
    await until("the index to flag role user", () => stack.service!.permissionIndex.hasSessionRules("app", "user"));
  });

  after(async () => {
    for (const s of sessions) s.close();
    await stack?.stop();
  });

  it("a per-user rule applies to that user alone", async () => {
    const alice = await login("alice");
    const bob = await login("bob");
    await alice.session.subscribe("com.app.alice.feed", () => undefined);
    await alice.session.register("com.app.alice.echo", (args: unknown) => (args as unknown[])[0]);
    assert.equal(await alice.session.call("com.app.alice.echo", ["hi"]), "hi");
    assert.equal(await errorOf(bob.session.call("com.app.alice.echo", ["hi"])), "wamp.error.not_authorized");
    assert.equal(await errorOf(bob.session.subscribe("com.app.alice.feed", () => undefined)), "wamp.error.not_authorized");
  });

  it("a template gives each user its own namespace, from the authid and the stored extra", async () => {
    const alice = await login("alice");
    const bob = await login("bob");
    await alice.session.register("com.app.user.alice.inbox", () => "alice's");
    assert.equal(await alice.session.call("com.app.user.alice.inbox"), "alice's");
    assert.equal(await errorOf(bob.session.call("com.app.user.alice.inbox")), "wamp.error.not_authorized");
    assert.equal(
      await errorOf(bob.session.subscribe("com.app.user.alice.", () => undefined, { match: "prefix" })),
      "wamp.error.not_authorized",
    );
    await bob.session.subscribe("com.app.user.bob.", () => undefined, { match: "prefix" });
    await alice.session.subscribe("com.app.team.blue.news", () => undefined);
    assert.equal(await errorOf(alice.session.subscribe("com.app.team.red.news", () => undefined)), "wamp.error.not_authorized");
    await bob.session.subscribe("com.app.team.red.news", () => undefined);
  });

  it("hostile: an authid or extra holding a dot cannot widen a template into another user's namespace", async () => {
    const evil = await login("alice.evil");
    // {authid} = "alice.evil" would make com.app.user.alice.evil. — inside alice's namespace.
    assert.equal(await errorOf(evil.session.subscribe("com.app.user.alice.evil.x", () => undefined)), "wamp.error.not_authorized");
    assert.equal(await errorOf(evil.session.subscribe("com.app.user.alice.inbox", () => undefined)), "wamp.error.not_authorized");
    assert.equal(await errorOf(evil.session.call("com.app.user.alice.inbox")), "wamp.error.not_authorized");
    // {extra.team} = "blue.red" would make com.app.team.blue.red. — inside team blue's.
    assert.equal(await errorOf(evil.session.subscribe("com.app.team.blue.red.news", () => undefined)), "wamp.error.not_authorized");
    assert.equal(await errorOf(evil.session.subscribe("com.app.team.blue.news", () => undefined)), "wamp.error.not_authorized");
    // The role's plain rules still apply.
    await evil.session.subscribe("com.app.shared.news", () => undefined);
  });

  it("a user in four nested groups gets the outermost group's rules", async () => {
    const carol = await login("carol");
    const bob = await login("bob");
    await carol.session.subscribe("com.app.g4.news", () => undefined);
    assert.equal(await errorOf(bob.session.subscribe("com.app.g4.news", () => undefined)), "wamp.error.not_authorized");
    const check = JSON.parse(await cli("check", "app", "com.app.g4.news", "subscribe", "--authid", "carol", "--json"));
    assert.equal(check.allow, true);
    assert.equal(check.rule.source, "group");
    assert.equal(check.rule.owner, "g4");
  });

  it("an explicit deny in a group beats the role's allow at the same specificity", async () => {
    const svc = await login("svc1");
    await svc.session.register("com.app.secret", () => "secret");
    const alice = await login("alice");
    const bob = await login("bob");
    assert.equal(await alice.session.call("com.app.secret"), "secret");
    assert.equal(await errorOf(bob.session.call("com.app.secret")), "wamp.error.not_authorized");
    const r = await runCli(["check", "app", "com.app.secret", "call", "--authid", "bob"], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^deny {2}call com\.app\.secret/);
    assert.match(r.stdout, /\(role user\)/);
    assert.match(r.stdout, /\(group blockers\) denies call/);
  });

  it("a role whose sessions have rules of their own is never cached: a cached allow cannot leak to a denied user", async () => {
    const svc = await login("svc1");
    await svc.session.register("com.app.cached", () => "ok");
    await cli("grants", "add", "app", "--user", "carol", "com.app.cached", "--deny", "call");
    const alice = await login("alice");
    const carol = await login("carol");
    // alice's allow would be kept by Crossbar for every session of role user if it were cached.
    for (let i = 0; i < 3; i++) assert.equal(await alice.session.call("com.app.cached"), "ok");
    await until(
      "carol's deny to be loaded",
      async () => (await errorOf(carol.session.call("com.app.cached")).catch(() => "")) === "wamp.error.not_authorized",
    );
    for (let i = 0; i < 3; i++) assert.equal(await errorOf(carol.session.call("com.app.cached")), "wamp.error.not_authorized");
    const c = JSON.parse(await cli("check", "app", "com.app.cached", "call", "--authid", "alice", "--json"));
    assert.equal(c.allow, true);
    assert.equal(c.cache, false);
    assert.match(c.uncached, /rules of their own/);
  });

  it("a role's first user rule, or a user with rules moved into a role, makes that role's answers session-dependent at once", async () => {
    const s = stack.service!;
    await cli("roles", "add", "app", "fresh");
    await cli("roles", "add", "app", "moved");
    await user("fred", "fresh");
    await user("mona", "user");
    await until("the roles to be loaded", () => s.permissionIndex.hasRole("app", "moved"));
    assert.equal(s.permissionIndex.hasSessionRules("app", "fresh"), false);
    await cli("grants", "add", "app", "--user", "fred", "com.app.fred.*", "--allow", "call");
    await until("role fresh to have session rules", () => s.permissionIndex.hasSessionRules("app", "fresh"));
    await cli("grants", "add", "app", "--user", "mona", "com.app.mona.*", "--allow", "call");
    assert.equal(s.permissionIndex.hasSessionRules("app", "moved"), false);
    await cli("users", "set-role", "app", "mona", "moved");
    await until("role moved to have session rules", () => s.permissionIndex.hasSessionRules("app", "moved"));
  });

  it("a second instance that never saw the login answers from the user's rules (loaded on join or on a miss)", async () => {
    const bob = await login("bob");
    const second = await stack.startService();
    await stack.ready(second);
    // Sessions that were there before it joined are listed (wamp.session.list + get), later ones announced (on_join).
    await until("the second instance to list bob's session", () => second.watch.sessions("app").some((x) => x.id === bob.session.id));
    const alice = await login("alice");
    await until("the second instance to see alice join", () =>
      second.watch.byAuthid("app", "alice").some((x) => x.id === alice.session.id),
    );
    // Round-robin spreads the authorize calls over both instances: every one must allow.
    for (let i = 0; i < 6; i++) await alice.session.subscribe(`com.app.alice.n${i}`, () => undefined);
    for (let i = 0; i < 6; i++) await alice.session.subscribe(`com.app.user.alice.n${i}`, () => undefined);
    await until("the second instance to know alice", () => second.sessionRules.cached("app", "alice") !== null);
    await second.stop();
  });
});
