import type { MatchKind } from "../authorize/rules.js";
import * as q from "../store/adminQueries.js";
import { AdminError, change, type AdminContext } from "./context.js";
import { realmName, roleName } from "./parse.js";

export async function addRole(ctx: AdminContext, realm: string, role: string, killOnChange: boolean): Promise<void> {
  realmName(realm);
  roleName(role);
  await change(ctx, { action: "role.add", realm, detail: { role, kill_on_change: killOnChange } }, async (db) => {
    if (!(await q.realmExists(db, realm))) throw new AdminError(`no realm named "${realm}"`);
    await q.addRole(db, realm, role, killOnChange);
  });
}

export async function listRoles(ctx: AdminContext, realm: string | null): Promise<q.RoleInfo[]> {
  if (realm !== null && !(await q.realmExists(ctx.pool, realm))) throw new AdminError(`no realm named "${realm}"`);
  return q.listRoles(ctx.pool, realm);
}

export async function removeRole(ctx: AdminContext, realm: string, role: string): Promise<void> {
  await change(ctx, { action: "role.remove", realm, detail: { role } }, async (db) => {
    if (!(await q.removeRole(db, realm, role))) throw new AdminError(`no role "${role}" in realm "${realm}"`);
  });
}

/**
 * What an operator must know about a rule with cache: true. Crossbar caches authorizer answers
 * router-wide under (realm, role, uri, action) with no purge (router.py `_authorization_cache`):
 * every session of the role, new ones included, gets the cached answer until the router restarts.
 */
export function cacheWarning(realm: string, role: string, uri: string, match: MatchKind, changed = true): string {
  const rule = `rule ${match} "${uri}" of role "${role}" in realm "${realm}" has cache: true: Crossbar keeps its answers router-wide for every session of the role, new ones included, and cannot purge them.`;
  const apply = `${changed ? "This change" : "A change to it"} reaches the router only when Crossbar restarts (or the role is removed from the realm in Crossbar); closing or reconnecting sessions does not help.`;
  return `${rule} ${apply}`;
}
