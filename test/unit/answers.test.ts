import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { PasswordHasher } from "../../src/auth/passwords.js";
import { Authorizer } from "../../src/authorize/authorizer.js";
import { Decider } from "../../src/authorize/decide.js";
import { NO_MATCH, compileRules } from "../../src/authorize/matcher.js";
import { PermissionIndex } from "../../src/authorize/permissionIndex.js";
import { ReservedUris } from "../../src/authorize/reserved.js";
import { createLogger } from "../../src/log/logger.js";
import { authorizeObserver, createMetrics } from "../../src/metrics/metrics.js";
import { roleRules } from "../../src/store/permissionRules.js";
import { rule } from "../helpers/rules.js";

const SESSION = { session: 1, authid: "alice", authrole: "user" };

describe("precompiled answers", () => {
  it("answer() is decide() without the rules: exactly allow/disclose/cache, frozen and shared", () => {
    const r = rule("com.x.", "prefix", ["call", "subscribe"], { disclose: { caller: true, publisher: true }, cache: true });
    const set = compileRules([r, rule("com.x.y", "exact", []), rule("com..z", "wildcard", ["publish"])], 0);
    const d = new Decider(ReservedUris.none());
    for (const uri of ["com.x.a", "com.x.y", "com.q.z", "org.none"]) {
      for (const action of ["call", "register", "publish", "subscribe"] as const) {
        const a = d.answer(set, uri, action);
        const { rules: _rules, reason: _reason, ...expected } = d.decide(set, null, { uri, action, match: "exact" });
        assert.deepEqual(a, expected, `${uri} ${action}`);
        assert.deepEqual(Object.keys(a).sort(), ["allow", "cache", "disclose"]);
        assert.ok(Object.isFrozen(a));
        assert.equal(d.answer(set, uri, action), a, "the same object every time");
      }
    }
    assert.equal(d.answer(set, "org.none", "call"), NO_MATCH);
    assert.deepEqual(NO_MATCH, { allow: false, disclose: false, cache: false });
  });

  it("the authorizer hands the router that answer; denials are never cached; unknown roles and malformed calls are denied uncached", () => {
    const index = PermissionIndex.build(
      roleRules([
        {
          realm: "app",
          role: "user",
          id: "1",
          uri: "com.x.",
          match: "prefix",
          allow_call: true,
          allow_register: false,
          allow_publish: false,
          allow_subscribe: false,
          disclose_caller: true,
          disclose_publisher: false,
          cache: true,
          role_id: 1,
          kill_on_change: false,
          deny_call: false,
          deny_register: false,
          deny_publish: false,
          deny_subscribe: false,
          valid_from: null,
          valid_until: null,
        },
      ]),
    );
    const metrics = createMetrics();
    const a = new Authorizer({
      index: () => index,
      reserved: ReservedUris.none(),
      log: createLogger("silent"),
      onOutcome: authorizeObserver(metrics.authorize),
    });
    assert.deepEqual(a.authorize("app", [SESSION, "com.x.a", "call", {}]), { allow: true, disclose: true, cache: true });
    // Changed in v2: a cached rule's denial for an action it doesn't allow is no longer cached
    // (Crossbar would keep that denial until it restarts, even after a grant).
    assert.deepEqual(a.authorize("app", [SESSION, "com.x.a", "publish", {}]), { allow: false, disclose: false, cache: false });
    assert.deepEqual(a.authorize("app", [{ ...SESSION, authrole: "nobody" }, "com.x.a", "call", {}]), NO_MATCH);
    assert.deepEqual(a.authorize("app", [SESSION, "com.x.a", "bogus", {}]), NO_MATCH);
  });
});

describe("authorizeObserver", () => {
  it("counts by realm, action and outcome, and labels unknown actions 'invalid'", async () => {
    const metrics = createMetrics();
    const observe = authorizeObserver(metrics.authorize);
    observe({ realm: "app", action: "call", allow: true, ms: 0.1 });
    observe({ realm: "app", action: "call", allow: true, ms: 0.1 });
    observe({ realm: "app", action: "call", allow: false, ms: 0.1 });
    for (let i = 0; i < 20; i++) observe({ realm: "app", action: `junk${i}`, allow: false, ms: 0.1 });
    observe({ realm: "app", action: null, allow: false, ms: 0.1 });
    const { values } = await metrics.authorize.get();
    const count = (action: string, outcome: string) =>
      values.find((v) => v.metricName === "authd_authorize_seconds_count" && v.labels.action === action && v.labels.outcome === outcome)
        ?.value;
    assert.equal(count("call", "allow"), 2);
    assert.equal(count("call", "deny"), 1);
    assert.equal(count("invalid", "deny"), 21);
    assert.equal(
      values.some((v) => String(v.labels.action).startsWith("junk")),
      false,
    );
  });
});

describe("authorizeObserver's buffered counts", () => {
  it("export exactly what prom-client's own observe would, across scrapes and a reset", async () => {
    const buffered = createMetrics();
    const plain = createMetrics();
    const observe = authorizeObserver(buffered.authorize);
    // Sums are added in another order (per scrape): equal up to rounding; buckets and counts exactly.
    const text = async (m: ReturnType<typeof createMetrics>) =>
      (await m.registry.getSingleMetricAsString("authd_authorize_seconds"))
        .split("\n")
        .map((l) => (l.includes("_sum{") ? l.replace(/ ([\d.e+-]+)$/, (_m, v: string) => ` ${Number(v).toPrecision(12)}`) : l))
        .sort()
        .join("\n");
    const feed = (n: number) => {
      for (let i = 0; i < n; i++) {
        const ms = [0.001, 0.7, 3, 40, 2000, 9000][i % 6]!;
        const allow = i % 3 !== 0;
        const action = ["call", "publish", "subscribe"][i % 3]!;
        observe({ realm: i % 2 ? "app" : "other", action, allow, ms });
        plain.authorize.observe({ realm: i % 2 ? "app" : "other", action, outcome: allow ? "allow" : "deny" }, ms / 1000);
      }
    };
    feed(500);
    assert.equal(await text(buffered), await text(plain));
    feed(77);
    assert.equal(await text(buffered), await text(plain), "a second scrape adds only what came since");
    buffered.authorize.reset();
    plain.authorize.reset();
    feed(31);
    assert.equal(await text(buffered), await text(plain), "after a reset");
  });
});

describe("hash thread priority", () => {
  const workerNices = () =>
    readdirSync("/proc/self/task")
      .filter((t) => readFileSync(`/proc/self/task/${t}/comm`, "utf8").trim() === "libuv-worker")
      .map((t) => {
        const stat = readFileSync(`/proc/self/task/${t}/stat`, "utf8");
        return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[16]); // field 19: nice
      });

  it("hashing lowers the threadpool's priority to argon2.threadNice (Linux)", async () => {
    assert.equal(process.platform, "linux", "the CI runs on Linux, where nice is per thread");
    const hasher = new PasswordHasher({ memoryCost: 1024, timeCost: 1, parallelism: 1, threadNice: 7 });
    const phc = await hasher.hash("secret");
    assert.equal(await hasher.verify(phc, "secret"), true);
    const nices = workerNices();
    assert.ok(nices.length > 0, "libuv worker threads exist once a hash ran");
    assert.ok(
      nices.every((n) => n === 7),
      `worker nice values: ${nices.join(",")}`,
    );
  });
});
