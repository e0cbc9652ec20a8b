import type { Action, MatchKind, Rule } from "../../src/authorize/rules.js";

let nextId = 1;

function flags(actions: Action[] | "all"): Record<Action, boolean> {
  const all = actions === "all";
  const has = (a: Action) => all || actions.includes(a);
  return { call: has("call"), register: has("register"), publish: has("publish"), subscribe: has("subscribe") };
}

/** A role rule allowing the given actions; no denials, disclose/cache off, no window unless asked. */
export function rule(uri: string, match: MatchKind, actions: Action[] | "all", extra: Partial<Rule> = {}): Rule {
  return {
    id: nextId++,
    uri,
    match,
    allow: flags(actions),
    deny: flags([]),
    disclose: { caller: false, publisher: false },
    cache: false,
    source: "role",
    owner: "user",
    validFrom: null,
    validUntil: null,
    ...extra,
  };
}

/** A rule explicitly denying the given actions (and allowing nothing). */
export function denyRule(uri: string, match: MatchKind, actions: Action[] | "all", extra: Partial<Rule> = {}): Rule {
  return rule(uri, match, [], { deny: flags(actions), ...extra });
}
