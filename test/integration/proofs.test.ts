/**
 * Proofs the router checks (wampcra, cryptosign, scram) are throttled and audited: every answer is
 * a pending failure until the session joins (wamp.session.on_join), a join confirms it, and no join
 * within throttle.proofTimeoutMs makes it a failure. Real Crossbar, real Postgres, autobahn-python
 * (SCRAM) and autobahn-js (WAMP-CRA, cryptosign) clients.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { CraCipher, parseCraKeys } from "../../src/auth/craCipher.js";
import { buildCraCredential } from "../../src/auth/craCredential.js";
import { deriveScramCredential } from "../../src/auth/scramCredential.js";
import { DENY_MESSAGE, DENY_URI } from "../../src/errors/authErrors.js";
import * as admin from "../../src/store/adminQueries.js";
import { listAudit } from "../../src/store/auditQueries.js";
import { Aborted, connect, ticketLogin } from "../helpers/client.js";
import { capturedLogger, waitFor } from "../helpers/logCapture.js";
import { craAttempt, cryptosignAttempt, keyPair, pubHex, type Attempt } from "../helpers/proofClients.js";
import { pyLogin, pyLogins, welcomeOf, type PyResult } from "../helpers/pyClient.js";
import { userWithTicket } from "../helpers/seed.js";
import { startStack, type Stack } from "../helpers/stack.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const THRESHOLD = 5;
const PROOF_TIMEOUT_MS = 2000;
const SCRAM = { iterations: 2, memory: 1024 };

/** The lockout a locked account gets at HELLO: no CHALLENGE, the usual denial. */
function assertLockedAtHello(a: Attempt, what: string): void {
  assert.equal(a.challenge, null, `${what}: no CHALLENGE`);
  assert.deepEqual(a.abort, { reason: DENY_URI, message: DENY_MESSAGE }, what);
}

function pyChallenged(r: PyResult): boolean {
  return r.challenge !== null && r.challenge !== undefined;
}

