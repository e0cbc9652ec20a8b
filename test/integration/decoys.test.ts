/**
 * Who exists does not show at HELLO: unknown, disabled and credential-less users of wampcra,
 * cryptosign and scram get a decoy answer, so the client sees a CHALLENGE shaped like a real user's
 * and then the router's own wrong-password ABORT. Real Crossbar, real Postgres; autobahn-python for
 * SCRAM (it records the CHALLENGE), autobahn-js for WAMP-CRA and cryptosign.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { CraCipher, parseCraKeys } from "../../src/auth/craCipher.js";
import { buildCraCredential, CRA_DEFAULTS } from "../../src/auth/craCredential.js";
import { deriveScramCredential } from "../../src/auth/scramCredential.js";
import { DENY_MESSAGE, DENY_URI } from "../../src/errors/authErrors.js";
import * as admin from "../../src/store/adminQueries.js";
import { listAudit, listRollups } from "../../src/store/auditQueries.js";
import { craAttempt, cryptosignAttempt, keyPair, pubHex, type Attempt } from "../helpers/proofClients.js";
import { pyLogins, type PyResult } from "../helpers/pyClient.js";
import { freshStore, type TestStore } from "../helpers/db.js";
import { inProcess, type InProcess } from "../helpers/inProcess.js";
import { userWithTicket } from "../helpers/seed.js";
import { startStack, type Stack } from "../helpers/stack.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const SCRAM = { iterations: 3, memory: 1024 };
const THRESHOLD = 4;
const PROOF_TIMEOUT_MS = 1500;

type ScramChallenge = { kdf: string; iterations: number; memory: number; salt: string; nonce: string };

function scramChallenge(r: PyResult): ScramChallenge {
  assert.equal(r.challenge?.method, "scram", `a SCRAM CHALLENGE, got ${JSON.stringify(r)}`);
  return r.challenge.extra as ScramChallenge;
}

const abortOf = (r: PyResult) => ("abort" in r ? { reason: r.abort, message: r.message } : { welcome: r.welcome.authid });

/** The challenge text Crossbar builds for WAMP-CRA (JSON: authid, authrole, ..., session, nonce, timestamp). */
const craText = (a: Attempt) => JSON.parse(String(a.challenge?.challenge)) as { authid: string; authrole: string; session: number };

