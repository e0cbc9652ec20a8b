import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import type pg from "pg";
import type { Logger } from "../log/logger.js";
import { productMigrationsDir } from "./paths.js";
import { AuthdError } from "../errors/base.js";

export interface Migration {
  id: number;
  name: string;
  sql: string;
  checksum: string;
}

export class MigrationError extends AuthdError {
  readonly code = "MIGRATION_FAILED";
}

/** Arbitrary but fixed: serialises concurrent `migrate` runs across instances. */
const LOCK_KEY = 0x61757468; // "auth"
const FILE_RE = /^(\d+)_([a-z0-9_-]+)\.sql$/i;

export async function readMigrations(dir: string): Promise<Migration[]> {
  let files: string[];
  try {
    files = await readdir(dir);
  } catch (err) {
    throw new MigrationError(`cannot read migrations directory ${dir}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, {
      cause: err,
    });
  }
  const out: Migration[] = [];
  for (const file of files.sort()) {
    if (!file.endsWith(".sql")) continue;
    const m = FILE_RE.exec(file);
    if (!m) throw new MigrationError(`${join(dir, file)}: name must look like 0001_description.sql`);
    const sql = await readFile(join(dir, file), "utf8");
    const id = Number(m[1]);
    if (out.some((x) => x.id === id)) throw new MigrationError(`${dir}: two migrations numbered ${id}`);
    out.push({ id, name: file, sql, checksum: createHash("sha256").update(sql).digest("hex") });
  }
  return out.sort((a, b) => a.id - b.id);
}

const BOOKKEEPING = `
CREATE SCHEMA IF NOT EXISTS authd;
CREATE TABLE IF NOT EXISTS authd.migrations (
  source     text NOT NULL,
  id         integer NOT NULL,
  name       text NOT NULL,
  checksum   text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (source, id)
);`;

export interface MigrateResult {
  applied: string[];
  skipped: number;
}

/**
 * Applies the product's schema migrations, then (optionally) an operator's own data migrations
 * from `dataDir` (source "data"), each in its own transaction, recorded with a checksum.
 * Safe when several instances run it at once: a session advisory lock serialises them.
 */
export async function migrate(
  pool: pg.Pool,
  log: Logger,
  opts: { dataDir?: string | undefined; productDir?: string } = {},
): Promise<MigrateResult> {
  const product = await readMigrations(opts.productDir ?? productMigrationsDir());
  const data = opts.dataDir ? await readMigrations(opts.dataDir) : [];
  const client = await pool.connect();
  const result: MigrateResult = { applied: [], skipped: 0 };
  try {
    await client.query("SELECT pg_advisory_lock($1)", [LOCK_KEY]);
    try {
      await client.query(BOOKKEEPING);
      await applyAll(client, log, "product", product, true, result);
      await applyAll(client, log, "data", data, false, result);
    } finally {
      await client.query("SELECT pg_advisory_unlock($1)", [LOCK_KEY]);
    }
  } finally {
    client.release();
  }
  return result;
}

async function applyAll(
  client: pg.PoolClient,
  log: Logger,
  source: string,
  migrations: Migration[],
  refuseNewer: boolean,
  result: MigrateResult,
): Promise<void> {
  const { rows } = await client.query<{ id: number; name: string; checksum: string }>(
    "SELECT id, name, checksum FROM authd.migrations WHERE source = $1 ORDER BY id",
    [source],
  );
  const known = new Map(migrations.map((m) => [m.id, m]));
  for (const row of rows) {
    const m = known.get(row.id);
    if (!m) {
      if (refuseNewer) {
        throw new MigrationError(
          `the database has schema migration ${row.name}, which this wamp-authd does not know: it is older than the schema; upgrade wamp-authd`,
        );
      }
      continue; // an operator may delete applied data migrations from disk
    }
    if (m.checksum !== row.checksum) {
      throw new MigrationError(
        `${source} migration ${m.name} was changed after it was applied (checksum differs); add a new migration instead`,
      );
    }
  }
  const applied = new Set(rows.map((r) => r.id));
  for (const m of migrations) {
    if (applied.has(m.id)) {
      result.skipped++;
      continue;
    }
    await client.query("BEGIN");
    try {
      await client.query("INSERT INTO authd.migrations (source, id, name, checksum) VALUES ($1, $2, $3, $4)", [
        source,
        m.id,
        m.name,
        m.checksum,
      ]);
      await client.query(m.sql);
      await client.query("COMMIT");
    } catch (err) {
      await client.query("ROLLBACK");
      throw new MigrationError(`${source} migration ${m.name} failed: ${(err as Error).message}`);
    }
    log.info({ source, migration: m.name }, "migration applied");
    result.applied.push(`${source}/${m.name}`);
  }
}

/** Product migrations not yet applied (empty when the schema is current). Throws if the schema is newer. */
export async function pendingMigrations(pool: pg.Pool, productDir = productMigrationsDir()): Promise<string[]> {
  const product = await readMigrations(productDir);
  const exists = await pool.query<{ ok: boolean }>("SELECT to_regclass('authd.migrations') IS NOT NULL AS ok");
  if (!exists.rows[0]?.ok) return product.map((m) => m.name);
  const { rows } = await pool.query<{ id: number; name: string }>("SELECT id, name FROM authd.migrations WHERE source = 'product'");
  const known = new Set(product.map((m) => m.id));
  const newer = rows.filter((r) => !known.has(r.id));
  if (newer.length > 0)
    throw new MigrationError(
      `the database schema is newer than this wamp-authd (${newer.map((r) => r.name).join(", ")}): upgrade wamp-authd`,
    );
  const applied = new Set(rows.map((r) => r.id));
  return product.filter((m) => !applied.has(m.id)).map((m) => m.name);
}
