import { deny } from "../errors/authErrors.js";
import type { Principal } from "../auth/method.js";
import type { AuthRequest } from "../auth/request.js";
import type { Logger } from "../log/logger.js";
import type { SessionRevoker } from "../router/revoker.js";
import type { WampSession } from "../router/wamp.js";
import type { Queryable } from "../store/queries.js";
import {
  claimDueSessions,
  deleteTokenSessions,
  expireRevokedSessions,
  forgetEndedSessions,
  insertTokenSession,
  type DueSession,
} from "../store/tokenQueries.js";

export interface TokenSessionsOptions {
  db: Queryable;
  log: Logger;
  revoker: Pick<SessionRevoker, "bySession">;
  /** The service's router session in a realm (for wamp.session.list), or null. */
  session: (realm: string) => WampSession | null;
  /** Realms the service has a router session in. */
  realms: () => string[];
  sweepMs: number;
  reconcileMs: number;
}

/** setTimeout's limit; later expiries are left to the sweep. */
const MAX_TIMER_MS = 2 ** 31 - 1;
const BATCH = 200;
/** A session the router does not know this long after its login never joined (or is long gone). */
const JOIN_GRACE_MS = 30_000;

/**
 * Ends sessions that logged in with a token when the token expires or is revoked, with
 * `wamp.session.kill` (reason wamp.close.logout) on exactly those sessions.
 *
 * Every token login is recorded in authd.token_sessions (its router session id, realm, token and
 * expiry) before the router gets the answer, so this works across restarts and instances:
 * - the instance that answered sets a timer for the expiry;
 * - every instance sweeps due rows every `sweepMs` (claiming them with FOR UPDATE SKIP LOCKED and a
 *   lease, so each session is killed once) — revocations make rows due at once (store triggers) and
 *   NOTIFY makes every instance sweep immediately;
 * - rows of sessions that ended on their own are forgotten by comparing with `wamp.session.list`.
 */
export class TokenSessions {
  private readonly timers = new Map<number, NodeJS.Timeout>();
  private sweepTimer: NodeJS.Timeout | null = null;
  private reconcileTimer: NodeJS.Timeout | null = null;
  private sweeping: Promise<void> | null = null;
  private again = false;
  private stopped = false;

  constructor(private readonly o: TokenSessionsOptions) {}

  /** Binds a token login's session to its token; rejects (the login is denied) when that fails. */
  async track(req: AuthRequest, p: Principal): Promise<void> {
    const t = p.token;
    if (!t) return;
    const sessionId = req.details.session;
    if (sessionId === null) throw deny("token login without a session id to bind its expiry to", "policy");
    const recorded =
      t.recorded ||
      (await insertTokenSession(this.o.db, {
        sessionId,
        realm: p.realm,
        authid: p.authid,
        kind: t.kind,
        tokenId: t.tokenId,
        issuerId: t.issuerId,
        jti: t.jti,
        expiresAt: t.expiresAt,
      }));
    if (!recorded) throw deny("token revoked during the login", "account");
    const delay = t.expiresAt.getTime() - Date.now();
    if (delay <= MAX_TIMER_MS && !this.stopped) {
      clearTimeout(this.timers.get(sessionId));
      const timer = setTimeout(
        () => {
          this.timers.delete(sessionId);
          this.sweepNow();
        },
        // A little after: the sweep asks the database clock whether the row is due.
        Math.max(0, delay) + 100,
      );
      timer.unref();
      this.timers.set(sessionId, timer);
    }
  }

  start(): void {
    this.sweepTimer = setInterval(() => this.sweepNow(), this.o.sweepMs);
    this.sweepTimer.unref();
    this.reconcileTimer = setInterval(() => void this.reconcile(), this.o.reconcileMs);
    this.reconcileTimer.unref();
    this.sweepNow();
  }

  stop(): void {
    this.stopped = true;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    if (this.reconcileTimer) clearInterval(this.reconcileTimer);
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }

  /** Ends every due session now (a timer fired, a revocation was notified); one pass at a time. */
  sweepNow(): void {
    if (this.stopped) return;
    if (this.sweeping) {
      this.again = true;
      return;
    }
    this.sweeping = this.sweep()
      .catch((err: unknown) => this.o.log.warn({ err }, "ending due token sessions failed"))
      .finally(() => {
        this.sweeping = null;
        if (this.again) {
          this.again = false;
          this.sweepNow();
        }
      });
  }

  /** Waits for the sweep in flight (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.sweeping) await this.sweeping;
  }

  private async sweep(): Promise<void> {
    for (;;) {
      const due = await claimDueSessions(this.o.db, BATCH, this.o.sweepMs);
      if (due.length === 0) return;
      const done: number[] = [];
      await Promise.all(
        due.map(async (d) => {
          if (await this.end(d)) done.push(Number(d.session_id));
        }),
      );
      await deleteTokenSessions(this.o.db, done);
      if (due.length < BATCH) return;
    }
  }

  /** True when the row can go: the session was killed, or the router no longer has it. */
  private async end(d: DueSession): Promise<boolean> {
    const id = Number(d.session_id);
    clearTimeout(this.timers.get(id));
    this.timers.delete(id);
    const why = d.end_reason ?? "token expired";
    const r = await this.o.revoker.bySession(d.realm, id, d.authid, why);
    // "gone": ended on its own, or not joined yet (a login answered a moment ago): the lease then
    // expires and a later sweep tries again, until the grace period says it never joined.
    if (r === "gone") return d.age_ms > JOIN_GRACE_MS;
    return r === "killed";
  }

  /**
   * Forgets rows of sessions that ended on their own (they would otherwise wait for their expiry), and
   * ends sessions whose login raced a revocation of its token.
   */
  async reconcile(): Promise<void> {
    try {
      if ((await expireRevokedSessions(this.o.db)) > 0) this.sweepNow();
    } catch (err) {
      this.o.log.warn({ err }, "checking token sessions against revocations failed");
    }
    for (const realm of this.o.realms()) {
      const session = this.o.session(realm);
      if (!session) continue;
      try {
        const ids = await session.call<unknown>("wamp.session.list");
        if (!Array.isArray(ids)) continue;
        const live = ids.filter((i): i is number => Number.isSafeInteger(i));
        const n = await forgetEndedSessions(this.o.db, realm, live, JOIN_GRACE_MS);
        if (n > 0) this.o.log.debug({ realm, forgotten: n }, "forgot ended token sessions");
      } catch (err) {
        this.o.log.warn({ realm, err }, "reconciling token sessions failed");
      }
    }
  }
}
