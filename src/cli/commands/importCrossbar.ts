import type { Command } from "commander";
import { applyImport, describePlan, planImport, readCrossbarConfig, serviceIdentity, type ImportPlan } from "../../admin/importCrossbar.js";
import { configFrom, withAdmin, type GlobalOptions } from "../context.js";
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
  for (const u of plan.users) {
    const methods = u.credentials.map((c) => (c.method === "wampcra" && c.derived ? "wampcra (derived key)" : c.method));
    lines.push(`user ${u.realm}/${u.authid} role ${u.role} (${methods.join(", ")})`);
  }
  if (plan.skipped.length > 0) {
    lines.push("not imported:");
    for (const s of plan.skipped) lines.push(`  ${s.where}: ${s.why}`);
  }
  if (plan.warnings.length > 0) {
    lines.push("warnings (imported, but see why):");
    for (const s of plan.warnings) lines.push(`  ${s.where}: ${s.why}`);
  }
  process.stdout.write(lines.join("\n") + "\n");
}

interface ImportFlags {
  apply?: boolean;
  json?: boolean;
  anonymousFromTransports?: boolean;
  craDerivedSecrets?: boolean;
}

export function registerImportCrossbar(program: Command): void {
  program
    .command("import-crossbar <file>")
    .description("import a Crossbar config's (JSON or YAML) static realms, roles, permissions and principals. Dry run unless --apply")
    .option("--apply", "write the plan to the store (one transaction)")
    .option(
      "--anonymous-from-transports",
      "make a transport's static anonymous role the anonymous policy of the realms having that role (off: such roles usually belong to a privileged transport)",
    )
    .option(
      "--cra-derived-secrets",
      "salted wampcra secrets are already PBKDF2-derived keys (configs written for Crossbar <= 23.1, e.g. wampy's); clients sign with them as given",
    )
    .option("--json", "machine-readable plan and result")
    .action(async (file: string, o: ImportFlags, c: Command) => {
      const g = c.optsWithGlobals<GlobalOptions>();
      // wamp-authd's own authenticator realm and procedures decide what must not be imported.
      const plan = planImport(readCrossbarConfig(file), {
        anonymousFromTransports: o.anonymousFromTransports === true,
        craDerivedSecrets: o.craDerivedSecrets === true,
        service: serviceIdentity(configFrom(g)),
      });
      if (!o.apply) {
        if (o.json) return printJson({ applied: false, plan: describePlan(plan) });
        printPlan(plan);
        process.stdout.write("dry run: nothing written (use --apply)\n");
        return;
      }
      const res = await withAdmin(g, (ctx) => applyImport(ctx, plan));
      if (o.json) return printJson({ applied: true, plan: describePlan(plan), result: res });
      printPlan(plan);
      process.stdout.write(
        `imported: ${res.realmsCreated} new realm(s), ${res.rolesCreated} new role(s), ${res.rules} rule(s), ${res.usersCreated} user(s)` +
          (res.usersExisting.length ? `; left existing users alone: ${res.usersExisting.join(", ")}` : "") +
          "\n",
      );
    });
}
