import pg from "pg";
import type { Logger } from "../log/logger.js";

export type Pool = pg.Pool;

export function createPool(url: string, log: Logger, max = 10): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max, application_name: "wamp-authd", connectionTimeoutMillis: 5000 });
  // An idle client losing its connection must not crash the process; the pool replaces it.
  pool.on("error", (err) => log.warn({ err: err.message }, "idle database connection failed"));
  return pool;
}
