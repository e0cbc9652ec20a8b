import type { Logger } from "../log/logger.js";
import { ping, type Queryable } from "../store/queries.js";

export interface StoreHealthOptions {
  db: Queryable;
  log: Logger;
  /** Mirrors reachability into a metric (authd_store_up). */
  gauge: { set(value: number): void };
  /** What authorization does meanwhile, for the log line when the store goes away. */
  whenStoreDown: string;
}

/**
 * Whether the store is reachable, as the LISTEN connection and readiness probes know it. Logins fail
 * closed while it is down; fail-closed authorization reads it on every decision.
 */
export class StoreHealth {
  private reachable = false;
  /** Set by markDown: only a recovery is worth a log line, not the first connection. */
  private wasDown = false;

  constructor(private readonly o: StoreHealthOptions) {}

  get up(): boolean {
    return this.reachable;
  }

  /** The LISTEN connection (or the first load) reached the store. */
  markUp(): void {
    if (!this.reachable && this.wasDown) this.o.log.info("store reachable again: reloading the permission index");
    this.set(true);
  }

  /** The LISTEN connection was lost: logged once per outage. */
  markDown(): void {
    this.wasDown = true;
    if (this.reachable) {
      this.o.log.error(
        { whenStoreDown: this.o.whenStoreDown },
        "store unreachable: logins are denied (unavailable) until it is back; authorize serves the in-memory index (serve-stale) or denies (fail-closed)",
      );
    }
    this.set(false);
  }

  /**
   * A readiness probe: pings the store. A failed ping marks it down at once; a good one marks it up
   * again only when the LISTEN connection is back too (else changes would go unnoticed).
   */
  async probe(listenerConnected: boolean): Promise<boolean> {
    let ok: boolean;
    try {
      await ping(this.o.db);
      ok = true;
    } catch {
      ok = false;
    }
    if (!ok && this.reachable) this.set(false);
    else if (ok && !this.reachable && listenerConnected) this.set(true);
    return ok;
  }

  private set(up: boolean): void {
    this.reachable = up;
    this.o.gauge.set(up ? 1 : 0);
  }
}
