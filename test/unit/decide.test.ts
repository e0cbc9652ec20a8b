/**
 * The decision core (src/authorize/decide.ts): precedence across sources, merging, no
 * fall-through, cache honesty, time windows, pattern requests, reserved URIs and the wamp. guard.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Decider } from "../../src/authorize/decide.js";
import { type CompiledRules, compileRules } from "../../src/authorize/matcher.js";
import { PermissionIndex } from "../../src/authorize/permissionIndex.js";
import { ReservedUris } from "../../src/authorize/reserved.js";
import { ACTIONS, type Action, type MatchKind, type RequestMatch, type Rule, type Verdict } from "../../src/authorize/rules.js";
import { denyRule, rule } from "../helpers/rules.js";

const RESERVED = ReservedUris.forProcedures({
  authenticate: "authd.authenticate",
  authorize: "authd.authorize",
  userPrefix: "authd.tokens.",
});
const d = new Decider(RESERVED);

const set = (rules: Rule[], opts: { now?: number; cacheable?: boolean } = {}) =>
  compileRules(rules, opts.now ?? 0, { cacheable: opts.cacheable ?? true });
const user = (r: Rule): Rule => ({ ...r, source: "user", owner: "alice" });
const group = (r: Rule, name = "ops"): Rule => ({ ...r, source: "group", owner: name });

function decide(
  base: CompiledRules | null,
  overlay: CompiledRules | null,
  uri: string,
  action: Action,
  match: RequestMatch = "exact",
  now?: number,
): Verdict {
  return d.decide(base, overlay, { uri, action, match }, now);
}

describe("precedence across sources", () => {
  it("the most specific match wins wherever it comes from", () => {
    const base = set([rule("com.app.", "prefix", ["call"]), rule("com.app.admin.reset", "exact", ["call"])]);
    const overlay = set([user(denyRule("com.app.admin.", "prefix", ["call"])), user(rule("com.app..status", "wildcard", ["call"]))]);
    assert.equal(decide(base, overlay, "com.app.orders.list", "call").allow, true, "base prefix com.app.");
    assert.equal(decide(base, overlay, "com.app.admin.drop", "call").reason, "rule");
    assert.equal(decide(base, overlay, "com.app.admin.drop", "call").allow, false, "overlay's longer prefix denies");
    assert.equal(decide(base, overlay, "com.app.admin.reset", "call").allow, true, "base exact beats overlay prefix");
    const v = decide(base, overlay, "com.app.admin.status", "call");
    assert.equal(v.allow, true, "overlay wildcard beats overlay prefix");
    assert.equal(v.rules[0]?.uri, "com.app..status");
  });

  it("at the same specificity an explicit deny beats any allow, from any source", () => {
    const base = set([rule("com.app.x", "exact", "all")]);
    for (const overlay of [set([user(denyRule("com.app.x", "exact", ["call"]))]), set([group(denyRule("com.app.x", "exact", ["call"]))])]) {
      const v = decide(base, overlay, "com.app.x", "call");
      assert.equal(v.allow, false);
      assert.equal(v.rules.length, 2, "both rules decide");
      assert.equal(decide(base, overlay, "com.app.x", "subscribe").allow, true, "only the denied action");
    }
    // Inside one set too (two groups at the same URI).
    const groups = set([group(rule("com.app.", "prefix", ["call"]), "a"), group(denyRule("com.app.", "prefix", ["call"]), "b")]);
    assert.equal(decide(null, groups, "com.app.y", "call").allow, false);
  });

  it("allows at the same specificity are a union", () => {
    const base = set([rule("com.app.x", "exact", ["subscribe"])]);
    const overlay = set([group(rule("com.app.x", "exact", ["call"]), "a"), group(rule("com.app.x", "exact", ["publish"]), "b")]);
    for (const a of ["call", "publish", "subscribe"] as const) assert.equal(decide(base, overlay, "com.app.x", a).allow, true, a);
    assert.equal(decide(base, overlay, "com.app.x", "register").allow, false);
    assert.equal(decide(base, overlay, "com.app.x", "call").rules.length, 3);
  });

  it("no fall-through: an action the deciding rules don't mention is denied", () => {
    const base = set([rule("com.app.", "prefix", "all"), rule("com.app.feed", "exact", ["subscribe"])]);
    assert.equal(decide(base, null, "com.app.feed", "call").allow, false);
    assert.equal(decide(base, null, "com.app.feed", "call").reason, "rule");
    // Across sources: the user's exact rule shadows the role's prefix rule.
    const b2 = set([rule("com.app.", "prefix", "all")]);
    const overlay = set([user(rule("com.app.mine", "exact", ["subscribe"]))]);
    assert.equal(decide(b2, overlay, "com.app.mine", "call").allow, false);
    assert.equal(decide(b2, overlay, "com.app.other", "call").allow, true);
  });

  it("wildcards across sets: the leftmost literal wins, equal shapes merge", () => {
    const base = set([rule("com..x", "wildcard", ["call"])]);
    const overlay = set([user(denyRule("com.a.", "wildcard", ["call"])), user(rule("com..x", "wildcard", ["subscribe"]))]);
    assert.equal(decide(base, overlay, "com.a.x", "call").allow, false, "com.a. is more specific than com..x");
    const v = decide(base, overlay, "com.b.x", "call");
    assert.equal(v.allow, true);
    assert.equal(v.rules.length, 2, "both com..x rules decide together");
    assert.equal(decide(base, overlay, "com.b.x", "subscribe").allow, true);
  });

  it("disclose is OR-ed over the deciding rules that allow the action, never from a denying one", () => {
    const base = set([rule("com.app.x", "exact", ["call", "publish"])]);
    const overlay = set([user(rule("com.app.x", "exact", ["call"], { disclose: { caller: true, publisher: false } }))]);
    assert.equal(decide(base, overlay, "com.app.x", "call").disclose, true);
    assert.equal(decide(base, overlay, "com.app.x", "publish").disclose, false);
    const denying = set([user(denyRule("com.app.x", "exact", ["call"], { disclose: { caller: true, publisher: true } }))]);
    assert.deepEqual(
      [decide(base, denying, "com.app.x", "call").allow, decide(base, denying, "com.app.x", "call").disclose],
      [false, false],
    );
    const discloseOnDenied = set([user(rule("com.app.x", "exact", ["subscribe"], { disclose: { caller: true, publisher: true } }))]);
    assert.equal(decide(base, discloseOnDenied, "com.app.x", "call").disclose, false, "that rule does not allow call");
  });
});

describe("cache honesty", () => {
  const cached = (uri: string, match: MatchKind, actions: Action[] | "all", extra: Partial<Rule> = {}) =>
    rule(uri, match, actions, { cache: true, ...extra });

  it("an allow from cached role rules alone is cached; its denials are never cached", () => {
    const base = set([cached("com.app.", "prefix", ["publish"])]);
    assert.deepEqual(d.answer(base, "com.app.feed", "publish"), { allow: true, disclose: false, cache: true });
    // The bug this fixes: Crossbar would keep this denial forever, even after a grant.
    assert.deepEqual(d.answer(base, "com.app.feed", "call"), { allow: false, disclose: false, cache: false });
    assert.equal(decide(base, null, "com.app.feed", "call").cache, false);
    const denies = set([
      cached("com.app.", "prefix", ["publish"], { deny: { call: true, register: false, publish: false, subscribe: false } }),
    ]);
    assert.equal(d.answer(denies, "com.app.feed", "call").cache, false);
    assert.equal(decide(set([]), null, "com.app.feed", "call").cache, false, "default deny");
  });

  it("subscribe and register allows are never cached (Crossbar's cache key leaves out options.match)", () => {
    const base = set([cached("com.app.feed", "exact", "all")]);
    assert.deepEqual(
      ACTIONS.map((a) => [a, d.answer(base, "com.app.feed", a).cache, decide(base, null, "com.app.feed", a).cache]),
      [
        ["call", true, true],
        ["register", false, false],
        ["publish", true, true],
        ["subscribe", false, false],
      ],
    );
  });

  it("every deciding rule must be a cached role rule", () => {
    const base = set([cached("com.app.x", "exact", ["call"]), rule("com.app.x", "exact", ["call"])]);
    assert.equal(decide(base, null, "com.app.x", "call").cache, false);
    assert.equal(decide(set([group(cached("com.app.x", "exact", ["call"]))]), null, "com.app.x", "call").cache, false);
    assert.equal(decide(set([user(cached("com.app.x", "exact", ["call"]))]), null, "com.app.x", "call").cache, false);
  });

  it("any overlay makes the answer session-dependent: uncached, even when only base rules match", () => {
    const base = set([cached("com.app.", "prefix", ["call"])]);
    const overlay = set([user(rule("org.other", "exact", ["call"]))]);
    assert.equal(decide(base, overlay, "com.app.x", "call").cache, false);
    assert.deepEqual(d.answerWith(base, overlay, "com.app.x", "call"), { allow: true, disclose: false, cache: false });
    assert.equal(d.answerWith(base, null, "com.app.x", "call").cache, true);
  });

  it("windowed and template rules are never cached, and a role with templates caches nothing", () => {
    const windowed = set([cached("com.app.", "prefix", ["call"], { validUntil: 10_000 })]);
    assert.equal(decide(windowed, null, "com.app.x", "call").cache, false);
    assert.equal(
      decide(set([cached("com.app.x", "exact", ["call"], { template: "com.app.{authid}" })]), null, "com.app.x", "call").cache,
      false,
    );
    const withTemplates = set([cached("com.app.", "prefix", ["call"]), cached("com.home.{authid}.", "prefix", ["call"])]);
    assert.equal(d.answer(withTemplates, "com.app.x", "call").cache, false);
    assert.equal(withTemplates.templates.length, 1);
  });

  it("a role whose sessions have rules of their own is never cached", () => {
    const index = PermissionIndex.build([
      { realm: "app", role: "user", rules: [cached("com.app.", "prefix", ["call"])], sessionRules: true },
      { realm: "app", role: "guest", rules: [cached("com.app.", "prefix", ["call"])] },
    ]);
    assert.equal(d.answer(index.rules("app", "user"), "com.app.x", "call").cache, false);
    assert.equal(d.answer(index.rules("app", "guest"), "com.app.x", "call").cache, true);
  });

  it("pattern requests are never cached", () => {
    const base = set([cached("com.app.", "prefix", ["subscribe"])]);
    const v = decide(base, null, "com.app.feed.", "subscribe", "prefix");
    assert.deepEqual([v.allow, v.cache], [true, false]);
    assert.equal(decide(base, null, "com.app.feed", "subscribe", "wildcard").cache, false, "a wildcard pattern without wildcards");
  });

  it("the allocation-free answers agree with decide() on random rule sets (base alone and with an overlay)", () => {
    let s = 7;
    const rnd = (n: number) => {
      s = (s * 1103515245 + 12345) & 0x7fffffff;
      return s % n;
    };
    const words = ["a", "b", "c", "wamp", "authd", "tokens", "authorize"];
    const uri = (len: number, empty: boolean) =>
      Array.from({ length: len }, () => (empty && rnd(3) === 0 ? "" : (words[rnd(words.length)] as string))).join(".");
    const flags = () => Object.fromEntries(ACTIONS.map((a) => [a, rnd(3) === 0])) as Record<Action, boolean>;
    const randomRules = (n: number, source: Rule["source"]): Rule[] =>
      Array.from({ length: n }, () => {
        const match = (["exact", "prefix", "wildcard"] as const)[rnd(3)] as MatchKind;
        const u = match === "prefix" ? uri(rnd(3), false) + (rnd(2) ? "." : "") : uri(1 + rnd(3), match === "wildcard");
        return rule(u || "a", match, [], {
          allow: flags(),
          deny: rnd(4) === 0 ? flags() : { call: false, register: false, publish: false, subscribe: false },
          disclose: { caller: rnd(2) === 0, publisher: rnd(2) === 0 },
          cache: rnd(2) === 0,
          source,
        });
      });
    let checked = 0;
    for (let round = 0; round < 200; round++) {
      const base = set(randomRules(12, "role"));
      const overlay = rnd(2) ? set(randomRules(6, "user")) : null;
      for (let q = 0; q < 30; q++) {
        const u = uri(1 + rnd(4), false);
        for (const a of ACTIONS) {
          const { rules: _r, reason: _why, ...expected } = decide(base, overlay, u, a);
          assert.deepEqual(d.answerWith(base, overlay, u, a), expected, `${u} ${a}`);
          if (!overlay) assert.deepEqual(d.answer(base, u, a), expected);
          checked++;
        }
      }
    }
    assert.equal(checked, 200 * 30 * 4);
  });
});

describe("time windows", () => {
  const T = 1_000_000;

  it("a rule outside [validFrom, validUntil) does not exist; nextChange is the earliest boundary ahead", () => {
    const rules = [
      rule("com.app.later", "exact", ["call"], { validFrom: T + 500 }),
      rule("com.app.now", "exact", ["call"], { validFrom: T - 10, validUntil: T + 200 }),
      rule("com.app.gone", "exact", ["call"], { validUntil: T }),
      rule("com.app.always", "exact", ["call"]),
    ];
    const s = set(rules, { now: T });
    assert.equal(s.size, 2);
    assert.equal(s.nextChange, T + 200);
    assert.equal(d.answer(s, "com.app.now", "call").allow, true);
    assert.equal(d.answer(s, "com.app.later", "call").allow, false);
    assert.equal(d.answer(s, "com.app.gone", "call").allow, false, "validUntil is exclusive");
    const after = set(rules, { now: T + 200 });
    assert.equal(after.nextChange, T + 500);
    assert.equal(d.answer(after, "com.app.now", "call").allow, false);
    const last = set(rules, { now: T + 500 });
    assert.equal(last.nextChange, null);
    assert.equal(d.answer(last, "com.app.later", "call").allow, true, "validFrom is inclusive");
  });

  it("a set that has gone stale is recompiled when a decision passes `now` (memoized)", () => {
    const s = set(
      [rule("com.app.x", "exact", ["call"], { validUntil: T + 100 }), rule("com.app.", "prefix", ["subscribe"], { validFrom: T + 50 })],
      { now: T },
    );
    assert.equal(decide(s, null, "com.app.x", "call", "exact", T + 99).allow, true);
    assert.equal(decide(s, null, "com.app.y", "subscribe", "exact", T + 50).allow, true, "the prefix rule started");
    assert.equal(decide(s, null, "com.app.x", "call", "exact", T + 100).allow, false, "the exact rule ended");
    assert.equal(d.answer(s, "com.app.x", "subscribe", T + 100).allow, true, "now the prefix rule decides com.app.x");
    assert.equal(s.at(T + 100), s.at(T + 150), "memoized");
    assert.equal(s.at(T), s);
  });

  it("an expiring explicit deny stops denying at validUntil", () => {
    const rules = [rule("com.app.", "prefix", ["call"]), denyRule("com.app.x", "exact", ["call"], { validUntil: T + 10 })];
    const s = set(rules, { now: T });
    assert.equal(d.answer(s, "com.app.x", "call", T).allow, false);
    assert.equal(d.answer(s, "com.app.x", "call", T + 10).allow, true);
  });

  it("the index reports the earliest change of any role", () => {
    const index = PermissionIndex.build(
      [
        { realm: "app", role: "a", rules: [rule("x", "exact", ["call"], { validUntil: T + 30 })] },
        { realm: "app", role: "b", rules: [rule("x", "exact", ["call"], { validFrom: T + 20 })] },
        { realm: "other", role: "c", rules: [rule("x", "exact", ["call"])] },
      ],
      T,
    );
    assert.equal(index.nextChange, T + 20);
    assert.equal(PermissionIndex.build([{ realm: "app", role: "a", rules: [rule("x", "exact", ["call"])] }], T).nextChange, null);
  });
});

describe("pattern requests (options.match)", () => {
  it("an exact subscribe rule does not allow a prefix or wildcard subscription of that URI", () => {
    const base = set([rule("com.example.feed", "exact", ["subscribe"])]);
    assert.equal(decide(base, null, "com.example.feed", "subscribe").allow, true);
    const prefix = decide(base, null, "com.example.feed", "subscribe", "prefix");
    assert.deepEqual([prefix.allow, prefix.reason], [false, "no-match"]);
    assert.equal(decide(base, null, "com.example.feed.", "subscribe", "prefix").allow, false);
    assert.equal(decide(base, null, "com.example..", "subscribe", "wildcard").allow, false);
    assert.equal(decide(base, null, "com..feed", "subscribe", "wildcard").allow, false);
  });

  it("an exact register rule does not allow a prefix registration", () => {
    const base = set([rule("com.example.proc", "exact", ["register"])]);
    assert.equal(decide(base, null, "com.example.proc", "register", "prefix").allow, false);
  });

  it("a covering prefix rule allows prefix subscriptions under it, but not wider ones", () => {
    const base = set([rule("com.example.feed.", "prefix", ["subscribe"])]);
    assert.equal(decide(base, null, "com.example.feed.", "subscribe", "prefix").allow, true);
    assert.equal(decide(base, null, "com.example.feed.private.", "subscribe", "prefix").allow, true);
    assert.equal(decide(base, null, "com.example.feed.x", "subscribe", "prefix").allow, true);
    // "com.example.feed" also matches com.example.feedback_internal, which no rule covers.
    assert.equal(decide(base, null, "com.example.feed", "subscribe", "prefix").allow, false);
    assert.equal(decide(base, null, "com.example.", "subscribe", "prefix").allow, false);
    assert.equal(decide(base, null, "com.example.feed.", "register", "prefix").allow, false, "the action must be allowed");
  });

  it("the longest covering prefix decides", () => {
    const base = set([rule("com.", "prefix", ["subscribe"]), rule("com.example.", "prefix", ["call"])]);
    const v = decide(base, null, "com.example.feed.", "subscribe", "prefix");
    assert.deepEqual([v.allow, v.reason, v.rules[0]?.uri], [false, "rule", "com.example."]);
    assert.equal(decide(base, null, "com.other.", "subscribe", "prefix").allow, true);
  });

  it("a rule beneath the covering rule that does not allow the action blocks the pattern", () => {
    for (const beneath of [
      rule("com.example.feed.private.alice", "exact", ["publish"]),
      denyRule("com.example.feed.private.alice", "exact", ["subscribe"]),
      rule("com.example.feed.private.", "prefix", ["call"]),
      denyRule("com.example.feed.priv", "prefix", ["subscribe"]),
      rule("com.example.feed..secret", "wildcard", ["call"]),
      rule("com..feed.private.", "wildcard", []),
      rule("com.example.f", "wildcard", []), // does not block: a component must equal the pattern's, not start like it
    ]) {
      const base = set([rule("com.example.", "prefix", ["subscribe"]), beneath]);
      const v = decide(base, null, "com.example.feed.", "subscribe", "prefix");
      if (beneath.uri === "com.example.f") {
        assert.equal(v.allow, true, "a wildcard component must equal, not start with, the pattern's");
        continue;
      }
      assert.deepEqual([v.allow, v.reason, v.rules[0]?.uri], [false, "pattern-blocked", beneath.uri], beneath.uri);
      assert.equal(decide(base, null, "com.example.other.", "subscribe", "prefix").allow, true, `${beneath.uri}: elsewhere`);
    }
  });

  it("rules beneath that allow the action too do not block", () => {
    const base = set([
      rule("com.example.", "prefix", ["subscribe"]),
      rule("com.example.feed.public", "exact", ["subscribe", "publish"]),
      rule("com.example.feed.x.", "prefix", ["subscribe"]),
      rule("com.example.feed..status", "wildcard", ["subscribe"]),
    ]);
    assert.equal(decide(base, null, "com.example.feed.", "subscribe", "prefix").allow, true);
  });

  it("base and overlay merge per rule URI beneath the pattern too", () => {
    const base = set([rule("com.example.", "prefix", ["subscribe"]), rule("com.example.feed.x", "exact", ["subscribe"])]);
    // The user's rule at the same URI only mentions call: the merged tier still allows subscribe.
    const mentionsCall = set([user(rule("com.example.feed.x", "exact", ["call"]))]);
    assert.equal(decide(base, mentionsCall, "com.example.feed.", "subscribe", "prefix").allow, true);
    const denies = set([user(denyRule("com.example.feed.x", "exact", ["subscribe"]))]);
    assert.equal(decide(base, denies, "com.example.feed.", "subscribe", "prefix").reason, "pattern-blocked");
    // A user's rule beneath, without subscribe, blocks.
    const beneath = set([user(rule("com.example.feed.y", "exact", ["call"]))]);
    assert.equal(decide(base, beneath, "com.example.feed.", "subscribe", "prefix").allow, false);
    // The user's covering rule is longer than the role's: it decides.
    const cover = set([user(denyRule("com.example.feed.", "prefix", ["subscribe"]))]);
    assert.equal(decide(base, cover, "com.example.feed.z.", "subscribe", "prefix").allow, false);
    const grant = set([user(rule("com.mine.", "prefix", ["subscribe"]))]);
    assert.equal(decide(set([]), grant, "com.mine.a.", "subscribe", "prefix").allow, true);
  });

  it("wildcard patterns: a wildcard rule at least as general covers them", () => {
    const base = set([rule("com..feed", "wildcard", ["subscribe"])]);
    assert.equal(decide(base, null, "com..feed", "subscribe", "wildcard").allow, true);
    assert.equal(decide(base, null, "com..", "subscribe", "wildcard").allow, false, "com.x.other is not covered");
    assert.equal(decide(base, null, "...feed", "subscribe", "wildcard").allow, false);
    const general = set([rule("com..", "wildcard", ["subscribe"])]);
    assert.equal(decide(general, null, "com.a.", "subscribe", "wildcard").allow, true, "com.. covers com.a.");
    assert.equal(decide(general, null, "com...", "subscribe", "wildcard").allow, false, "other component count");
  });

  it("wildcard patterns: a prefix rule covering the fixed leading part covers them", () => {
    const base = set([rule("com.example.", "prefix", ["subscribe"])]);
    assert.equal(decide(base, null, "com.example..feed", "subscribe", "wildcard").allow, true);
    assert.equal(decide(base, null, "com..feed", "subscribe", "wildcard").allow, false, "com.other.feed is not covered");
    const blocked = set([rule("com.example.", "prefix", ["subscribe"]), rule("com.example.x.feed", "exact", ["call"])]);
    assert.equal(decide(blocked, null, "com.example..feed", "subscribe", "wildcard").reason, "pattern-blocked");
    const elsewhere = set([rule("com.example.", "prefix", ["subscribe"]), rule("com.example.x.other", "exact", ["call"])]);
    assert.equal(
      decide(elsewhere, null, "com.example..feed", "subscribe", "wildcard").allow,
      true,
      "that exact rule is not in the pattern",
    );
    const longerPrefix = set([rule("com.example.", "prefix", ["subscribe"]), rule("com.example.x", "prefix", [])]);
    assert.equal(decide(longerPrefix, null, "com.example..feed", "subscribe", "wildcard").allow, false);
    const otherComponent = set([rule("com.example.", "prefix", ["subscribe"]), rule("com.example.x.feed.more", "prefix", [])]);
    assert.equal(
      decide(otherComponent, null, "com.example..feed", "subscribe", "wildcard").allow,
      true,
      "4+ components: outside the pattern",
    );
  });

  it("wildcard patterns: only more specific intersecting wildcards can block", () => {
    const base = set([
      rule("com..", "wildcard", ["subscribe"]),
      denyRule("com.a.", "wildcard", ["subscribe"]),
      rule("com..x", "wildcard", []),
    ]);
    assert.equal(decide(base, null, "com..", "subscribe", "wildcard").reason, "pattern-blocked", "com.a. is more specific and denies");
    assert.equal(decide(base, null, "com.b.", "subscribe", "wildcard").allow, false, "com..x beats the cover com.. for com.b.x");
    const leftmost = set([rule("com.a.", "wildcard", ["subscribe"]), rule("com..x", "wildcard", [])]);
    assert.equal(decide(leftmost, null, "com.a.", "subscribe", "wildcard").allow, true, "com.a. beats com..x for com.a.x");
  });

  it("a wildcard pattern without a wildcard component is that one URI", () => {
    const base = set([rule("com.a.b", "exact", ["subscribe"], { cache: true })]);
    const v = decide(base, null, "com.a.b", "subscribe", "wildcard");
    assert.deepEqual([v.allow, v.cache], [true, false]);
  });

  it("does not scan every rule: a 10k-rule set answers patterns from the range under them", () => {
    const rules: Rule[] = [rule("com.", "prefix", ["subscribe"])];
    for (let i = 0; i < 10_000; i++)
      rules.push(rule(`com.r${i}.get`, "exact", ["call"]), rule(`com.r${i}..feed`, "wildcard", ["subscribe"]));
    const big = set(rules);
    assert.equal(decide(big, null, "com.r42.", "subscribe", "prefix").reason, "pattern-blocked");
    assert.equal(decide(big, null, "com.r42.x.", "subscribe", "prefix").allow, true);
    assert.equal(decide(big, null, "com.r42..feed", "subscribe", "wildcard").allow, true);
    assert.equal(decide(big, null, "com.q.", "subscribe", "prefix").allow, true);
  });
});

describe("reserved URIs (win over every rule)", () => {
  const admin = set([rule("", "prefix", "all")]);
  const star = set([rule("", "prefix", "all"), rule("", "wildcard", "all"), rule(".", "wildcard", "all"), rule("..", "wildcard", "all")]);

  it("router-only URIs: every action denied, whatever the rules say", () => {
    for (const base of [admin, star, set([rule("authd.authorize", "exact", "all"), rule("authd.", "prefix", "all")])]) {
      for (const a of ACTIONS) {
        for (const uri of ["authd.authorize", "authd.authenticate", "authd.authenticate.ticket", "authd.authenticate.anything"]) {
          const v = decide(base, null, uri, a);
          assert.deepEqual([v.allow, v.reason], [false, "reserved"], `${uri} ${a}`);
          assert.equal(d.answer(base, uri, a).allow, false);
        }
      }
    }
    assert.equal(decide(null, admin, "authd.authorize", "register").reason, "reserved", "from an overlay too");
  });

  it("user-facing URIs: call goes to the rules, every other action is denied", () => {
    assert.equal(decide(admin, null, "authd.tokens.issue", "call").allow, true);
    assert.equal(decide(set([]), null, "authd.tokens.issue", "call").allow, false, "only if a rule allows");
    assert.equal(decide(set([rule("authd.tokens.issue", "exact", ["call"])]), null, "authd.tokens.issue", "call").allow, true);
    for (const a of ["register", "publish", "subscribe"] as const) {
      assert.deepEqual(
        [decide(admin, null, "authd.tokens.issue", a).allow, decide(admin, null, "authd.tokens.issue", a).reason],
        [false, "reserved"],
      );
    }
    assert.equal(decide(admin, null, "authd.other", "register").allow, true, "only the configured URIs are reserved");
  });

  it("a pattern that can match a reserved URI is denied", () => {
    for (const [p, m] of [
      ["authd.", "prefix"],
      ["auth", "prefix"],
      ["authd.authorize", "prefix"],
      ["authd.tokens.", "prefix"],
      ["authd.tokens.x.", "prefix"],
      ["authd.authenticate.", "prefix"],
      ["authd.", "wildcard"],
      ["authd..", "wildcard"],
      ["authd.tokens..", "wildcard"],
      ["authd.authenticate.", "wildcard"],
    ] as const) {
      for (const a of ["subscribe", "register", "call"] as const) {
        const v = decide(admin, null, p, a, m);
        assert.deepEqual([v.allow, v.reason], [false, "reserved"], `${m} ${p} ${a}`);
      }
    }
    assert.equal(decide(admin, null, "authx.", "register", "prefix").allow, true);
    assert.equal(decide(admin, null, "authd.x.", "register", "prefix").allow, true, "authd.x. reaches no reserved URI");
  });

  it("a role with * cannot register authd.authorize or call authd.authenticate; call on authd.tokens.issue needs a rule", () => {
    const starred = set([rule("", "prefix", "all")]); // "*" converts to prefix ""
    assert.equal(decide(starred, null, "authd.authorize", "register").allow, false);
    assert.equal(decide(starred, null, "authd.authenticate", "call").allow, false);
    assert.equal(decide(starred, null, "authd.tokens.issue", "call").allow, true);
    assert.equal(decide(set([rule("com.", "prefix", "all")]), null, "authd.tokens.issue", "call").allow, false);
  });
});

describe("the wamp. meta namespace", () => {
  it("catch-all rules do not reach wamp. URIs", () => {
    for (const r of [
      rule("", "prefix", "all"),
      rule("w", "prefix", "all"),
      rule("wamp", "prefix", "all"),
      rule("..", "wildcard", "all"),
      rule(".session.kill_by_authrole", "wildcard", "all"),
    ]) {
      const v = decide(set([r]), null, "wamp.session.kill_by_authrole", "call");
      assert.deepEqual([v.allow, v.reason], [false, "meta-namespace"], `${r.match} "${r.uri}"`);
      assert.equal(d.answer(set([r]), "wamp.session.kill_by_authrole", "call").allow, false);
    }
    assert.equal(decide(set([rule("", "prefix", "all")]), null, "wampx.y", "call").allow, true, "only the wamp. namespace");
  });

  it("rules naming wamp. reach it", () => {
    for (const r of [
      rule("wamp.session.", "prefix", ["call"]),
      rule("wamp.", "prefix", ["call"]),
      rule("wamp.session.kill_by_authrole", "exact", ["call"]),
      rule("wamp..kill_by_authrole", "wildcard", ["call"]),
    ]) {
      assert.equal(
        decide(set([rule("", "prefix", "all"), r]), null, "wamp.session.kill_by_authrole", "call").allow,
        true,
        `${r.match} "${r.uri}"`,
      );
    }
  });

  it("patterns that can match wamp. URIs without lying inside it are denied", () => {
    const all = set([rule("", "prefix", "all"), rule("wamp.", "prefix", "all")]);
    for (const [p, m] of [
      ["", "prefix"],
      ["w", "prefix"],
      ["wamp", "prefix"],
      [".session.on_join", "wildcard"],
      ["..", "wildcard"],
    ] as const) {
      // Without reserved URIs in the way ("" and ".." also reach authd.authorize).
      const v = new Decider(ReservedUris.none()).decide(all, null, { uri: p, action: "subscribe", match: m });
      assert.deepEqual([v.allow, v.reason], [false, "meta-namespace"], `${m} "${p}"`);
      assert.equal(decide(all, null, p, "subscribe", m).allow, false);
    }
    assert.equal(decide(all, null, "wamp.session.", "subscribe", "prefix").allow, true);
    assert.equal(decide(all, null, "wamp.session.", "subscribe", "wildcard").allow, true);
    const catchAllOnly = set([rule("", "prefix", "all")]);
    assert.equal(
      decide(catchAllOnly, null, "wamp.session.", "subscribe", "prefix").allow,
      false,
      "inside wamp. the catch-all covers nothing",
    );
    assert.equal(decide(catchAllOnly, null, "wamp..on_join", "subscribe", "wildcard").allow, false);
  });
});

describe("rules the compiler cannot interpret", () => {
  it("a malformed allow-only rule is dropped; a malformed denying rule denies everything", () => {
    const broken = { ...rule("com.app.x", "exact", ["call"]), validUntil: Number.NaN };
    const s = set([rule("com.app.", "prefix", ["call"]), broken]);
    assert.equal(s.invalid.length, 1);
    assert.equal(decide(s, null, "com.app.x", "call").allow, true);
    const brokenDeny = { ...denyRule("com.app.x", "exact", ["call"]), match: "regex" as MatchKind };
    const s2 = set([rule("com.app.", "prefix", ["call"]), brokenDeny]);
    assert.deepEqual([decide(s2, null, "com.app.y", "call").allow, decide(s2, null, "com.app.y", "call").reason], [false, "invalid-rules"]);
    assert.equal(d.answer(s2, "com.app.y", "call").allow, false);
    const noFlags = { ...rule("com.app.z", "exact", ["call"]), deny: undefined } as unknown as Rule;
    assert.equal(set([noFlags]).denyAll, true, "unreadable deny flags count as a denial");
  });
});

/**
 * A brute-force model of the written rule, for exact requests: every active rule that matches,
 * ranked (exact > wildcard by leftmost literal > longest prefix), the best rank's rules merged.
 * Patterns: allowed only if the model allows every URI of a finite universe the pattern matches
 * (the decider may be stricter — "may intersect" counts — but must never allow more).
 */
