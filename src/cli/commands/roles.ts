import type { Command } from "commander";
import { ACTIONS } from "../../authorize/rules.js";
import * as roles from "../../admin/roles.js";
import { actions } from "../../admin/parse.js";
import { CliError, withAdmin, type GlobalOptions } from "../context.js";
import { printJson, printTable, warn, yesNo } from "../io.js";

const g = (cmd: Command) => cmd.optsWithGlobals<GlobalOptions>();

function discloseFlags(text: string | boolean | undefined): { discloseCaller: boolean; disclosePublisher: boolean } {
  if (text === undefined || text === false) return { discloseCaller: false, disclosePublisher: false };
  if (text === true || text === "all") return { discloseCaller: true, disclosePublisher: true };
  const parts = text.split(",").map((s) => s.trim());
  for (const p of parts) if (p !== "caller" && p !== "publisher") throw new CliError(`unknown --disclose value "${p}" (caller, publisher)`);
  return { discloseCaller: parts.includes("caller"), disclosePublisher: parts.includes("publisher") };
}

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

  const grants = program.command("grants").description("manage a role's permission rules");

  grants
    .command("add <realm> <role> <uri>")
    .alias("grant")
    .description(
      "add or replace the rule (role, uri, match). Without --match, Crossbar's starred form decides: a.b.* = prefix, a.*.c = wildcard",
    )
    .option("--match <kind>", "exact, prefix or wildcard")
    .requiredOption("--allow <actions>", `comma list of ${ACTIONS.join(", ")}; or all, none`)
    .option("--disclose [which]", "disclose the caller/publisher identity: caller, publisher (default both)")
    .option("--cache", "let the router cache the decision (it cannot be purged: see the warning)")
    .action(
      async (
        realm: string,
        role: string,
        uri: string,
        o: { match?: string; allow: string; disclose?: string | boolean; cache?: boolean },
        c: Command,
      ) => {
        const r = await withAdmin(g(c), (ctx) =>
          roles.grant(ctx, realm, role, { uri, match: o.match, allow: actions(o.allow), ...discloseFlags(o.disclose), cache: !!o.cache }),
        );
        process.stdout.write(`${r.replaced ? "replaced" : "added"} ${r.match} rule "${r.uri}" for role ${role} in realm ${realm}\n`);
        for (const w of r.warnings) warn(w);
      },
    );

  grants
    .command("remove <realm> <role> <uri>")
    .alias("revoke")
    .description("remove the rule (role, uri, match)")
    .option("--match <kind>", "exact, prefix or wildcard (default: from the starred form)")
    .action(async (realm: string, role: string, uri: string, o: { match?: string }, c: Command) => {
      const r = await withAdmin(g(c), (ctx) => roles.revoke(ctx, realm, role, uri, o.match));
      process.stdout.write(`removed ${r.match} rule "${r.uri}" from role ${role} in realm ${realm}\n`);
      for (const w of r.warnings) warn(w);
    });

  grants
    .command("list [realm] [role]")
    .description("list rules")
    .option("--json", "machine-readable output")
    .action(async (realm: string | undefined, role: string | undefined, o: { json?: boolean }, c: Command) => {
      const rows = await withAdmin(g(c), (ctx) => roles.listGrants(ctx, realm ?? null, role ?? null));
      if (o.json) return printJson(rows.map(({ id, ...r }) => ({ id: Number(id), ...r })));
      printTable(
        ["REALM", "ROLE", "MATCH", "URI", "ALLOW", "DISCLOSE", "CACHE"],
        rows.map((r) => [
          r.realm,
          r.role,
          r.match,
          r.uri === "" ? '""' : r.uri,
          ACTIONS.filter((a) => r[`allow_${a}`]).join(",") || "none",
          [r.disclose_caller ? "caller" : "", r.disclose_publisher ? "publisher" : ""].filter(Boolean).join(",") || "-",
          yesNo(r.cache),
        ]),
      );
    });
}
