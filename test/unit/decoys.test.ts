/**
 * Decoy answers (src/auth/decoys.ts): shaped exactly like what a real credential made with the same
 * configuration answers, deterministic where the client sees them, random where it does not, and
 * never the client's own key.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import autobahn from "autobahn";
import { CraCipher, parseCraKeys } from "../../src/auth/craCipher.js";
import { buildCraCredential, craAnswer, CRA_DEFAULTS, looksLikeDerivedKey, openCraCredential } from "../../src/auth/craCredential.js";
import { decoyAuthid, decoyBytes, decoyCraAnswer, decoyPublicKey, decoyScramAnswer, ed25519PublicKey } from "../../src/auth/decoys.js";
import { accountKeys } from "../../src/auth/throttle.js";
import { deriveScramCredential } from "../../src/auth/scramCredential.js";

const key = randomBytes(32);
const otherKey = randomBytes(32);
const sorted = (o: Record<string, unknown>) => Object.keys(o).sort();

describe("SCRAM decoys", () => {
  const params = { iterations: 3, memory: 1024 };

  it("have the keys, kdf, parameters and salt length of a real credential made with the same config", async () => {
    const real = await deriveScramCredential("pw", params);
    // What the scram method answers for a real credential.
    const realAnswer = {
      kdf: real.kdf,
      iterations: real.iterations,
      memory: real.memory,
      salt: real.salt,
      "stored-key": real.stored_key,
      "server-key": real.server_key,
    };
    const decoy = decoyScramAnswer(key, "app", "nobody", params);
    assert.deepEqual(sorted(decoy), sorted(realAnswer));
    assert.equal(decoy.kdf, realAnswer.kdf);
    assert.equal(decoy.iterations, realAnswer.iterations);
    assert.equal(decoy.memory, realAnswer.memory);
    for (const k of ["salt", "stored-key", "server-key"] as const) {
      assert.match(String(decoy[k]), /^[0-9a-f]+$/);
      assert.equal(String(decoy[k]).length, realAnswer[k].length, k);
    }
  });

  it("the salt is the same on every HELLO for a name, and differs between names, realms and keys", () => {
    const a = decoyScramAnswer(key, "app", "nobody", params);
    const b = decoyScramAnswer(key, "app", "nobody", params);
    assert.equal(a.salt, b.salt);
    const salts = new Set([
      a.salt,
      decoyScramAnswer(key, "app", "nobody2", params).salt,
      decoyScramAnswer(key, "ops", "nobody", params).salt,
      decoyScramAnswer(otherKey, "app", "nobody", params).salt,
    ]);
    assert.equal(salts.size, 4);
    // The keys the router checks the proof with are random: nobody can know them.
    assert.notEqual(a["stored-key"], b["stored-key"]);
    assert.notEqual(a["server-key"], b["server-key"]);
  });
});

describe("WAMP-CRA decoys", () => {
  const cipher = new CraCipher(parseCraKeys(`k1:${randomBytes(32).toString("hex")}`, "test"));
  const passwd = openCraCredential(cipher, buildCraCredential(cipher, "a-password")); // what `users passwd` writes

  for (const mode of ["plain", "derived"] as const) {
    it(`answer like a credential written by users passwd (cra.secretMode ${mode})`, () => {
      const real = craAnswer(mode, passwd);
      const decoy = decoyCraAnswer(key, "app", "nobody", mode);
      assert.deepEqual(sorted(decoy), sorted(real));
      assert.equal(decoy.iterations, CRA_DEFAULTS.iterations);
      assert.equal(decoy.iterations, real.iterations);
      assert.equal(decoy.keylen, real.keylen);
      assert.match(String(decoy.salt), /^[0-9a-f]{32}$/);
      assert.equal(String(decoy.salt).length, String(real.salt).length);
      if (mode === "derived") assert.ok(looksLikeDerivedKey(String(decoy.secret), CRA_DEFAULTS.keylen));
    });
  }

  it("the salt is stable per name, differs between names; the secret is random", () => {
    const a = decoyCraAnswer(key, "app", "nobody", "plain");
    const b = decoyCraAnswer(key, "app", "nobody", "plain");
    assert.equal(a.salt, b.salt);
    assert.notEqual(a.secret, b.secret);
    assert.notEqual(decoyCraAnswer(key, "app", "somebody", "plain").salt, a.salt);
    // Not the SCRAM decoy salt of the same name: every use has its own label.
    assert.notEqual(a.salt, decoyScramAnswer(key, "app", "nobody", { iterations: 1, memory: 8 }).salt);
  });
});

describe("cryptosign decoys", () => {
  it("are valid Ed25519 public keys (the same one tweetnacl derives from the HMAC seed)", () => {
    const seed = decoyBytes(key, "cryptosign key", "app");
    const nacl = Buffer.from(autobahn.nacl.sign.keyPair.fromSeed(new Uint8Array(seed)).publicKey).toString("hex");
    assert.equal(ed25519PublicKey(seed), nacl);
    assert.equal(decoyPublicKey(key, "app"), nacl);
  });

  it("one per realm and service key (the router never shows it), never an announced key", () => {
    const a = decoyPublicKey(key, "app");
    assert.equal(decoyPublicKey(key, "app"), a);
    assert.notEqual(decoyPublicKey(key, "ops"), a);
    assert.notEqual(decoyPublicKey(otherKey, "app"), a);
    assert.match(a, /^[0-9a-f]{64}$/);
    // Nobody can announce it knowingly: its private key is an HMAC output under the service key.
    const announced = Buffer.from(autobahn.nacl.sign.keyPair.fromSeed(new Uint8Array(randomBytes(32))).publicKey).toString("hex");
    assert.notEqual(a, announced);
  });

  it("a decoy authid (for a HELLO without one) is derived, stable and never the key", () => {
    const pub = "ab".repeat(32);
    const a = decoyAuthid(key, "app", pub);
    assert.equal(decoyAuthid(key, "app", pub), a);
    assert.match(a, /^decoy-[0-9a-f]{16}$/);
  });
});

describe("key separation", () => {
  it("decoy material is not the throttle bucket HMAC of the same name", () => {
    const bucket = accountKeys(key, 2 ** 32 - 1, "app", "nobody").bucket.key;
    const n = Number(bucket.slice("unknown:".length));
    for (const label of ["scram salt", "wampcra salt", "cryptosign key"])
      assert.notEqual(decoyBytes(key, label, "app", "nobody").readUInt32BE(0), n);
  });
});
