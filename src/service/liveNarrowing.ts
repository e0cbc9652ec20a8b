/**
 * What a change to the rules does to live sessions, whatever changed: a role's rules (after the
 * index reload), one user's rules, groups or extra, a group's rules or nesting, a time window that
 * opened or closed. Sessions whose rules apply are narrowed (router/narrower.ts): every
 * subscription and registration the rules no longer allow is removed, the session stays. Sessions
 * of kill-on-change roles are closed instead (as for their role's rules).
 *
 * Which sessions are touched: only those of roles the router has asked this service to authorize
 * (so sessions of roles with static permissions in the router config are left alone), never the
 * service's own role or `trusted`.
 */
import type { Decider } from "../authorize/decide.js";
import type { GroupGraph } from "../authorize/groups.js";
import type { PermissionIndex } from "../authorize/permissionIndex.js";
import type { Request } from "../authorize/rules.js";
import type { Logger } from "../log/logger.js";
import type { Narrower } from "../router/narrower.js";
import type { SessionRevoker } from "../router/revoker.js";
import type { SessionWatch, WatchedSession } from "../router/sessionWatch.js";
import { type RoleTable, roleKey } from "../store/ruleLoaders.js";
import type { RulePatch } from "./changeHandler.js";
import type { SessionRules } from "./sessionRules.js";
import type { WindowClock, WindowSubject } from "./windowClock.js";

export interface LiveNarrowingOptions {
  index: () => PermissionIndex;
  roles: () => RoleTable;
  sessionRules: SessionRules;
  decider: Decider;
  narrower: () => Narrower;
  watch: SessionWatch;
  revoker: SessionRevoker;
  clock: WindowClock;
  log: Logger;
  /** Sessions of this role now have rules of their own: record it and rebuild the index (its answers must not be cached). */
  flagRole: (realm: string, role: string) => void;
  now?: () => number;
}

export class LiveNarrowing {
  /** Per realm, the roles the router has asked about: those are under this service's authorizer. */
  private readonly authorized = new Map<string, Set<string>>();
  private readonly serviceRoles = new Set<string>(["trusted"]);
  private readonly now: () => number;

  constructor(private readonly o: LiveNarrowingOptions) {
    this.now = o.now ?? Date.now;
  }

  /** The router asked about a session of this role (every authorize call reports it). */
  noteAuthorized(realm: string, role: string): void {
    let roles = this.authorized.get(realm);
    if (!roles) this.authorized.set(realm, (roles = new Set()));
    if (!roles.has(role)) roles.add(role);
  }

  /** The service's own role (from its WELCOME): never narrowed. */
  noteServiceRole(role: string | null): void {
    if (role) this.serviceRoles.add(role);
  }

  /** Sessions of this role may be narrowed. */
  governs(realm: string, role: string): boolean {
    return !this.serviceRoles.has(role) && this.authorized.get(realm)?.has(role) === true;
  }

  private killsOnChange(realm: string, role: string): boolean {
    return this.o.roles().killOnChange.has(roleKey(realm, role));
  }

  /** The authorizer's decision for one of a session's subscriptions/registrations (null: unknown now). */
  async allowed(s: WatchedSession, request: Request): Promise<boolean | null> {
    const index = this.o.index();
    const base = index.rules(s.realm, s.authrole);
    if (base === null) return false;
    let overlay;
    try {
      overlay = await this.o.sessionRules.provider(s.realm, s.authrole, s.authid);
    } catch (err) {
      this.o.log.warn(
        { realm: s.realm, authid: s.authid, err: err instanceof Error ? err.message : String(err) },
        "user rules unavailable; not narrowing",
      );
      return null;
    }
    return this.o.decider.decide(base, overlay, request, this.now()).allow;
  }

  /** After a new index: the sessions of the roles whose rules changed (all roles of the index: "all"). */
  async rolesChanged(roles: ReadonlyArray<{ realm: string; role: string }> | "all"): Promise<void> {
    const byRealm = new Map<string, Set<string>>();
    if (roles === "all") {
      for (const realm of this.authorized.keys()) byRealm.set(realm, new Set(this.authorized.get(realm)));
    } else {
      for (const { realm, role } of roles) {
        if (this.killsOnChange(realm, role)) continue; // closed by the change handler
        let set = byRealm.get(realm);
        if (!set) byRealm.set(realm, (set = new Set()));
        set.add(role);
      }
    }
    await Promise.all(
      [...byRealm].map(([realm, set]) => {
        const roleSet = new Set([...set].filter((r) => !this.killsOnChange(realm, r)));
        return this.o.narrower().sweepRealm(realm, roleSet);
      }),
    );
  }

