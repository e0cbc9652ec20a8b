import { createHmac } from "node:crypto";
import type { Config } from "../config/load.js";
import type { DenyCode } from "../errors/authErrors.js";
import type { Logger } from "../log/logger.js";
import type { Queryable } from "../store/queries.js";
import { clearFailures, lockedUntil, recordFailure, throttleSecret, type ThrottleKey } from "../store/throttleQueries.js";
import { peerKey } from "./peer.js";
import type { AuthRequest } from "./request.js";

/** What the authenticator asks before and after a login attempt. */
export interface LoginGuard {
  /** True when the account or the client address is locked out: deny without any KDF work. */
  isLocked(req: AuthRequest): Promise<boolean>;
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
 */
export class PostgresThrottle implements LoginGuard {
  private secret: Promise<Buffer> | null = null;

  constructor(
    private readonly db: Queryable,
    private readonly t: Config["throttle"],
    private readonly log: Logger,
    private readonly onLockout?: () => void,
  ) {}

  private async keys(req: AuthRequest): Promise<{ own: ThrottleKey | null; bucket: ThrottleKey | null; peer: ThrottleKey | null }> {
    const ip = peerKey(req.details.transport, this.t);
    const peer: ThrottleKey | null = ip ? { scope: "peer", key: ip } : null;
    if (!req.realm || !req.authid) return { own: null, bucket: null, peer };
    return { ...accountKeys(await this.bucketSecret(), this.t.unknownAccountBuckets, req.realm, req.authid), peer };
  }

  /** Read (or created) once; a failed read is retried by the next login. */
  private bucketSecret(): Promise<Buffer> {
    this.secret ??= throttleSecret(this.db).catch((err: unknown) => {
      this.secret = null;
      throw err;
    });
    return this.secret;
  }

  async isLocked(req: AuthRequest): Promise<boolean> {
    const { own, bucket, peer } = await this.keys(req);
    const until = await lockedUntil(
      this.db,
      [own, bucket, peer].filter((k): k is ThrottleKey => k !== null),
    );
    return until !== null;
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
    try {
      const { own } = await this.keys(req);
      if (own) await clearFailures(this.db, own);
    } catch (err) {
      this.log.warn({ err }, "clearing failure counter failed");
    }
  }
}
