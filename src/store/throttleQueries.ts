/** SQL for brute-force throttling. Counters live in Postgres so every instance shares them. */
import { randomBytes } from "node:crypto";
import type { Queryable } from "./queries.js";

export type Scope = "account" | "peer";

export interface ThrottleKey {
  scope: Scope;
  key: string;
}

export interface KeyState {
  /** Failures counted within the window (0 once the window has passed since the last one). */
  failures: number;
  /** A lock is in force now. */
  locked: boolean;
}

/** The counters of the keys that have one, by `scope\u0000key`. */
export async function lockState(db: Queryable, keys: ThrottleKey[], windowMs: number): Promise<Map<string, KeyState>> {
  const out = new Map<string, KeyState>();
  if (keys.length === 0) return out;
  const { rows } = await db.query<{ scope: string; key: string; failures: number; locked: boolean }>({
    name: "authd_lock_state",
    text: `SELECT scope, key,
                  CASE WHEN last_failure < now() - make_interval(secs => $3 / 1000.0) THEN 0 ELSE failures END AS failures,
                  coalesce(locked_until > now(), false) AS locked
             FROM authd.login_failures
            WHERE (scope, key) IN (SELECT * FROM unnest($1::text[], $2::text[]))`,
    values: [keys.map((k) => k.scope), keys.map((k) => k.key), windowMs],
  });
  for (const r of rows) out.set(`${r.scope}\u0000${r.key}`, { failures: Number(r.failures), locked: r.locked });
  return out;
}

export interface FailurePolicy {
  /** Failures allowed in the window before a lock starts. */
  threshold: number;
  windowMs: number;
  baseLockMs: number;
  maxLockMs: number;
}

/**
 * Counts one failure for the key (starting afresh after the window) and, past the threshold,
 * locks it for baseLock * 2^(failures - threshold - 1), capped. Returns the new lock expiry, if any.
 */
export async function recordFailure(db: Queryable, k: ThrottleKey, p: FailurePolicy): Promise<Date | null> {
  const counted = await db.query<{ failures: number }>({
    name: "authd_record_failure",
    text: `INSERT INTO authd.login_failures AS f (scope, key, failures) VALUES ($1, $2, 1)
           ON CONFLICT (scope, key) DO UPDATE SET
             failures = CASE WHEN f.last_failure < now() - make_interval(secs => $3 / 1000.0) THEN 1 ELSE f.failures + 1 END,
             first_failure = CASE WHEN f.last_failure < now() - make_interval(secs => $3 / 1000.0) THEN now() ELSE f.first_failure END,
             last_failure = now()
           RETURNING failures`,
    values: [k.scope, k.key, p.windowMs],
  });
  const failures = counted.rows[0]?.failures ?? 0;
  if (failures <= p.threshold) return null;
  const lockMs = Math.min(p.maxLockMs, p.baseLockMs * 2 ** Math.min(30, failures - p.threshold - 1));
  const locked = await db.query<{ locked_until: Date }>({
    name: "authd_set_lock",
    text: `UPDATE authd.login_failures SET locked_until = now() + make_interval(secs => $3 / 1000.0)
            WHERE scope = $1 AND key = $2 RETURNING locked_until`,
    values: [k.scope, k.key, lockMs],
  });
  return locked.rows[0]?.locked_until ?? null;
}

export async function clearFailures(db: Queryable, k: ThrottleKey): Promise<void> {
  await db.query({
    name: "authd_clear_failures",
    text: "DELETE FROM authd.login_failures WHERE scope = $1 AND key = $2",
    values: [k.scope, k.key],
  });
}

/** Forget counters idle for longer than the window (keeps the table small). */
export async function pruneFailures(db: Queryable, windowMs: number): Promise<number> {
  const { rowCount } = await db.query(
    "DELETE FROM authd.login_failures WHERE last_failure < now() - make_interval(secs => $1 / 1000.0) AND (locked_until IS NULL OR locked_until < now())",
    [windowMs],
  );
  return rowCount ?? 0;
}

/**
 * The key of the unknown-account buckets (auth/throttle.ts), shared by every instance: read from
 * authd.service_secrets, created on first use (several instances racing keep the first one written).
 */
export async function throttleSecret(db: Queryable): Promise<Buffer> {
  const read = async () =>
    (
      await db.query<{ value: Buffer }>({
        name: "authd_throttle_secret",
        text: "SELECT value FROM authd.service_secrets WHERE name = 'throttle.buckets'",
      })
    ).rows[0]?.value ?? null;
  const found = await read();
  if (found) return found;
  await db.query("INSERT INTO authd.service_secrets (name, value) VALUES ('throttle.buckets', $1) ON CONFLICT (name) DO NOTHING", [
    randomBytes(32),
  ]);
  const created = await read();
  if (!created) throw new Error("authd.service_secrets holds no throttle.buckets key");
  return created;
}
