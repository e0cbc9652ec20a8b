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
}

export interface MethodContext {
  pool: pg.Pool;
  passwords: PasswordHasher;
  config: Config;
  log: Logger;
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
   * True when every attempt costs one password hash (ticket: a verification, or the dummy one for
   * unknown users). In a storm such a login is refused before any store work when the hash queue
   * would refuse it anyway.
   */
  readonly hashesPassword?: boolean;
  /** Resolves to the principal or rejects with an AuthError. */
  authenticate(req: AuthRequest, ctx: MethodContext): Promise<Principal>;
}
