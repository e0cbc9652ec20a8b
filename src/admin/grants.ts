/**
 * Rules (grants) of roles, groups and users: add or replace, remove, list. One transaction and one
 * audit row per change; the store's triggers notify running instances (a role's rules reload the
 * index, a group's or a user's only that group or user).
 */
import type { Action, MatchKind } from "../authorize/rules.js";
import { isTemplate, prefixTemplateWarning } from "../authorize/template.js";
import * as q from "../store/adminQueries.js";
import { AdminError, change, type AdminContext } from "./context.js";
import { instant, ruleUri } from "./parse.js";
import { cacheWarning } from "./roles.js";

export type RuleOwner = q.RuleOwner;

export interface GrantInput {
  uri: string;
  /** omitted: the starred form of `uri` decides */
  match?: string;
  allow: Action[];
  deny?: Action[];
  discloseCaller?: boolean;
  disclosePublisher?: boolean;
  cache?: boolean;
  /** ISO 8601 date or date-time: the rule exists from then on. */
  from?: string;
  /** ISO 8601 date or date-time: the rule no longer exists from then on. */
  until?: string;
}

export interface GrantResult {
  uri: string;
  match: MatchKind;
  replaced: boolean;
  warnings: string[];
}

export function describeOwner(o: RuleOwner): string {
  return o.kind === "user" ? `user "${o.authid}"` : `${o.kind} "${o.name}"`;
}

/**
 * Why the router can never cache answers a rule decides, or null. Crossbar caches per (realm,
 * role, uri, action) for every session of the role, so only role rules that hold at any time for
 * every session qualify.
 */
export function neverCachedReason(r: {
  owner: RuleOwner["kind"];
  uri: string;
  deny: readonly Action[];
  allow: readonly Action[];
  window: boolean;
}): string | null {
  if (r.owner !== "role") return `it is a ${r.owner} rule (answers depend on the session)`;
  if (isTemplate(r.uri)) return "it is a template (answers depend on the session)";
  if (r.window) return "it has a time window";
  if (r.allow.length === 0 && r.deny.length > 0) return "it only denies (denials are never cached)";
  return null;
}

export async function grantRule(ctx: AdminContext, realm: string, owner: RuleOwner, g: GrantInput): Promise<GrantResult> {
  const { uri, match } = ruleUri(g.uri, g.match);
  const deny = g.deny ?? [];
  const both = g.allow.filter((a) => deny.includes(a));
  if (both.length > 0) throw new AdminError(`${both.join(", ")} both allowed and denied: a rule does one or the other per action`);
  if (owner.kind !== "role" && g.cache)
    throw new AdminError(`--cache applies to role rules only: the router caches per role, and a ${owner.kind} rule depends on the session`);
  const validFrom = g.from === undefined ? null : instant(g.from, "--from");
  const validUntil = g.until === undefined ? null : instant(g.until, "--until");
  if (validFrom && validUntil && validFrom >= validUntil) throw new AdminError("--from must be before --until");
  const detail = {
    owner: owner.kind,
    [owner.kind === "user" ? "authid" : owner.kind]: owner.kind === "user" ? owner.authid : owner.name,
    uri,
    match,
    allow: g.allow,
    deny,
    disclose_caller: !!g.discloseCaller,
    disclose_publisher: !!g.disclosePublisher,
    cache: !!g.cache,
    valid_from: validFrom?.toISOString() ?? null,
    valid_until: validUntil?.toISOString() ?? null,
  };
  return change(ctx, { action: "grant.add", realm, ...(owner.kind === "user" ? { authid: owner.authid } : {}), detail }, async (db) => {
    if (!(await q.ownerExists(db, realm, owner))) throw new AdminError(`no ${describeOwner(owner)} in realm "${realm}"`);
    const before = await q.findGrantOf(db, realm, owner, uri, match);
    await q.grantTo(db, realm, owner, {
      uri,
      match,
      allow: g.allow,
      deny,
      discloseCaller: g.discloseCaller,
      disclosePublisher: g.disclosePublisher,
      cache: g.cache,
      validFrom,
      validUntil,
    });
    const warnings: string[] = [];
    // Both the old rule (its cached answers linger) and the new one (its answers will be kept) matter.
    if (owner.kind === "role" && (before?.cache || g.cache)) warnings.push(cacheWarning(realm, owner.name, uri, match));
    const loose = prefixTemplateWarning(uri, match);
    if (loose) warnings.push(loose);
    const never = neverCachedReason({ owner: owner.kind, uri, deny, allow: g.allow, window: validFrom !== null || validUntil !== null });
    if (never && g.cache)
      warnings.push(`--cache has no effect here: answers decided by this rule are never cached by the router (${never})`);
    else if (never && owner.kind !== "role") warnings.push(`answers decided by this rule are never cached by the router (${never})`);
    if (owner.kind !== "role") {
      const cached = await q.rolesWithCachedRules(db, realm);
      if (cached.length > 0)
        warnings.push(
          `role(s) ${cached.join(", ")} of realm "${realm}" have rules with cache: true: answers Crossbar already cached for them apply to every session of the role, this ${owner.kind}'s included, until Crossbar restarts`,
        );
    }
    return { uri, match, replaced: before !== null, warnings };
  });
}

export async function revokeRule(
  ctx: AdminContext,
  realm: string,
  owner: RuleOwner,
  uriText: string,
  matchText?: string,
): Promise<GrantResult> {
  const { uri, match } = ruleUri(uriText, matchText);
  const detail = {
    owner: owner.kind,
    [owner.kind === "user" ? "authid" : owner.kind]: owner.kind === "user" ? owner.authid : owner.name,
    uri,
    match,
  };
  return change(ctx, { action: "grant.revoke", realm, ...(owner.kind === "user" ? { authid: owner.authid } : {}), detail }, async (db) => {
    if (!(await q.ownerExists(db, realm, owner))) throw new AdminError(`no ${describeOwner(owner)} in realm "${realm}"`);
    const before = await q.findGrantOf(db, realm, owner, uri, match);
    if (!before) throw new AdminError(`${describeOwner(owner)} in realm "${realm}" has no ${match} rule for "${uri}"`);
    await q.revokeFrom(db, realm, owner, uri, match);
    const warnings = owner.kind === "role" && before.cache ? [cacheWarning(realm, owner.name, uri, match)] : [];
    return { uri, match, replaced: true, warnings };
  });
}

/** Role rules of a realm/role; with `owner`, that owner's rules; with `all`, every owner's rules. */
export async function listRules(
  ctx: AdminContext,
  o: { realm: string | null; role?: string | null; owner?: RuleOwner; all?: boolean },
): Promise<q.GrantRow[]> {
  if (o.owner) {
    if (o.realm === null) throw new AdminError("give the realm");
    if (!(await q.ownerExists(ctx.pool, o.realm, o.owner))) throw new AdminError(`no ${describeOwner(o.owner)} in realm "${o.realm}"`);
    return q.listOwnedGrants(ctx.pool, o.realm, o.owner);
  }
  if (o.all) return q.listAllGrants(ctx.pool, o.realm);
  return q.listGrants(ctx.pool, o.realm, o.role ?? null);
}
