/**
 * Live changes through a real Crossbar and a real Postgres: what the CLI or plain SQL writes is
 * seen by every running wamp-authd at once, and revocations close live sessions.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Service } from "../../src/service.js";
import { closedWithin, errorOf, ticketLogin } from "../helpers/client.js";
import { cliEnv, cliOk } from "../helpers/cli.js";
import { testHasher } from "../helpers/seed.js";
import { startStack, type Stack } from "../helpers/stack.js";
import { until } from "../helpers/wait.js";

/** Allowed authorize answers a service gave for (realm, action). */
async function allowsAnswered(s: Service, realm: string, action: string): Promise<number> {
  const m = await s.metrics.authorize.get();
  return m.values
    .filter(
      (v) =>
        v.metricName === "authd_authorize_seconds_count" &&
        v.labels.realm === realm &&
        v.labels.action === action &&
        v.labels.outcome === "allow",
    )
    .reduce((n, v) => n + v.value, 0);
}

describe("live changes (CLI and SQL) through a real Crossbar", () => {
  let stack: Stack;
  let env: NodeJS.ProcessEnv;
  const cli = (...args: string[]) => cliOk(args, { env });
  const cliIn = (input: string, ...args: string[]) => cliOk(args, { env, input });
  const served = (s: Service, realm: string) => s.link.servedRealms.includes(realm) && s.link.isReady();

  before(async () => {
    // router.realms empty: the service follows the store's realm list live.
    stack = await startStack({ realms: { app: ["user", "ops", "svc"], late: ["user"] }, service: { router: { realms: [] } } });
    env = cliEnv(stack.store.url);
    await cli("realms", "add", "app");
    await cli("roles", "add", "app", "user");
    await cli("roles", "add", "app", "ops", "--kill-on-change");
    await cli("roles", "add", "app", "svc");
    await cli("grants", "add", "app", "svc", "com.app.*", "--allow", "register,subscribe,publish");
    await cli("grants", "add", "app", "user", "com.app.hello", "--allow", "call");
    await cli("grants", "add", "app", "ops", "com.app.hello", "--allow", "call");
    await cli("users", "add", "app", "svc1", "--role", "svc");
    await cliIn("svc1-pw", "users", "passwd", "app", "svc1");
    await until("the service to join realm app", () => served(stack.service!, "app"));
  });

  after(async () => stack?.stop());

  it("a user added by the CLI logs in at once", async () => {
    await cli("users", "add", "app", "alice", "--role", "user");
    await cliIn("alice-pw\n", "users", "passwd", "app", "alice");
    const c = await ticketLogin(stack.wsUrl, "app", "alice", "alice-pw");
    assert.equal(c.welcome.authrole, "user");
    c.close();
  });

  it("a user added by a plain SQL INSERT logs in at once", async () => {
    const phc = await testHasher.hash("sql-pw");
    await stack.store.pool.query(
      `WITH u AS (INSERT INTO authd.users (realm_id, authid, role) SELECT id, 'sqluser', 'user' FROM authd.realms WHERE name = 'app' RETURNING id)
       INSERT INTO authd.credentials (user_id, method, data) SELECT id, 'ticket', jsonb_build_object('phc', $1::text) FROM u`,
      [phc],
    );
    const c = await ticketLogin(stack.wsUrl, "app", "sqluser", "sql-pw");
    assert.equal(c.welcome.authid, "sqluser");
    c.close();
  });

  it("disabling a logged-in user closes its session within 2 s with wamp.close.logout", async () => {
    await cli("users", "add", "app", "bob", "--role", "user");
    await cliIn("bob-pw", "users", "passwd", "app", "bob");
    const c = await ticketLogin(stack.wsUrl, "app", "bob", "bob-pw");
    await cli("users", "disable", "app", "bob");
    const closed = await closedWithin(c, 2000);
    assert.equal(closed.details.reason, "wamp.close.logout");
  });

  it("a new password or removing the user closes the user's live sessions", async () => {
    await cli("users", "add", "app", "carl", "--role", "user");
    await cliIn("carl-pw", "users", "passwd", "app", "carl");
    let c = await ticketLogin(stack.wsUrl, "app", "carl", "carl-pw");
    await cliIn("carl-pw2", "users", "passwd", "app", "carl");
    assert.equal((await closedWithin(c, 2000)).details.reason, "wamp.close.logout");
    c = await ticketLogin(stack.wsUrl, "app", "carl", "carl-pw2");
    await cli("users", "remove", "app", "carl");
    assert.equal((await closedWithin(c, 2000)).details.reason, "wamp.close.logout");
  });

  it("a new grant allows a previously denied call without restart", async () => {
    const svc = await ticketLogin(stack.wsUrl, "app", "svc1", "svc1-pw");
    const alice = await ticketLogin(stack.wsUrl, "app", "alice", "alice-pw");
    try {
      await svc.session.register("com.app.add", (args: unknown) => (args as number[])[0]! + (args as number[])[1]!);
      assert.equal(await errorOf(alice.session.call("com.app.add", [1, 2])), "wamp.error.not_authorized");
      await cli("grants", "add", "app", "user", "com.app.add", "--allow", "call");
      let result: unknown = null;
      await until("the grant to take effect", async () => {
        try {
          result = await alice.session.call("com.app.add", [1, 2]);
          return true;
        } catch {
          return false;
        }
      });
      assert.equal(result, 3);
    } finally {
      svc.close();
      alice.close();
    }
  });

  it("changing the rules of a kill-on-change role closes that role's sessions", async () => {
    await cli("users", "add", "app", "olga", "--role", "ops");
    await cliIn("olga-pw", "users", "passwd", "app", "olga");
    const olga = await ticketLogin(stack.wsUrl, "app", "olga", "olga-pw");
    const alice = await ticketLogin(stack.wsUrl, "app", "alice", "alice-pw");
    try {
      await cli("grants", "remove", "app", "ops", "com.app.hello");
      const closed = await closedWithin(olga, 5000);
      assert.equal(closed.details.reason, "wamp.close.logout");
      // A role without the flag keeps its sessions.
      await cli("grants", "add", "app", "user", "com.app.more", "--allow", "call");
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(alice.session.isOpen, true);
    } finally {
      alice.close();
    }
  });

  it("a realm added in the store is served live, and removing it closes its sessions", async () => {
    await cli("realms", "add", "late");
    await cli("roles", "add", "late", "user");
    await cli("grants", "add", "late", "user", "com.late.", "--match", "prefix", "--allow", "register,call");
    await cli("users", "add", "late", "lara", "--role", "user");
    await cliIn("lara-pw", "users", "passwd", "late", "lara");
    await until("the service to join realm late", () => served(stack.service!, "late"));
    const c = await ticketLogin(stack.wsUrl, "late", "lara", "lara-pw");
    try {
      await c.session.register("com.late.ping", () => "pong");
      assert.equal(await c.session.call("com.late.ping"), "pong");
      assert.equal(await errorOf(c.session.call("com.other.ping")), "wamp.error.not_authorized");
      // Removing the realm ends its sessions too.
      await cli("realms", "remove", "late");
      assert.equal((await closedWithin(c, 2000)).details.reason, "wamp.close.logout");
    } finally {
      c.close();
    }
  });

  it("two wamp-authd instances both see a change and answer with the new grant", async () => {
    const second = await stack.startService();
    await until("the second instance to join realm app", () => served(second, "app"));
    const first = stack.service!;
    const callee = await ticketLogin(stack.wsUrl, "app", "svc1", "svc1-pw");
    const alice = await ticketLogin(stack.wsUrl, "app", "alice", "alice-pw");
    try {
      await callee.session.register("com.app.twice", () => "ok");
      assert.equal(await errorOf(alice.session.call("com.app.twice")), "wamp.error.not_authorized");
      await stack.store.pool.query(
        `INSERT INTO authd.permissions (role_id, uri, match, allow_call)
         SELECT ro.id, 'com.app.twice', 'exact', true FROM authd.roles ro JOIN authd.realms r ON r.id = ro.realm_id
          WHERE r.name = 'app' AND ro.name = 'user'`,
      );
      for (const s of [first, second]) {
        await until("both indexes to hold the new grant", () => s.permissionIndex.roleAllows("app", "user", "com.app.twice", "call"));
      }
      const before = await Promise.all([first, second].map((s) => allowsAnswered(s, "app", "call")));
      // Crossbar spreads authorize calls round-robin over the two registrations.
      for (let i = 0; i < 6; i++) assert.equal(await alice.session.call("com.app.twice"), "ok");
      const afterCalls = await Promise.all([first, second].map((s) => allowsAnswered(s, "app", "call")));
      assert.ok(afterCalls[0]! > before[0]!, "the first instance answered allow");
      assert.ok(afterCalls[1]! > before[1]!, "the second instance answered allow");
    } finally {
      callee.close();
      alice.close();
    }
  });

  it("a dropped LISTEN connection is re-established and followed by a full reload", async () => {
    const s = stack.service!;
    const pids = async () =>
      (
        await stack.store.pool.query<{ pid: number }>(
          "SELECT pid FROM pg_stat_activity WHERE application_name = 'wamp-authd-listen' AND datname = current_database()",
        )
      ).rows.map((r) => r.pid);
    const old = await pids();
    assert.ok(old.length >= 1);
    await stack.store.pool.query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'wamp-authd-listen' AND datname = current_database()",
    );
    // Changed while no instance is listening: only the reload after reconnecting can pick it up.
    await stack.store.pool.query(
      `INSERT INTO authd.permissions (role_id, uri, match, allow_publish)
       SELECT ro.id, 'com.app.missed', 'exact', true FROM authd.roles ro JOIN authd.realms r ON r.id = ro.realm_id
        WHERE r.name = 'app' AND ro.name = 'user'`,
    );
    await until("a new LISTEN connection", async () => (await pids()).some((p) => !old.includes(p)), 15000);
    await until("the missed grant to be loaded", () => s.permissionIndex.roleAllows("app", "user", "com.app.missed", "publish"), 15000);
  });
});
