import type { Logger } from "../log/logger.js";
import type { Decoy, Principal } from "./method.js";
import type { Hold } from "./pendingCounts.js";
import type { AuthRequest } from "./request.js";
import type { LoginGuard } from "./throttle.js";

/** A proof the router checked and refused (or never saw): the session did not join in time. */
export interface ProofFailure {
  request: AuthRequest;
  /** Whose failure: a known account (own counter, own audit row) or an unknown one (bucket, rollup). */
  code: "account" | "unknown";
  /** Set when the answer was a decoy (the proof could never succeed). */
  decoy: Decoy | null;
  reason: string;
}

export interface ProofTrackerOptions {
  /** A session not joined this long after its answer failed its proof (throttle.proofTimeoutMs). */
  timeoutMs: number;
  log: Logger;
  guard?: LoginGuard;
  /**
   * The generation of the live `wamp.session.on_join` subscription in `realm`, or null when joins
   * there cannot be seen (the service has no session there, or its subscription is not up).
   */
  watching: (realm: string) => number | null;
  onFailed?: (f: ProofFailure) => void;
  /** Most proofs awaited at once; beyond, new router-checked logins are refused as overloaded. */
  maxPending?: number;
}

interface Entry {
  request: AuthRequest;
  /** Where and as whom the session will join (the answer's realm and authid). */
  realm: string;
  authid: string;
  decoy: Decoy | null;
  hold: Hold | null;
  epoch: number;
  timer: NodeJS.Timeout;
}

/**
 * For wampcra, cryptosign and scram the router checks the client's proof after our answer and never
 * tells us the outcome. The one thing we can see is the session joining: `wamp.session.on_join`
 * carries its id, the `details.session` of the HELLO. So every answer (real or decoy) is a pending
 * failure until then: its throttle keys stay held (the lock check counts them), a join releases
 * them and counts as a proven credential (the account's counter is cleared, as for a good ticket),
 * and no join within `timeoutMs` makes it a failure, counted and audited.
 *
 * The instance that answered the HELLO holds the entry; every instance sees the join (each serves
 * every app realm), the others ignore it. A join into a realm this instance watches no session in
 * cannot be seen: such answers are not tracked, and neither are those whose watch was interrupted
 * meanwhile (a router reconnect), so a missed event never turns a good login into a failure.
 */
export class ProofTracker {
  private readonly entries = new Map<number, Entry>();
  private readonly maxPending: number;
  private unwatchedLogged = 0;

  constructor(private readonly o: ProofTrackerOptions) {
    this.maxPending = o.maxPending ?? 100_000;
  }

  get size(): number {
    return this.entries.size;
  }

  get full(): boolean {
    return this.entries.size >= this.maxPending;
  }

  /**
   * The router got `principal` for `req`: await the join. Takes over `hold` (the keys a failure
   * would count on) and releases it when the outcome is known. Never throws.
   */
  expect(req: AuthRequest, principal: Principal, hold: Hold | null): void {
    const session = req.details.session;
    const epoch = this.o.watching(principal.realm);
    if (session === null || epoch === null || this.entries.has(session)) {
      hold?.release();
      if (epoch === null) this.logUnwatched(principal.realm);
      return;
    }
    const timer = setTimeout(() => void this.expire(session), this.o.timeoutMs);
    timer.unref();
    this.entries.set(session, {
      request: req,
      realm: principal.realm,
      authid: principal.authid,
      decoy: principal.decoy ?? null,
      hold,
      epoch,
      timer,
    });
  }

  /** A `wamp.session.on_join` event in `realm` (its first argument: the session's details). */
  joined(realm: string, details: unknown): void {
    if (!details || typeof details !== "object") return;
    const { session, authid } = details as { session?: unknown; authid?: unknown };
    if (typeof session !== "number" || !Number.isSafeInteger(session)) return;
    const e = this.entries.get(session);
    if (!e) return; // another instance's login, or not router-checked
    if (e.realm !== realm || e.authid !== authid) {
      this.o.log.warn({ session, realm, expected: e.realm, authid: e.request.authid }, "join does not match the answered login: ignored");
      return;
    }
    if (e.decoy) {
      // Cannot happen: nobody holds the material of a decoy. Left to expire as the failure it is.
      this.o.log.error({ session, realm, authid: e.request.authid }, "a session answered with a decoy joined");
      return;
    }
    this.entries.delete(session);
    clearTimeout(e.timer);
    e.hold?.release();
    this.o.log.debug({ session, realm, authid: e.request.authid }, "proof confirmed by the join");
    if (this.o.guard) void this.o.guard.succeeded(e.request);
  }

  /** Drops every entry without counting it (shutdown). */
  stop(): void {
    for (const e of this.entries.values()) {
      clearTimeout(e.timer);
      e.hold?.release();
    }
    this.entries.clear();
  }

  private async expire(session: number): Promise<void> {
    const e = this.entries.get(session);
    if (!e) return;
    this.entries.delete(session);
    const d = e.request.details;
    const fields = { realm: e.request.realm, authid: e.request.authid, authmethod: d.authmethod, peer: d.transport.peer, session };
    if (this.o.watching(e.realm) !== e.epoch) {
      e.hold?.release();
      this.o.log.info(fields, "proof outcome unknown: the join watch was interrupted; not counted");
      return;
    }
    const code = e.decoy?.code ?? "account";
    const reason = e.decoy
      ? `${e.decoy.reason} (decoy answered; proof failed)`
      : `proof failed: the session did not join within ${this.o.timeoutMs} ms`;
    try {
      await this.o.guard?.failed(e.request, code);
    } catch (err) {
      this.o.log.warn({ ...fields, err }, "counting a failed proof failed");
    } finally {
      // Released only now: between the answer and the stored failure the lock check sees it pending.
      e.hold?.release();
    }
    this.o.log.info({ ...fields, outcome: "deny", reason }, "proof failed");
    this.o.onFailed?.({ request: e.request, code, decoy: e.decoy, reason });
  }

  private logUnwatched(realm: string): void {
    const now = Date.now();
    if (now - this.unwatchedLogged < 10_000) return;
    this.unwatchedLogged = now;
    this.o.log.warn({ realm }, "no wamp.session.on_join subscription in this realm: router-checked proofs there are not counted");
  }
}
