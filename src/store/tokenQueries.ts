/**
 * Every SQL statement about tokens: JWT issuers, API tokens and device tickets, revoked JWT ids, and
 * the sessions that logged in with a token. Parameters only.
 */
import type { Queryable, UserRow } from "./queries.js";

export type TokenKind = "api" | "device";
export type SessionKind = "jwt" | TokenKind;

export interface RoleMapEntry {
  value: string;
  role: string;
}

export interface IssuerRow {
  id: number;
  realm: string;
  name: string;
  iss: string;
  audiences: string[];
  jwks_url: string | null;
  jwks_file: string | null;
  secret_file: string | null;
  algorithms: string[];
  leeway_s: number;
  authid_claim: string;
  role_claim: string | null;
  role_map: RoleMapEntry[];
  default_role: string | null;
  realm_claim: string | null;
  extra_claims: string[];
  provision: boolean;
  updated_at: Date;
}

const ISSUER_COLUMNS = `i.id, r.name AS realm, i.name, i.iss, i.audiences, i.jwks_url, i.jwks_file, i.secret_file, i.algorithms,
  i.leeway_s, i.authid_claim, i.role_claim, i.role_map, i.default_role, i.realm_claim, i.extra_claims, i.provision, i.updated_at`;

/** Every issuer of every realm (a small table, cached by the service). */
export async function listIssuers(db: Queryable, realm: string | null = null): Promise<IssuerRow[]> {
  const { rows } = await db.query<IssuerRow>(
    `SELECT ${ISSUER_COLUMNS} FROM authd.token_issuers i JOIN authd.realms r ON r.id = i.realm_id
      WHERE $1::text IS NULL OR r.name = $1 ORDER BY r.name, i.name`,
    [realm],
  );
  return rows;
}

const USER_JSON = `json_build_object('id', u.id::text, 'realm', r.name, 'authid', u.authid, 'role', u.role, 'disabled', u.disabled,
  'extra', u.extra, 'authid_override', u.authid_override, 'realm_override', u.realm_override)`;

export interface JwtSessionBinding {
  sessionId: number;
  expiresAt: Date;
  /** The session's realm when the issuer takes it from a claim; null: the user's (override applied). */
  realm: string | null;
}

/**
 * The user a JWT names (null when unknown) and whether the token's jti is revoked; with `bind`, the
 * same statement records the token session of a known, enabled user whose jti is not revoked (one
 * round trip instead of two on the login path). `bound` says whether it did.
 */
export async function findJwtUser(
  db: Queryable,
  realm: string,
  authid: string,
  issuerId: number,
  jti: string | null,
  bind: JwtSessionBinding | null = null,
): Promise<{ user: UserRow | null; jtiRevoked: boolean; bound: boolean }> {
  const { rows } = await db.query<{ user: UserRow | null; jti_revoked: boolean; bound: boolean }>({
    name: "authd_find_jwt_user",
    text: `WITH u AS (
             SELECT u.id, r.name AS realm, u.authid, u.role, u.disabled, u.extra, u.authid_override, u.realm_override
               FROM authd.users u JOIN authd.realms r ON r.id = u.realm_id WHERE r.name = $1 AND u.authid = $2),
           rev AS (
             SELECT ($4::text IS NOT NULL AND EXISTS (SELECT 1 FROM authd.revoked_jtis j WHERE j.issuer_id = $3 AND j.jti = $4)) AS revoked),
           ins AS (
             INSERT INTO authd.token_sessions (session_id, realm, authid, kind, issuer_id, jti, expires_at)
             SELECT $5, COALESCE($7, u.realm_override, u.realm), COALESCE(u.authid_override, u.authid), 'jwt', $3, $4, $6
               FROM u, rev WHERE $5::bigint IS NOT NULL AND NOT rev.revoked AND NOT u.disabled
             ON CONFLICT (session_id) DO UPDATE SET realm = EXCLUDED.realm, authid = EXCLUDED.authid, kind = EXCLUDED.kind,
               token_id = NULL, issuer_id = EXCLUDED.issuer_id, jti = EXCLUDED.jti, expires_at = EXCLUDED.expires_at,
               end_reason = NULL, claimed_until = '-infinity', created_at = now()
             RETURNING 1)
           SELECT (SELECT json_build_object('id', u.id::text, 'realm', u.realm, 'authid', u.authid, 'role', u.role,
                     'disabled', u.disabled, 'extra', u.extra, 'authid_override', u.authid_override,
                     'realm_override', u.realm_override) FROM u) AS user,
                  (SELECT revoked FROM rev) AS jti_revoked,
                  EXISTS (SELECT 1 FROM ins) AS bound`,
    values: [realm, authid, issuerId, jti, bind?.sessionId ?? null, bind?.expiresAt ?? null, bind?.realm ?? null],
  });
  const row = rows[0];
  return { user: row?.user ?? null, jtiRevoked: row?.jti_revoked ?? false, bound: row?.bound ?? false };
}

