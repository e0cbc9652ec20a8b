import type { Command } from "commander";
import { migrate } from "../../store/migrate.js";
import { withStore, type GlobalOptions } from "../context.js";

export function registerMigrate(program: Command): void {
  program
    .command("migrate")
    .description("apply the schema migrations, then your own data migrations (--data-dir)")
    .option("--data-dir <dir>", "directory of your numbered .sql data migrations (users, roles, grants)", process.env.AUTHD_DATA_MIGRATIONS)
    .action(async (opts: { dataDir?: string }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      await withStore(g, async (pool, log) => {
        const r = await migrate(pool, log, { dataDir: opts.dataDir });
        process.stdout.write(
          r.applied.length
            ? r.applied.map((m) => `applied ${m}`).join("\n") + "\n"
            : `up to date (${r.skipped} migrations already applied)\n`,
        );
      });
    });
}
