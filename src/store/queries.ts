/**
 * Every SQL statement the service runs at auth time. Parameters only; no string-built SQL.
 * Admin statements live in adminQueries.ts.
 */
import type pg from "pg";
import type { MatchKind } from "../authorize/rules.js";

export type Queryable = Pick<pg.Pool, "query">;
export type Method = "ticket" | "wampcra" | "cryptosign" | "scram" | "tls";

export interface UserRow {
  id: string;
  realm: string;
  authid: string;
  role: string;
  disabled: boolean;
  extra: Record<string, unknown>;
  authid_override: string | null;
  realm_override: string | null;
}

export interface CredentialRow {
  id: string;
  method: Method;
  lookup: string | null;
  label: string | null;
  data: Record<string, unknown>;
  expires_at: Date | null;
  revoked: boolean;
}

export interface LoginRecord {
  user: UserRow;
  credentials: CredentialRow[];
}

const USER_COLUMNS = `u.id::text AS id, r.name AS realm, u.authid, u.role, u.disabled, u.extra,
  u.authid_override, u.realm_override`;

/** The user and its live credentials of one method (unrevoked, unexpired). */
export async function findLogin(db: Queryable, realm: string, authid: string, method: Method): Promise<LoginRecord | null> {
  const { rows } = await db.query<UserRow & { creds: CredentialRow[] | null }>({
    name: "authd_find_login",
    text: `SELECT ${USER_COLUMNS},
      (SELECT json_agg(json_build_object('id', c.id::text, 'method', c.method, 'lookup', c.lookup, 'label', c.label,
              'data', c.data, 'expires_at', c.expires_at, 'revoked', c.revoked) ORDER BY c.id)
         FROM authd.credentials c
        WHERE c.user_id = u.id AND c.method = $3 AND NOT c.revoked
          AND (c.expires_at IS NULL OR c.expires_at > now())) AS creds
      FROM authd.users u JOIN authd.realms r ON r.id = u.realm_id
     WHERE r.name = $1 AND u.authid = $2`,
    values: [realm, authid, method],
  });
  const row = rows[0];
  if (!row) return null;
  const { creds, ...user } = row;
  return { user, credentials: creds ?? [] };
}

/** Users holding a live credential with this lookup key (cryptosign pubkey, TLS fingerprint). */
export async function findLoginsByLookup(db: Queryable, realm: string | null, method: Method, lookup: string): Promise<Array<LoginRecord>> {
  const { rows } = await db.query<UserRow & { cred: CredentialRow }>({
    name: "authd_find_by_lookup",
    text: `SELECT ${USER_COLUMNS},
      json_build_object('id', c.id::text, 'method', c.method, 'lookup', c.lookup, 'label', c.label,
        'data', c.data, 'expires_at', c.expires_at, 'revoked', c.revoked) AS cred
      FROM authd.credentials c
      JOIN authd.users u ON u.id = c.user_id
      JOIN authd.realms r ON r.id = u.realm_id
     WHERE c.method = $1 AND c.lookup = $2 AND ($3::text IS NULL OR r.name = $3)
     ORDER BY u.id LIMIT 10`,
    values: [method, lookup, realm],
  });
  return rows.map(({ cred, ...user }) => ({ user, credentials: [cred] }));
}

/**
 * The roles of a realm's enabled users, most common first (ties by name): the decoy answers for
 * unknown users take their role from here (auth/decoyRoles.ts), cached, not per login.
 */
export async function commonRoles(db: Queryable, realm: string, limit = 10): Promise<string[]> {
  const { rows } = await db.query<{ role: string }>({
    name: "authd_common_roles",
    text: `SELECT u.role FROM authd.users u JOIN authd.realms r ON r.id = u.realm_id
            WHERE r.name = $1 AND NOT u.disabled
            GROUP BY u.role ORDER BY count(*) DESC, u.role LIMIT $2`,
    values: [realm, limit],
  });
  return rows.map((r) => r.role);
}

/** Rewrites a credential's data after a rehash on login; flagged so the change does not revoke sessions. */
export async function rehashCredential(pool: pg.Pool, id: string, data: Record<string, unknown>): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    await client.query("SELECT set_config('authd.rehash', 'on', true)");
    await client.query("UPDATE authd.credentials SET data = $2 WHERE id = $1", [id, data]);
    await client.query("COMMIT");
  } catch (err) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

export interface RealmRow {
  id: number;
  name: string;
  anonymous_allowed: boolean;
  anonymous_role: string | null;
  anonymous_cidrs: string[];
  anonymous_authid: string | null;
  anonymous_extra: Record<string, unknown>;
}

export async function listRealms(db: Queryable): Promise<RealmRow[]> {
  const { rows } = await db.query<RealmRow>(
    `SELECT id, name, anonymous_allowed, anonymous_role, anonymous_cidrs::text[] AS anonymous_cidrs,
            anonymous_authid, anonymous_extra
       FROM authd.realms ORDER BY name`,
  );
  return rows;
}

