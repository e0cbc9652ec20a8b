/**
 * WAMP-CRA, WAMP-cryptosign and anonymous logins end to end: autobahn-js clients, a real Crossbar
 * (dynamic authenticator in realm `authd` answering for realms `app` and `other`), a real Postgres.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import autobahn from "autobahn";
import { CraCipher, parseCraKeys } from "../../src/auth/craCipher.js";
import { buildCraCredential } from "../../src/auth/craCredential.js";
import { DENY_MESSAGE, DENY_URI } from "../../src/errors/authErrors.js";
import { freePort } from "../../devstack/ports.js";
import * as admin from "../../src/store/adminQueries.js";
import { Aborted, abortOf, connect, type Joined } from "../helpers/client.js";
import { craAttempt, cryptosignAttempt, type Attempt } from "../helpers/proofClients.js";
import { userWithTicket } from "../helpers/seed.js";
import { startStack, type Stack } from "../helpers/stack.js";

/** The ABORT every credential failure decided by wamp-authd must produce (as for tickets). */
function assertDenied(a: Aborted, what: string): void {
  assert.equal(a.reason, DENY_URI, what);
  assert.equal(a.abortMessage, DENY_MESSAGE, what);
}

async function withLogin(p: Promise<Joined>, check: (c: Joined) => void): Promise<void> {
  const c = await p;
  try {
    check(c);
  } finally {
    c.close();
  }
}

// --- WAMP-CRA clients ---------------------------------------------------------------------------

/** Signs the challenge as autobahn-js does: with the PBKDF2 key when the router sent salt parameters. */
function craLogin(url: string, realm: string, authid: string, secret: string): Promise<Joined> {
  return connect({
    url,
    realm,
    authmethods: ["wampcra"],
    authid,
    onchallenge: (_session, method, extra) => {
      assert.equal(method, "wampcra");
      const key =
        typeof extra.salt === "string"
          ? autobahn.auth_cra.derive_key(secret, extra.salt, extra.iterations as number, extra.keylen as number)
          : secret;
      return autobahn.auth_cra.sign(key, extra.challenge as string);
    },
  });
}

// --- WAMP-cryptosign clients --------------------------------------------------------------------

interface KeyPair {
  publicKey: Uint8Array;
  secretKey: Uint8Array;
}

function keyPair(): KeyPair {
  return autobahn.nacl.sign.keyPair.fromSeed(new Uint8Array(randomBytes(32)));
}

const pub = (k: KeyPair): string => autobahn.auth_cryptosign.public_key(k);

/** HELLO with authextra (default: {pubkey: the pair's public key}); the challenge is signed with `pair`. */
function cryptosignLogin(
  url: string,
  realm: string,
  authid: string | undefined,
  pair: KeyPair,
  authextra: Record<string, unknown> = { pubkey: pub(pair) },
): Promise<Joined> {
  return connect({
    url,
    realm,
    authmethods: ["cryptosign"],
    ...(authid === undefined ? {} : { authid }),
    authextra,
    onchallenge: (_session, method, extra) => {
      assert.equal(method, "cryptosign");
      return autobahn.auth_cryptosign.sign_challenge(pair, extra as { challenge: string });
    },
  });
}

function anonymousLogin(url: string, realm: string): Promise<Joined> {
  return connect({ url, realm, authmethods: ["anonymous"] });
}

/** Crossbar's generated anonymous authid (autobahn util.generate_serial_number): 6 groups of 4. */
const GENERATED_AUTHID = /^[0-9A-Z]{4}(-[0-9A-Z]{4}){5}$/;

