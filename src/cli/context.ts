import { ConfigError, loadConfig, type Config } from "../config/load.js";
import { createLogger, type Logger } from "../log/logger.js";
import { createPool } from "../store/pool.js";
import type pg from "pg";
import { AdminError, osActor, type AdminContext } from "../admin/context.js";
import { NotFoundError } from "../store/adminQueries.js";
import { CraKeyError } from "../auth/craCipher.js";
import { CraCredentialError } from "../auth/craCredential.js";
import { AuthdError } from "../errors/base.js";
import { TokenKeyError } from "../auth/tokens/apiTokens.js";

/** Thrown for a user mistake: printed as one line, exit code 1, no stack. */
export class CliError extends AuthdError {
  readonly code = "CLI_USAGE";
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
  const log = createLogger(process.env.AUTHD_LOG_LEVEL ?? "warn", process.stderr);
  const pool = createPool(config.database.url, log, 2);
  try {
    return await fn(pool, log, config);
  } finally {
    await pool.end();
  }
}

export function describeError(err: unknown): string {
  if (err instanceof CliError || err instanceof ConfigError || err instanceof AdminError || err instanceof NotFoundError)
    return err.message;
  if (err instanceof CraKeyError || err instanceof CraCredentialError || err instanceof TokenKeyError) return err.message;
  if (err instanceof Error) {
    const code = (err as { code?: string }).code;
    if (code === "ECONNREFUSED") return `cannot reach the database: ${err.message}`;
    if (code === "23505") return `already exists: ${(err as { detail?: string }).detail ?? err.message}`;
    if (code === "23514") return `rejected by the store: ${(err as { constraint?: string }).constraint ?? err.message}`;
    if (code === "23503") return `still referenced: ${(err as { detail?: string }).detail ?? err.message}`;
    if (code === "3F000" || code === "42P01") return 'the database has no wamp-authd schema: run "wamp-authd migrate" first';
    if (code === "22P02" || code === "22023") return `invalid value: ${err.message}`;
    if (code === "3D000" || code === "28P01" || code === "ENOTFOUND") return `cannot reach the database: ${err.message}`;
    return err.message;
  }
  return String(err);
}

/** Runs an admin action with a store and the OS user as the audit actor. */
export function withAdmin<T>(g: GlobalOptions, fn: (ctx: AdminContext) => Promise<T>): Promise<T> {
  return withStore(g, (pool, _log, config) => fn({ pool, config, actor: osActor() }));
}
