import type { PermissionIndex } from "../authorize/permissionIndex.js";
import type { Logger } from "../log/logger.js";
import type { SessionRevoker } from "../router/revoker.js";
import type { ChangeEvent } from "../store/changeListener.js";
import { roleById, type Queryable } from "../store/queries.js";

/** One user rule as a notification carries it (only the id for a DELETE). */
export interface RulePatch {
  userId: string;
  op: string;
  rule: { id: string } & Record<string, unknown>;
}

export interface ChangeHandlerOptions {
  db: Queryable;
  log: Logger;
  revoker: SessionRevoker;
  /** The index as it is now (before the reload a change triggers). */
  index: () => PermissionIndex;
  scheduleReload: () => void;
  /** A realm or role was added, renamed or removed (before the reload it schedules). */
  realmsOrRolesChanged?: () => void;
  realmAdded: (realm: string) => void;
  /** Issuers, API tokens and revoked JWT ids changed (reload issuers, end revoked sessions). */
  tokensChanged?: (e: ChangeEvent) => void;
  /**
   * One identity's (realm and authid after overrides) rules, groups, extra or users changed.
   * `rules`: its rules or groups changed (else only the user row: nothing to do for an identity
   * without cached rules or live sessions). `patch`: the one rule of the user that changed, as the
   * notification carries it.
   */
  identityChanged?: (realm: string, authid: string, rules: boolean, patch?: RulePatch) => void;
  /** One group's rules changed. */
  groupRulesChanged?: (groupId: number) => void;
  /** Groups or their nesting changed. */
  groupsChanged?: () => void;
  /** After a reload: the roles (not kill-on-change) whose rules changed, or "all" when that is not known. */
  rolesChanged?: (roles: Array<{ realm: string; role: string }> | "all") => void;
}

/**
 * Turns store change notifications (fired by triggers, so plain SQL counts too) into actions: reload
 * the permission index (roles' rules), reload one user's or one group's rules (without reloading
 * every realm), join new realms, close the sessions a change revokes, narrow the live sessions a
 * change of rules affects.
 */
export class ChangeHandler {
  /** Roles whose rules changed since the last reload (kill-on-change is decided after it). */
  private readonly changedRoles = new Set<number>();
  /** A change whose roles cannot be named (a role removed or renamed, a realm changed). */
  private allRoles = false;

  constructor(private readonly o: ChangeHandlerOptions) {}

  handle(e: ChangeEvent): void {
    if (e.table === "token_issuers" || e.table === "api_tokens" || e.table === "revoked_jtis") this.o.tokensChanged?.(e);
    switch (e.table) {
      case "realms":
        this.o.realmsOrRolesChanged?.();
        this.o.scheduleReload();
        break;
      case "roles":
        this.o.realmsOrRolesChanged?.();
        this.o.scheduleReload();
        // A role renamed or removed: its sessions cannot be named once the index has moved on.
        if (e.op !== "INSERT") this.allRoles = true;
        break;
      case "permissions":
        for (const id of [e.role_id, e.old_role_id]) {
          if (typeof id !== "number") continue;
          this.o.scheduleReload();
          this.changedRoles.add(id);
        }
        for (const id of [e.group_id, e.old_group_id]) if (typeof id === "number") this.o.groupRulesChanged?.(id);
        if (e.user_id !== null && e.user_id !== undefined) this.identity(e.realm, e.authid, true, patchOf(e));
        if (e.old_user_id !== null && e.old_user_id !== undefined) this.identity(e.old_realm, e.old_authid, true);
        break;
      case "groups":
      case "group_subgroups":
        this.o.groupsChanged?.();
        break;
      case "group_members":
        this.identity(e.realm, e.authid, true);
        break;
      case "users": {
        // A new role or realm override moves the user's rules to another role: check that role's flag too.
        const moved = e.op === "UPDATE" && e.revoke === true;
        this.identity(e.realm, e.authid, moved);
        if (e.old_realm !== e.realm || e.old_authid !== e.authid) this.identity(e.old_realm, e.old_authid, false);
        break;
      }
    }
    if (e.table === "realms" && e.op === "INSERT" && typeof e.realm === "string") this.o.realmAdded(e.realm);
    if (e.table === "realms" && e.op === "DELETE" && typeof e.realm === "string") {
      // Its users' rows go by cascade, when the realm's name is no longer there to revoke by:
      // close the sessions of every role the realm had (the index still holds them until the reload).
      for (const role of this.o.index().roles(e.realm)) void this.o.revoker.byAuthrole(e.realm, role);
    }
    if (e.revoke && typeof e.kill_authid === "string" && typeof e.kill_realm === "string") {
      void this.o.revoker.byAuthid(e.kill_realm, e.kill_authid);
    }
  }

  /** The change feed was interrupted: after the next reload, every governed session is narrowed. */
  resynced(): void {
    this.allRoles = true;
  }

  private identity(realm: unknown, authid: unknown, rules: boolean, patch?: RulePatch): void {
    if (typeof realm === "string" && typeof authid === "string") this.o.identityChanged?.(realm, authid, rules, patch);
  }

  /**
   * After the new rules are in the index: roles flagged kill_on_change lose their live sessions, so
   * clients reconnect under the new rules; the other changed roles' sessions are narrowed. (Answers
   * Crossbar cached with cache: true survive this: its cache is router-wide and has no purge.)
   */
  async afterReload(): Promise<void> {
    const ids = [...this.changedRoles];
    this.changedRoles.clear();
    let all = this.allRoles;
    this.allRoles = false;
    const narrow: Array<{ realm: string; role: string }> = [];
    for (const id of ids) {
      try {
        const role = await roleById(this.o.db, id);
        if (!role) all = true;
        else if (role.kill_on_change) await this.o.revoker.byAuthrole(role.realm, role.name);
        else narrow.push({ realm: role.realm, role: role.name });
      } catch (err) {
        this.o.log.error({ roleId: id, err }, "kill-on-change lookup failed");
        all = true;
      }
    }
    if (all || narrow.length > 0) this.o.rolesChanged?.(all ? "all" : narrow);
  }
}

/** The rule a user-rule notification carries, when it is well-formed (else the user is read again). */
function patchOf(e: ChangeEvent): RulePatch | undefined {
  const rule = e.rule;
  if (typeof rule !== "object" || rule === null || typeof (rule as { id?: unknown }).id !== "string") return undefined;
  if (typeof e.user_id !== "number" && typeof e.user_id !== "string") return undefined;
  return { userId: String(e.user_id), op: e.op, rule: rule as RulePatch["rule"] };
}
