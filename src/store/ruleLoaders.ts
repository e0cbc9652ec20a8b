/**
 * Store reads turned into the core's structures: the permission index (with which roles' sessions
 * have rules of their own), the group graph, one identity's users. Shared by the service and the
 * `check` command, so both see the same rules.
 */
import { type Group, GroupGraph } from "../authorize/groups.js";
import { PermissionIndex } from "../authorize/permissionIndex.js";
import type { SessionUser } from "../authorize/userOverlay.js";
import { roleRules, storedRule } from "./permissionRules.js";
import { loadPermissions, type Queryable } from "./queries.js";
import {
  findSessionUsers,
  loadGroupRules,
  loadGroups,
  loadSessionRoles,
  type GroupRuleRow,
  type SessionUserRow,
} from "./sessionRuleQueries.js";

/** Roles as the change handling needs them besides their rules. */
export interface RoleTable {
  /** `realm\u0000role` of kill-on-change roles. */
  killOnChange: ReadonlySet<string>;
  byId: ReadonlyMap<number, { realm: string; role: string }>;
}

export function roleKey(realm: string, role: string): string {
  return `${realm}\u0000${role}`;
}

/**
 * `roleKey`s of the roles some user of which has rules of its own or groups (in its session realm).
 * One query over every user rule and membership: about a second with a million users and 300k rules
 * and memberships, so the service runs it at start and after a resync only, and keeps the set up to
 * date from change notifications in between.
 */
export async function loadSessionRoleKeys(db: Queryable): Promise<Set<string>> {
  return new Set((await loadSessionRoles(db)).map((r) => roleKey(r.realm, r.role)));
}

/**
 * The permission index as of `now`; roles with user or group rules among their users (`sessionRoles`,
 * queried when not given) are built with `sessionRules`.
 */
export async function loadIndex(
  db: Queryable,
  now = Date.now(),
  sessionRoles?: ReadonlySet<string>,
): Promise<{ index: PermissionIndex; roles: RoleTable }> {
  // Two queries side by side (a pool runs them on two connections).
  const [rows, flagged] = await Promise.all([loadPermissions(db), sessionRoles ?? loadSessionRoleKeys(db)]);
  const killOnChange = new Set<string>();
  const byId = new Map<number, { realm: string; role: string }>();
  for (const r of rows) {
    byId.set(r.role_id, { realm: r.realm, role: r.role });
    if (r.kill_on_change) killOnChange.add(roleKey(r.realm, r.role));
  }
  const roles = roleRules(rows).map((r) => ({ ...r, sessionRules: flagged.has(roleKey(r.realm, r.role)) }));
  return { index: PermissionIndex.build(roles, now), roles: { killOnChange, byId } };
}

function groupRules(rows: readonly GroupRuleRow[], name: (id: number) => string | undefined): Map<number, ReturnType<typeof storedRule>[]> {
  const out = new Map<number, ReturnType<typeof storedRule>[]>();
  for (const row of rows) {
    const owner = name(row.group_id);
    if (owner === undefined) continue;
    let list = out.get(row.group_id);
    if (!list) out.set(row.group_id, (list = []));
    list.push(storedRule(row, "group", owner));
  }
  return out;
}

/** Every group with its rules and nesting. */
export async function loadGroupGraph(db: Queryable): Promise<GroupGraph> {
  const data = await loadGroups(db);
  const names = new Map(data.groups.map((g) => [g.id, g.name]));
  const rules = groupRules(data.rules, (id) => names.get(id));
  const groups: Group[] = data.groups.map((g) => ({ id: g.id, realm: g.realm, name: g.name, rules: rules.get(g.id) ?? [] }));
  return GroupGraph.build(groups, data.edges);
}

/** `graph` with one group's rules reloaded. */
export async function reloadGroupRules(db: Queryable, graph: GroupGraph, groupId: number): Promise<GroupGraph> {
  const g = graph.group(groupId);
  if (!g) return graph;
  const rows = await loadGroupRules(db, groupId);
  return graph.withRules(groupId, groupRules(rows, () => g.name).get(groupId) ?? []);
}

export function sessionUser(row: SessionUserRow): SessionUser {
  return {
    id: row.id,
    authid: row.authid,
    role: row.role,
    disabled: row.disabled,
    extra: row.extra,
    rules: row.rules.map((r) => storedRule(r, "user", row.authid)),
    groups: row.groups.map(Number),
  };
}

/** The stored users whose sessions have this effective identity. */
export async function loadSessionUsers(db: Queryable, realm: string, authid: string): Promise<SessionUser[]> {
  return (await findSessionUsers(db, realm, authid)).map(sessionUser);
}
