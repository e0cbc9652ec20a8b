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
  /** Actions the rule explicitly denies (beats an allow at the same specificity). */
  deny?: Action[];
  discloseCaller?: boolean;
  disclosePublisher?: boolean;
  cache?: boolean;
  /** The rule exists in [validFrom, validUntil). */
  validFrom?: Date | null;
  validUntil?: Date | null;
}

/** Who a rule belongs to: a role, a group or a user (by its stored authid) of the realm. */
export type RuleOwner = { kind: "role"; name: string } | { kind: "group"; name: string } | { kind: "user"; authid: string };

function ownerName(o: RuleOwner): string {
  return o.kind === "user" ? o.authid : o.name;
}

function grantValues(realm: string, owner: RuleOwner, g: Grant): unknown[] {
  const deny = g.deny ?? [];
  return [
    realm,
    ownerName(owner),
    g.uri,
    g.match,
    g.allow.includes("call"),
    g.allow.includes("register"),
    g.allow.includes("publish"),
    g.allow.includes("subscribe"),
    deny.includes("call"),
    deny.includes("register"),
    deny.includes("publish"),
    deny.includes("subscribe"),
    g.discloseCaller ?? false,
    g.disclosePublisher ?? false,
    g.cache ?? false,
    g.validFrom ?? null,
    g.validUntil ?? null,
  ];
}

const GRANT_COLUMNS = `uri, match, allow_call, allow_register, allow_publish, allow_subscribe,
  deny_call, deny_register, deny_publish, deny_subscribe, disclose_caller, disclose_publisher, cache, valid_from, valid_until`;
const GRANT_VALUES = "$3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17";
const GRANT_UPDATE = `allow_call = EXCLUDED.allow_call, allow_register = EXCLUDED.allow_register,
  allow_publish = EXCLUDED.allow_publish, allow_subscribe = EXCLUDED.allow_subscribe,
  deny_call = EXCLUDED.deny_call, deny_register = EXCLUDED.deny_register,
  deny_publish = EXCLUDED.deny_publish, deny_subscribe = EXCLUDED.deny_subscribe,
  disclose_caller = EXCLUDED.disclose_caller, disclose_publisher = EXCLUDED.disclose_publisher,
  cache = EXCLUDED.cache, valid_from = EXCLUDED.valid_from, valid_until = EXCLUDED.valid_until`;

const GRANT_SQL: Record<RuleOwner["kind"], string> = {
  role: `INSERT INTO authd.permissions (role_id, ${GRANT_COLUMNS})
     SELECT ro.id, ${GRANT_VALUES} FROM authd.roles ro JOIN authd.realms r ON r.id = ro.realm_id WHERE r.name = $1 AND ro.name = $2
     ON CONFLICT (role_id, uri, match) DO UPDATE SET ${GRANT_UPDATE} RETURNING id::text`,
  group: `INSERT INTO authd.permissions (group_id, ${GRANT_COLUMNS})
     SELECT g.id, ${GRANT_VALUES} FROM authd.groups g JOIN authd.realms r ON r.id = g.realm_id WHERE r.name = $1 AND g.name = $2
     ON CONFLICT (group_id, uri, match) DO UPDATE SET ${GRANT_UPDATE} RETURNING id::text`,
  user: `INSERT INTO authd.permissions (user_id, ${GRANT_COLUMNS})
     SELECT u.id, ${GRANT_VALUES} FROM authd.users u JOIN authd.realms r ON r.id = u.realm_id WHERE r.name = $1 AND u.authid = $2
     ON CONFLICT (user_id, uri, match) DO UPDATE SET ${GRANT_UPDATE} RETURNING id::text`,
};

function missingOwner(realm: string, o: RuleOwner): NotFoundError {
  return new NotFoundError(
    o.kind === "user" ? `no user "${o.authid}" in realm "${realm}"` : `no ${o.kind} "${o.name}" in realm "${realm}"`,
  );
}

/** Adds or replaces the rule (owner, uri, match). */
export async function grantTo(db: Queryable, realm: string, owner: RuleOwner, g: Grant): Promise<string> {
  const { rows } = await db.query<{ id: string }>(GRANT_SQL[owner.kind], grantValues(realm, owner, g));
  if (!rows[0]) throw missingOwner(realm, owner);
  return rows[0].id;
}

