/**
 * Statements for session rules: groups (with their nesting and rules), the roles whose sessions can
 * have rules of their own, and one session's user(s) with their own rules and direct groups.
 * Parameters only. None of these runs on the authorize path: groups load with the index, users
 * lazily (at login, on a session's join, or on a miss), one (realm, authid) at a time.
 */
import type { MatchKind } from "../authorize/rules.js";
import { RULE_SELECT, type Queryable, type RuleColumns, type RuleDenyWindow } from "./queries.js";

/** One stored rule (any owner) as the rule queries select it. */
export interface StoredRuleRow extends RuleColumns, RuleDenyWindow {
  id: string;
  uri: string;
  match: MatchKind;
}

export interface GroupRow {
  id: number;
  realm: string;
  name: string;
}

export interface GroupRuleRow extends StoredRuleRow {
  group_id: number;
}

export interface GroupData {
  groups: GroupRow[];
  /** `subgroup_id` is inside `group_id`. */
  edges: Array<{ group_id: number; subgroup_id: number }>;
  rules: GroupRuleRow[];
}

/** Every group, every nesting edge and every group rule. */
export async function loadGroups(db: Queryable): Promise<GroupData> {
  const groups = await db.query<GroupRow>(
    "SELECT g.id, r.name AS realm, g.name FROM authd.groups g JOIN authd.realms r ON r.id = g.realm_id ORDER BY g.id",
  );
  const edges = await db.query<{ group_id: number; subgroup_id: number }>(
    "SELECT group_id, subgroup_id FROM authd.group_subgroups ORDER BY group_id, subgroup_id",
  );
  const rules = await db.query<GroupRuleRow>(
    `SELECT p.group_id, ${RULE_SELECT} FROM authd.permissions p WHERE p.group_id IS NOT NULL ORDER BY p.group_id, p.id`,
  );
  return { groups: groups.rows, edges: edges.rows, rules: rules.rows };
}

/** One group's rules (for a change to that group's rules alone). */
export async function loadGroupRules(db: Queryable, groupId: number): Promise<GroupRuleRow[]> {
  const { rows } = await db.query<GroupRuleRow>({
    name: "authd_group_rules",
    text: `SELECT p.group_id, ${RULE_SELECT} FROM authd.permissions p WHERE p.group_id = $1 ORDER BY p.id`,
    values: [groupId],
  });
  return rows;
}

/**
 * (realm, role) pairs some user of which has a rule of its own or a group: the realm and role its
 * sessions have (overrides applied). Those roles' answers depend on the session and are never
 * cached by the router.
 */
export async function loadSessionRoles(db: Queryable): Promise<Array<{ realm: string; role: string }>> {
  const { rows } = await db.query<{ realm: string; role: string }>(
    `SELECT DISTINCT COALESCE(u.realm_override, r.name) AS realm, u.role
       FROM (SELECT user_id FROM authd.permissions WHERE user_id IS NOT NULL
             UNION SELECT user_id FROM authd.group_members) x
       JOIN authd.users u ON u.id = x.user_id
       JOIN authd.realms r ON r.id = u.realm_id`,
  );
  return rows;
}

/** A user a session may belong to, with its own rules and the groups it is directly in. */
export interface SessionUserRow {
  id: string;
  /** The stored authid (before an override). */
  authid: string;
  role: string;
  disabled: boolean;
  extra: Record<string, unknown>;
  rules: StoredRuleRow[];
  groups: number[];
}

const RULE_JSON = `json_build_object('id', p.id::text, 'uri', p.uri, 'match', p.match,
  'allow_call', p.allow_call, 'allow_register', p.allow_register, 'allow_publish', p.allow_publish, 'allow_subscribe', p.allow_subscribe,
  'deny_call', p.deny_call, 'deny_register', p.deny_register, 'deny_publish', p.deny_publish, 'deny_subscribe', p.deny_subscribe,
  'disclose_caller', p.disclose_caller, 'disclose_publisher', p.disclose_publisher, 'cache', p.cache,
  'valid_from', (extract(epoch FROM p.valid_from) * 1000)::float8, 'valid_until', (extract(epoch FROM p.valid_until) * 1000)::float8)`;

/**
 * Every stored user whose sessions have this effective identity: realm and authid after the
 * overrides (usually one; several when overrides map users onto the same identity; beyond 8 the
 * identity is ambiguous anyway). One query, each branch on an index.
 */
export async function findSessionUsers(db: Queryable, realm: string, authid: string): Promise<SessionUserRow[]> {
  const { rows } = await db.query<SessionUserRow>({
    name: "authd_find_session_users",
    text: `WITH cand AS (
        SELECT u.id FROM authd.users u JOIN authd.realms r ON r.id = u.realm_id
         WHERE r.name = $1 AND u.authid = $2 AND u.realm_override IS NULL AND u.authid_override IS NULL
        UNION
        SELECT u.id FROM authd.users u JOIN authd.realms r ON r.id = u.realm_id
         WHERE u.authid_override = $2 AND COALESCE(u.realm_override, r.name) = $1
        UNION
        SELECT u.id FROM authd.users u
         WHERE u.realm_override = $1 AND u.authid = $2 AND u.authid_override IS NULL
      )
      SELECT u.id::text AS id, u.authid, u.role, u.disabled, u.extra,
             COALESCE((SELECT json_agg(${RULE_JSON} ORDER BY p.id) FROM authd.permissions p WHERE p.user_id = u.id), '[]'::json) AS rules,
             ARRAY(SELECT m.group_id FROM authd.group_members m WHERE m.user_id = u.id ORDER BY m.group_id) AS groups
        FROM authd.users u WHERE u.id IN (SELECT id FROM cand)
       ORDER BY u.id
       LIMIT 8`,
    values: [realm, authid],
  });
  return rows;
}
