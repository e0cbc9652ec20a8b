/**
 * Template rules (src/authorize/template.ts) and session overlays (src/authorize/overlay.ts):
 * substitution per session, hostile values, the CLI's validator and warning.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AdminError } from "../../src/admin/context.js";
import { ruleUri, templateUri } from "../../src/admin/parse.js";
import { Decider } from "../../src/authorize/decide.js";
import { compileRules } from "../../src/authorize/matcher.js";
import { buildOverlay } from "../../src/authorize/overlay.js";
import { ReservedUris } from "../../src/authorize/reserved.js";
import type { Action, Rule } from "../../src/authorize/rules.js";
import {
  componentValue,
  isTemplate,
  prefixTemplateWarning,
  substitute,
  templateProblem,
  type TemplateSession,
} from "../../src/authorize/template.js";
import { denyRule, rule } from "../helpers/rules.js";

const d = new Decider(ReservedUris.none());
const LOOSE = { strictUris: false };
const STRICT = { strictUris: true };
const session = (authid: unknown, extra: Record<string, unknown> = {}): TemplateSession => ({
  authid: authid as string,
  realm: "app",
  role: "user",
  extra,
});

/** The decision for `uri` of a session whose role holds `templates` (and a plain role rule base). */
function decideFor(s: TemplateSession, templates: Rule[], uri: string, action: Action, strict = false) {
  const base = compileRules([rule("com.public.", "prefix", ["call"]), ...templates], 0);
  const overlay = buildOverlay({ session: s, rules: [], roleTemplates: base.templates, options: { strictUris: strict } }, 0);
  return d.decide(base, overlay, { uri, action, match: "exact" });
}

describe("template syntax", () => {
  it("knows {authid}, {realm}, {role} and {extra.NAME}; anything else is an error", () => {
    for (const ok of ["com.app.{authid}.", "com.{realm}.{role}.x", "com.team.{extra.team}.", "com.{extra.desk_no}", "plain.uri"])
      assert.equal(templateProblem(ok), null, ok);
    assert.match(templateProblem("com.app.{user}.") ?? "", /unknown placeholder "\{user\}"/);
    assert.match(templateProblem("com.app.{}.") ?? "", /unknown placeholder/);
    assert.match(templateProblem("com.app.{extra.}.") ?? "", /unknown placeholder/);
    assert.match(templateProblem("com.app.{extra.a.b}.") ?? "", /unknown placeholder/);
    assert.match(templateProblem("com.app.{authid.") ?? "", /unbalanced/);
    assert.match(templateProblem("com.app.authid}.") ?? "", /unbalanced/);
    assert.match(templateProblem("com.{{authid}}.") ?? "", /unbalanced|unknown/);
    assert.equal(isTemplate("com.app.x"), false);
    assert.equal(isTemplate("com.app.{authid}"), true);
  });

  it("the CLI validator refuses unknown placeholders and accepts known ones", () => {
    assert.deepEqual(ruleUri("com.app.{authid}.", "prefix"), { uri: "com.app.{authid}.", match: "prefix" });
    assert.deepEqual(ruleUri("com.{extra.team}.*"), { uri: "com.{extra.team}.", match: "prefix" });
    assert.throws(() => ruleUri("com.app.{nope}.", "prefix"), AdminError);
    assert.throws(() => ruleUri("com.app.{authid", "exact"), AdminError);
    assert.throws(() => templateUri("x.{extra}"), /unknown placeholder/);
  });

  it("warns about a templated prefix rule without a '.' after its placeholder (bob would cover bobby)", () => {
    assert.match(prefixTemplateWarning("com.app.{authid}", "prefix") ?? "", /bobby.*com\.app\.\{authid\}\./);
    assert.match(prefixTemplateWarning("com.app.{authid}_x", "prefix") ?? "", /does not end with "\."/);
    assert.equal(prefixTemplateWarning("com.app.{authid}.", "prefix"), null);
    assert.equal(prefixTemplateWarning("com.app.{authid}.inbox", "prefix"), null);
    assert.equal(prefixTemplateWarning("com.app.{authid}", "exact"), null);
    assert.equal(prefixTemplateWarning("com.app.", "prefix"), null);
    // What the warning is about:
    const loose = [rule("com.app.{authid}", "prefix", ["call"])];
    assert.equal(decideFor(session("bob"), loose, "com.app.bobby.secret", "call").allow, true);
    assert.equal(decideFor(session("bob"), [rule("com.app.{authid}.", "prefix", ["call"])], "com.app.bobby.secret", "call").allow, false);
  });
});

