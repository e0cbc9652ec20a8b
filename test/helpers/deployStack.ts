/**
 * The Crossbar config users paste (deploy/crossbar/config.yaml, also mounted by docker-compose.yml),
 * run for real with the service: only the socket path and the public port are moved, into `dir`.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import YAML from "yaml";
import { startCrossbar, type CrossbarHandle } from "../../devstack/crossbarProcess.js";
import { freePort } from "../../devstack/ports.js";
import { loadConfig } from "../../src/config/load.js";
import { Service } from "../../src/service.js";
import { quietLog } from "./db.js";
import { waitFor } from "./logCapture.js";

export const DEPLOY_CONFIG = "deploy/crossbar/config.yaml";

type Transport = { type: string; endpoint: { type: string; path?: string; port?: number; interface?: string } };

export interface DeployStack {
  crossbar: CrossbarHandle;
  service: Service;
  wsUrl: string;
  stop(): Promise<void>;
}

export async function startDeployStack(databaseUrl: string, dir: string): Promise<DeployStack> {
  const cfg = YAML.parse(readFileSync(DEPLOY_CONFIG, "utf8")) as { workers: Array<{ transports: Transport[] }> };
  const socketPath = join(dir, "authd.sock");
  const port = await freePort();
  for (const t of cfg.workers[0]!.transports) {
    if (t.endpoint.type === "unix") t.endpoint.path = socketPath;
    else t.endpoint = { ...t.endpoint, port, interface: "127.0.0.1" };
  }
  const crossbar = await startCrossbar(cfg, { dir: join(dir, "cb") });
  const service = new Service(
    loadConfig({
      env: {},
      values: {
        database: { url: databaseUrl },
        router: { url: `rawsocket+unix://${socketPath}`, authRealm: "authd", realms: ["demo"] },
        http: { port: 0 },
        log: { level: "silent" },
      },
    }),
    quietLog,
  );
  const stop = async () => {
    await service.stop().catch(() => undefined);
    await crossbar.stop().catch(() => undefined);
  };
  try {
    await service.start();
    await waitFor("wamp-authd to register everything the example config allows", () => service.link.isReady(), 20_000);
  } catch (err) {
    await stop();
    throw err;
  }
  assert.equal(service.link.isReady(), true);
  return { crossbar, service, wsUrl: `ws://127.0.0.1:${port}/ws`, stop };
}
