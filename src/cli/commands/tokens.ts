import type { Command } from "commander";
import * as tokens from "../../admin/tokens.js";
import { withAdmin, type GlobalOptions } from "../context.js";
import { isoOrDash, printJson, printTable, warn } from "../io.js";

const g = (cmd: Command) => cmd.optsWithGlobals<GlobalOptions>();
const list = (v: string, prev: string[] = []) => [
  ...prev,
  ...v
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean),
];
const repeat = (v: string, prev: string[] = []) => [...prev, v];

interface IssuerFlags {
  iss: string;
  aud: string[];
  jwksUrl?: string;
  jwksFile?: string;
  secretFile?: string;
  alg?: string[];
  leeway?: string;
  authidClaim?: string;
  roleClaim?: string;
  roleMap?: string[];
  defaultRole?: string;
  realmClaim?: string;
  extraClaims?: string[];
  provision?: boolean;
}

export function registerTokens(program: Command): void {
  const issuers = program.command("issuers").description("JWT issuers a realm trusts (JWTs sent as WAMP tickets)");

  issuers
    .command("add <realm> <name>")
    .description("trust an issuer's JWTs in the realm (replaces an issuer of the same name)")
    .requiredOption("--iss <iss>", "the tokens' iss claim, exactly")
    .requiredOption("--aud <aud>", "accepted audience (repeat or comma separate for several)", list)
    .option("--jwks-url <url>", "the issuer's JWKS (https://; http:// only on loopback), cached and refreshed")
    .option("--jwks-file <path>", "a JWKS file on the service's host")
    .option("--secret-file <path>", "an HMAC secret file on the service's host (HS256/384/512)")
    .option("--alg <algs>", "algorithm allowlist, comma separated (default: every asymmetric one, or HS* for --secret-file)", list)
    .option("--leeway <time>", "clock leeway for exp/nbf/iat, e.g. 30s (default 30s, at most 10m)")
    .option("--authid-claim <claim>", "claim holding the user's authid (default sub)")
    .option("--role-claim <claim>", "claim the role comes from (a string or an array of strings; dotted paths work)")
    .option("--role-map <value=role>", "role for a claim value; repeat, the first match in order wins", repeat)
    .option("--default-role <role>", "role when no --role-map entry matches (without it: denied)")
    .option("--realm-claim <claim>", "claim naming the session's realm (that realm must trust the same iss)")
    .option("--extra-claims <claims>", "claims copied into the session's authextra, comma separated", list)
    .option("--provision", "create a user for an unknown subject (else it is denied)")
    .action(async (realm: string, name: string, o: IssuerFlags, c: Command) => {
      const { warnings } = await withAdmin(g(c), (ctx) =>
        tokens.addIssuer(ctx, {
          realm,
          name,
          iss: o.iss,
          audiences: o.aud,
          jwksUrl: o.jwksUrl,
          jwksFile: o.jwksFile,
          secretFile: o.secretFile,
          algorithms: o.alg,
          leeway: o.leeway,
          authidClaim: o.authidClaim,
          roleClaim: o.roleClaim,
          roleMap: o.roleMap,
          defaultRole: o.defaultRole,
          realmClaim: o.realmClaim,
          extraClaims: o.extraClaims,
          provision: o.provision,
        }),
      );
      for (const w of warnings) warn(w);
      process.stdout.write(`issuer ${name} trusted in realm ${realm}\n`);
    });

  issuers
    .command("list [realm]")
    .description("list issuers")
    .option("--json", "machine-readable output")
    .action(async (realm: string | undefined, o: { json?: boolean }, c: Command) => {
      const rows = await withAdmin(g(c), (ctx) => tokens.listIssuers(ctx, realm ?? null));
      if (o.json) return printJson(rows.map(({ id: _id, updated_at: _u, ...r }) => r));
      printTable(
        ["REALM", "NAME", "ISS", "AUD", "KEYS", "ROLE", "PROVISION"],
        rows.map((r) => [
          r.realm,
          r.name,
          r.iss,
          r.audiences.join(","),
          r.jwks_url ?? (r.jwks_file ? `file:${r.jwks_file}` : `secret:${r.secret_file ?? ""}`),
          r.role_claim
            ? `${r.role_claim} (${r.role_map.length} mapped, default ${r.default_role ?? "deny"})`
            : (r.default_role ?? "user's"),
          r.provision ? "yes" : "no",
        ]),
      );
    });

  issuers
    .command("remove <realm> <name>")
    .description("stop trusting an issuer (sessions its tokens opened are closed)")
    .action(async (realm: string, name: string, _o, c: Command) => {
      await withAdmin(g(c), (ctx) => tokens.removeIssuer(ctx, realm, name));
      process.stdout.write(`issuer ${name} removed from realm ${realm}\n`);
    });

  const cmd = program.command("tokens").description("API tokens for machines, device tickets, revoked JWT ids");

  cmd
    .command("create <realm> <authid>")
    .description("create an API token for the user; it is printed once and never stored")
    .requiredOption("--name <name>", "what the token is for (unique among the user's live tokens)")
    .option("--expires <when>", "lifetime (90d, 12h, 30m) or an ISO date", "90d")
    .option("--role <role>", "role its sessions get instead of the user's (e.g. a narrower one)")
    .option("--json", "machine-readable output")
    .action(async (realm: string, authid: string, o: { name: string; expires: string; role?: string; json?: boolean }, c: Command) => {
      const t = await withAdmin(g(c), (ctx) => tokens.createToken(ctx, realm, authid, o));
      if (o.json) return printJson({ token: t.token, id: t.id, expires_at: t.expiresAt.toISOString() });
      process.stdout.write(`${t.token}\n`);
      process.stderr.write(
        `token ${t.id} for ${authid} in realm ${realm}, expires ${t.expiresAt.toISOString()}: store it now, it is not shown again\n`,
      );
    });

  cmd
    .command("list <realm> <authid>")
    .description("list the user's API tokens and device tickets (never their secrets)")
    .option("--json", "machine-readable output")
    .action(async (realm: string, authid: string, o: { json?: boolean }, c: Command) => {
      const rows = await withAdmin(g(c), (ctx) => tokens.listTokens(ctx, realm, authid));
      if (o.json) return printJson(rows);
      printTable(
        ["ID", "KIND", "NAME", "ROLE", "CREATED", "EXPIRES", "LAST USED", "REVOKED"],
        rows.map((r) => [
          r.id,
          r.kind,
          r.name,
          r.role ?? "-",
          isoOrDash(r.created_at),
          isoOrDash(r.expires_at),
          isoOrDash(r.last_used_at),
          isoOrDash(r.revoked_at),
        ]),
      );
    });

  cmd
    .command("revoke <realm> <authid> <token>")
    .description("revoke an API token (id or name) or a device ticket (id); the sessions it opened are closed")
    .action(async (realm: string, authid: string, token: string, _o, c: Command) => {
      const id = await withAdmin(g(c), (ctx) => tokens.revokeToken(ctx, realm, authid, token));
      process.stdout.write(`token ${id} revoked\n`);
    });

  cmd
    .command("revoke-jti <realm> <issuer> <jti>")
    .description("revoke a JWT by its jti: it no longer logs in, and the sessions it opened are closed")
    .action(async (realm: string, issuer: string, jti: string, _o, c: Command) => {
      await withAdmin(g(c), (ctx) => tokens.revokeJti(ctx, realm, issuer, jti, null));
      process.stdout.write(`jti ${jti} of issuer ${issuer} revoked in realm ${realm}\n`);
    });
}