/** A rule's flags, as stored in authd.permissions. */
export interface RuleColumns {
  allow_call: boolean;
  allow_register: boolean;
  allow_publish: boolean;
  allow_subscribe: boolean;
  disclose_caller: boolean;
  disclose_publisher: boolean;
  cache: boolean;
}

/** Explicit denials and the time window of a rule (epoch ms; null: unbounded). */
export interface RuleDenyWindow {
  deny_call: boolean;
  deny_register: boolean;
  deny_publish: boolean;
  deny_subscribe: boolean;
  valid_from: number | null;
  valid_until: number | null;
}

export interface PermissionRow extends RuleColumns, RuleDenyWindow {
  realm: string;
  role: string;
  role_id: number;
  kill_on_change: boolean;
  id: string | null;
  uri: string | null;
  match: MatchKind | null;
}

/** The rule columns every rule query selects (`p` = authd.permissions), window bounds as epoch ms. */
export const RULE_SELECT = `p.id::text AS id, p.uri, p.match,
  COALESCE(p.allow_call, false) AS allow_call, COALESCE(p.allow_register, false) AS allow_register,
  COALESCE(p.allow_publish, false) AS allow_publish, COALESCE(p.allow_subscribe, false) AS allow_subscribe,
  COALESCE(p.deny_call, false) AS deny_call, COALESCE(p.deny_register, false) AS deny_register,
  COALESCE(p.deny_publish, false) AS deny_publish, COALESCE(p.deny_subscribe, false) AS deny_subscribe,
  COALESCE(p.disclose_caller, false) AS disclose_caller, COALESCE(p.disclose_publisher, false) AS disclose_publisher,
  COALESCE(p.cache, false) AS cache,
  (extract(epoch FROM p.valid_from) * 1000)::float8 AS valid_from, (extract(epoch FROM p.valid_until) * 1000)::float8 AS valid_until`;

/** All roles with their rules (roles without rules appear once with id null), in a stable order. */
export async function loadPermissions(db: Queryable): Promise<PermissionRow[]> {
  const { rows } = await db.query<PermissionRow>(
    `SELECT r.name AS realm, ro.name AS role, ro.id AS role_id, ro.kill_on_change, ${RULE_SELECT}
       FROM authd.roles ro
       JOIN authd.realms r ON r.id = ro.realm_id
       LEFT JOIN authd.permissions p ON p.role_id = ro.id
      ORDER BY r.name, ro.name, p.id`,
  );
  return rows;
}

export async function ping(db: Queryable): Promise<void> {
  await db.query("SELECT 1");
}

/** One realm's anonymous policy (anonymous method), or null when the realm is not in the store. */
export async function findRealmPolicy(db: Queryable, realm: string): Promise<RealmRow | null> {
  const { rows } = await db.query<RealmRow>({
    name: "authd_find_realm_policy",
    text: `SELECT id, name, anonymous_allowed, anonymous_role, anonymous_cidrs::text[] AS anonymous_cidrs,
                  anonymous_authid, anonymous_extra
             FROM authd.realms WHERE name = $1`,
    values: [realm],
  });
  return rows[0] ?? null;
}

/** The role a rule belongs to, for the kill-on-change decision (null when the role is gone). */
export async function roleById(db: Queryable, roleId: number): Promise<{ realm: string; name: string; kill_on_change: boolean } | null> {
  const { rows } = await db.query<{ realm: string; name: string; kill_on_change: boolean }>(
    "SELECT r.name AS realm, ro.name, ro.kill_on_change FROM authd.roles ro JOIN authd.realms r ON r.id = ro.realm_id WHERE ro.id = $1",
    [roleId],
  );
  return rows[0] ?? null;
}

/** Role names the store may never assign (`trusted`, the service's own role). */
export async function listReservedRoles(db: Queryable): Promise<string[]> {
  const { rows } = await db.query<{ name: string }>("SELECT name FROM authd.reserved_roles ORDER BY name");
  return rows.map((r) => r.name);
}

/** Records a reserved role name (idempotent); the store's triggers then refuse it everywhere. */
export async function reserveRole(db: Queryable, name: string, reason: string): Promise<void> {
  await db.query("INSERT INTO authd.reserved_roles (name, reason) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING", [name, reason]);
}

/** Realms whose store already has a role of this name (rows older than its reservation). */
export async function realmsWithRole(db: Queryable, role: string): Promise<string[]> {
  const { rows } = await db.query<{ realm: string }>(
    `SELECT DISTINCT r.name AS realm FROM authd.realms r
      WHERE EXISTS (SELECT 1 FROM authd.roles ro WHERE ro.realm_id = r.id AND ro.name = $1)
         OR EXISTS (SELECT 1 FROM authd.users u WHERE u.realm_id = r.id AND u.role = $1)
         OR r.anonymous_role = $1
      ORDER BY 1`,
    [role],
  );
  return rows.map((r) => r.realm);
}
