import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseSince } from "../../src/admin/audit.js";
import { AdminError } from "../../src/admin/context.js";
import { actions, pubkey, ruleUri } from "../../src/admin/parse.js";
import { cacheWarning } from "../../src/admin/roles.js";

describe("admin input parsing", () => {
  it("rule URIs: starred form without a match kind, explicit kinds as given", () => {
    assert.deepEqual(ruleUri("com.app.*"), { uri: "com.app.", match: "prefix" });
    assert.deepEqual(ruleUri("com.*.status"), { uri: "com..status", match: "wildcard" });
    assert.deepEqual(ruleUri("com.app.x"), { uri: "com.app.x", match: "exact" });
    assert.deepEqual(ruleUri("com.app.", "prefix"), { uri: "com.app.", match: "prefix" });
    assert.deepEqual(ruleUri("", "prefix"), { uri: "", match: "prefix" });
    assert.throws(() => ruleUri("com.*", "prefix"), AdminError);
    assert.throws(() => ruleUri("com app"), AdminError);
    assert.throws(() => ruleUri("com.#"), AdminError);
    assert.throws(() => ruleUri("", "exact"), AdminError);
    assert.throws(() => ruleUri("a", "regex"), AdminError);
  });

  it("actions: lists, all, none; unknown ones are errors", () => {
    assert.deepEqual(actions("call, subscribe,call"), ["call", "subscribe"]);
    assert.deepEqual(actions("all"), ["call", "register", "publish", "subscribe"]);
    assert.deepEqual(actions("none"), []);
    assert.throws(() => actions("call,fly"), /unknown action "fly"/);
  });

  it("public keys are 64 hex characters, stored lowercase", () => {
    assert.equal(pubkey("AB".repeat(32)), "ab".repeat(32));
    assert.throws(() => pubkey("ab".repeat(31)), AdminError);
  });

  it("--since takes durations and dates", () => {
    const now = Date.parse("2026-01-10T00:00:00Z");
    assert.equal(parseSince("2h", now).toISOString(), "2026-01-09T22:00:00.000Z");
    assert.equal(parseSince("7d", now).toISOString(), "2026-01-03T00:00:00.000Z");
    assert.equal(parseSince("2026-01-01", now).toISOString(), "2026-01-01T00:00:00.000Z");
    assert.throws(() => parseSince("last week", now), AdminError);
  });

  it("the cache warning says what it takes to apply a change", () => {
    assert.match(
      cacheWarning("app", "user", "a.", "prefix"),
      /router-wide.*cannot purge.*This change reaches the router only when Crossbar restarts/,
    );
    assert.match(cacheWarning("app", "user", "a.", "prefix", false), /A change to it reaches.*reconnecting sessions does not help/);
  });
});
