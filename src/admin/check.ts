/**
 * Answers "would this be allowed?" with the router's own code path: the permission index and the
 * groups loaded from the same rows the service loads, the session's overlay built by the same code
 * (user rules, group rules, templates substituted for the session), and the same decide() the
 * authorizer calls, against the configured reserved procedure URIs.
 *
 * With `--authid` the user's session is checked: its role and overrides, its own rules, its groups'
 * rules and the templates. With `--role` only the role's rules answer (templates need a session).
 */
import { Decider } from "../authorize/decide.js";
import { ReservedUris } from "../authorize/reserved.js";
import type { Action, Reason, RequestMatch, Rule, RuleSource } from "../authorize/rules.js";
import { CACHEABLE_ACTIONS, BIT } from "../authorize/matcher.js";
import { resolveUser, sessionOverlay } from "../authorize/userOverlay.js";
import * as q from "../store/adminQueries.js";
import { loadGroupGraph, loadIndex, loadSessionUsers } from "../store/ruleLoaders.js";
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

export interface RuleOut {
  id: number;
  uri: string;
  match: Rule["match"];
  allow: Rule["allow"];
  deny: Rule["deny"];
  disclose: Rule["disclose"];
  cache: boolean;
  /** Where the rule comes from: a role, a group, a user, or a template (substituted for the session). */
  source: RuleSource | "template";
  /** The role's or group's name, or the user's stored authid (for a template: its owner's). */
  owner: string;
  /** For a template: the kind of its owner and the template URI. */
  templateOf: RuleSource | null;
  template: string | null;
  validFrom: number | null;
  validUntil: number | null;
}

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
  /** Why an allowed call/publish is not cached by the router, when it never can be; null otherwise. */
  uncached: string | null;
  /** Why it was denied without a rule (unknown role, disabled user, ...). */
  note: string | null;
  warnings: string[];
}

function ruleOut(r: Rule): RuleOut {
  return {
    id: r.id,
    uri: r.uri,
    match: r.match,
    allow: r.allow,
    deny: r.deny,
    disclose: r.disclose,
    cache: r.cache,
    source: r.template !== undefined ? "template" : r.source,
    owner: r.owner,
    templateOf: r.template !== undefined ? r.source : null,
    template: r.template ?? null,
    validFrom: r.validFrom,
    validUntil: r.validUntil,
  };
}

export async function check(ctx: AdminContext, c: CheckInput): Promise<CheckResult> {
  const act = parseAction(c.action);
  const uri = requestUri(c.uri);
  if ((c.authid === undefined) === (c.role === undefined)) throw new AdminError("give either an authid or --role");
  let realm = c.realm;
  let role = c.role ?? "";
  let sessionAuthid: string | null = null;
  let note: string | null = null;
  if (c.authid !== undefined) {
    const u = await q.findUser(ctx.pool, c.realm, c.authid);
    if (!u) throw new AdminError(`no user "${c.authid}" in realm "${c.realm}"`);
    realm = u.realm_override ?? u.realm;
    role = u.role;
    sessionAuthid = u.authid_override ?? u.authid;
    if (u.disabled) note = "the user is disabled and cannot log in";
  }
  const match = requestMatch(c.match);
  const now = Date.now();
  const { index } = await loadIndex(ctx.pool, now);
  if (!index.hasRole(realm, role)) note = `role "${role}" does not exist in realm "${realm}": every action is denied`;
  const base = index.rules(realm, role);
  let overlay = null;
  if (base !== null && sessionAuthid !== null && index.hasSessionRules(realm, role)) {
    const users = await loadSessionUsers(ctx.pool, realm, sessionAuthid);
    const resolution = resolveUser(users, role);
    if (resolution.kind === "ambiguous")
      note = `users ${resolution.ids.join(", ")} all log in as "${sessionAuthid}" in realm "${realm}" with role "${role}" and differ in rules, groups or extra: their sessions are denied everything`;
    const groups = await loadGroupGraph(ctx.pool);
    overlay = sessionOverlay(
      {
        realm,
        role,
        authid: sessionAuthid,
        resolution,
        groups,
        roleTemplates: base.templates,
        options: { strictUris: ctx.config.authorize.strictUris },
      },
      now,
    );
  }
  const decider = new Decider(ReservedUris.forProcedures(ctx.config.procedures));
  const v = decider.decide(base, overlay, { uri, action: act, match }, now);
  const warnings: string[] = [];
  for (const r of v.rules)
    if (r.cache && r.source === "role" && r.template === undefined) warnings.push(cacheWarning(realm, r.owner, r.uri, r.match, false));
  if (sessionAuthid === null && base !== null && base.templates.length > 0)
    warnings.push(`role "${role}" has template rules, which apply per session: give --authid to see them`);
  let uncached: string | null = null;
  if (v.allow && match === "exact" && (BIT[act] & CACHEABLE_ACTIONS) !== 0 && !v.cache) {
    const why = v.rules.map((r) =>
      r.template !== undefined
        ? "a template rule"
        : r.source !== "role"
          ? `a ${r.source} rule`
          : r.validFrom !== null || r.validUntil !== null
            ? "a rule with a time window"
            : null,
    );
    const first = why.find((w) => w !== null);
    if (first) uncached = `decided by ${first}: answers depending on the session or on time are never cached by the router`;
    else if (v.rules.length > 0 && v.rules.every((r) => r.cache) && index.hasSessionRules(realm, role))
      uncached = `sessions of role "${role}" have rules of their own (user, group or template rules): its answers are never cached by the router`;
  }
  const rules = v.rules.map(ruleOut);
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
    uncached,
    note,
    warnings,
  };
}
