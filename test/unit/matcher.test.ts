import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Decider } from "../../src/authorize/decide.js";
import { compileRules } from "../../src/authorize/matcher.js";
import { ReservedUris } from "../../src/authorize/reserved.js";
import type { Action, Rule, Verdict } from "../../src/authorize/rules.js";
import { fromStarred } from "../../src/authorize/uri.js";
import { rule } from "../helpers/rules.js";

const decider = new Decider(ReservedUris.none());

/** One role's rules, decided for exact requests without a session overlay. */
function matcher(rules: Rule[]) {
  const set = compileRules(rules, 0);
  return {
    size: set.size,
    decide: (uri: string, action: Action): Verdict => decider.decide(set, null, { uri, action, match: "exact" }),
    find: (uri: string): Rule | null => decider.decide(set, null, { uri, action: "call", match: "exact" }).rules[0] ?? null,
  };
}

describe("compiled rules (one role, exact requests)", () => {
  it("denies everything with no rules, and never asks the router to cache the denial", () => {
    const m = matcher([]);
    assert.deepEqual(m.decide("com.example.foo", "call"), { allow: false, disclose: false, cache: false, rules: [], reason: "no-match" });
  });

  it("exact rules match only the exact URI", () => {
    const m = matcher([rule("com.example.foo", "exact", ["call"])]);
    assert.equal(m.decide("com.example.foo", "call").allow, true);
    assert.equal(m.decide("com.example.foo", "subscribe").allow, false);
    assert.equal(m.decide("com.example.foo.bar", "call").allow, false);
    assert.equal(m.decide("com.example.fo", "call").allow, false);
  });

  it("prefix rules are plain string prefixes and the longest wins", () => {
    const m = matcher([rule("com.", "prefix", ["call"]), rule("com.example.", "prefix", ["subscribe"])]);
    assert.equal(m.decide("com.other.x", "call").allow, true);
    assert.equal(m.decide("com.example.x", "call").allow, false, "longer prefix decides, and it does not allow call");
    assert.equal(m.decide("com.example.x", "subscribe").allow, true);
    assert.equal(m.decide("org.example", "call").allow, false);
  });

  it("an empty prefix matches everything (outside wamp.)", () => {
    const m = matcher([rule("", "prefix", "all")]);
    assert.equal(m.decide("anything.at.all", "register").allow, true);
  });

  it("exact beats wildcard beats prefix", () => {
    const exact = rule("com.example.a.update", "exact", ["call"]);
    const wild = rule("com.example..update", "wildcard", ["subscribe"]);
    const prefix = rule("com.example.", "prefix", ["publish"]);
    const m = matcher([prefix, wild, exact]);
    assert.equal(m.find("com.example.a.update"), exact);
    assert.equal(m.find("com.example.b.update"), wild);
    assert.equal(m.find("com.example.b.delete"), prefix);
  });

  it("an exact rule does not shadow a prefix rule for longer URIs (deliberate difference from Crossbar)", () => {
    const prefix = rule("com.example.", "prefix", ["call"]);
    const m = matcher([prefix, rule("com.example.foo", "exact", [])]);
    assert.equal(m.find("com.example.foobar"), prefix);
    assert.equal(m.decide("com.example.foo", "call").allow, false);
  });

  it("wildcard components match exactly one non-empty component", () => {
    const m = matcher([rule("com..update", "wildcard", ["subscribe"])]);
    assert.equal(m.decide("com.x.update", "subscribe").allow, true);
    assert.equal(m.decide("com.x.y.update", "subscribe").allow, false);
    assert.equal(m.decide("com.update", "subscribe").allow, false);
  });

  it("changed: a wildcard pattern sent as an exact URI no longer matches (patterns come with options.match)", () => {
    // Before v2 the literal "com..update" matched the rule's empty component; Crossbar sends a
    // wildcard subscription with match: "wildcard", decided by the pattern rules (decide.test.ts).
    const m = matcher([rule("com..update", "wildcard", ["subscribe"])]);
    assert.equal(m.decide("com..update", "subscribe").allow, false);
    assert.equal(
      decider.decide(compileRules([rule("com..update", "wildcard", ["subscribe"])], 0), null, {
        uri: "com..update",
        action: "subscribe",
        match: "wildcard",
      }).allow,
      true,
    );
  });

  it("leading and trailing wildcard components work", () => {
    const m = matcher([rule(".status", "wildcard", ["call"]), rule("com.", "wildcard", ["publish"])]);
    assert.equal(m.decide("svc1.status", "call").allow, true);
    assert.equal(m.decide("com.anything", "publish").allow, true);
    assert.equal(m.decide("com.a.b", "publish").allow, false);
  });

  it("several wildcard rules with the same leading part all work (Crossbar keeps only the last)", () => {
    const m = matcher([rule("com..foo", "wildcard", ["call"]), rule("com..bar", "wildcard", ["subscribe"])]);
    assert.equal(m.decide("com.x.foo", "call").allow, true);
    assert.equal(m.decide("com.x.bar", "subscribe").allow, true);
  });

  it("the leftmost literal component makes a wildcard rule more specific", () => {
    const specific = rule("com.a.", "wildcard", ["call"]);
    const general = rule("com..b", "wildcard", ["subscribe"]);
    const m = matcher([general, specific]);
    assert.equal(m.find("com.a.b"), specific);
    assert.equal(m.find("com.z.b"), general);
  });

  it("backtracks when the literal branch has no full match", () => {
    const m = matcher([rule("a.b.c", "wildcard", ["call"]), rule("a..d", "wildcard", ["publish"])]);
    assert.equal(m.decide("a.b.d", "publish").allow, true);
  });

  it("disclose follows the action: caller for call, publisher for publish, never for subscribe/register", () => {
    const r = rule("x", "exact", "all", { disclose: { caller: true, publisher: false }, cache: true });
    const m = matcher([r]);
    assert.deepEqual(m.decide("x", "call"), { allow: true, disclose: true, cache: true, rules: [r], reason: "rule" });
    assert.equal(m.decide("x", "publish").disclose, false);
    assert.equal(m.decide("x", "subscribe").disclose, false);
  });

  it("changed: a denial never carries disclose", () => {
    const m = matcher([rule("x", "exact", ["subscribe"], { disclose: { caller: true, publisher: true } })]);
    assert.deepEqual(m.decide("x", "call"), {
      allow: false,
      disclose: false,
      cache: false,
      rules: m.decide("x", "call").rules,
      reason: "rule",
    });
  });

  it("scales to 10k rules of each kind", () => {
    const rules = [];
    for (let i = 0; i < 10_000; i++) {
      rules.push(rule(`app.e${i}.op`, "exact", ["call"]));
      rules.push(rule(`app.p${i}.`, "prefix", ["subscribe"]));
      rules.push(rule(`app.w${i}..op`, "wildcard", ["publish"]));
    }
    const m = matcher(rules);
    assert.equal(m.size, 30_000);
    assert.equal(m.decide("app.e9999.op", "call").allow, true);
    assert.equal(m.decide("app.p9999.deep.x", "subscribe").allow, true);
    assert.equal(m.decide("app.w9999.x.op", "publish").allow, true);
    assert.equal(m.decide("app.none", "call").allow, false);
  });
});

describe("fromStarred (Crossbar's starred URIs)", () => {
  it("converts like autobahn's convert_starred_uri", () => {
    assert.deepEqual(fromStarred("com.example.foo"), { uri: "com.example.foo", match: "exact" });
    assert.deepEqual(fromStarred("com.example.*"), { uri: "com.example.", match: "prefix" });
    assert.deepEqual(fromStarred("*"), { uri: "", match: "prefix" });
    assert.deepEqual(fromStarred("com.*.foo"), { uri: "com..foo", match: "wildcard" });
    assert.deepEqual(fromStarred("com.*.*"), { uri: "com..", match: "wildcard" });
  });
});