/** Adds or replaces the role rule (role, uri, match). */
export async function grant(db: Queryable, realm: string, role: string, g: Grant): Promise<string> {
  return grantTo(db, realm, { kind: "role", name: role }, g);
}

/** Matches the rule's owner: $1 realm, $2 owner kind, $3 owner name/authid. */
const OWNED_BY = `r.name = $1 AND (($2::text = 'role' AND p.role_id IS NOT NULL AND ro.name = $3)
  OR ($2::text = 'group' AND p.group_id IS NOT NULL AND g.name = $3) OR ($2::text = 'user' AND p.user_id IS NOT NULL AND u.authid = $3))`;

const RULE_FROM = `authd.permissions p
  LEFT JOIN authd.roles ro ON ro.id = p.role_id
  LEFT JOIN authd.groups g ON g.id = p.group_id
  LEFT JOIN authd.users u ON u.id = p.user_id
  JOIN authd.realms r ON r.id = COALESCE(ro.realm_id, g.realm_id, u.realm_id)`;

export async function revokeFrom(db: Queryable, realm: string, owner: RuleOwner, uri: string, match: MatchKind): Promise<boolean> {
  const { rowCount } = await db.query(
    `DELETE FROM authd.permissions WHERE id IN (SELECT p.id FROM ${RULE_FROM} WHERE ${OWNED_BY} AND p.uri = $4 AND p.match = $5)`,
    [realm, owner.kind, ownerName(owner), uri, match],
  );
  return (rowCount ?? 0) > 0;
}

export async function revokeGrant(db: Queryable, realm: string, role: string, uri: string, match: MatchKind): Promise<boolean> {
  return revokeFrom(db, realm, { kind: "role", name: role }, uri, match);
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
  /** The owning role's name (null for group and user rules). */
  role: string | null;
  owner_kind: RuleOwner["kind"];
  /** The role's or group's name, or the user's stored authid. */
  owner: string;
  uri: string;
  match: MatchKind;
  deny_call: boolean;
  deny_register: boolean;
  deny_publish: boolean;
  deny_subscribe: boolean;
  valid_from: Date | null;
  valid_until: Date | null;
}

const GRANT_ROW = `p.id::text AS id, r.name AS realm, ro.name AS role,
  CASE WHEN p.role_id IS NOT NULL THEN 'role' WHEN p.group_id IS NOT NULL THEN 'group' ELSE 'user' END AS owner_kind,
  COALESCE(ro.name, g.name, u.authid) AS owner, p.uri, p.match, p.allow_call, p.allow_register,
  p.allow_publish, p.allow_subscribe, p.deny_call, p.deny_register, p.deny_publish, p.deny_subscribe,
  p.disclose_caller, p.disclose_publisher, p.cache, p.valid_from, p.valid_until`;

/** Role rules (of one realm / role, or all). */
export async function listGrants(db: Queryable, realm: string | null, role: string | null): Promise<GrantRow[]> {
  const { rows } = await db.query<GrantRow>(
    `SELECT ${GRANT_ROW} FROM ${RULE_FROM}
      WHERE p.role_id IS NOT NULL AND ($1::text IS NULL OR r.name = $1) AND ($2::text IS NULL OR ro.name = $2)
      ORDER BY r.name, ro.name, p.id`,
    [realm, role],
  );
  return rows;
}

/** Rules of every owner kind (of one realm, or all): roles, then groups, then users. */
export async function listAllGrants(db: Queryable, realm: string | null): Promise<GrantRow[]> {
  const { rows } = await db.query<GrantRow>(
    `SELECT ${GRANT_ROW} FROM ${RULE_FROM}
      WHERE ($1::text IS NULL OR r.name = $1)
      ORDER BY r.name, (p.role_id IS NULL), (p.group_id IS NULL), COALESCE(ro.name, g.name, u.authid), p.id`,
    [realm],
  );
  return rows;
}

