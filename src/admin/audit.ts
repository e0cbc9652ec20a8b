import { ROLLUP_KINDS, type RollupKind } from "../audit/rollup.js";
import { listAudit, listRollups, type AuditFilter, type AuditRow, type StoredRollup } from "../store/auditQueries.js";
import type { AdminContext } from "./context.js";
import { AdminError } from "./context.js";

const KINDS = ["login", "admin", "revoke"];

/** "2026-01-31", an ISO timestamp, or a duration back from now: "15m", "2h", "7d". */
export function parseSince(text: string, now = Date.now()): Date {
  const m = /^(\d+)([smhd])$/.exec(text);
  if (m) {
    const unit = { s: 1e3, m: 60e3, h: 3600e3, d: 86400e3 }[m[2] as "s" | "m" | "h" | "d"];
    return new Date(now - Number(m[1]) * unit);
  }
  const d = new Date(text);
  if (Number.isNaN(d.getTime())) throw new AdminError(`invalid --since "${text}" (ISO date/time or a duration such as 15m, 2h, 7d)`);
  return d;
}

function checkLimit(limit: number | undefined): void {
  if (limit !== undefined && (!Number.isSafeInteger(limit) || limit < 1 || limit > 100000))
    throw new AdminError("--limit must be 1 to 100000");
}

export async function auditTrail(ctx: AdminContext, f: AuditFilter): Promise<AuditRow[]> {
  if (f.kind !== undefined && !KINDS.includes(f.kind)) throw new AdminError(`unknown kind "${f.kind}" (${KINDS.join(", ")})`);
  checkLimit(f.limit);
  return listAudit(ctx.pool, f);
}

/** Counted denials (authd.audit_rollup), newest window first; `kind` one of ROLLUP_KINDS. */
export async function auditRollups(
  ctx: AdminContext,
  f: { kind?: string; realm?: string; since?: Date; limit?: number },
): Promise<StoredRollup[]> {
  const kinds: readonly string[] = ROLLUP_KINDS;
  if (f.kind !== undefined && !kinds.includes(f.kind)) throw new AdminError(`unknown rollup kind "${f.kind}" (${ROLLUP_KINDS.join(", ")})`);
  checkLimit(f.limit);
  return listRollups(ctx.pool, { ...f, kind: f.kind as RollupKind | undefined });
}
