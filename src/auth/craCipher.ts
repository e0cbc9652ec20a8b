/**
 * Encryption at rest for WAMP-CRA secrets (AES-256-GCM).
 *
 * WAMP-CRA needs the secret itself (the router computes an HMAC with it), so it cannot be stored
 * as a one-way hash like a ticket. It is stored encrypted instead, under a key that lives outside
 * the database (config `cra.keyFile` or `cra.key`): a database dump alone reveals no secret.
 *
 * Keys have ids so they can be rotated: the first key encrypts, every listed key decrypts, and each
 * ciphertext records the id of the key that made it. The id is also bound into the GCM tag (AAD),
 * so a ciphertext relabelled with another key id fails to decrypt instead of decrypting wrongly.
 *
 * Everything here is pure except loadCraCipher(), which reads the key file.
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { AuthdError } from "../errors/base.js";

export interface CraKey {
  id: string;
  /** 32 bytes */
  key: Buffer;
}

/** What is stored in the credential's data (base64 fields). */
export interface EncryptedSecret {
  ciphertext: string;
  iv: string;
  tag: string;
  key_id: string;
}

export class CraKeyError extends AuthdError {
  readonly code = "CRA_KEY";
}

/** Decryption failed: unknown key id, wrong key, tampered or malformed data. Never carries the secret. */
export class CraDecryptError extends AuthdError {
  readonly code = "CRA_DECRYPT";
}

const KEY_ID = /^[A-Za-z0-9_.-]{1,64}$/;
const KEY_LINE = /^([^:\s]+):([0-9a-fA-F]{64})$/;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Parses `id:64-hex-chars` lines; blank lines and `#` comments are skipped. Errors name the source
 * and line number but never echo the line (it may hold key material).
 */
export function parseCraKeys(text: string, source: string): CraKey[] {
  const keys: CraKey[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === "" || line.startsWith("#")) continue;
    const m = KEY_LINE.exec(line);
    if (!m || !KEY_ID.test(m[1]!)) {
      throw new CraKeyError(`${source} line ${i + 1}: expected "id:<64 hex characters>" (id of letters, digits, "_", ".", "-")`);
    }
    if (keys.some((k) => k.id === m[1])) throw new CraKeyError(`${source} line ${i + 1}: key id "${m[1]}" is listed twice`);
    keys.push({ id: m[1]!, key: Buffer.from(m[2]!, "hex") });
  }
  if (keys.length === 0) throw new CraKeyError(`${source}: no key found`);
  return keys;
}

function aad(keyId: string): Buffer {
  return Buffer.from(`wamp-authd/wampcra/v1:${keyId}`, "utf8");
}

function decodeBase64(v: unknown, what: string, bytes?: number): Buffer {
  if (typeof v !== "string" || v.length === 0 || v.length > 64 * 1024 || !BASE64.test(v)) {
    throw new CraDecryptError(`${what} is not base64`);
  }
  const buf = Buffer.from(v, "base64");
  if (bytes !== undefined && buf.length !== bytes) throw new CraDecryptError(`${what} must be ${bytes} bytes`);
  return buf;
}

export class CraCipher {
  private readonly byId: Map<string, Buffer>;
  private readonly current: CraKey;

  constructor(keys: readonly CraKey[]) {
    if (keys.length === 0) throw new CraKeyError("at least one WAMP-CRA key is needed");
    this.byId = new Map();
    for (const k of keys) {
      if (!KEY_ID.test(k.id)) throw new CraKeyError(`invalid key id "${k.id}"`);
      if (k.key.length !== 32) throw new CraKeyError(`key "${k.id}" must be 32 bytes`);
      if (this.byId.has(k.id)) throw new CraKeyError(`key id "${k.id}" is listed twice`);
      this.byId.set(k.id, Buffer.from(k.key));
    }
    this.current = keys[0]!;
  }

  /** Id of the key new ciphertexts are made with. */
  get encryptKeyId(): string {
    return this.current.id;
  }

  /** True when `keyId` is not the current key (a rotation leftover worth re-encrypting). */
  isStale(keyId: string): boolean {
    return keyId !== this.current.id;
  }

  encrypt(plaintext: string): EncryptedSecret {
    const iv = randomBytes(IV_BYTES); // fresh per message: GCM must never reuse (key, iv)
    const c = createCipheriv("aes-256-gcm", this.current.key, iv, { authTagLength: TAG_BYTES });
    c.setAAD(aad(this.current.id));
    const ciphertext = Buffer.concat([c.update(plaintext, "utf8"), c.final()]);
    return {
      ciphertext: ciphertext.toString("base64"),
      iv: iv.toString("base64"),
      tag: c.getAuthTag().toString("base64"),
      key_id: this.current.id,
    };
  }

  /** Decrypts what encrypt() made (possibly with an older key still listed). Throws CraDecryptError. */
  decrypt(e: Partial<Record<keyof EncryptedSecret, unknown>>): string {
    if (typeof e.key_id !== "string") throw new CraDecryptError("key_id is missing");
    const key = this.byId.get(e.key_id);
    if (!key) throw new CraDecryptError(`no key with id "${e.key_id}" is configured`);
    const iv = decodeBase64(e.iv, "iv", IV_BYTES);
    const tag = decodeBase64(e.tag, "tag", TAG_BYTES);
    const ciphertext = e.ciphertext === "" ? Buffer.alloc(0) : decodeBase64(e.ciphertext, "ciphertext");
    try {
      const d = createDecipheriv("aes-256-gcm", key, iv, { authTagLength: TAG_BYTES });
      d.setAAD(aad(e.key_id));
      d.setAuthTag(tag);
      return Buffer.concat([d.update(ciphertext), d.final()]).toString("utf8");
    } catch {
      // Node's message ("Unsupported state or unable to authenticate data") says nothing more.
      throw new CraDecryptError(`authentication failed with key "${e.key_id}" (wrong key or tampered data)`);
    }
  }
}

/**
 * The cipher configured by `cra.keyFile` or `cra.key`; throws CraKeyError when neither or both are
 * set or the keys are malformed. Reads the key file (the only I/O in this module).
 */
export function loadCraCipher(cra: { keyFile: string; key: string }): CraCipher {
  if (cra.keyFile && cra.key) throw new CraKeyError("set cra.keyFile or cra.key, not both");
  if (cra.keyFile) {
    let text: string;
    try {
      text = readFileSync(cra.keyFile, "utf8");
    } catch (err) {
      throw new CraKeyError(`cra.keyFile ${cra.keyFile}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
    return new CraCipher(parseCraKeys(text, `cra.keyFile ${cra.keyFile}`));
  }
  if (cra.key) return new CraCipher(parseCraKeys(cra.key, "cra.key"));
  throw new CraKeyError("no WAMP-CRA key configured (cra.keyFile or cra.key)");
}