describe("the decider against a brute-force model", () => {
  const ALPHABET = ["a", "b", "ab", "wamp", "x"];
  const PARTIALS = ["a", "b", "ab", "w", "wamp", ""];
  let seed = 99;
  const rnd = (n: number) => {
    seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff;
    return seed % n;
  };
  const pick = <T>(xs: readonly T[]): T => xs[rnd(xs.length)] as T;
  const comps = (n: number, empties: boolean) =>
    Array.from({ length: n }, () => (empties && rnd(3) === 0 ? "" : pick(ALPHABET.slice(0, 4))));
  const universe: string[] = [];
  const grow = (prefix: string[], depth: number) => {
    if (prefix.length > 0) universe.push(prefix.join("."));
    if (depth === 4) return;
    for (const c of ALPHABET) grow([...prefix, c], depth + 1);
  };
  grow([], 0);

  function randomRule(source: Rule["source"]): Rule {
    const kind = pick(["exact", "prefix", "wildcard"] as const);
    const uri =
      kind === "prefix"
        ? [...comps(rnd(3), false), pick(PARTIALS)].join(".").replace(/^\.$/, "")
        : comps(1 + rnd(3), kind === "wildcard").join(".");
    const flags = () => Object.fromEntries(ACTIONS.map((a) => [a, rnd(2) === 0])) as Record<Action, boolean>;
    const none = { call: false, register: false, publish: false, subscribe: false };
    return rule(kind === "exact" && uri === "" ? "a" : uri, kind, [], { allow: flags(), deny: rnd(5) === 0 ? flags() : none, source });
  }

  function matches(r: Rule, u: string): boolean {
    const meta = u.startsWith("wamp.");
    if (r.match === "exact") return r.uri === u;
    if (r.match === "prefix") return u.startsWith(r.uri) && !(meta && r.uri.length < 5);
    const p = r.uri.split(".");
    const c = u.split(".");
    if (meta && p[0] === "") return false;
    return p.length === c.length && p.every((x, i) => (x === "" ? c[i] !== "" : x === c[i]));
  }

  function rank(r: Rule): number[] {
    if (r.match === "exact") return [3];
    if (r.match === "wildcard") return [2, ...r.uri.split(".").map((x) => (x === "" ? 0 : 1))];
    return [1, r.uri.length];
  }

  const cmp = (a: number[], b: number[]) => {
    for (let i = 0; i < Math.max(a.length, b.length); i++) if ((a[i] ?? -1) !== (b[i] ?? -1)) return (a[i] ?? -1) - (b[i] ?? -1);
    return 0;
  };

  function model(rules: Rule[], u: string, a: Action): boolean {
    const hits = rules.filter((r) => matches(r, u));
    if (hits.length === 0) return false;
    const best = hits.reduce((x, y) => (cmp(rank(y), rank(x)) > 0 ? y : x));
    const tier = hits.filter((r) => cmp(rank(r), rank(best)) === 0);
    assert.ok(
      tier.every((r) => r.match === best.match && r.uri === best.uri),
      "equal rank means the same rule key",
    );
    return tier.some((r) => r.allow[a]) && !tier.some((r) => r.deny[a]);
  }

  const plain = new Decider(ReservedUris.none());

  it("exact requests: the same answer as the model, base and overlay together", () => {
    let n = 0;
    for (let round = 0; round < 300; round++) {
      const baseRules = Array.from({ length: 1 + rnd(10) }, () => randomRule("role"));
      const ownRules = rnd(2) ? Array.from({ length: 1 + rnd(6) }, () => randomRule("user")) : [];
      const base = set(baseRules);
      const overlay = ownRules.length ? set(ownRules) : null;
      for (let q = 0; q < 20; q++) {
        const u = pick(universe);
        for (const a of ACTIONS) {
          assert.equal(
            plain.decide(base, overlay, { uri: u, action: a, match: "exact" }).allow,
            model([...baseRules, ...ownRules], u, a),
            `${u} ${a}`,
          );
          n++;
        }
      }
    }
    assert.equal(n, 300 * 20 * 4);
  });

  it("pattern requests: never allowed when some URI of the pattern is not", (t) => {
    let allowed = 0;
    let strict = 0;
    for (let round = 0; round < 400; round++) {
      const baseRules = Array.from({ length: 1 + rnd(8) }, () => randomRule("role"));
      const ownRules = rnd(2) ? Array.from({ length: 1 + rnd(5) }, () => randomRule("group")) : [];
      // Make covering rules likely: a broad allow now and then.
      if (rnd(2)) baseRules.push(rule(pick(["", "a.", "a", "wamp.", "b.a."]), "prefix", ["subscribe"]));
      const base = set(baseRules);
      const overlay = ownRules.length ? set(ownRules) : null;
      const all = [...baseRules, ...ownRules];
      for (let q = 0; q < 10; q++) {
        const match = pick(["prefix", "wildcard"] as const);
        const pattern = match === "prefix" ? [...comps(rnd(3), false), pick(PARTIALS)].join(".") : comps(1 + rnd(4), true).join(".");
        if (pattern === "") continue;
        const inPattern = universe.filter((u) => (match === "prefix" ? u.startsWith(pattern) : matches(rule(pattern, "wildcard", []), u)));
        const truth = inPattern.every((u) => model(all, u, "subscribe"));
        const got = plain.decide(base, overlay, { uri: pattern, action: "subscribe", match }).allow;
        if (got) {
          allowed++;
          assert.ok(truth, `${match} "${pattern}" allowed, but some URI under it is not`);
        } else if (truth && inPattern.length > 0) {
          strict++;
        }
      }
    }
    assert.ok(allowed > 100, `allowed ${allowed} patterns: the test exercises allows`);
    // Stricter than the model only where "may intersect" or the wamp. rule says so; count, don't fail.
    assert.ok(strict < allowed, `stricter than the model ${strict} times`);
    t.diagnostic(`patterns allowed: ${allowed}; denied although every URI in the finite universe is allowed: ${strict}`);
  });
});