describe("wampcra, cryptosign and anonymous through a real Crossbar", () => {
  let stack: Stack;
  let v6Url: string;
  const craKey = `test-2025:${randomBytes(32).toString("hex")}`;
  const cipher = new CraCipher(parseCraKeys(craKey, "test"));
  const erinLaptop = keyPair();
  const erinPhone = keyPair();
  const ottoExpired = keyPair();
  const ottoRevoked = keyPair();
  const doraKey = keyPair();
  const rexKey = keyPair();
  const stranger = keyPair();

  before(async () => {
    const v6Port = await freePort("::1");
    v6Url = `ws://[::1]:${v6Port}/ws`;
    stack = await startStack({
      // lobby exists in Crossbar only, not in the store
      realms: { app: ["user", "guest", "visitor"], other: ["user"], lobby: ["visitor"] },
      methods: ["ticket", "wampcra", "cryptosign", "anonymous"],
      crossbar: {
        // A second public listener on IPv6 loopback, to see Crossbar's tcp6 peer string for real.
        extraTransports: [
          {
            type: "web",
            endpoint: { type: "tcp", version: 6, interface: "::1", port: v6Port },
            paths: {
              ws: {
                type: "websocket",
                serializers: ["json"],
                auth: { anonymous: { type: "dynamic", authenticator: "authd.authenticate", "authenticator-realm": "authd" } },
              },
            },
          },
        ],
      },
      // This file is about the methods; throttling has its own tests.
      service: { cra: { key: craKey, secretMode: "plain" }, throttle: { enabled: false } },
    });
    const db = stack.store.pool;
    for (const realm of ["app", "other"]) await admin.addRealm(db, realm);
    for (const role of ["user", "guest", "visitor"]) await admin.addRole(db, "app", role);
    await admin.addRole(db, "other", "user");

    const cra = async (u: admin.NewUser, secret: string, salted: boolean) => {
      const id = await admin.addUser(db, u);
      const data = salted
        ? buildCraCredential(cipher, secret, { iterations: 1000, keylen: 32 })
        : buildCraCredential(cipher, secret, { salted: false });
      await admin.upsertSecretCredential(db, id, "wampcra", data);
      return id;
    };
    await cra({ realm: "app", authid: "carol", role: "user", extra: { team: "red" } }, "carol-secret", true);
    await cra({ realm: "app", authid: "cora", role: "guest", extra: { team: "grey" } }, "cora-secret", false);
    await cra({ realm: "app", authid: "dan", role: "user", disabled: true }, "dan-secret", true);
    await userWithTicket(db, { realm: "app", authid: "tina", role: "user" }, "tina-ticket");

    const day = 24 * 3600 * 1000;
    const erin = await admin.addUser(db, { realm: "app", authid: "erin", role: "user", extra: { team: "green" } });
    await admin.addKeyedCredential(db, erin, "cryptosign", pub(erinLaptop), "laptop", null);
    await admin.addKeyedCredential(db, erin, "cryptosign", pub(erinPhone), "phone", new Date(Date.now() + day));
    const otto = await admin.addUser(db, { realm: "app", authid: "otto", role: "user" });
    await admin.addKeyedCredential(db, otto, "cryptosign", pub(ottoExpired), "old laptop", new Date(Date.now() - 1000));
    await admin.addKeyedCredential(db, otto, "cryptosign", pub(ottoRevoked), "lost phone", null);
    await admin.revokeKeyedCredential(db, otto, "cryptosign", pub(ottoRevoked));
    const dora = await admin.addUser(db, { realm: "app", authid: "dora", role: "user", disabled: true });
    await admin.addKeyedCredential(db, dora, "cryptosign", pub(doraKey), "key", null);
    const rex = await admin.addUser(db, { realm: "app", authid: "rex", role: "user", authidOverride: "rex@other", realmOverride: "other" });
    await admin.addKeyedCredential(db, rex, "cryptosign", pub(rexKey), "key", null);
    await stack.service!.reload();
  });

  after(async () => stack?.stop());

  describe("wampcra (Crossbar 26.10.1, cra.secretMode plain)", () => {
    it("a salted secret: the client derives the key from the CHALLENGE's salt parameters and gets WELCOME", async () => {
      await withLogin(craLogin(stack.wsUrl, "app", "carol", "carol-secret"), (c) => {
        assert.equal(c.welcome.authid, "carol");
        assert.equal(c.welcome.authrole, "user");
        assert.equal(c.welcome.authmethod, "wampcra");
        assert.equal(c.welcome.authprovider, "dynamic");
        assert.equal(c.welcome.realm, "app");
        assert.equal(c.welcome.authextra.team, "red");
        assert.equal("secret" in c.welcome.authextra, false);
      });
    });

    it("an unsalted secret signs the challenge directly", async () => {
      let saw: Record<string, unknown> = {};
      const c = await connect({
        url: stack.wsUrl,
        realm: "app",
        authmethods: ["wampcra"],
        authid: "cora",
        onchallenge: (_s, _m, extra) => {
          saw = extra;
          return autobahn.auth_cra.sign("cora-secret", extra.challenge as string);
        },
      });
      try {
        assert.equal("salt" in saw, false, "no salt parameters in the CHALLENGE for an unsalted secret");
        assert.equal(c.welcome.authrole, "guest");
        assert.equal(c.welcome.authextra.team, "grey");
      } finally {
        c.close();
      }
    });

    it("a wrong secret is refused by Crossbar after the CHALLENGE (its own message)", async () => {
      const wrong = await abortOf(craLogin(stack.wsUrl, "app", "carol", "not-carols-secret"));
      assert.equal(wrong.reason, DENY_URI);
      // Crossbar checks the HMAC itself (wampcra.py authenticate): wamp-authd never sees the signature.
      assert.equal(wrong.abortMessage, "WAMP-CRA client signature is invalid");
    });

    it("an unknown user, a disabled user and a user without a wampcra credential get a CHALLENGE and the ABORT of a wrong secret", async () => {
      const wrong = await craAttempt(stack.wsUrl, "app", "carol", "not-carols-secret");
      for (const [authid, secret] of [
        ["mallory", "x"],
        ["dan", "dan-secret"],
        ["tina", "tina-ticket"],
      ] as const) {
        const a = await craAttempt(stack.wsUrl, "app", authid, secret);
        assert.ok(a.challenge && typeof a.challenge.salt === "string", `${authid}: a salted CHALLENGE (decoy)`);
        assert.deepEqual(a.abort, wrong.abort, authid);
      }
    });

    it("without an authid nobody can log in: denied at HELLO", async () => {
      const a = await connect({ url: stack.wsUrl, realm: "app", authmethods: ["wampcra"], onchallenge: () => "x" }).then(
        (c) => {
          c.close();
          return null;
        },
        (e: unknown) => e,
      );
      assert.ok(a instanceof Aborted);
      assertDenied(a, "no authid");
    });
  });

  describe("cryptosign", () => {
    it("each of a user's keys logs in, with or without an authid", async () => {
      for (const [pair, authid] of [
        [erinLaptop, "erin"],
        [erinPhone, "erin"],
        [erinLaptop, undefined],
        [erinPhone, undefined],
      ] as const) {
        await withLogin(cryptosignLogin(stack.wsUrl, "app", authid, pair), (c) => {
          assert.equal(c.welcome.authid, "erin");
          assert.equal(c.welcome.authrole, "user");
          assert.equal(c.welcome.authmethod, "cryptosign");
          assert.equal(c.welcome.authprovider, "dynamic");
          assert.equal(c.welcome.realm, "app");
          assert.equal(c.welcome.authextra.team, "green");
        });
      }
    });

    it("an uppercase hex pubkey is the same key", async () => {
      await withLogin(cryptosignLogin(stack.wsUrl, "app", "erin", erinLaptop, { pubkey: pub(erinLaptop).toUpperCase() }), (c) => {
        assert.equal(c.welcome.authid, "erin");
      });
    });

    it("unknown, expired and revoked keys, another user's key and a disabled user get a CHALLENGE, then the ABORT of a wrong key", async () => {
      // What a client gets that announces a key it does not hold: Crossbar's own signature check fails.
      const wrongKey = await cryptosignAttempt(stack.wsUrl, "app", "erin", stranger, pub(erinLaptop));
      assert.ok(wrongKey.challenge);
      assert.deepEqual(wrongKey.abort, { reason: DENY_URI, message: "signed message has invalid signature" });
      const cases: Array<[string, () => Promise<Attempt>]> = [
        ["unknown key, with authid", () => cryptosignAttempt(stack.wsUrl, "app", "erin", stranger)],
        ["unknown key, no authid", () => cryptosignAttempt(stack.wsUrl, "app", undefined, stranger)],
        ["unknown user", () => cryptosignAttempt(stack.wsUrl, "app", "mallory", stranger)],
        ["expired key, with authid", () => cryptosignAttempt(stack.wsUrl, "app", "otto", ottoExpired)],
        ["expired key, no authid", () => cryptosignAttempt(stack.wsUrl, "app", undefined, ottoExpired)],
        ["revoked key, with authid", () => cryptosignAttempt(stack.wsUrl, "app", "otto", ottoRevoked)],
        ["revoked key, no authid", () => cryptosignAttempt(stack.wsUrl, "app", undefined, ottoRevoked)],
        ["another user's key", () => cryptosignAttempt(stack.wsUrl, "app", "otto", erinLaptop)],
        ["disabled user", () => cryptosignAttempt(stack.wsUrl, "app", "dora", doraKey)],
      ];
      for (const [what, login] of cases) {
        const a = await login();
        assert.ok(a.challenge, `${what}: a CHALLENGE (decoy key)`);
        assert.deepEqual(a.abort, wrongKey.abort, what);
      }
    });

    it("a missing or malformed pubkey is refused at HELLO (no user could log in with it)", async () => {
      const cases: Array<[string, () => Promise<Joined>]> = [
        ["no pubkey", () => cryptosignLogin(stack.wsUrl, "app", "erin", erinLaptop, {})],
        [
          "no authextra",
          () => connect({ url: stack.wsUrl, realm: "app", authmethods: ["cryptosign"], authid: "erin", onchallenge: () => "00" }),
        ],
        ["short pubkey", () => cryptosignLogin(stack.wsUrl, "app", "erin", erinLaptop, { pubkey: pub(erinLaptop).slice(2) })],
        ["non-hex pubkey", () => cryptosignLogin(stack.wsUrl, "app", "erin", erinLaptop, { pubkey: "z".repeat(64) })],
        ["pubkey not a string", () => cryptosignLogin(stack.wsUrl, "app", "erin", erinLaptop, { pubkey: 42 })],
      ];
      for (const [what, login] of cases) assertDenied(await abortOf(login(), what), what);
    });

    it("a user with a ticket but no cryptosign key is answered like a wrong key", async () => {
      const noKey = await cryptosignAttempt(stack.wsUrl, "app", "tina", stranger);
      const wrongKey = await cryptosignAttempt(stack.wsUrl, "app", "erin", stranger);
      assert.ok(noKey.challenge && wrongKey.challenge);
      assert.deepEqual(noKey.abort, wrongKey.abort);
    });

    it("announcing someone's public key without the private key fails Crossbar's signature check", async () => {
      const a = await abortOf(cryptosignLogin(stack.wsUrl, "app", "erin", stranger, { pubkey: pub(erinLaptop) }));
      assert.equal(a.reason, DENY_URI);
      assert.equal(a.abortMessage, "signed message has invalid signature");
    });

    it("authenticator-realm: wamp-authd in realm authd answers for realm app, and realm_override moves the session", async () => {
      assert.ok(stack.service!.link.servedRealms.includes("authd"));
      await withLogin(cryptosignLogin(stack.wsUrl, "app", "rex", rexKey), (c) => {
        assert.equal(c.welcome.realm, "other");
        assert.equal(c.welcome.authid, "rex@other");
        assert.equal(c.welcome.authrole, "user");
      });
    });
  });

  describe("anonymous", () => {
    const policy = (p: Partial<admin.AnonymousPolicy>) =>
      admin.setAnonymousPolicy(stack.store.pool, "app", { allowed: true, role: "visitor", cidrs: [], authid: null, extra: {}, ...p });

    it("is denied in a realm that does not allow it (the default) and in a realm unknown to the store", async () => {
      assertDenied(await abortOf(anonymousLogin(stack.wsUrl, "other")), "not allowed");
      assertDenied(await abortOf(anonymousLogin(stack.wsUrl, "lobby")), "realm not in the store");
      await policy({ allowed: false });
      assertDenied(await abortOf(anonymousLogin(stack.wsUrl, "app")), "allowed = false");
    });

    it("is denied when allowed but no role is set, or the role does not exist in the realm", async () => {
      await policy({ role: null });
      assertDenied(await abortOf(anonymousLogin(stack.wsUrl, "app")), "no role");
      await policy({ role: "nobody" });
      assertDenied(await abortOf(anonymousLogin(stack.wsUrl, "app")), "unknown role");
    });

    it("an allowed realm: the router's generated authid is kept, the realm's extra is in WELCOME", async () => {
      await policy({ extra: { kind: "visitor", tier: 0 } });
      await withLogin(anonymousLogin(stack.wsUrl, "app"), (c) => {
        assert.equal(c.welcome.authrole, "visitor");
        assert.equal(c.welcome.authmethod, "anonymous");
        assert.equal(c.welcome.authprovider, "dynamic");
        assert.equal(c.welcome.realm, "app");
        assert.match(c.welcome.authid, GENERATED_AUTHID);
        assert.equal(c.welcome.authextra.kind, "visitor");
        assert.equal(c.welcome.authextra.tier, 0);
        assert.equal(c.welcome.authextra.x_cb_peer?.toString().startsWith("tcp4:127.0.0.1:"), true);
      });
    });

    it("anonymous_authid overrides the generated authid", async () => {
      await policy({ authid: "guest" });
      await withLogin(anonymousLogin(stack.wsUrl, "app"), (c) => assert.equal(c.welcome.authid, "guest"));
    });

    it("CIDRs: 127.0.0.1/32 lets a loopback client in, 10.0.0.0/8 does not", async () => {
      await policy({ cidrs: ["127.0.0.1/32"] });
      await withLogin(anonymousLogin(stack.wsUrl, "app"), (c) => assert.equal(c.welcome.authrole, "visitor"));
      await policy({ cidrs: ["10.0.0.0/8"] });
      assertDenied(await abortOf(anonymousLogin(stack.wsUrl, "app")), "peer outside 10.0.0.0/8");
      await policy({ cidrs: ["10.0.0.0/8", "127.0.0.0/8"] });
      await withLogin(anonymousLogin(stack.wsUrl, "app"), (c) => assert.equal(c.welcome.authrole, "visitor"));
    });

    it("CIDRs over IPv6: Crossbar's tcp6 peer (tcp6:::1:<port>) matches ::1/128 and not 127.0.0.1/32", async () => {
      await policy({ cidrs: ["::1/128"] });
      await withLogin(anonymousLogin(v6Url, "app"), (c) => {
        assert.match(String(c.welcome.authextra.x_cb_peer), /^tcp6:::1:\d+$/);
        assert.equal(c.welcome.authrole, "visitor");
      });
      assertDenied(await abortOf(anonymousLogin(stack.wsUrl, "app")), "IPv4 client, IPv6-only CIDR");
      await policy({ cidrs: ["127.0.0.1/32"] });
      assertDenied(await abortOf(anonymousLogin(v6Url, "app")), "IPv6 client, IPv4-only CIDR");
    });
  });
});
