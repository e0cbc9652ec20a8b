/**
 * Row 5: a store with 1M users (ticket credentials) and 10k role rules; lookups, index load,
 * service RSS. Row 5s: the same store with session rules (100k user rules, 1k groups nested four
 * deep, role templates): authorize inside the service (matcher alone and full path) with cached
 * overlays, the service's RSS with them, and how long one user's rule change takes to apply.
 */
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
import { bulkRules, bulkSessionRules, bulkUsersWithTicket } from "./seedQueries.js";
import { ROLE_TEMPLATES, SCALE_ROLE, type SessionScale } from "./sessionScale.js";
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
  session: SessionScaleResult;
}

interface Latency {
  p50: number;
  p99: number;
  perSec: number;
  allowed: number;
}

export interface SessionScaleResult {
  scale: SessionScale;
  seedSeconds: number;
  /** Identities with cached overlays during the measurement. */
  sessions: number;
  /** Loading one identity's users and rules (at login), average ms. */
  warmMsPerIdentity: number;
  /** Decider.answerWith with the role's set and the session's overlay at hand (µs). */
  matcher: Latency;
  /** Authorizer.authorize as the router's call reaches it: arguments, overlay lookup, decision, metrics (µs). */
  full: Latency;
  /** RSS / heap with every sampled identity loaded and its overlay built, after a full GC. */
  rssAfter: number;
  heapAfter: number;
  heapTotalAfter: number;
  externalAfter: number;
  peakRss: number;
  /** From the INSERT of one user's rule to the service answering with it (ms), per run. */
  applyMs: number[];
  /** The first change after start, apart (cold). */
  applyColdMs: number;
  /** Index reloads during those changes (must be 0). */
  applyIndexLoads: number;
}

export async function runScaleBench(
  stack: CrossbarStack,
  o: {
    users: number;
    rolesCount: number;
    rulesPerRole: number;
    lookups: number;
    phc: string;
    session: SessionScale;
    sessions: number;
    requests: number;
  },
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
    await bulkUsersWithTicket(pool, realmId, SCALE_ROLE, o.users, o.phc);
    const seedSeconds = (performance.now() - t0) / 1000;
    const t1 = performance.now();
    for (const t of ROLE_TEMPLATES)
      await admin.grant(pool, REALM, SCALE_ROLE, { uri: t.uri, match: t.match, allow: ["call", "subscribe"] });
    await bulkSessionRules(pool, realmId, o.session);
    const sessionSeedSeconds = (performance.now() - t1) / 1000;

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
    const roleRuleCount = o.rolesCount * o.rulesPerRole + ROLE_TEMPLATES.length;
    for (let i = 0; i < 5; i++) {
      started.child.send({ cmd: "reload" });
      const m = await started.child.next<{ ms: number; rules: number }>("reloaded");
      if (m.rules !== roleRuleCount) throw new Error(`service loaded ${m.rules} rules`);
      reloads.push(m.ms);
    }
    const mem = started.child.memory();
    started.child.send({ cmd: "mem" });
    const heap = await started.child.next<{ rss: number; heapUsed: number }>("mem");

    // Row 5s: decisions with session rules, inside the service.
    const roleUris = ruleSet(o.rulesPerRole, "s0x").map((r, i) =>
      r.match === "exact"
        ? r.uri
        : r.match === "prefix"
          ? `${r.uri}orders.list`
          : r.uri.startsWith(".")
            ? `svc${r.uri}`
            : r.uri.replace("..", `.eu${i % 7}.`),
    );
    started.child.send({
      cmd: "authz",
      realm: REALM,
      role: SCALE_ROLE,
      scale: o.session,
      sessions: o.sessions,
      requests: o.requests,
      roleUris,
    });
    const az = await started.child.next<{
      matcher: Latency;
      full: Latency;
      warmMs: number;
      sessions: number;
      rss: number;
      heapUsed: number;
      heapTotal: number;
      external: number;
    }>("authz", 600_000);
    // One user's rule change, end to end: INSERT → NOTIFY → that user's rules reloaded → answered.
    const applyMs: number[] = [];
    let applyIndexLoads = 0;
    let applyColdMs = Number.NaN;
    // Run 0 is the service's first such change (cold code paths, a statement prepared): reported apart.
    for (let k = 0; k <= 20; k++) {
      const authid = `user${1 + ((k * 7919) % o.users)}`;
      const uri = `com.bench.apply${k}.op`;
      started.child.send({ cmd: "watch", realm: REALM, role: SCALE_ROLE, authid, uri });
      await started.child.next("watching");
      const from = performance.timeOrigin + performance.now();
      await pool.query(
        `INSERT INTO authd.permissions (user_id, uri, match, allow_call)
         SELECT u.id, $3, 'exact', true FROM authd.users u JOIN authd.realms r ON r.id = u.realm_id WHERE r.name = $1 AND u.authid = $2`,
        [REALM, authid, uri],
      );
      const applied = await started.child.next<{ at: number; indexLoads: number }>("applied");
      if (k === 0) applyColdMs = applied.at - from;
      else applyMs.push(applied.at - from);
      applyIndexLoads += applied.indexLoads;
    }
    const peak = started.child.memory().peak;
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
      session: {
        scale: o.session,
        seedSeconds: sessionSeedSeconds,
        sessions: az.sessions,
        warmMsPerIdentity: az.warmMs / az.sessions,
        matcher: az.matcher,
        full: az.full,
        rssAfter: az.rss,
        heapAfter: az.heapUsed,
        heapTotalAfter: az.heapTotal,
        externalAfter: az.external,
        peakRss: peak,
        applyMs,
        applyColdMs,
        applyIndexLoads,
      },
    };
  } finally {
    await pool.end();
    await db.drop();
  }
}
