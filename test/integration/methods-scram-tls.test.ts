/**
 * WAMP-SCRAM and WAMP-TLS end to end: real Postgres, real Crossbar (with a TLS transport that verifies
 * client certificates), real wamp-authd, real clients — autobahn-python for SCRAM and ticket (autobahn-js
 * has no SCRAM), autobahn-js (and once autobahn-python) for TLS client certificates.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { normalizeFingerprint } from "../../src/auth/methods/tls.js";
import { deriveScramCredential } from "../../src/auth/scramCredential.js";
import { autobahn } from "../../src/router/wamp.js";
import { freePort } from "../../devstack/ports.js";
import * as admin from "../../src/store/adminQueries.js";
import { TestPki, type Ca, type CertFiles } from "../helpers/certs.js";
import { Aborted, abortOf, ticketLogin } from "../helpers/client.js";
import { abortOf as pyAbortOf, pyLogin, welcomeOf } from "../helpers/pyClient.js";
import { userWithTicket } from "../helpers/seed.js";
import { startStack, type Stack } from "../helpers/stack.js";
import { connectTls, type ClientTls } from "../helpers/tlsClient.js";

/** A cryptosign key for the channel-binding test (seed is test-only). */
const KIM_SEED = "22".repeat(32);
const KIM_PUBKEY = Buffer.from(autobahn.nacl.sign.keyPair.fromSeed(Buffer.from(KIM_SEED, "hex")).publicKey).toString("hex");

// Cheap argon2 for test users; the vector user below uses the crossbar-examples parameters.
const SCRAM = { iterations: 2, memory: 1024 };

