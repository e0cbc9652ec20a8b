import type { PermissionIndex } from "../authorize/permissionIndex.js";
import type { Logger } from "../log/logger.js";
import type { SessionRevoker } from "../router/revoker.js";
import type { ChangeEvent } from "../store/changeListener.js";
import { roleById, type Queryable } from "../store/queries.js";

export interface ChangeHandlerOptions {
  db: Queryable;
  log: Logger;
  revoker: SessionRevoker;
  /** The index as it is now (before the reload a change triggers). */
  index: () => PermissionIndex;
  scheduleReload: () => void;
  realmAdded: (realm: string) => void;
  /** Issuers, API tokens and revoked JWT ids changed (reload issuers, end revoked sessions). */
  tokensChanged?: (e: ChangeEvent) => void;
}

/**
 * Turns store change notifications (fired by triggers, so plain SQL counts too) into actions: reload
 * the permission index, join new realms, close the sessions a change revokes.
 */
export class ChangeHandler {
  /** Roles whose rules changed since the last reload (kill-on-change is decided after it). */
  private readonly changedRoles = new Set<number>();

  constructor(private readonly o: ChangeHandlerOptions) {}

  handle(e: ChangeEvent): void {
    if (e.table === "token_issuers" || e.table === "api_tokens" || e.table === "revoked_jtis") this.o.tokensChanged?.(e);
    if (e.table === "roles" || e.table === "permissions" || e.table === "realms") this.o.scheduleReload();
    if (e.table === "permissions" && typeof e.role_id === "number") this.changedRoles.add(e.role_id);
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

  /**
   * After the new rules are in the index: roles flagged kill_on_change lose their live sessions, so
   * clients reconnect under the new rules. (Answers Crossbar cached with cache: true survive this:
   * its cache is router-wide and has no purge.)
   */
  async afterReload(): Promise<void> {
    const ids = [...this.changedRoles];
    this.changedRoles.clear();
    for (const id of ids) {
      try {
        const role = await roleById(this.o.db, id);
        if (role?.kill_on_change) await this.o.revoker.byAuthrole(role.realm, role.name);
      } catch (err) {
        this.o.log.error({ roleId: id, err }, "kill-on-change lookup failed");
      }
    }
  }
}
