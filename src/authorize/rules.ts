/** Permission rules as stored, and the decision shape the router receives. */

export type MatchKind = "exact" | "prefix" | "wildcard";
export type Action = "call" | "register" | "publish" | "subscribe";
export const ACTIONS: readonly Action[] = ["call", "register", "publish", "subscribe"];

export interface Rule {
  id: number;
  uri: string;
  match: MatchKind;
  allow: Record<Action, boolean>;
  disclose: { caller: boolean; publisher: boolean };
  cache: boolean;
}

/** What Crossbar's authorizer contract accepts: only allow/disclose/cache (always all three). */
export interface Decision {
  allow: boolean;
  disclose: boolean;
  cache: boolean;
}

export interface Verdict extends Decision {
  /** The rule that decided, or null when nothing matched (default deny). */
  rule: Rule | null;
}

export function isAction(value: unknown): value is Action {
  return value === "call" || value === "register" || value === "publish" || value === "subscribe";
}

export function decisionFor(rule: Rule, action: Action): Decision {
  const disclose = action === "call" ? rule.disclose.caller : action === "publish" ? rule.disclose.publisher : false;
  return { allow: rule.allow[action], disclose, cache: rule.cache };
}
