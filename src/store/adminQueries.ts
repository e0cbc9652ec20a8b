/** Statements used by the admin CLI and the demo seed. Parameters only. */
import type pg from "pg";
import type { Action, MatchKind } from "../authorize/rules.js";
import type { Method, Queryable, RuleColumns, UserRow } from "./queries.js";
import { AuthdError } from "../errors/base.js";

export class NotFoundError extends AuthdError {
  readonly code = "NOT_FOUND";
}

async function realmId(db: Queryable, realm: string): Promise<number> {
  const { rows } = await db.query<{ id: number }>("SELECT id FROM authd.realms WHERE name = $1", [realm]);
  if (!rows[0]) throw new NotFoundError(`no realm named "${realm}"`);
  return rows[0].id;
}

export async function addRealm(db: Queryable, name: string): Promise<{ id: number; created: boolean }> {
  const { rows } = await db.query<{ id: number; created: boolean }>(
    `INSERT INTO authd.realms (name) VALUES ($1)
     ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name
     RETURNING id, (xmax = 0) AS created`,
    [name],
  );
  return rows[0]!;
}

export async function removeRealm(db: Queryable, name: string): Promise<boolean> {
  const { rowCount } = await db.query("DELETE FROM authd.realms WHERE name = $1", [name]);
  return (rowCount ?? 0) > 0;
}

export interface AnonymousPolicy {
  allowed: boolean;
  role: string | null;
  cidrs: string[];
  authid: string | null;
  extra: Record<string, unknown>;
}

export async function setAnonymousPolicy(db: Queryable, realm: string, p: AnonymousPolicy): Promise<void> {
  const { rowCount } = await db.query(
    `UPDATE authd.realms SET anonymous_allowed = $2, anonymous_role = $3, anonymous_cidrs = $4::cidr[],
            anonymous_authid = $5, anonymous_extra = $6 WHERE name = $1`,
    [realm, p.allowed, p.role, p.cidrs, p.authid, p.extra],
  );
  if (!rowCount) throw new NotFoundError(`no realm named "${realm}"`);
}

export async function addRole(db: Queryable, realm: string, role: string, killOnChange = false): Promise<number> {
  const id = await realmId(db, realm);
  const { rows } = await db.query<{ id: number }>(
    `INSERT INTO authd.roles (realm_id, name, kill_on_change) VALUES ($1, $2, $3)
     ON CONFLICT (realm_id, name) DO UPDATE SET kill_on_change = EXCLUDED.kill_on_change RETURNING id`,
    [id, role, killOnChange],
  );
  return rows[0]!.id;
}

export async function removeRole(db: Queryable, realm: string, role: string): Promise<boolean> {
  const { rowCount } = await db.query(
    "DELETE FROM authd.roles ro USING authd.realms r WHERE ro.realm_id = r.id AND r.name = $1 AND ro.name = $2",
    [realm, role],
  );
  return (rowCount ?? 0) > 0;
}

export async function roleExists(db: Queryable, realm: string, role: string): Promise<boolean> {
  const { rows } = await db.query(
    "SELECT 1 FROM authd.roles ro JOIN authd.realms r ON r.id = ro.realm_id WHERE r.name = $1 AND ro.name = $2",
    [realm, role],
  );
  return rows.length > 0;
}

export interface Grant {
  uri: string;
  match: MatchKind;
  allow: Action[];
  discloseCaller?: boolean;
  disclosePublisher?: boolean;
  cache?: boolean;
}

