#!/usr/bin/env node
import "./threadpool.js";
import { Command } from "commander";
import { registerMigrate } from "./commands/migrate.js";
import { registerServe } from "./commands/serve.js";
import { describeError } from "./context.js";

const program = new Command("wamp-authd")
  .description("Dynamic authenticator and authorizer for WAMP routers, backed by PostgreSQL")
  .option("-c, --config <file>", "config file (JSON or YAML); env AUTHD_CONFIG")
  .option("--database-url <url>", "PostgreSQL URL; env AUTHD_DATABASE_URL")
  .showHelpAfterError()
  .exitOverride();

registerServe(program);
registerMigrate(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  const code = (err as { code?: string }).code;
  if (code === "commander.helpDisplayed" || code === "commander.help" || code === "commander.version") process.exit(0);
  if (typeof code === "string" && code.startsWith("commander.")) process.exit(2);
  process.stderr.write(`wamp-authd: ${describeError(err)}\n`);
  process.exit(1);
}
