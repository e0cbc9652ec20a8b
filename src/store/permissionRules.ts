/**
 * Maps the store's permission rows onto the authorization core's Rule. Pure; the core never sees a
 * row. Today's columns describe role rules only: no explicit denials, no time window.
 */
import type { RoleRules } from "../authorize/permissionIndex.js";
import type { Rule } from "../authorize/rules.js";
import type { PermissionRow } from "./queries.js";

/** A stored rule of a role as the core's Rule; null for the placeholder row of a role without rules. */
export function toRule(row: PermissionRow): Rule | null {
  if (row.id === null || row.uri === null || row.match === null) return null;
  return {
    id: Number(row.id),
    uri: row.uri,
    match: row.match,
    allow: { call: row.allow_call, register: row.allow_register, publish: row.allow_publish, subscribe: row.allow_subscribe },
    deny: { call: false, register: false, publish: false, subscribe: false },
    disclose: { caller: row.disclose_caller, publisher: row.disclose_publisher },
    cache: row.cache,
    source: "role",
    owner: row.role,
    validFrom: null,
    validUntil: null,
  };
}

/** loadPermissions' rows, grouped per (realm, role) in their order, for PermissionIndex.build. */
export function roleRules(rows: readonly PermissionRow[]): RoleRules[] {
  const out = new Map<string, RoleRules & { rules: Rule[] }>();
  for (const row of rows) {
    const k = `${row.realm}\u0000${row.role}`;
    let entry = out.get(k);
    if (!entry) out.set(k, (entry = { realm: row.realm, role: row.role, rules: [] }));
    const rule = toRule(row);
    if (rule) entry.rules.push(rule);
  }
  return [...out.values()];
}
