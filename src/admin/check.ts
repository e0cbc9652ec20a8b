/**
 * Answers "would this be allowed?" with the router's own code path: the PermissionIndex built from
 * the same rows the service loads, queried with the same decide() the authorizer calls.
 */
import { PermissionIndex } from "../authorize/permissionIndex.js";
import type { Action, Rule } from "../authorize/rules.js";
import * as q from "../store/adminQueries.js";
import { loadPermissions } from "../store/queries.js";
import { AdminError, type AdminContext } from "./context.js";
import { cacheWarning } from "./roles.js";
import { action as parseAction, requestUri } from "./parse.js";

export interface CheckInput {
  realm: string;
  authid?: string;
  role?: string;
  uri: string;
  action: string;
}

export interface CheckResult {
  /** The realm the session would be in (a user's realm override moves it). */
  realm: string;
  role: string;
  authid: string | null;
  uri: string;
  action: Action;
  allow: boolean;
  disclose: boolean;
  cache: boolean;
  /** The deciding rule, or null for the default deny. */
  rule: { id: number; uri: string; match: string; allow: Record<Action, boolean>; disclose: Rule["disclose"]; cache: boolean } | null;
  /** Why it was denied without a rule (unknown role, disabled user, ...). */
  note: string | null;
  warnings: string[];
}

export async function check(ctx: AdminContext, c: CheckInput): Promise<CheckResult> {
  const act = parseAction(c.action);
  const uri = requestUri(c.uri);
  if ((c.authid === undefined) === (c.role === undefined)) throw new AdminError("give either an authid or --role");
  let realm = c.realm;
  let role = c.role ?? "";
  let note: string | null = null;
  if (c.authid !== undefined) {
    const u = await q.findUser(ctx.pool, c.realm, c.authid);
    if (!u) throw new AdminError(`no user "${c.authid}" in realm "${c.realm}"`);
    realm = u.realm_override ?? u.realm;
    role = u.role;
    if (u.disabled) note = "the user is disabled and cannot log in";
  }
  const index = PermissionIndex.fromRows(await loadPermissions(ctx.pool));
  if (!index.hasRole(realm, role)) note = `role "${role}" does not exist in realm "${realm}": every action is denied`;
  const v = index.decide(realm, role, uri, act);
  const warnings: string[] = [];
  if (v.rule?.cache) warnings.push(cacheWarning(realm, role, v.rule.uri, v.rule.match, false));
  return {
    realm,
    role,
    authid: c.authid ?? null,
    uri,
    action: act,
    allow: v.allow,
    disclose: v.disclose,
    cache: v.cache,
    rule: v.rule
      ? { id: v.rule.id, uri: v.rule.uri, match: v.rule.match, allow: v.rule.allow, disclose: v.rule.disclose, cache: v.rule.cache }
      : null,
    note,
    warnings,
  };
}
