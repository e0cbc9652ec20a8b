/**
 * Child process: one real wamp-authd Service (src/service.ts), configured from argv[2] (JSON config
 * values). Talks to the benchmark over the fork IPC channel: reports when it is registered in every
 * realm, times reloads of the permission index and reports its memory on request.
 */
import "./quietConsole.js";
import "../src/cli/threadpool.js";
import { loadConfig } from "../src/config/load.js";
import { createLogger } from "../src/log/logger.js";
import { Service } from "../src/service.js";

type Msg = { cmd: "reload" } | { cmd: "mem" } | { cmd: "stop" };

const values = JSON.parse(process.argv[2] ?? "{}") as Record<string, unknown>;
const config = loadConfig({ env: {}, values });
const log = createLogger(config.log.level);
const service = new Service(config, log);
const send = (m: Record<string, unknown>) => process.send?.(m);

const t0 = performance.now();
await service.start();
const startMs = performance.now() - t0;
while (!service.link.isReady()) await new Promise((r) => setTimeout(r, 20));
send({ type: "ready", startMs, readyMs: performance.now() - t0, rules: service.permissionIndex.ruleCount });

process.on("message", (m: Msg) => {
  void (async () => {
    switch (m.cmd) {
      case "reload": {
        const a = performance.now();
        await service.reload();
        send({ type: "reloaded", ms: performance.now() - a, rules: service.permissionIndex.ruleCount });
        break;
      }
      case "mem": {
        global.gc?.();
        const u = process.memoryUsage();
        send({ type: "mem", rss: u.rss, heapUsed: u.heapUsed });
        break;
      }
      case "stop":
        await service.stop();
        send({ type: "stopped" });
        process.exit(0);
    }
  })().catch((err: Error) => send({ type: "error", message: err.message }));
});
process.on("disconnect", () => process.exit(0));
