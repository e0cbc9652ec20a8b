import type { Command } from "commander";
import { createLogger } from "../../log/logger.js";
import { Service } from "../../service.js";
import { configFrom, type GlobalOptions } from "../context.js";

export function registerServe(program: Command): void {
  program
    .command("serve")
    .description("connect to the router and answer authenticate/authorize calls (any config key can be given as a flag, e.g. --router-url)")
    .allowUnknownOption(true)
    .allowExcessArguments(true)
    .action(async (_opts, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const config = configFrom(g, cmd.args);
      const log = createLogger(config.log.level);
      const service = new Service(config, log);
      let stopping = false;
      const shutdown = (signal: string) => {
        if (stopping) return;
        stopping = true;
        log.info({ signal }, "shutting down");
        service.stop().then(
          () => process.exit(0),
          (err: Error) => {
            log.error({ err }, "shutdown failed");
            process.exit(1);
          },
        );
      };
      process.on("SIGTERM", () => shutdown("SIGTERM"));
      process.on("SIGINT", () => shutdown("SIGINT"));
      await service.start();
      log.info({ router: config.router.url, authRealm: config.router.authRealm }, "wamp-authd started");
    });
}
