/**
 * Reserved names through a real Crossbar: the service's own static role (learned from its WELCOME)
 * and `trusted` can't be assigned from the store (SQL, CLI) nor carried by a login answer, and no
 * login lands in the authenticator realm when it is a realm of its own.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import * as admin from "../../src/store/adminQueries.js";
import { abortOf, ticketLogin } from "../helpers/client.js";
import { cliEnv, runCli } from "../helpers/cli.js";
import { waitFor } from "../helpers/logCapture.js";
import { userWithTicket } from "../helpers/seed.js";
import { startStack, type Stack } from "../helpers/stack.js";

async function sqlError(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await p;
  } catch (err) {
    return err as { code: string; message: string };
  }
  throw new Error("expected the statement to be refused");
}

describe("reserved roles and the authenticator realm (real Crossbar)", () => {
  let stack: Stack;

  before(async () => {
    stack = await startStack({ realms: { app: ["user"] } });
    const db = stack.store.pool;
    await admin.addRealm(db, "app");
    await admin.addRole(db, "app", "user");
    await admin.grant(db, "app", "user", { uri: "com.example.", match: "prefix", allow: ["call"] });
    await userWithTicket(db, { realm: "app", authid: "alice", role: "user" }, "alice-ticket");
    await stack.service!.reload();
  });

  after(async () => stack?.stop());

  /** Why the last login of `authid` was denied, from the audit trail. */
  const lastReason = async (authid: string): Promise<string> => {
    await stack.service!.audit.flush();
    const { rows } = await stack.store.pool.query<{ reason: string }>(
      "SELECT reason FROM authd.audit WHERE kind = 'login' AND authid = $1 ORDER BY id DESC LIMIT 1",
      [authid],
    );
    return rows[0]?.reason ?? "";
  };

  it("records the service's own role, read from its WELCOME, as reserved", async () => {
    await waitFor("the service role in authd.reserved_roles", async () => {
      const { rows } = await stack.store.pool.query<{ name: string }>("SELECT name FROM authd.reserved_roles");
      return rows.some((r) => r.name === "authd");
    });
    assert.ok(stack.service!.reserved.has("authd"));
  });

  it("refuses the service's role and trusted in roles, users and anonymous policies, by SQL", async () => {
    const db = stack.store.pool;
    for (const name of ["authd", "trusted"]) {
      const role = await sqlError(
        db.query("INSERT INTO authd.roles (realm_id, name) SELECT id, $1 FROM authd.realms WHERE name = 'app'", [name]),
      );
      assert.equal(role.code, "23514", role.message);
      assert.match(role.message, /reserved|check constraint/);
    }
    const user = await sqlError(
      db.query("INSERT INTO authd.users (realm_id, authid, role) SELECT id, 'mallory', 'authd' FROM authd.realms WHERE name = 'app'"),
    );
    assert.match(user.message, /role "authd" is reserved/);
    const anon = await sqlError(db.query("UPDATE authd.realms SET anonymous_allowed = true, anonymous_role = 'authd' WHERE name = 'app'"));
    assert.match(anon.message, /role "authd" is reserved/);
    const moved = await sqlError(db.query("UPDATE authd.users SET role = 'authd' WHERE authid = 'alice'"));
    assert.match(moved.message, /role "authd" is reserved/);
  });

  it("refuses it in the CLI with a one-line error", async () => {
    const r = await runCli(["roles", "add", "app", "authd"], { env: cliEnv(stack.store.url) });
    assert.equal(r.code, 1);
    assert.match(r.stderr.trim(), /^wamp-authd: .*role "authd" is reserved/);
    assert.equal(r.stderr.trim().split("\n").length, 1);
  });

  it("denies a login whose answer would carry the service's role (a row older than the reservation)", async () => {
    const db = stack.store.pool;
    // What an earlier import or hand-written SQL may have left behind, before the name was reserved.
    await db.query("ALTER TABLE authd.roles DISABLE TRIGGER roles_reserved");
    await db.query("ALTER TABLE authd.users DISABLE TRIGGER users_reserved");
    try {
      await admin.addRole(db, "app", "authd");
      await userWithTicket(db, { realm: "app", authid: "mallory", role: "authd" }, "mallory-ticket");
    } finally {
      await db.query("ALTER TABLE authd.roles ENABLE TRIGGER roles_reserved");
      await db.query("ALTER TABLE authd.users ENABLE TRIGGER users_reserved");
    }
    await stack.service!.reload();
    const a = await abortOf(ticketLogin(stack.wsUrl, "app", "mallory", "mallory-ticket"));
    assert.equal(a.reason, "wamp.error.not_authorized");
    assert.match(await lastReason("mallory"), /role authd is reserved/);
    const ok = await ticketLogin(stack.wsUrl, "app", "alice", "alice-ticket");
    assert.equal(ok.welcome.authrole, "user");
    ok.close();
  });

  it("lets no login land in the authenticator realm, by request or by override", async () => {
    const db = stack.store.pool;
    // Even with the realm in the store and an anonymous policy there (a legacy import did that).
    await admin.addRealm(db, "authd");
    await admin.addRole(db, "authd", "guest");
    await db.query("UPDATE authd.realms SET anonymous_allowed = true, anonymous_role = 'guest' WHERE name = 'authd'");
    await userWithTicket(db, { realm: "authd", authid: "eve", role: "guest" }, "eve-ticket");
    await userWithTicket(db, { realm: "app", authid: "bob", role: "user", realmOverride: "authd" }, "bob-ticket");
    await stack.service!.reload();
    assert.equal((await abortOf(ticketLogin(stack.wsUrl, "authd", "eve", "eve-ticket"))).reason, "wamp.error.not_authorized");
    assert.match(await lastReason("eve"), /authenticator realm/);
    assert.equal((await abortOf(ticketLogin(stack.wsUrl, "app", "bob", "bob-ticket"))).reason, "wamp.error.not_authorized");
    assert.match(await lastReason("bob"), /authenticator realm/);
  });
});
