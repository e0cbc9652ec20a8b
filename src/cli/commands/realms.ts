import type { Command } from "commander";
import * as realms from "../../admin/realms.js";
import { jsonObject } from "../../admin/parse.js";
import { CliError, withAdmin, type GlobalOptions } from "../context.js";
import { printJson, printTable, yesNo } from "../io.js";

const g = (cmd: Command) => cmd.optsWithGlobals<GlobalOptions>();
const collect = (v: string, prev: string[]) => [...prev, v];

export function registerRealms(program: Command): void {
  const cmd = program.command("realms").description("manage realms and their anonymous-access policy");

  cmd
    .command("add <realm>")
    .description("add a realm (running instances join it at once when router.realms is not pinned)")
    .action(async (realm: string, _o, c: Command) => {
      await withAdmin(g(c), (ctx) => realms.addRealm(ctx, realm));
      process.stdout.write(`realm ${realm} added\n`);
    });

  cmd
    .command("list")
    .description("list realms")
    .option("--json", "machine-readable output")
    .action(async (o: { json?: boolean }, c: Command) => {
      const rows = await withAdmin(g(c), (ctx) => realms.realms(ctx));
      if (o.json) return printJson(rows.map(({ id: _id, ...r }) => r));
      printTable(
        ["REALM", "ANONYMOUS", "ROLE", "CIDRS"],
        rows.map((r) => [r.name, yesNo(r.anonymous_allowed), r.anonymous_role ?? "-", r.anonymous_cidrs.join(",") || "-"]),
      );
    });

  cmd
    .command("remove <realm>")
    .description("remove a realm with all its roles, rules and users (their sessions are closed)")
    .action(async (realm: string, _o, c: Command) => {
      await withAdmin(g(c), (ctx) => realms.removeRealm(ctx, realm));
      process.stdout.write(`realm ${realm} removed\n`);
    });

  cmd
    .command("anonymous <realm>")
    .description("set the realm's anonymous policy (only the given parts change)")
    .option("--allow", "allow anonymous logins (needs a role)")
    .option("--deny", "deny anonymous logins")
    .option("--role <role>", "role of anonymous sessions")
    .option("--cidr <cidr>", "allowed client network (repeatable; none = any address)", collect, [])
    .option("--any-address", "clear the CIDR list")
    .option("--authid <authid>", "fixed authid for anonymous sessions (default: the router's random one)")
    .option("--extra <json>", "authextra object for anonymous sessions")
    .action(
      async (
        realm: string,
        o: { allow?: boolean; deny?: boolean; role?: string; cidr: string[]; anyAddress?: boolean; authid?: string; extra?: string },
        c: Command,
      ) => {
        const change: realms.AnonymousChange = {};
        if (o.allow && o.deny) throw new CliError("give --allow or --deny, not both");
        if (o.allow || o.deny) change.allowed = !!o.allow;
        if (o.role !== undefined) change.role = o.role;
        if (o.cidr.length > 0) change.cidrs = o.cidr;
        if (o.anyAddress) change.cidrs = [];
        if (o.authid !== undefined) change.authid = o.authid === "" ? null : o.authid;
        if (o.extra !== undefined) change.extra = jsonObject(o.extra, "--extra");
        const p = await withAdmin(g(c), (ctx) => realms.setAnonymous(ctx, realm, change));
        process.stdout.write(
          `realm ${realm}: anonymous ${p.allowed ? `allowed as role ${p.role}` : "denied"}${p.cidrs.length ? ` from ${p.cidrs.join(", ")}` : ""}\n`,
        );
      },
    );
}
