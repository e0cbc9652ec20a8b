import { createHmac } from "node:crypto";
import type { Config } from "../config/load.js";
import type { DenyCode } from "../errors/authErrors.js";
import type { Logger } from "../log/logger.js";
import type { Queryable } from "../store/queries.js";
import { clearFailures, lockState, recordFailure, type ThrottleKey } from "../store/throttleQueries.js";
import { keyId, PendingCounts, type Hold } from "./pendingCounts.js";
import { peerKey } from "./peer.js";
import { ServiceKey } from "./serviceKey.js";
import type { AuthRequest } from "./request.js";

/** What the authenticator asks before and after a login attempt. */
export interface LoginGuard {
  /**
   * Is the account or the client address locked out (deny without any KDF work)? Stored failures
   * and pending ones (PendingCounts) both count. With `hold`, an attempt that is not locked holds
   * its keys as pending at once, in the same tick as the check, so concurrent attempts see each
   * other: for methods whose proof the router checks, nothing else would stop a burst.
   */
  check(req: AuthRequest, hold: boolean): Promise<{ locked: boolean; hold: Hold | null }>;
  /** Holds the keys a failure of this request with `code` would be counted on, until released. */
  holdFor(req: AuthRequest, code: "account" | "unknown"): Promise<Hold>;
  /** A denial (`code` says whether a known account was refused). */
  failed(req: AuthRequest, code: DenyCode): Promise<void>;
  succeeded(req: AuthRequest): Promise<void>;
}

/**
 * The account keys of a request: its own, `[realm, authid]` (failures of known accounts), and the
 * bucket that (realm, authid) falls in when the account is unknown. Unknown names share
 * `buckets` counters, chosen by a keyed hash (HMAC with a secret kept in the store, so an attacker
 * cannot compute which names share a bucket): random authids cannot grow the table.
 *
 * The lock check consults both keys for every request, known or not, before any lookup: a name's
 * lockout depends only on failures made with it (and, rarely, on unknown names in its bucket), so
 * probing a name until it locks shows the same behaviour whether it exists or not.
 */
export function accountKeys(secret: Buffer, buckets: number, realm: string, authid: string): { own: ThrottleKey; bucket: ThrottleKey } {
  const own = JSON.stringify([realm, authid]);
  const n = createHmac("sha256", secret).update(own).digest().readUInt32BE(0) % Math.max(1, buckets);
  return { own: { scope: "account", key: own }, bucket: { scope: "account", key: `unknown:${n}` } };
}

/**
 * Brute-force throttling with counters in Postgres (shared by all instances): per (realm, authid)
 * (unknown accounts per bucket) and per client address, exponential lockout past a threshold.
 * Pending failures (answers whose proof the router still checks) live in memory, per instance.
 */
type RequestKeys = { own: ThrottleKey | null; bucket: ThrottleKey | null; peer: ThrottleKey | null };

export class PostgresThrottle implements LoginGuard {
  /**
   * Per request: its keys (check, holdFor, failed and succeeded of one login all need them; the
   * account key costs an HMAC), and whether its account had a stored counter when it was checked.
   */
  private readonly seen = new WeakMap<AuthRequest, { keys: Promise<RequestKeys>; ownCounter?: boolean }>();
  private readonly key: ServiceKey;
  readonly pending: PendingCounts;

  constructor(
    private readonly db: Queryable,
    private readonly t: Config["throttle"],
    private readonly log: Logger,
    private readonly onLockout?: () => void,
    shared: { key?: ServiceKey; pending?: PendingCounts } = {},
  ) {
    this.key = shared.key ?? new ServiceKey(db);
    this.pending = shared.pending ?? new PendingCounts();
  }

  private entry(req: AuthRequest): { keys: Promise<RequestKeys>; ownCounter?: boolean } {
    let e = this.seen.get(req);
    if (!e) {
      const keys = this.computeKeys(req);
      // A failed key read (the store is away) is not remembered: a later call tries again.
      keys.catch(() => this.seen.delete(req));
      e = { keys };
      this.seen.set(req, e);
    }
    return e;
  }

  private keys(req: AuthRequest): Promise<RequestKeys> {
    return this.entry(req).keys;
  }

  private async computeKeys(req: AuthRequest): Promise<RequestKeys> {
    const ip = peerKey(req.details.transport, this.t);
    const peer: ThrottleKey | null = ip ? { scope: "peer", key: ip } : null;
    if (!req.realm || !req.authid) return { own: null, bucket: null, peer };
    return { ...accountKeys(await this.key.get(), this.t.unknownAccountBuckets, req.realm, req.authid), peer };
  }

  async check(req: AuthRequest, hold: boolean): Promise<{ locked: boolean; hold: Hold | null }> {
    const entry = this.entry(req);
    const { own, bucket, peer } = await entry.keys;
    const keys = [own, bucket, peer].filter((k): k is ThrottleKey => k !== null);
    const stored = await lockState(this.db, keys, this.t.windowMs);
    // Most good logins have no counter to clear: remember, and spare them the DELETE (succeeded).
    entry.ownCounter = own !== null && stored.has(keyId(own));
    // From here to the hold nothing awaits: concurrent attempts are checked one after the other.
    const locked = keys.some((k) => {
      const s = stored.get(keyId(k));
      const pending = this.pending.count(k);
      const threshold = k.scope === "peer" ? this.t.peerThreshold : this.t.accountThreshold;
      // With nothing pending the stored lock alone decides (after a lock expires, one attempt at a
      // time gets through, as for tickets); pending attempts count as the failures they may become.
      return (s?.locked ?? false) || (pending > 0 && (s?.failures ?? 0) + pending > threshold);
    });
    if (locked) return { locked, hold: null };
    return { locked, hold: hold ? this.pending.hold(keys) : null };
  }

  async holdFor(req: AuthRequest, code: "account" | "unknown"): Promise<Hold> {
    const { own, bucket, peer } = await this.keys(req);
    return this.pending.hold([code === "account" ? own : bucket, peer].filter((k): k is ThrottleKey => k !== null));
  }

  async failed(req: AuthRequest, code: DenyCode): Promise<void> {
    const { own, bucket, peer } = await this.keys(req);
    const account = code === "account" ? own : bucket;
    const base = { windowMs: this.t.windowMs, baseLockMs: this.t.baseLockMs, maxLockMs: this.t.maxLockMs };
    const locks = await Promise.all([
      account ? recordFailure(this.db, account, { ...base, threshold: this.t.accountThreshold }) : null,
      peer ? recordFailure(this.db, peer, { ...base, threshold: this.t.peerThreshold }) : null,
    ]);
    if (locks.some((l) => l !== null)) {
      this.onLockout?.();
      this.log.warn(
        { realm: req.realm, authid: req.authid, peer: peer?.key, until: locks.find((l) => l)?.toISOString() },
        "login locked out",
      );
    }
  }

  /** Never rejects: a failed clean-up must not turn a good login into a denial. */
  async succeeded(req: AuthRequest): Promise<void> {
    // No counter when this login was checked: nothing to clear. (One that other clients' failures
    // created meanwhile stays; clearing is a courtesy to the user who proved the credential.)
    if (this.seen.get(req)?.ownCounter === false) return;
    try {
      const { own } = await this.keys(req);
      if (own) await clearFailures(this.db, own);
    } catch (err) {
      this.log.warn({ err }, "clearing failure counter failed");
    }
  }
}
