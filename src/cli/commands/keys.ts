import type { Command } from "commander";
import * as keys from "../../admin/keys.js";
import { expiry } from "../../admin/parse.js";
import type { CredentialInfo } from "../../store/adminQueries.js";
import { withAdmin, type GlobalOptions } from "../context.js";
import { isoOrDash, printJson, printTable, yesNo } from "../io.js";

const g = (cmd: Command) => cmd.optsWithGlobals<GlobalOptions>();

function show(rows: CredentialInfo[], json: boolean | undefined, keyHeader: string): void {
  if (json) return printJson(rows.map(({ id: _id, ...r }) => r));
  printTable(
    [keyHeader, "LABEL", "EXPIRES", "REVOKED", "PINS"],
    rows.map((r) => [
      r.lookup ?? "-",
      r.label ?? "-",
      isoOrDash(r.expires_at),
      yesNo(r.revoked),
      Object.keys(r.pins).length ? JSON.stringify(r.pins) : "-",
    ]),
  );
}

export function registerKeys(program: Command): void {
  const cmd = program.command("keys").description("manage a user's cryptosign (Ed25519) public keys");

  cmd
    .command("add <realm> <authid> <pubkey>")
    .description("authorize a public key (64 hex characters) for the user")
    .option("--label <text>", "what the key is for")
    .option("--expires <date>", "ISO 8601 date or time after which the key no longer logs in")
    .action(async (realm: string, authid: string, pubkey: string, o: { label?: string; expires?: string }, c: Command) => {
      const expiresAt = expiry(o.expires);
      await withAdmin(g(c), (ctx) => keys.addKey(ctx, realm, authid, pubkey, { label: o.label ?? null, expiresAt }));
      process.stdout.write(`key added for ${authid} in realm ${realm}\n`);
    });

  cmd
    .command("list <realm> <authid>")
    .description("list the user's keys")
    .option("--json", "machine-readable output")
    .action(async (realm: string, authid: string, o: { json?: boolean }, c: Command) => {
      show(await withAdmin(g(c), (ctx) => keys.listKeyed(ctx, realm, authid, "cryptosign")), o.json, "PUBKEY");
    });

  cmd
    .command("revoke <realm> <authid> <pubkey>")
    .description("revoke a key (sessions the user has open are closed)")
    .action(async (realm: string, authid: string, pubkey: string, _o, c: Command) => {
      await withAdmin(g(c), (ctx) => keys.revokeKey(ctx, realm, authid, pubkey));
      process.stdout.write(`key revoked for ${authid} in realm ${realm}\n`);
    });

  const tls = program.command("tls").description("bind TLS client certificates (SHA-256 fingerprints) to users");

  tls
    .command("bind <realm> <authid> <fingerprint>")
    .description("bind a certificate fingerprint (64 hex characters, colons optional) to the user")
    .option("--issuer-cn <cn>", "also require this issuer common name")
    .option("--subject-cn <cn>", "also require this subject common name")
    .option("--label <text>", "what the certificate is for")
    .option("--expires <date>", "ISO 8601 date or time after which the binding no longer logs in")
    .action(
      async (
        realm: string,
        authid: string,
        fp: string,
        o: { issuerCn?: string; subjectCn?: string; label?: string; expires?: string },
        c: Command,
      ) => {
        const expiresAt = expiry(o.expires);
        await withAdmin(g(c), (ctx) =>
          keys.bindCertificate(ctx, realm, authid, fp, {
            issuerCn: o.issuerCn ?? null,
            subjectCn: o.subjectCn ?? null,
            label: o.label ?? null,
            expiresAt,
          }),
        );
        process.stdout.write(`certificate ${keys.fingerprint(fp)} bound to ${authid} in realm ${realm}\n`);
      },
    );

  tls
    .command("unbind <realm> <authid> <fingerprint>")
    .description("remove a certificate binding (sessions the user has open are closed)")
    .action(async (realm: string, authid: string, fp: string, _o, c: Command) => {
      await withAdmin(g(c), (ctx) => keys.unbindCertificate(ctx, realm, authid, fp));
      process.stdout.write(`certificate unbound from ${authid} in realm ${realm}\n`);
    });

  tls
    .command("list <realm> <authid>")
    .description("list the user's certificate bindings")
    .option("--json", "machine-readable output")
    .action(async (realm: string, authid: string, o: { json?: boolean }, c: Command) => {
      show(await withAdmin(g(c), (ctx) => keys.listKeyed(ctx, realm, authid, "tls")), o.json, "FINGERPRINT");
    });
}
