/**
 * The demo as `npm run dev` runs it, in pieces a test can start on free ports: the schema plus the
 * demo data (examples/demo/data) in a database, Crossbar with a generated config, wamp-authd, and
 * the demo callee (demo.hello, demo.add2).
 */
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { loadConfig } from "../src/config/load.js";
import type { Logger } from "../src/log/logger.js";
import { Service } from "../src/service.js";
import { migrate } from "../src/store/migrate.js";
import { createPool } from "../src/store/pool.js";
import { crossbarConfig } from "./crossbarConfig.js";
import { startCrossbar, type CrossbarHandle } from "./crossbarProcess.js";
import { startDemoCallee, type DemoCallee } from "./demoCallee.js";

const ROOT = resolve(fileURLToPath(new URL(".", import.meta.url)), "../..");
export const DEMO_DATA = join(ROOT, "examples/demo/data");
export const DEMO_REALM = "demo";

export interface DemoStack {
  wsUrl: string;
  crossbarConfigFile: string;
  service: Service;
  stop(): Promise<void>;
}

export async function startDemoStack(o: {
  dbUrl: string;
  stackDir: string;
  wsPort: number;
  httpPort: number;
  log: Logger;
  /** Environment for the service's config (AUTHD_*); default process.env. */
  env?: NodeJS.ProcessEnv;
}): Promise<DemoStack> {
  const pool = createPool(o.dbUrl, o.log, 2);
  try {
    const r = await migrate(pool, o.log, { dataDir: DEMO_DATA });
    o.log.info({ applied: r.applied }, "database ready");
  } finally {
    await pool.end();
  }

  const socketPath = join(o.stackDir, "authd.sock");
  let crossbar: CrossbarHandle | null = null;
  let service: Service | null = null;
  let callee: DemoCallee | null = null;
  const stop = async () => {
    await callee?.stop().catch(() => undefined);
    await service?.stop().catch(() => undefined);
    await crossbar?.stop().catch(() => undefined);
  };
  try {
    crossbar = await startCrossbar(
      crossbarConfig({
        socketPath,
        wsPort: o.wsPort,
        methods: ["ticket", "scram", "cryptosign", "anonymous"],
        realms: [{ name: DEMO_REALM, roles: ["user", "guest", "backend"].map((name) => ({ name, authorizer: "authd.authorize" })) }],
      }),
      { dir: join(o.stackDir, "crossbar") },
    );
    const config = loadConfig({
      env: o.env ?? process.env,
      values: {
        database: { url: o.dbUrl },
        router: { url: `rawsocket+unix://${socketPath}`, authRealm: "authd", realms: [DEMO_REALM] },
        http: { port: o.httpPort },
      },
    });
    service = new Service(config, o.log);
    await service.start();
    for (const until = Date.now() + 30_000; !service.link.isReady(); await new Promise((r) => setTimeout(r, 50))) {
      if (Date.now() > until) throw new Error("wamp-authd did not register with Crossbar within 30 s");
    }
    const wsUrl = `ws://127.0.0.1:${o.wsPort}/ws`;
    callee = await startDemoCallee({ url: wsUrl, realm: DEMO_REALM, log: o.log });
    return { wsUrl, crossbarConfigFile: join(o.stackDir, "crossbar/.crossbar/config.json"), service, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
