/**
 * The Authorizer (src/authorize/authorizer.ts): argument parsing against junk, the session-rules
 * provider (sync, async, failing, hanging), patterns, reserved URIs and debug logging.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Authorizer, type AuthorizeOutcome, type SessionRulesProvider } from "../../src/authorize/authorizer.js";
import { type CompiledRules, compileRules } from "../../src/authorize/matcher.js";
import { PermissionIndex } from "../../src/authorize/permissionIndex.js";
import { ReservedUris } from "../../src/authorize/reserved.js";
import type { Decision } from "../../src/authorize/rules.js";
import { createLogger } from "../../src/log/logger.js";
import { capturedLogger } from "../helpers/logCapture.js";
import { denyRule, rule } from "../helpers/rules.js";
import { xorshift32 as rng } from "../helpers/rng.js";

const RESERVED = ReservedUris.forProcedures({
  authenticate: "authd.authenticate",
  authorize: "authd.authorize",
  userPrefix: "authd.tokens.",
});
const SESSION = { session: 1, authid: "alice", authrole: "admin", authmethod: "ticket", authextra: {} };
// A role allowed everything a rule can allow: any denial below comes from the arguments or the guards.
const INDEX = PermissionIndex.build([
  { realm: "app", role: "admin", rules: [rule("", "prefix", "all"), rule("wamp.", "prefix", "all")] },
  { realm: "app", role: "trusted", rules: [rule("", "prefix", "all")] },
]);

function authorizer(
  o: {
    sessionRules?: SessionRulesProvider;
    outcomes?: AuthorizeOutcome[];
    deadlineMs?: number;
    log?: ReturnType<typeof createLogger>;
  } = {},
) {
  return new Authorizer({
    index: () => INDEX,
    reserved: RESERVED,
    log: o.log ?? createLogger("silent"),
    onOutcome: (x) => o.outcomes?.push(x),
    sessionRules: o.sessionRules,
    deadlineMs: o.deadlineMs,
  });
}

function sync(d: Decision | Promise<Decision>): Decision {
  assert.ok(!(d instanceof Promise), "a synchronous provider gives a synchronous answer");
  return d;
}

class Junk {
  constructor(private readonly r: () => number) {}
  int(n: number): number {
    return Math.floor(this.r() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)] as T;
  }
  scalar(): unknown {
    return this.pick<() => unknown>([
      () => Number.NaN,
      () => Infinity,
      () => -Infinity,
      () => 1e308 * 10,
      () => Number.MAX_SAFE_INTEGER + 2,
      () => -0,
      () => 10n ** 30n,
      () => true,
      () => null,
      () => undefined,
      () => "",
      () => "x".repeat(this.int(3) === 0 ? 100_000 : 5),
      () => "\u0000\ud800\u202e",
      () => Symbol("s"),
      () => () => "fn",
      () => "PREFIX",
      () => "prefix ",
      () => "exact\u0000",
    ])();
  }
  value(depth = 0): unknown {
    if (depth > 3 || this.int(3) === 0) return this.scalar();
    switch (this.int(4)) {
      case 0:
        return Array.from({ length: this.int(4) }, () => this.value(depth + 1));
      case 1:
        return Object.fromEntries(
          Array.from({ length: this.int(4) }, (_, i) => [
            this.pick(["match", "authrole", "authid", "__proto__", `k${i}`]),
            this.value(depth + 1),
          ]),
        );
      case 2:
        return JSON.parse('{"__proto__": {"match": "prefix", "authrole": "admin", "authid": "alice"}}') as unknown;
      default:
        return new Proxy(
          {},
          {
            get: () => this.value(depth + 1),
            ownKeys: () => {
              throw new Error("hostile proxy");
            },
          },
        );
    }
  }
  /** Arguments broken in at least one place that matters (so no allow is legitimate). */
  args(): unknown {
    const session = (): unknown => ({ ...SESSION });
    const uri = () => this.pick(["com.example.x", "com.example.", "wamp.session.get"]);
    const action = () => this.pick(["call", "register", "publish", "subscribe"]);
    const options = () => this.pick<unknown>([undefined, null, {}, { match: "exact" }, { match: "prefix" }, { match: "wildcard" }]);
    switch (this.int(7)) {
      case 0:
        return this.value();
      case 1:
        return Array.from({ length: this.int(3) }, () => session());
      case 2: {
        const broken = this.pick<() => unknown>([
          () => this.value(),
          () => ({ ...SESSION, authrole: this.value() }),
          () => ({ ...SESSION, authrole: "x".repeat(256) }),
          () => ({ ...SESSION, authrole: "" }),
          () => ({ ...SESSION, authrole: "trusted" }),
          () => ({ ...SESSION, authrole: "Admin" }),
          () => ({ ...SESSION, authid: this.pick([undefined, null, "", 7, Number.NaN, {}, "a".repeat(256)]) }),
          () => JSON.parse('{"authid": "alice", "__proto__": {"authrole": "admin"}}') as unknown,
          () => Object.create({ authrole: "admin", authid: "alice" }) as unknown,
          () => [SESSION],
        ])();
        return [broken, uri(), action(), options()];
      }
      case 3: {
        // the URI is broken (for an exact request)
        const u = this.pick<() => unknown>([
          () => this.pick([Number.NaN, Infinity, 1e308 * 10, null, undefined, true, 10n ** 30n, Symbol("u")]),
          () => [this.value()],
          () => ({ uri: "com.example.x" }),
          () => "",
          () => "c".repeat(513),
          () => "com. example",
          () => "com.example#",
          () => "com.\u0000.x",
          () => "com.x\u2028y",
          () => "com.x\u00a0y",
          () => "com.x\u3000y",
          () => "com.x\ufeffy",
          () => "com.x\u0085y",
          () => "com.x\u007fy",
          () => "com.x\ty",
          () => "com..x",
          () => ".com.x",
          () => "com.x.",
        ])();
        return [session(), u, action(), this.pick([undefined, null, {}, { match: "exact" }])];
      }
      case 4:
        return [session(), uri(), this.pick<unknown>([this.scalar(), this.value(), "CALL", "call ", "unsubscribe"]), options()];
      case 5: {
        // options or its match are junk
        const o = this.pick<() => unknown>([
          () => ({ match: this.scalar() }),
          () => ({ match: this.value() }),
          () => ({ match: ["prefix"] }),
          () => ({ match: { toString: () => "prefix" } }),
          () => ({ match: "regex" }),
          () => "prefix",
          () => ["prefix"],
          () => 42,
          () => Number.NaN,
          () => true,
        ])();
        return [session(), uri(), action(), o];
      }
      default: {
        // well-formed, but a guard must deny it: reserved URIs, trusted, patterns reaching wamp./authd.
        return this.pick<unknown[]>([
          [SESSION, "authd.authorize", "register", {}],
          [SESSION, "authd.authenticate", "call", {}],
          [SESSION, "authd.authenticate.ticket", "call", {}],
          [SESSION, "authd.tokens.issue", "register", {}],
          [SESSION, "", "subscribe", { match: "prefix" }],
          [SESSION, "auth", "subscribe", { match: "prefix" }],
          [SESSION, ".session.on_join", "subscribe", { match: "wildcard" }],
          [{ ...SESSION, authrole: "trusted" }, "com.example.x", "call", {}],
          [{ ...SESSION, authrole: "nobody" }, "com.example.x", "call", {}],
        ]);
      }
    }
  }
}

