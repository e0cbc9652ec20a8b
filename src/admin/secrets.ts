/** Turns a password into every stored form at once: ticket hash, SCRAM keys, CRA ciphertext. */
import { loadCraCipher } from "../auth/craCipher.js";
import { buildCraCredential } from "../auth/craCredential.js";
import { PasswordHasher } from "../auth/passwords.js";
import { deriveScramCredential, type ScramCredential } from "../auth/scramCredential.js";
import type { Config } from "../config/load.js";
import { AdminError } from "./context.js";

export interface DerivedSecrets {
  ticket: { phc: string };
  scram: ScramCredential;
  /** Only when asked for (needs a CRA key). */
  wampcra: Record<string, unknown> | null;
}

export const MAX_PASSWORD = 4096;

export function craEnabled(config: Config): boolean {
  return config.cra.key !== "" || config.cra.keyFile !== "";
}

export function checkPassword(password: string): string {
  if (password.length === 0) throw new AdminError("empty password");
  if (password.length > MAX_PASSWORD) throw new AdminError(`password longer than ${MAX_PASSWORD} characters`);
  return password;
}

/** `users passwd` writes a CRA secret only with cra.onPasswd on, which needs a key to encrypt it with. */
export function passwdWritesCra(config: Config): boolean {
  if (!config.cra.onPasswd) return false;
  if (!craEnabled(config)) throw new AdminError("cra.onPasswd is on but no WAMP-CRA key is configured (cra.keyFile or cra.key)");
  return true;
}

export async function deriveSecrets(config: Config, password: string, o: { cra: boolean }): Promise<DerivedSecrets> {
  checkPassword(password);
  const hasher = new PasswordHasher(config.argon2, 1);
  const [phc, scram] = await Promise.all([
    hasher.hash(password),
    deriveScramCredential(password, { iterations: config.scram.iterations, memory: config.scram.memory }),
  ]);
  return { ticket: { phc }, scram, wampcra: o.cra ? buildCraCredential(loadCraCipher(config.cra), password) : null };
}
