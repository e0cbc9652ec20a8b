import type { Command } from "commander";
import { check } from "../../admin/check.js";
import { withAdmin, type GlobalOptions } from "../context.js";
import { printJson, warn } from "../io.js";

export function registerCheck(program: Command): void {
  program
    .command("check <realm> <uri> <action>")
    .description("would this be allowed? Answers with the authorizer's own code path and names the deciding rule")
    .option("--authid <authid>", "a user of the realm (its role and realm override apply)")
    .option("--role <role>", "a role of the realm")
    .option("--json", "machine-readable output")
    .action(async (realm: string, uri: string, action: string, o: { authid?: string; role?: string; json?: boolean }, c: Command) => {
      const r = await withAdmin(c.optsWithGlobals<GlobalOptions>(), (ctx) =>
        check(ctx, { realm, uri, action, authid: o.authid, role: o.role }),
      );
      if (o.json) {
        const { warnings: _w, ...out } = r;
        printJson(out);
      } else {
        const rule = r.rule ? `rule #${r.rule.id} ${r.rule.match} "${r.rule.uri}"` : "no rule matches (default deny)";
        process.stdout.write(
          `${r.allow ? "allow" : "deny"}  ${r.action} ${r.uri}  realm=${r.realm} role=${r.role}  disclose=${r.disclose} cache=${r.cache}\n  ${rule}\n` +
            (r.note ? `  note: ${r.note}\n` : ""),
        );
      }
      for (const w of r.warnings) warn(w);
    });
}
