/**
 * WAMP-SCRAM credential derivation (kdf "argon2id-13"), pure apart from argon2's native hashing.
 *
 * The router, not wamp-authd, checks the client's proof: it only needs StoredKey and ServerKey, so the
 * password itself is never stored. The derivation must match autobahn-python's client (`AuthScram`,
 * `_hash_argon2id13_secret`) and Crossbar's `scram.py` bit for bit:
 *
 *   hash           = argon2id v0x13 (password UTF-8, salt raw bytes, t=iterations, m=memory KiB, p=1, 32 bytes)
 *   SaltedPassword = ASCII bytes of the UNPADDED base64 of `hash` (the last `$` field of the PHC string;
 *                    autobahn uses that text, not the raw hash — docs/crossbar-protocol.md, "scram")
 *   ClientKey      = HMAC-SHA256(SaltedPassword, "Client Key")
 *   StoredKey      = SHA-256(ClientKey)
 *   ServerKey      = HMAC-SHA256(SaltedPassword, "Server Key")
 *
 * Only argon2id-13 is offered: autobahn-python's "pbkdf2" client path is broken (docs/crossbar-protocol.md, "scram").
 */
import argon2 from "argon2";
import { createHash, createHmac, randomBytes } from "node:crypto";

export const SCRAM_KDF = "argon2id-13";
/** The salt length autobahn/Crossbar examples use. argon2 itself wants at least 8 bytes. */
export const SCRAM_SALT_BYTES = 16;

/** What a `scram` credential row keeps in `data` (all binary values hex). */
export interface ScramCredential {
  kdf: typeof SCRAM_KDF;
  salt: string;
  iterations: number;
  memory: number;
  stored_key: string;
  server_key: string;
}

export interface ScramParams {
  /** hex; random SCRAM_SALT_BYTES when omitted */
  salt?: string;
  /** argon2 time cost */
  iterations: number;
  /** argon2 memory cost in KiB */
  memory: number;
}

const HEX = /^(?:[0-9a-f]{2})+$/i;
const HEX32 = /^[0-9a-f]{64}$/i;
// Bounds keep a bad config or row from turning one login into minutes of CPU or gigabytes of RAM;
// argon2 needs m >= 8 KiB per lane.
const MAX_ITERATIONS = 1_000_000;
const MIN_MEMORY = 8;
const MAX_MEMORY = 4 * 1024 * 1024;

function checkParams(iterations: unknown, memory: unknown): string | null {
  if (!Number.isSafeInteger(iterations) || (iterations as number) < 1 || (iterations as number) > MAX_ITERATIONS) {
    return `iterations must be an integer in 1..${MAX_ITERATIONS}`;
  }
  if (!Number.isSafeInteger(memory) || (memory as number) < MIN_MEMORY || (memory as number) > MAX_MEMORY) {
    return `memory must be an integer in ${MIN_MEMORY}..${MAX_MEMORY} (KiB)`;
  }
  return null;
}

export async function deriveScramCredential(password: string, p: ScramParams): Promise<ScramCredential> {
  const bad = checkParams(p.iterations, p.memory);
  if (bad) throw new Error(`SCRAM: ${bad}`);
  if (p.salt !== undefined && (!HEX.test(p.salt) || p.salt.length < 16)) throw new Error("SCRAM: salt must be hex, at least 8 bytes");
  const salt = p.salt !== undefined ? Buffer.from(p.salt, "hex") : randomBytes(SCRAM_SALT_BYTES);
  const hash = await argon2.hash(password, {
    raw: true,
    type: argon2.argon2id,
    version: 0x13,
    hashLength: 32,
    parallelism: 1,
    timeCost: p.iterations,
    memoryCost: p.memory,
    salt,
  });
  const saltedPassword = Buffer.from(hash.toString("base64").replace(/=+$/, ""), "ascii");
  const clientKey = createHmac("sha256", saltedPassword).update("Client Key").digest();
  return {
    kdf: SCRAM_KDF,
    salt: salt.toString("hex"),
    iterations: p.iterations,
    memory: p.memory,
    stored_key: createHash("sha256").update(clientKey).digest("hex"),
    server_key: createHmac("sha256", saltedPassword).update("Server Key").digest("hex"),
  };
}

/**
 * Validates a stored credential before it is handed to the router: Crossbar hex-decodes salt and keys
 * without checks, and a bad value there ends as an opaque "Internal server error" ABORT (docs/crossbar-protocol.md, "scram").
 */
export function parseScramCredential(data: Record<string, unknown>): ScramCredential | null {
  const { kdf, salt, iterations, memory, stored_key, server_key } = data;
  if (kdf !== SCRAM_KDF) return null;
  if (typeof salt !== "string" || !HEX.test(salt) || salt.length < 16) return null;
  if (checkParams(iterations, memory)) return null;
  if (typeof stored_key !== "string" || !HEX32.test(stored_key)) return null;
  if (typeof server_key !== "string" || !HEX32.test(server_key)) return null;
  return {
    kdf,
    salt: salt.toLowerCase(),
    iterations: iterations as number,
    memory: memory as number,
    stored_key: stored_key.toLowerCase(),
    server_key: server_key.toLowerCase(),
  };
}
