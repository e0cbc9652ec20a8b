import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { removeTempDir, tempDir } from "../../devstack/tempDirs.js";
import { migrate } from "../../src/store/migrate.js";
import { Aborted, errorOf, ticketLogin } from "../helpers/client.js";
import { freshStore, quietLog, type TestStore } from "../helpers/db.js";
import { startDeployStack, type DeployStack } from "../helpers/deployStack.js";

/**
 * The Crossbar config users paste (deploy/crossbar/config.yaml, also mounted by docker-compose.yml)
 * and the demo data (examples/demo/data) run for real: only the socket path and port are moved.
 */
describe("deploy/crossbar/config.yaml with the demo data", () => {
  let store: TestStore;
  let deploy: DeployStack | undefined;
  let wsUrl: string;
  let dir: string;

  before(async () => {
    store = await freshStore({ migrated: false });
    await migrate(store.pool, quietLog, { dataDir: "examples/demo/data" });
    dir = tempDir("deploy");
    deploy = await startDeployStack(store.url, dir);
    wsUrl = deploy.wsUrl;
  });

  after(async () => {
    await deploy?.stop();
    await store?.close();
    if (dir) await removeTempDir(dir);
  });

  it("demo users log in; grants and denials follow the demo data", async () => {
    const alice = await ticketLogin(wsUrl, "demo", "alice", "alice-secret");
    const bob = await ticketLogin(wsUrl, "demo", "bob", "bob-secret");
    try {
      assert.equal(alice.welcome.authrole, "user");
      assert.equal(alice.welcome.authextra.name, "Alice");
      await alice.session.register("com.example.add", (args: unknown[]) => (args[0] as number) + (args[1] as number));
      assert.equal(await alice.session.call("com.example.add", [2, 3]), 5);
      assert.equal(await errorOf(bob.session.call("com.example.add", [2, 3])), "wamp.error.not_authorized");
      await bob.session.subscribe("com.example.public.news", () => undefined);
    } finally {
      alice.close();
      bob.close();
    }
    await assert.rejects(ticketLogin(wsUrl, "demo", "carol", "carol-secret"), (e: unknown) => e instanceof Aborted);
  });
});
