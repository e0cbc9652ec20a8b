import type { Command } from "commander";
import { exportRealms, formatExport } from "../../admin/exportPermissions.js";
import { CliError, withAdmin, type GlobalOptions } from "../context.js";

export function registerExport(program: Command): void {
  program
    .command("export [realm]")
    .description(
      "print realms, roles and rules as a Crossbar `realms` block with static permissions; what static permissions cannot express (group and user rules, templates, time windows, denials) is listed on stderr",
    )
    .option("--format <format>", "yaml or json", "yaml")
    .option("--json", "same as --format json")
    .action(async (realm: string | undefined, o: { format: string; json?: boolean }, c: Command) => {
      const format = o.json ? "json" : o.format;
      if (format !== "yaml" && format !== "json") throw new CliError(`unknown --format "${format}" (yaml, json)`);
      const { realms, notExpressible } = await withAdmin(c.optsWithGlobals<GlobalOptions>(), (ctx) => exportRealms(ctx, realm ?? null));
      process.stdout.write(formatExport(realms, format));
      for (const line of notExpressible) process.stderr.write(`wamp-authd: not expressible in static permissions: ${line}\n`);
    });
}
