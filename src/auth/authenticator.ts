import { AuthError, DENY_URI, DeadlineError, deny, unavailable, type DenyCode } from "../errors/authErrors.js";
import type { Logger } from "../log/logger.js";
import { QueueRejected } from "../lib/boundedQueue.js";
import { withDeadline } from "../lib/deadline.js";
import type { PeerAdmission } from "./admission.js";
import type { AuthMethod, MethodContext, Principal } from "./method.js";
import type { Hold } from "./pendingCounts.js";
import type { ProofTracker } from "./proofTracker.js";
import { parseAuthRequest, type AuthRequest } from "./request.js";
import type { LoginGuard } from "./throttle.js";

/** What Crossbar reads from the authenticator's single positional result. */
export type AuthAnswer = Record<string, unknown> & { role: string; authid: string; realm: string; extra: Record<string, unknown> };

export interface AuthOutcome {
  request: AuthRequest | null;
  principal: Principal | null;
  error: AuthError | null;
  ms: number;
}

export interface AuthenticatorOptions {
  methods: Map<string, AuthMethod>;
  ctx: MethodContext;
  /** Does `role` exist in `realm` in the store? Roles are never taken from user data unchecked. */
  roleExists: (realm: string, role: string) => boolean;
  /** Role names no answer may carry (`trusted` is refused regardless). */
  isReservedRole?: (role: string) => boolean;
  /** Realms no login may land in (the authenticator realm, when it is a realm of its own). */
  isClosedRealm?: (realm: string) => boolean;
  deadlineMs: number;
  log: Logger;
  /** Brute-force throttling; none when omitted. */
  guard?: LoginGuard;
  /** Awaits the join of sessions whose proof the router checks (methods with a `decoy`); none when omitted. */
  proofs?: ProofTracker;
  /** Per-client-address limit of logins in flight, checked before any store or KDF work; none when omitted. */
  admission?: { gate: PeerAdmission; key: (req: AuthRequest) => string | null };
  onOutcome?: (o: AuthOutcome) => void;
  /** Longest ticket kept (tokens.maxTicketLength). */
  maxTicketLength?: number;
  /**
   * A token login passed every check: record its session so it ends at the token's expiry or
   * revocation. Rejecting denies the login (a session that could not be bound must not start).
   */
  onTokenLogin?: (req: AuthRequest, p: Principal) => Promise<void>;
}

/**
 * Dispatches on details.authmethod to one method module, enforces the deadline, checks the role,
 * and shapes the answer. Always settles: with an answer or an AuthError.
 */
export class Authenticator {
  constructor(private readonly o: AuthenticatorOptions) {}

  /** `only` pins the method for per-method procedure URIs. */
  async authenticate(args: unknown, only?: string): Promise<AuthAnswer> {
    const started = performance.now();
    let request: AuthRequest | null = null;
    let principal: Principal | null = null;
    try {
      request = parseAuthRequest(args, { maxTicketLength: this.o.maxTicketLength });
      const req = request;
      const name = only ?? req.details.authmethod;
      if (only && req.details.authmethod !== only)
        throw deny(`authmethod ${req.details.authmethod} sent to the ${only} procedure`, "policy");
      const method = this.o.methods.get(name);
      if (!method) throw deny(`authmethod ${name} not supported`, "policy");
      const deadline = started + this.o.deadlineMs;
      if (method.decoy && this.o.proofs?.full) throw unavailable("too many proofs awaiting their join", "overloaded");
      const releasePeer = this.o.admission ? this.o.admission.gate.enter(this.o.admission.key(req)) : () => undefined;
      if (!releasePeer) throw unavailable("too many logins in flight from this client address", "overloaded");
      let releaseHash: () => void = () => undefined;
      try {
        // The same for every account: a login the hash queue would refuse is refused before any store work.
        if (method.hashesPassword) releaseHash = this.o.ctx.passwords.admit(deadline);
      } catch (err) {
        releasePeer();
        throw err;
      }
      // Slots are held until the work has really ended, not just until the deadline answered the router.
      const work = this.attempt(method, req, deadline);
      let late = false;
      const release = () => {
        releasePeer();
        releaseHash();
      };
      void work.then((r) => {
        release();
        // Answered too late: the router got a denial, no session will join.
        if (late) r.pending?.release();
      }, release);
      let result: { principal: Principal; pending: Hold | null };
      try {
        result = await withDeadline(work, this.o.deadlineMs, "authentication");
      } catch (err) {
        late = true;
        throw err;
      }
      principal = result.principal;
      // From the answer on, a router-checked proof is a pending failure until the session joins.
      if (method.decoy) this.o.proofs?.expect(req, principal, result.pending);
      else result.pending?.release();
      const answer: AuthAnswer = {
        ...principal.answer,
        role: principal.role,
        authid: principal.authid,
        realm: principal.realm,
        extra: principal.extra,
      };
      this.report(request, principal, null, started);
      return answer;
    } catch (err) {
      const error = toAuthError(err);
      this.report(request, principal, error, started);
      throw error;
    }
  }