/**
 * Creates the user a JWT names (auto-provisioning) with its audit row; a concurrent login provisioning
 * the same subject is harmless (the existing row is returned).
 */
export async function provisionUser(db: Queryable, realm: string, authid: string, role: string, issuer: string): Promise<UserRow | null> {
  await db.query(
    `WITH ins AS (
       INSERT INTO authd.users (realm_id, authid, role) SELECT id, $2, $3 FROM authd.realms WHERE name = $1
       ON CONFLICT (realm_id, authid) DO NOTHING RETURNING id)
     INSERT INTO authd.audit (kind, outcome, realm, authid, actor, detail)
     SELECT 'admin', 'user.provision', $1, $2, 'issuer:' || $4, jsonb_build_object('role', $3::text) FROM ins`,
    [realm, authid, role, issuer],
  );
  const { rows } = await db.query<{ user: UserRow }>(
    `SELECT ${USER_JSON} AS user FROM authd.users u JOIN authd.realms r ON r.id = u.realm_id WHERE r.name = $1 AND u.authid = $2`,
    [realm, authid],
  );
  return rows[0]?.user ?? null;
}

export interface ApiTokenRow {
  id: string;
  kind: TokenKind;
  name: string;
  role: string | null;
  key_id: string;
  secret_hash: Buffer;
  expires_at: Date;
  revoked: boolean;
  live: boolean;
  last_used_at: Date | null;
  user: UserRow;
}

/** A token by its id, with its user; `live` is decided by the database clock (shared by all instances). */
export async function findApiToken(db: Queryable, id: string): Promise<ApiTokenRow | null> {
  const { rows } = await db.query<ApiTokenRow>({
    name: "authd_find_api_token",
    text: `SELECT t.id, t.kind, t.name, t.role, t.key_id, t.secret_hash, t.expires_at, t.revoked_at IS NOT NULL AS revoked,
                  (t.revoked_at IS NULL AND t.expires_at > now()) AS live, t.last_used_at, ${USER_JSON} AS user
             FROM authd.api_tokens t JOIN authd.users u ON u.id = t.user_id JOIN authd.realms r ON r.id = u.realm_id
            WHERE t.id = $1`,
    values: [id],
  });
  return rows[0] ?? null;
}

/** Records a use, at most once per interval (the condition makes concurrent instances agree). */
export async function touchApiToken(db: Queryable, id: string, intervalMs: number): Promise<void> {
  await db.query({
    name: "authd_touch_api_token",
    text: `UPDATE authd.api_tokens SET last_used_at = now()
            WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - make_interval(secs => $2::double precision / 1000))`,
    values: [id, intervalMs],
  });
}

export interface NewApiToken {
  id: string;
  userId: string;
  kind: TokenKind;
  name: string;
  role: string | null;
  keyId: string;
  secretHash: Buffer;
  expiresAt: Date;
}

