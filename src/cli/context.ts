import { ConfigError, loadConfig, type Config } from "../config/load.js";
import { createLogger, type Logger } from "../log/logger.js";
import { createPool } from "../store/pool.js";
import type pg from "pg";

/** Thrown for a user mistake: printed as one line, exit code 1, no stack. */
export class CliError extends Error {
  override name = "CliError";
}

export interface GlobalOptions {
  config?: string;
  databaseUrl?: string;
}

export function configFrom(g: GlobalOptions, args: string[] = []): Config {
  return loadConfig({ file: g.config, args: g.databaseUrl ? [...args, "--database-url", g.databaseUrl] : args });
}

/** Runs `fn` with a pool and a stderr logger, closing the pool afterwards. */
export async function withStore<T>(g: GlobalOptions, fn: (pool: pg.Pool, log: Logger, config: Config) => Promise<T>): Promise<T> {
  const config = configFrom(g);
  const log = createLogger(process.env.AUTHD_LOG_LEVEL ?? "warn", process.stderr as never);
  const pool = createPool(config.database.url, log, 2);
  try {
    return await fn(pool, log, config);
  } finally {
    await pool.end();
  }
}

export function describeError(err: unknown): string {
  if (err instanceof CliError || err instanceof ConfigError) return err.message;
  if (err instanceof Error) {
    const code = (err as { code?: string }).code;
    if (code === "ECONNREFUSED") return `cannot reach the database: ${err.message}`;
    if (code === "23505") return `already exists: ${(err as { detail?: string }).detail ?? err.message}`;
    if (code === "23514") return `rejected by the store: ${(err as { constraint?: string }).constraint ?? err.message}`;
    return err.message;
  }
  return String(err);
}
