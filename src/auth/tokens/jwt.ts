/**
 * A JWT sent as the WAMP ticket: verified with `jose` against the realm's issuer (its keys, `iss`,
 * `aud`, algorithm allowlist, clock leeway; `exp` required), then mapped to a stored user.
 *
 * Nothing of the token is trusted before the signature is: the unverified payload only selects which
 * issuer's rules verify it, and every claim used afterwards comes from the verified payload.
 */
import { decodeJwt, errors as joseErrors, jwtVerify, type JWTPayload } from "jose";
import { deny } from "../../errors/authErrors.js";
import type { Queryable } from "../../store/queries.js";
import { findJwtUser, provisionUser } from "../../store/tokenQueries.js";
import type { Principal } from "../method.js";
import { principalOf } from "../principal.js";
import type { AuthRequest } from "../request.js";
import { authidFrom, ClaimError, extraFrom, realmFrom, roleFrom } from "./claims.js";
import type { Issuer, IssuerRegistry } from "./issuers.js";

const SEGMENT = /^[A-Za-z0-9_-]+$/;

/**
 * True when the ticket is a compact JWS whose header decodes to a JSON object with an `alg`: such a
 * ticket is never tried as a password. Pure.
 */
export function looksLikeJwt(ticket: string): boolean {
  const parts = ticket.split(".");
  if (parts.length !== 3 || !SEGMENT.test(parts[0]!) || parts[0]!.length > 4096) return false;
  if (!SEGMENT.test(parts[1]!) || (parts[2] !== "" && !SEGMENT.test(parts[2]!))) return false;
  try {
    const header: unknown = JSON.parse(Buffer.from(parts[0]!, "base64url").toString("utf8"));
    return typeof header === "object" && header !== null && typeof (header as { alg?: unknown }).alg === "string";
  } catch {
    return false;
  }
}

/** A denial's reason for a jose error: its code and, for claim checks, the claim. */
function joseReason(err: unknown): string {
  if (err instanceof joseErrors.JWTClaimValidationFailed || err instanceof joseErrors.JWTExpired) {
    return `${err.code} (${err.claim}: ${err.reason})`;
  }
  if (err instanceof joseErrors.JOSEError) return err.code;
  return err instanceof Error ? err.message : String(err);
}

export class JwtVerifier {
  constructor(
    private readonly issuers: IssuerRegistry,
    private readonly db: Queryable,
  ) {}

  async authenticate(req: AuthRequest, token: string): Promise<Principal> {
    const p = await this.verify(req, token);
    // A client that names an authid must name the token's subject (or the authid it is given).
    if (req.authid !== null && req.authid !== p.subject && req.authid !== p.principal.authid) {
      throw deny(`jwt: the client named authid ${req.authid}, the token is for ${p.subject}`, "account");
    }
    return p.principal;
  }

  private async verify(req: AuthRequest, token: string): Promise<{ principal: Principal; subject: string }> {
    if (!req.realm) throw deny("jwt: no realm", "unknown");
    let unverified: JWTPayload;
    try {
      unverified = decodeJwt(token);
    } catch (err) {
      throw deny(`jwt: malformed (${joseReason(err)})`, "unknown");
    }
    const iss = unverified.iss;
    if (typeof iss !== "string") throw deny("jwt: no iss claim", "unknown");
    let issuer = await this.issuers.find(req.realm, iss);
    if (!issuer) throw deny(`jwt: no issuer for iss ${JSON.stringify(iss.slice(0, 200))} in realm ${req.realm}`, "unknown");
    // A realm taken from a claim must itself trust this iss: its issuer's rules verify the token.
    const claimed = this.claimedRealm(unverified, issuer);
    if (claimed !== null && claimed !== req.realm) {
      issuer = await this.issuers.find(claimed, iss);
      if (!issuer) throw deny(`jwt: realm ${claimed} named by the token does not trust iss ${iss}`, "unknown");
    }
    const row = issuer.row;
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, (header, t) => issuer.keys.key(header, t), {
        issuer: row.iss,
        audience: row.audiences,
        algorithms: row.algorithms,
        clockTolerance: row.leeway_s,
        requiredClaims: ["exp"],
      }));
    } catch (err) {
      throw deny(`jwt: ${joseReason(err)} (issuer ${issuer.label})`, "unknown");
    }
    try {
      return await this.principal(payload, issuer, req.details.session);
    } catch (err) {
      if (err instanceof ClaimError) throw deny(`jwt: ${err.message} (issuer ${issuer.label})`, "account");
      throw err;
    }
  }

  private claimedRealm(payload: JWTPayload, issuer: Issuer): string | null {
    try {
      return realmFrom(payload, issuer.rules);
    } catch (err) {
      throw deny(`jwt: ${(err as Error).message} (issuer ${issuer.label})`, "unknown");
    }
  }

  private async principal(
    payload: JWTPayload,
    issuer: Issuer,
    sessionId: number | null,
  ): Promise<{ principal: Principal; subject: string }> {
    const { row, rules } = issuer;
    // The verified payload must name the realm whose issuer verified it.
    const realm = row.realm;
    if (rules.realmClaim && realmFrom(payload, rules) !== realm) throw new ClaimError("the realm claim changed");
    const authid = authidFrom(payload, rules);
    const mapped = roleFrom(payload, rules);
    const jti = typeof payload.jti === "string" && payload.jti.length > 0 && payload.jti.length <= 255 ? payload.jti : null;
    // exp is required and numeric (jose checked it): access ends when the token stops being valid.
    const expiresAt = new Date(((payload.exp as number) + row.leeway_s) * 1000);
    // The session is recorded with the lookup. Should a later check deny the login (a role missing from
    // the realm), the row names a session that never joins and is forgotten by the reconciliation.
    const bind = sessionId === null ? null : { sessionId, expiresAt, realm: rules.realmClaim ? realm : null };
    const found = await findJwtUser(this.db, realm, authid, row.id, jti, bind);
    if (found.jtiRevoked) throw deny(`jwt: jti revoked (issuer ${issuer.label})`, "account");
    let user = found.user;
    if (!user) {
      if (!row.provision) throw deny(`jwt: unknown subject (issuer ${issuer.label})`, "unknown");
      const role = mapped ?? row.default_role;
      if (!role) throw deny(`jwt: cannot provision ${authid}: the issuer maps no role and has no default role`, "policy");
      user = await provisionUser(this.db, realm, authid, role, issuer.label);
      if (!user) throw deny(`jwt: provisioning ${authid} failed (realm gone?)`, "policy");
    }
    if (user.disabled) throw deny("user disabled", "account");
    const base = principalOf(user);
    const principal: Principal = {
      ...base,
      role: mapped ?? user.role,
      realm: rules.realmClaim ? realm : base.realm,
      extra: { ...user.extra, ...extraFrom(payload, rules) },
      token: { kind: "jwt", expiresAt, tokenId: null, issuerId: row.id, jti, recorded: found.bound },
    };
    return { principal, subject: authid };
  }
}
