/**
 * Bulk seeding for the store-scale benchmark (benchmark-only SQL, parameters only). Runs with
 * session_replication_role = replica so the change-notify triggers do not queue a million NOTIFYs.
 */
import type pg from "pg";

export async function bulkUsersWithTicket(pool: pg.Pool, realmId: number, role: string, count: number, phc: string): Promise<void> {
  const c = await pool.connect();
  try {
    await c.query("BEGIN");
    await c.query("SET LOCAL session_replication_role = replica");
    await c.query(
      `INSERT INTO authd.users (realm_id, authid, role)
       SELECT $1, 'user' || g, $2 FROM generate_series(1, $3::int) g`,
      [realmId, role, count],
    );
    await c.query(
      `INSERT INTO authd.credentials (user_id, method, data)
       SELECT id, 'ticket', jsonb_build_object('phc', $2::text) FROM authd.users WHERE realm_id = $1`,
      [realmId, phc],
    );
    await c.query("COMMIT");
  } catch (err) {
    await c.query("ROLLBACK").catch(() => undefined);
    throw err;
  } finally {
    c.release();
  }
  await pool.query("ANALYZE authd.users");
  await pool.query("ANALYZE authd.credentials");
}

export async function bulkRules(pool: pg.Pool, roleId: number, uris: string[], matches: string[]): Promise<void> {
  await pool.query(
    `INSERT INTO authd.permissions (role_id, uri, match, allow_call, allow_subscribe)
     SELECT $1, u, m, true, true FROM unnest($2::text[], $3::text[]) AS t(u, m)`,
    [roleId, uris, matches],
  );
}
