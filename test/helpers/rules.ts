import type { Action, MatchKind, Rule } from "../../src/authorize/rules.js";

let nextId = 1;

/** A rule allowing the given actions; disclose/cache off unless asked. */
export function rule(uri: string, match: MatchKind, actions: Action[] | "all", extra: Partial<Rule> = {}): Rule {
  const all = actions === "all";
  const has = (a: Action) => all || actions.includes(a);
  return {
    id: nextId++,
    uri,
    match,
    allow: { call: has("call"), register: has("register"), publish: has("publish"), subscribe: has("subscribe") },
    disclose: { caller: false, publisher: false },
    cache: false,
    ...extra,
  };
}
