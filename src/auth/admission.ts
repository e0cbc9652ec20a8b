/**
 * Limits the logins one client address has in flight, before any store or KDF work: a single peer
 * opening thousands of connections gets fast "unavailable" answers for the excess instead of
 * filling the hash queue for everyone. In memory, per instance. Keys are the throttle's canonical
 * peer keys (peer.ts); requests without an address (unix sockets) are not limited.
 */
export class PeerAdmission {
  private readonly inFlight = new Map<string, number>();

  /** limit 0: unlimited. */
  constructor(private readonly limit: number) {}

  /**
   * Takes a slot for `key`: a release function (call it once, when the login's work has ended), or
   * null when the peer already has `limit` logins in flight.
   */
  enter(key: string | null): (() => void) | null {
    if (key === null || this.limit <= 0) return () => undefined;
    const n = this.inFlight.get(key) ?? 0;
    if (n >= this.limit) return null;
    this.inFlight.set(key, n + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.inFlight.get(key) ?? 1) - 1;
      if (left <= 0) this.inFlight.delete(key);
      else this.inFlight.set(key, left);
    };
  }

  /** Logins in flight for `key` (tests, metrics). */
  count(key: string): number {
    return this.inFlight.get(key) ?? 0;
  }

  /** Addresses with logins in flight: the map never outgrows the logins being answered. */
  get peers(): number {
    return this.inFlight.size;
  }
}
