/**
 * Login storms through a real Crossbar: a burst of concurrent ticket logins far beyond what the
 * hash queue takes gets fast "unavailable" answers for the excess (no KDF work, not counted as
 * failed passwords, aggregated in the audit rollup), and a login right after the burst succeeds
 * within a couple of seconds: no backlog of work whose caller has already been answered.
 *
 * Three ways the excess is shed, each with its own service config: the per-address limit of logins
 * in flight, the bounded hash queue, and the deadline (work that cannot start in time is dropped).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Service } from "../../src/service.js";
import * as admin from "../../src/store/adminQueries.js";
import { listAudit, listRollups } from "../../src/store/auditQueries.js";
import { Aborted, ticketLogin } from "../helpers/client.js";
import { capturedLogger } from "../helpers/logCapture.js";
import { userWithTicket } from "../helpers/seed.js";
import { startStack, type Stack } from "../helpers/stack.js";

const USERS = 20;
const BURST = 300;
/** Slow on purpose (~50-100 ms a hash here) so a single hash slot is easily swamped. */
const SLOW_ARGON2 = { memoryCost: 19456, timeCost: 4, parallelism: 1, concurrency: 1 };

interface Answer {
  ok: boolean;
  uri: string | null;
  message: string | null;
  at: number;
}

async function burst(stack: Stack, n: number): Promise<Answer[]> {
  return Promise.all(
    Array.from({ length: n }, (_, i) =>
      ticketLogin(stack.wsUrl, "app", `user${i % USERS}`, `ticket-${i % USERS}`).then(
        (c): Answer => {
          c.close();
          return { ok: true, uri: null, message: null, at: performance.now() };
        },
        (e: unknown): Answer => {
          if (!(e instanceof Aborted)) throw e;
          return { ok: false, uri: e.reason, message: e.abortMessage, at: performance.now() };
        },
      ),
    ),
  );
}

