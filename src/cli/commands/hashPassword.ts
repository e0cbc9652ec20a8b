import type { Command } from "commander";
import { craEnabled, deriveSecrets } from "../../admin/secrets.js";
import { CliError, configFrom, type GlobalOptions } from "../context.js";
import { printJson, readPassword } from "../io.js";

export function registerHashPassword(program: Command): void {
  program
    .command("hash-password")
    .description(
      "print the stored forms of a password (argon2id PHC string for ticket, SCRAM fields) for SQL data migrations; " +
        "the password is read from stdin or a prompt, never from the command line. No database needed",
    )
    .option("--json", "print the credentials.data objects as JSON (ticket, scram, and wampcra with --cra)")
    .option("--cra", "also print the encrypted WAMP-CRA credential (needs cra.keyFile or cra.key)")
    .action(async (o: { json?: boolean; cra?: boolean }, c: Command) => {
      const config = configFrom(c.optsWithGlobals<GlobalOptions>());
      if (o.cra && !craEnabled(config)) throw new CliError("--cra needs a WAMP-CRA key (cra.keyFile or cra.key)");
      const password = await readPassword();
      const s = await deriveSecrets(config, password, { cra: !!o.cra });
      if (o.json) return printJson({ ticket: s.ticket, scram: s.scram, ...(s.wampcra ? { wampcra: s.wampcra } : {}) });
      process.stdout.write(
        [
          `ticket phc:       ${s.ticket.phc}`,
          `scram kdf:        ${s.scram.kdf}`,
          `scram salt:       ${s.scram.salt}`,
          `scram iterations: ${s.scram.iterations}`,
          `scram memory:     ${s.scram.memory}`,
          `scram stored_key: ${s.scram.stored_key}`,
          `scram server_key: ${s.scram.server_key}`,
          ...(s.wampcra ? [`wampcra data:     ${JSON.stringify(s.wampcra)}`] : []),
        ].join("\n") + "\n",
      );
    });
}
