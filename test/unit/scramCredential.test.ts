import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { normalizeFingerprint } from "../../src/auth/methods/tls.js";
import { deriveScramCredential, parseScramCredential } from "../../src/auth/scramCredential.js";

describe("deriveScramCredential (argon2id-13)", () => {
  it("reproduces the crossbar-examples vector (docs/crossbar-protocol.md, scram)", async () => {
    const c = await deriveScramCredential("secret123", { salt: "3bc3ca01dd1d501ca1c22e1c5d7d16fe", iterations: 4096, memory: 512 });
    assert.deepEqual(c, {
      kdf: "argon2id-13",
      salt: "3bc3ca01dd1d501ca1c22e1c5d7d16fe",
      iterations: 4096,
      memory: 512,
      stored_key: "e796c2f0a51770303ee4616bc630a66774d51a55003154aff2a54ec7c4ac0e38",
      server_key: "8de7864c316f3c2356fd76cfdab696db55bc70e680fe5180e2f731e2345acca2",
    });
  });

  it("makes a fresh 16-byte salt when none is given", async () => {
    const a = await deriveScramCredential("pw", { iterations: 1, memory: 64 });
    const b = await deriveScramCredential("pw", { iterations: 1, memory: 64 });
    assert.match(a.salt, /^[0-9a-f]{32}$/);
    assert.notEqual(a.salt, b.salt);
    assert.notEqual(a.stored_key, b.stored_key);
  });

  it("rejects bad parameters with a clear error", async () => {
    await assert.rejects(deriveScramCredential("pw", { iterations: 0, memory: 64 }), /iterations/);
    await assert.rejects(deriveScramCredential("pw", { iterations: 1, memory: 1 }), /memory/);
    await assert.rejects(deriveScramCredential("pw", { iterations: 1, memory: 64, salt: "zz" }), /salt/);
    await assert.rejects(deriveScramCredential("pw", { iterations: 1, memory: 64, salt: "abcd" }), /salt/);
  });
});

describe("parseScramCredential", () => {
  const good = {
    kdf: "argon2id-13",
    salt: "3BC3CA01DD1D501CA1C22E1C5D7D16FE",
    iterations: 4096,
    memory: 512,
    stored_key: "e796c2f0a51770303ee4616bc630a66774d51a55003154aff2a54ec7c4ac0e38",
    server_key: "8de7864c316f3c2356fd76cfdab696db55bc70e680fe5180e2f731e2345acca2",
  };

  it("accepts a well-formed row (hex lower-cased)", () => {
    assert.equal(parseScramCredential(good)?.salt, "3bc3ca01dd1d501ca1c22e1c5d7d16fe");
  });

  it("rejects anything Crossbar would choke on", () => {
    for (const bad of [
      { ...good, kdf: "pbkdf2" },
      { ...good, salt: "xyz" },
      { ...good, iterations: "4096" },
      { ...good, memory: null },
      { ...good, stored_key: "abcd" },
      { ...good, server_key: undefined },
    ]) {
      assert.equal(parseScramCredential(bad as Record<string, unknown>), null, JSON.stringify(bad));
    }
  });
});

describe("normalizeFingerprint", () => {
  const fp = "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89";
  it("gives Crossbar's uppercase colon format from any spelling", () => {
    assert.equal(normalizeFingerprint(fp), fp);
    assert.equal(normalizeFingerprint(fp.toLowerCase()), fp);
    assert.equal(normalizeFingerprint(fp.replaceAll(":", "")), fp);
    assert.equal(normalizeFingerprint(fp.replaceAll(":", " ")), fp);
  });
  it("rejects what is not a SHA-256 digest", () => {
    assert.equal(normalizeFingerprint("AB:CD"), null);
    assert.equal(normalizeFingerprint(fp.replace("AB", "XY")), null);
    assert.equal(normalizeFingerprint(fp + ":00"), null);
  });
});