describe("substitution per session", () => {
  it("fills in authid, realm, role and the stored extra", () => {
    const t = rule("com.{realm}.{role}.{authid}.{extra.team}.", "prefix", ["call"]);
    const s = substitute(t, session("alice", { team: "blue" }), LOOSE);
    assert.ok(s.ok && s.rule);
    assert.equal(s.rule.uri, "com.app.user.alice.blue.");
    assert.equal(s.rule.template, t.uri);
    assert.equal(decideFor(session("alice", { team: "blue" }), [t], "com.app.user.alice.blue.x", "call").allow, true);
    assert.equal(decideFor(session("bob", { team: "blue" }), [t], "com.app.user.alice.blue.x", "call").allow, false);
  });

  it("a substituted rule decides like any rule, and is never cached", () => {
    const t = rule("com.home.{authid}.", "prefix", ["call"], { cache: true });
    const v = decideFor(session("alice"), [t], "com.home.alice.x", "call");
    assert.deepEqual([v.allow, v.cache, v.rules[0]?.template], [true, false, "com.home.{authid}."]);
  });

  it("hostile values never produce a matching rule", () => {
    const hostile: unknown[] = [
      "",
      "a.b",
      "..",
      ".",
      "*",
      "a#",
      "#",
      "a b",
      " ",
      "\t",
      "a\u00a0b", // no-break space
      "a\u2028b", // line separator
      "a\u200bb", // zero-width space (format character)
      "a\u202eb", // right-to-left override
      "a\u0000b",
      "\ud800", // a lone surrogate
      "{authid}",
      "a}b",
      "x".repeat(256),
      42,
      null,
      undefined,
      ["a"],
      { toString: () => "a" },
    ];
    const templates = [
      rule("com.home.{authid}.", "prefix", "all"),
      rule("com.inbox.{authid}", "exact", "all"),
      rule("com.{authid}..feed", "wildcard", "all"),
    ];
    for (const h of hostile) {
      for (const t of templates) assert.equal(substitute(t, session(h), LOOSE).ok, false, `${JSON.stringify(h)} in ${t.uri}`);
      // Nothing beyond the role's plain rules is reachable.
      for (const uri of ["com.home.a.b.x", "com.home..x", "com.home.x", "com.inbox.", "com.inbox.a.b", "com.x.y.feed", "com.home.*.x"]) {
        assert.equal(decideFor(session(h), templates, uri, "call").allow, false, `${JSON.stringify(h)}: ${uri}`);
      }
    }
  });

  it("with strict URIs only [0-9a-z_] values are accepted", () => {
    assert.equal(componentValue("alice_01", STRICT), "alice_01");
    for (const v of ["Alice", "ALICE", "al-ice", "alïce", "アリス", "a+b", "a/b"]) {
      assert.equal(componentValue(v, STRICT), null, v);
      assert.equal(componentValue(v, LOOSE), v, `${v} is a loose component`);
    }
    const t = [rule("com.home.{authid}.", "prefix", ["call"])];
    assert.equal(decideFor(session("Alice"), t, "com.home.Alice.x", "call", true).allow, false);
    assert.equal(decideFor(session("Alice"), t, "com.home.Alice.x", "call", false).allow, true);
    assert.equal(decideFor(session("アリス"), t, "com.home.アリス.x", "call", false).allow, true, "unicode is a valid loose component");
  });

  it("extra values come from the stored extra, as own string properties only", () => {
    const t = rule("com.team.{extra.team}.", "prefix", ["call"]);
    assert.equal(substitute(t, session("a", { team: "blue" }), LOOSE).ok, true);
    for (const extra of [
      {},
      { team: 7 },
      { team: "" },
      { team: "a.b" },
      { team: ["blue"] },
      { team: { x: 1 } },
      Object.create({ team: "blue" }) as Record<string, unknown>,
    ]) {
      assert.equal(substitute(t, session("a", extra), LOOSE).ok, false, JSON.stringify(extra));
    }
    assert.equal(
      substitute(rule("com.{extra.constructor}.", "prefix", ["call"]), session("a", {}), LOOSE).ok,
      false,
      "no inherited properties",
    );
  });

  it("an authid of 'wamp' does not open the meta namespace through a template", () => {
    const t = [
      rule("{authid}.", "prefix", "all"),
      rule("{authid}.session.kill", "exact", ["call"]),
      rule("{authid}..kill", "wildcard", ["call"]),
    ];
    for (const uri of ["wamp.session.kill_by_authrole", "wamp.session.kill", "wamp.x.kill"]) {
      assert.equal(decideFor(session("wamp"), t, uri, "call").allow, false, uri);
    }
    assert.equal(decideFor(session("bob"), t, "bob.session.kill_by_authrole", "call").allow, true);
    // A template naming wamp. itself may.
    assert.equal(decideFor(session("bob"), [rule("wamp.session.{authid}", "exact", ["call"])], "wamp.session.bob", "call").allow, true);
    // Its denials stay.
    const denying = substitute(denyRule("{authid}.session.", "prefix", ["call"]), session("wamp"), LOOSE);
    assert.ok(denying.ok && denying.rule);
    assert.deepEqual([denying.rule.deny.call, denying.rule.allow.call], [true, false]);
  });
});

describe("session overlays", () => {
  it("null when the session has nothing of its own", () => {
    assert.equal(buildOverlay({ session: session("a"), rules: [], roleTemplates: [], options: LOOSE }, 0), null);
    const only = [rule("com.home.{authid}.", "prefix", ["call"])];
    assert.equal(
      buildOverlay({ session: session("a.b"), rules: [], roleTemplates: only, options: LOOSE }, 0),
      null,
      "the template cannot apply",
    );
  });

  it("holds user and group rules and substituted templates of every source", () => {
    const own = [
      { ...rule("com.user.x", "exact", ["call"]), source: "user" as const, owner: "alice" },
      { ...rule("com.ops.{authid}.", "prefix", ["call"]), source: "group" as const, owner: "ops" },
    ];
    const o = buildOverlay(
      { session: session("alice"), rules: own, roleTemplates: [rule("com.home.{authid}.", "prefix", ["call"])], options: LOOSE },
      0,
    );
    assert.ok(o);
    assert.equal(o.size, 3);
    for (const uri of ["com.user.x", "com.ops.alice.y", "com.home.alice.z"])
      assert.equal(d.answerWith(null, o, uri, "call").allow, true, uri);
  });

  it("a denying template that cannot be substituted denies everything for that session", () => {
    const templates = [denyRule("com.app.{authid}.admin", "exact", ["call"]), rule("com.home.{authid}.", "prefix", ["call"])];
    const v = decideFor(session("a.b"), templates, "com.public.x", "call");
    assert.deepEqual([v.allow, v.reason], [false, "invalid-rules"]);
    assert.equal(decideFor(session("ok"), templates, "com.public.x", "call").allow, true);
    assert.equal(decideFor(session("ok"), templates, "com.app.ok.admin", "call").allow, false);
  });
});
