import type { Command } from "commander";
import { deriveSecrets } from "../../admin/secrets.js";
import { configFrom, type GlobalOptions } from "../context.js";
import { printJson, readPassword } from "../io.js";

export function registerHashPassword(program: Command): void {
  program
    .command("hash-password")
    .description(
      "print the stored forms of a password (argon2id PHC string for ticket, SCRAM fields) for SQL data migrations; " +
        "the password is read from stdin or a prompt, never from the command line. No database needed",
    )
    .option("--json", "print the credentials.data objects as JSON (ticket, scram)")
    .action(async (o: { json?: boolean }, c: Command) => {
      const config = configFrom(c.optsWithGlobals<GlobalOptions>());
      const password = await readPassword();
      const s = await deriveSecrets(config, password, { cra: false });
      if (o.json) return printJson({ ticket: s.ticket, scram: s.scram });
      process.stdout.write(
        [
          `ticket phc:       ${s.ticket.phc}`,
          `scram kdf:        ${s.scram.kdf}`,
          `scram salt:       ${s.scram.salt}`,
          `scram iterations: ${s.scram.iterations}`,
          `scram memory:     ${s.scram.memory}`,
          `scram stored_key: ${s.scram.stored_key}`,
          `scram server_key: ${s.scram.server_key}`,
        ].join("\n") + "\n",
      );
    });
}
