import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import autobahn from "autobahn";
import { CraCipher, CraDecryptError, CraKeyError, loadCraCipher, parseCraKeys, type CraKey } from "../../src/auth/craCipher.js";
import {
  buildCraCredential,
  craAnswer,
  CraCredentialError,
  deriveCraKey,
  looksLikeDerivedKey,
  openCraCredential,
} from "../../src/auth/craCredential.js";
import { removeTempDir, tempDir } from "../../devstack/tempDirs.js";

const hex = () => randomBytes(32).toString("hex");
const key = (id: string): CraKey => ({ id, key: randomBytes(32) });

describe("CraCipher (AES-256-GCM)", () => {
  it("round-trips, with a fresh IV each time", () => {
    const c = new CraCipher([key("k1")]);
    for (const secret of ["s", "correct horse battery staple", "ünïcødé 🔑", "x".repeat(4096)]) {
      const a = c.encrypt(secret);
      const b = c.encrypt(secret);
      assert.equal(a.key_id, "k1");
      assert.notEqual(a.iv, b.iv);
      assert.notEqual(a.ciphertext, b.ciphertext);
      assert.equal(c.decrypt(a), secret);
      assert.equal(c.decrypt(b), secret);
    }
  });

  it("the ciphertext does not contain the secret", () => {
    const c = new CraCipher([key("k1")]);
    const e = c.encrypt("plain-secret-value");
    assert.doesNotMatch(JSON.stringify(e), /plain-secret-value/);
    assert.notEqual(Buffer.from(e.ciphertext, "base64").toString("utf8"), "plain-secret-value");
  });

  it("a wrong key, a tampered ciphertext/tag/iv and a relabelled key id fail", () => {
    const k1 = key("k1");
    const e = new CraCipher([k1]).encrypt("secret");
    assert.throws(() => new CraCipher([{ id: "k1", key: randomBytes(32) }]).decrypt(e), CraDecryptError);
    const flip = (b64: string) => {
      const b = Buffer.from(b64, "base64");
      b[0]! ^= 1;
      return b.toString("base64");
    };
    const c = new CraCipher([k1, { id: "k2", key: k1.key }]);
    assert.throws(() => c.decrypt({ ...e, ciphertext: flip(e.ciphertext) }), CraDecryptError);
    assert.throws(() => c.decrypt({ ...e, tag: flip(e.tag) }), CraDecryptError);
    assert.throws(() => c.decrypt({ ...e, iv: flip(e.iv) }), CraDecryptError);
    // same key bytes under another id: the id is bound into the tag
    assert.throws(() => c.decrypt({ ...e, key_id: "k2" }), CraDecryptError);
    assert.equal(c.decrypt(e), "secret");
  });

  it("malformed data is a CraDecryptError, never a crash", () => {
    const c = new CraCipher([key("k1")]);
    const e = c.encrypt("secret");
    for (const bad of [
      {},
      { ...e, key_id: "nope" },
      { ...e, key_id: 5 },
      { ...e, iv: "***" },
      { ...e, iv: "AAAA" },
      { ...e, tag: null },
      { ...e, ciphertext: 42 },
    ]) {
      assert.throws(() => c.decrypt(bad), CraDecryptError, JSON.stringify(bad));
    }
  });

  it("rotation: the first key encrypts, every key decrypts, an unlisted key fails", () => {
    const old = key("2024");
    const fresh = key("2025");
    const before = new CraCipher([old]).encrypt("secret-old");
    const rotated = new CraCipher([fresh, old]);
    assert.equal(rotated.encryptKeyId, "2025");
    assert.equal(rotated.decrypt(before), "secret-old");
    assert.equal(rotated.isStale(before.key_id), true);
    const after = rotated.encrypt("secret-new");
    assert.equal(after.key_id, "2025");
    assert.equal(rotated.isStale(after.key_id), false);
    const retired = new CraCipher([fresh]);
    assert.equal(retired.decrypt(after), "secret-new");
    assert.throws(() => retired.decrypt(before), /no key with id "2024"/);
  });

  it("rejects bad key sets", () => {
    assert.throws(() => new CraCipher([]), CraKeyError);
    assert.throws(() => new CraCipher([{ id: "a", key: randomBytes(16) }]), CraKeyError);
    assert.throws(() => new CraCipher([key("a"), key("a")]), CraKeyError);
    assert.throws(() => new CraCipher([key("bad id")]), CraKeyError);
  });
});