/** Adds or replaces the rule (role, uri, match). */
export async function grant(db: Queryable, realm: string, role: string, g: Grant): Promise<string> {
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO authd.permissions (role_id, uri, match, allow_call, allow_register, allow_publish, allow_subscribe,
                                    disclose_caller, disclose_publisher, cache)
     SELECT ro.id, $3, $4, $5, $6, $7, $8, $9, $10, $11
       FROM authd.roles ro JOIN authd.realms r ON r.id = ro.realm_id
      WHERE r.name = $1 AND ro.name = $2
     ON CONFLICT (role_id, uri, match) DO UPDATE SET
       allow_call = EXCLUDED.allow_call, allow_register = EXCLUDED.allow_register,
       allow_publish = EXCLUDED.allow_publish, allow_subscribe = EXCLUDED.allow_subscribe,
       disclose_caller = EXCLUDED.disclose_caller, disclose_publisher = EXCLUDED.disclose_publisher,
       cache = EXCLUDED.cache
     RETURNING id::text`,
    [
      realm,
      role,
      g.uri,
      g.match,
      g.allow.includes("call"),
      g.allow.includes("register"),
      g.allow.includes("publish"),
      g.allow.includes("subscribe"),
      g.discloseCaller ?? false,
      g.disclosePublisher ?? false,
      g.cache ?? false,
    ],
  );
  if (!rows[0]) throw new NotFoundError(`no role "${role}" in realm "${realm}"`);
  return rows[0].id;
}

export async function revokeGrant(db: Queryable, realm: string, role: string, uri: string, match: MatchKind): Promise<boolean> {
  const { rowCount } = await db.query(
    `DELETE FROM authd.permissions p USING authd.roles ro, authd.realms r
      WHERE p.role_id = ro.id AND ro.realm_id = r.id AND r.name = $1 AND ro.name = $2 AND p.uri = $3 AND p.match = $4`,
    [realm, role, uri, match],
  );
  return (rowCount ?? 0) > 0;
}

export interface NewUser {
  realm: string;
  authid: string;
  role: string;
  extra?: Record<string, unknown>;
  authidOverride?: string | null;
  realmOverride?: string | null;
  disabled?: boolean;
}

export async function addUser(db: Queryable, u: NewUser): Promise<string> {
  const id = await realmId(db, u.realm);
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO authd.users (realm_id, authid, role, extra, authid_override, realm_override, disabled)
     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id::text`,
    [id, u.authid, u.role, u.extra ?? {}, u.authidOverride ?? null, u.realmOverride ?? null, u.disabled ?? false],
  );
  return rows[0]!.id;
}

export async function userId(db: Queryable, realm: string, authid: string): Promise<string> {
  const { rows } = await db.query<{ id: string }>(
    "SELECT u.id::text AS id FROM authd.users u JOIN authd.realms r ON r.id = u.realm_id WHERE r.name = $1 AND u.authid = $2",
    [realm, authid],
  );
  if (!rows[0]) throw new NotFoundError(`no user "${authid}" in realm "${realm}"`);
  return rows[0].id;
}

export async function setUserDisabled(db: Queryable, realm: string, authid: string, disabled: boolean): Promise<void> {
  const id = await userId(db, realm, authid);
  await db.query("UPDATE authd.users SET disabled = $2 WHERE id = $1", [id, disabled]);
}

export async function setUserRole(db: Queryable, realm: string, authid: string, role: string): Promise<void> {
  const id = await userId(db, realm, authid);
  await db.query("UPDATE authd.users SET role = $2 WHERE id = $1", [id, role]);
}

export async function setUserExtra(db: Queryable, realm: string, authid: string, extra: Record<string, unknown>): Promise<void> {
  const id = await userId(db, realm, authid);
  await db.query("UPDATE authd.users SET extra = $2 WHERE id = $1", [id, extra]);
}

export async function removeUser(db: Queryable, realm: string, authid: string): Promise<boolean> {
  const { rowCount } = await db.query(
    "DELETE FROM authd.users u USING authd.realms r WHERE u.realm_id = r.id AND r.name = $1 AND u.authid = $2",
    [realm, authid],
  );
  return (rowCount ?? 0) > 0;
}

