/** What the `issuers` and `tokens` commands do: JWT issuers, revoked JWT ids, API tokens. */
import { readFileSync } from "node:fs";
import { expiryFrom, loadTokenKeys, newToken } from "../auth/tokens/apiTokens.js";
import { parseJwks, parseSecret } from "../auth/tokens/jwks.js";
import * as q from "../store/adminQueries.js";
import * as tq from "../store/tokenQueries.js";
import { AdminError, change, type AdminContext } from "./context.js";
import { authidText, realmName, roleName } from "./parse.js";

export const ASYMMETRIC_ALGS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA", "Ed25519"];
export const HMAC_ALGS = ["HS256", "HS384", "HS512"];
const ISSUER_NAME = /^[a-z0-9][a-z0-9_.-]{0,63}$/;
const CLAIM = /^[^\s]{1,255}$/;

export interface IssuerInput {
  realm: string;
  name: string;
  iss: string;
  audiences: string[];
  jwksUrl?: string | undefined;
  jwksFile?: string | undefined;
  secretFile?: string | undefined;
  algorithms?: string[] | undefined;
  leeway?: string | undefined;
  authidClaim?: string | undefined;
  roleClaim?: string | undefined;
  roleMap?: string[] | undefined;
  defaultRole?: string | undefined;
  realmClaim?: string | undefined;
  extraClaims?: string[] | undefined;
  provision?: boolean | undefined;
}

function claimName(v: string, what: string): string {
  if (!CLAIM.test(v)) throw new AdminError(`${what} must be a claim name (1 to 255 characters, no spaces)`);
  return v;
}

/** http:// only on loopback (a JWKS fetched in clear text could be swapped on the way). */
export function jwksUrl(text: string): string {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new AdminError(`invalid --jwks-url "${text}"`);
  }
  const loopback = ["127.0.0.1", "localhost", "[::1]"].includes(u.hostname) || u.hostname.startsWith("127.");
  if (u.protocol !== "https:" && !(u.protocol === "http:" && loopback)) {
    throw new AdminError("--jwks-url must be https:// (http:// only on a loopback address)");
  }
  return u.toString();
}

/** "30", "30s", "2m" → seconds (0 to 600). */
export function leewaySeconds(text: string): number {
  const m = /^(\d{1,4})(s|m)?$/.exec(text.trim());
  const s = m ? Number(m[1]) * (m[2] === "m" ? 60 : 1) : NaN;
  if (!Number.isInteger(s) || s < 0 || s > 600) throw new AdminError("--leeway is 0 to 600 seconds (e.g. 30s, 2m)");
  return s;
}

/** `value=role` → a role map entry (the last "=" separates, so values may contain "="). */
export function roleMapEntry(text: string): tq.RoleMapEntry {
  const i = text.lastIndexOf("=");
  if (i <= 0 || i === text.length - 1) throw new AdminError(`--role-map takes value=role, got "${text}"`);
  return { value: text.slice(0, i), role: roleName(text.slice(i + 1)) };
}

/** Checks a key file this host can read; one it cannot read is reported as a warning (the service's host may differ). */
function checkKeyFile(path: string, parse: (b: Buffer) => unknown, warnings: string[]): void {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    warnings.push(
      `cannot read ${path} here (${(err as NodeJS.ErrnoException).code ?? String(err)}): every wamp-authd instance must be able to`,
    );
    return;
  }
  try {
    parse(bytes);
  } catch (err) {
    throw new AdminError(`${path}: ${(err as Error).message}`);
  }
}

export async function addIssuer(ctx: AdminContext, i: IssuerInput): Promise<{ warnings: string[] }> {
  const realm = realmName(i.realm);
  if (!ISSUER_NAME.test(i.name)) throw new AdminError(`invalid issuer name "${i.name}": lowercase letters, digits, "_", "-", "."`);
  if (i.iss.length === 0 || i.iss.length > 1024) throw new AdminError("--iss must be 1 to 1024 characters");
  const audiences = [...new Set(i.audiences.map((a) => a.trim()).filter(Boolean))];
  if (audiences.length === 0) throw new AdminError("--aud is required: tokens must name at least one accepted audience");
  const sources = [i.jwksUrl, i.jwksFile, i.secretFile].filter((s) => s !== undefined);
  if (sources.length !== 1) throw new AdminError("give exactly one of --jwks-url, --jwks-file, --secret-file");
  const warnings: string[] = [];
  if (i.jwksFile) checkKeyFile(i.jwksFile, (b) => parseJwks(b.toString("utf8")), warnings);
  if (i.secretFile) checkKeyFile(i.secretFile, parseSecret, warnings);
  const allowed = i.secretFile ? HMAC_ALGS : ASYMMETRIC_ALGS;
  const algorithms = i.algorithms?.length
    ? [...new Set(i.algorithms)]
    : i.secretFile
      ? ["HS256", "HS384", "HS512"]
      : ASYMMETRIC_ALGS.slice(0, 10);
  for (const a of algorithms) {
    if (!allowed.includes(a)) {
      throw new AdminError(`algorithm ${a} is not allowed for ${i.secretFile ? "an HMAC secret" : "a JWKS"} (${allowed.join(", ")})`);
    }
  }
  const roleMap = (i.roleMap ?? []).map(roleMapEntry);
  if (roleMap.length > 0 && !i.roleClaim) throw new AdminError("--role-map needs --role-claim");
  const defaultRole = i.defaultRole ? roleName(i.defaultRole) : null;
  if (i.provision && !defaultRole && !i.roleClaim)
    throw new AdminError("--provision needs --default-role or --role-claim (a new user needs a role)");
  for (const role of new Set([...roleMap.map((e) => e.role), ...(defaultRole ? [defaultRole] : [])])) {
    if (!(await q.roleExists(ctx.pool, realm, role)))
      warnings.push(`role "${role}" does not exist in realm "${realm}" (yet): logins mapped to it are denied`);
  }
  const row: tq.NewIssuer = {
    realm,
    name: i.name,
    iss: i.iss,
    audiences,
    jwksUrl: i.jwksUrl ? jwksUrl(i.jwksUrl) : null,
    jwksFile: i.jwksFile ?? null,
    secretFile: i.secretFile ?? null,
    algorithms,
    leewayS: i.leeway !== undefined ? leewaySeconds(i.leeway) : 30,
    authidClaim: claimName(i.authidClaim ?? "sub", "--authid-claim"),
    roleClaim: i.roleClaim ? claimName(i.roleClaim, "--role-claim") : null,
    roleMap,
    defaultRole,
    realmClaim: i.realmClaim ? claimName(i.realmClaim, "--realm-claim") : null,
    extraClaims: (i.extraClaims ?? []).map((c) => claimName(c, "--extra-claims")),
    provision: i.provision ?? false,
  };
  const { secretFile: _secret, ...detail } = row;
  await change(ctx, { action: "issuer.add", realm, detail: { ...detail, secret_file: row.secretFile ? "(set)" : null } }, async (db) => {
    if ((await tq.upsertIssuer(db, row)) === null) throw new AdminError(`no realm named "${realm}"`);
  });
  return { warnings };
}

