import type { Command } from "commander";
import * as roles from "../../admin/roles.js";
import { withAdmin, type GlobalOptions } from "../context.js";
import { printJson, printTable, yesNo } from "../io.js";

const g = (cmd: Command) => cmd.optsWithGlobals<GlobalOptions>();

export function registerRoles(program: Command): void {
  const cmd = program.command("roles").description("manage a realm's roles");

  cmd
    .command("add <realm> <role>")
    .description("add a role (or change its kill-on-change flag)")
    .option("--kill-on-change", "close the role's live sessions whenever its rules change")
    .action(async (realm: string, role: string, o: { killOnChange?: boolean }, c: Command) => {
      await withAdmin(g(c), (ctx) => roles.addRole(ctx, realm, role, !!o.killOnChange));
      process.stdout.write(`role ${role} in realm ${realm}${o.killOnChange ? " (kill-on-change)" : ""}\n`);
    });

  cmd
    .command("list [realm]")
    .description("list roles (of one realm or all)")
    .option("--json", "machine-readable output")
    .action(async (realm: string | undefined, o: { json?: boolean }, c: Command) => {
      const rows = await withAdmin(g(c), (ctx) => roles.listRoles(ctx, realm ?? null));
      if (o.json) return printJson(rows);
      printTable(
        ["REALM", "ROLE", "KILL-ON-CHANGE", "RULES", "USERS"],
        rows.map((r) => [r.realm, r.name, yesNo(r.kill_on_change), String(r.rules), String(r.users)]),
      );
    });

  cmd
    .command("remove <realm> <role>")
    .description("remove a role and its rules (its sessions are then denied everything)")
    .action(async (realm: string, role: string, _o, c: Command) => {
      await withAdmin(g(c), (ctx) => roles.removeRole(ctx, realm, role));
      process.stdout.write(`role ${role} removed from realm ${realm}\n`);
    });
}
