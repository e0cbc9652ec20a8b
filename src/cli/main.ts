#!/usr/bin/env node
import "./threadpool.js";
import { Command } from "commander";
import { registerMigrate } from "./commands/migrate.js";
import { registerServe } from "./commands/serve.js";
import { registerAudit } from "./commands/audit.js";
import { registerCheck } from "./commands/check.js";
import { registerExport } from "./commands/export.js";
import { registerGrants } from "./commands/grants.js";
import { registerGroups } from "./commands/groups.js";
import { registerHashPassword } from "./commands/hashPassword.js";
import { registerImportCrossbar } from "./commands/importCrossbar.js";
import { registerKeys } from "./commands/keys.js";
import { registerRealms } from "./commands/realms.js";
import { registerRoles } from "./commands/roles.js";
import { registerTokens } from "./commands/tokens.js";
import { registerUsers } from "./commands/users.js";
import { describeError } from "./context.js";

const program = new Command("wamp-authd")
  .description("Dynamic authenticator and authorizer for WAMP routers, backed by PostgreSQL")
  .option("-c, --config <file>", "config file (JSON or YAML); env AUTHD_CONFIG")
  .option("--database-url <url>", "PostgreSQL URL; env AUTHD_DATABASE_URL")
  // Usage mistakes are one line (commander's "error: ..."), exit 1 like every other failure.
  .showHelpAfterError(false)
  .exitOverride();

registerServe(program);
registerMigrate(program);
registerRealms(program);
registerRoles(program);
registerGrants(program);
registerGroups(program);
registerUsers(program);
registerKeys(program);
registerTokens(program);
registerCheck(program);
registerHashPassword(program);
registerImportCrossbar(program);
registerExport(program);
registerAudit(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  const code = (err as { code?: string }).code;
  if (code === "commander.helpDisplayed" || code === "commander.help" || code === "commander.version") process.exit(0);
  if (typeof code === "string" && code.startsWith("commander.")) process.exit(1);
  process.stderr.write(`wamp-authd: ${describeError(err).replace(/\s*\n\s*/g, " ")}\n`);
  process.exit(1);
}
