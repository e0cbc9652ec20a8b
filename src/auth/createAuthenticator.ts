import type pg from "pg";
import type { Config } from "../config/load.js";
import type { Logger } from "../log/logger.js";
import { PeerAdmission } from "./admission.js";
import { Authenticator, type AuthOutcome } from "./authenticator.js";
import { DecoyRoles } from "./decoyRoles.js";
import type { AuthMethod } from "./method.js";
import { PasswordHasher } from "./passwords.js";
import { peerKey } from "./peer.js";
import { ProofTracker, type ProofFailure } from "./proofTracker.js";
import { loadMethods } from "./registry.js";
import { ServiceKey } from "./serviceKey.js";
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
  /** The realm's roles in the store (the permission index knows); decoy answers pick theirs among them. */
  realmRoles: (realm: string) => readonly string[];
  /**
   * The generation of the live `wamp.session.on_join` subscription in `realm`, null when joins there
   * cannot be seen (router/joinWatch.ts). Default: never, so router-checked proofs are not tracked.
   */
  watching?: (realm: string) => number | null;
  /** A router-checked proof failed (no join in time): for the audit trail. */
  onProofFailed?: (f: ProofFailure) => void;
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
  /** Feed it `wamp.session.on_join` events (ProofTracker.joined); stop it on shutdown. */
  proofs: ProofTracker;
  throttle: PostgresThrottle | null;
}

/**
 * The authenticator as the service runs it: every method module, the argon2 hasher (bounded,
 * deadline-aware queue), the per-address admission gate, brute-force throttling (when enabled),
 * decoy answers and the tracking of router-checked proofs, and the deadline. One wiring, used by
 * the service and by the in-process test helper, so tests exercise exactly what runs.
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
  const isReserved = (role: string) => role === "trusted" || (d.isReservedRole?.(role) ?? false);
  const key = new ServiceKey(d.pool);
  const decoyRoles = new DecoyRoles({
    db: d.pool,
    realmRoles: d.realmRoles,
    usable: (realm, role) => !isReserved(role) && d.roleExists(realm, role),
  });
  const throttle = d.config.throttle.enabled ? new PostgresThrottle(d.pool, d.config.throttle, d.log, d.onLockout, { key }) : null;
  const proofs = new ProofTracker({
    timeoutMs: d.config.throttle.proofTimeoutMs,
    log: d.log,
    ...(throttle ? { guard: throttle } : {}),
    watching: d.watching ?? (() => null),
    ...(d.onProofFailed ? { onFailed: d.onProofFailed } : {}),
  });
  const authenticator = new Authenticator({
    methods,
    ctx: {
      pool: d.pool,
      passwords: hasher,
      config: d.config,
      log: d.log,
      tokens,
      decoys: { key: () => key.get(), role: (realm) => decoyRoles.role(realm) },
    },
    maxTicketLength: t.maxTicketLength,
    ...(d.onTokenLogin ? { onTokenLogin: d.onTokenLogin } : {}),
    roleExists: d.roleExists,
    ...(d.isReservedRole ? { isReservedRole: d.isReservedRole } : {}),
    ...(d.isClosedRealm ? { isClosedRealm: d.isClosedRealm } : {}),
    deadlineMs: d.config.deadlineMs,
    log: d.log,
    ...(throttle ? { guard: throttle } : {}),
    proofs,
    // One client address's logins in flight are bounded before any store or hash work.
    admission: {
      gate: new PeerAdmission(d.config.throttle.peerInFlight),
      key: (req) => peerKey(req.details.transport, d.config.throttle),
    },
    ...(d.onOutcome ? { onOutcome: (o: AuthOutcome) => d.onOutcome!(o, methods) } : {}),
  });
  return { authenticator, methods, hasher, issuers, proofs, throttle };
}
