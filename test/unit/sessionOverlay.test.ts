/**
 * Groups (nesting, closure), which stored user a session is, and the session's overlay built from
 * its own rules, its groups' rules and the templates (src/authorize/groups.ts, userOverlay.ts).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Decider } from "../../src/authorize/decide.js";
import { GroupGraph, type Group } from "../../src/authorize/groups.js";
import { compileRules } from "../../src/authorize/matcher.js";
import { PermissionIndex } from "../../src/authorize/permissionIndex.js";
import { ReservedUris } from "../../src/authorize/reserved.js";
import type { Action, RequestMatch } from "../../src/authorize/rules.js";
import { type SessionUser, resolveUser, sessionOverlay } from "../../src/authorize/userOverlay.js";
import { denyRule, rule } from "../helpers/rules.js";

const group = (id: number, name: string, rules: Group["rules"] = []): Group => ({ id, realm: "app", name, rules });
const user = (o: Partial<SessionUser> = {}): SessionUser => ({
  id: "1",
  authid: "u1",
  role: "user",
  disabled: false,
  extra: {},
  rules: [],
  groups: [],
  ...o,
});
const decider = new Decider(ReservedUris.none());

describe("group graph", () => {
  it("a member of the innermost of four nested groups is in all four; each once", () => {
    const g = GroupGraph.build(
      [group(1, "g1"), group(2, "g2"), group(3, "g3"), group(4, "g4"), group(5, "other")],
      [
        { group_id: 2, subgroup_id: 1 },
        { group_id: 3, subgroup_id: 2 },
        { group_id: 4, subgroup_id: 3 },
      ],
    );
    assert.deepEqual(g.closure([1]).sort(), [1, 2, 3, 4]);
    assert.deepEqual(g.closure([3]).sort(), [3, 4]);
    assert.deepEqual(g.closure([1, 3, 5]).sort(), [1, 2, 3, 4, 5]);
    assert.deepEqual([...g.within([3])].sort(), [1, 2, 3], "the groups whose members group 3's rules reach");
  });

  it("a diamond counts each group once; an unknown group is ignored", () => {
    const g = GroupGraph.build(
      [group(1, "a"), group(2, "b"), group(3, "c"), group(4, "top", [rule("com.top.", "prefix", ["call"])])],
      [
        { group_id: 2, subgroup_id: 1 },
        { group_id: 3, subgroup_id: 1 },
        { group_id: 4, subgroup_id: 2 },
        { group_id: 4, subgroup_id: 3 },
      ],
    );
    assert.deepEqual(g.closure([1]).sort(), [1, 2, 3, 4]);
    assert.equal(g.rulesOf(g.closure([1])).length, 1);
    assert.deepEqual(g.closure([99]), []);
  });

  it("hostile: a cycle written past the store's check cannot hang the walk", () => {
    const g = GroupGraph.build(
      [group(1, "a"), group(2, "b"), group(3, "c")],
      [
        { group_id: 2, subgroup_id: 1 },
        { group_id: 3, subgroup_id: 2 },
        { group_id: 1, subgroup_id: 3 },
      ],
    );
    assert.deepEqual(g.closure([1]).sort(), [1, 2, 3]);
    assert.deepEqual([...g.within([1])].sort(), [1, 2, 3]);
  });

  it("withRules replaces one group's rules and keeps the rest", () => {
    const g = GroupGraph.build([group(1, "a", [rule("x", "exact", ["call"])]), group(2, "b")], [{ group_id: 2, subgroup_id: 1 }]);
    const h = g.withRules(2, [rule("y", "exact", ["call"])]);
    assert.notEqual(h, g);
    assert.deepEqual(
      h.rulesOf(h.closure([1])).map((r) => r.uri),
      ["x", "y"],
    );
    assert.equal(g.rulesOf(g.closure([1])).length, 1, "the old graph is unchanged");
  });
});

describe("which user a session is", () => {
  it("only enabled users with the session's role count", () => {
    assert.deepEqual(resolveUser([user({ role: "ops" })], "user"), { kind: "none" });
    assert.deepEqual(resolveUser([user({ disabled: true })], "user"), { kind: "none" });
    const u = user();
    assert.deepEqual(resolveUser([u, user({ id: "2", role: "ops" })], "user"), { kind: "user", user: u });
  });

  it("hostile: several users mapped onto one identity with different rules make it ambiguous (nobody gets another's rules)", () => {
    const a = user({ id: "1", rules: [rule("com.a.", "prefix", "all", { source: "user", owner: "a" })] });
    const b = user({ id: "2" });
    assert.deepEqual(resolveUser([a, b], "user"), { kind: "ambiguous", ids: ["1", "2"] });
    assert.deepEqual(resolveUser([user({ id: "1", extra: { t: 1 } }), user({ id: "2", extra: { t: 2 } })], "user").kind, "ambiguous");
    assert.deepEqual(resolveUser([user({ id: "1", groups: [3] }), user({ id: "2" })], "user").kind, "ambiguous");
    // Interchangeable users (nothing of their own, the same extra in any key order): fine.
    const r = resolveUser([user({ id: "1", extra: { a: 1, b: [1, 2] } }), user({ id: "2", extra: { b: [1, 2], a: 1 } })], "user");
    assert.equal(r.kind, "user");
  });
});

describe("the session overlay", () => {
  const index = PermissionIndex.build([
    {
      realm: "app",
      role: "user",
      sessionRules: true,
      rules: [
        rule("com.app.", "prefix", ["call"], { cache: true }),
        rule("com.app.secret", "exact", ["call"], { cache: true }),
        rule("com.app.user.{authid}.", "prefix", "all"),
        rule("com.app.team.{extra.team}.", "prefix", ["subscribe"]),
      ],
    },
  ]);
  const base = index.rules("app", "user")!;
  const groups = GroupGraph.build(
    [
      group(1, "g1"),
      group(2, "g2"),
      group(3, "g3"),
      group(4, "g4", [rule("com.g4.", "prefix", ["subscribe"], { source: "group", owner: "g4" })]),
      group(5, "blockers", [denyRule("com.app.secret", "exact", ["call"], { source: "group", owner: "blockers" })]),
    ],
    [
      { group_id: 2, subgroup_id: 1 },
      { group_id: 3, subgroup_id: 2 },
      { group_id: 4, subgroup_id: 3 },
    ],
  );
  const decide = (u: SessionUser | null, authid: string, uri: string, action: Action, match: RequestMatch = "exact") => {
    const overlay = sessionOverlay(
      {
        realm: "app",
        role: "user",
        authid,
        resolution: u ? resolveUser([u], "user") : { kind: "none" },
        groups,
        roleTemplates: base.templates,
        options: { strictUris: false },
      },
      Date.now(),
    );
    return decider.decide(base, overlay, { uri, action, match }, Date.now());
  };

  it("a user in the innermost of four nested groups gets the outermost group's rule, named as a group rule", () => {
    const v = decide(user({ groups: [1] }), "carol", "com.g4.news", "subscribe");
    assert.equal(v.allow, true);
    assert.deepEqual([v.rules[0]!.source, v.rules[0]!.owner], ["group", "g4"]);
    assert.equal(decide(user(), "dave", "com.g4.news", "subscribe").allow, false);
  });

  it("a deny in a group beats the role's allow at the same specificity; the answer is never cached", () => {
    const v = decide(user({ groups: [5] }), "bob", "com.app.secret", "call");
    assert.equal(v.allow, false);
    assert.deepEqual(v.rules.map((r) => r.source).sort(), ["group", "role"]);
    const other = decide(user(), "alice", "com.app.secret", "call");
    assert.deepEqual([other.allow, other.cache], [true, false], "a session with an overlay is never cached");
  });

  it("templates are substituted with the session's authid and the stored extra; invalid values never match", () => {
    assert.equal(decide(user(), "alice", "com.app.user.alice.inbox", "register").allow, true);
    assert.equal(decide(user(), "bob", "com.app.user.alice.inbox", "register").allow, false);
    assert.equal(decide(user({ extra: { team: "blue" } }), "alice", "com.app.team.blue.x", "subscribe").allow, true);
    assert.equal(decide(user({ extra: { team: "blue.red" } }), "alice", "com.app.team.blue.red.x", "subscribe").allow, false);
    assert.equal(decide(user(), "alice.evil", "com.app.user.alice.evil.x", "subscribe").allow, false);
    // The role's own prefix rule still covers what the template no longer does.
    assert.equal(decide(user(), "alice.evil", "com.app.user.alice.evil.x", "call").allow, true);
    const t = decide(user(), "alice", "com.app.user.alice.inbox", "call");
    assert.equal(t.rules[0]!.template, "com.app.user.{authid}.");
  });

  it("the groups' plain rules are compiled once and shared by every session in the same groups", () => {
    const mk = (authid: string, groupIds: number[]) =>
      sessionOverlay(
        {
          realm: "app",
          role: "user",
          authid,
          resolution: { kind: "user", user: user({ groups: groupIds }) },
          groups,
          roleTemplates: base.templates,
          options: { strictUris: false },
        },
        Date.now(),
      )!;
    const a = mk("a", [1]);
    const b = mk("b", [1]);
    assert.ok(a.shared !== null && a.shared === b.shared, "one compiled set for both");
    assert.equal(a.shared.size, 1, "g4's rule");
    assert.equal(mk("c", [2]).shared, mk("d", [2]).shared);
    assert.notEqual(mk("e", [5]).shared, a.shared);
    assert.equal(a.size, 1, "the overlay itself holds only the substituted role templates ({extra.team} is unset here)");
  });

  it("a window in a group rule counts in the overlay's next change and is applied through the shared set", () => {
    const now = Date.now();
    const timed = GroupGraph.build(
      [group(1, "t", [rule("com.t.", "prefix", ["call"], { source: "group", owner: "t", validUntil: now + 1000 })])],
      [],
    );
    const overlay = sessionOverlay(
      {
        realm: "app",
        role: "user",
        authid: "a",
        resolution: { kind: "user", user: user({ groups: [1] }) },
        groups: timed,
        roleTemplates: [],
        options: { strictUris: false },
      },
      now,
    )!;
    assert.equal(overlay.nextChange, now + 1000);
    assert.equal(decider.answerWith(null, overlay, "com.t.x", "call", now).allow, true);
    assert.equal(decider.answerWith(null, overlay, "com.t.x", "call", now + 1000).allow, false);
    assert.equal(decider.decide(null, overlay, { uri: "com.t.x", action: "call", match: "exact" }, now + 1000).allow, false);
  });

  it("an ambiguous identity is denied everything", () => {
    const overlay = sessionOverlay(
      {
        realm: "app",
        role: "user",
        authid: "x",
        resolution: { kind: "ambiguous", ids: ["1", "2"] },
        groups,
        roleTemplates: [],
        options: { strictUris: false },
      },
      Date.now(),
    );
    assert.equal(decider.decide(base, overlay, { uri: "com.app.open", action: "call", match: "exact" }, Date.now()).allow, false);
  });
});

describe("an overlay with a shared part decides exactly like one set holding both", () => {
  it("random rules, exact and pattern requests, answerWith and decide", () => {
    let s = 7;
    const rnd = (n: number) => {
      s = (s * 1103515245 + 12345) & 0x7fffffff;
      return s % n;
    };
    const pick = <T>(xs: readonly T[]): T => xs[rnd(xs.length)] as T;
    const comps = ["a", "b", "c", "wamp"];
    const uriOf = (n: number) => Array.from({ length: n }, () => pick(comps)).join(".");
    const actions = ["call", "register", "publish", "subscribe"] as const;
    const randomRule = (source: "role" | "group" | "user") => {
      const match = pick(["exact", "prefix", "wildcard"] as const);
      const uri =
        match === "exact"
          ? uriOf(1 + rnd(3))
          : match === "prefix"
            ? uriOf(rnd(3)) + pick(["", ".", "b"])
            : Array.from({ length: 1 + rnd(3) }, () => pick([...comps, ""])).join(".");
      const acts = actions.filter(() => rnd(2) === 0);
      return rnd(4) === 0 ? denyRule(uri, match, acts, { source }) : rule(uri, match, acts, { source });
    };
    const d = new Decider(ReservedUris.none());
    let checked = 0;
    for (let round = 0; round < 300; round++) {
      const baseRules = Array.from({ length: rnd(6) }, () => randomRule("role"));
      const own = Array.from({ length: rnd(5) }, () => randomRule("user"));
      const grp = Array.from({ length: 1 + rnd(6) }, () => randomRule("group"));
      const base = baseRules.length ? compileRules(baseRules, 0, { cacheable: false }) : null;
      const whole = compileRules([...own, ...grp], 0, { cacheable: false });
      const split = compileRules(own, 0, { cacheable: false, shared: compileRules(grp, 0, { cacheable: false }) });
      for (let q = 0; q < 15; q++) {
        const action = pick(actions);
        const match = pick(["exact", "exact", "prefix", "wildcard"] as const);
        const uri = match === "wildcard" ? Array.from({ length: 1 + rnd(3) }, () => pick([...comps, ""])).join(".") : uriOf(1 + rnd(3));
        if (uri === "" || (match === "exact" && uri.split(".").includes(""))) continue;
        const a = d.decide(base, whole, { uri, action, match });
        const b = d.decide(base, split, { uri, action, match });
        assert.deepEqual(
          [b.allow, b.reason, b.rules.map((r) => r.id).sort()],
          [a.allow, a.reason, a.rules.map((r) => r.id).sort()],
          `${match} ${uri} ${action}`,
        );
        if (match === "exact") assert.deepEqual(d.answerWith(base, split, uri, action), d.answerWith(base, whole, uri, action));
        checked++;
      }
    }
    assert.ok(checked > 3000, `${checked} requests`);
  });
});