describe("CRA key files", () => {
  it("parses id:hex lines, skipping blanks and comments", () => {
    const a = hex();
    const b = hex().toUpperCase();
    const keys = parseCraKeys(`# current first\n\nnew:${a}\r\n  old:${b}  \n`, "test");
    assert.deepEqual(
      keys.map((k) => k.id),
      ["new", "old"],
    );
    assert.equal(keys[0]!.key.toString("hex"), a);
    assert.equal(keys[1]!.key.toString("hex"), b.toLowerCase());
  });

  it("errors name the line but never echo key material", () => {
    const secretish = "abcd".repeat(15); // 60 hex chars: too short
    const err = (() => {
      try {
        parseCraKeys(`ok:${hex()}\nbad:${secretish}\n`, "keys.txt");
      } catch (e) {
        return e as Error;
      }
      throw new Error("expected a CraKeyError");
    })();
    assert.ok(err instanceof CraKeyError);
    assert.match(err.message, /keys\.txt line 2/);
    assert.doesNotMatch(err.message, new RegExp(secretish));
    assert.throws(() => parseCraKeys("", "x"), /no key found/);
    assert.throws(() => parseCraKeys(`a:${hex()}\na:${hex()}`, "x"), /listed twice/);
    assert.throws(() => parseCraKeys(hex(), "x"), CraKeyError);
  });

  it("loadCraCipher reads cra.keyFile or cra.key, not both, not neither", async () => {
    const dir = tempDir("cra");
    const file = join(dir, "cra.keys");
    const k = hex();
    writeFileSync(file, `file1:${k}\nfile0:${hex()}\n`);
    assert.equal(loadCraCipher({ keyFile: file, key: "" }).encryptKeyId, "file1");
    assert.equal(loadCraCipher({ keyFile: "", key: `single:${k}` }).encryptKeyId, "single");
    assert.throws(() => loadCraCipher({ keyFile: file, key: `single:${k}` }), /not both/);
    assert.throws(() => loadCraCipher({ keyFile: "", key: "" }), /no WAMP-CRA key configured/);
    assert.throws(() => loadCraCipher({ keyFile: join(dir, "missing"), key: "" }), /ENOENT/);
    await removeTempDir(dir);
  });
});

