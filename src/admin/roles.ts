import type { Action, MatchKind } from "../authorize/rules.js";
import { prefixTemplateWarning } from "../authorize/template.js";
import * as q from "../store/adminQueries.js";
import { AdminError, change, type AdminContext } from "./context.js";
import { realmName, roleName, ruleUri } from "./parse.js";

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

export interface GrantInput {
  uri: string;
  /** omitted: the starred form of `uri` decides */
  match?: string;
  allow: Action[];
  discloseCaller?: boolean;
  disclosePublisher?: boolean;
  cache?: boolean;
}

export interface GrantResult {
  uri: string;
  match: MatchKind;
  replaced: boolean;
  warnings: string[];
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

export async function grant(ctx: AdminContext, realm: string, role: string, g: GrantInput): Promise<GrantResult> {
  const { uri, match } = ruleUri(g.uri, g.match);
  const detail = {
    role,
    uri,
    match,
    allow: g.allow,
    disclose_caller: !!g.discloseCaller,
    disclose_publisher: !!g.disclosePublisher,
    cache: !!g.cache,
  };
  return change(ctx, { action: "grant.add", realm, detail }, async (db) => {
    const roleInfo = (await q.listRoles(db, realm)).find((r) => r.name === role);
    if (!roleInfo) throw new AdminError(`no role "${role}" in realm "${realm}"`);
    const before = await q.findGrant(db, realm, role, uri, match);
    await q.grant(db, realm, role, {
      uri,
      match,
      allow: g.allow,
      discloseCaller: g.discloseCaller,
      disclosePublisher: g.disclosePublisher,
      cache: g.cache,
    });
    // Both the old rule (its cached answers linger) and the new one (its answers will be kept) matter.
    const warnings = before?.cache || g.cache ? [cacheWarning(realm, role, uri, match)] : [];
    const loose = prefixTemplateWarning(uri, match);
    if (loose) warnings.push(loose);
    return { uri, match, replaced: before !== null, warnings };
  });
}

export async function revoke(ctx: AdminContext, realm: string, role: string, uriText: string, matchText?: string): Promise<GrantResult> {
  const { uri, match } = ruleUri(uriText, matchText);
  return change(ctx, { action: "grant.revoke", realm, detail: { role, uri, match } }, async (db) => {
    const roleInfo = (await q.listRoles(db, realm)).find((r) => r.name === role);
    if (!roleInfo) throw new AdminError(`no role "${role}" in realm "${realm}"`);
    const before = await q.findGrant(db, realm, role, uri, match);
    if (!before) throw new AdminError(`role "${role}" in realm "${realm}" has no ${match} rule for "${uri}"`);
    await q.revokeGrant(db, realm, role, uri, match);
    return { uri, match, replaced: true, warnings: before.cache ? [cacheWarning(realm, role, uri, match)] : [] };
  });
}

export async function listGrants(ctx: AdminContext, realm: string | null, role: string | null): Promise<q.GrantRow[]> {
  return q.listGrants(ctx.pool, realm, role);
}
