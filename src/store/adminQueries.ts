/** Statements used by the admin CLI and the demo seed. Parameters only. */
import type { Action, MatchKind } from "../authorize/rules.js";
import type { Method, Queryable } from "./queries.js";

export class NotFoundError extends Error {
  override name = "NotFoundError";
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
