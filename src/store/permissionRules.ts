/**
 * Maps the store's rule rows (of roles, groups and users) onto the authorization core's Rule. Pure;
 * the core never sees a row.
 */
import type { RoleRules } from "../authorize/permissionIndex.js";
import type { Rule, RuleSource } from "../authorize/rules.js";
import type { PermissionRow, RuleColumns, RuleDenyWindow } from "./queries.js";

type RuleRow = RuleColumns &
  Omit<RuleDenyWindow, "valid_from" | "valid_until"> & { valid_from: unknown; valid_until: unknown } & {
    id: string;
    uri: string;
    match: Rule["match"];
  };

/** A stored rule as the core's Rule, owned by a role, a group or a user. */
export function storedRule(row: RuleRow, source: RuleSource, owner: string): Rule {
  return {
    id: Number(row.id),
    uri: row.uri,
    match: row.match,
    allow: { call: row.allow_call, register: row.allow_register, publish: row.allow_publish, subscribe: row.allow_subscribe },
    deny: { call: row.deny_call, register: row.deny_register, publish: row.deny_publish, subscribe: row.deny_subscribe },
    disclose: { caller: row.disclose_caller, publisher: row.disclose_publisher },
    cache: row.cache,
    source,
    owner,
    validFrom: windowBound(row.valid_from, "from"),
    validUntil: windowBound(row.valid_until, "until"),
  };
}

/**
 * A window bound in epoch ms. Postgres' `infinity` arrives as ±Infinity (or, inside JSON, as the
 * text "Infinity"): an unbounded side is null, a bound that can never be reached (from +infinity,
 * until -infinity) becomes the farthest finite instant, so the rule never exists.
 */
function windowBound(v: unknown, side: "from" | "until"): number | null {
  const n = typeof v === "string" ? Number(v) : v;
  if (typeof n !== "number" || Number.isNaN(n)) return null;
  if (Number.isFinite(n)) return n;
  if (side === "from") return n > 0 ? Number.MAX_SAFE_INTEGER : null;
  return n < 0 ? -Number.MAX_SAFE_INTEGER : null;
}

/** A stored rule of a role as the core's Rule; null for the placeholder row of a role without rules. */
export function toRule(row: PermissionRow): Rule | null {
  if (row.id === null || row.uri === null || row.match === null) return null;
  return storedRule({ ...row, id: row.id, uri: row.uri, match: row.match }, "role", row.role);
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
