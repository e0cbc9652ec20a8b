import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { migrate, pendingMigrations, MigrationError } from "../../src/store/migrate.js";
import { freshStore, type TestStore } from "../helpers/db.js";
import { removeTempDir, tempDir } from "../../devstack/tempDirs.js";

describe("migrate", () => {
  let store: TestStore;
  before(async () => {
    store = await freshStore({ migrated: false });
  });
  const dirs: string[] = [];
  after(async () => {
    await store.close();
    for (const d of dirs) await removeTempDir(d);
  });

  it("installs the schema on an empty database, and a second run does no harm", async () => {
    assert.ok((await pendingMigrations(store.pool)).length > 0);
    const first = await migrate(store.pool, store.log);
    assert.ok(first.applied.includes("product/0001_schema.sql"));
    const { rows } = await store.pool.query("SELECT source, name, length(checksum) AS len FROM authd.migrations ORDER BY id");
    assert.equal(rows[0].name, "0001_schema.sql");
    assert.equal(rows[0].len, 64);
    const second = await migrate(store.pool, store.log);
    assert.deepEqual(second.applied, []);
    assert.deepEqual(await pendingMigrations(store.pool), []);
  });

  it("is safe when several instances migrate at once", async () => {
    const other = await freshStore({ migrated: false });
    try {
      const results = await Promise.all([1, 2, 3].map(() => migrate(other.pool, other.log)));
      const applied = results.flatMap((r) => r.applied);
      assert.equal(new Set(applied).size, applied.length, "each migration applied exactly once");
      const { rows } = await other.pool.query("SELECT count(*)::int AS n FROM authd.migrations WHERE source = 'product'");
      assert.equal(rows[0].n, applied.length);
    } finally {
      await other.close();
    }
  });

  it("applies an operator's data migrations after the schema, once, and rejects edited ones", async () => {
    const dir = tempDir("data");
    dirs.push(dir);
    writeFileSync(join(dir, "0001_realm.sql"), "INSERT INTO authd.realms (name) VALUES ('ops_realm');");
    const r = await migrate(store.pool, store.log, { dataDir: dir });
    assert.deepEqual(r.applied, ["data/0001_realm.sql"]);
    const again = await migrate(store.pool, store.log, { dataDir: dir });
    assert.deepEqual(again.applied, []);
    const { rows } = await store.pool.query("SELECT count(*)::int AS n FROM authd.realms WHERE name = 'ops_realm'");
    assert.equal(rows[0].n, 1);
    writeFileSync(join(dir, "0001_realm.sql"), "INSERT INTO authd.realms (name) VALUES ('changed');");
    await assert.rejects(migrate(store.pool, store.log, { dataDir: dir }), /0001_realm\.sql was changed after it was applied/);
  });

  it("rolls back a failing data migration and names it", async () => {
    const dir = tempDir("data");
    dirs.push(dir);
    writeFileSync(join(dir, "0002_bad.sql"), "INSERT INTO authd.realms (name) VALUES ('half'); SELECT * FROM no_such_table;");
    await assert.rejects(migrate(store.pool, store.log, { dataDir: dir }), (e: unknown) => {
      assert.ok(e instanceof MigrationError);
      assert.match(e.message, /0002_bad\.sql failed: .*no_such_table/);
      return true;
    });
    const { rows } = await store.pool.query("SELECT count(*)::int AS n FROM authd.realms WHERE name = 'half'");
    assert.equal(rows[0].n, 0, "nothing of the failed migration is left");
    const rec = await store.pool.query("SELECT 1 FROM authd.migrations WHERE source = 'data' AND name = '0002_bad.sql'");
    assert.equal(rec.rowCount, 0);
  });

  it("refuses to run against a schema newer than the code", async () => {
    await store.pool.query("INSERT INTO authd.migrations (source, id, name, checksum) VALUES ('product', 9999, '9999_future.sql', 'x')");
    try {
      await assert.rejects(migrate(store.pool, store.log), /9999_future\.sql.*upgrade wamp-authd/);
      await assert.rejects(pendingMigrations(store.pool), /newer than this wamp-authd/);
    } finally {
      await store.pool.query("DELETE FROM authd.migrations WHERE id = 9999");
    }
  });

  it("the schema refuses the role trusted for users and roles", async () => {
    await store.pool.query("INSERT INTO authd.realms (name) VALUES ('r_trusted')");
    await assert.rejects(
      store.pool.query("INSERT INTO authd.roles (realm_id, name) SELECT id, 'trusted' FROM authd.realms WHERE name = 'r_trusted'"),
      /check constraint|is reserved/,
    );
    await assert.rejects(
      store.pool.query(
        "INSERT INTO authd.users (realm_id, authid, role) SELECT id, 'eve', 'trusted' FROM authd.realms WHERE name = 'r_trusted'",
      ),
      /check constraint|is reserved/,
    );
  });
});
