import type { Logger } from "../log/logger.js";
import type { Procedure, RouterLink } from "../router/link.js";
import { listRealms, type Queryable } from "../store/queries.js";

export interface AuthorizerRealmsOptions {
  link: RouterLink;
  db: Queryable;
  log: Logger;
  /** router.realms: a fixed list, or empty for "every realm in the store, followed live". */
  configured: readonly string[];
  /** The procedures this service registers in an app realm (the authorizer). */
  procedures: (realm: string) => Procedure[];
  /** A realm became an app realm of this service (its procedures were just added). */
  onServe?: (realm: string) => void;
}

/**
 * Crossbar calls the authorizer from the client's own realm, so the service keeps a session in every
 * app realm: the configured ones, or every realm of the store, including realms added later.
 */
export class AuthorizerRealms {
  private readonly served = new Set<string>();

  constructor(private readonly o: AuthorizerRealmsOptions) {}

  /** Whether this service answers the authorizer of `realm`. */
  has(realm: string): boolean {
    return this.served.has(realm);
  }

  /** True when the realm list follows the store (router.realms is empty). */
  get followsStore(): boolean {
    return this.o.configured.length === 0;
  }

  async start(): Promise<void> {
    const realms = this.followsStore ? (await listRealms(this.o.db)).map((r) => r.name) : this.o.configured;
    for (const realm of realms) this.serve(realm);
  }

  /** A realm added to the store is joined live (when the config does not pin the realm list). */
  added(realm: string): void {
    if (this.followsStore) this.serve(realm);
  }

  /** After a store outage: realms added meanwhile were not announced, join them now. */
  async resync(): Promise<void> {
    if (!this.followsStore) return;
    try {
      for (const r of await listRealms(this.o.db)) this.serve(r.name);
    } catch (err) {
      this.o.log.warn({ err }, "listing realms failed");
    }
  }

  private serve(realm: string): void {
    if (this.served.has(realm)) return;
    this.served.add(realm);
    this.o.link.serve(realm, this.o.procedures(realm));
    this.o.onServe?.(realm);
  }
}
