/**
 * Answers "would this be allowed?" with the router's own code path: the PermissionIndex built from
 * the same rows the service loads, queried with the same decide() the authorizer calls, against
 * the configured reserved procedure URIs. Session rules (users, groups, templates) are not part of
 * it yet: the answer is the role's.
 */
import { Decider } from "../authorize/decide.js";
import { PermissionIndex } from "../authorize/permissionIndex.js";
import { ReservedUris } from "../authorize/reserved.js";
import type { Action, Reason, RequestMatch, Rule } from "../authorize/rules.js";
import * as q from "../store/adminQueries.js";
import { roleRules } from "../store/permissionRules.js";
import { loadPermissions } from "../store/queries.js";
import { AdminError, type AdminContext } from "./context.js";
import { cacheWarning } from "./roles.js";
import { action as parseAction, requestMatch, requestUri } from "./parse.js";

export interface CheckInput {
  realm: string;
  authid?: string;
  role?: string;
  uri: string;
  action: string;
  /** exact (default), prefix or wildcard: a pattern subscription/registration */
  match?: string;
}

type RuleOut = Pick<
  Rule,
  "id" | "uri" | "match" | "allow" | "deny" | "disclose" | "cache" | "source" | "owner" | "validFrom" | "validUntil"
>;

export interface CheckResult {
  /** The realm the session would be in (a user's realm override moves it). */
  realm: string;
  role: string;
  authid: string | null;
  uri: string;
  action: Action;
  match: RequestMatch;
  allow: boolean;
  disclose: boolean;
  cache: boolean;
  /** Why: a rule decided, no rule matches, a reserved URI, the wamp. namespace, a pattern blocked beneath its cover, ... */
  reason: Reason;
  /** The deciding rules (one specificity tier; for a blocked pattern the blocking ones); empty for the default deny. */
  rules: RuleOut[];
  /** The first of `rules`, or null. */
  rule: RuleOut | null;
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
  const match = requestMatch(c.match);
  const index = PermissionIndex.build(roleRules(await loadPermissions(ctx.pool)), Date.now());
  if (!index.hasRole(realm, role)) note = `role "${role}" does not exist in realm "${realm}": every action is denied`;
  const decider = new Decider(ReservedUris.forProcedures(ctx.config.procedures));
  const v = decider.decide(index.rules(realm, role), null, { uri, action: act, match }, Date.now());
  const warnings: string[] = [];
  for (const r of v.rules) if (r.cache) warnings.push(cacheWarning(realm, role, r.uri, r.match, false));
  const rules = v.rules.map((r): RuleOut => ({
    id: r.id,
    uri: r.uri,
    match: r.match,
    allow: r.allow,
    deny: r.deny,
    disclose: r.disclose,
    cache: r.cache,
    source: r.source,
    owner: r.owner,
    validFrom: r.validFrom,
    validUntil: r.validUntil,
  }));
  return {
    realm,
    role,
    authid: c.authid ?? null,
    uri,
    action: act,
    match,
    allow: v.allow,
    disclose: v.disclose,
    cache: v.cache,
    reason: v.reason,
    rules,
    rule: rules[0] ?? null,
    note,
    warnings,
  };
}
