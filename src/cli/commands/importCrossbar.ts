import type { Command } from "commander";
import { applyImport, describePlan, planImport, readCrossbarConfig, type ImportPlan } from "../../admin/importCrossbar.js";
import { withAdmin, type GlobalOptions } from "../context.js";
import { printJson } from "../io.js";

function printPlan(plan: ImportPlan): void {
  const lines: string[] = [];
  for (const r of plan.realms) {
    lines.push(`realm ${r.name}${r.anonymousRole ? ` (anonymous as ${r.anonymousRole})` : ""}`);
    for (const ro of r.roles) {
      lines.push(`  role ${ro.name}: ${ro.rules.length} rule(s)`);
      for (const rule of ro.rules) {
        lines.push(
          `    ${rule.match.padEnd(8)} ${rule.uri === "" ? '""' : rule.uri}  allow=${rule.allow.join(",") || "none"}${rule.cache ? " cache" : ""}`,
        );
      }
    }
  }
  for (const u of plan.users) lines.push(`user ${u.realm}/${u.authid} role ${u.role} (${u.credentials.map((c) => c.method).join(", ")})`);
  if (plan.skipped.length > 0) {
    lines.push("not imported:");
    for (const s of plan.skipped) lines.push(`  ${s.where}: ${s.why}`);
  }
  process.stdout.write(lines.join("\n") + "\n");
}

export function registerImportCrossbar(program: Command): void {
  program
    .command("import-crossbar <file>")
    .description("import a Crossbar config's (JSON or YAML) static realms, roles, permissions and principals. Dry run unless --apply")
    .option("--apply", "write the plan to the store (one transaction)")
    .option("--json", "machine-readable plan and result")
    .action(async (file: string, o: { apply?: boolean; json?: boolean }, c: Command) => {
      const plan = planImport(readCrossbarConfig(file));
      if (!o.apply) {
        if (o.json) return printJson({ applied: false, plan: describePlan(plan) });
        printPlan(plan);
        process.stdout.write("dry run: nothing written (use --apply)\n");
        return;
      }
      const res = await withAdmin(c.optsWithGlobals<GlobalOptions>(), (ctx) => applyImport(ctx, plan));
      if (o.json) return printJson({ applied: true, plan: describePlan(plan), result: res });
      printPlan(plan);
      process.stdout.write(
        `imported: ${res.realmsCreated} new realm(s), ${res.rolesCreated} new role(s), ${res.rules} rule(s), ${res.usersCreated} user(s)` +
          (res.usersExisting.length ? `; left existing users alone: ${res.usersExisting.join(", ")}` : "") +
          "\n",
      );
    });
}
