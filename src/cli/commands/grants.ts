import type { Command } from "commander";
import { type RuleOwner, grantRule, listRules, revokeRule } from "../../admin/grants.js";
import { actions } from "../../admin/parse.js";
import { ACTIONS } from "../../authorize/rules.js";
import type { GrantRow } from "../../store/adminQueries.js";
import { CliError, withAdmin, type GlobalOptions } from "../context.js";
import { isoOrDash, printJson, printTable, warn, yesNo } from "../io.js";

const g = (cmd: Command) => cmd.optsWithGlobals<GlobalOptions>();

function discloseFlags(text: string | boolean | undefined): { discloseCaller: boolean; disclosePublisher: boolean } {
  if (text === undefined || text === false) return { discloseCaller: false, disclosePublisher: false };
  if (text === true || text === "all") return { discloseCaller: true, disclosePublisher: true };
  const parts = text.split(",").map((s) => s.trim());
  for (const p of parts) if (p !== "caller" && p !== "publisher") throw new CliError(`unknown --disclose value "${p}" (caller, publisher)`);
  return { discloseCaller: parts.includes("caller"), disclosePublisher: parts.includes("publisher") };
}

interface OwnerOptions {
  user?: string;
  group?: string;
}

/**
 * `<realm> <role> <uri>` for a role rule, `<realm> <uri> --user <authid>` or `<realm> <uri> --group <name>`
 * for a user's or a group's.
 */
function ownerAndUri(second: string, third: string | undefined, o: OwnerOptions): { owner: RuleOwner; uri: string } {
  if (o.user !== undefined && o.group !== undefined) throw new CliError("give --user or --group, not both");
  if (o.user !== undefined || o.group !== undefined) {
    if (third !== undefined) throw new CliError(`with --${o.user !== undefined ? "user" : "group"} give <realm> <uri> (no role)`);
    return { owner: o.user !== undefined ? { kind: "user", authid: o.user } : { kind: "group", name: o.group as string }, uri: second };
  }
  if (third === undefined) throw new CliError("give <realm> <role> <uri>, or <realm> <uri> with --user or --group");
  return { owner: { kind: "role", name: second }, uri: third };
}

function ownerText(o: RuleOwner): string {
  return o.kind === "user" ? `user ${o.authid}` : `${o.kind} ${o.name}`;
}

const flags = (r: GrantRow, kind: "allow" | "deny") =>
  ACTIONS.filter((a) => r[`${kind}_${a}`]).join(",") || (kind === "allow" ? "none" : "-");

function windowText(r: GrantRow): string {
  if (!r.valid_from && !r.valid_until) return "-";
  return `${r.valid_from ? isoOrDash(r.valid_from) : ""}..${r.valid_until ? isoOrDash(r.valid_until) : ""}`;
}

