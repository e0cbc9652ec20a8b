/** Row 5: a store with 1M users (ticket credentials) and 10k rules; lookups, index load, service RSS. */
import type pg from "pg";
import { createLogger } from "../src/log/logger.js";
import { createDatabase, ensurePostgres } from "../devstack/postgres.js";
import * as admin from "../src/store/adminQueries.js";
import { migrate } from "../src/store/migrate.js";
import { createPool } from "../src/store/pool.js";
import { findLogin } from "../src/store/queries.js";
import type { CrossbarStack } from "./crossbarBench.js";
import { REALM } from "./crossbarBench.js";
import { ruleSet } from "./rules.js";
import { bulkRules, bulkUsersWithTicket } from "./seedQueries.js";
import { closedLoop, median, Samples } from "./stats.js";

export interface ScaleResult {
  users: number;
  rules: number;
  roles: number;
  seedSeconds: number;
  lookup: {
    sequentialP50ms: number;
    sequentialP99ms: number;
    concurrent: number;
    perSec: number;
    concurrentP50ms: number;
    concurrentP99ms: number;
  };
  serviceStartMs: number;
  reloadMs: number;
  reloadRuns: number[];
  serviceRss: number;
  servicePeakRss: number;
  serviceRssAtStart: number;
  serviceHeapUsed: number;
}

export async function runScaleBench(
  stack: CrossbarStack,
  o: { users: number; rolesCount: number; rulesPerRole: number; lookups: number; phc: string },
): Promise<ScaleResult> {
  const log = createLogger("silent");
  const server = await ensurePostgres();
  const db = await createDatabase(server.adminUrl, "authd_bench");
  const pool: pg.Pool = createPool(db.url, log, 8);
  try {
    await migrate(pool, log);
    const t0 = performance.now();
    const { id: realmId } = await admin.addRealm(pool, REALM);
    for (let r = 0; r < o.rolesCount; r++) {
      const roleId = await admin.addRole(pool, REALM, `scale${r}`);
      const rules = ruleSet(o.rulesPerRole, `s${r}x`);
      await bulkRules(
        pool,
        roleId,
        rules.map((x) => x.uri),
        rules.map((x) => x.match),
      );
    }
    await bulkUsersWithTicket(pool, realmId, "scale0", o.users, o.phc);
    const seedSeconds = (performance.now() - t0) / 1000;

    // Login lookup, excluding the KDF: one at a time, then 8 at once.
    let k = 7;
    const nextAuthid = () => {
      k = (k * 48271) % 2147483647;
      return `user${1 + (k % o.users)}`;
    };
    for (let i = 0; i < 200; i++) await findLogin(pool, REALM, nextAuthid(), "ticket");
    const seq = new Samples();
    for (let i = 0; i < o.lookups; i++) {
      const a = performance.now();
      const rec = await findLogin(pool, REALM, nextAuthid(), "ticket");
      seq.add(performance.now() - a);
      if (!rec || rec.credentials.length !== 1) throw new Error("findLogin did not find a seeded user");
    }
    const conc = new Samples();
    const lookup = () => findLogin(pool, REALM, nextAuthid(), "ticket");
    const res = await closedLoop([lookup], 8, Math.max(1000, o.lookups / 2), conc);
    const s = seq.summary();
    const c = conc.summary();

    // The service on this store: start-up (includes the first index load), reloads, memory.
    await stack.service?.stop();
    stack.service = null;
    const started = await stack.startService(db.url);
    const atStart = started.child.memory();
    const reloads: number[] = [];
    for (let i = 0; i < 5; i++) {
      started.child.send({ cmd: "reload" });
      const m = await started.child.next<{ ms: number; rules: number }>("reloaded");
      if (m.rules !== o.rolesCount * o.rulesPerRole) throw new Error(`service loaded ${m.rules} rules`);
      reloads.push(m.ms);
    }
    const mem = started.child.memory();
    started.child.send({ cmd: "mem" });
    const heap = await started.child.next<{ rss: number; heapUsed: number }>("mem");
    await started.child.stop();
    stack.service = null;
    return {
      users: o.users,
      rules: o.rolesCount * o.rulesPerRole,
      roles: o.rolesCount,
      seedSeconds,
      lookup: {
        sequentialP50ms: s.p50,
        sequentialP99ms: s.p99,
        concurrent: 8,
        perSec: res.calls / res.seconds,
        concurrentP50ms: c.p50,
        concurrentP99ms: c.p99,
      },
      serviceStartMs: started.startMs,
      reloadMs: median(reloads),
      reloadRuns: reloads,
      serviceRss: mem.rss,
      servicePeakRss: mem.peak,
      serviceRssAtStart: atStart.rss,
      serviceHeapUsed: heap.heapUsed,
    };
  } finally {
    await pool.end();
    await db.drop();
  }
}
