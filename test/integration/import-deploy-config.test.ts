import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { removeTempDir, tempDir } from "../../devstack/tempDirs.js";
import { migrate } from "../../src/store/migrate.js";
import { abortOf, connect, errorOf, ticketLogin } from "../helpers/client.js";
import { cliEnv, cliOk } from "../helpers/cli.js";
import { freshStore, quietLog, type TestStore } from "../helpers/db.js";
import { DEPLOY_CONFIG, startDeployStack, type DeployStack } from "../helpers/deployStack.js";

const DEPLOY = DEPLOY_CONFIG;

/**
 * An operator imports the shipped deploy config into a store holding the demo data. Its privileged
 * transport logs wamp-authd in anonymously as `authd`; turning that into the anonymous policy of
 * realms `authd` and `demo` let anyone on the public transport register `authd.authenticate` (and
 * answer every login) or kill sessions. The import must leave all of that out and say so.
 */
describe("import-crossbar of deploy/crossbar/config.yaml opens no door", () => {
  let store: TestStore;
  let deploy: DeployStack | undefined;
  let wsUrl: string;
  let dir: string;

  before(async () => {
    store = await freshStore({ migrated: false });
    await migrate(store.pool, quietLog, { dataDir: "examples/demo/data" });
    dir = tempDir("import-deploy");
  });

  after(async () => {
    await deploy?.stop();
    await store?.close();
    if (dir) await removeTempDir(dir);
  });

  it("the dry run lists what it leaves out and why; --apply (even with --anonymous-from-transports) adds no realm, role or policy", async () => {
    const env = cliEnv(store.url);
    const text = await cliOk(["import-crossbar", DEPLOY], { env });
    assert.match(text, /^realm demo$/m);
    assert.doesNotMatch(text, /^realm authd/m);
    assert.doesNotMatch(text, /anonymous as/);
    assert.match(text, /realms\[0\]: realm "authd" is the authenticator realm .*nothing in it is imported/);
    assert.match(
      text,
      /realms\[1\]\.roles\[0\]: role "authd" may register authd\.authorize, authd\.tokens: it is the authenticator's\/authorizer's own role/,
    );
    assert.match(
      text,
      /transports\[0\]\.auth\.anonymous: a transport's static anonymous role \("authd"\) is not made a realm's anonymous policy/,
    );
    assert.match(text, /dry run: nothing written/);

    const before = await store.pool.query("SELECT name, anonymous_allowed, anonymous_role FROM authd.realms ORDER BY name");
    for (const flags of [[], ["--anonymous-from-transports"]]) {
      const out = JSON.parse(await cliOk(["import-crossbar", DEPLOY, "--apply", "--json", ...flags], { env })) as {
        plan: { realms: unknown[]; skipped: Array<{ where: string; why: string }> };
        result: Record<string, unknown>;
      };
      assert.deepEqual(out.plan.realms, [{ name: "demo", anonymous_role: null, roles: [] }]);
      assert.deepEqual(out.result, { realmsCreated: 0, rolesCreated: 0, rules: 0, usersCreated: 0, usersExisting: [] });
      if (flags.length > 0)
        assert.ok(out.plan.skipped.some((s) => /anonymous role "authd" is the service's own role in realm "demo"/.test(s.why)));
    }
    const afterImport = await store.pool.query("SELECT name, anonymous_allowed, anonymous_role FROM authd.realms ORDER BY name");
    assert.deepEqual(afterImport.rows, before.rows);
    assert.deepEqual(afterImport.rows, [{ name: "demo", anonymous_allowed: true, anonymous_role: "guest" }]);
    const roles = await store.pool.query("SELECT name FROM authd.roles ORDER BY name");
    assert.deepEqual(
      roles.rows.map((r: { name: string }) => r.name),
      ["backend", "guest", "user"],
    );
  });

  it("through Crossbar running that config: anonymous gets no role authd and cannot register authd.authenticate; demo users log in", async () => {
    deploy = await startDeployStack(store.url, dir);
    wsUrl = deploy.wsUrl;

    // The authenticator realm admits nobody from the public transport.
    const denied = await abortOf(connect({ url: wsUrl, realm: "authd", authmethods: ["anonymous"] }), "anonymous login to realm authd");
    assert.equal(denied.reason, "wamp.error.not_authorized");

    // In demo, anonymous stays the demo data's guest: no authd role, no way to the service's procedures.
    const anon = await connect({ url: wsUrl, realm: "demo", authmethods: ["anonymous"] });
    try {
      assert.equal(anon.welcome.authrole, "guest");
      // roundrobin, as wamp-authd registers: joining its registration is the attack.
      const rr = { invoke: "roundrobin" as const };
      assert.equal(await errorOf(anon.session.register("authd.authenticate", () => null, rr)), "wamp.error.not_authorized");
      assert.equal(await errorOf(anon.session.register("authd.authorize", () => null, rr)), "wamp.error.not_authorized");
      // Crossbar 26.10.1 answers a denied REGISTER of an existing procedure with another policy by the
      // conflict error (it checks the conflict before sending the denial): it tells that the procedure
      // exists, but registers nothing.
      assert.equal(
        await errorOf(anon.session.register("authd.authorize", () => null)),
        "wamp.error.procedure_exists_with_different_invocation_policy",
      );
      assert.equal(await errorOf(anon.session.call("wamp.session.kill_by_authrole", ["user"])), "wamp.error.not_authorized");
    } finally {
      anon.close();
    }

    const alice = await ticketLogin(wsUrl, "demo", "alice", "alice-secret");
    const bob = await ticketLogin(wsUrl, "demo", "bob", "bob-secret");
    try {
      assert.equal(alice.welcome.authrole, "user");
      assert.equal(bob.welcome.authrole, "guest");
      await alice.session.register("com.example.add", (args: unknown[]) => (args[0] as number) + (args[1] as number));
      assert.equal(await alice.session.call("com.example.add", [2, 3]), 5);
    } finally {
      alice.close();
      bob.close();
    }
  });
});
