/**
 * No secret ever lands in logs or the audit trail: logins (good and bad) with every method through a
 * real Crossbar, the service logging at debug level into a file, then both the log file and every
 * audit row are searched for each ticket, password, CRA secret/key, derived key and private key used.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import autobahn from "autobahn";
import pino from "pino";
import { CraCipher, parseCraKeys } from "../../src/auth/craCipher.js";
import { buildCraCredential, deriveCraKey } from "../../src/auth/craCredential.js";
import { normalizeFingerprint } from "../../src/auth/methods/tls.js";
import { decoyCraAnswer, decoyPublicKey, decoyScramAnswer } from "../../src/auth/decoys.js";
import { deriveScramCredential } from "../../src/auth/scramCredential.js";
import { createLogger } from "../../src/log/logger.js";
import { freePort } from "../../devstack/ports.js";
import * as admin from "../../src/store/adminQueries.js";
import { listAudit, listRollups } from "../../src/store/auditQueries.js";
import { TestPki } from "../helpers/certs.js";
import { connect, ticketLogin, type Joined } from "../helpers/client.js";
import { pyLogin } from "../helpers/pyClient.js";
import { userWithTicket } from "../helpers/seed.js";
import { startStack, type Stack } from "../helpers/stack.js";
import { connectTls } from "../helpers/tlsClient.js";
import { removeTempDir, tempDir } from "../../devstack/tempDirs.js";

const settle = async (p: Promise<unknown>): Promise<"welcome" | "abort"> => {
  try {
    const j = (await p) as Joined | { welcome?: unknown };
    if (j && typeof (j as Joined).close === "function") (j as Joined).close();
    if (j && "abort" in (j as object)) return "abort";
    return "welcome";
  } catch {
    return "abort";
  }
};

describe("no secret in logs or audit rows (every method, real Crossbar, debug logging)", () => {
  let stack: Stack;
  let pki: TestPki;
  let logDir: string;
  let logFile: string;
  let wssUrl: string;
  const secrets: Record<string, string> = {};
  const craKeyHex = randomBytes(32).toString("hex");
  const craKey = `k1:${craKeyHex}`;
  const cipher = new CraCipher(parseCraKeys(craKey, "test"));
  const seed = randomBytes(32);
  const pair = autobahn.nacl.sign.keyPair.fromSeed(new Uint8Array(seed));
  const pubkey = Buffer.from(pair.publicKey).toString("hex");
  const outcomes: Record<string, string> = {};

  before(async () => {
    logDir = tempDir("secrets");
    logFile = join(logDir, "service.log");
    const log = createLogger("debug", pino.destination({ dest: logFile, sync: true }));
    pki = new TestPki();
    const ca = pki.ca("secrets-ca");
    const server = pki.issue(ca, "localhost", "server");
    const client = pki.issue(ca, "tess", "client");
    const tlsPort = await freePort();
    wssUrl = `wss://127.0.0.1:${tlsPort}/ws`;
    stack = await startStack({
      realms: { app: ["user"] },
      methods: ["ticket", "wampcra", "cryptosign", "scram", "anonymous"],
      crossbar: { tls: { port: tlsPort, certificate: server.cert, key: server.key, caCertificates: [ca.cert] } },
      service: { cra: { key: craKey, secretMode: "plain" }, throttle: { proofTimeoutMs: 1000 } },
      log,
    });
    const db = stack.store.pool;
    await admin.addRealm(db, "app");
    await admin.addRole(db, "app", "user");
    await admin.setAnonymousPolicy(db, "app", { allowed: true, role: "user", cidrs: [], authid: null, extra: {} });

    secrets.ticket = `tkt-${randomBytes(12).toString("hex")}`;
    secrets.wrongTicket = `wrong-tkt-${randomBytes(12).toString("hex")}`;
    await userWithTicket(db, { realm: "app", authid: "tom", role: "user" }, secrets.ticket);

    secrets.craSecret = `cra-${randomBytes(12).toString("hex")}`;
    secrets.craWrong = `cra-wrong-${randomBytes(12).toString("hex")}`;
    secrets.craKeyHex = craKeyHex;
    const craData = buildCraCredential(cipher, secrets.craSecret, { iterations: 1000, keylen: 32 });
    const salt = { salt: String(craData.salt), iterations: Number(craData.iterations), keylen: Number(craData.keylen) };
    secrets.craDerived = deriveCraKey(secrets.craSecret, salt);
    const carl = await admin.addUser(db, { realm: "app", authid: "carl", role: "user" });
    await admin.upsertSecretCredential(db, carl, "wampcra", craData);

    secrets.scramPassword = `scram-${randomBytes(12).toString("hex")}`;
    secrets.scramWrong = `scram-wrong-${randomBytes(12).toString("hex")}`;
    const scramCred = await deriveScramCredential(secrets.scramPassword, { iterations: 2, memory: 1024 });
    secrets.storedKey = String((scramCred as unknown as Record<string, unknown>).stored_key);
    secrets.serverKey = String((scramCred as unknown as Record<string, unknown>).server_key);
    const sue = await admin.addUser(db, { realm: "app", authid: "sue", role: "user" });
    await admin.upsertSecretCredential(db, sue, "scram", { ...scramCred });

    secrets.cryptosignSeed = seed.toString("hex");
    secrets.cryptosignSecretKey = Buffer.from(pair.secretKey).toString("hex");
    const cy = await admin.addUser(db, { realm: "app", authid: "cy", role: "user" });
    await admin.addKeyedCredential(db, cy, "cryptosign", pubkey, "laptop", null);

    const tess = await admin.addUser(db, { realm: "app", authid: "tess", role: "user" });
    await admin.addKeyedCredential(db, tess, "tls", normalizeFingerprint(client.sha256)!, "tess", null);
    secrets.tlsKey = readFileSync(client.key, "utf8")
      .split("\n")
      .filter((l) => l && !l.startsWith("-----"))[1]!;
    await stack.service!.reload();

    const craLogin = (secret: string) =>
      connect({
        url: stack.wsUrl,
        realm: "app",
        authmethods: ["wampcra"],
        authid: "carl",
        onchallenge: (_s, _m, extra) =>
          autobahn.auth_cra.sign(
            autobahn.auth_cra.derive_key(secret, extra.salt as string, extra.iterations as number, extra.keylen as number),
            extra.challenge as string,
          ),
      });
    outcomes.ticket = await settle(ticketLogin(stack.wsUrl, "app", "tom", secrets.ticket));
    outcomes.ticketWrong = await settle(ticketLogin(stack.wsUrl, "app", "tom", secrets.wrongTicket));
    outcomes.ticketUnknown = await settle(ticketLogin(stack.wsUrl, "app", "nobody", secrets.wrongTicket));
    outcomes.cra = await settle(craLogin(secrets.craSecret));
    outcomes.craWrong = await settle(craLogin(secrets.craWrong));
    outcomes.cryptosign = await settle(
      connect({
        url: stack.wsUrl,
        realm: "app",
        authmethods: ["cryptosign"],
        authid: "cy",
        authextra: { pubkey },
        onchallenge: (_s, _m, extra) => autobahn.auth_cryptosign.sign_challenge(pair, extra as { challenge: string }),
      }),
    );
    outcomes.scram = await settle(
      pyLogin({ url: stack.wsUrl, realm: "app", authmethod: "scram", authid: "sue", password: secrets.scramPassword }),
    );
    outcomes.scramWrong = await settle(
      pyLogin({ url: stack.wsUrl, realm: "app", authmethod: "scram", authid: "sue", password: secrets.scramWrong }),
    );
    outcomes.anonymous = await settle(connect({ url: stack.wsUrl, realm: "app", authmethods: ["anonymous"] }));
    outcomes.tls = await settle(
      connectTls({ ca: ca.cert, cert: client.cert, key: client.key }, { url: wssUrl, realm: "app", authmethods: ["tls"] }),
    );
    // Decoy answers (unknown users of the router-checked methods).
    outcomes.scramDecoy = await settle(
      pyLogin({ url: stack.wsUrl, realm: "app", authmethod: "scram", authid: "ghost-scram", password: secrets.scramWrong }),
    );
    outcomes.craDecoy = await settle(
      connect({
        url: stack.wsUrl,
        realm: "app",
        authmethods: ["wampcra"],
        authid: "ghost-cra",
        onchallenge: (_s, _m, extra) => autobahn.auth_cra.sign(secrets.craWrong!, extra.challenge as string),
      }),
    );
    const stranger = autobahn.nacl.sign.keyPair.fromSeed(new Uint8Array(randomBytes(32)));
    outcomes.cryptosignDecoy = await settle(
      connect({
        url: stack.wsUrl,
        realm: "app",
        authmethods: ["cryptosign"],
        authid: "ghost-cs",
        authextra: { pubkey: Buffer.from(stranger.publicKey).toString("hex") },
        onchallenge: (_s, _m, extra) => autobahn.auth_cryptosign.sign_challenge(stranger, extra as { challenge: string }),
      }),
    );
    // The service key the decoys come from, and what it derives for these names.
    const { rows } = await db.query<{ value: Buffer }>("SELECT value FROM authd.service_secrets WHERE name = 'throttle.buckets'");
    const serviceKey = rows[0]!.value;
    secrets.serviceKey = serviceKey.toString("hex");
    secrets.decoyPubkey = decoyPublicKey(serviceKey, "app");
    secrets.decoyScramSalt = String(decoyScramAnswer(serviceKey, "app", "ghost-scram", { iterations: 1, memory: 8 }).salt);
    secrets.decoyCraSalt = String(decoyCraAnswer(serviceKey, "app", "ghost-cra", "plain").salt);
    // Failed proofs are audited once their join is overdue.
    await new Promise((r) => setTimeout(r, 1500));
    await stack.service!.audit.flush();
  });

  after(async () => {
    await stack?.stop();
    pki?.remove();
    if (logDir) await removeTempDir(logDir);
  });

  it("the logins ran as expected (so the logs have something to show)", () => {
    assert.deepEqual(outcomes, {
      ticket: "welcome",
      ticketWrong: "abort",
      ticketUnknown: "abort",
      cra: "welcome",
      craWrong: "abort",
      cryptosign: "welcome",
      scram: "welcome",
      scramWrong: "abort",
      anonymous: "welcome",
      tls: "welcome",
      scramDecoy: "abort",
      craDecoy: "abort",
      cryptosignDecoy: "abort",
    });
  });

  it("the debug log has the logins but none of the secrets", () => {
    const text = readFileSync(logFile, "utf8");
    for (const m of ["ticket", "wampcra", "cryptosign", "scram", "anonymous", "tls"])
      assert.match(text, new RegExp(`"authmethod":"${m}"`), `${m} logged`);
    assert.match(text, /"level":20/, "debug lines were written");
    for (const [name, value] of Object.entries(secrets)) {
      assert.ok(value.length >= 16, `${name} is long enough to grep for`);
      assert.equal(text.includes(value), false, `${name} appears in the log`);
    }
    // The random parts of decoys (SCRAM stored/server keys: 64 hex) and any other key material:
    // no run of 32+ hex characters is logged at all.
    assert.deepEqual(text.match(/[0-9a-fA-F]{32,}/g) ?? [], []);
    assert.match(text, /"outcome":"decoy"/, "decoy answers are logged (without their material)");
  });

  it("no audit row holds a secret; every login is audited with method, peer and reason", async () => {
    const rows = await listAudit(stack.store.pool, { kind: "login", limit: 1000 });
    const text = JSON.stringify(rows);
    for (const [name, value] of Object.entries(secrets)) assert.equal(text.includes(value), false, `${name} appears in the audit trail`);
    const methods = new Set(rows.map((r) => r.method));
    for (const m of ["ticket", "wampcra", "cryptosign", "scram", "anonymous", "tls"]) assert.ok(methods.has(m), `${m} audited`);
    const wrong = rows.find((r) => r.authid === "tom" && r.outcome === "deny");
    assert.equal(wrong?.reason, "wrong ticket");
    assert.match(wrong?.peer ?? "", /^tcp4:127\.0\.0\.1:\d+$/);
    const ok = rows.find((r) => r.authid === "tom" && r.outcome === "allow");
    assert.ok(ok?.session && Number(ok.session) > 0, "the session id is recorded");
    assert.deepEqual(text.match(/[0-9a-fA-F]{32,}/g) ?? [], []);
    // A wrong SCRAM password and a wrong CRA secret are failed proofs of known accounts.
    for (const [authid, method] of [
      ["sue", "scram"],
      ["carl", "wampcra"],
    ])
      assert.ok(
        rows.some((r) => r.authid === authid && r.method === method && r.outcome === "deny" && r.reason?.startsWith("proof failed")),
        `${authid}: failed proof audited`,
      );
    const rollups = JSON.stringify(await listRollups(stack.store.pool, {}));
    for (const [name, value] of Object.entries(secrets)) assert.equal(rollups.includes(value), false, `${name} appears in the rollups`);
    assert.match(rollups, /proof_failed/);
  });
});
