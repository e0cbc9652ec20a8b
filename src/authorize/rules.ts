/**
 * The authorization core's own vocabulary: rules, requests and answers. The core owns these types;
 * the store maps its rows onto them (src/store/permissionRules.ts), never the other way round.
 *
 * A Rule names a URI (`exact`, `prefix` or `wildcard` match) and, per action, whether it allows
 * and whether it explicitly denies. `source`/`owner` say where it came from (a role, a group the
 * user is in, the user itself) for logs and `check`. `validFrom`/`validUntil` (epoch ms, the window
 * [from, until)) make a rule exist only during that time. A URI holding placeholders (`{authid}`,
 * `{realm}`, `{role}`, `{extra.NAME}`) is a template, substituted per session (template.ts).
 */

export type MatchKind = "exact" | "prefix" | "wildcard";
export type Action = "call" | "register" | "publish" | "subscribe";
export const ACTIONS: readonly Action[] = ["call", "register", "publish", "subscribe"];
export type RuleSource = "role" | "group" | "user";

export interface Rule {
  id: number;
  uri: string;
  match: MatchKind;
  allow: Record<Action, boolean>;
  /** Explicit denial: beats any allow at the same specificity (see decide.ts). */
  deny: Record<Action, boolean>;
  disclose: { caller: boolean; publisher: boolean };
  cache: boolean;
  source: RuleSource;
  /** The role name, group name or authid the rule belongs to. */
  owner: string;
  /** Epoch ms; the rule exists from this instant on (null: always has). */
  validFrom: number | null;
  /** Epoch ms; the rule no longer exists from this instant on (null: never expires). */
  validUntil: number | null;
  /** Set on a rule substituted from a template: the template's URI. Such answers are never cached. */
  template?: string;
}

export const NO_ACTIONS: Readonly<Record<Action, boolean>> = Object.freeze({
  call: false,
  register: false,
  publish: false,
  subscribe: false,
});

/** How a SUBSCRIBE/REGISTER names its URI (Crossbar passes it as `options.match`; absent = exact). */
export type RequestMatch = "exact" | "prefix" | "wildcard";

export interface Request {
  /** The URI, or the pattern for a prefix/wildcard request. */
  uri: string;
  action: Action;
  match: RequestMatch;
}

/** What Crossbar's authorizer contract accepts: only allow/disclose/cache (always all three). */
export interface Decision {
  allow: boolean;
  disclose: boolean;
  cache: boolean;
}

/**
 * Why a verdict came out as it did:
 * - `rule`: the deciding rules answered (allow, or deny because they deny or don't mention the action);
 * - `no-match`: no rule matches (default deny);
 * - `pattern-blocked`: a prefix/wildcard request whose covering rule allows, but a more specific
 *   rule that can match some URI of the pattern does not (`rules` are those blocking rules);
 * - `reserved`: the service's own procedure URIs (router-only, or user-facing for anything but call);
 * - `meta-namespace`: a `wamp.` URI only catch-all rules would reach, or a pattern that can match
 *   `wamp.` URIs without being inside `wamp.`;
 * - `invalid-rules`: a rule with an explicit deny could not be interpreted (bad template value,
 *   malformed rule): everything is denied rather than silently dropping the deny;
 * - `invalid-request`, `trusted`, `unknown-role`: set by the Authorizer.
 */
export type Reason =
  | "rule"
  | "no-match"
  | "pattern-blocked"
  | "reserved"
  | "meta-namespace"
  | "invalid-rules"
  | "invalid-request"
  | "trusted"
  | "unknown-role";

export interface Verdict extends Decision {
  /** The deciding rules (one specificity tier, base and session rules merged); empty = default deny. */
  rules: Rule[];
  reason: Reason;
}

export function isAction(value: unknown): value is Action {
  return value === "call" || value === "register" || value === "publish" || value === "subscribe";
}

export function isRequestMatch(value: unknown): value is RequestMatch {
  return value === "exact" || value === "prefix" || value === "wildcard";
}

export function hasWindow(rule: Rule): boolean {
  return rule.validFrom !== null || rule.validUntil !== null;
}

export function deniesAny(rule: Rule): boolean {
  return rule.deny.call || rule.deny.register || rule.deny.publish || rule.deny.subscribe;
}
