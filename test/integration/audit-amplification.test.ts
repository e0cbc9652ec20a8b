/**
 * Audit amplification: logins with random unknown authids (and random realms, methods, addresses)
 * leave a bounded number of rows in authd.audit, authd.audit_rollup and authd.login_failures,
 * while every success and every denial of a known account keeps its own audit row. Through a real
 * Crossbar (ticket, a few hundred) and in process (a few thousand, every method).
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { NO_REALM, OTHER_REALM, ROLLUP_KINDS } from "../../src/audit/rollup.js";
import { AuthError } from "../../src/errors/authErrors.js";
import * as admin from "../../src/store/adminQueries.js";
import { listAudit, listRollups } from "../../src/store/auditQueries.js";
import { Aborted, ticketLogin } from "../helpers/client.js";
import { freshStore, type TestStore } from "../helpers/db.js";
import { denialOf, inProcess, ticketDetails, type InProcess } from "../helpers/inProcess.js";
import { seedAlice, userWithTicket } from "../helpers/seed.js";
import { startStack, type Stack } from "../helpers/stack.js";

const hex = (n: number) => randomBytes(n).toString("hex");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function count(db: { query: TestStore["pool"]["query"] }, sql: string): Promise<number> {
  const { rows } = await db.query<{ n: string }>(sql);
  return Number(rows[0]!.n);
}

/** A denial, or (wampcra, cryptosign, scram in a realm of the store) a decoy answer: its role is the realm's. */
async function deniedOrDecoy(p: Promise<{ role: string }>): Promise<"denied" | "decoy"> {
  try {
    const answer = await p;
    assert.equal(answer.role, "user");
    return "decoy";
  } catch (err) {
    if (err instanceof AuthError && err.uri === "wamp.error.not_authorized") return "denied";
    throw err;
  }
}

describe("audit amplification through a real Crossbar (ticket logins with random authids)", () => {
  let stack: Stack;
  const BUCKETS = 16;

  before(async () => {
    stack = await startStack({
      realms: { app: ["user"] },
      service: { throttle: { unknownAccountBuckets: BUCKETS, accountThreshold: 1000 } },
    });
    const db = stack.store.pool;
    await seedAlice(db);
    await stack.service!.reload();
  });

  after(async () => stack?.stop());

  it("300 unknown authids: no audit row each, one rollup row, at most `buckets` account counters", { timeout: 120_000 }, async () => {
    const N = 300;
    let aborted = 0;
    for (let i = 0; i < N; i += 25) {
      const batch = Array.from({ length: Math.min(25, N - i) }, () =>
        ticketLogin(stack.wsUrl, "app", `ghost-${hex(8)}`, hex(8)).then(
          (c) => c.close(),
          (e: unknown) => {
            if (!(e instanceof Aborted) || e.reason !== "wamp.error.not_authorized") throw e;
            aborted++;
          },
        ),
      );
      await Promise.all(batch);
    }
    assert.equal(aborted, N);
    // A known user: a wrong ticket and two successes, each with its own row.
    await assert.rejects(ticketLogin(stack.wsUrl, "app", "alice", "wrong"), Aborted);
    for (let i = 0; i < 2; i++) (await ticketLogin(stack.wsUrl, "app", "alice", "alice-ticket")).close();
    await stack.service!.audit.flush();

    const db = stack.store.pool;
    const rows = await listAudit(db, { kind: "login", limit: 10_000 });
    assert.deepEqual(rows.map((r) => [r.authid, r.outcome, r.reason]).sort(), [
      ["alice", "allow", null],
      ["alice", "allow", null],
      ["alice", "deny", "wrong ticket"],
    ]);
    const rollups = await listRollups(db, {});
    assert.ok(rollups.length <= 2, `${rollups.length} rollup rows (one per window the burst touched)`);
    assert.ok(rollups.every((r) => r.kind === "unknown" && r.realm === "app"));
    assert.equal(
      rollups.reduce((n, r) => n + Number(r.count), 0),
      N,
      "every unknown-user denial is counted",
    );
    assert.match(rollups[0]!.sample_authid ?? "", /^ghost-/);
    assert.equal(rollups[0]!.sample_reason, "unknown user");
    assert.match(rollups[0]!.sample_peer ?? "", /^tcp4:127\.0\.0\.1:\d+$/);
    const accounts = await count(db, "SELECT count(*)::text AS n FROM authd.login_failures WHERE scope = 'account'");
    assert.ok(accounts <= BUCKETS, `${accounts} account counters for ${N} unknown names`);
    assert.equal(await count(db, "SELECT count(*)::text AS n FROM authd.login_failures WHERE scope = 'peer'"), 1);
  });

  it("rollups older than audit.retentionDays are pruned by the hourly housekeeping, like audit rows", async () => {
    const db = stack.store.pool;
    await db.query(
      `INSERT INTO authd.audit_rollup (window_start, kind, realm, count, first_at, last_at)
       VALUES (now() - interval '91 days', 'unknown', 'app', 5, now() - interval '91 days', now() - interval '91 days'),
              (now() - interval '89 days', 'unknown', 'app', 6, now() - interval '89 days', now() - interval '89 days')`,
    );
    const before = await count(db, "SELECT count(*)::text AS n FROM authd.audit_rollup");
    const pruned = await stack.service!.houseKeep();
    assert.equal(pruned?.rollups, 1);
    assert.equal(await count(db, "SELECT count(*)::text AS n FROM authd.audit_rollup"), before - 1);
    assert.equal(await count(db, "SELECT count(*)::text AS n FROM authd.audit_rollup WHERE count = 6"), 1);
  });
});

