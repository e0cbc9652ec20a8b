import type { Command } from "commander";
import { check, type RuleOut } from "../../admin/check.js";
import { ACTIONS } from "../../authorize/rules.js";
import { withAdmin, type GlobalOptions } from "../context.js";
import { printJson, warn } from "../io.js";

const REASONS: Record<string, string> = {
  "no-match": "no rule matches (default deny)",
  "pattern-blocked": "a more specific rule beneath the pattern does not allow it (the rules above)",
  reserved: "a URI reserved for wamp-authd's own procedures",
  "meta-namespace": "the wamp. meta namespace is reached only by rules naming wamp. explicitly",
  "invalid-rules": "a denying rule of the role could not be interpreted: everything is denied",
};

function origin(x: RuleOut): string {
  return x.source === "template" ? `template "${x.template}" of ${x.templateOf} ${x.owner}` : `${x.source} ${x.owner}`;
}

/** Denials and windows, shown after the rule. */
function flags(x: RuleOut): string {
  const denied = ACTIONS.filter((a) => x.deny[a]);
  const out: string[] = [];
  if (denied.length > 0) out.push(`denies ${denied.join(",")}`);
  if (x.validFrom !== null || x.validUntil !== null)
    out.push(
      `valid ${x.validFrom !== null ? new Date(x.validFrom).toISOString() : ""}..${x.validUntil !== null ? new Date(x.validUntil).toISOString() : ""}`,
    );
  return out.length > 0 ? ` ${out.join("; ")}` : "";
}

interface CheckOptions {
  authid?: string;
  role?: string;
  match?: string;
  json?: boolean;
}

export function registerCheck(program: Command): void {
  program
    .command("check <realm> <uri> <action>")
    .description("would this be allowed? Answers with the authorizer's own code path and names the deciding rule")
    .option("--authid <authid>", "a user of the realm: its role and overrides, its own rules, its groups' rules and the templates apply")
    .option("--role <role>", "a role of the realm")
    .option("--match <match>", "a pattern subscription/registration: prefix or wildcard (default exact)")
    .option("--json", "machine-readable output")
    .action(async (realm: string, uri: string, action: string, o: CheckOptions, c: Command) => {
      const r = await withAdmin(c.optsWithGlobals<GlobalOptions>(), (ctx) =>
        check(ctx, { realm, uri, action, authid: o.authid, role: o.role, match: o.match }),
      );
      if (o.json) {
        const { warnings: _w, ...out } = r;
        printJson(out);
      } else {
        const rules =
          r.rules.length > 0
            ? r.rules.map((x) => `  rule #${x.id} ${x.match} "${x.uri}" (${origin(x)})${flags(x)}`).join("\n")
            : `  ${REASONS[r.reason] ?? r.reason}`;
        const pattern = r.match === "exact" ? "" : ` (${r.match} pattern)`;
        process.stdout.write(
          `${r.allow ? "allow" : "deny"}  ${r.action} ${r.uri}${pattern}  realm=${r.realm} role=${r.role}  disclose=${r.disclose} cache=${r.cache}\n` +
            `${rules}\n` +
            (r.rules.length > 0 && r.reason !== "rule" ? `  ${REASONS[r.reason] ?? r.reason}\n` : "") +
            (r.note ? `  note: ${r.note}\n` : "") +
            (r.uncached ? `  never cached: ${r.uncached}\n` : ""),
        );
      }
      for (const w of r.warnings) warn(w);
    });
}
