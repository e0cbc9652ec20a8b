/** SQL for the audit trail. Rows never hold secrets: callers pass only identities and reasons. */
import type { RollupKind, RollupRow } from "../audit/rollup.js";
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
  await insertAuditRows(db, [e]);
}

/** Many rows in one statement (the recorder batches the login path's rows). */
export async function insertAuditRows(db: Queryable, rows: readonly AuditEntry[]): Promise<void> {
  if (rows.length === 0) return;
  const col = <T>(f: (e: AuditEntry) => T) => rows.map(f);
  await db.query({
    name: "authd_insert_audit_rows",
    text: `INSERT INTO authd.audit (kind, outcome, realm, authid, method, peer, session, reason, actor, detail)
           SELECT k, o, r, a, m, p, s, re, ac, d::jsonb
             FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[],
                         $8::text[], $9::text[], $10::text[]) AS t(k, o, r, a, m, p, s, re, ac, d)`,
    values: [
      col((e) => e.kind),
      col((e) => e.outcome),
      col((e) => e.realm ?? null),
      col((e) => e.authid ?? null),
      col((e) => e.method ?? null),
      col((e) => e.peer ?? null),
      col((e) => e.session ?? null),
      col((e) => e.reason ?? null),
      col((e) => e.actor ?? null),
      col((e) => JSON.stringify(e.detail ?? {})),
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

/**
 * Adds counted denials to authd.audit_rollup in one statement. Rows already there (another
 * instance, an earlier batch) add up; the sample first written for a row is kept.
 */
export async function upsertRollups(db: Queryable, rows: RollupRow[]): Promise<void> {
  if (rows.length === 0) return;
  await db.query({
    name: "authd_upsert_rollups",
    text: `INSERT INTO authd.audit_rollup AS r
             (window_start, kind, realm, count, first_at, last_at, sample_authid, sample_realm, sample_method, sample_peer, sample_reason)
           SELECT * FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::bigint[], $5::timestamptz[], $6::timestamptz[],
                                $7::text[], $8::text[], $9::text[], $10::text[], $11::text[])
           ON CONFLICT (window_start, kind, realm) DO UPDATE SET
             count = r.count + EXCLUDED.count,
             first_at = least(r.first_at, EXCLUDED.first_at),
             last_at = greatest(r.last_at, EXCLUDED.last_at)`,
    values: [
      rows.map((r) => r.windowStart),
      rows.map((r) => r.kind),
      rows.map((r) => r.realm),
      rows.map((r) => r.count),
      rows.map((r) => r.firstAt),
      rows.map((r) => r.lastAt),
      rows.map((r) => r.sample.authid),
      rows.map((r) => r.sample.realm),
      rows.map((r) => r.sample.method),
      rows.map((r) => r.sample.peer),
      rows.map((r) => r.sample.reason),
    ],
  });
}

export interface RollupFilter {
  kind?: RollupKind;
  realm?: string;
  since?: Date;
  limit?: number;
}

export interface StoredRollup {
  window_start: Date;
  kind: RollupKind;
  realm: string;
  count: string;
  first_at: Date;
  last_at: Date;
  sample_authid: string | null;
  sample_realm: string | null;
  sample_method: string | null;
  sample_peer: string | null;
  sample_reason: string | null;
}

/** Newest window first. */
export async function listRollups(db: Queryable, f: RollupFilter): Promise<StoredRollup[]> {
  const { rows } = await db.query<StoredRollup>(
    `SELECT window_start, kind, realm, count::text, first_at, last_at, sample_authid, sample_realm, sample_method, sample_peer, sample_reason
       FROM authd.audit_rollup
      WHERE ($1::text IS NULL OR kind = $1) AND ($2::text IS NULL OR realm = $2) AND ($3::timestamptz IS NULL OR last_at >= $3)
      ORDER BY window_start DESC, count DESC LIMIT $4`,
    [f.kind ?? null, f.realm ?? null, f.since ?? null, f.limit ?? 100],
  );
  return rows;
}

export async function pruneRollups(db: Queryable, retentionDays: number): Promise<number> {
  const { rowCount } = await db.query("DELETE FROM authd.audit_rollup WHERE last_at < now() - make_interval(days => $1)", [retentionDays]);
  return rowCount ?? 0;
}
