/**
 * The stored form of a WAMP-CRA credential and the answer Crossbar gets for it.
 *
 * credentials.data for method 'wampcra':
 *   { ciphertext, iv, tag, key_id }            the secret, AES-256-GCM encrypted (craCipher.ts)
 *   + { salt, iterations, keylen }             only for salted secrets (PBKDF2-SHA256 parameters)
 *   + { derived: true }                        the stored secret already is the PBKDF2 key for those
 *                                              parameters (imported from a config written for
 *                                              Crossbar <= 23.1, e.g. wampy's documented one)
 *
 * Salted WAMP-CRA means the client signs with base64(PBKDF2-SHA256(secret, salt, iterations, keylen))
 * instead of the secret. What the authenticator must put into `secret` for that changed in Crossbar
 * 25.12 (docs/crossbar-protocol.md, "wampcra"):
 *   - "plain"   (>= 25.12): the secret itself; Crossbar derives the key when salt, iterations and
 *               keylen are all in the answer.
 *   - "derived" (<= 23.1):  the derived key; Crossbar signs with `secret` as given.
 * A credential stored as a derived key is answered so that clients signing with that key (wampy
 * never derives) log in: without salt parameters in "plain" mode (Crossbar then uses `secret` as the
 * key as is), with them in "derived" mode (the old router signs with `secret` as given anyway).
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

/** Throws CraCredentialError unless the PBKDF2 parameters are usable; returns just those three. */
export function checkCraSalt(s: CraSalt): CraSalt {
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
  /** `secret` is already base64(PBKDF2(password, salt, iterations, keylen)); needs the salt parameters */
  derived?: boolean;
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
    if (o.derived === true) throw new CraCredentialError("a derived key needs the salt parameters it was derived with");
    return data;
  }
  if (o.derived === true && (o.salt === undefined || o.iterations === undefined || o.keylen === undefined)) {
    throw new CraCredentialError("a derived key needs the salt parameters it was derived with");
  }
  const salt = checkCraSalt({
    salt: o.salt ?? randomBytes(CRA_DEFAULTS.saltBytes).toString("hex"),
    iterations: o.iterations ?? CRA_DEFAULTS.iterations,
    keylen: o.keylen ?? CRA_DEFAULTS.keylen,
  });
  return { ...data, ...salt, ...(o.derived === true ? { derived: true } : {}) };
}

export interface OpenedCra {
  secret: string;
  salt: CraSalt | null;
  /** present (and true) only when `secret` is the derived key itself */
  derived?: true;
}

/** Decrypts a stored credential. Throws CraCredentialError / CraDecryptError on malformed data. */
export function openCraCredential(cipher: CraCipher, data: Record<string, unknown>): OpenedCra {
  const secret = cipher.decrypt(data);
  // Anything but a literal true/false (or nothing) is a corrupt row: refuse rather than guess which key to answer.
  if (data.derived !== undefined && data.derived !== null && typeof data.derived !== "boolean") {
    throw new CraCredentialError("derived must be true or false");
  }
  const derived = data.derived === true;
  const has = ["salt", "iterations", "keylen"].filter((k) => data[k] !== undefined && data[k] !== null);
  if (has.length === 0) {
    if (derived) throw new CraCredentialError("a derived key needs the salt parameters it was derived with");
    return { secret, salt: null };
  }
  // Crossbar would silently ignore a partial set and sign unsalted: refuse instead of guessing.
  if (has.length !== 3) throw new CraCredentialError("salted credential needs salt, iterations and keylen");
  const salt = checkCraSalt({ salt: data.salt as string, iterations: data.iterations as number, keylen: data.keylen as number });
  return derived ? { secret, salt, derived: true } : { secret, salt };
}

/** base64(PBKDF2-HMAC-SHA256(secret, salt, iterations, keylen)): autobahn's derive_key. */
export function deriveCraKey(secret: string, salt: CraSalt): string {
  return pbkdf2Sync(Buffer.from(secret, "utf8"), Buffer.from(salt.salt, "utf8"), salt.iterations, salt.keylen, "sha256").toString("base64");
}

/** The method-specific keys of the authenticator's answer. */
export function craAnswer(mode: CraSecretMode, opened: OpenedCra): Record<string, unknown> {
  if (!opened.salt) return { secret: opened.secret };
  if (opened.derived) {
    // The key is stored: never derive again. >= 25.12 derives from `secret` whenever the three salt
    // keys are present, so "plain" answers the key alone; <= 23.1 signs with `secret` as given.
    return mode === "plain"
      ? { secret: opened.secret }
      : { secret: opened.secret, salt: opened.salt.salt, iterations: opened.salt.iterations, keylen: opened.salt.keylen };
  }
  const secret = mode === "derived" ? deriveCraKey(opened.secret, opened.salt) : opened.secret;
  return { secret, salt: opened.salt.salt, iterations: opened.salt.iterations, keylen: opened.salt.keylen };
}

/** Whether `secret` has the shape of deriveCraKey's output for `keylen` (padded base64 of exactly keylen bytes). */
export function looksLikeDerivedKey(secret: string, keylen: number): boolean {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(secret)) return false;
  const raw = Buffer.from(secret, "base64");
  return raw.length === keylen && raw.toString("base64") === secret;
}
