import type { Logger } from "../log/logger.js";
import type pg from "pg";
import type { Config } from "../config/load.js";
import type { PasswordHasher } from "./passwords.js";
import type { AuthRequest } from "./request.js";
import type { TokenAuthenticator } from "./tokens/tokens.js";

/** A login made with a token: what ends its session (expiry, revocation of the token or its jti). */
export interface TokenBinding {
  kind: "jwt" | "api" | "device";
  /** When the session must end (the token's expiry; for a JWT, exp plus the issuer's leeway). */
  expiresAt: Date;
  /** API token or device ticket id. */
  tokenId: string | null;
  issuerId: number | null;
  jti: string | null;
  /** The token session is already recorded (the JWT lookup does it in the same statement). */
  recorded?: boolean;
}

/** Who the router should let in. `answer` carries method-specific keys (secret, pubkey, SCRAM fields). */
export interface Principal {
  role: string;
  authid: string;
  realm: string;
  extra: Record<string, unknown>;
  answer?: Record<string, unknown>;
  /** The store's user id, for the audit trail. */
  userId?: string;
  /** Set when a token (JWT, API token, device ticket) logged in. */
  token?: TokenBinding;
  /** Set on a decoy answer (auth/decoys.ts): why the login really is refused. */
  decoy?: Decoy;
}

/**
 * Why a decoy was answered instead of a denial: the denial's reason, and whose failure it is
 * (`account`: a known account, its own counter and audit row; `unknown`: bucket and rollup).
 */
export interface Decoy {
  reason: string;
  code: "account" | "unknown";
}

/** What a decoy answer is made from: the shared service key and the realm's decoy role. */
export interface DecoyContext {
  key(): Promise<Buffer>;
  /** null: no decoy possible in this realm (unknown to the store, no usable role). */
  role(realm: string): Promise<string | null>;
}

export interface MethodContext {
  pool: pg.Pool;
  passwords: PasswordHasher;
  config: Config;
  log: Logger;
  decoys: DecoyContext;
  /** When this login's answer is due (performance.now() clock): KDF work that cannot finish by then is not started. */
  deadline?: number;
  /** JWTs, API tokens and device tickets sent as tickets. */
  tokens?: TokenAuthenticator;
}

/** One auth method = one module under src/auth/methods/ whose default export is an AuthMethod. */
export interface AuthMethod {
  /** Crossbar's authmethod name: "ticket", "wampcra", ... */
  readonly name: string;
  /**
   * True when a success here proves the client holds the credential (ticket, TLS certificate). Only
   * such a success clears the failure counter: for wampcra/cryptosign/scram the router checks the
   * proof after our answer, so our "success" proves nothing and must not reset a brute-force count.
   */
  readonly provesCredential?: boolean;
  /**
   * The decoy answer (auth/decoys.ts) for a request this method denied with code `account` or
   * `unknown`, or null when the request itself admits none (no authid, no usable pubkey, a realm
   * unknown to the store): the denial stands then. Only methods whose proof the router checks
   * after a HELLO-time answer (wampcra, cryptosign, scram) have one; an answer of theirs, real or
   * decoy, is a pending failure until the session joins (auth/proofTracker.ts).
   */
  decoy?(req: AuthRequest, ctx: MethodContext, why: Decoy): Promise<Principal | null>;
  /**
   * True when every attempt costs one password hash (ticket: a verification, or the dummy one for
   * unknown users). In a storm such a login is refused before any store work when the hash queue
   * would refuse it anyway.
   */
  readonly hashesPassword?: boolean;
  /** Resolves to the principal or rejects with an AuthError. */
  authenticate(req: AuthRequest, ctx: MethodContext): Promise<Principal>;
}
