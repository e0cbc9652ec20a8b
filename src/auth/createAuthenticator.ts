import type pg from "pg";
import type { Config } from "../config/load.js";
import type { Logger } from "../log/logger.js";
import { PeerAdmission } from "./admission.js";
import { Authenticator, type AuthOutcome } from "./authenticator.js";
import type { AuthMethod } from "./method.js";
import { PasswordHasher } from "./passwords.js";
import { peerKey } from "./peer.js";
import { loadMethods } from "./registry.js";
import { PostgresThrottle } from "./throttle.js";
import { loadTokenKeys } from "./tokens/apiTokens.js";
import { IssuerRegistry } from "./tokens/issuers.js";
import { TokenAuthenticator } from "./tokens/tokens.js";
import type { AuthRequest } from "./request.js";
import type { Principal } from "./method.js";

export interface AuthenticatorDeps {
  config: Config;
  /** The pool the methods and the throttle query (the service passes a timed one). */
  pool: pg.Pool;
  log: Logger;
  /** Does `role` exist in `realm` in the store? (the permission index knows) */
  roleExists: (realm: string, role: string) => boolean;
  isReservedRole?: (role: string) => boolean;
  isClosedRealm?: (realm: string) => boolean;
  /** Defaults to one built from config.argon2 (tests pass a counting one). */
  hasher?: PasswordHasher;
  onLockout?: () => void;
  onOutcome?: (o: AuthOutcome, methods: ReadonlyMap<string, AuthMethod>) => void;
  /** The JWT issuers (the service passes its own, wired to NOTIFY, metrics and /readyz). */
  issuers?: IssuerRegistry;
  /** Binds a token login's session to the token (src/service/tokenSessions.ts). */
  onTokenLogin?: (req: AuthRequest, p: Principal) => Promise<void>;
}

export interface BuiltAuthenticator {
  authenticator: Authenticator;
  methods: ReadonlyMap<string, AuthMethod>;
  hasher: PasswordHasher;
  issuers: IssuerRegistry;
}

/**
 * The authenticator as the service runs it: every method module, the argon2 hasher (bounded,
 * deadline-aware queue), the per-address admission gate, brute-force throttling (when enabled) and
 * the deadline. One wiring, used by the service and by the in-process
 * test helper, so tests exercise exactly what runs.
 */
export async function createAuthenticator(d: AuthenticatorDeps): Promise<BuiltAuthenticator> {
  const methods = await loadMethods();
  const hasher =
    d.hasher ?? new PasswordHasher(d.config.argon2, { concurrency: d.config.argon2.concurrency, maxQueued: d.config.argon2.maxQueued });
  const t = d.config.tokens;
  const issuers =
    d.issuers ??
    new IssuerRegistry({
      db: d.pool,
      log: d.log,
      keys: { refreshMs: t.jwksRefreshMs, cooldownMs: t.jwksCooldownMs, timeoutMs: t.jwksTimeoutMs },
    });
  const tokens = new TokenAuthenticator({
    db: d.pool,
    log: d.log,
    issuers,
    keys: loadTokenKeys(t),
    lastUsedIntervalMs: t.lastUsedIntervalMs,
  });
  const authenticator = new Authenticator({
    methods,
    ctx: { pool: d.pool, passwords: hasher, config: d.config, log: d.log, tokens },
    maxTicketLength: t.maxTicketLength,
    ...(d.onTokenLogin ? { onTokenLogin: d.onTokenLogin } : {}),
    roleExists: d.roleExists,
    ...(d.isReservedRole ? { isReservedRole: d.isReservedRole } : {}),
    ...(d.isClosedRealm ? { isClosedRealm: d.isClosedRealm } : {}),
    deadlineMs: d.config.deadlineMs,
    log: d.log,
    ...(d.config.throttle.enabled ? { guard: new PostgresThrottle(d.pool, d.config.throttle, d.log, d.onLockout) } : {}),
    // One client address's logins in flight are bounded before any store or hash work.
    admission: {
      gate: new PeerAdmission(d.config.throttle.peerInFlight),
      key: (req) => peerKey(req.details.transport, d.config.throttle),
    },
    ...(d.onOutcome ? { onOutcome: (o: AuthOutcome) => d.onOutcome!(o, methods) } : {}),
  });
  return { authenticator, methods, hasher, issuers };
}