/** One owner's rules. */
export async function listOwnedGrants(db: Queryable, realm: string, owner: RuleOwner): Promise<GrantRow[]> {
  const { rows } = await db.query<GrantRow>(`SELECT ${GRANT_ROW} FROM ${RULE_FROM} WHERE ${OWNED_BY} ORDER BY p.id`, [
    realm,
    owner.kind,
    ownerName(owner),
  ]);
  return rows;
}

export async function findGrantOf(db: Queryable, realm: string, owner: RuleOwner, uri: string, match: MatchKind): Promise<GrantRow | null> {
  const { rows } = await db.query<GrantRow>(`SELECT ${GRANT_ROW} FROM ${RULE_FROM} WHERE ${OWNED_BY} AND p.uri = $4 AND p.match = $5`, [
    realm,
    owner.kind,
    ownerName(owner),
    uri,
    match,
  ]);
  return rows[0] ?? null;
}

/** Whether a role, group or user of that name exists in the realm. */
export async function ownerExists(db: Queryable, realm: string, owner: RuleOwner): Promise<boolean> {
  const { rows } = await db.query(
    `SELECT 1 FROM authd.realms r WHERE r.name = $1 AND (
       ($2::text = 'role' AND EXISTS (SELECT 1 FROM authd.roles ro WHERE ro.realm_id = r.id AND ro.name = $3))
       OR ($2::text = 'group' AND EXISTS (SELECT 1 FROM authd.groups g WHERE g.realm_id = r.id AND g.name = $3))
       OR ($2::text = 'user' AND EXISTS (SELECT 1 FROM authd.users u WHERE u.realm_id = r.id AND u.authid = $3)))`,
    [realm, owner.kind, ownerName(owner)],
  );
  return rows.length > 0;
}

/** Roles of a realm (the sessions' realm: overrides apply) that have a rule with cache: true. */
export async function rolesWithCachedRules(db: Queryable, realm: string): Promise<string[]> {
  const { rows } = await db.query<{ role: string }>(
    `SELECT DISTINCT ro.name AS role FROM authd.permissions p JOIN authd.roles ro ON ro.id = p.role_id JOIN authd.realms r ON r.id = ro.realm_id
      WHERE r.name = $1 AND p.cache ORDER BY 1`,
    [realm],
  );
  return rows.map((r) => r.role);
}

/* ---- Groups ---- */

export interface GroupInfo {
  realm: string;
  name: string;
  users: number;
  subgroups: number;
  /** Groups this group is directly inside. */
  parents: string[];
  rules: number;
}

export async function addGroup(db: Queryable, realm: string, name: string): Promise<boolean> {
  const id = await realmId(db, realm);
  const { rowCount } = await db.query("INSERT INTO authd.groups (realm_id, name) VALUES ($1, $2) ON CONFLICT (realm_id, name) DO NOTHING", [
    id,
    name,
  ]);
  return (rowCount ?? 0) > 0;
}

export async function removeGroup(db: Queryable, realm: string, name: string): Promise<boolean> {
  const { rowCount } = await db.query(
    "DELETE FROM authd.groups g USING authd.realms r WHERE g.realm_id = r.id AND r.name = $1 AND g.name = $2",
    [realm, name],
  );
  return (rowCount ?? 0) > 0;
}

export async function listGroups(db: Queryable, realm: string | null): Promise<GroupInfo[]> {
  const { rows } = await db.query<GroupInfo>(
    `SELECT r.name AS realm, g.name,
            (SELECT count(*)::int FROM authd.group_members m WHERE m.group_id = g.id) AS users,
            (SELECT count(*)::int FROM authd.group_subgroups s WHERE s.group_id = g.id) AS subgroups,
            ARRAY(SELECT pg.name FROM authd.group_subgroups s JOIN authd.groups pg ON pg.id = s.group_id
                   WHERE s.subgroup_id = g.id ORDER BY pg.name) AS parents,
            (SELECT count(*)::int FROM authd.permissions p WHERE p.group_id = g.id) AS rules
       FROM authd.groups g JOIN authd.realms r ON r.id = g.realm_id
      WHERE ($1::text IS NULL OR r.name = $1)
      ORDER BY r.name, g.name`,
    [realm],
  );
  return rows;
}