  /**
   * One identity's rules, groups, extra or users changed (a store notification). `rules`: its rules
   * or groups changed; otherwise (a user row) an identity nobody uses needs nothing.
   */
  async identityChanged(realm: string, authid: string, rules: boolean, patch?: RulePatch): Promise<void> {
    // The changed rule came with the notification: applied to what is cached, no store read.
    const patched = patch !== undefined && this.o.sessionRules.patchRule(realm, authid, patch.userId, patch.op, patch.rule);
    const cached = this.o.sessionRules.cached(realm, authid) !== null;
    if (!patched) this.o.sessionRules.invalidate(realm, authid);
    if (!rules && !cached && this.o.watch.byAuthid(realm, authid).length === 0) return;
    let users;
    try {
      users = await this.o.sessionRules.users(realm, authid);
    } catch (err) {
      this.o.log.warn({ realm, authid, err: err instanceof Error ? err.message : String(err) }, "reloading a user's rules failed");
      return;
    }
    // A role whose users had no rules of their own is answered (and may be cached) without looking at users.
    const index = this.o.index();
    for (const u of users) {
      if ((u.rules.length > 0 || u.groups.length > 0) && index.hasRole(realm, u.role) && !index.hasSessionRules(realm, u.role)) {
        this.o.sessionRules.markPending(realm);
        this.o.flagRole(realm, u.role);
      }
    }
    await this.narrowIdentity(realm, authid);
  }

  /** Groups changed: the identities in the changed groups (or in groups inside them), before or after. */
  async groupsChanged(before: GroupGraph, after: GroupGraph, changed: ReadonlySet<number> | "all"): Promise<void> {
    const reach = changed === "all" ? null : new Set([...before.within(changed), ...after.within(changed)]);
    const identities: Array<{ realm: string; authid: string }> = [];
    for (const e of this.o.sessionRules.loaded()) {
      if (e.users.some((u) => u.groups.length > 0 && (reach === null || u.groups.some((g) => reach.has(g))))) identities.push(e);
    }
    await Promise.all(identities.map((i) => this.narrowIdentity(i.realm, i.authid)));
  }

  /** Time windows passed. */
  async windowsDue(subjects: readonly WindowSubject[]): Promise<void> {
    const now = this.now();
    await Promise.all(
      subjects.map(async (s) => {
        if (s.kind === "role") {
          const set = this.o.index().rules(s.realm, s.role)?.at(now);
          if (set !== undefined && set !== null && set.nextChange !== null) this.o.clock.at(set.nextChange, s);
          if (this.killsOnChange(s.realm, s.role)) {
            if (this.o.watch.sessions(s.realm).some((x) => x.authrole === s.role && this.governs(s.realm, x.authrole)))
              await this.o.revoker.byAuthrole(s.realm, s.role);
            return;
          }
          await this.o.narrower().sweepRealm(s.realm, new Set([s.role]));
        } else {
          await this.narrowIdentity(s.realm, s.authid);
          // The overlays' next window (the provider rebuilds them past their change).
          for (const x of this.o.watch.byAuthid(s.realm, s.authid)) {
            const overlay = await Promise.resolve(this.o.sessionRules.provider(s.realm, x.authrole, s.authid)).catch(() => null);
            const next = overlay ? overlay.at(now).nextChange : null;
            if (next !== null) this.o.clock.at(next, s);
          }
        }
      }),
    );
  }

  private async narrowIdentity(realm: string, authid: string): Promise<void> {
    const sessions = this.o.watch.byAuthid(realm, authid).filter((s) => this.governs(realm, s.authrole));
    if (sessions.length === 0) return;
    if (sessions.some((s) => this.killsOnChange(realm, s.authrole))) {
      await this.o.revoker.byAuthid(realm, authid, "permissions changed");
      return;
    }
    await this.o.narrower().sweepAll(sessions);
  }

  /** A new index is in place: pending flags are settled, role sets with a window ahead get a wake-up. */
  indexLoaded(token: number): void {
    this.o.sessionRules.indexLoaded(token);
    const index = this.o.index();
    for (const realm of index.realmNames()) {
      for (const role of index.roles(realm)) {
        const next = index.rules(realm, role)?.nextChange ?? null;
        if (next !== null) this.o.clock.at(next, { kind: "role", realm, role });
      }
    }
  }
}