export function registerGrants(program: Command): void {
  const grants = program.command("grants").description("manage the permission rules of roles, groups and users");

  grants
    .command("add <realm> <role-or-uri> [uri]")
    .alias("grant")
    .description(
      "add or replace a rule: <realm> <role> <uri> for a role, <realm> <uri> --user <authid> or --group <name>. " +
        "Without --match, Crossbar's starred form decides: a.b.* = prefix, a.*.c = wildcard. " +
        "The URI may hold {authid}, {realm}, {role} and {extra.NAME} (substituted per session)",
    )
    .option("--user <authid>", "a rule of this user (its stored authid) alone")
    .option("--group <name>", "a rule of this group (its users and the users of groups inside it)")
    .option("--match <kind>", "exact, prefix or wildcard")
    .option("--allow <actions>", `comma list of ${ACTIONS.join(", ")}; or all, none`)
    .option("--deny <actions>", "explicitly deny these actions (beats any allow at the same specificity): comma list, or all")
    .option("--disclose [which]", "disclose the caller/publisher identity: caller, publisher (default both)")
    .option("--cache", "let the router cache the decision (role rules only; it cannot be purged: see the warning)")
    .option("--from <time>", "the rule exists from this ISO 8601 date/time on")
    .option("--until <time>", "the rule no longer exists from this ISO 8601 date/time on")
    .action(
      async (
        realm: string,
        second: string,
        third: string | undefined,
        o: OwnerOptions & {
          match?: string;
          allow?: string;
          deny?: string;
          disclose?: string | boolean;
          cache?: boolean;
          from?: string;
          until?: string;
        },
        c: Command,
      ) => {
        const { owner, uri } = ownerAndUri(second, third, o);
        if (o.allow === undefined && o.deny === undefined) throw new CliError("give --allow and/or --deny");
        const r = await withAdmin(g(c), (ctx) =>
          grantRule(ctx, realm, owner, {
            uri,
            match: o.match,
            allow: actions(o.allow ?? "none"),
            deny: actions(o.deny ?? "none"),
            ...discloseFlags(o.disclose),
            cache: !!o.cache,
            from: o.from,
            until: o.until,
          }),
        );
        process.stdout.write(`${r.replaced ? "replaced" : "added"} ${r.match} rule "${r.uri}" for ${ownerText(owner)} in realm ${realm}\n`);
        for (const w of r.warnings) warn(w);
      },
    );

  grants
    .command("remove <realm> <role-or-uri> [uri]")
    .alias("revoke")
    .description("remove a rule: <realm> <role> <uri>, or <realm> <uri> with --user or --group")
    .option("--user <authid>", "a rule of this user")
    .option("--group <name>", "a rule of this group")
    .option("--match <kind>", "exact, prefix or wildcard (default: from the starred form)")
    .action(async (realm: string, second: string, third: string | undefined, o: OwnerOptions & { match?: string }, c: Command) => {
      const { owner, uri } = ownerAndUri(second, third, o);
      const r = await withAdmin(g(c), (ctx) => revokeRule(ctx, realm, owner, uri, o.match));
      process.stdout.write(`removed ${r.match} rule "${r.uri}" from ${ownerText(owner)} in realm ${realm}\n`);
      for (const w of r.warnings) warn(w);
    });

  grants
    .command("list [realm] [role]")
    .description("list rules: a realm's (or every) role rules; --user/--group: that user's or group's; --all: every owner's")
    .option("--user <authid>", "the rules of this user (needs the realm)")
    .option("--group <name>", "the rules of this group (needs the realm)")
    .option("--all", "rules of roles, groups and users")
    .option("--json", "machine-readable output")
    .action(
      async (realm: string | undefined, role: string | undefined, o: OwnerOptions & { all?: boolean; json?: boolean }, c: Command) => {
        if (o.user !== undefined && o.group !== undefined) throw new CliError("give --user or --group, not both");
        const owner: RuleOwner | undefined =
          o.user !== undefined ? { kind: "user", authid: o.user } : o.group !== undefined ? { kind: "group", name: o.group } : undefined;
        if (owner && role !== undefined) throw new CliError(`with --${owner.kind} give only the realm`);
        const rows = await withAdmin(g(c), (ctx) => listRules(ctx, { realm: realm ?? null, role: role ?? null, owner, all: o.all }));
        if (o.json) return printJson(rows.map(({ id, ...r }) => ({ id: Number(id), ...r })));
        printTable(
          ["REALM", "OWNER", "MATCH", "URI", "ALLOW", "DENY", "DISCLOSE", "CACHE", "WINDOW"],
          rows.map((r) => [
            r.realm,
            `${r.owner_kind} ${r.owner}`,
            r.match,
            r.uri === "" ? '""' : r.uri,
            flags(r, "allow"),
            flags(r, "deny"),
            [r.disclose_caller ? "caller" : "", r.disclose_publisher ? "publisher" : ""].filter(Boolean).join(",") || "-",
            yesNo(r.cache),
            windowText(r),
          ]),
        );
      },
    );
}