export async function insertApiToken(db: Queryable, t: NewApiToken): Promise<void> {
  await db.query(
    `INSERT INTO authd.api_tokens (id, user_id, kind, name, role, key_id, secret_hash, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [t.id, t.userId, t.kind, t.name, t.role, t.keyId, t.secretHash, t.expiresAt],
  );
}

export interface TokenInfo {
  id: string;
  kind: TokenKind;
  name: string;
  role: string | null;
  created_at: Date;
  expires_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

/** A user's tokens (never their hashes), newest first; `kind` null: both kinds. */
export async function listTokens(db: Queryable, userId: string, kind: TokenKind | null, liveOnly: boolean): Promise<TokenInfo[]> {
  const { rows } = await db.query<TokenInfo>(
    `SELECT id, kind, name, role, created_at, expires_at, last_used_at, revoked_at FROM authd.api_tokens
      WHERE user_id = $1 AND ($2::text IS NULL OR kind = $2)
        AND (NOT $3 OR (revoked_at IS NULL AND expires_at > now()))
      ORDER BY created_at DESC, id`,
    [userId, kind, liveOnly],
  );
  return rows;
}

export async function countLiveTokens(db: Queryable, userId: string, kind: TokenKind): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM authd.api_tokens WHERE user_id = $1 AND kind = $2 AND revoked_at IS NULL AND expires_at > now()",
    [userId, kind],
  );
  return rows[0]?.n ?? 0;
}

/**
 * Revokes a live token of the user by id (or, for API tokens, by name); `kind` null: either kind.
 * The id it revoked, or null.
 */
export async function revokeToken(db: Queryable, userId: string, kind: TokenKind | null, idOrName: string): Promise<string | null> {
  const { rows } = await db.query<{ id: string }>(
    `UPDATE authd.api_tokens SET revoked_at = now()
      WHERE user_id = $1 AND ($2::text IS NULL OR kind = $2) AND revoked_at IS NULL AND (id = $3 OR (kind = 'api' AND name = $3))
      RETURNING id`,
    [userId, kind, idOrName],
  );
  return rows[0]?.id ?? null;
}

export interface NewIssuer {
  realm: string;
  name: string;
  iss: string;
  audiences: string[];
  jwksUrl: string | null;
  jwksFile: string | null;
  secretFile: string | null;
  algorithms: string[];
  leewayS: number;
  authidClaim: string;
  roleClaim: string | null;
  roleMap: RoleMapEntry[];
  defaultRole: string | null;
  realmClaim: string | null;
  extraClaims: string[];
  provision: boolean;
}

/** Adds or replaces the realm's issuer of this name. */
export async function upsertIssuer(db: Queryable, i: NewIssuer): Promise<number | null> {
  const { rows } = await db.query<{ id: number }>(
    `INSERT INTO authd.token_issuers (realm_id, name, iss, audiences, jwks_url, jwks_file, secret_file, algorithms, leeway_s,
                                      authid_claim, role_claim, role_map, default_role, realm_claim, extra_claims, provision)
     SELECT r.id, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16 FROM authd.realms r WHERE r.name = $1
     ON CONFLICT (realm_id, name) DO UPDATE SET
       iss = EXCLUDED.iss, audiences = EXCLUDED.audiences, jwks_url = EXCLUDED.jwks_url, jwks_file = EXCLUDED.jwks_file,
       secret_file = EXCLUDED.secret_file, algorithms = EXCLUDED.algorithms, leeway_s = EXCLUDED.leeway_s,
       authid_claim = EXCLUDED.authid_claim, role_claim = EXCLUDED.role_claim, role_map = EXCLUDED.role_map,
       default_role = EXCLUDED.default_role, realm_claim = EXCLUDED.realm_claim, extra_claims = EXCLUDED.extra_claims,
       provision = EXCLUDED.provision
     RETURNING id`,
    [
      i.realm,
      i.name,
      i.iss,
      i.audiences,
      i.jwksUrl,
      i.jwksFile,
      i.secretFile,
      i.algorithms,
      i.leewayS,
      i.authidClaim,
      i.roleClaim,
      JSON.stringify(i.roleMap),
      i.defaultRole,
      i.realmClaim,
      i.extraClaims,
      i.provision,
    ],
  );
  return rows[0]?.id ?? null;
}

export async function removeIssuer(db: Queryable, realm: string, name: string): Promise<boolean> {
  const { rowCount } = await db.query(
    "DELETE FROM authd.token_issuers i USING authd.realms r WHERE i.realm_id = r.id AND r.name = $1 AND i.name = $2",
    [realm, name],
  );
  return (rowCount ?? 0) > 0;
}

/** Revokes a JWT id of an issuer (idempotent); false when there is no such issuer. */
export async function revokeJti(db: Queryable, realm: string, issuer: string, jti: string, keepUntil: Date | null): Promise<boolean> {
  const { rowCount } = await db.query(
    `INSERT INTO authd.revoked_jtis (issuer_id, jti, keep_until)
     SELECT i.id, $3, $4 FROM authd.token_issuers i JOIN authd.realms r ON r.id = i.realm_id WHERE r.name = $1 AND i.name = $2
     ON CONFLICT (issuer_id, jti) DO UPDATE SET keep_until = EXCLUDED.keep_until`,
    [realm, issuer, jti, keepUntil],
  );
  return (rowCount ?? 0) > 0;
}

export interface NewTokenSession {
  sessionId: number;
  realm: string;
  authid: string;
  kind: SessionKind;
  tokenId: string | null;
  issuerId: number | null;
  jti: string | null;
  expiresAt: Date;
}

/**
 * Records a token session, unless its token was revoked meanwhile (a revocation committed between
 * the login's check and this insert would otherwise miss the session): false then.
 */
export async function insertTokenSession(db: Queryable, s: NewTokenSession): Promise<boolean> {
  const { rowCount } = await db.query({
    name: "authd_insert_token_session",
    text: `INSERT INTO authd.token_sessions (session_id, realm, authid, kind, token_id, issuer_id, jti, expires_at)
           SELECT $1, $2, $3, $4, $5, $6, $7, $8
            WHERE NOT EXISTS (SELECT 1 FROM authd.api_tokens t WHERE t.id = $5 AND t.revoked_at IS NOT NULL)
              AND NOT EXISTS (SELECT 1 FROM authd.revoked_jtis j WHERE j.issuer_id = $6 AND j.jti = $7)
           ON CONFLICT (session_id) DO UPDATE SET realm = EXCLUDED.realm, authid = EXCLUDED.authid, kind = EXCLUDED.kind,
             token_id = EXCLUDED.token_id, issuer_id = EXCLUDED.issuer_id, jti = EXCLUDED.jti, expires_at = EXCLUDED.expires_at,
             end_reason = NULL, claimed_until = '-infinity', created_at = now()`,
    values: [s.sessionId, s.realm, s.authid, s.kind, s.tokenId, s.issuerId, s.jti, s.expiresAt],
  });
  return (rowCount ?? 0) > 0;
}

export interface DueSession {
  session_id: string;
  realm: string;
  authid: string;
  kind: SessionKind;
  end_reason: string | null;
  /** Time since the login, by the database clock. */
  age_ms: number;
}

/**
 * Claims up to `limit` sessions that are due (expired, or ended by a revocation) for `leaseMs`: other
 * instances skip them meanwhile; an instance that dies before ending them leaves them to the next.
 */
export async function claimDueSessions(db: Queryable, limit: number, leaseMs: number): Promise<DueSession[]> {
  const { rows } = await db.query<DueSession>({
    name: "authd_claim_due_sessions",
    text: `WITH due AS (
             SELECT session_id FROM authd.token_sessions
              WHERE expires_at <= now() AND claimed_until < now()
              ORDER BY expires_at LIMIT $1 FOR UPDATE SKIP LOCKED)
           UPDATE authd.token_sessions s SET claimed_until = now() + make_interval(secs => $2::double precision / 1000)
             FROM due WHERE s.session_id = due.session_id
           RETURNING s.session_id::text, s.realm, s.authid, s.kind, s.end_reason,
                     (extract(epoch FROM now() - s.created_at) * 1000)::float8 AS age_ms`,
    values: [limit, leaseMs],
  });
  return rows;
}

export async function deleteTokenSessions(db: Queryable, ids: number[]): Promise<void> {
  if (ids.length === 0) return;
  await db.query("DELETE FROM authd.token_sessions WHERE session_id = ANY($1::bigint[])", [ids]);
}

/**
 * Makes due the sessions of revoked tokens and jtis that are not yet: the store's triggers do it when
 * the revocation happens, this catches a login that recorded its session concurrently with it.
 */
export async function expireRevokedSessions(db: Queryable): Promise<number> {
  const { rowCount } = await db.query(
    `UPDATE authd.token_sessions s SET expires_at = now(), end_reason = 'token revoked'
      WHERE s.expires_at > now()
        AND (EXISTS (SELECT 1 FROM authd.api_tokens t WHERE t.id = s.token_id AND t.revoked_at IS NOT NULL)
          OR EXISTS (SELECT 1 FROM authd.revoked_jtis j WHERE j.issuer_id = s.issuer_id AND j.jti = s.jti))`,
  );
  return rowCount ?? 0;
}

/** Forgets sessions of `realm` older than `graceMs` that the router no longer has. */
export async function forgetEndedSessions(db: Queryable, realm: string, live: number[], graceMs: number): Promise<number> {
  const { rowCount } = await db.query(
    `DELETE FROM authd.token_sessions
      WHERE realm = $1 AND created_at < now() - make_interval(secs => $3::double precision / 1000)
        AND NOT (session_id = ANY($2::bigint[]))`,
    [realm, live, graceMs],
  );
  return rowCount ?? 0;
}

/** The kind of token a live session logged in with, or null (not a token session). */
export async function tokenSessionKind(db: Queryable, sessionId: number): Promise<SessionKind | null> {
  const { rows } = await db.query<{ kind: SessionKind }>("SELECT kind FROM authd.token_sessions WHERE session_id = $1", [sessionId]);
  return rows[0]?.kind ?? null;
}

/** Users a session identity maps back to: the authid and realm a login answered, overrides applied. */
export async function usersBySessionIdentity(db: Queryable, realm: string, authid: string): Promise<UserRow[]> {
  const { rows } = await db.query<{ user: UserRow }>(
    `SELECT ${USER_JSON} AS user FROM authd.users u JOIN authd.realms r ON r.id = u.realm_id
      WHERE COALESCE(u.authid_override, u.authid) = $2 AND COALESCE(u.realm_override, r.name) = $1
      LIMIT 2`,
    [realm, authid],
  );
  return rows.map((r) => r.user);
}
