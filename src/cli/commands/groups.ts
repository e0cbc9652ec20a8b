import type { Command } from "commander";
import * as groups from "../../admin/groups.js";
import { CliError, withAdmin, type GlobalOptions } from "../context.js";
import { printJson, printTable } from "../io.js";

const g = (cmd: Command) => cmd.optsWithGlobals<GlobalOptions>();

interface MemberOptions {
  user?: string;
  group?: string;
}

function memberOf(o: MemberOptions): groups.Member {
  if ((o.user === undefined) === (o.group === undefined)) throw new CliError("give --user <authid> or --group <name>");
  return o.user !== undefined ? { kind: "user", authid: o.user } : { kind: "group", name: o.group as string };
}

const memberText = (m: groups.Member) => (m.kind === "user" ? `user ${m.authid}` : `group ${m.name}`);

export function registerGroups(program: Command): void {
  const cmd = program.command("groups").description("manage a realm's groups (their rules: grants add --group)");

  cmd
    .command("add <realm> <group>")
    .description("add a group")
    .action(async (realm: string, group: string, _o, c: Command) => {
      const created = await withAdmin(g(c), (ctx) => groups.addGroup(ctx, realm, group));
      process.stdout.write(`group ${group} in realm ${realm}${created ? "" : " (already there)"}\n`);
    });

  cmd
    .command("remove <realm> <group>")
    .description("remove a group with its rules and memberships (its users lose its rules at once)")
    .action(async (realm: string, group: string, _o, c: Command) => {
      await withAdmin(g(c), (ctx) => groups.removeGroup(ctx, realm, group));
      process.stdout.write(`group ${group} removed from realm ${realm}\n`);
    });

  cmd
    .command("list [realm]")
    .description("list groups (of one realm or all)")
    .option("--json", "machine-readable output")
    .action(async (realm: string | undefined, o: { json?: boolean }, c: Command) => {
      const rows = await withAdmin(g(c), (ctx) => groups.listGroups(ctx, realm ?? null));
      if (o.json) return printJson(rows);
      printTable(
        ["REALM", "GROUP", "USERS", "SUBGROUPS", "INSIDE", "RULES"],
        rows.map((r) => [r.realm, r.name, String(r.users), String(r.subgroups), r.parents.join(",") || "-", String(r.rules)]),
      );
    });

  cmd
    .command("members <realm> <group>")
    .description("the users and groups directly in a group")
    .option("--json", "machine-readable output")
    .action(async (realm: string, group: string, o: { json?: boolean }, c: Command) => {
      const m = await withAdmin(g(c), (ctx) => groups.members(ctx, realm, group));
      if (o.json) return printJson(m);
      printTable(["KIND", "MEMBER"], [...m.groups.map((n) => ["group", n]), ...m.users.map((u) => ["user", u])]);
    });

  cmd
    .command("add-member <realm> <group>")
    .description(
      "put a user (--user, its stored authid) or a group (--group) into a group; a group inside itself (even through others) is refused",
    )
    .option("--user <authid>", "a user of the realm")
    .option("--group <name>", "a group of the realm")
    .action(async (realm: string, group: string, o: MemberOptions, c: Command) => {
      const m = memberOf(o);
      const added = await withAdmin(g(c), (ctx) => groups.addMember(ctx, realm, group, m));
      process.stdout.write(`${memberText(m)} ${added ? "added to" : "already in"} group ${group} in realm ${realm}\n`);
    });

  cmd
    .command("remove-member <realm> <group>")
    .description("take a user or a group out of a group (its sessions lose the group's rules at once)")
    .option("--user <authid>", "a user of the realm")
    .option("--group <name>", "a group of the realm")
    .action(async (realm: string, group: string, o: MemberOptions, c: Command) => {
      const m = memberOf(o);
      await withAdmin(g(c), (ctx) => groups.removeMember(ctx, realm, group, m));
      process.stdout.write(`${memberText(m)} removed from group ${group} in realm ${realm}\n`);
    });
}