describe("router-checked proofs are throttled and audited (real Crossbar)", () => {
  let stack: Stack;
  const craKey = `k1:${randomBytes(32).toString("hex")}`;
  const cipher = new CraCipher(parseCraKeys(craKey, "test"));
  const keys = { erin: keyPair(), ed: keyPair(), bea: keyPair(), stranger: keyPair() };

  const failures = async (realm: string, authid: string): Promise<{ failures: number; locked: boolean } | null> => {
    const { rows } = await stack.store.pool.query<{ failures: number; locked: boolean }>(
      "SELECT failures, coalesce(locked_until > now(), false) AS locked FROM authd.login_failures WHERE scope = 'account' AND key = $1",
      [JSON.stringify([realm, authid])],
    );
    return rows[0] ?? null;
  };
  const proofRows = async (authid: string) => {
    await stack.service!.audit.flush();
    return (await listAudit(stack.store.pool, { kind: "login", authid, limit: 1000 })).filter((r) => r.outcome === "deny");
  };

  before(async () => {
    stack = await startStack({
      realms: { app: ["user"], other: ["user"] },
      methods: ["ticket", "wampcra", "cryptosign", "scram"],
      service: {
        cra: { key: craKey, secretMode: "plain" },
        scram: SCRAM,
        throttle: { accountThreshold: THRESHOLD, peerThreshold: 100_000, baseLockMs: 60_000, proofTimeoutMs: PROOF_TIMEOUT_MS },
      },
    });
    const db = stack.store.pool;
    for (const realm of ["app", "other"]) {
      await admin.addRealm(db, realm);
      await admin.addRole(db, realm, "user");
    }
    // Lets a client publish to wamp.session.* as far as wamp-authd's rules go (the hostile test).
    await admin.grant(db, "app", "user", { uri: "wamp.session.", match: "prefix", allow: ["publish"] });
    const scram = async (authid: string, password: string, more: Partial<admin.NewUser> = {}) => {
      const id = await admin.addUser(db, { realm: "app", authid, role: "user", ...more });
      await admin.upsertSecretCredential(db, id, "scram", { ...(await deriveScramCredential(password, SCRAM)) });
    };
    await scram("sam", "sam-password");
    await scram("sara", "sara-password");
    await scram("rita", "rita-password", { realmOverride: "other" });
    const cra = async (authid: string, secret: string) => {
      const id = await admin.addUser(db, { realm: "app", authid, role: "user" });
      // users passwd's parameters (CRA_DEFAULTS), as a real deployment has them
      await admin.upsertSecretCredential(db, id, "wampcra", buildCraCredential(cipher, secret));
    };
    await cra("carol", "carol-secret");
    await cra("cora", "cora-secret");
    await cra("cathy", "cathy-secret");
    for (const [authid, pair] of [
      ["erin", keys.erin],
      ["ed", keys.ed],
      ["bea", keys.bea],
    ] as const) {
      const id = await admin.addUser(db, { realm: "app", authid, role: "user" });
      await admin.addKeyedCredential(db, id, "cryptosign", pubHex(pair), "laptop", null);
    }
    await userWithTicket(db, { realm: "app", authid: "pub", role: "user" }, "pub-ticket");
    await stack.service!.reload();
  });

  after(async () => stack?.stop());

  it("40 wrong SCRAM proofs, then the right one: refused (locked); the audit shows the proof failures", { timeout: 120_000 }, async () => {
    const results = await pyLogins({ url: stack.wsUrl, realm: "app", authmethod: "scram", authid: "sam" }, [
      ...Array.from({ length: 40 }, (_, i) => `wrong-${i}`),
      "sam-password",
    ]);
    // threshold + 1 HELLOs are answered (each then fails the router's proof check); every later one,
    // the right password included, is refused at HELLO, before any CHALLENGE.
    const challenged = results.filter(pyChallenged);
    assert.equal(challenged.length, THRESHOLD + 1, JSON.stringify(results.map((r) => ("abort" in r ? r.message : "welcome"))));
    for (const r of results.slice(0, THRESHOLD + 1)) {
      assert.ok(pyChallenged(r));
      assert.deepEqual("abort" in r && [r.abort, r.message], [DENY_URI, "SCRAM authentication failed"]);
    }
    for (const r of results.slice(THRESHOLD + 1)) {
      assert.equal(r.challenge, null);
      assert.deepEqual("abort" in r && [r.abort, r.message], [DENY_URI, DENY_MESSAGE]);
    }
    // Once the answers' joins are overdue, the failures are stored and audited, and the lock holds.
    await sleep(PROOF_TIMEOUT_MS + 500);
    assert.deepEqual(await failures("app", "sam"), { failures: THRESHOLD + 1, locked: true });
    const rows = await proofRows("sam");
    assert.equal(rows.length, THRESHOLD + 1);
    for (const r of rows) {
      assert.equal(r.method, "scram");
      assert.equal(r.reason, `proof failed: the session did not join within ${PROOF_TIMEOUT_MS} ms`);
      assert.match(r.peer ?? "", /^tcp4:127\.0\.0\.1:\d+$/);
      assert.ok(Number(r.session) > 0);
    }
    const again = await pyLogin({ url: stack.wsUrl, realm: "app", authmethod: "scram", authid: "sam", password: "sam-password" });
    assert.equal(again.challenge, null);
    assert.deepEqual("abort" in again && [again.abort, again.message], [DENY_URI, DENY_MESSAGE]);
  });

  it("12 wrong WAMP-CRA signatures, then the right one: refused (locked); audited", { timeout: 60_000 }, async () => {
    const attempts: Attempt[] = [];
    for (let i = 0; i < 12; i++) attempts.push(await craAttempt(stack.wsUrl, "app", "carol", `wrong-${i}`));
    const right = await craAttempt(stack.wsUrl, "app", "carol", "carol-secret");
    for (const a of attempts.slice(0, THRESHOLD + 1)) {
      assert.ok(a.challenge, "answered: a CHALLENGE");
      assert.deepEqual(a.abort, { reason: DENY_URI, message: "WAMP-CRA client signature is invalid" });
    }
    for (const a of attempts.slice(THRESHOLD + 1)) assertLockedAtHello(a, "a wrong signature past the threshold");
    assertLockedAtHello(right, "the right secret while locked");
    await sleep(PROOF_TIMEOUT_MS + 500);
    assert.deepEqual(await failures("app", "carol"), { failures: THRESHOLD + 1, locked: true });
    const rows = await proofRows("carol");
    assert.equal(rows.length, THRESHOLD + 1);
    assert.ok(rows.every((r) => r.method === "wampcra" && r.reason?.startsWith("proof failed")));
    assertLockedAtHello(await craAttempt(stack.wsUrl, "app", "carol", "carol-secret"), "the right secret, lock stored");
  });

  it("cryptosign signatures from a wrong key, then the right key: refused (locked); audited", { timeout: 60_000 }, async () => {
    const attempts: Attempt[] = [];
    // Announces erin's public key, signs with another one.
    for (let i = 0; i < 10; i++) attempts.push(await cryptosignAttempt(stack.wsUrl, "app", "erin", keys.stranger, pubHex(keys.erin)));
    const right = await cryptosignAttempt(stack.wsUrl, "app", "erin", keys.erin);
    for (const a of attempts.slice(0, THRESHOLD + 1)) {
      assert.ok(a.challenge);
      assert.deepEqual(a.abort, { reason: DENY_URI, message: "signed message has invalid signature" });
    }
    for (const a of attempts.slice(THRESHOLD + 1)) assertLockedAtHello(a, "a wrong key past the threshold");
    assertLockedAtHello(right, "the right key while locked");
    await sleep(PROOF_TIMEOUT_MS + 500);
    assert.deepEqual(await failures("app", "erin"), { failures: THRESHOLD + 1, locked: true });
    assert.equal((await proofRows("erin")).filter((r) => r.method === "cryptosign").length, THRESHOLD + 1);
  });

  it("good logins join and leave no failure; a join clears the account's counter like a good ticket", { timeout: 60_000 }, async () => {
    // Two failures on sara's own counter first (a ticket login of a user without a ticket).
    for (let i = 0; i < 2; i++) await assert.rejects(ticketLogin(stack.wsUrl, "app", "sara", "x"), Aborted);
    assert.equal((await failures("app", "sara"))?.failures, 2);
    assert.equal(
      welcomeOf(await pyLogin({ url: stack.wsUrl, realm: "app", authmethod: "scram", authid: "sara", password: "sara-password" })).authid,
      "sara",
    );
    const cra = await craAttempt(stack.wsUrl, "app", "cora", "cora-secret");
    assert.equal(cra.abort, null);
    const cs = await cryptosignAttempt(stack.wsUrl, "app", "ed", keys.ed);
    assert.equal(cs.abort, null);
    // A realm override: the session joins realm `other`, where the service watches too.
    assert.equal(
      welcomeOf(await pyLogin({ url: stack.wsUrl, realm: "app", authmethod: "scram", authid: "rita", password: "rita-password" })).realm,
      "other",
    );
    await sleep(200);
    assert.equal(await failures("app", "sara"), null, "the join counted as a proven credential");
    await sleep(PROOF_TIMEOUT_MS + 300);
    for (const authid of ["sara", "cora", "ed", "rita"]) {
      assert.equal(await failures("app", authid), null, `${authid}: no failure counted`);
      assert.deepEqual(
        (await proofRows(authid)).filter((r) => r.reason?.startsWith("proof failed")),
        [],
        `${authid}: no proof failure audited`,
      );
    }
  });

  it("a user logging in several sessions at once (threshold + 1) is not locked out", { timeout: 60_000 }, async () => {
    const n = THRESHOLD + 1;
    const all = await Promise.all(Array.from({ length: n }, () => cryptosignAttempt(stack.wsUrl, "app", "ed", keys.ed)));
    assert.deepEqual(
      all.map((a) => a.abort),
      Array.from({ length: n }, () => null),
    );
    const scram = await pyLogins({ url: stack.wsUrl, realm: "app", authmethod: "scram", authid: "sara" }, Array(n).fill("sara-password"));
    assert.ok(scram.every((r) => "welcome" in r));
    await sleep(PROOF_TIMEOUT_MS + 300);
    assert.equal(await failures("app", "ed"), null);
    assert.equal(await failures("app", "sara"), null);
  });

  it("a burst of HELLOs for one account is throttled by the pending ones, before any timeout fires", { timeout: 60_000 }, async () => {
    const started = Date.now();
    // Cryptosign: signing is cheap, so the whole burst is over long before the proofs are overdue.
    const burst = await Promise.all(
      Array.from({ length: 14 }, () => cryptosignAttempt(stack.wsUrl, "app", "bea", keys.stranger, pubHex(keys.bea))),
    );
    const right = await cryptosignAttempt(stack.wsUrl, "app", "bea", keys.bea);
    const elapsed = Date.now() - started;
    // Nothing is stored yet: only the pending answers can have refused the rest.
    assert.equal(await failures("app", "bea"), null);
    assert.ok(elapsed < PROOF_TIMEOUT_MS, `the burst took ${elapsed} ms`);
    const answered = burst.filter((a) => a.challenge !== null);
    const refused = burst.filter((a) => a.challenge === null);
    assert.equal(answered.length, THRESHOLD + 1);
    for (const a of answered) assert.equal(a.abort?.message, "signed message has invalid signature");
    for (const a of refused) assertLockedAtHello(a, "burst member past the threshold");
    // The right key too, while they are pending.
    assertLockedAtHello(right, "right key during the burst");
    await sleep(PROOF_TIMEOUT_MS + 500);
    assert.deepEqual(await failures("app", "bea"), { failures: THRESHOLD + 1, locked: true });
  });

  it(
    "hostile: a client cannot fake the join of its own pending session (Crossbar refuses wamp.* publications)",
    { timeout: 60_000 },
    async () => {
      const attacker = await ticketLogin(stack.wsUrl, "app", "pub", "pub-ticket");
      try {
        // The WAMP-CRA challenge text names the pending session id.
        const a = await craAttempt(stack.wsUrl, "app", "cathy", "wrong");
        assert.ok(a.challenge);
        const session = (JSON.parse(String(a.challenge.challenge)) as { session: number }).session;
        assert.ok(Number.isSafeInteger(session) && session > 0);
        const err = await Promise.resolve(
          attacker.session.publish(
            "wamp.session.on_join",
            [{ session, authid: "cathy", authrole: "user", realm: "app", authmethod: "wampcra", authprovider: "dynamic" }],
            {},
            { acknowledge: true },
          ),
        ).then(
          () => null,
          (e: unknown) => (e as { error?: string }).error ?? String(e),
        );
        assert.equal(err, "wamp.error.invalid_uri");
        await sleep(PROOF_TIMEOUT_MS + 500);
        assert.equal((await failures("app", "cathy"))?.failures, 1, "the failure is counted all the same");
      } finally {
        attacker.close();
      }
    },
  );

  it("the lock of a router-checked method applies to every method (a ticket login of that account is refused too)", async () => {
    // sam is locked by SCRAM failures; a ticket attempt is refused before any lookup, as for tickets.
    const a = await connect({ url: stack.wsUrl, realm: "app", authmethods: ["ticket"], authid: "sam", onchallenge: () => "whatever" }).then(
      (c) => {
        c.close();
        return null;
      },
      (e: unknown) => e,
    );
    assert.ok(a instanceof Aborted);
    assert.deepEqual([a.reason, a.abortMessage], [DENY_URI, DENY_MESSAGE]);
    await stack.service!.audit.flush();
    const rows = await listAudit(stack.store.pool, { kind: "login", authid: "sam", limit: 1000 });
    assert.ok(!rows.some((r) => r.method === "ticket"), "refused as locked: counted in the rollup, not audited as a ticket failure");
  });
});

