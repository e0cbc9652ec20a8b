import pg from "pg";
import type { Logger } from "../log/logger.js";

/**
 * statementTimeoutMs (server side): a query stuck behind a lock is cancelled, so a connection whose
 * caller already gave up (deadline) comes back to the pool instead of staying blocked forever.
 */
export function createPool(url: string, log: Logger, max = 10, opts: { statementTimeoutMs?: number } = {}): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max,
    application_name: "wamp-authd",
    connectionTimeoutMillis: 5000,
    ...(opts.statementTimeoutMs ? { statement_timeout: opts.statementTimeoutMs } : {}),
  });
  // An idle client losing its connection must not crash the process; the pool replaces it.
  pool.on("error", (err) => log.warn({ err }, "idle database connection failed"));
  return pool;
}
