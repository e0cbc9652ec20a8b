import assert from "node:assert/strict";
import { describe, it } from "node:test";
import pg from "pg";
import { createDatabase, ensurePostgres } from "../../devstack/postgres.js";

const { Client } = pg;

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

describe("stack/postgres", () => {
  it("creates a usable database and drops it again", async () => {
    const server = await ensurePostgres();
    const db = await createDatabase(server.adminUrl, "authd_test");
    assert.match(db.name, /^authd_test_\d+_\d+_[a-z0-9]+$/);

    const row = await withClient(db.url, async (c) => {
      await c.query("CREATE TABLE t (id int PRIMARY KEY, label text NOT NULL)");
      await c.query("INSERT INTO t VALUES ($1, $2)", [1, "héllo"]);
      return (await c.query("SELECT id, label FROM t")).rows[0];
    });
    assert.deepEqual(row, { id: 1, label: "héllo" });

    // An open connection must not keep drop() from working.
    const lingering = new Client({ connectionString: db.url });
    lingering.on("error", () => {});
    await lingering.connect();
    try {
      await db.drop();
    } finally {
      await lingering.end().catch(() => {});
    }

    const left = await withClient(server.adminUrl, (c) => c.query("SELECT 1 FROM pg_database WHERE datname = $1", [db.name]));
    assert.equal(left.rowCount, 0);
  });
});
