import { userInfo } from "node:os";
import type pg from "pg";
import type { Config } from "../config/load.js";
import { inTransaction } from "../store/adminQueries.js";
import { insertAudit } from "../store/auditQueries.js";
import type { Queryable } from "../store/queries.js";
import { AuthdError } from "../errors/base.js";

/** A mistake in what the operator asked for (bad name, bad value, missing row): one line, exit 1. */
export class AdminError extends AuthdError {
  readonly code = "ADMIN_INVALID_INPUT";
}

export interface AdminContext {
  pool: pg.Pool;
  config: Config;
  /** Who made the change (the OS user running the CLI). */
  actor: string;
}

export function osActor(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? "unknown";
  }
}

export interface ChangeRecord {
  /** e.g. "user.add", "grant.revoke" */
  action: string;
  realm?: string | null;
  authid?: string | null;
  /** What changed; never a secret. */
  detail?: Record<string, unknown>;
}

/**
 * Applies one admin change and its audit row in the same transaction: either both are stored or
 * neither is. The triggers then notify every running instance.
 */
export async function change<T>(ctx: AdminContext, rec: ChangeRecord, fn: (db: Queryable) => Promise<T>): Promise<T> {
  return inTransaction(ctx.pool, async (db) => {
    const out = await fn(db);
    await insertAudit(db, {
      kind: "admin",
      outcome: rec.action,
      realm: rec.realm ?? null,
      authid: rec.authid ?? null,
      actor: ctx.actor,
      detail: rec.detail ?? {},
    });
    return out;
  });
}
