/**
 * Bulk seeding for the store-scale benchmark (benchmark-only SQL, parameters only). Runs with
 * session_replication_role = replica so the change-notify triggers do not queue a million NOTIFYs.
 */
import type pg from "pg";
import { inTransaction } from "../src/store/adminQueries.js";

export async function bulkUsersWithTicket(pool: pg.Pool, realmId: number, role: string, count: number, phc: string): Promise<void> {
  await inTransaction(pool, async (c) => {
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
  });
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

/**
 * Session rules at scale (see bench/sessionScale.ts): groups in chains of four, their rules, user
 * rules and memberships. Benchmark-only SQL, parameters only, triggers off like the users.
 */
export async function bulkSessionRules(
  pool: pg.Pool,
  realmId: number,
  s: { users: number; userRules: number; groups: number; groupRules: number; members: number },
): Promise<void> {
  await inTransaction(pool, async (c) => {
    await c.query("SET LOCAL session_replication_role = replica");
    await c.query("INSERT INTO authd.groups (realm_id, name) SELECT $1, 'grp' || g FROM generate_series(1, $2::int) g", [
      realmId,
      s.groups,
    ]);
    // grp(g) inside grp(g+1) within each chain of four.
    await c.query(
      `INSERT INTO authd.group_subgroups (group_id, subgroup_id)
       SELECT o.id, i.id FROM generate_series(1, $2::int) g
         JOIN authd.groups i ON i.realm_id = $1 AND i.name = 'grp' || g
         JOIN authd.groups o ON o.realm_id = $1 AND o.name = 'grp' || (g + 1)
        WHERE g % 4 <> 0`,
      [realmId, s.groups],
    );
    await c.query(
      `INSERT INTO authd.permissions (group_id, uri, match, allow_call, allow_subscribe, deny_publish)
       SELECT g.id, 'com.bench.' || g.name || '.r' || k || '.', 'prefix', k <> 0, true, k = 0
         FROM authd.groups g, generate_series(0, $2::int - 1) k WHERE g.realm_id = $1`,
      [realmId, s.groupRules],
    );
    await c.query(
      `INSERT INTO authd.permissions (user_id, uri, match, allow_call, allow_subscribe)
       SELECT u.id, 'com.bench.user.' || u.authid || x.suffix, x.match, true, x.match = 'prefix'
         FROM authd.users u, (VALUES ('.get', 'exact'), ('.items.', 'prefix')) AS x(suffix, match)
        WHERE u.realm_id = $1 AND u.authid = ANY (SELECT 'user' || n FROM generate_series(1, $2::int) n)`,
      [realmId, Math.floor(s.userRules / 2)],
    );
    const chains = Math.floor(s.groups / 4);
    await c.query(
      `INSERT INTO authd.group_members (group_id, user_id)
       SELECT g.id, u.id FROM generate_series(1, $2::int) n
         JOIN authd.users u ON u.realm_id = $1 AND u.authid = 'user' || n
         JOIN authd.groups g ON g.realm_id = $1 AND g.name = 'grp' || ((n % $3::int) * 4 + 1)`,
      [realmId, s.members, chains],
    );
  });
  await pool.query("ANALYZE authd.permissions");
  await pool.query("ANALYZE authd.groups");
  await pool.query("ANALYZE authd.group_members");
  await pool.query("ANALYZE authd.group_subgroups");
}
