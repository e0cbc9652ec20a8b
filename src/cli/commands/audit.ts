import type { Command } from "commander";
import { auditRollups, auditTrail, parseSince } from "../../admin/audit.js";
import { CliError, withAdmin, type GlobalOptions } from "../context.js";
import { printJson, printTable } from "../io.js";

interface AuditOptions {
  realm?: string;
  authid?: string;
  kind?: string;
  outcome?: string;
  since?: string;
  limit: string;
  rollup?: boolean;
  json?: boolean;
}

export function registerAudit(program: Command): void {
  program
    .command("audit")
    .description("show the audit trail (logins, admin changes, revocations), newest first; --rollup: counted denials per window")
    .option("--realm <realm>", "only this realm (with --rollup: a store realm, or (other) / (none))")
    .option("--authid <authid>", "only this authid")
    .option("--kind <kind>", "login, admin or revoke (with --rollup: unknown, policy, locked_out, bad_request, overloaded, proof_failed)")
    .option("--outcome <outcome>", "e.g. allow, deny, killed, user.add")
    .option("--since <when>", "ISO date/time or a duration back from now (15m, 2h, 7d)")
    .option("--limit <n>", "most rows to show", "100")
    .option("--rollup", "show the denials counted per time window (unknown users, lockouts, malformed and shed logins) instead of rows")
    .option("--json", "machine-readable output")
    .action(async (o: AuditOptions, c: Command) => {
      if (!/^\d+$/.test(o.limit)) throw new CliError("--limit must be a positive integer");
      const since = o.since !== undefined ? parseSince(o.since) : undefined;
      if (o.rollup) {
        if (o.authid !== undefined || o.outcome !== undefined) throw new CliError("--authid and --outcome do not apply to --rollup");
        const rows = await withAdmin(c.optsWithGlobals<GlobalOptions>(), (ctx) =>
          auditRollups(ctx, { kind: o.kind, realm: o.realm, since, limit: Number(o.limit) }),
        );
        if (o.json) return printJson(rows.map((r) => ({ ...r, count: Number(r.count) })));
        printTable(
          ["WINDOW", "KIND", "REALM", "COUNT", "LAST", "SAMPLE"],
          rows.map((r) => [
            new Date(r.window_start).toISOString(),
            r.kind,
            r.realm,
            r.count,
            new Date(r.last_at).toISOString(),
            [
              r.sample_method,
              r.sample_realm !== r.realm ? r.sample_realm : null,
              r.sample_authid,
              r.sample_peer,
              r.sample_reason ? `(${r.sample_reason})` : null,
            ]
              .filter((x) => x !== null && x !== "")
              .join(" ") || "-",
          ]),
        );
        return;
      }
      const rows = await withAdmin(c.optsWithGlobals<GlobalOptions>(), (ctx) =>
        auditTrail(ctx, { realm: o.realm, authid: o.authid, kind: o.kind, outcome: o.outcome, since, limit: Number(o.limit) }),
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
    });
}