/** Retries a fresh login until it succeeds; the time from `since` to the first success. */
async function firstSuccessAfter(stack: Stack, since: number, limitMs: number): Promise<number> {
  for (;;) {
    try {
      const c = await ticketLogin(stack.wsUrl, "app", "fresh", "fresh-ticket");
      c.close();
      return performance.now() - since;
    } catch (err) {
      if (!(err instanceof Aborted)) throw err;
      if (performance.now() - since > limitMs)
        throw new Error(`no successful login within ${limitMs} ms after the burst (last: ${err.reason})`, { cause: err });
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

describe("login storm through a real Crossbar", () => {
  let stack: Stack;
  let service: Service | null = null;
  let logs = capturedLogger();

  before(async () => {
    stack = await startStack({ realms: { app: ["user"] } });
    const db = stack.store.pool;
    await admin.addRealm(db, "app");
    await admin.addRole(db, "app", "user");
    for (let i = 0; i < USERS; i++) await userWithTicket(db, { realm: "app", authid: `user${i}`, role: "user" }, `ticket-${i}`);
    await userWithTicket(db, { realm: "app", authid: "fresh", role: "user" }, "fresh-ticket");
    // Each scenario starts its own service: the stack's default one steps aside.
    await stack.service!.stop();
  });

  after(async () => {
    await service?.stop().catch(() => undefined);
    await stack?.stop();
  });

  /** A service with the storm config of one scenario (the previous one is stopped first). */
  async function serve(values: Record<string, unknown>): Promise<Service> {
    await service?.stop();
    logs = capturedLogger();
    service = await stack.startService({ argon2: SLOW_ARGON2, ...values }, logs.log);
    await stack.ready(service);
    return service;
  }

  /** What every scenario must show; returns the shed answers. */
  async function checkStorm(s: Service, answers: Answer[], shedReason: RegExp): Promise<void> {
    const ok = answers.filter((a) => a.ok);
    const shed = answers.filter((a) => !a.ok);
    console.log(`${answers.length} concurrent logins: ${ok.length} welcomed, ${shed.length} refused`);
    assert.ok(ok.length >= 1, "some logins get through");
    assert.ok(shed.length >= answers.length / 2, `most of the burst is refused (${shed.length})`);
    // The excess is "unavailable" (fail closed, try again), never "not authorized": these are valid tickets.
    for (const a of shed) {
      assert.equal(a.uri, "wamp.error.authentication_failed");
      assert.equal(a.message, "authentication service unavailable");
    }
    // Refused fast, before any KDF work: wamp-authd's own time per shed login is small.
    const denials = logs.records().filter((r) => r.msg === "authentication denied");
    const shedLogs = denials.filter((r) => shedReason.test(String(r.reason)));
    assert.ok(shedLogs.length >= shed.length / 2, `${shedLogs.length} shed denials logged with ${shedReason}`);
    const slow = shedLogs.filter((r) => Number(r.ms) > 250);
    assert.ok(slow.length <= shedLogs.length / 20, `${slow.length} of ${shedLogs.length} shed answers took > 250 ms in wamp-authd`);
    // Not counted as failed passwords: no throttle counter for the valid users or the address.
    const counters = await stack.store.pool.query<{ n: string }>("SELECT count(*)::text AS n FROM authd.login_failures");
    assert.equal(counters.rows[0]!.n, "0");
    // Aggregated: no audit row per shed login, one rollup row (kind overloaded) counting them.
    await s.audit.flush();
    const rows = await listAudit(stack.store.pool, { kind: "login", outcome: "deny", limit: 10_000 });
    assert.equal(rows.filter((r) => shedReason.test(r.reason ?? "")).length, 0);
    const rollups = await listRollups(stack.store.pool, { kind: "overloaded" });
    assert.ok(rollups.reduce((n, r) => n + Number(r.count), 0) >= shed.length);
    assert.ok(rollups.every((r) => r.realm === "app"));
    const metric = await s.metrics.registry.getSingleMetricAsString("authd_logins_shed_total");
    assert.ok(Number(/authd_logins_shed_total (\d+)/.exec(metric)?.[1]) >= shed.length);
  }

  it(
    "per-address limit: one client's burst is refused beyond its logins in flight; a login right after succeeds",
    { timeout: 120_000 },
    async () => {
      const s = await serve({ argon2: { ...SLOW_ARGON2, maxQueued: 1000 }, throttle: { peerInFlight: 2 } });
      await stack.store.pool.query("DELETE FROM authd.audit_rollup");
      const answers = await burst(stack, BURST);
      const last = Math.max(...answers.map((a) => a.at));
      await checkStorm(s, answers, /^too many logins in flight from this client address$/);
      const ms = await firstSuccessAfter(stack, last, 2000);
      console.log(`per-address limit: first fresh login ${ms.toFixed(0)} ms after the burst's last answer`);
    },
  );

  it(
    "bounded hash queue: the excess finds the queue full and is refused at once; a login right after succeeds",
    { timeout: 120_000 },
    async () => {
      const s = await serve({ argon2: { ...SLOW_ARGON2, maxQueued: 3 } });
      await stack.store.pool.query("DELETE FROM authd.audit_rollup");
      const answers = await burst(stack, BURST);
      const last = Math.max(...answers.map((a) => a.at));
      await checkStorm(s, answers, /^password hashing (queue full|cannot start before the deadline)$/);
      assert.ok(
        logs.records().some((r) => r.reason === "password hashing queue full"),
        "the queue bound was hit",
      );
      const ms = await firstSuccessAfter(stack, last, 2000);
      console.log(`bounded queue: first fresh login ${ms.toFixed(0)} ms after the burst's last answer`);
    },
  );

  it("deadline-aware queue: work that cannot start before its deadline is dropped, not run later", { timeout: 120_000 }, async () => {
    // A queue large enough for the whole burst: only the deadline keeps it from piling up.
    const s = await serve({ argon2: { ...SLOW_ARGON2, maxQueued: 10_000 }, deadlineMs: 1000 });
    await stack.store.pool.query("DELETE FROM authd.audit_rollup");
    const answers = await burst(stack, BURST);
    const last = Math.max(...answers.map((a) => a.at));
    const ok = answers.filter((a) => a.ok).length;
    const shed = answers.filter((a) => !a.ok);
    console.log(`deadline 1000 ms: ${ok} welcomed, ${shed.length} refused`);
    assert.ok(ok >= 1);
    assert.ok(shed.length >= BURST / 2);
    for (const a of shed) assert.equal(a.uri, "wamp.error.authentication_failed");
    const reasons = new Set(
      logs
        .records()
        .filter((r) => r.msg === "authentication denied")
        .map((r) => String(r.reason)),
    );
    assert.ok(reasons.has("password hashing cannot start before the deadline"), `reasons: ${[...reasons].join("; ")}`);
    // The proof that nothing stale is left: a fresh login right after the burst.
    const ms = await firstSuccessAfter(stack, last, 2000);
    console.log(`deadline-aware queue: first fresh login ${ms.toFixed(0)} ms after the burst's last answer`);
    await s.audit.flush();
  });
});