describe("audit amplification in process (thousands of denials, every method, random realms and addresses)", () => {
  let store: TestStore;
  let ip: InProcess;
  const BUCKETS = 32;
  const PROOF_TIMEOUT_MS = 500;

  before(async () => {
    store = await freshStore();
    const db = store.pool;
    for (const r of ["app", "ops"]) {
      await admin.addRealm(db, r);
      await admin.addRole(db, r, "user");
    }
    await userWithTicket(db, { realm: "app", authid: "alice", role: "user" }, "alice-ticket");
    await userWithTicket(db, { realm: "ops", authid: "olga", role: "user" }, "olga-ticket");
    ip = await inProcess(
      store.url,
      {
        throttle: {
          unknownAccountBuckets: BUCKETS,
          accountThreshold: 1_000_000,
          peerThreshold: 1_000_000,
          peerInFlight: 0,
          proofTimeoutMs: PROOF_TIMEOUT_MS,
        },
      },
      { audit: true },
    );
  });

  after(async () => {
    await ip?.close();
    await store?.close();
  });

  it(
    "4,000 hostile logins: a bounded number of audit, rollup and counter rows; known accounts keep their rows",
    { timeout: 240_000 },
    async () => {
      const N = 4000;
      // One IPv6 host rotating through its /64, and three IPv4 addresses.
      const peers = [() => `tcp6:2001:db8:77:1:${hex(2)}:${hex(2)}:${hex(2)}:${hex(2)}:${1024 + (randomBytes(1)[0]! % 100)}`];
      for (const a of ["198.51.100.1", "198.51.100.2", "198.51.100.3"]) peers.push(() => `tcp4:${a}:${40000 + (randomBytes(1)[0]! % 100)}`);
      const peer = (i: number) => peers[i % peers.length]!();
      const realm = (i: number) => (i % 5 === 0 ? `r-${hex(6)}` : i % 2 ? "app" : "ops");
      const requests = (i: number): unknown => {
        const transport = { peer: peer(i) };
        const session = 1_000_000 + i;
        switch (i % 6) {
          case 0:
            return [realm(i), `ghost-${hex(8)}`, ticketDetails(hex(8), transport.peer)];
          case 1:
            return [realm(i), `ghost-${hex(8)}`, { authmethod: "scram", authextra: { nonce: "bm9uY2U=" }, transport, session }];
          case 2:
            return [realm(i), `ghost-${hex(8)}`, { authmethod: "wampcra", transport, session }];
          case 3:
            return [realm(i), `ghost-${hex(8)}`, { authmethod: "cryptosign", authextra: { pubkey: hex(32) }, transport, session }];
          case 4:
            return [realm(i), `anon-${hex(8)}`, { authmethod: "anonymous", transport }];
          default:
            // Malformed: a bad request the parser refuses.
            return [realm(i), `ghost-${hex(8)}`, { authmethod: "ticket", ticket: 42, transport }];
        }
      };
      const batch = 16;
      const seen = { denied: 0, decoy: 0 };
      for (let i = 0; i < N; i += batch) {
        await Promise.all(
          Array.from({ length: batch }, async (_, k) => {
            seen[await deniedOrDecoy(ip.authenticator.authenticate(requests(i + k)))]++;
          }),
        );
      }
      // Unknown wampcra/cryptosign/scram names in the store's realms got decoys; no join follows them
      // here, so each becomes a failed proof (counted in the rollup) once its timeout has passed.
      assert.ok(seen.decoy > N / 4, `${seen.decoy} decoys`);
      await sleep(PROOF_TIMEOUT_MS + 500);
      // Known accounts: each wrong credential and each success keeps its own row.
      await denialOf(ip.authenticator.authenticate(["app", "alice", ticketDetails("wrong", "tcp4:198.51.100.1:1")]));
      await denialOf(ip.authenticator.authenticate(["ops", "olga", ticketDetails("wrong", "tcp4:198.51.100.2:1")]));
      await ip.authenticator.authenticate(["app", "alice", ticketDetails("alice-ticket", "tcp4:198.51.100.1:2")]);
      await ip.authenticator.authenticate(["ops", "olga", ticketDetails("olga-ticket", "tcp4:198.51.100.2:2")]);
      await ip.audit!.flush();

      const db = store.pool;
      const rows = await listAudit(db, { kind: "login", limit: 100_000 });
      assert.deepEqual(rows.map((r) => `${r.realm}/${r.authid} ${r.outcome} ${r.reason ?? ""}`.trim()).sort(), [
        "app/alice allow",
        "app/alice deny wrong ticket",
        "ops/olga allow",
        "ops/olga deny wrong ticket",
      ]);
      const rollups = await listRollups(db, { limit: 100_000 });
      const windows = new Set(rollups.map((r) => r.window_start.getTime())).size;
      // kinds × (store realms + the "other" and "none" rows) per window, whatever was sent.
      const bound = windows * ROLLUP_KINDS.length * (2 + 2);
      assert.ok(rollups.length <= bound, `${rollups.length} rollup rows (bound ${bound})`);
      assert.equal(
        rollups.reduce((n, r) => n + Number(r.count), 0),
        N,
        "every denial is counted",
      );
      const kinds = new Set(rollups.map((r) => r.kind));
      for (const k of ["unknown", "policy", "bad_request", "proof_failed"]) assert.ok(kinds.has(k as never), `kind ${k}`);
      assert.equal(
        rollups.filter((r) => r.kind === "proof_failed").reduce((n, r) => n + Number(r.count), 0),
        seen.decoy,
        "every decoy is counted as a failed proof",
      );
      assert.ok(
        rollups.some((r) => r.realm === OTHER_REALM && r.sample_realm?.startsWith("r-")),
        "random realms share one row",
      );
      // Bad requests never got parsed: no realm to name.
      assert.ok(rollups.some((r) => r.kind === "bad_request" && r.realm === NO_REALM));
      assert.ok(
        rollups.every((r) => ["app", "ops", OTHER_REALM, NO_REALM].includes(r.realm)),
        `client-chosen realm names never become rows of their own: ${[...new Set(rollups.map((r) => r.realm))].join(", ")}`,
      );
      // Failure counters: unknown accounts share the buckets; addresses are one key each (the /64 too).
      const accounts = await count(db, "SELECT count(*)::text AS n FROM authd.login_failures WHERE scope = 'account'");
      assert.ok(accounts <= BUCKETS, `${accounts} account counters`);
      const peerKeys = (await db.query<{ key: string }>("SELECT key FROM authd.login_failures WHERE scope = 'peer' ORDER BY key")).rows.map(
        (r) => r.key,
      );
      assert.deepEqual(peerKeys, ["198.51.100.1", "198.51.100.2", "198.51.100.3", "2001:db8:77:1:0:0:0:0/64"]);
    },
  );
});
