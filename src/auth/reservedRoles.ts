import type { Logger } from "../log/logger.js";
import { listReservedRoles, realmsWithRole, reserveRole, type Queryable } from "../store/queries.js";

/**
 * Role names no login may carry: Crossbar's `trusted` (allow-everything), and the service's own
 * static role, which the service learns from the WELCOME the router sends it. A session in that role
 * may register the authenticator and answer `role: trusted` for anyone, so the store must never hand it
 * out: the names go into authd.reserved_roles, whose triggers refuse them in roles, users and anonymous
 * policies, and the authenticator refuses any answer carrying one (rows older than the reservation).
 */
export class ReservedRoles {
  private readonly names = new Set<string>(["trusted"]);

  constructor(
    private readonly db: Queryable,
    private readonly log: Logger,
  ) {}

  has(role: string): boolean {
    return this.names.has(role);
  }

  /** Reads the names reserved in the store (at start; they change only when a service role is noted). */
  async refresh(): Promise<void> {
    for (const name of await listReservedRoles(this.db)) this.names.add(name);
  }

  /** The router welcomed the service with `authrole`: reserve it, and say if the store already uses it. */
  async noteServiceRole(authrole: string | null, realm: string): Promise<void> {
    if (authrole === null) return;
    if (authrole === "trusted") {
      this.log.error(
        { realm },
        "the service joined the router as role trusted: give it a static role of its own (see README, Connecting Crossbar)",
      );
      return;
    }
    const known = this.names.has(authrole);
    this.names.add(authrole);
    if (known) return;
    try {
      await reserveRole(this.db, authrole, "the service's own role");
      const realms = await realmsWithRole(this.db, authrole);
      if (realms.length > 0) {
        this.log.error(
          { role: authrole, realms },
          "the store assigns the service's own role; logins with it are refused. Remove that role from those realms",
        );
      }
    } catch (err) {
      // The in-memory refusal holds anyway; the store's triggers get it on the next join.
      this.log.warn({ err, role: authrole }, "could not record the service's role as reserved");
    }
  }
}