describe("decoy answers: unknown, disabled and credential-less users look like real ones at HELLO (real Crossbar)", () => {
  let stack: Stack;
  const craKey = `k1:${randomBytes(32).toString("hex")}`;
  const cipher = new CraCipher(parseCraKeys(craKey, "test"));
  const erin = keyPair();
  const dora = keyPair();
  const stranger = keyPair();
  const scram = (authid: string, passwords: string[], realm = "app") =>
    pyLogins({ url: stack.wsUrl, realm, authmethod: "scram", authid }, passwords);

  before(async () => {
    stack = await startStack({
      // lobby: a realm Crossbar has and the store does not
      realms: { app: ["user", "guest"], ops: ["admin", "staff"], lobby: ["user"] },
      methods: ["ticket", "wampcra", "cryptosign", "scram"],
      service: {
        cra: { key: craKey, secretMode: "plain" },
        scram: SCRAM,
        throttle: { accountThreshold: THRESHOLD, peerThreshold: 100_000, baseLockMs: 60_000, proofTimeoutMs: PROOF_TIMEOUT_MS },
      },
    });
    const db = stack.store.pool;
    await admin.addRealm(db, "app");
    for (const r of ["user", "guest"]) await admin.addRole(db, "app", r);
    await admin.addRealm(db, "ops");
    for (const r of ["admin", "staff"]) await admin.addRole(db, "ops", r);
    const user = async (u: admin.NewUser, scramPw?: string, craSecret?: string) => {
      const id = await admin.addUser(db, u);
      // Made as `users passwd` makes them with this config.
      if (scramPw) await admin.upsertSecretCredential(db, id, "scram", { ...(await deriveScramCredential(scramPw, SCRAM)) });
      if (craSecret) await admin.upsertSecretCredential(db, id, "wampcra", buildCraCredential(cipher, craSecret));
      return id;
    };
    await user({ realm: "app", authid: "sam", role: "user" }, "sam-password", "sam-secret");
    await user({ realm: "app", authid: "sid", role: "user", disabled: true }, "sid-password", "sid-secret");
    await user({ realm: "app", authid: "gus", role: "guest" }, "gus-password", "gus-secret");
    await user({ realm: "app", authid: "uma", role: "user" });
    // Known users wamp-authd refuses for an operator's reason: a role the realm does not have, a
    // WAMP-CRA secret encrypted under a key the service no longer has.
    await user({ realm: "app", authid: "rolf", role: "gone" }, "rolf-password", "rolf-secret");
    const lost = new CraCipher(parseCraKeys(`k0:${randomBytes(32).toString("hex")}`, "test"));
    await admin.upsertSecretCredential(
      db,
      await user({ realm: "app", authid: "lou", role: "user" }),
      "wampcra",
      buildCraCredential(lost, "lou-secret"),
    );
    await userWithTicket(db, { realm: "app", authid: "tina", role: "user" }, "tina-ticket");
    const erinId = await user({ realm: "app", authid: "erin", role: "user" });
    await admin.addKeyedCredential(db, erinId, "cryptosign", pubHex(erin), "laptop", null);
    const doraId = await user({ realm: "app", authid: "dora", role: "user", disabled: true });
    await admin.addKeyedCredential(db, doraId, "cryptosign", pubHex(dora), "laptop", null);
    // ops: staff is the most common role; the admin is the odd one out.
    await user({ realm: "ops", authid: "ada", role: "admin" }, undefined, "ada-secret");
    for (const s of ["stu", "sue"]) await user({ realm: "ops", authid: s, role: "staff" }, undefined, `${s}-secret`);
    await stack.service!.reload();
  });

  after(async () => stack?.stop());

  it("SCRAM: an unknown, a disabled and a credential-less user get a CHALLENGE shaped like a real user's, then the wrong-password ABORT", async () => {
    const [real] = await scram("sam", ["not-sams-password"]);
    const realChallenge = scramChallenge(real!);
    const wrongPassword = abortOf(real!);
    assert.deepEqual(wrongPassword, { reason: DENY_URI, message: "SCRAM authentication failed" });
    const [ghostA1, ghostA2] = await scram("ghost-a", ["x", "y"]);
    const [ghostB] = await scram("ghost-b", ["x"]);
    const [disabled] = await scram("sid", ["sid-password"]);
    const [noCredential] = await scram("tina", ["tina-ticket"]);
    const [roleProblem] = await scram("rolf", ["rolf-password"]);
    const decoys = { ghostA1, ghostA2, ghostB, disabled, noCredential, roleProblem };
    for (const [what, r] of Object.entries(decoys)) {
      const c = scramChallenge(r!);
      assert.equal(c.kdf, realChallenge.kdf, what);
      assert.equal(c.iterations, realChallenge.iterations, what);
      assert.equal(c.memory, realChallenge.memory, what);
      assert.equal(c.salt.length, realChallenge.salt.length, `${what}: salt length`);
      assert.equal(Buffer.from(c.salt, "base64").length, 16, what);
      assert.deepEqual(abortOf(r!), wrongPassword, what);
    }
    assert.deepEqual([realChallenge.kdf, realChallenge.iterations, realChallenge.memory], ["argon2id-13", SCRAM.iterations, SCRAM.memory]);
    // A name's salt is the same on every HELLO (as a stored one is) and differs between names.
    assert.equal(scramChallenge(ghostA1!).salt, scramChallenge(ghostA2!).salt);
    assert.notEqual(scramChallenge(ghostA1!).salt, scramChallenge(ghostB!).salt);
    assert.notEqual(scramChallenge(disabled!).salt, scramChallenge(noCredential!).salt);
  });

  it("WAMP-CRA: the CHALLENGE carries the salt parameters users passwd writes; same ABORT as a wrong secret", async () => {
    const real = await craAttempt(stack.wsUrl, "app", "sam", "not-sams-secret");
    assert.deepEqual(real.abort, { reason: DENY_URI, message: "WAMP-CRA client signature is invalid" });
    const shape = (a: Attempt) => ({
      keys: Object.keys(a.challenge ?? {}).sort(),
      iterations: a.challenge?.iterations,
      keylen: a.challenge?.keylen,
      saltLength: String(a.challenge?.salt).length,
      role: craText(a).authrole,
    });
    assert.deepEqual(shape(real), {
      keys: ["challenge", "iterations", "keylen", "salt"],
      iterations: CRA_DEFAULTS.iterations,
      keylen: CRA_DEFAULTS.keylen,
      saltLength: 2 * CRA_DEFAULTS.saltBytes,
      role: "user",
    });
    const decoys = {
      unknown1: await craAttempt(stack.wsUrl, "app", "ghost-c", "x"),
      unknown2: await craAttempt(stack.wsUrl, "app", "ghost-c", "y"),
      other: await craAttempt(stack.wsUrl, "app", "ghost-d", "x"),
      disabled: await craAttempt(stack.wsUrl, "app", "sid", "sid-secret"),
      noCredential: await craAttempt(stack.wsUrl, "app", "tina", "tina-ticket"),
      unusableCredential: await craAttempt(stack.wsUrl, "app", "lou", "lou-secret"),
      roleProblem: await craAttempt(stack.wsUrl, "app", "rolf", "rolf-secret"),
    };
    for (const [what, a] of Object.entries(decoys)) {
      assert.deepEqual(shape(a), shape(real), what);
      assert.deepEqual(a.abort, real.abort, what);
    }
    assert.equal(decoys.unknown1.challenge?.salt, decoys.unknown2.challenge?.salt);
    assert.notEqual(decoys.unknown1.challenge?.salt, decoys.other.challenge?.salt);
    assert.equal(craText(decoys.unknown1).authid, "ghost-c");
  });

  it("the decoy role is the realm's most common role among its users; Crossbar shows the role in a CRA challenge", async () => {
    const decoy = await craAttempt(stack.wsUrl, "ops", "ghost-e", "x");
    assert.equal(craText(decoy).authrole, "staff");
    assert.equal(decoy.abort?.message, "WAMP-CRA client signature is invalid", "the role exists in Crossbar's realm: no no_such_role");
    // A user whose role differs from the realm's most common one is told apart by it (documented).
    assert.equal(craText(await craAttempt(stack.wsUrl, "ops", "ada", "not-adas-secret")).authrole, "admin");
  });

  it("cryptosign: an unknown user, an unknown key and a disabled user get a CHALLENGE, then the ABORT a wrong key gets", async () => {
    const wrongKey = await cryptosignAttempt(stack.wsUrl, "app", "erin", stranger, pubHex(erin));
    assert.deepEqual(wrongKey.abort, { reason: DENY_URI, message: "signed message has invalid signature" });
    for (const [what, a] of [
      ["unknown user", await cryptosignAttempt(stack.wsUrl, "app", "ghost-f", stranger)],
      ["unknown key, no authid", await cryptosignAttempt(stack.wsUrl, "app", undefined, stranger)],
      ["disabled user, own key", await cryptosignAttempt(stack.wsUrl, "app", "dora", dora)],
      ["a user without a cryptosign key", await cryptosignAttempt(stack.wsUrl, "app", "tina", stranger)],
    ] as const) {
      assert.deepEqual(Object.keys(a.challenge ?? {}).sort(), Object.keys(wrongKey.challenge ?? {}).sort(), what);
      assert.match(String(a.challenge?.challenge), /^[0-9a-f]{64}$/, what);
      assert.deepEqual(a.abort, wrongKey.abort, what);
    }
  });

  it("decoys are failed proofs: unknown names in the rollup (proof_failed), known accounts in their own rows; never an allow", async () => {
    await sleep(PROOF_TIMEOUT_MS + 500);
    await stack.service!.audit.flush();
    const db = stack.store.pool;
    const rollups = await listRollups(db, { kind: "proof_failed" });
    assert.ok(rollups.length >= 1);
    assert.ok(rollups.every((r) => r.realm === "app" || r.realm === "ops"));
    const total = rollups.reduce((n, r) => n + Number(r.count), 0);
    // ghost-a ×2, ghost-b, ghost-c ×2, ghost-d, ghost-e, ghost-f, the unknown key: 9 (and no more).
    assert.equal(total, 9);
    assert.match(rollups[0]!.sample_reason ?? "", /^unknown (user|key) \(decoy answered; proof failed\)$/);
    for (const authid of ["sid", "tina", "dora", "rolf", "lou"]) {
      const rows = await listAudit(db, { kind: "login", authid, limit: 100 });
      assert.ok(rows.length > 0, authid);
      for (const r of rows) {
        assert.equal(r.outcome, "deny", `${authid}: a decoy is never audited as an allow`);
        assert.match(r.reason ?? "", /\(decoy answered; proof failed\)$/, authid);
      }
    }
    assert.deepEqual(await listAudit(db, { kind: "login", authid: "ghost-a" }), [], "unknown names get no rows of their own");
    const lou = await listAudit(db, { kind: "login", authid: "lou", limit: 10 });
    assert.match(lou[0]?.reason ?? "", /^unusable wampcra credential: .* \(decoy answered; proof failed\)$/);
    const rolf = await listAudit(db, { kind: "login", authid: "rolf", limit: 10 });
    assert.ok(rolf.some((r) => r.reason === "role gone does not exist in realm app (decoy answered; proof failed)"));
  });

  it(
    "a lockout is still a denial at HELLO, after the same number of attempts for a known and an unknown name",
    { timeout: 60_000 },
    async () => {
      const sequence = async (authid: string) =>
        (
          await scram(
            authid,
            Array.from({ length: THRESHOLD + 3 }, (_, i) => `wrong-${i}`),
          )
        ).map((r) => (r.challenge ? "challenge" : `hello:${"abort" in r ? r.message : "welcome"}`));
      const known = await sequence("gus");
      const unknown = await sequence(`ghost-${randomBytes(4).toString("hex")}`);
      assert.deepEqual(known, [...Array(THRESHOLD + 1).fill("challenge"), ...Array(2).fill(`hello:${DENY_MESSAGE}`)]);
      assert.deepEqual(unknown, known);
    },
  );

  it("a realm the store does not know is denied at HELLO (Crossbar itself reveals its realms)", async () => {
    const [r] = await scram("anyone", ["x"], "lobby");
    assert.equal(r!.challenge, null);
    assert.deepEqual(abortOf(r!), { reason: DENY_URI, message: DENY_MESSAGE });
    const cra = await craAttempt(stack.wsUrl, "lobby", "anyone", "x");
    assert.equal(cra.challenge, null);
  });
});

