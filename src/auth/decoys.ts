/**
 * Decoy answers for wampcra, cryptosign and scram. These methods are answered at HELLO, before any
 * proof exists, and the router sends a CHALLENGE only when we answer: denying an unknown, disabled
 * or credential-less user at HELLO (an ABORT instead of a CHALLENGE) would tell who exists. So such
 * users get an answer shaped exactly like a real credential made with the current configuration,
 * holding material nobody knows: the router's own proof check then fails as for a wrong password.
 *
 * What the client sees of a decoy is deterministic (the same on every HELLO for a name, different
 * between names, like a real user's stored salt): it is derived from an HMAC under the service key
 * (authd.service_secrets) over a label and (realm, name). What it never sees (SCRAM keys, the CRA
 * secret) is random. The cryptosign key is a valid Ed25519 public key whose private key is an
 * HMAC output (one per realm), never the key the client announced. No I/O.
 */
import { createHmac, createPrivateKey, createPublicKey, randomBytes } from "node:crypto";
import { CRA_DEFAULTS, craAnswer, type CraSecretMode } from "./craCredential.js";
import { SCRAM_KDF, SCRAM_SALT_BYTES } from "./scramCredential.js";

/** HMAC-SHA256(key, label NUL JSON(parts)). The label keeps every use (and the throttle buckets) apart. */
export function decoyBytes(key: Buffer, label: string, ...parts: Array<string | null>): Buffer {
  return createHmac("sha256", key)
    .update(`wamp-authd decoy ${label}\u0000${JSON.stringify(parts)}`)
    .digest();
}

/** The six keys Crossbar reads from a SCRAM answer, as `users passwd` would write them with `params`. */
export function decoyScramAnswer(
  key: Buffer,
  realm: string,
  authid: string,
  params: { iterations: number; memory: number },
): Record<string, unknown> {
  return {
    kdf: SCRAM_KDF,
    iterations: params.iterations,
    memory: params.memory,
    salt: decoyBytes(key, "scram salt", realm, authid).subarray(0, SCRAM_SALT_BYTES).toString("hex"),
    "stored-key": randomBytes(32).toString("hex"),
    "server-key": randomBytes(32).toString("hex"),
  };
}

/**
 * A salted WAMP-CRA answer with CRA_DEFAULTS (what `users passwd` writes), in the shape
 * `cra.secretMode` gives real credentials: a random secret (plain mode), or the PBKDF2 key of one
 * (derived mode: computed like a real one, so it costs the same time).
 */
export function decoyCraAnswer(key: Buffer, realm: string, authid: string, mode: CraSecretMode): Record<string, unknown> {
  const salt = decoyBytes(key, "wampcra salt", realm, authid).subarray(0, CRA_DEFAULTS.saltBytes).toString("hex");
  return craAnswer(mode, {
    secret: randomBytes(24).toString("base64"),
    salt: { salt, iterations: CRA_DEFAULTS.iterations, keylen: CRA_DEFAULTS.keylen },
  });
}

// PKCS#8 DER header of an Ed25519 private key; the 32-byte seed follows.
const ED25519_PKCS8_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");

/** The Ed25519 public key (hex) of the seed. */
export function ed25519PublicKey(seed: Buffer): string {
  const priv = createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]), format: "der", type: "pkcs8" });
  const spki = createPublicKey(priv).export({ format: "der", type: "spki" });
  return spki.subarray(spki.length - 32).toString("hex");
}

const realmKeys = new WeakMap<Buffer, Map<string, string>>();

/**
 * The decoy cryptosign key of a realm. The router never shows the key it verifies with, so one key
 * per realm serves every name; computed once and kept (deriving an Ed25519 key costs ~0.3 ms, which
 * a per-name key would add to every decoy answer and to none of the real ones). Only realms of the
 * store get here, so the cache stays small.
 */
export function decoyPublicKey(key: Buffer, realm: string): string {
  let byRealm = realmKeys.get(key);
  if (!byRealm) realmKeys.set(key, (byRealm = new Map<string, string>()));
  let pub = byRealm.get(realm);
  if (!pub) byRealm.set(realm, (pub = ed25519PublicKey(decoyBytes(key, "cryptosign key", realm))));
  return pub;
}

/** The authid a decoy answer needs when the client sent none (Crossbar refuses an answer without one; never shown to a client). */
export function decoyAuthid(key: Buffer, realm: string, pubkey: string): string {
  return `decoy-${decoyBytes(key, "cryptosign authid", realm, pubkey).subarray(0, 8).toString("hex")}`;
}