  /**
   * Lockout check before any KDF work, the method itself, then failure counting. `deadline`
   * (performance.now() clock) goes to the method, so queued KDF work is dropped once it cannot
   * answer in time.
   *
   * Methods whose proof the router checks (those with a `decoy`): the attempt holds its throttle
   * keys as pending from the lock check on, so concurrent HELLOs count each other; a denial of an
   * account is answered with a decoy instead (the failure is then counted when no join comes);
   * and an answer comes back with the hold for the failure it may become (`pending`).
   */
  private async attempt(method: AuthMethod, req: AuthRequest, deadline: number): Promise<{ principal: Principal; pending: Hold | null }> {
    const guard = this.o.guard;
    const routerChecked = !!method.decoy && !!this.o.proofs;
    const gate = guard ? await guard.check(req, routerChecked) : { locked: false, hold: null };
    if (gate.locked) throw deny("locked out", "locked_out");
    const ctx = { ...this.o.ctx, deadline };
    try {
      let p: Principal;
      try {
        p = await method.authenticate(req, ctx);
        this.checkPrincipal(p, "account");
      } catch (err) {
        const decoy =
          method.decoy && err instanceof AuthError && isDecoyable(err.code)
            ? await method.decoy(req, ctx, { reason: err.reason, code: err.code })
            : null;
        if (!decoy) throw err;
        // A decoy lands where the real login would, under the same checks; failing them, the denial stands.
        this.checkPrincipal(decoy, decoy.decoy!.code);
        p = decoy;
      }
      if (p.token) await this.o.onTokenLogin?.(req, p);
      if (method.provesCredential) await guard?.succeeded(req);
      const pending = routerChecked && guard ? await guard.holdFor(req, p.decoy?.code ?? "account") : null;
      return { principal: p, pending };
    } catch (err) {
      // Only denials count as failed attempts; unavailable and overloaded answers never do.
      if (guard && err instanceof AuthError && err.uri === DENY_URI && isCounted(err.code)) await guard.failed(req, err.code);
      throw err;
    } finally {
      gate.hold?.release();
    }
  }

  /** `code`: whose failure a refusal is (a decoy's own code: an unknown name must never get its own counter). */
  private checkPrincipal(p: Principal, code: "account" | "unknown"): void {
    if (p.role === "trusted" || this.o.isReservedRole?.(p.role)) throw deny(`role ${p.role} is reserved and may never be assigned`, code);
    if (this.o.isClosedRealm?.(p.realm)) throw deny(`realm ${p.realm} is the authenticator realm: no login may land in it`, code);
    if (!this.o.roleExists(p.realm, p.role)) throw deny(`role ${p.role} does not exist in realm ${p.realm}`, code);
  }

  private report(request: AuthRequest | null, principal: Principal | null, error: AuthError | null, started: number): void {
    const ms = performance.now() - started;
    const d = request?.details;
    const fields = {
      realm: request?.realm,
      authid: request?.authid,
      authmethod: d?.authmethod,
      peer: d?.transport.peer,
      session: d?.session,
      ms: Math.round(ms * 10) / 10,
    };
    if (error) this.o.log.info({ ...fields, outcome: "deny", reason: error.reason }, "authentication denied");
    else if (principal?.decoy)
      this.o.log.info({ ...fields, outcome: "decoy", reason: principal.decoy.reason }, "authentication denied (decoy answered)");
    else
      this.o.log.info({ ...fields, outcome: "allow", role: principal?.role, as: principal?.authid, to: principal?.realm }, "authenticated");
    this.o.onOutcome?.({ request, principal, error, ms });
  }
}

/** Denials of an account (known or not) that a router-checked method answers with a decoy. */
function isDecoyable(code: string): code is "account" | "unknown" {
  return code === "account" || code === "unknown";
}

function isCounted(code: string): code is DenyCode {
  return code === "account" || code === "unknown" || code === "policy";
}

export function toAuthError(err: unknown): AuthError {
  if (err instanceof AuthError) return err;
  if (err instanceof DeadlineError) return unavailable(err.message, "unavailable", err);
  if (err instanceof QueueRejected)
    return unavailable(
      err.why === "full" ? "password hashing queue full" : "password hashing cannot start before the deadline",
      "overloaded",
      err,
    );
  // Anything else (store down, bug): fail closed without leaking internals to the client.
  const text = err instanceof Error ? err.message : String(err);
  return unavailable(isStoreError(err) ? `store unavailable: ${text}` : `internal error: ${text}`, "unavailable", err);
}

/** Connection-level trouble with Postgres (down, restarting, unreachable, statement cancelled). */
export function isStoreError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (
    typeof code === "string" &&
    (/^(08|57)/.test(code) || ["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EHOSTUNREACH", "ENOTFOUND", "EPIPE"].includes(code))
  )
    return true;
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(err.message);
}
