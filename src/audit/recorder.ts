import type { AuthOutcome } from "../auth/authenticator.js";
import type { ProofFailure } from "../auth/proofTracker.js";
import type { Logger } from "../log/logger.js";
import { insertAuditRows, pruneAudit, pruneRollups, upsertRollups, type AuditEntry } from "../store/auditQueries.js";
import type { Queryable } from "../store/queries.js";
import { RollupBuffer, rollupKindOf, type RollupKind, type RollupSample } from "./rollup.js";

export interface AuditRecorderOptions {
  enabled?: boolean;
  /** Length of a rollup window (audit.rollupWindowMs). */
  rollupWindowMs?: number;
  /** How often counted denials are written (a few seconds). */
  flushMs?: number;
  /** Realms of the store: only they get their own rollup rows (default: none). */
  knownRealm?: (realm: string) => boolean;
}

/** Rows written in one statement at most, and rows kept while the store is away at most. */
const MAX_BATCH = 500;
const MAX_QUEUED = 50_000;

/**
 * Writes the audit trail without holding up the answer to the router: a failed write is logged,
 * never turned into a denial. Entries carry identities and reasons only, never credentials.
 *
 * Every allowed login, every denial of a known account and every unavailable answer gets its own
 * row in authd.audit. Denials an attacker can repeat at will (unknown users, lockouts, malformed and
 * shed logins) are counted per window instead (rollup.ts) and upserted in batches, so a flood of
 * them costs a bounded number of rows.
 */
export class AuditRecorder {
  /**
   * Rows waiting while a write is in flight. One write at a time: a quiet service writes each row at
   * once, a busy one writes everything that arrived meanwhile in one INSERT (far cheaper per row).
   */
  private queue: AuditEntry[] = [];
  private inFlight: Promise<void> | null = null;
  private dropped = 0;
  private readonly enabled: boolean;
  private readonly rollup: RollupBuffer;
  private readonly flushMs: number;
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> | null = null;

  constructor(
    private readonly db: Queryable,
    private readonly log: Logger,
    options: AuditRecorderOptions | boolean = {},
  ) {
    const o = typeof options === "boolean" ? { enabled: options } : options;
    this.enabled = o.enabled ?? true;
    this.flushMs = o.flushMs ?? 5000;
    this.rollup = new RollupBuffer(o.rollupWindowMs ?? 60_000, o.knownRealm ?? (() => false));
  }

  record(e: AuditEntry): void {
    if (!this.enabled) return;
    if (this.queue.length >= MAX_QUEUED) {
      // The store has been away long enough to fill the queue: say how much is lost, once per burst.
      if (this.dropped++ === 0)
        this.log.error({ queued: this.queue.length }, "audit queue full: rows are dropped until the store takes them");
      return;
    }
    this.queue.push(e);
    if (!this.inFlight) this.writeBatch();
  }

  private writeBatch(): void {
    const rows = this.queue.splice(0, MAX_BATCH);
    this.inFlight = insertAuditRows(this.db, rows)
      .then(() => {
        if (this.dropped > 0) this.log.warn({ dropped: this.dropped }, "audit rows were dropped while the queue was full");
        this.dropped = 0;
      })
      .catch((err: unknown) => this.retryOneByOne(rows, err))
      .finally(() => {
        this.inFlight = null;
        if (this.queue.length > 0) this.writeBatch();
      });
  }

  /** One row the store refuses (a data error) must not take the others of its batch with it. */
  private async retryOneByOne(rows: AuditEntry[], err: unknown): Promise<void> {
    const code = (err as { code?: unknown } | null)?.code;
    if (rows.length === 1 || typeof code !== "string" || !code.startsWith("22")) {
      this.log.warn({ err, rows: rows.length }, "audit write failed");
      return;
    }
    for (const row of rows)
      await insertAuditRows(this.db, [row]).catch((e: unknown) => this.log.warn({ err: e, kind: row.kind }, "audit write failed"));
  }

  /**
   * One authenticate answer: its own row, or counted in the rollup (see the class comment). A decoy
   * answer is recorded once its proof has failed (proofFailed), not here.
   */
  login(o: AuthOutcome): void {
    if (o.principal?.decoy) return;
    const d = o.request?.details;
    const kind = rollupKindOf(o.error?.code ?? null);
    if (kind) {
      this.aggregate(kind, {
        authid: o.request?.authid ?? null,
        realm: o.request?.realm ?? null,
        method: d?.authmethod ?? null,
        peer: d?.transport.peer ?? null,
        reason: o.error?.reason ?? null,
      });
      return;
    }
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

  /**
   * A router-checked proof failed (the session did not join in time): a known account's failure
   * gets its own row, an unknown one's (a decoy answered) is counted as `proof_failed`.
   */
  proofFailed(f: ProofFailure): void {
    const d = f.request.details;
    if (f.code === "unknown") {
      this.aggregate("proof_failed", {
        authid: f.request.authid,
        realm: f.request.realm,
        method: d.authmethod,
        peer: d.transport.peer,
        reason: f.reason,
      });
      return;
    }
    this.record({
      kind: "login",
      outcome: "deny",
      realm: f.request.realm,
      authid: f.request.authid,
      method: d.authmethod,
      peer: d.transport.peer,
      session: d.session,
      reason: f.reason,
      detail: { proof: "failed", decoy: f.decoy !== null },
    });
  }

  /**
   * Counts a denial in the rollup (no row of its own). For outcomes that do not come through
   * `login`, e.g. a failed proof against a decoy answer for an unknown user (kind proof_failed).
   */
  aggregate(kind: RollupKind, sample: RollupSample): void {
    if (!this.enabled) return;
    this.rollup.add(kind, sample);
    if (!this.timer) {
      this.timer = setInterval(() => void this.flushRollup(), this.flushMs);
      this.timer.unref();
    }
  }

  /** Writes the counted denials (one statement); on failure they stay counted for the next try. */
  flushRollup(): Promise<void> {
    // One write at a time: two upserts of the same rows would only contend.
    this.writing ??= (async () => {
      try {
        const rows = this.rollup.drain();
        if (rows.length === 0) return;
        try {
          await upsertRollups(this.db, rows);
        } catch (err) {
          this.rollup.restore(rows);
          this.log.warn({ err, rows: rows.length }, "audit rollup write failed; kept for the next try");
        }
      } finally {
        this.writing = null;
      }
    })();
    return this.writing;
  }

  /** Waits for writes in flight and writes the rollup (shutdown, tests). */
  async flush(): Promise<void> {
    while (this.inFlight) await this.inFlight;
    await this.flushRollup();
  }

  /** Stops the periodic rollup writes after a last flush. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.flush();
  }

  /** Deletes audit rows and rollups older than `retentionDays`. */
  async prune(retentionDays: number): Promise<{ rows: number; rollups: number }> {
    return { rows: await pruneAudit(this.db, retentionDays), rollups: await pruneRollups(this.db, retentionDays) };
  }
}
