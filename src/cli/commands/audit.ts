import type { Command } from "commander";
import { auditTrail, parseSince } from "../../admin/audit.js";
import { CliError, withAdmin, type GlobalOptions } from "../context.js";
import { printJson, printTable } from "../io.js";

export function registerAudit(program: Command): void {
  program
    .command("audit")
    .description("show the audit trail (logins, admin changes, revocations), newest first")
    .option("--realm <realm>", "only this realm")
    .option("--authid <authid>", "only this authid")
    .option("--kind <kind>", "login, admin or revoke")
    .option("--outcome <outcome>", "e.g. allow, deny, killed, user.add")
    .option("--since <when>", "ISO date/time or a duration back from now (15m, 2h, 7d)")
    .option("--limit <n>", "most rows to show", "100")
    .option("--json", "machine-readable output")
    .action(
      async (
        o: { realm?: string; authid?: string; kind?: string; outcome?: string; since?: string; limit: string; json?: boolean },
        c: Command,
      ) => {
        if (!/^\d+$/.test(o.limit)) throw new CliError("--limit must be a positive integer");
        const rows = await withAdmin(c.optsWithGlobals<GlobalOptions>(), (ctx) =>
          auditTrail(ctx, {
            realm: o.realm,
            authid: o.authid,
            kind: o.kind,
            outcome: o.outcome,
            since: o.since !== undefined ? parseSince(o.since) : undefined,
            limit: Number(o.limit),
          }),
        );
        if (o.json) return printJson(rows.map((r) => ({ ...r, id: Number(r.id), session: r.session === null ? null : Number(r.session) })));
        printTable(
          ["AT", "KIND", "OUTCOME", "REALM", "AUTHID", "ACTOR/PEER", "DETAIL"],
          rows.map((r) => [
            new Date(r.at).toISOString(),
            r.kind,
            r.outcome,
            r.realm ?? "-",
            r.authid ?? "-",
            r.actor ?? r.peer ?? "-",
            [r.method, r.reason, Object.keys(r.detail).length ? JSON.stringify(r.detail) : null].filter(Boolean).join(" ") || "-",
          ]),
        );
      },
    );
}