describe("WAMP-CRA credentials and answers", () => {
  const cipher = new CraCipher([key("k1")]);

  it("derived-mode key derivation matches the known vectors (secret1/salt123/100/16) and autobahn-js", () => {
    const salt = { salt: "salt123", iterations: 100, keylen: 16 };
    assert.equal(deriveCraKey("secret1", salt), "prq7+YkJ1/KlW1X0YczMHw==");
    assert.equal(deriveCraKey("secret2", salt), "LG5/FwnS5WvgmlEyLPk/pQ==");
    assert.equal(
      deriveCraKey("pässwörd", { salt: "sålt", iterations: 1000, keylen: 32 }),
      autobahn.auth_cra.derive_key("pässwörd", "sålt", 1000, 32),
    );
  });

  it("a salted credential: plain mode answers the secret, derived mode the PBKDF2 key, both with the parameters", () => {
    const data = buildCraCredential(cipher, "secret1", { salt: "salt123", iterations: 100, keylen: 16 });
    assert.deepEqual(Object.keys(data).sort(), ["ciphertext", "iterations", "iv", "key_id", "keylen", "salt", "tag"]);
    assert.doesNotMatch(JSON.stringify(data), /secret1/);
    const opened = openCraCredential(cipher, JSON.parse(JSON.stringify(data)) as Record<string, unknown>);
    assert.deepEqual(craAnswer("plain", opened), { secret: "secret1", salt: "salt123", iterations: 100, keylen: 16 });
    assert.deepEqual(craAnswer("derived", opened), { secret: "prq7+YkJ1/KlW1X0YczMHw==", salt: "salt123", iterations: 100, keylen: 16 });
  });

  it("a stored derived key (wampy's documented config) is never derived again: plain mode answers it unsalted", () => {
    const salt = { salt: "salt123", iterations: 100, keylen: 16 };
    const data = buildCraCredential(cipher, "prq7+YkJ1/KlW1X0YczMHw==", { ...salt, derived: true });
    assert.equal(data.derived, true);
    const opened = openCraCredential(cipher, JSON.parse(JSON.stringify(data)) as Record<string, unknown>);
    assert.deepEqual(opened, { secret: "prq7+YkJ1/KlW1X0YczMHw==", salt, derived: true });
    // >= 25.12 derives from `secret` whenever the three salt keys are present: leave them out.
    assert.deepEqual(craAnswer("plain", opened), { secret: "prq7+YkJ1/KlW1X0YczMHw==" });
    // <= 23.1 signs with `secret` as given and passes the parameters on to clients that derive.
    assert.deepEqual(craAnswer("derived", opened), { secret: "prq7+YkJ1/KlW1X0YczMHw==", ...salt });
    assert.equal(deriveCraKey("secret1", salt), craAnswer("derived", opened).secret);
  });

  it("a derived marker that is not a boolean, or without salt parameters, is refused", () => {
    assert.throws(() => buildCraCredential(cipher, "k", { salted: false, derived: true }), /needs the salt parameters/);
    assert.throws(() => buildCraCredential(cipher, "k", { salt: "s", derived: true }), /needs the salt parameters/);
    const data = buildCraCredential(cipher, "prq7+YkJ1/KlW1X0YczMHw==", { salt: "salt123", iterations: 100, keylen: 16, derived: true });
    assert.throws(() => openCraCredential(cipher, { ...data, derived: "yes" }), /derived must be true or false/);
    const { salt: _s, iterations: _i, keylen: _k, ...unsalted } = data;
    assert.throws(() => openCraCredential(cipher, unsalted), /needs the salt parameters/);
    assert.deepEqual(openCraCredential(cipher, { ...data, derived: false }).derived, undefined);
  });

  it("looksLikeDerivedKey: padded base64 of exactly keylen bytes", () => {
    assert.equal(looksLikeDerivedKey("prq7+YkJ1/KlW1X0YczMHw==", 16), true);
    assert.equal(looksLikeDerivedKey("prq7+YkJ1/KlW1X0YczMHw==", 32), false);
    assert.equal(looksLikeDerivedKey("secret1", 16), false);
    assert.equal(looksLikeDerivedKey("prq7+YkJ1/KlW1X0YczMHw", 16), false);
    assert.equal(looksLikeDerivedKey(deriveCraKey("x", { salt: "s", iterations: 1, keylen: 32 }), 32), true);
  });

  it("an unsalted credential answers the secret alone in both modes", () => {
    const data = buildCraCredential(cipher, "plain-secret", { salted: false });
    assert.equal("salt" in data, false);
    const opened = openCraCredential(cipher, data);
    assert.deepEqual(craAnswer("plain", opened), { secret: "plain-secret" });
    assert.deepEqual(craAnswer("derived", opened), { secret: "plain-secret" });
  });

  it("defaults: a random hex salt, 10000 iterations, keylen 32", () => {
    const a = buildCraCredential(cipher, "x");
    const b = buildCraCredential(cipher, "x");
    assert.match(String(a.salt), /^[0-9a-f]{32}$/);
    assert.notEqual(a.salt, b.salt);
    assert.equal(a.iterations, 10000);
    assert.equal(a.keylen, 32);
  });

  it("rejects bad secrets, bad parameters and partial salt sets", () => {
    assert.throws(() => buildCraCredential(cipher, ""), CraCredentialError);
    assert.throws(() => buildCraCredential(cipher, "x", { iterations: 0 }), CraCredentialError);
    assert.throws(() => buildCraCredential(cipher, "x", { iterations: 10_000_000 }), CraCredentialError);
    assert.throws(() => buildCraCredential(cipher, "x", { keylen: 10 }), CraCredentialError);
    assert.throws(() => buildCraCredential(cipher, "x", { salt: "" }), CraCredentialError);
    assert.throws(() => buildCraCredential(cipher, "x", { salted: false, salt: "s" }), CraCredentialError);
    const data = buildCraCredential(cipher, "x", { salt: "s", iterations: 10, keylen: 16 });
    const { keylen: _drop, ...partial } = data;
    assert.throws(() => openCraCredential(cipher, partial), /needs salt, iterations and keylen/);
    assert.throws(() => openCraCredential(cipher, { ...data, iterations: "10" }), CraCredentialError);
    assert.throws(() => openCraCredential(cipher, { ...data, key_id: "other" }), CraDecryptError);
  });
});