export interface GroupMembers {
  /** Stored authids of the users directly in the group. */
  users: string[];
  /** Groups directly inside it. */
  groups: string[];
}

export async function groupMembers(db: Queryable, realm: string, group: string): Promise<GroupMembers | null> {
  const { rows } = await db.query<{ id: number }>(
    "SELECT g.id FROM authd.groups g JOIN authd.realms r ON r.id = g.realm_id WHERE r.name = $1 AND g.name = $2",
    [realm, group],
  );
  const id = rows[0]?.id;
  if (id === undefined) return null;
  const users = await db.query<{ authid: string }>(
    "SELECT u.authid FROM authd.group_members m JOIN authd.users u ON u.id = m.user_id WHERE m.group_id = $1 ORDER BY u.authid",
    [id],
  );
  const groups = await db.query<{ name: string }>(
    "SELECT g.name FROM authd.group_subgroups s JOIN authd.groups g ON g.id = s.subgroup_id WHERE s.group_id = $1 ORDER BY g.name",
    [id],
  );
  return { users: users.rows.map((r) => r.authid), groups: groups.rows.map((r) => r.name) };
}

/** Puts a user (by stored authid) into a group; false when it already was. */
export async function addGroupUser(db: Queryable, realm: string, group: string, authid: string): Promise<boolean> {
  const { rowCount } = await db.query(
    `INSERT INTO authd.group_members (group_id, user_id)
     SELECT g.id, u.id FROM authd.groups g JOIN authd.realms r ON r.id = g.realm_id JOIN authd.users u ON u.realm_id = r.id
      WHERE r.name = $1 AND g.name = $2 AND u.authid = $3
     ON CONFLICT DO NOTHING`,
    [realm, group, authid],
  );
  return (rowCount ?? 0) > 0;
}

export async function removeGroupUser(db: Queryable, realm: string, group: string, authid: string): Promise<boolean> {
  const { rowCount } = await db.query(
    `DELETE FROM authd.group_members m USING authd.groups g, authd.realms r, authd.users u
      WHERE m.group_id = g.id AND g.realm_id = r.id AND m.user_id = u.id AND r.name = $1 AND g.name = $2 AND u.authid = $3`,
    [realm, group, authid],
  );
  return (rowCount ?? 0) > 0;
}

/** Puts group `sub` inside group `group` (the store refuses cycles); false when it already was. */
export async function addSubgroup(db: Queryable, realm: string, group: string, sub: string): Promise<boolean> {
  const { rowCount } = await db.query(
    `INSERT INTO authd.group_subgroups (group_id, subgroup_id)
     SELECT g.id, s.id FROM authd.groups g JOIN authd.realms r ON r.id = g.realm_id JOIN authd.groups s ON s.realm_id = r.id
      WHERE r.name = $1 AND g.name = $2 AND s.name = $3
     ON CONFLICT DO NOTHING`,
    [realm, group, sub],
  );
  return (rowCount ?? 0) > 0;
}

export async function removeSubgroup(db: Queryable, realm: string, group: string, sub: string): Promise<boolean> {
  const { rowCount } = await db.query(
    `DELETE FROM authd.group_subgroups x USING authd.groups g, authd.groups s, authd.realms r
      WHERE x.group_id = g.id AND x.subgroup_id = s.id AND g.realm_id = r.id AND r.name = $1 AND g.name = $2 AND s.name = $3`,
    [realm, group, sub],
  );
  return (rowCount ?? 0) > 0;
}

/** The groups a user (by stored authid) is directly in. */
export async function userGroups(db: Queryable, realm: string, authid: string): Promise<string[]> {
  const { rows } = await db.query<{ name: string }>(
    `SELECT g.name FROM authd.group_members m JOIN authd.groups g ON g.id = m.group_id JOIN authd.users u ON u.id = m.user_id
       JOIN authd.realms r ON r.id = u.realm_id WHERE r.name = $1 AND u.authid = $2 ORDER BY g.name`,
    [realm, authid],
  );
  return rows.map((r) => r.name);
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
