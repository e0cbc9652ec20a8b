/**
 * The token side of the ticket method: tells a JWT or one of our tokens from a password, and hands
 * it to the verifier of its kind. The ticket method stays one file that dispatches here.
 */
import { deny } from "../../errors/authErrors.js";
import type { Logger } from "../../log/logger.js";
import type { Queryable } from "../../store/queries.js";
import { findApiToken, touchApiToken } from "../../store/tokenQueries.js";
import type { Principal } from "../method.js";
import { principalOf } from "../principal.js";
import type { AuthRequest } from "../request.js";
import { isTokenShaped, parseToken, type TokenKeys } from "./apiTokens.js";
import type { IssuerRegistry } from "./issuers.js";
import { JwtVerifier, looksLikeJwt } from "./jwt.js";

export type TicketKind = "jwt" | "token" | "password";

export interface TokenAuthenticatorOptions {
  db: Queryable;
  log: Logger;
  issuers: IssuerRegistry;
  /** null: no tokens.key configured, API tokens and device tickets are refused. */
  keys: TokenKeys | null;
  lastUsedIntervalMs: number;
}

const DUMMY_HASH = Buffer.alloc(32);

export class TokenAuthenticator {
  private readonly jwt: JwtVerifier;
  /** Last time this instance wrote a token's last_used_at (the store's condition decides across instances). */
  private readonly touched = new Map<string, number>();

  constructor(private readonly o: TokenAuthenticatorOptions) {
    this.jwt = new JwtVerifier(o.issuers, o.db);
  }

  /** What a ticket is: one of our tokens (by prefix), a JWT (by shape), or a password. Pure. */
  static kindOf(ticket: string): TicketKind {
    if (isTokenShaped(ticket)) return "token";
    if (looksLikeJwt(ticket)) return "jwt";
    return "password";
  }

  authenticate(req: AuthRequest, ticket: string, kind: Exclude<TicketKind, "password">): Promise<Principal> {
    return kind === "jwt" ? this.jwt.authenticate(req, ticket) : this.apiToken(req, ticket);
  }

  /** An API token or device ticket: HMAC check, then the token's and its user's state. */
  private async apiToken(req: AuthRequest, ticket: string): Promise<Principal> {
    const parsed = parseToken(ticket);
    if (!parsed) throw deny("token: malformed or bad checksum", "unknown");
    const keys = this.o.keys;
    if (!keys) throw deny("token: no tokens.key configured", "policy");
    const row = await findApiToken(this.o.db, parsed.id);
    if (!row) {
      // Same HMAC work as a known id.
      keys.verify(keys.currentId, parsed.id, parsed.secret, DUMMY_HASH);
      throw deny(`token ${parsed.id}: unknown`, "unknown");
    }
    if (!keys.verify(row.key_id, parsed.id, parsed.secret, row.secret_hash)) throw deny(`token ${parsed.id}: wrong secret`, "account");
    if (row.kind !== parsed.kind) throw deny(`token ${parsed.id}: kind mismatch`, "account");
    if (row.revoked) throw deny(`token ${parsed.id}: revoked`, "account");
    if (!row.live) throw deny(`token ${parsed.id}: expired`, "account");
    const user = row.user;
    if (user.disabled) throw deny("user disabled", "account");
    // The token's user must be the one the client named (its authid or the session authid it gets)
    // and live in the realm the client asked for.
    if (req.realm !== user.realm && req.realm !== user.realm_override)
      throw deny(`token ${parsed.id}: belongs to another realm`, "account");
    if (req.authid !== null && req.authid !== user.authid && req.authid !== user.authid_override) {
      throw deny(`token ${parsed.id}: belongs to another user`, "account");
    }
    this.touch(row.id);
    const base = principalOf(user);
    return {
      ...base,
      role: row.role ?? user.role,
      token: { kind: row.kind, expiresAt: row.expires_at, tokenId: row.id, issuerId: null, jti: null },
    };
  }

  private touch(id: string): void {
    const now = Date.now();
    if (now - (this.touched.get(id) ?? -Infinity) < this.o.lastUsedIntervalMs) return;
    this.touched.set(id, now);
    if (this.touched.size > 10_000) this.touched.clear();
    void touchApiToken(this.o.db, id, this.o.lastUsedIntervalMs).catch((err: unknown) =>
      this.o.log.warn({ err, token: id }, "recording a token's last use failed"),
    );
  }
}
