import type { Command } from "commander";
import * as users from "../../admin/users.js";
import { jsonObject } from "../../admin/parse.js";
import { withAdmin, type GlobalOptions } from "../context.js";
import { isoOrDash, printJson, printTable, readPassword, yesNo } from "../io.js";

const g = (cmd: Command) => cmd.optsWithGlobals<GlobalOptions>();

export function registerUsers(program: Command): void {
  const cmd = program.command("users").description("manage users (principals) of a realm");

  cmd
    .command("add <realm> <authid>")
    .description("add a user; set its password with `users passwd`, keys with `keys add`")
    .requiredOption("--role <role>", "role of the user's sessions (must exist in the realm)")
    .option("--extra <json>", "authextra object handed to the session", "{}")
    .option("--authid-override <authid>", "authid the session gets instead of the login authid")
    .option("--realm-override <realm>", "realm the session is moved to")
    .option("--disabled", "create the user disabled")
    .action(
      async (
        realm: string,
        authid: string,
        o: { role: string; extra: string; authidOverride?: string; realmOverride?: string; disabled?: boolean },
        c: Command,
      ) => {
        const extra = jsonObject(o.extra, "--extra");
        await withAdmin(g(c), (ctx) =>
          users.addUser(ctx, {
            realm,
            authid,
            role: o.role,
            extra,
            authidOverride: o.authidOverride ?? null,
            realmOverride: o.realmOverride ?? null,
            disabled: !!o.disabled,
          }),
        );
        process.stdout.write(`user ${authid} added to realm ${realm} with role ${o.role}\n`);
      },
    );

  cmd
    .command("list <realm>")
    .description("list a realm's users")
    .option("--role <role>", "only users of this role")
    .option("--json", "machine-readable output")
    .action(async (realm: string, o: { role?: string; json?: boolean }, c: Command) => {
      const rows = await withAdmin(g(c), (ctx) => users.listUsers(ctx, realm, o.role ?? null));
      if (o.json) return printJson(rows.map(({ id: _id, ...u }) => u));
      printTable(
        ["AUTHID", "ROLE", "DISABLED", "METHODS"],
        rows.map((u) => [u.authid, u.role, yesNo(u.disabled), u.methods.join(",") || "-"]),
      );
    });

  cmd
    .command("show <realm> <authid>")
    .description("show a user and its credentials (never secrets)")
    .option("--json", "machine-readable output")
    .action(async (realm: string, authid: string, o: { json?: boolean }, c: Command) => {
      const u = await withAdmin(g(c), (ctx) => users.showUser(ctx, realm, authid));
      const { id: _id, ...shown } = u;
      if (o.json) return printJson({ ...shown, credentials: u.credentials.map(({ id: _c, ...cr }) => cr) });
      const lines = [
        `realm:     ${u.realm}`,
        `authid:    ${u.authid}`,
        `role:      ${u.role}`,
        `disabled:  ${yesNo(u.disabled)}`,
        `extra:     ${JSON.stringify(u.extra)}`,
        ...(u.authid_override ? [`authid override: ${u.authid_override}`] : []),
        ...(u.realm_override ? [`realm override:  ${u.realm_override}`] : []),
        `groups:    ${u.groups.join(", ") || "-"}`,
        `created:   ${isoOrDash(u.created_at)}`,
        `updated:   ${isoOrDash(u.updated_at)}`,
        "credentials:",
      ];
      process.stdout.write(lines.join("\n") + "\n");
      printTable(
        ["  METHOD", "KEY", "LABEL", "EXPIRES", "REVOKED"],
        u.credentials.map((cr) => [`  ${cr.method}`, cr.lookup ?? "-", cr.label ?? "-", isoOrDash(cr.expires_at), yesNo(cr.revoked)]),
      );
    });

  cmd
    .command("set-role <realm> <authid> <role>")
    .description("change a user's role (its live sessions are closed)")
    .action(async (realm: string, authid: string, role: string, _o, c: Command) => {
      await withAdmin(g(c), (ctx) => users.setRole(ctx, realm, authid, role));
      process.stdout.write(`user ${authid} in realm ${realm} now has role ${role}\n`);
    });

  cmd
    .command("set-extra <realm> <authid> <json>")
    .description("replace a user's authextra (a JSON object; applies from the next login)")
    .action(async (realm: string, authid: string, json: string, _o, c: Command) => {
      const extra = jsonObject(json, "extra");
      await withAdmin(g(c), (ctx) => users.setExtra(ctx, realm, authid, extra));
      process.stdout.write(`user ${authid} in realm ${realm}: extra set\n`);
    });

  for (const [name, disabled] of [
    ["disable", true],
    ["enable", false],
  ] as const) {
    cmd
      .command(`${name} <realm> <authid>`)
      .description(disabled ? "disable a user: no new logins, live sessions are closed (wamp.close.logout)" : "enable a disabled user")
      .action(async (realm: string, authid: string, _o, c: Command) => {
        await withAdmin(g(c), (ctx) => users.setDisabled(ctx, realm, authid, disabled));
        process.stdout.write(`user ${authid} in realm ${realm} ${disabled ? "disabled" : "enabled"}\n`);
      });
  }

  cmd
    .command("remove <realm> <authid>")
    .description("remove a user and its credentials (its live sessions are closed)")
    .action(async (realm: string, authid: string, _o, c: Command) => {
      await withAdmin(g(c), (ctx) => users.removeUser(ctx, realm, authid));
      process.stdout.write(`user ${authid} removed from realm ${realm}\n`);
    });

  cmd
    .command("passwd <realm> <authid>")
    .description(
      "set a user's password, read from stdin (when not a terminal) or a prompt, never from the command line. " +
        "Writes the ticket hash, the SCRAM credential and, with cra.onPasswd (needs a CRA key), the WAMP-CRA secret in one transaction " +
        "(without it an existing WAMP-CRA secret is removed); the user's live sessions are closed",
    )
    .action(async (realm: string, authid: string, _o, c: Command) => {
      const password = await readPassword();
      const r = await withAdmin(g(c), (ctx) => users.setPassword(ctx, realm, authid, password));
      const removed = r.removed.length ? `; old ${r.removed.join(", ")} secret removed (cra.onPasswd is off)` : "";
      process.stdout.write(`password set for ${authid} in realm ${realm} (${r.methods.join(", ")})${removed}\n`);
    });
}
