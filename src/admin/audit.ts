import { listAudit, type AuditFilter, type AuditRow } from "../store/auditQueries.js";
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

export async function auditTrail(ctx: AdminContext, f: AuditFilter): Promise<AuditRow[]> {
  if (f.kind !== undefined && !KINDS.includes(f.kind)) throw new AdminError(`unknown kind "${f.kind}" (${KINDS.join(", ")})`);
  if (f.limit !== undefined && (!Number.isSafeInteger(f.limit) || f.limit < 1 || f.limit > 100000))
    throw new AdminError("--limit must be 1 to 100000");
  return listAudit(ctx.pool, f);
}
