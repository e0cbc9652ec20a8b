import type { Config } from "../config/load.js";
import type { Logger } from "../log/logger.js";
import type { Queryable } from "../store/queries.js";
import { clearFailures, lockedUntil, recordFailure, type ThrottleKey } from "../store/throttleQueries.js";
import { peerAddress } from "./peer.js";
import type { AuthRequest } from "./request.js";

/** What the authenticator asks before and after a login attempt. */
export interface LoginGuard {
  /** True when the account or the client address is locked out: deny without any KDF work. */
  isLocked(req: AuthRequest): Promise<boolean>;
  failed(req: AuthRequest): Promise<void>;
  succeeded(req: AuthRequest): Promise<void>;
}

/**
 * Brute-force throttling with counters in Postgres (shared by all instances): per (realm, authid)
 * and per client address, exponential lockout past a threshold.
 */
export class PostgresThrottle implements LoginGuard {
  constructor(
    private readonly db: Queryable,
    private readonly t: Config["throttle"],
    private readonly log: Logger,
    private readonly onLockout?: () => void,
  ) {}

  private keys(req: AuthRequest): { account: ThrottleKey | null; peer: ThrottleKey | null } {
    const ip = peerAddress(req.details.transport, this.t.trustedProxyHeader);
    return {
      account: req.realm && req.authid ? { scope: "account", key: JSON.stringify([req.realm, req.authid]) } : null,
      peer: ip ? { scope: "peer", key: ip } : null,
    };
  }

  async isLocked(req: AuthRequest): Promise<boolean> {
    const { account, peer } = this.keys(req);
    const until = await lockedUntil(
      this.db,
      [account, peer].filter((k): k is ThrottleKey => k !== null),
    );
    return until !== null;
  }

  async failed(req: AuthRequest): Promise<void> {
    const { account, peer } = this.keys(req);
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
    const { account } = this.keys(req);
    if (!account) return;
    await clearFailures(this.db, account).catch((err: unknown) => this.log.warn({ err }, "clearing failure counter failed"));
  }
}