describe("WAMP-SCRAM and WAMP-TLS through a real Crossbar", () => {
  let stack: Stack;
  let pki: TestPki;
  let ca: Ca;
  let wssUrl: string;
  const certs: Record<string, CertFiles> = {};
  /** the ABORT a wrong ticket gets: every denial must look like it */
  let ticketDenial: { reason: string; message: string };

  const tlsFor = (name: string): ClientTls => ({ ca: ca.cert, cert: certs[name]!.cert, key: certs[name]!.key });
  const pyScram = (authid: string, password: string) => pyLogin({ url: stack.wsUrl, realm: "app", authmethod: "scram", authid, password });

  before(async () => {
    pki = new TestPki();
    ca = pki.ca("authd-test-ca");
    const rogue = pki.ca("authd-rogue-ca");
    const server = pki.issue(ca, "localhost", "server");
    for (const name of ["alice", "bob", "rex", "pat", "nobody"]) certs[name] = pki.issue(ca, name, "client");
    certs["rogue"] = pki.issue(rogue, "alice", "client"); // same CN as alice, wrong CA
    const tlsPort = await freePort();
    wssUrl = `wss://127.0.0.1:${tlsPort}/ws`;

    stack = await startStack({
      realms: { app: ["user"], other: ["user"] },
      methods: ["ticket", "scram", "cryptosign"],
      crossbar: { tls: { port: tlsPort, certificate: server.cert, key: server.key, caCertificates: [ca.cert] } },
      // Decoys are made with the configured SCRAM parameters: the same as the test users'.
      service: { scram: SCRAM },
    });
    const db = stack.store.pool;
    for (const realm of ["app", "other"]) {
      await admin.addRealm(db, realm);
      await admin.addRole(db, realm, "user");
    }
    await admin.grant(db, "app", "user", { uri: "com.example.", match: "prefix", allow: ["call", "register"] });
    await userWithTicket(db, { realm: "app", authid: "tina", role: "user" }, "tina-ticket");

    // SCRAM users
    const scramUser = async (u: admin.NewUser, password: string | null, data?: Record<string, unknown>) => {
      const id = await admin.addUser(db, u);
      const cred = data ?? { ...(await deriveScramCredential(password!, SCRAM)) };
      await admin.upsertSecretCredential(db, id, "scram", cred);
    };
    await scramUser({ realm: "app", authid: "sam", role: "user", extra: { team: "red" } }, "sam-password");
    await scramUser({ realm: "app", authid: "sid", role: "user", disabled: true }, "sid-password");
    await scramUser({ realm: "app", authid: "olga", role: "user", authidOverride: "olga@elsewhere" }, "olga-password");
    await scramUser({ realm: "app", authid: "rita", role: "user", realmOverride: "other" }, "rita-password");
    await scramUser({ realm: "app", authid: "mal", role: "user" }, null, { kdf: "argon2id-13", salt: "00", iterations: 1, memory: 8 });
    // The crossbar-examples static SCRAM principal (docs/crossbar-protocol.md, "scram"), stored as those examples give it.
    await scramUser({ realm: "app", authid: "foobar@example.com", role: "user" }, null, {
      kdf: "argon2id-13",
      salt: "3bc3ca01dd1d501ca1c22e1c5d7d16fe",
      iterations: 4096,
      memory: 512,
      stored_key: "e796c2f0a51770303ee4616bc630a66774d51a55003154aff2a54ec7c4ac0e38",
      server_key: "8de7864c316f3c2356fd76cfdab696db55bc70e680fe5180e2f731e2345acca2",
    });

    // TLS bindings (lookup in any spelling is normalised to Crossbar's uppercase colon form)
    const bind = async (u: admin.NewUser, cert: CertFiles, data: Record<string, unknown> = {}) => {
      const id = await admin.addUser(db, u);
      const lookup = normalizeFingerprint(cert.sha256.replaceAll(":", "").toLowerCase())!;
      await admin.addKeyedCredential(db, id, "tls", lookup, `${u.authid} laptop`, null, data);
      return { id, lookup };
    };
    await bind({ realm: "app", authid: "alice", role: "user", extra: { team: "blue" } }, certs["alice"]!, {
      issuer_cn: ca.cn,
      subject_cn: "alice",
    });
    await bind({ realm: "app", authid: "bob", role: "user", disabled: true }, certs["bob"]!);
    const rex = await bind({ realm: "app", authid: "rex", role: "user" }, certs["rex"]!);
    await admin.revokeKeyedCredential(db, rex.id, "tls", rex.lookup);
    await bind({ realm: "app", authid: "pat", role: "user" }, certs["pat"]!, { issuer_cn: "some-other-ca" });
    // A cryptosign key for the channel-binding test over TLS.
    const kim = await admin.addUser(db, { realm: "app", authid: "kim", role: "user" });
    await admin.addKeyedCredential(db, kim, "cryptosign", KIM_PUBKEY, "kim laptop", null, {});
    await stack.service!.reload();

    const t = await abortOf(ticketLogin(stack.wsUrl, "app", "tina", "wrong"));
    ticketDenial = { reason: t.reason, message: t.abortMessage };
    assert.equal(ticketDenial.reason, "wamp.error.not_authorized");
  });

  after(async () => {
    await stack?.stop();
    pki?.remove();
  });

  describe("scram (autobahn-python)", () => {
    it("a good password gets WELCOME; the router's server signature verifies", async () => {
      const w = welcomeOf(await pyScram("sam", "sam-password"));
      assert.equal(w.authid, "sam");
      assert.equal(w.authrole, "user");
      assert.equal(w.realm, "app");
      assert.equal(w.authmethod, "scram");
      assert.equal(w.authprovider, "dynamic");
      assert.equal(w.authextra.team, "red");
      // The client checked it against its own ServerKey (else it aborts): server-key is right too.
      assert.match(String(w.authextra.scram_server_signature), /^[A-Za-z0-9+/]{43}=$/);
    });

    it("credentials stored as in crossbar-examples (t=4096, m=512) work", async () => {
      const w = welcomeOf(await pyScram("foobar@example.com", "secret123"));
      assert.equal(w.authid, "foobar@example.com");
      assert.equal(w.authrole, "user");
    });

    it("a realm override moves the session (the realm is not part of the proof)", async () => {
      const w = welcomeOf(await pyScram("rita", "rita-password"));
      assert.equal(w.realm, "other");
      assert.equal(w.authid, "rita");
    });

    it("a wrong password is rejected by the router with the same reason URI", async () => {
      const a = pyAbortOf(await pyScram("sam", "not-sams-password"));
      assert.equal(a.abort, ticketDenial.reason);
      // Crossbar's own Deny text: wamp-authd never sees the proof, so it cannot choose this message.
      assert.equal(a.message, "SCRAM authentication failed");
    });

    it("unknown, disabled, authid-override and malformed-credential users get a CHALLENGE, then the ABORT of a wrong password", async () => {
      const wrong = await pyScram("sam", "not-sams-password");
      assert.ok(wrong.challenge);
      for (const [authid, password] of [
        ["nobody", "x"],
        ["sid", "sid-password"],
        ["olga", "olga-password"],
        ["mal", "x"],
      ] as const) {
        const r = await pyScram(authid, password);
        assert.equal(r.challenge?.method, "scram", `${authid}: a CHALLENGE (decoy)`);
        const a = pyAbortOf(r);
        assert.deepEqual(
          { reason: a.abort, message: a.message },
          { reason: ticketDenial.reason, message: "SCRAM authentication failed" },
          authid,
        );
      }
    });

    it("a ticket login from autobahn-python works too (answers are not tied to one client library)", async () => {
      const ok = welcomeOf(await pyLogin({ url: stack.wsUrl, realm: "app", authmethod: "ticket", authid: "tina", ticket: "tina-ticket" }));
      assert.equal(ok.authid, "tina");
      assert.equal(ok.authrole, "user");
      assert.equal(ok.authmethod, "ticket");
      const bad = pyAbortOf(await pyLogin({ url: stack.wsUrl, realm: "app", authmethod: "ticket", authid: "tina", ticket: "nope" }));
      assert.deepEqual({ reason: bad.abort, message: bad.message }, ticketDenial);
    });
  });

  describe("tls (autobahn-js with a client certificate)", () => {
    it("a bound certificate gets WELCOME without any authid; the session is authorized normally", async () => {
      const c = await connectTls(tlsFor("alice"), { url: wssUrl, realm: "app", authmethods: ["tls"] });
      try {
        assert.equal(c.welcome.authid, "alice");
        assert.equal(c.welcome.authrole, "user");
        assert.equal(c.welcome.authmethod, "tls");
        assert.equal(c.welcome.authprovider, "dynamic");
        assert.equal(c.welcome.authextra.team, "blue");
        await c.session.register("com.example.tls_echo", (args: unknown[]) => args[0]);
        assert.equal(await c.session.call("com.example.tls_echo", ["hi"]), "hi");
      } finally {
        c.close();
      }
    });

    it("the client's authid, when sent, must name the bound user", async () => {
      const c = await connectTls(tlsFor("alice"), { url: wssUrl, realm: "app", authmethods: ["tls"], authid: "alice" });
      c.close();
      const a = await abortOf(connectTls(tlsFor("alice"), { url: wssUrl, realm: "app", authmethods: ["tls"], authid: "bob" }));
      assert.deepEqual({ reason: a.reason, message: a.abortMessage }, ticketDenial);
    });

    it("unknown certificate, disabled user, revoked binding and CN-pin mismatch get the ticket denial", async () => {
      for (const name of ["nobody", "bob", "rex", "pat"]) {
        const a = await abortOf(connectTls(tlsFor(name), { url: wssUrl, realm: "app", authmethods: ["tls"] }));
        assert.deepEqual({ reason: a.reason, message: a.abortMessage }, ticketDenial, name);
      }
    });

    it("Crossbar refuses certificates of another CA and connections without one at the TLS handshake", async () => {
      for (const tls of [tlsFor("rogue"), { ca: ca.cert }]) {
        const err = await connectTls(tls, { url: wssUrl, realm: "app", authmethods: ["tls"], timeoutMs: 5000 }).then(
          (c) => {
            c.close();
            return null;
          },
          (e: unknown) => e,
        );
        assert.ok(err instanceof Aborted, `expected a failed connection, got ${String(err)}`);
        // a transport failure, not a WAMP ABORT: wamp-authd was never asked
        assert.notEqual(err.reason, "wamp.error.not_authorized");
      }
    });

    it("cryptosign with tls-unique channel binding still works: the router checks the binding", async () => {
      const tlsFiles = { ca: ca.cert, cert: certs["alice"]!.cert, key: certs["alice"]!.key };
      const bound = welcomeOf(
        await pyLogin({
          url: wssUrl,
          realm: "app",
          authmethod: "cryptosign",
          authid: "kim",
          seed: KIM_SEED,
          channelBinding: "tls-unique",
          ...tlsFiles,
        }),
      );
      assert.equal(bound.authid, "kim");
      assert.equal(bound.authmethod, "cryptosign");
      // Announcing tls-unique but signing another channel id fails Crossbar's signature check.
      const forged = await pyLogin({
        url: wssUrl,
        realm: "app",
        authmethod: "cryptosign",
        authid: "kim",
        seed: KIM_SEED,
        channelBinding: "tls-unique-zero",
        ...tlsFiles,
      });
      assert.ok("abort" in forged && forged.abort === "wamp.error.not_authorized", JSON.stringify(forged));
    });

    it("autobahn-python presents a client certificate just as well", async () => {
      const w = welcomeOf(
        await pyLogin({ url: wssUrl, realm: "app", authmethod: "tls", ca: ca.cert, cert: certs["alice"]!.cert, key: certs["alice"]!.key }),
      );
      assert.equal(w.authid, "alice");
      assert.equal(w.authmethod, "tls");
    });
  });
});