export function listIssuers(ctx: AdminContext, realm: string | null): Promise<tq.IssuerRow[]> {
  return tq.listIssuers(ctx.pool, realm);
}

export async function removeIssuer(ctx: AdminContext, realm: string, name: string): Promise<void> {
  await change(ctx, { action: "issuer.remove", realm, detail: { issuer: name } }, async (db) => {
    if (!(await tq.removeIssuer(db, realm, name))) throw new AdminError(`no issuer "${name}" in realm "${realm}"`);
  });
}

export async function revokeJti(ctx: AdminContext, realm: string, issuer: string, jti: string, keepUntil: Date | null): Promise<void> {
  if (jti.length === 0 || jti.length > 255) throw new AdminError("a jti is 1 to 255 characters");
  await change(ctx, { action: "jti.revoke", realm, detail: { issuer, jti } }, async (db) => {
    if (!(await tq.revokeJti(db, realm, issuer, jti, keepUntil))) throw new AdminError(`no issuer "${issuer}" in realm "${realm}"`);
  });
}

export interface NewTokenOptions {
  name: string;
  expires: string;
  role?: string | undefined;
}

/** Creates an API token and returns its text: the only time it is ever shown. */
export async function createToken(
  ctx: AdminContext,
  realm: string,
  authid: string,
  o: NewTokenOptions,
): Promise<{ token: string; id: string; expiresAt: Date }> {
  const keys = loadTokenKeys(ctx.config.tokens);
  if (!keys) throw new AdminError("API tokens need a key: set tokens.keyFile or tokens.key (the same one the service uses)");
  if (o.name.length === 0 || o.name.length > 100) throw new AdminError("--name is 1 to 100 characters");
  const expiresAt = expiryFrom(o.expires, new Date());
  if (!expiresAt || expiresAt.getTime() <= Date.now())
    throw new AdminError(`invalid --expires "${o.expires}" (e.g. 90d, 12h, or a future ISO date)`);
  const role = o.role ? roleName(o.role) : null;
  const token = newToken("api");
  const { keyId, hash } = keys.hash(token.id, token.secret);
  await change(
    ctx,
    { action: "token.create", realm, authid, detail: { id: token.id, name: o.name, role, expires_at: expiresAt } },
    async (db) => {
      const user = await q.findUser(db, realmName(realm), authidText(authid));
      if (!user) throw new AdminError(`no user "${authid}" in realm "${realm}"`);
      if (role && !(await q.roleExists(db, realm, role))) throw new AdminError(`no role "${role}" in realm "${realm}"`);
      await tq.insertApiToken(db, { id: token.id, userId: user.id, kind: "api", name: o.name, role, keyId, secretHash: hash, expiresAt });
    },
  );
  return { token: token.text, id: token.id, expiresAt };
}

async function userIdOf(ctx: AdminContext, realm: string, authid: string): Promise<string> {
  const user = await q.findUser(ctx.pool, realm, authid);
  if (!user) throw new AdminError(`no user "${authid}" in realm "${realm}"`);
  return user.id;
}

export async function listTokens(ctx: AdminContext, realm: string, authid: string): Promise<tq.TokenInfo[]> {
  return tq.listTokens(ctx.pool, await userIdOf(ctx, realm, authid), null, false);
}

/** Revokes an API token (by id or name) or a device ticket (by id); its sessions end. */
export async function revokeToken(ctx: AdminContext, realm: string, authid: string, idOrName: string): Promise<string> {
  const userId = await userIdOf(ctx, realm, authid);
  return change(ctx, { action: "token.revoke", realm, authid, detail: { token: idOrName } }, async (db) => {
    const id = await tq.revokeToken(db, userId, null, idOrName);
    if (!id) throw new AdminError(`user "${authid}" has no live token "${idOrName}"`);
    return id;
  });
}
