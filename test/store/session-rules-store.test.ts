/**
 * The store's side of session rules, in plain SQL against a real Postgres: groups and their nesting
 * (cycles refused, also when two transactions race), members from another realm refused, rule
 * constraints (one owner, allow/deny, window, cache, templates), the change notifications that name
 * one user or one group, and finding a session's users through their overrides.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import pg from "pg";
import * as admin from "../../src/store/adminQueries.js";
import { loadGroupGraph, loadIndex, loadSessionUsers } from "../../src/store/ruleLoaders.js";
import { freshStore, type TestStore } from "../helpers/db.js";

describe("session rules in the store", () => {
  let store: TestStore;
  let db: pg.Pool;
  const gid = async (name: string) => (await db.query<{ id: number }>("SELECT id FROM authd.groups WHERE name = $1", [name])).rows[0]!.id;
  const nest = (outer: string, inner: string) =>
    db.query(
      "INSERT INTO authd.group_subgroups (group_id, subgroup_id) SELECT o.id, i.id FROM authd.groups o, authd.groups i WHERE o.name = $1 AND i.name = $2",
      [outer, inner],
    );
  const uid = async (authid: string) =>
    (await db.query<{ id: string }>("SELECT id::text AS id FROM authd.users WHERE authid = $1", [authid])).rows[0]!.id;

  before(async () => {
    store = await freshStore();
    db = store.pool;
    await admin.addRealm(db, "app");
    await admin.addRealm(db, "other");
    await admin.addRole(db, "app", "user");
    await admin.addRole(db, "other", "user");
    for (const g of ["a", "b", "c", "d"]) await admin.addGroup(db, "app", g);
    await admin.addGroup(db, "other", "x");
    await admin.addUser(db, { realm: "app", authid: "alice", role: "user", extra: { team: "blue" } });
    await admin.addUser(db, { realm: "other", authid: "olga", role: "user" });
  });
  after(async () => store?.close());

  it("hostile: a group cycle written in SQL is refused with a clear error (self, two, four groups)", async () => {
    await assert.rejects(nest("a", "a"), /group_subgroups_check|cycle/);
    await nest("b", "a"); // a inside b
    await assert.rejects(nest("a", "b"), /group cycle: "a" cannot contain "b", which already contains "a"/);
    await nest("c", "b");
    await nest("d", "c"); // a ⊂ b ⊂ c ⊂ d
    await assert.rejects(nest("a", "d"), /group cycle: "a" cannot contain "d"/);
    // The same through an UPDATE of an existing edge.
    await assert.rejects(
      db.query("UPDATE authd.group_subgroups SET group_id = $1 WHERE group_id = $2 AND subgroup_id = $3", [
        await gid("a"),
        await gid("d"),
        await gid("c"),
      ]),
      /group cycle/,
    );
  });

  it("hostile: two transactions each adding half of a cycle cannot both commit", async () => {
    await admin.addGroup(db, "app", "p");
    await admin.addGroup(db, "app", "q");
    const c1 = await db.connect();
    const c2 = await db.connect();
    try {
      await c1.query("BEGIN");
      await c2.query("BEGIN");
      const ins = (c: pg.PoolClient, o: string, i: string) =>
        c.query(
          "INSERT INTO authd.group_subgroups (group_id, subgroup_id) SELECT o.id, i.id FROM authd.groups o, authd.groups i WHERE o.name = $1 AND i.name = $2",
          [o, i],
        );
      await ins(c1, "p", "q");
      const second = ins(c2, "q", "p"); // waits for c1's lock
      await new Promise((r) => setTimeout(r, 100));
      await c1.query("COMMIT");
      await assert.rejects(second, /group cycle/);
      await c2.query("ROLLBACK");
    } finally {
      c1.release();
      c2.release();
    }
  });

  it("members and subgroups must be in the group's realm", async () => {
    await assert.rejects(
      db.query("INSERT INTO authd.group_members (group_id, user_id) VALUES ($1, $2)", [await gid("a"), await uid("olga")]),
      /must be in the group's realm/,
    );
    await assert.rejects(
      db.query("INSERT INTO authd.group_subgroups (group_id, subgroup_id) VALUES ($1, $2)", [await gid("a"), await gid("x")]),
      /must be in the group's realm/,
    );
  });

  it("a rule has exactly one owner, never allows and denies one action, has an ordered window, caches only as a role rule, and a valid template", async () => {
    const alice = await uid("alice");
    const bad: Array<[string, unknown[], RegExp]> = [
      ["INSERT INTO authd.permissions (uri) VALUES ('x')", [], /permissions_one_owner/],
      ["INSERT INTO authd.permissions (user_id, group_id, uri) VALUES ($1, $2, 'x')", [alice, await gid("a")], /permissions_one_owner/],
      [
        "INSERT INTO authd.permissions (user_id, uri, allow_call, deny_call) VALUES ($1, 'x', true, true)",
        [alice],
        /permissions_allow_or_deny/,
      ],
      [
        "INSERT INTO authd.permissions (user_id, uri, valid_from, valid_until) VALUES ($1, 'x', '2030-01-02', '2030-01-01')",
        [alice],
        /permissions_window/,
      ],
      ["INSERT INTO authd.permissions (user_id, uri, cache) VALUES ($1, 'x', true)", [alice], /permissions_cache_role_only/],
      ["INSERT INTO authd.permissions (user_id, uri) VALUES ($1, 'com.{user}.x')", [alice], /permissions_template/],
      ["INSERT INTO authd.permissions (user_id, uri) VALUES ($1, 'com.{authid.x')", [alice], /permissions_template/],
      ["INSERT INTO authd.permissions (user_id, uri) VALUES ($1, 'com.}x')", [alice], /permissions_template/],
    ];
    for (const [sql, values, err] of bad) await assert.rejects(db.query(sql, values), err, sql);
    await db.query(
      "INSERT INTO authd.permissions (user_id, uri, match, allow_call) VALUES ($1, 'com.{authid}.{extra.team}.', 'prefix', true)",
      [alice],
    );
    await assert.rejects(
      db.query("INSERT INTO authd.permissions (user_id, uri, match) VALUES ($1, 'com.{authid}.{extra.team}.', 'prefix')", [alice]),
      /permissions_user_rule/,
    );
  });

  it("change notifications name the user's session identity (overrides applied) or the group", async () => {
    const listener = new pg.Client({ connectionString: store.url });
    await listener.connect();
    const seen: Array<Record<string, unknown>> = [];
    listener.on("notification", (m) => seen.push(JSON.parse(m.payload!)));
    await listener.query("LISTEN authd_change");
    try {
      await admin.addUser(db, { realm: "app", authid: "bob", role: "user", authidOverride: "robert", realmOverride: "other" });
      await admin.grantTo(db, "app", { kind: "user", authid: "bob" }, { uri: "com.bob.", match: "prefix", allow: ["call"] });
      await admin.addGroupUser(db, "app", "a", "bob");
      await admin.grantTo(db, "app", { kind: "group", name: "a" }, { uri: "com.a.", match: "prefix", allow: ["call"] });
      await admin.setUserExtra(db, "app", "bob", { k: 1 });
      await new Promise((r) => setTimeout(r, 200));
      const pick = (table: string) => seen.filter((e) => e.table === table);
      const userRule = pick("permissions").find((e) => e.user_id !== null)!;
      assert.deepEqual([userRule.realm, userRule.authid], ["other", "robert"]);
      const carried = userRule.rule as Record<string, unknown>;
      assert.deepEqual(
        [carried.uri, carried.match, carried.allow_call, carried.deny_call, carried.valid_until],
        ["com.bob.", "prefix", true, false, null],
      );
      const groupRule = pick("permissions").find((e) => e.group_id !== null)!;
      assert.equal(groupRule.group_id, await gid("a"));
      assert.equal(groupRule.role_id, null);
      const member = pick("group_members")[0]!;
      assert.deepEqual([member.realm, member.authid], ["other", "robert"]);
      // A rule moved from a group to a user names both owners; a deleted user rule carries its id.
      const ruleId = Number(
        await admin.grantTo(db, "app", { kind: "user", authid: "bob" }, { uri: "com.bob.tmp.", match: "prefix", allow: ["call"] }),
      );
      await db.query("UPDATE authd.permissions SET user_id = NULL, group_id = $2 WHERE id = $1", [ruleId, await gid("b")]);
      await db.query("UPDATE authd.permissions SET group_id = NULL, user_id = $2 WHERE id = $1", [ruleId, await uid("bob")]);
      await db.query("DELETE FROM authd.permissions WHERE id = $1", [ruleId]);
      await new Promise((r) => setTimeout(r, 200));
      const moves = seen.filter((e) => e.table === "permissions" && e.op === "UPDATE");
      assert.deepEqual(
        [moves[0]!.old_user_id, moves[0]!.old_realm, moves[0]!.old_authid, moves[0]!.group_id],
        [Number(await uid("bob")), "other", "robert", await gid("b")],
      );
      assert.deepEqual([moves[1]!.old_group_id, moves[1]!.user_id], [await gid("b"), Number(await uid("bob"))]);
      const deleted = seen.find((e) => e.table === "permissions" && e.op === "DELETE")!;
      assert.deepEqual(deleted.rule, { id: String(ruleId) });
      const update = pick("users").find((e) => e.op === "UPDATE")!;
      assert.deepEqual(
        [update.realm, update.authid, update.old_realm, update.old_authid, update.revoke],
        ["other", "robert", "other", "robert", undefined],
      );
    } finally {
      await listener.end();
    }
  });

  it("a session's users are found by their effective identity, whichever override applies", async () => {
    await admin.addUser(db, { realm: "app", authid: "carl", role: "user", realmOverride: "other" });
    await admin.addUser(db, { realm: "app", authid: "dora", role: "user", authidOverride: "d" });
    assert.deepEqual(
      (await loadSessionUsers(db, "app", "alice")).map((u) => u.id),
      [await uid("alice")],
    );
    assert.deepEqual(
      (await loadSessionUsers(db, "other", "robert")).map((u) => u.id),
      [await uid("bob")],
    );
    assert.deepEqual(
      (await loadSessionUsers(db, "other", "carl")).map((u) => u.id),
      [await uid("carl")],
    );
    assert.deepEqual(
      (await loadSessionUsers(db, "app", "d")).map((u) => u.id),
      [await uid("dora")],
    );
    assert.deepEqual(await loadSessionUsers(db, "app", "bob"), [], "bob's sessions are robert in realm other");
    assert.deepEqual(await loadSessionUsers(db, "app", "carl"), []);
    const bob = (await loadSessionUsers(db, "other", "robert"))[0]!;
    assert.deepEqual(bob.groups, [await gid("a")]);
    assert.deepEqual([bob.rules[0]!.uri, bob.rules[0]!.source, bob.rules[0]!.owner], ["com.bob.", "user", "bob"]);
    // A second user mapped onto the same identity is returned too (the overlay then decides it is ambiguous).
    await admin.addUser(db, { realm: "other", authid: "robert", role: "user" });
    assert.equal((await loadSessionUsers(db, "other", "robert")).length, 2);
  });

  it("the index flags (realm, role) of users with rules or groups, in their session realm; groups load with their rules", async () => {
    const { index } = await loadIndex(db);
    assert.equal(index.hasSessionRules("app", "user"), true, "alice has a rule");
    assert.equal(index.hasSessionRules("other", "user"), true, "bob's sessions are in realm other");
    const graph = await loadGroupGraph(db);
    assert.deepEqual(
      graph.rulesOf(graph.closure([await gid("a")])).map((r) => [r.uri, r.source, r.owner]),
      [["com.a.", "group", "a"]],
    );
  });

  it("a window bound at infinity: an unbounded side, or a rule that never exists", async () => {
    const alice = await uid("alice");
    await db.query("INSERT INTO authd.permissions (user_id, uri, valid_from) VALUES ($1, 'never', 'infinity')", [alice]);
    await db.query("INSERT INTO authd.permissions (user_id, uri, valid_until) VALUES ($1, 'always', 'infinity')", [alice]);
    const rules = (await loadSessionUsers(db, "app", "alice"))[0]!.rules;
    const never = rules.find((r) => r.uri === "never")!;
    const always = rules.find((r) => r.uri === "always")!;
    assert.equal(never.validFrom, Number.MAX_SAFE_INTEGER);
    assert.deepEqual([always.validFrom, always.validUntil], [null, null]);
  });
});

describe("README's SQL for groups and rules", () => {
  it("runs as written and gives alice the groups' and her own rules", async () => {
    const store = await freshStore();
    try {
      const db = store.pool;
      await admin.addRealm(db, "app");
      await admin.addRole(db, "app", "user");
      await admin.addUser(db, { realm: "app", authid: "alice", role: "user" });
      const readme = (await import("node:fs")).readFileSync(new URL("../../../README.md", import.meta.url), "utf8");
      const block = /```sql\n-- data\/0003_groups\.sql\n([\s\S]*?)```/.exec(readme)?.[1];
      assert.ok(block, "the README has the block");
      await db.query(block);
      const users = await loadSessionUsers(db, "app", "alice");
      const graph = await loadGroupGraph(db);
      assert.deepEqual(
        graph.rulesOf(graph.closure(users[0]!.groups)).map((r) => [r.uri, r.owner]),
        [["com.app.staff.", "staff"]],
      );
      // The date is read in the server's time zone, like any timestamptz literal.
      const { rows } = await db.query<{ ms: number }>("SELECT (extract(epoch FROM '2027-01-01'::timestamptz) * 1000)::float8 AS ms");
      assert.deepEqual(
        users[0]!.rules.map((r) => [r.uri, r.validUntil]),
        [["com.app.alice.", rows[0]!.ms]],
      );
    } finally {
      await store.close();
    }
  });
});