describe("a service role that may not subscribe to wamp.session.on_join (an operator's older Crossbar config)", () => {
  let stack: Stack;
  const captured = capturedLogger("info");
  const ed = keyPair();

  before(async () => {
    // Crossbar is started by hand, after the service role in realm `app` lost `subscribe` on wamp.session.
    stack = await startStack({
      realms: { app: ["user"] },
      methods: ["cryptosign"],
      serviceFirst: true,
      log: captured.log,
      service: { throttle: { accountThreshold: 2, peerThreshold: 100_000, proofTimeoutMs: 800 } },
    });
    const worker = (
      stack.crossbarConfig as {
        workers: Array<{
          realms: Array<{
            name: string;
            roles: Array<{ name: string; permissions?: Array<{ uri: string; allow: Record<string, boolean> }> }>;
          }>;
        }>;
      }
    ).workers[0]!;
    const svc = worker.realms.find((r) => r.name === "app")!.roles.find((r) => r.name === "authd")!;
    for (const p of svc.permissions ?? []) if (p.uri === "wamp.session.") p.allow.subscribe = false;
    const db = stack.store.pool;
    await admin.addRealm(db, "app");
    await admin.addRole(db, "app", "user");
    const id = await admin.addUser(db, { realm: "app", authid: "ed", role: "user" });
    await admin.addKeyedCredential(db, id, "cryptosign", pubHex(ed), "laptop", null);
    await stack.startCrossbar();
    await stack.ready();
    await stack.service!.reload();
  });

  after(async () => stack?.stop());

  it(
    "logs an error naming the realm; good logins are never turned into failures (proofs there are not counted)",
    { timeout: 60_000 },
    async () => {
      await waitFor("the subscription error", () =>
        captured.records().some((r) => r.realm === "app" && String(r.msg).startsWith("cannot subscribe to session joins")),
      );
      for (let i = 0; i < 4; i++) assert.equal((await cryptosignAttempt(stack.wsUrl, "app", "ed", ed)).abort, null);
      await sleep(1200);
      const { rows } = await stack.store.pool.query("SELECT scope, key FROM authd.login_failures");
      assert.deepEqual(rows, []);
      assert.ok(
        captured
          .records()
          .some((r) => r.msg === "no wamp.session.on_join subscription in this realm: router-checked proofs there are not counted"),
      );
    },
  );
});
