import type { AuthOutcome } from "../auth/authenticator.js";
import type { Logger } from "../log/logger.js";
import { insertAudit, pruneAudit, type AuditEntry } from "../store/auditQueries.js";
import type { Queryable } from "../store/queries.js";

/**
 * Writes the audit trail without holding up the answer to the router: a failed write is logged,
 * never turned into a denial. Entries carry identities and reasons only, never credentials.
 */
export class AuditRecorder {
  private pending = new Set<Promise<void>>();

  constructor(
    private readonly db: Queryable,
    private readonly log: Logger,
    private readonly enabled = true,
  ) {}

  record(e: AuditEntry): void {
    if (!this.enabled) return;
    const p = insertAudit(this.db, e)
      .catch((err: unknown) => this.log.warn({ err, kind: e.kind }, "audit write failed"))
      .finally(() => this.pending.delete(p));
    this.pending.add(p);
  }

  login(o: AuthOutcome): void {
    const d = o.request?.details;
    this.record({
      kind: "login",
      outcome: o.error ? "deny" : "allow",
      realm: o.request?.realm ?? null,
      authid: o.request?.authid ?? null,
      method: d?.authmethod ?? null,
      peer: d?.transport.peer ?? null,
      session: d?.session ?? null,
      reason: o.error?.reason ?? null,
      detail: o.principal ? { role: o.principal.role, as: o.principal.authid, to: o.principal.realm } : {},
    });
  }

  /** Waits for writes in flight (shutdown, tests). */
  async flush(): Promise<void> {
    await Promise.all([...this.pending]);
  }

  async prune(retentionDays: number): Promise<number> {
    return pruneAudit(this.db, retentionDays);
  }
}
