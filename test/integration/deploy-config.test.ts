import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import YAML from "yaml";
import { loadConfig } from "../../src/config/load.js";
import { Service } from "../../src/service.js";
import { startCrossbar, type CrossbarHandle } from "../../devstack/crossbarProcess.js";
import { freePort } from "../../devstack/ports.js";
import { removeTempDir, tempDir } from "../../devstack/tempDirs.js";
import { migrate } from "../../src/store/migrate.js";
import { Aborted, errorOf, ticketLogin } from "../helpers/client.js";
import { freshStore, quietLog, type TestStore } from "../helpers/db.js";

type Transport = { type: string; endpoint: { type: string; path?: string; port?: number; interface?: string } };

/**
 * The Crossbar config users paste (deploy/crossbar/config.yaml, also mounted by docker-compose.yml)
 * and the demo data (examples/demo/data) run for real: only the socket path and port are moved.
 */
describe("deploy/crossbar/config.yaml with the demo data", () => {
  let store: TestStore;
  let crossbar: CrossbarHandle;
  let service: Service;
  let wsUrl: string;
  let dir: string;

  before(async () => {
    store = await freshStore({ migrated: false });
    await migrate(store.pool, quietLog, { dataDir: "examples/demo/data" });
    const cfg = YAML.parse(readFileSync("deploy/crossbar/config.yaml", "utf8")) as { workers: Array<{ transports: Transport[] }> };
    dir = tempDir("deploy");
    const socketPath = join(dir, "authd.sock");
    const port = await freePort();
    for (const t of cfg.workers[0]!.transports) {
      if (t.endpoint.type === "unix") t.endpoint.path = socketPath;
      else t.endpoint = { ...t.endpoint, port, interface: "127.0.0.1" };
    }
    wsUrl = `ws://127.0.0.1:${port}/ws`;
    crossbar = await startCrossbar(cfg, { dir: join(dir, "cb") });
    service = new Service(
      loadConfig({
        env: {},
        values: {
          database: { url: store.url },
          router: { url: `rawsocket+unix://${socketPath}`, authRealm: "authd", realms: ["demo"] },
          http: { port: 0 },
          log: { level: "silent" },
        },
      }),
      quietLog,
    );
    await service.start();
    for (let i = 0; i < 400 && !service.link.isReady(); i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(service.link.isReady(), true, "wamp-authd registered everything the example config allows");
  });

  after(async () => {
    await service?.stop().catch(() => undefined);
    await crossbar?.stop().catch(() => undefined);
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