/** Sets the user's single credential of a password-like method (ticket, wampcra, scram). */
export async function upsertSecretCredential(db: Queryable, user: string, method: Method, data: Record<string, unknown>): Promise<void> {
  await db.query(
    `INSERT INTO authd.credentials (user_id, method, data) VALUES ($1, $2, $3)
     ON CONFLICT (user_id, method) WHERE method IN ('ticket', 'wampcra', 'scram') DO UPDATE SET data = EXCLUDED.data, revoked = false`,
    [user, method, data],
  );
}

/** Removes the user's credential of a password-like method; false when there was none. */
export async function removeSecretCredential(db: Queryable, user: string, method: Method): Promise<boolean> {
  const { rowCount } = await db.query("DELETE FROM authd.credentials WHERE user_id = $1 AND method = $2", [user, method]);
  return (rowCount ?? 0) > 0;
}

/** Adds a keyed credential (cryptosign public key, TLS fingerprint). */
export async function addKeyedCredential(
  db: Queryable,
  user: string,
  method: Method,
  lookup: string,
  label: string | null,
  expiresAt: Date | null,
  data: Record<string, unknown> = {},
): Promise<string> {
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO authd.credentials (user_id, method, lookup, label, expires_at, data) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (method, lookup, user_id) WHERE lookup IS NOT NULL
       DO UPDATE SET label = EXCLUDED.label, expires_at = EXCLUDED.expires_at, data = EXCLUDED.data, revoked = false
     RETURNING id::text`,
    [user, method, lookup, label, expiresAt, data],
  );
  return rows[0]!.id;
}

export async function revokeKeyedCredential(db: Queryable, user: string, method: Method, lookup: string): Promise<boolean> {
  const { rowCount } = await db.query(
    "UPDATE authd.credentials SET revoked = true WHERE user_id = $1 AND method = $2 AND lookup = $3 AND NOT revoked",
    [user, method, lookup],
  );
  return (rowCount ?? 0) > 0;
}

/* ---- Reads, transactions and the rest of the admin surface (CLI) ---- */

/** Runs `fn` in one transaction on one pooled connection; rolls back on any error. */
export async function inTransaction<T>(pool: Pick<pg.Pool, "connect">, fn: (db: Queryable) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    const out = await fn(client);
    await client.query("COMMIT");
    return out;
  } catch (err) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

export async function realmExists(db: Queryable, realm: string): Promise<boolean> {
  const { rows } = await db.query("SELECT 1 FROM authd.realms WHERE name = $1", [realm]);
  return rows.length > 0;
}

export interface RoleInfo {
  realm: string;
  name: string;
  kill_on_change: boolean;
  rules: number;
  users: number;
}

export async function listRoles(db: Queryable, realm: string | null): Promise<RoleInfo[]> {
  const { rows } = await db.query<RoleInfo>(
    `SELECT r.name AS realm, ro.name, ro.kill_on_change,
            (SELECT count(*)::int FROM authd.permissions p WHERE p.role_id = ro.id) AS rules,
            (SELECT count(*)::int FROM authd.users u WHERE u.realm_id = r.id AND u.role = ro.name) AS users
       FROM authd.roles ro JOIN authd.realms r ON r.id = ro.realm_id
      WHERE ($1::text IS NULL OR r.name = $1)
      ORDER BY r.name, ro.name`,
    [realm],
  );
  return rows;
}

export interface GrantRow extends RuleColumns {
  id: string;
  realm: string;
  role: string;
  uri: string;
  match: MatchKind;
}

export async function listGrants(db: Queryable, realm: string | null, role: string | null): Promise<GrantRow[]> {
  const { rows } = await db.query<GrantRow>(
    `SELECT p.id::text AS id, r.name AS realm, ro.name AS role, p.uri, p.match, p.allow_call, p.allow_register,
            p.allow_publish, p.allow_subscribe, p.disclose_caller, p.disclose_publisher, p.cache
       FROM authd.permissions p JOIN authd.roles ro ON ro.id = p.role_id JOIN authd.realms r ON r.id = ro.realm_id
      WHERE ($1::text IS NULL OR r.name = $1) AND ($2::text IS NULL OR ro.name = $2)
      ORDER BY r.name, ro.name, p.id`,
    [realm, role],
  );
  return rows;
}

export async function findGrant(db: Queryable, realm: string, role: string, uri: string, match: MatchKind): Promise<GrantRow | null> {
  const { rows } = await db.query<GrantRow>(
    `SELECT p.id::text AS id, r.name AS realm, ro.name AS role, p.uri, p.match, p.allow_call, p.allow_register,
            p.allow_publish, p.allow_subscribe, p.disclose_caller, p.disclose_publisher, p.cache
       FROM authd.permissions p JOIN authd.roles ro ON ro.id = p.role_id JOIN authd.realms r ON r.id = ro.realm_id
      WHERE r.name = $1 AND ro.name = $2 AND p.uri = $3 AND p.match = $4`,
    [realm, role, uri, match],
  );
  return rows[0] ?? null;
}

export interface UserInfo extends UserRow {
  created_at: Date;
  updated_at: Date;
  methods: string[];
}

const USER_INFO = `u.id::text AS id, r.name AS realm, u.authid, u.role, u.disabled, u.extra, u.authid_override,
  u.realm_override, u.created_at, u.updated_at,
  ARRAY(SELECT DISTINCT c.method FROM authd.credentials c
         WHERE c.user_id = u.id AND NOT c.revoked AND (c.expires_at IS NULL OR c.expires_at > now())
         ORDER BY c.method) AS methods`;

export async function listUsers(db: Queryable, realm: string, role: string | null): Promise<UserInfo[]> {
  const { rows } = await db.query<UserInfo>(
    `SELECT ${USER_INFO} FROM authd.users u JOIN authd.realms r ON r.id = u.realm_id
      WHERE r.name = $1 AND ($2::text IS NULL OR u.role = $2) ORDER BY u.authid`,
    [realm, role],
  );
  return rows;
}

export async function findUser(db: Queryable, realm: string, authid: string): Promise<UserInfo | null> {
  const { rows } = await db.query<UserInfo>(
    `SELECT ${USER_INFO} FROM authd.users u JOIN authd.realms r ON r.id = u.realm_id WHERE r.name = $1 AND u.authid = $2`,
    [realm, authid],
  );
  return rows[0] ?? null;
}

/** A credential as shown to operators: never the secret parts of `data`. */
export interface CredentialInfo {
  id: string;
  method: Method;
  lookup: string | null;
  label: string | null;
  pins: Record<string, unknown>;
  expires_at: Date | null;
  revoked: boolean;
  created_at: Date;
  updated_at: Date;
}

export async function listCredentials(db: Queryable, user: string, method: Method | null): Promise<CredentialInfo[]> {
  // Only the non-secret TLS pins leave the database; hashes, SCRAM keys and CRA ciphertexts stay in.
  const { rows } = await db.query<CredentialInfo>(
    `SELECT id::text AS id, method, lookup, label,
            jsonb_strip_nulls(jsonb_build_object('issuer_cn', data->'issuer_cn', 'subject_cn', data->'subject_cn')) AS pins,
            expires_at, revoked, created_at, updated_at
       FROM authd.credentials WHERE user_id = $1 AND ($2::text IS NULL OR method = $2) ORDER BY method, id`,
    [user, method],
  );
  return rows;
}

export async function removeKeyedCredential(db: Queryable, user: string, method: Method, lookup: string): Promise<boolean> {
  const { rowCount } = await db.query("DELETE FROM authd.credentials WHERE user_id = $1 AND method = $2 AND lookup = $3", [
    user,
    method,
    lookup,
  ]);
  return (rowCount ?? 0) > 0;
}

export type AdminDb = Queryable;
