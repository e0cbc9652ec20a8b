import type { AuditRecorder } from "../audit/recorder.js";
import type { Logger } from "../log/logger.js";
import type { Metrics } from "../metrics/metrics.js";
import type { RouterLink } from "./link.js";

/**
 * Ends live sessions through the router's meta API, with reason `wamp.close.logout` (which also makes
 * Crossbar drop cookie logins of those sessions), and records each kill in metrics, audit and log.
 * Never throws: a failed kill is logged and counts as 0 sessions.
 */
export class SessionRevoker {
  constructor(
    private readonly link: RouterLink,
    private readonly authRealm: string,
    private readonly audit: AuditRecorder,
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {}

  /** A revoked user's sessions (disabled, removed, credential changed; or a kill-on-change role's user whose rules changed). */
  byAuthid(realm: string, authid: string, message = "credentials revoked"): Promise<number> {
    // The auth realm's session may kill too when wamp-authd does not serve the user's realm.
    return this.kill(realm, true, "wamp.session.kill_by_authid", authid, message, { authid });
  }

  /** The sessions of a role whose rules changed (kill-on-change) or whose realm was removed. */
  byAuthrole(realm: string, role: string): Promise<number> {
    return this.kill(realm, false, "wamp.session.kill_by_authrole", role, "permissions changed", { role });
  }

  /**
   * One session, by its id (a token session: expired, or its token revoked). "gone" when the router
   * has no such session (it ended, or has not joined yet); "failed" when the router could not be asked.
   */
  async bySession(realm: string, sessionId: number, authid: string, why: string): Promise<"killed" | "gone" | "failed"> {
    const session = this.link.session(realm);
    if (!session) {
      this.log.warn({ realm, session: sessionId }, "cannot close a token session: no router session in that realm");
      return "failed";
    }
    try {
      await session.call("wamp.session.kill", [sessionId], { reason: "wamp.close.logout", message: why });
    } catch (err) {
      if ((err as { error?: unknown }).error === "wamp.error.no_such_session") return "gone";
      this.log.error({ realm, session: sessionId, err }, "closing a token session failed");
      return "failed";
    }
    this.metrics.revocations.inc();
    this.audit.record({ kind: "revoke", outcome: "killed", realm, authid, session: sessionId, reason: why, detail: { sessions: 1 } });
    this.log.info({ realm, authid, session: sessionId, why }, "closed a token session");
    return "killed";
  }

  private async kill(
    realm: string,
    viaAuthRealm: boolean,
    procedure: string,
    who: string,
    message: string,
    subject: { authid?: string; role?: string },
  ): Promise<number> {
    const session = this.link.session(realm) ?? (viaAuthRealm ? this.link.session(this.authRealm) : null);
    if (!session) {
      this.log.warn({ realm, ...subject }, "cannot close sessions: no router session in that realm");
      return 0;
    }
    try {
      const killed = await session.call<number[]>(procedure, [who], { reason: "wamp.close.logout", message });
      const n = Array.isArray(killed) ? killed.length : 0;
      this.metrics.revocations.inc(n);
      this.audit.record({
        kind: "revoke",
        outcome: "killed",
        realm,
        ...(subject.authid ? { authid: subject.authid } : { reason: message }),
        detail: { ...(subject.role ? { role: subject.role } : {}), sessions: n },
      });
      this.log.info({ realm, ...subject, killed: n, why: message }, "closed sessions");
      return n;
    } catch (err) {
      this.log.error({ realm, ...subject, err }, "closing sessions failed");
      return 0;
    }
  }
}
