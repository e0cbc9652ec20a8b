import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { ConfigError, loadConfig } from "../../src/config/load.js";
import { removeTempDir, tempDir } from "../../devstack/tempDirs.js";

const dir = tempDir("config");
after(() => removeTempDir(dir));
function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

describe("loadConfig", () => {
  it("has working defaults", () => {
    const c = loadConfig({ env: {} });
    assert.equal(c.procedures.authenticate, "authd.authenticate");
    assert.equal(c.procedures.authorize, "authd.authorize");
    assert.equal(c.procedures.userPrefix, "authd.tokens.");
    assert.equal(c.deadlineMs, 3000);
    assert.deepEqual(c.argon2, { memoryCost: 19456, timeCost: 2, parallelism: 1, concurrency: 0, maxQueued: 0, threadNice: 0 });
    assert.equal(c.throttle.trustedProxyHops, 1);
    assert.equal(c.throttle.ipv6PrefixLength, 64);
    assert.equal(c.throttle.peerInFlight, 8);
    assert.equal(c.throttle.unknownAccountBuckets, 65536);
    assert.equal(c.audit.rollupWindowMs, 60000);
  });

  it("login hardening keys: an IPv6 prefix outside 1-128 or a hop count of 0 stops start-up naming the key", () => {
    assert.equal(loadConfig({ env: { AUTHD_THROTTLE_IPV6_PREFIX_LENGTH: "48" } }).throttle.ipv6PrefixLength, 48);
    for (const bad of ["0", "129", "64.5", "x"])
      assert.throws(() => loadConfig({ env: { AUTHD_THROTTLE_IPV6_PREFIX_LENGTH: bad } }), /throttle\.ipv6PrefixLength/, bad);
    assert.throws(() => loadConfig({ env: { AUTHD_THROTTLE_TRUSTED_PROXY_HOPS: "0" } }), /throttle\.trustedProxyHops/);
    assert.throws(() => loadConfig({ env: { AUTHD_THROTTLE_PEER_IN_FLIGHT: "-1" } }), /throttle\.peerInFlight/);
    assert.equal(loadConfig({ env: { AUTHD_THROTTLE_PEER_IN_FLIGHT: "0" } }).throttle.peerInFlight, 0);
    assert.throws(() => loadConfig({ env: { AUTHD_THROTTLE_UNKNOWN_ACCOUNT_BUCKETS: "0" } }), /throttle\.unknownAccountBuckets/);
    assert.equal(loadConfig({ env: { AUTHD_ARGON2_MAX_QUEUED: "5" } }).argon2.maxQueued, 5);
  });

  it("reads AUTHD_ env vars, with lists comma separated", () => {
    const c = loadConfig({
      env: { AUTHD_ROUTER_REALMS: "app1, app2", AUTHD_ROUTER_URL: "ws://127.0.0.1:8080/ws", AUTHD_DEADLINE_MS: "1500" },
    });
    assert.deepEqual(c.router.realms, ["app1", "app2"]);
    assert.equal(c.router.url, "ws://127.0.0.1:8080/ws");
    assert.equal(c.deadlineMs, 1500);
  });

  it("reads YAML and JSON files; env beats the file, flags beat env", () => {
    const y = file("c.yaml", "router:\n  url: tcp://127.0.0.1:9000\n  realms: [a, b]\nlog:\n  level: debug\n");
    const c = loadConfig({ file: y, env: { AUTHD_LOG_LEVEL: "warn" } });
    assert.equal(c.router.url, "tcp://127.0.0.1:9000");
    assert.deepEqual(c.router.realms, ["a", "b"]);
    assert.equal(c.log.level, "warn");
    const j = file("c.json", JSON.stringify({ http: { port: 1234 } }));
    const c2 = loadConfig({ file: j, env: { AUTHD_HTTP_PORT: "2345" }, args: ["--http-port", "3456"] });
    assert.equal(c2.http.port, 3456);
  });

  it("rejects an unknown key with one line naming it", () => {
    const f = file("bad.json", JSON.stringify({ router: { urll: "ws://x" } }));
    assert.throws(
      () => loadConfig({ file: f, env: {} }),
      (e: unknown) => {
        assert.ok(e instanceof ConfigError);
        assert.match(e.message, /router\.urll/);
        assert.ok(!e.message.includes("\n"));
        return true;
      },
    );
  });

  it("rejects procedure URIs that break Crossbar's strict URI rule", () => {
    assert.throws(() => loadConfig({ env: { AUTHD_PROCEDURE_AUTHORIZE: "Com.Example-Auth" } }), /procedures\.authorize/);
    // The user-facing prefix is reserved: it must be a real prefix, never "" (that would reserve everything).
    for (const bad of ["", ".", "authd.tokens", "Authd.tokens.", "authd..tokens."]) {
      assert.throws(() => loadConfig({ env: { AUTHD_PROCEDURE_USER_PREFIX: bad } }), /procedures\.userPrefix/, JSON.stringify(bad));
    }
    assert.equal(loadConfig({ env: { AUTHD_PROCEDURE_USER_PREFIX: "app.tokens." } }).procedures.userPrefix, "app.tokens.");
  });

  it("rejects a bad router URL and a bad number", () => {
    assert.throws(() => loadConfig({ env: { AUTHD_ROUTER_URL: "http://x" } }), /router\.url/);
    assert.throws(() => loadConfig({ env: { AUTHD_DEADLINE_MS: "soon" } }), /deadlineMs/);
  });

  it("does not read '0' as true (convict's Boolean quirk)", () => {
    assert.equal(loadConfig({ env: { AUTHD_AUDIT_ENABLED: "0" } }).audit.enabled, false);
    assert.equal(loadConfig({ env: { AUTHD_AUDIT_ENABLED: "yes" } }).audit.enabled, true);
    assert.throws(() => loadConfig({ env: { AUTHD_AUDIT_ENABLED: "maybe" } }), /audit\.enabled/);
  });

  it("refuses the removed reloadOnStart (file or env) with what to do instead", () => {
    const expect = (f: () => unknown, re: RegExp) =>
      assert.throws(
        f,
        (e: unknown) => e instanceof ConfigError && re.test(e.message) && /always loaded before the authorizer/.test(e.message),
      );
    expect(
      () => loadConfig({ file: file("old.yaml", "reloadOnStart: false\n"), env: {} }),
      /^reloadOnStart was removed.*delete it from .*old\.yaml$/,
    );
    expect(() => loadConfig({ file: file("old.json", '{"reloadOnStart": true}'), env: {} }), /^reloadOnStart was removed/);
    expect(() => loadConfig({ env: { AUTHD_RELOAD_ON_START: "true" } }), /^AUTHD_RELOAD_ON_START \(reloadOnStart\) was removed.*unset it$/);
    assert.equal("reloadOnStart" in loadConfig({ env: {} }), false);
  });

  it("requires a ticket when the service logs in with ticket", () => {
    assert.throws(() => loadConfig({ env: { AUTHD_ROUTER_AUTHMETHOD: "ticket" } }), /router\.ticket/);
  });

  it("names a missing or unparsable config file", () => {
    assert.throws(() => loadConfig({ file: join(dir, "nope.yaml"), env: {} }), /nope\.yaml: ENOENT/);
    assert.throws(() => loadConfig({ file: file("broken.json", "{"), env: {} }), /broken\.json/);
  });
});
