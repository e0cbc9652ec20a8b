import { NO_MATCH, RoleMatcher } from "./matcher.js";
import type { Action, Decision, Rule, Verdict } from "./rules.js";
import type { PermissionRow } from "../store/queries.js";

const NO_ROLE: Verdict = { ...NO_MATCH, rule: null };

/**
 * All realms' roles, each compiled into a RoleMatcher. Immutable: a reload builds a new index and
 * swaps it in whole, so a decision never sees half an update.
 */
export class PermissionIndex {
  private readonly realms: Map<string, Map<string, RoleMatcher>>;
  readonly ruleCount: number;

  private constructor(realms: Map<string, Map<string, RoleMatcher>>, ruleCount: number) {
    this.realms = realms;
    this.ruleCount = ruleCount;
  }

  static empty(): PermissionIndex {
    return new PermissionIndex(new Map(), 0);
  }

  static fromRows(rows: readonly PermissionRow[]): PermissionIndex {
    const grouped = new Map<string, Map<string, Rule[]>>();
    let count = 0;
    for (const row of rows) {
      let roles = grouped.get(row.realm);
      if (!roles) grouped.set(row.realm, (roles = new Map()));
      let rules = roles.get(row.role);
      if (!rules) roles.set(row.role, (rules = []));
      if (row.id === null || row.uri === null || row.match === null) continue;
      rules.push({
        id: Number(row.id),
        uri: row.uri,
        match: row.match,
        allow: { call: row.allow_call, register: row.allow_register, publish: row.allow_publish, subscribe: row.allow_subscribe },
        disclose: { caller: row.disclose_caller, publisher: row.disclose_publisher },
        cache: row.cache,
      });
      count++;
    }
    const realms = new Map<string, Map<string, RoleMatcher>>();
    for (const [realm, roles] of grouped) {
      const compiled = new Map<string, RoleMatcher>();
      for (const [role, rules] of roles) compiled.set(role, new RoleMatcher(rules));
      realms.set(realm, compiled);
    }
    return new PermissionIndex(realms, count);
  }

  hasRealm(realm: string): boolean {
    return this.realms.has(realm);
  }

  hasRole(realm: string, role: string): boolean {
    return this.realms.get(realm)?.has(role) ?? false;
  }

  roles(realm: string): string[] {
    return [...(this.realms.get(realm)?.keys() ?? [])];
  }

  /** The router's answer (a shared frozen object); unknown realm or role: deny, uncached. */
  answer(realm: string, role: string, uri: string, action: Action): Decision {
    const matcher = this.realms.get(realm)?.get(role);
    return matcher ? matcher.answer(uri, action) : NO_MATCH;
  }

  decide(realm: string, role: string, uri: string, action: Action): Verdict {
    const matcher = this.realms.get(realm)?.get(role);
    return matcher ? matcher.decide(uri, action) : NO_ROLE;
  }
}
