import type pg from "pg";
import { createLogger, type Logger } from "../../src/log/logger.js";
import { ensurePostgres, createDatabase } from "../../devstack/postgres.js";
import { migrate } from "../../src/store/migrate.js";
import { createPool } from "../../src/store/pool.js";

export interface TestStore {
  url: string;
  pool: pg.Pool;
  log: Logger;
  close(): Promise<void>;
}

export const quietLog = createLogger(process.env.TEST_LOG_LEVEL ?? "silent");

/** A fresh, empty database on the real server (or embedded Postgres), optionally migrated. */
export async function freshStore(opts: { migrated?: boolean } = {}): Promise<TestStore> {
  const server = await ensurePostgres();
  const db = await createDatabase(server.adminUrl, "authd_test");
  const pool = createPool(db.url, quietLog, 5);
  if (opts.migrated !== false) await migrate(pool, quietLog);
  return {
    url: db.url,
    pool,
    log: quietLog,
    async close() {
      await pool.end();
      await db.drop();
    },
  };
}
