/**
 * Every realm's roles, each compiled into the role's shared CompiledRules (the `base` of a
 * decision). Immutable: a reload builds a new index and swaps it in whole, so a decision never sees
 * half an update. The store maps its rows to the core's Rule (src/store/permissionRules.ts).
 */
import { type CompiledRules, compileRules } from "./matcher.js";
import type { Action, Rule } from "./rules.js";

export interface RoleRules {
  realm: string;
  role: string;
  rules: readonly Rule[];
  /**
   * Some session of this role may have rules of its own (user or group rules): the role's answers
   * are then session-dependent and never cached by the router. Roles with template rules are
   * treated so anyway.
   */
  sessionRules?: boolean;
}

export class PermissionIndex {
  private readonly realms: Map<string, Map<string, CompiledRules>>;
  /** Per realm, the roles built with `sessionRules: true`. */
  private readonly sessionRoles: ReadonlyMap<string, ReadonlySet<string>>;
  /** Rules given to the index (all windows and templates included). */
  readonly ruleCount: number;
  /** The earliest instant a rule of any role starts or ends, or null: recompile then. */
  readonly nextChange: number | null;

  private constructor(
    realms: Map<string, Map<string, CompiledRules>>,
    ruleCount: number,
    nextChange: number | null,
    sessionRoles: ReadonlyMap<string, ReadonlySet<string>> = new Map(),
  ) {
    this.realms = realms;
    this.sessionRoles = sessionRoles;
    this.ruleCount = ruleCount;
    this.nextChange = nextChange;
  }

  static empty(): PermissionIndex {
    return new PermissionIndex(new Map(), 0, null);
  }

  /** Compiles every role's rules as of `now`. A role listed twice gets the rules of both entries. */
  static build(roles: readonly RoleRules[], now: number = Date.now()): PermissionIndex {
    type Entry = { rules: Rule[]; sessionRules: boolean };
    const grouped = new Map<string, Map<string, Entry>>();
    let count = 0;
    for (const r of roles) {
      let byRole = grouped.get(r.realm);
      if (!byRole) grouped.set(r.realm, (byRole = new Map<string, Entry>()));
      let entry = byRole.get(r.role);
      if (!entry) byRole.set(r.role, (entry = { rules: [], sessionRules: false }));
      for (const rule of r.rules) entry.rules.push(rule);
      entry.sessionRules ||= r.sessionRules === true;
      count += r.rules.length;
    }
    const realms = new Map<string, Map<string, CompiledRules>>();
    const sessionRoles = new Map<string, Set<string>>();
    let next: number | null = null;
    for (const [realm, byRole] of grouped) {
      const compiled = new Map<string, CompiledRules>();
      const withSessionRules = new Set<string>();
      sessionRoles.set(realm, withSessionRules);
      for (const [role, { rules, sessionRules }] of byRole) {
        if (sessionRules) withSessionRules.add(role);
        const set = compileRules(rules, now, { cacheable: !sessionRules });
        compiled.set(role, set);
        if (set.nextChange !== null && (next === null || set.nextChange < next)) next = set.nextChange;
      }
      realms.set(realm, compiled);
    }
    return new PermissionIndex(realms, count, next, sessionRoles);
  }

  hasRealm(realm: string): boolean {
    return this.realms.has(realm);
  }

  hasRole(realm: string, role: string): boolean {
    return this.realms.get(realm)?.has(role) ?? false;
  }

  realmNames(): string[] {
    return [...this.realms.keys()];
  }

  roles(realm: string): string[] {
    return [...(this.realms.get(realm)?.keys() ?? [])];
  }

  /**
   * Whether sessions of the role may have rules of their own: built with `sessionRules`, or the
   * role has template rules. False for unknown roles.
   */
  hasSessionRules(realm: string, role: string): boolean {
    const set = this.rules(realm, role);
    return set !== null && (set.templates.length > 0 || this.sessionRoles.get(realm)?.has(role) === true);
  }

  /** The role's compiled rules, or null when the realm or role is unknown. */
  rules(realm: string, role: string): CompiledRules | null {
    return this.realms.get(realm)?.get(role) ?? null;
  }

  /**
   * Whether the role's own rules allow an exact request, at `now`. Ignores reserved URIs and
   * session rules: for tests and tools that watch a reload land, never for answering the router.
   */
  roleAllows(realm: string, role: string, uri: string, action: Action, now: number = Date.now()): boolean {
    const set = this.rules(realm, role)?.at(now);
    return set ? !set.denyAll && (set.best(uri, false)?.answers[action].allow ?? false) : false;
  }
}
