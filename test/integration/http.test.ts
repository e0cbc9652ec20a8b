/**
 * The operations HTTP endpoints, scraped for real: /healthz, /readyz, /metrics (Prometheus text),
 * plus audit retention pruning and the role/`trusted` checks through the handler.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { freePort } from "../../devstack/ports.js";
import * as admin from "../../src/store/adminQueries.js";
import { listAudit } from "../../src/store/auditQueries.js";
import { Aborted, errorOf, ticketLogin } from "../helpers/client.js";
import { seedAppWithAlice, userWithTicket } from "../helpers/seed.js";
import { startStack, type Stack } from "../helpers/stack.js";

async function get(url: string): Promise<{ status: number; type: string; body: string }> {
  const r = await fetch(url);
  return { status: r.status, type: r.headers.get("content-type") ?? "", body: await r.text() };
}

/** The value of one sample line in Prometheus text format, e.g. metric('x_total', {a: "b"}). */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | null {
  for (const line of text.split("\n")) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{([^}]*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got: Record<string, string> = {};
    for (const kv of (m[3] ?? "").matchAll(/(\w+)="([^"]*)"/g)) got[kv[1]!] = kv[2]!;
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) return Number(m[4]);
  }
  return null;
}

describe("operations HTTP endpoints (real scrapes)", () => {
  let stack: Stack;
  let base: string;

  before(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    stack = await startStack({ realms: { app: ["user", "admin"] }, service: { http: { port } } });
    await seedAppWithAlice(stack.store.pool);
    await stack.service!.reload();
  });

  after(async () => stack?.stop());

  it("/healthz answers 200 while the process runs", async () => {
    const r = await get(`${base}/healthz`);
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.body), { status: "ok" });
  });

  it("/readyz is 200 with the router registered in every realm and the store reachable", async () => {
    const r = await get(`${base}/readyz`);
    assert.equal(r.status, 200);
    const body = JSON.parse(r.body) as Record<string, unknown>;
    assert.equal(body.ready, true);
    assert.equal(body.router, true);
    assert.equal(body.store, true);
    assert.deepEqual(body.realms, ["authd", "app"]);
  });

  it("unknown paths are 404, other verbs 405", async () => {
    assert.equal((await get(`${base}/nope`)).status, 404);
    assert.equal((await fetch(`${base}/metrics`, { method: "POST" })).status, 405);
  });

  it("/metrics counts authenticate and authorize calls by method, realm and outcome, with latency histograms", async () => {
    const c = await ticketLogin(stack.wsUrl, "app", "alice", "alice-ticket");
    await c.session.register("com.example.echo", (args: unknown[]) => args[0]);
    assert.equal(await c.session.call("com.example.echo", ["x"]), "x");
    assert.equal(await errorOf(c.session.call("com.other.thing")), "wamp.error.not_authorized");
    c.close();
    await ticketLogin(stack.wsUrl, "app", "alice", "wrong").catch((e: unknown) => assert.ok(e instanceof Aborted));
    // An unknown user: one more denial.
    await ticketLogin(stack.wsUrl, "app", "x", "y").catch(() => undefined);

    const r = await get(`${base}/metrics`);
    assert.equal(r.status, 200);
    assert.match(r.type, /^text\/plain/);
    const t = r.body;
    assert.equal(sample(t, "authd_authenticate_seconds_count", { method: "ticket", realm: "app", outcome: "allow" }), 1);
    assert.equal(sample(t, "authd_authenticate_seconds_count", { method: "ticket", realm: "app", outcome: "deny" }), 2);
    assert.ok((sample(t, "authd_authenticate_seconds_bucket", { method: "ticket", realm: "app", outcome: "allow", le: "+Inf" }) ?? 0) >= 1);
    assert.ok((sample(t, "authd_authenticate_seconds_sum", { method: "ticket", realm: "app", outcome: "allow" }) ?? 0) > 0);
    assert.ok((sample(t, "authd_authorize_seconds_count", { realm: "app", action: "register", outcome: "allow" }) ?? 0) >= 1);
    assert.ok((sample(t, "authd_authorize_seconds_count", { realm: "app", action: "call", outcome: "allow" }) ?? 0) >= 1);
    assert.ok((sample(t, "authd_authorize_seconds_count", { realm: "app", action: "call", outcome: "deny" }) ?? 0) >= 1);
    assert.equal(sample(t, "authd_index_rules"), 1);
    assert.ok((sample(t, "authd_store_query_seconds_count", { outcome: "ok" }) ?? 0) >= 3);
    assert.ok((sample(t, "authd_store_reload_seconds_count") ?? 0) >= 1);
    assert.equal(sample(t, "authd_store_up"), 1);
    assert.equal(sample(t, "authd_router_reconnects_total"), 0);
    assert.equal(sample(t, "authd_lockouts_total"), 0);
    assert.ok(sample(t, "process_cpu_seconds_total") !== null, "default process metrics");
  });

  it("the index size gauge follows grants live", async () => {
    await admin.grant(stack.store.pool, "app", "user", { uri: "com.example.more.", match: "prefix", allow: ["call"] });
    const until = Date.now() + 5000;
    let rules: number | null = null;
    while (Date.now() < until) {
      rules = sample((await get(`${base}/metrics`)).body, "authd_index_rules");
      if (rules === 2) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(rules, 2);
  });

  it("the role comes from the store and must exist in the realm's roles; `trusted` is never answered", async () => {
    const db = stack.store.pool;
    const abort = (authid: string, ticket: string) =>
      ticketLogin(stack.wsUrl, "app", authid, ticket).then(
        (c) => {
          c.close();
          return null;
        },
        (e: unknown) => e as Aborted,
      );
    // `admin` is a role Crossbar knows, but not a role of realm app in the store: denied.
    await userWithTicket(db, { realm: "app", authid: "adm", role: "admin" }, "adm-ticket");
    const noRole = await abort("adm", "adm-ticket");
    assert.ok(noRole instanceof Aborted);
    assert.equal(noRole.reason, "wamp.error.not_authorized");
    // The schema refuses `trusted` for users and roles...
    await assert.rejects(userWithTicket(db, { realm: "app", authid: "t1", role: "trusted" }, "t1-ticket"));
    await assert.rejects(admin.addRole(db, "app", "trusted"));
    // ...and were the CHECKs and the reserved-role triggers gone (a tampered store), the handler still refuses it.
    await db.query("ALTER TABLE authd.users DROP CONSTRAINT users_role_check");
    await db.query("ALTER TABLE authd.roles DROP CONSTRAINT roles_name_check");
    await db.query("ALTER TABLE authd.users DISABLE TRIGGER users_reserved");
    await db.query("ALTER TABLE authd.roles DISABLE TRIGGER roles_reserved");
    await admin.addRole(db, "app", "trusted");
    await userWithTicket(db, { realm: "app", authid: "sneaky", role: "trusted" }, "sneaky-ticket");
    await stack.service!.reload();
    const trusted = await abort("sneaky", "sneaky-ticket");
    assert.ok(trusted instanceof Aborted);
    assert.equal(trusted.reason, "wamp.error.not_authorized");
    await stack.service!.audit.flush();
    const rows = await listAudit(db, { authid: "sneaky" });
    assert.equal(rows[0]?.reason, "role trusted is reserved and may never be assigned");
    assert.equal((await listAudit(db, { authid: "adm" }))[0]?.reason, "role admin does not exist in realm app");
  });

  it("a revocation (user disabled) kills the live session and is audited", async () => {
    const db = stack.store.pool;
    await userWithTicket(db, { realm: "app", authid: "rev", role: "user" }, "rev-ticket");
    const c = await ticketLogin(stack.wsUrl, "app", "rev", "rev-ticket");
    await admin.setUserDisabled(db, "app", "rev", true);
    const closed = await Promise.race([c.closed, new Promise<null>((r) => setTimeout(() => r(null), 10_000))]);
    assert.ok(closed, "the session was killed");
    await stack.service!.audit.flush();
    const until = Date.now() + 5000;
    let rows = await listAudit(db, { kind: "revoke", authid: "rev" });
    while (rows.length === 0 && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 50));
      rows = await listAudit(db, { kind: "revoke", authid: "rev" });
    }
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.outcome, "killed");
    assert.equal(rows[0]!.realm, "app");
    assert.deepEqual(rows[0]!.detail, { sessions: 1 });
  });

  it("audit rows older than audit.retentionDays are pruned by housekeeping", async () => {
    const db = stack.store.pool;
    await stack.service!.audit.flush();
    const before = (await listAudit(db, { limit: 10_000 })).length;
    assert.ok(before > 0);
    await db.query(
      "INSERT INTO authd.audit (at, kind, outcome, realm, authid) VALUES (now() - interval '91 days', 'login', 'deny', 'app', 'old'), (now() - interval '89 days', 'login', 'deny', 'app', 'recent')",
    );
    const pruned = await stack.service!.houseKeep();
    assert.equal(pruned?.audit, 1);
    const left = await listAudit(db, { limit: 10_000 });
    assert.equal(
      left.some((r) => r.authid === "old"),
      false,
    );
    assert.equal(
      left.some((r) => r.authid === "recent"),
      true,
    );
  });
});
