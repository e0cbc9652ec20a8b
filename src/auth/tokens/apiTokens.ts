/**
 * API tokens (for machines, made by an operator) and device tickets (asked for by a logged-in
 * session): their text format, and the keyed hash that is all the store keeps of them.
 *
 * Format: `authd_api_<id>_<secret><check>` (device tickets: `authd_dev_...`), all lowercase base32:
 * a 16-character id (80 random bits, shown in listings), a 52-character secret (256 random bits) and a
 * 7-character CRC-32 of everything before it. The fixed prefix lets secret scanners find leaked
 * tokens, and the checksum lets them (and us) tell a token from a typo without a lookup.
 *
 * The secret has 256 bits of entropy, so a slow KDF buys nothing: the store keeps
 * HMAC-SHA256(key, id + secret) under a key that lives outside the database (`tokens.keyFile` or
 * `tokens.key`, rotated like the WAMP-CRA keys: the first key makes new tokens, all verify). Comparison
 * is constant-time. Pure except loadTokenKeys(), which reads the key file.
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import { crc32 } from "node:zlib";
import { AuthdError } from "../../errors/base.js";
import { parseCraKeys, type CraKey } from "../craCipher.js";

export type TokenKind = "api" | "device";

export interface ParsedToken {
  kind: TokenKind;
  id: string;
  secret: string;
}

const ALPHABET = "abcdefghijklmnopqrstuvwxyz234567";
const PREFIX: Record<TokenKind, string> = { api: "authd_api_", device: "authd_dev_" };
const TOKEN = /^authd_(api|dev)_([a-z2-7]{16})_([a-z2-7]{52})([a-z2-7]{7})$/;
export const TOKEN_ID = /^[a-z2-7]{16}$/;

export class TokenKeyError extends AuthdError {
  readonly code = "TOKEN_KEY";
}

/** Lowercase RFC 4648 base32 without padding. */
export function base32(bytes: Uint8Array): string {
  let out = "";
  let bits = 0;
  let value = 0;
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31];
  return out;
}

function checksum(body: string): string {
  const n = crc32(body);
  return base32(Buffer.from([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]));
}

/** True for text that claims to be one of our tokens (right prefix), valid or not. */
export function isTokenShaped(ticket: string): boolean {
  return ticket.startsWith(PREFIX.api) || ticket.startsWith(PREFIX.device);
}

/** The parts of a well-formed token with a correct checksum; null otherwise. */
export function parseToken(ticket: string): ParsedToken | null {
  const m = TOKEN.exec(ticket);
  if (!m) return null;
  const body = ticket.slice(0, ticket.length - 7);
  if (checksum(body) !== m[4]) return null;
  return { kind: m[1] === "api" ? "api" : "device", id: m[2]!, secret: m[3]! };
}

/** A fresh token: its text (shown once) and its parts. */
export function newToken(kind: TokenKind): ParsedToken & { text: string } {
  const id = base32(randomBytes(10));
  const secret = base32(randomBytes(32));
  const body = `${PREFIX[kind]}${id}_${secret}`;
  return { kind, id, secret, text: body + checksum(body) };
}

/** The HMAC keys; the first one hashes new tokens. */
export class TokenKeys {
  private readonly byId: Map<string, Buffer>;

  constructor(private readonly keys: CraKey[]) {
    if (keys.length === 0) throw new TokenKeyError("no token key");
    this.byId = new Map(keys.map((k) => [k.id, k.key]));
  }

  get currentId(): string {
    return this.keys[0]!.id;
  }

  /** HMAC-SHA256 of the token's id and secret under the current key. */
  hash(id: string, secret: string): { keyId: string; hash: Buffer } {
    return { keyId: this.currentId, hash: mac(this.keys[0]!.key, id, secret) };
  }

  /**
   * Constant-time check of a secret against a stored hash. An unknown key id (a key removed from
   * the file) fails, after the same work.
   */
  verify(keyId: string, id: string, secret: string, stored: Buffer): boolean {
    const key = this.byId.get(keyId);
    const computed = mac(key ?? this.keys[0]!.key, id, secret);
    return stored.length === computed.length && timingSafeEqual(stored, computed) && key !== undefined;
  }
}

function mac(key: Buffer, id: string, secret: string): Buffer {
  return createHmac("sha256", key).update(`wamp-authd/token/v1\u0000${id}\u0000${secret}`).digest();
}

/** The keys configured by `tokens.keyFile` or `tokens.key`; null when neither is set. */
export function loadTokenKeys(t: { keyFile: string; key: string }): TokenKeys | null {
  if (t.keyFile && t.key) throw new TokenKeyError("set tokens.keyFile or tokens.key, not both");
  if (t.keyFile) {
    let text: string;
    try {
      text = readFileSync(t.keyFile, "utf8");
    } catch (err) {
      throw new TokenKeyError(`tokens.keyFile ${t.keyFile}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
    return new TokenKeys(parseKeys(text, `tokens.keyFile ${t.keyFile}`));
  }
  if (t.key) return new TokenKeys(parseKeys(t.key, "tokens.key"));
  return null;
}

function parseKeys(text: string, source: string): CraKey[] {
  try {
    return parseCraKeys(text, source);
  } catch (err) {
    throw new TokenKeyError((err as Error).message);
  }
}

/** "90d", "12h", "30m", "3600s" or an ISO date → the expiry; null when unparseable. Pure (now given). */
export function expiryFrom(text: string, now: Date): Date | null {
  const m = /^(\d{1,6})([smhdw])$/.exec(text.trim());
  if (m) {
    const unit = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 }[m[2] as "s" | "m" | "h" | "d" | "w"];
    const seconds = Number(m[1]) * unit;
    return seconds > 0 ? new Date(now.getTime() + seconds * 1000) : null;
  }
  if (!/^\d{4}-\d{2}-\d{2}/.test(text)) return null;
  const d = new Date(text);
  return Number.isNaN(d.getTime()) ? null : d;
}