describe("Authorizer: junk never throws and never allows", () => {
  it("20k seeded random shapes: 0 throws, 0 allows, every answer a plain decision", () => {
    const a = authorizer();
    const g = new Junk(rng(20261124));
    for (let i = 0; i < 20_000; i++) {
      const args = g.args();
      let d: Decision;
      try {
        d = sync(a.authorize("app", args));
      } catch (err) {
        assert.fail(`threw on case ${i}: ${String(err)}`);
      }
      assert.deepEqual(d, { allow: false, disclose: false, cache: false }, `case ${i}`);
    }
    // The same authorizer still allows well-formed requests.
    assert.equal(sync(a.authorize("app", [SESSION, "com.example.x", "call", {}])).allow, true);
  });

  it("a URI character is refused exactly when it is whitespace (as \\s), '#' or a control character", () => {
    const a = authorizer();
    const refused: number[] = [];
    for (let c = 0; c <= 0xffff; c++) {
      const ch = String.fromCharCode(c);
      const expected = !(/[\s#]/.test(ch) || c < 0x20 || (c >= 0x7f && c <= 0x9f));
      const got = sync(a.authorize("app", [SESSION, `com.a${ch}b`, "call", {}])).allow;
      if (got !== expected) refused.push(c);
    }
    assert.deepEqual(refused, []);
  });

  it("junk in the parts it does not read is ignored", () => {
    const a = authorizer();
    const session = { ...SESSION, authextra: { x: Number.NaN, y: [Infinity, { z: -0 }] }, transport: null, session: Number.NaN };
    for (const options of [
      undefined,
      null,
      {},
      { match: "exact", timeout: Number.NaN, forward_for: [{ x: Infinity }] },
      { match: "prefix", get_retained: "junk" },
    ]) {
      const uri = (options as { match?: string } | null | undefined)?.match === "prefix" ? "com.example." : "com.example.x";
      assert.equal(sync(a.authorize("app", [session, uri, "subscribe", options])).allow, true, JSON.stringify(options));
    }
    assert.equal(sync(a.authorize("app", [session, "com.example.x", "call"])).allow, true, "options may be missing (3 arguments)");
  });

  it("denies trusted and unknown roles, and reports every decision to the observer once", () => {
    const outcomes: AuthorizeOutcome[] = [];
    const a = authorizer({ outcomes });
    assert.equal(sync(a.authorize("app", [{ ...SESSION, authrole: "trusted" }, "com.example.x", "call", {}])).allow, false);
    assert.equal(sync(a.authorize("app", [{ ...SESSION, authrole: "nobody" }, "com.example.x", "call", {}])).allow, false);
    assert.equal(sync(a.authorize("other", [SESSION, "com.example.x", "call", {}])).allow, false);
    assert.equal(sync(a.authorize("app", "junk")).allow, false);
    assert.deepEqual(
      outcomes.map((o) => [o.realm, o.role, o.action, o.allow]),
      [
        ["app", "trusted", "call", false],
        ["app", "nobody", "call", false],
        ["other", "admin", "call", false],
        ["app", null, null, false],
      ],
    );
  });
});

describe("Authorizer: requests", () => {
  it("pattern requests are decided as patterns and never cached", () => {
    const index = PermissionIndex.build([
      {
        realm: "app",
        role: "user",
        rules: [
          rule("com.example.feed", "exact", ["subscribe"], { cache: true }),
          rule("com.open.", "prefix", ["subscribe"], { cache: true }),
        ],
      },
    ]);
    const a = new Authorizer({ index: () => index, reserved: RESERVED, log: createLogger("silent") });
    const s = { ...SESSION, authrole: "user" };
    // Not cached although the rule says so: Crossbar would answer the prefix request below from that entry.
    assert.deepEqual(sync(a.authorize("app", [s, "com.example.feed", "subscribe", {}])), { allow: true, disclose: false, cache: false });
    assert.deepEqual(sync(a.authorize("app", [s, "com.example.feed", "subscribe", { match: "prefix" }])), {
      allow: false,
      disclose: false,
      cache: false,
    });
    assert.deepEqual(sync(a.authorize("app", [s, "com.open.x.", "subscribe", { match: "prefix" }])), {
      allow: true,
      disclose: false,
      cache: false,
    });
    assert.deepEqual(sync(a.authorize("app", [s, "com.open..x", "subscribe", { match: "wildcard" }])), {
      allow: true,
      disclose: false,
      cache: false,
    });
  });

  it("reserved URIs and wamp. win over a role allowed everything", () => {
    const a = authorizer();
    const allow = (uri: string, action: string, options: object = {}) => sync(a.authorize("app", [SESSION, uri, action, options])).allow;
    assert.equal(allow("authd.authorize", "register"), false);
    assert.equal(allow("authd.authenticate", "call"), false);
    assert.equal(allow("authd.tokens.issue", "call"), true);
    assert.equal(allow("authd.tokens.issue", "register"), false);
    assert.equal(allow("wamp.session.kill_by_authrole", "call"), true, "this role names wamp. explicitly");
    const index = PermissionIndex.build([{ realm: "app", role: "admin", rules: [rule("", "prefix", "all")] }]);
    const catchAll = new Authorizer({ index: () => index, reserved: RESERVED, log: createLogger("silent") });
    assert.equal(sync(catchAll.authorize("app", [SESSION, "wamp.session.kill_by_authrole", "call", {}])).allow, false);
  });
});

describe("Authorizer: the session-rules provider", () => {
  const userIndex = PermissionIndex.build([
    { realm: "app", role: "user", rules: [rule("com.app.", "prefix", ["call"], { cache: true })], sessionRules: true },
  ]);
  const session = { ...SESSION, authrole: "user" };
  const overlay: CompiledRules = compileRules([{ ...denyRule("com.app.secret", "exact", ["call"]), source: "user", owner: "alice" }], 0, {
    cacheable: false,
  });

  function with_(sessionRules: SessionRulesProvider, extra: { deadlineMs?: number; outcomes?: AuthorizeOutcome[] } = {}) {
    return new Authorizer({
      index: () => userIndex,
      reserved: RESERVED,
      log: createLogger("silent"),
      sessionRules,
      deadlineMs: extra.deadlineMs,
      onOutcome: (o) => extra.outcomes?.push(o),
    });
  }

  it("is asked with (realm, role, authid); a synchronous overlay keeps the answer synchronous and uncached", () => {
    const asked: unknown[] = [];
    const a = with_((realm, role, authid) => {
      asked.push([realm, role, authid]);
      return authid === "alice" ? overlay : null;
    });
    assert.deepEqual(sync(a.authorize("app", [session, "com.app.secret", "call", {}])), { allow: false, disclose: false, cache: false });
    assert.deepEqual(sync(a.authorize("app", [session, "com.app.other", "call", {}])), { allow: true, disclose: false, cache: false });
    assert.deepEqual(sync(a.authorize("app", [{ ...session, authid: "bob" }, "com.app.secret", "call", {}])).allow, true);
    assert.deepEqual(asked, [
      ["app", "user", "alice"],
      ["app", "user", "alice"],
      ["app", "user", "bob"],
    ]);
  });

  it("an asynchronous overlay gives a Promise of the same answer", async () => {
    const outcomes: AuthorizeOutcome[] = [];
    const a = with_(() => Promise.resolve(overlay), { outcomes });
    const p = a.authorize("app", [session, "com.app.secret", "call", {}]);
    assert.ok(p instanceof Promise);
    assert.deepEqual(await p, { allow: false, disclose: false, cache: false });
    assert.equal((await a.authorize("app", [session, "com.app.x", "call", {}])).allow, true);
    assert.equal(outcomes.length, 2, "reported once each, when decided");
  });

  it("a provider that throws, rejects, hangs or answers junk means deny", async () => {
    const throws = with_(() => {
      throw new Error("store down");
    });
    assert.equal(sync(throws.authorize("app", [session, "com.app.x", "call", {}])).allow, false);
    const rejects = with_(() => Promise.reject(new Error("store down")));
    assert.equal((await rejects.authorize("app", [session, "com.app.x", "call", {}])).allow, false);
    const hangs = with_(() => new Promise<never>(() => undefined), { deadlineMs: 50 });
    const t0 = Date.now();
    assert.equal((await hangs.authorize("app", [session, "com.app.x", "call", {}])).allow, false);
    assert.ok(Date.now() - t0 < 2000, "answered within the deadline");
    for (const junk of [undefined, 42, {}, { then: 5 }, "overlay"]) {
      const a = with_(() => junk as unknown as CompiledRules);
      assert.equal(sync(a.authorize("app", [session, "com.app.x", "call", {}])).allow, false, JSON.stringify(junk));
    }
    const junkLater = with_(() => Promise.resolve({ size: 1 } as unknown as CompiledRules));
    assert.equal((await junkLater.authorize("app", [session, "com.app.x", "call", {}])).allow, false);
  });

  it("is not asked for requests denied before any rule (junk, trusted, unknown role)", () => {
    let asked = 0;
    const a = with_(() => {
      asked++;
      return null;
    });
    sync(a.authorize("app", [{ ...session, authrole: "trusted" }, "com.app.x", "call", {}]));
    sync(a.authorize("app", [{ ...session, authrole: "nobody" }, "com.app.x", "call", {}]));
    sync(a.authorize("app", [session, 7, "call", {}]));
    assert.equal(asked, 0);
  });
});

describe("Authorizer: debug log", () => {
  it("names the deciding rules with their source and owner", () => {
    const captured = capturedLogger("debug");
    const log = captured.log;
    const index = PermissionIndex.build([{ realm: "app", role: "user", rules: [rule("com.app.", "prefix", ["call"])] }]);
    const overlay = compileRules([{ ...rule("com.app.x", "exact", ["call"]), source: "group", owner: "ops" }], 0, { cacheable: false });
    const a = new Authorizer({ index: () => index, reserved: RESERVED, log, sessionRules: () => overlay });
    sync(a.authorize("app", [{ ...SESSION, authrole: "user" }, "com.app.x", "call", {}]));
    sync(a.authorize("app", [{ ...SESSION, authrole: "user" }, "authd.authorize", "register", {}]));
    const lines = captured.records().filter((r) => r.msg === "authorize");
    assert.equal(lines.length, 2);
    assert.deepEqual(
      (lines[0]!.rules as Array<Record<string, unknown>>).map((r) => [r.source, r.owner, r.match, r.uri]),
      [["group", "ops", "exact", "com.app.x"]],
    );
    assert.equal(lines[0]!.allow, true);
    assert.equal(lines[1]!.reason, "reserved");
  });
});
