/** SQL for the audit trail. Rows never hold secrets: callers pass only identities and reasons. */
import type { Queryable } from "./queries.js";

export interface AuditEntry {
  kind: "login" | "admin" | "revoke";
  outcome: string;
  realm?: string | null;
  authid?: string | null;
  method?: string | null;
  peer?: string | null;
  session?: number | null;
  reason?: string | null;
  actor?: string | null;
  detail?: Record<string, unknown>;
}

export async function insertAudit(db: Queryable, e: AuditEntry): Promise<void> {
  await db.query({
    name: "authd_insert_audit",
    text: `INSERT INTO authd.audit (kind, outcome, realm, authid, method, peer, session, reason, actor, detail)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
    values: [
      e.kind,
      e.outcome,
      e.realm ?? null,
      e.authid ?? null,
      e.method ?? null,
      e.peer ?? null,
      e.session ?? null,
      e.reason ?? null,
      e.actor ?? null,
      e.detail ?? {},
    ],
  });
}

export interface AuditFilter {
  kind?: string;
  realm?: string;
  authid?: string;
  outcome?: string;
  since?: Date;
  limit?: number;
}

export interface AuditRow extends Required<Omit<AuditEntry, "detail">> {
  id: string;
  at: Date;
  detail: Record<string, unknown>;
}

export async function listAudit(db: Queryable, f: AuditFilter): Promise<AuditRow[]> {
  const { rows } = await db.query<AuditRow>(
    `SELECT id::text, at, kind, outcome, realm, authid, method, peer, session, reason, actor, detail
       FROM authd.audit
      WHERE ($1::text IS NULL OR kind = $1) AND ($2::text IS NULL OR realm = $2) AND ($3::text IS NULL OR authid = $3)
        AND ($4::text IS NULL OR outcome = $4) AND ($5::timestamptz IS NULL OR at >= $5)
      ORDER BY id DESC LIMIT $6`,
    [f.kind ?? null, f.realm ?? null, f.authid ?? null, f.outcome ?? null, f.since ?? null, f.limit ?? 100],
  );
  return rows;
}

export async function pruneAudit(db: Queryable, retentionDays: number): Promise<number> {
  const { rowCount } = await db.query("DELETE FROM authd.audit WHERE at < now() - make_interval(days => $1)", [retentionDays]);
  return rowCount ?? 0;
}
