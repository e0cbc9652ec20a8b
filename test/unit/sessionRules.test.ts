/**
 * The session-rules provider (src/service/sessionRules.ts) with an in-memory loader: no user load
 * for roles without session rules, shared loads, invalidation while loading, the pending flag that
 * keeps answers out of the router's cache, eviction with live sessions kept.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { GroupGraph } from "../../src/authorize/groups.js";
import { CompiledRules } from "../../src/authorize/matcher.js";
import { PermissionIndex } from "../../src/authorize/permissionIndex.js";
import type { SessionUser } from "../../src/authorize/userOverlay.js";
import { createLogger } from "../../src/log/logger.js";
import { SessionRules } from "../../src/service/sessionRules.js";
import { rule } from "../helpers/rules.js";

const log = createLogger("silent");
const NO_GROUPS = GroupGraph.empty();

function setup(o: { maxEntries?: number; sessionRoles?: boolean } = {}) {
  const db = new Map<string, SessionUser[]>();
  const loads: string[] = [];
  let gate: Promise<void> | null = null;
  const index = PermissionIndex.build([
    { realm: "app", role: "user", sessionRules: o.sessionRoles ?? true, rules: [rule("com.app.", "prefix", ["call"], { cache: true })] },
    { realm: "app", role: "plain", rules: [rule("com.app.", "prefix", ["call"], { cache: true })] },
  ]);
  const sr = new SessionRules({
    load: async (realm, authid) => {
      loads.push(`${realm}/${authid}`);
      const snapshot = structuredClone(db.get(authid) ?? []);
      if (gate) await gate;
      return snapshot;
    },
    index: () => index,
    groups: () => NO_GROUPS,
    options: { strictUris: false },
    maxEntries: o.maxEntries ?? 100,
    log,
  });
  return {
    db,
    loads,
    sr,
    hold() {
      let release!: () => void;
      gate = new Promise((r) => (release = r));
      return () => {
        gate = null;
        release();
      };
    },
  };
}

const alice = (rules = 1): SessionUser => ({
  id: "1",
  authid: "alice",
  role: "user",
  disabled: false,
  extra: {},
  rules: Array.from({ length: rules }, (_, i) => rule(`com.alice.${i}`, "exact", ["call"], { source: "user", owner: "alice" })),
  groups: [],
});

describe("session rules provider", () => {
  it("a role without session rules needs no user: null at once, nothing loaded", () => {
    const t = setup();
    assert.equal(t.sr.provider("app", "plain", "alice"), null);
    assert.deepEqual(t.loads, []);
  });

  it("a miss loads once (shared by concurrent requests); then answers synchronously", async () => {
    const t = setup();
    t.db.set("alice", [alice()]);
    const a = t.sr.provider("app", "user", "alice");
    const b = t.sr.provider("app", "user", "alice");
    assert.ok(a instanceof Promise && b instanceof Promise);
    const [oa, ob] = await Promise.all([a, b]);
    assert.ok(oa instanceof CompiledRules);
    assert.equal(oa, ob);
    assert.deepEqual(t.loads, ["app/alice"]);
    assert.equal(t.sr.provider("app", "user", "alice"), oa, "cached: synchronous, the same overlay");
  });

  it("an invalidation during a load makes the load start over: no stale rules are kept", async () => {
    const t = setup();
    t.db.set("alice", [alice(1)]);
    const release = t.hold();
    const pending = t.sr.provider("app", "user", "alice");
    await new Promise((r) => setImmediate(r));
    t.db.set("alice", [alice(2)]);
    t.sr.invalidate("app", "alice");
    release();
    const overlay = (await pending) as CompiledRules;
    assert.equal(overlay.size, 2, "the rows read after the change");
    assert.deepEqual(t.loads, ["app/alice", "app/alice"]);
  });

  it("invalidate drops the cached overlay; the next decision waits for the new rules", async () => {
    const t = setup();
    t.db.set("alice", [alice(1)]);
    await t.sr.warm("app", "alice");
    assert.equal((t.sr.provider("app", "user", "alice") as CompiledRules).size, 1);
    t.db.set("alice", []);
    t.sr.invalidate("app", "alice");
    const next = t.sr.provider("app", "user", "alice");
    assert.ok(next instanceof Promise);
    assert.equal(await next, null);
  });

  it("pending: a realm whose user just got a first rule answers with an (uncached) overlay until an index loaded after it", async () => {
    const t = setup({ sessionRoles: false });
    assert.equal(t.sr.provider("app", "user", "alice"), null);
    const token = t.sr.indexLoadStarting();
    t.sr.markPending("app");
    t.db.set("alice", [alice(1)]);
    const o = await t.sr.provider("app", "user", "alice");
    assert.ok(o instanceof CompiledRules && o.size === 1);
    // An empty overlay for a user without rules: still keeps the router from caching.
    const none = await t.sr.provider("app", "user", "nobody");
    assert.ok(none instanceof CompiledRules && none.size === 0);
    t.sr.indexLoaded(token);
    assert.notEqual(t.sr.provider("app", "user", "carl"), null, "a load that started before the mark does not clear it");
    t.sr.indexLoaded(t.sr.indexLoadStarting());
    assert.equal(t.sr.provider("app", "user", "carl"), null);
  });

  it("bounded: identities without live sessions are evicted oldest first; live ones stay; the last leave evicts", async () => {
    const t = setup({ maxEntries: 10 });
    t.sr.joined("app", "live");
    await t.sr.warm("app", "live");
    for (let i = 0; i < 30; i++) await t.sr.warm("app", `u${i}`);
    assert.ok(t.sr.size <= 11, `${t.sr.size} entries`);
    assert.notEqual(t.sr.cached("app", "live"), null, "an identity with a live session is kept");
    assert.equal(t.sr.cached("app", "u0"), null);
    t.sr.left("app", "live");
    assert.equal(t.sr.cached("app", "live"), null);
  });

  it("a failing load rejects (the authorizer denies) and is retried on the next request", async () => {
    let fail = true;
    const index = PermissionIndex.build([{ realm: "app", role: "user", sessionRules: true, rules: [] }]);
    const sr = new SessionRules({
      load: () => (fail ? Promise.reject(new Error("store down")) : Promise.resolve([])),
      index: () => index,
      groups: () => NO_GROUPS,
      options: { strictUris: false },
      maxEntries: 10,
      log,
    });
    await assert.rejects(Promise.resolve(sr.provider("app", "user", "alice")), /store down/);
    fail = false;
    assert.equal(await sr.provider("app", "user", "alice"), null);
  });
});

describe("a change to one group's rules", () => {
  it("rebuilds the overlays of that group's users only", async () => {
    const index = PermissionIndex.build([{ realm: "app", role: "user", sessionRules: true, rules: [] }]);
    const g = (id: number, uri: string) => ({
      id,
      realm: "app",
      name: `g${id}`,
      rules: [rule(uri, "prefix", ["call"], { source: "group", owner: `g${id}` })],
    });
    let graph = GroupGraph.build([g(1, "com.one."), g(2, "com.two."), g(3, "com.three.")], [{ group_id: 3, subgroup_id: 1 }]);
    const member = (authid: string, groups: number[]): SessionUser => ({
      id: authid,
      authid,
      role: "user",
      disabled: false,
      extra: {},
      rules: [],
      groups,
    });
    const users: Record<string, SessionUser[]> = { a: [member("a", [1])], b: [member("b", [2])] };
    const sr = new SessionRules({
      load: (_realm, authid) => Promise.resolve(users[authid] ?? []),
      index: () => index,
      groups: () => graph,
      options: { strictUris: false },
      maxEntries: 10,
      log,
    });
    const a0 = await sr.provider("app", "user", "a");
    const b0 = await sr.provider("app", "user", "b");
    // Group 3 (which holds group 1, a's group) changes: a's overlay is rebuilt, b's is kept.
    graph = graph.withRules(3, [rule("com.three.new.", "prefix", ["call"], { source: "group", owner: "g3" })]);
    const a1 = sr.provider("app", "user", "a") as CompiledRules;
    const b1 = sr.provider("app", "user", "b");
    assert.notEqual(a1, a0);
    assert.equal(b1, b0, "untouched");
    assert.equal(a1.shared!.size, 2);
    // A reload of the whole graph cannot tell: everything is rebuilt.
    graph = GroupGraph.build([g(1, "com.one."), g(2, "com.two."), g(3, "com.three.")], [{ group_id: 3, subgroup_id: 1 }]);
    assert.notEqual(sr.provider("app", "user", "b"), b0);
  });
});

describe("a user's rule carried by its notification", () => {
  it("is applied to the cached identity without a store read; nothing cached: left to a load", async () => {
    const t = setup();
    t.db.set("alice", [alice(1)]);
    await t.sr.warm("app", "alice");
    const row = (id: string, uri: string) => ({
      id,
      uri,
      match: "exact" as const,
      allow_call: true,
      allow_register: false,
      allow_publish: false,
      allow_subscribe: false,
      deny_call: false,
      deny_register: false,
      deny_publish: false,
      deny_subscribe: false,
      disclose_caller: false,
      disclose_publisher: false,
      cache: false,
      valid_from: null,
      valid_until: null,
    });
    const before = t.sr.provider("app", "user", "alice") as CompiledRules;
    assert.equal(t.sr.patchRule("app", "alice", "1", "INSERT", row("900", "com.new")), true);
    const after = t.sr.provider("app", "user", "alice") as CompiledRules;
    assert.ok(after instanceof CompiledRules, "still synchronous: no load");
    assert.notEqual(after, before);
    assert.equal(after.size, 2);
    assert.equal(t.sr.cached("app", "alice")![0]!.rules.find((r) => r.id === 900)?.owner, "alice");
    assert.equal(t.sr.patchRule("app", "alice", "1", "UPDATE", { ...row("900", "com.new"), allow_call: false, deny_call: true }), true);
    assert.equal(t.sr.cached("app", "alice")![0]!.rules.find((r) => r.id === 900)?.deny.call, true);
    assert.equal(t.sr.patchRule("app", "alice", "1", "DELETE", { id: "900" }), true);
    assert.equal((t.sr.provider("app", "user", "alice") as CompiledRules).size, 1);
    assert.deepEqual(t.loads, ["app/alice"], "one load, at the start");
    assert.equal(t.sr.patchRule("app", "bob", "2", "INSERT", row("901", "com.x")), false, "not cached");
    assert.equal(t.sr.patchRule("app", "alice", "99", "INSERT", row("902", "com.x")), false, "another user");
    assert.equal(t.sr.patchRule("app", "alice", "1", "INSERT", { id: "903" }), false, "malformed");
  });
});
