import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { ConfigError, loadConfig } from "../../src/config/load.js";

const dir = mkdtempSync(join(tmpdir(), "authd-config-"));
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
    assert.deepEqual(c.argon2, { memoryCost: 19456, timeCost: 2, parallelism: 1, concurrency: 0, threadNice: 0 });
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
    assert.equal(loadConfig({ env: { AUTHD_RELOAD_ON_START: "0" } }).reloadOnStart, false);
    assert.equal(loadConfig({ env: { AUTHD_RELOAD_ON_START: "yes" } }).reloadOnStart, true);
    assert.throws(() => loadConfig({ env: { AUTHD_RELOAD_ON_START: "maybe" } }), /reloadOnStart/);
  });

  it("requires a ticket when the service logs in with ticket", () => {
    assert.throws(() => loadConfig({ env: { AUTHD_ROUTER_AUTHMETHOD: "ticket" } }), /router\.ticket/);
  });

  it("names a missing or unparsable config file", () => {
    assert.throws(() => loadConfig({ file: join(dir, "nope.yaml"), env: {} }), /nope\.yaml: ENOENT/);
    assert.throws(() => loadConfig({ file: file("broken.json", "{"), env: {} }), /broken\.json/);
  });
});