describe("a decoy costs what a real answer costs (in process, real store)", () => {
  let store: TestStore;
  let ip: InProcess;
  const craKey = `k1:${randomBytes(32).toString("hex")}`;
  const cipher = new CraCipher(parseCraKeys(craKey, "test"));
  const pubkey = pubHex(keyPair());

  before(async () => {
    store = await freshStore();
    const db = store.pool;
    await admin.addRealm(db, "app");
    await admin.addRole(db, "app", "user");
    const id = await admin.addUser(db, { realm: "app", authid: "sam", role: "user" });
    await admin.upsertSecretCredential(db, id, "wampcra", buildCraCredential(cipher, "pw"));
    await admin.upsertSecretCredential(db, id, "scram", { ...(await deriveScramCredential("pw", SCRAM)) });
    await admin.addKeyedCredential(db, id, "cryptosign", pubkey, "laptop", null);
    ip = await inProcess(
      store.url,
      { cra: { key: craKey }, scram: SCRAM, throttle: { accountThreshold: 1_000_000, peerThreshold: 1_000_000 } },
      { watching: () => null },
    );
  });

  after(async () => {
    await ip?.close();
    await store?.close();
  });

  it("the same store queries, in the same order, for a real user and a decoy; answer times printed", { timeout: 120_000 }, async () => {
    // Record the named statements each answer runs (every auth-time statement is named).
    const seen: string[] = [];
    const query = ip.pool.query.bind(ip.pool) as (...a: unknown[]) => unknown;
    (ip.pool as unknown as { query: (...a: unknown[]) => unknown }).query = (...a: unknown[]) => {
      const c = a[0] as { name?: string } | string;
      seen.push(typeof c === "object" && c.name ? c.name : "unnamed");
      return query(...a);
    };
    let session = 1;
    const answer = async (method: string, authid: string) => {
      seen.length = 0;
      const t0 = performance.now();
      const authextra = method === "cryptosign" ? { pubkey } : method === "scram" ? { nonce: "bm9uY2U=" } : {};
      const a = await ip.authenticator.authenticate([
        "app",
        authid,
        { authmethod: method, session: session++, authextra, transport: { peer: "tcp4:192.0.2.9:1" } },
      ]);
      return { ms: performance.now() - t0, queries: [...seen], keys: Object.keys(a).sort() };
    };
    const lines: string[] = [];
    for (const method of ["wampcra", "scram", "cryptosign"]) {
      await answer(method, "warm-up"); // the realm's decoy role is counted once, then cached
      const real = await answer(method, "sam");
      const decoy = await answer(method, "nobody");
      assert.deepEqual(decoy.queries, real.queries, method);
      assert.deepEqual(decoy.keys, real.keys, method);
      const times = { real: [] as number[], decoy: [] as number[] };
      for (let i = 0; i < 200; i++) {
        const pair = i % 2 ? (["sam", `ghost-${i}`] as const) : ([`ghost-${i}`, "sam"] as const);
        for (const authid of pair) times[authid === "sam" ? "real" : "decoy"].push((await answer(method, authid)).ms);
      }
      const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[xs.length >> 1]!;
      lines.push(`${method} real ${median(times.real).toFixed(2)} ms, decoy ${median(times.decoy).toFixed(2)} ms`);
    }
    console.log(`answer time in process, medians of 200 interleaved: ${lines.join("; ")}`);
  });
});
