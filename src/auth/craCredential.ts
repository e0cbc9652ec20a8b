/**
 * The stored form of a WAMP-CRA credential and the answer Crossbar gets for it.
 *
 * credentials.data for method 'wampcra':
 *   { ciphertext, iv, tag, key_id }            the secret, AES-256-GCM encrypted (craCipher.ts)
 *   + { salt, iterations, keylen }             only for salted secrets (PBKDF2-SHA256 parameters)
 *
 * Salted WAMP-CRA means the client signs with base64(PBKDF2-SHA256(secret, salt, iterations, keylen))
 * instead of the secret. What the authenticator must put into `secret` for that changed in Crossbar
 * 25.12 (shared doc §2.3, §9):
 *   - "plain"   (>= 25.12): the secret itself; Crossbar derives the key when salt, iterations and
 *               keylen are all in the answer.
 *   - "derived" (<= 23.1):  the derived key; Crossbar signs with `secret` as given.
 * Pure (no I/O).
 */
import { pbkdf2Sync, randomBytes } from "node:crypto";
import type { CraCipher } from "./craCipher.js";
import { AuthdError } from "../errors/base.js";

export type CraSecretMode = "plain" | "derived";

export interface CraSalt {
  salt: string;
  iterations: number;
  keylen: number;
}

/** Defaults for new salted credentials. keylen 32 = autobahn's default; iterations are paid by client and router per login. */
export const CRA_DEFAULTS = { iterations: 10000, keylen: 32, saltBytes: 16 } as const;

/** Bounds for stored parameters: a bogus row must not make the router (or clients) spin. */
const LIMITS = { iterations: 1_000_000, keylen: 256, salt: 256, secret: 4096 } as const;

export class CraCredentialError extends AuthdError {
  readonly code = "CRA_CREDENTIAL";
}

function checkSalt(s: CraSalt): CraSalt {
  if (typeof s.salt !== "string" || s.salt.length === 0 || s.salt.length > LIMITS.salt) {
    throw new CraCredentialError(`salt must be a string of 1 to ${LIMITS.salt} characters`);
  }
  if (!Number.isSafeInteger(s.iterations) || s.iterations < 1 || s.iterations > LIMITS.iterations) {
    throw new CraCredentialError(`iterations must be an integer from 1 to ${LIMITS.iterations}`);
  }
  // Autobahn-JS derives keylen/4 32-bit words: other lengths would not match the router's key.
  if (!Number.isSafeInteger(s.keylen) || s.keylen < 4 || s.keylen > LIMITS.keylen || s.keylen % 4 !== 0) {
    throw new CraCredentialError(`keylen must be a multiple of 4 from 4 to ${LIMITS.keylen}`);
  }
  return { salt: s.salt, iterations: s.iterations, keylen: s.keylen };
}

export interface BuildOptions {
  /** default true: a random salt with CRA_DEFAULTS (or the given parameters) */
  salted?: boolean;
  salt?: string;
  iterations?: number;
  keylen?: number;
}

/** The credentials.data object for `secret` (for the CLI's passwd and seeding). */
export function buildCraCredential(cipher: CraCipher, secret: string, o: BuildOptions = {}): Record<string, unknown> {
  if (typeof secret !== "string" || secret.length === 0 || secret.length > LIMITS.secret) {
    throw new CraCredentialError(`the secret must be 1 to ${LIMITS.secret} characters`);
  }
  const data: Record<string, unknown> = { ...cipher.encrypt(secret) };
  if (o.salted === false) {
    if (o.salt !== undefined || o.iterations !== undefined || o.keylen !== undefined) {
      throw new CraCredentialError("salt parameters given for an unsalted secret");
    }
    return data;
  }
  const salt = checkSalt({
    salt: o.salt ?? randomBytes(CRA_DEFAULTS.saltBytes).toString("hex"),
    iterations: o.iterations ?? CRA_DEFAULTS.iterations,
    keylen: o.keylen ?? CRA_DEFAULTS.keylen,
  });
  return { ...data, ...salt };
}

export interface OpenedCra {
  secret: string;
  salt: CraSalt | null;
}

/** Decrypts a stored credential. Throws CraCredentialError / CraDecryptError on malformed data. */
export function openCraCredential(cipher: CraCipher, data: Record<string, unknown>): OpenedCra {
  const secret = cipher.decrypt(data);
  const has = ["salt", "iterations", "keylen"].filter((k) => data[k] !== undefined && data[k] !== null);
  if (has.length === 0) return { secret, salt: null };
  // Crossbar would silently ignore a partial set and sign unsalted: refuse instead of guessing.
  if (has.length !== 3) throw new CraCredentialError("salted credential needs salt, iterations and keylen");
  return { secret, salt: checkSalt({ salt: data.salt as string, iterations: data.iterations as number, keylen: data.keylen as number }) };
}

/** base64(PBKDF2-HMAC-SHA256(secret, salt, iterations, keylen)): autobahn's derive_key. */
export function deriveCraKey(secret: string, salt: CraSalt): string {
  return pbkdf2Sync(Buffer.from(secret, "utf8"), Buffer.from(salt.salt, "utf8"), salt.iterations, salt.keylen, "sha256").toString("base64");
}

/** The method-specific keys of the authenticator's answer. */
export function craAnswer(mode: CraSecretMode, opened: OpenedCra): Record<string, unknown> {
  if (!opened.salt) return { secret: opened.secret };
  const secret = mode === "derived" ? deriveCraKey(opened.secret, opened.salt) : opened.secret;
  return { secret, salt: opened.salt.salt, iterations: opened.salt.iterations, keylen: opened.salt.keylen };
}
