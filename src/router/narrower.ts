/**
 * Removes the subscriptions and registrations the rules no longer allow, without closing the
 * session, through the router's meta API:
 *
 * - per session: `wamp.subscription.list(session)` / `wamp.registration.list(session)` (which,
 *   unlike the realm-wide list, include wildcard ones), `wamp.subscription.get` /
 *   `wamp.registration.get` for a URI not already known, then the same decision the authorizer
 *   makes for a SUBSCRIBE/REGISTER with that URI and match;
 * - a denied subscription: `wamp.subscription.remove_subscriber(subscription, session)` (the router
 *   sends the client UNSUBSCRIBED when it announced `subscription_revocation`);
 * - a denied registration: `wamp.registration.remove_callee(registration, session)`. Crossbar
 *   26.10.1 removes the callee and then answers this call with `wamp.error.runtime_error`, so the
 *   outcome is read from `wamp.registration.list_callees` instead.
 *
 * Only sessions `governs` accepts are touched (never the service's own, never roles outside
 * wamp-authd's authorizer). A decision that cannot be made (the user's rules failed to load) removes
 * nothing. Sweeps of one session are serialised; a request arriving while one runs gets one more
 * run after it.
 */
import type { Action, Request } from "../authorize/rules.js";
import type { Logger } from "../log/logger.js";
import { type SessionWatch, type UriInfo, type WatchedSession, sessionOf, uriInfo } from "./sessionWatch.js";
import { describeWampError, wampErrorUri, type WampSession } from "./wamp.js";

export interface NarrowerOptions {
  session: (realm: string) => WampSession | null;
  watch: SessionWatch;
  log: Logger;
  /** May the service narrow sessions of this role? */
  governs: (realm: string, role: string) => boolean;
  /** The authorizer's decision for a session (null: cannot tell now; nothing is removed). */
  allowed: (s: WatchedSession, request: Request) => Promise<boolean | null>;
  /** Called once per removed subscription or registration. */
  onRemoved?: (s: WatchedSession, kind: "subscription" | "registration", info: UriInfo) => void;
  concurrency?: number;
}

type Kind = "subscription" | "registration";
const ACTION: Record<Kind, Action> = { subscription: "subscribe", registration: "register" };
const REASON = "wamp.error.not_authorized";

export interface SweepResult {
  sessions: number;
  removed: number;
}

export class Narrower {
  /** Per session: the last run, and the run queued behind it (not started yet). */
  private readonly runs = new Map<string, { tail: Promise<number>; queued: Promise<number> | null }>();

  constructor(private readonly o: NarrowerOptions) {}

  /** Every governed session of `realm` (of `roles` only, when given). */
  sweepRealm(realm: string, roles?: ReadonlySet<string>): Promise<SweepResult> {
    return this.sweepAll(this.o.watch.sessions(realm).filter((s) => !roles || roles.has(s.authrole)));
  }

  /** The sessions of one identity. */
  sweepIdentity(realm: string, authid: string): Promise<SweepResult> {
    return this.sweepAll(this.o.watch.byAuthid(realm, authid));
  }

  async sweepAll(sessions: readonly WatchedSession[]): Promise<SweepResult> {
    const list = sessions.filter((s) => this.o.governs(s.realm, s.authrole));
    let removed = 0;
    let next = 0;
    const worker = async () => {
      while (next < list.length) removed += await this.sweep(list[next++] as WatchedSession);
    };
    await Promise.all(Array.from({ length: Math.min(this.o.concurrency ?? 8, list.length) }, worker));
    return { sessions: list.length, removed };
  }

  /** One session's subscriptions and registrations; resolves with how many were removed. Never rejects. */
  sweep(s: WatchedSession): Promise<number> {
    const key = `${s.realm}\u0000${s.id}`;
    let st = this.runs.get(key);
    // A run that has not started yet covers this request too.
    if (st?.queued) return st.queued;
    if (!st) this.runs.set(key, (st = { tail: Promise.resolve(0), queued: null }));
    const entry = st;
    const start = () => {
      entry.queued = null;
      return this.sweepNow(s).catch(() => 0);
    };
    const run = entry.tail.then(start, start);
    entry.queued = run;
    entry.tail = run;
    void run.then(() => {
      if (entry.tail === run) this.runs.delete(key);
    });
    return run;
  }

  /** A subscription or registration that just appeared (meta event): checked like in a sweep. Never rejects. */
  async check(realm: string, kind: Kind, sessionId: number, id: number): Promise<void> {
    if (this.o.watch.isOwn(realm, sessionId)) return;
    const session = this.o.session(realm);
    if (!session) return;
    try {
      let s = this.o.watch.session(realm, sessionId);
      if (!s) {
        s = sessionOf(realm, await session.call<unknown>("wamp.session.get", [sessionId]));
        if (!s) return;
        this.o.watch.learn(realm, s);
      }
      if (!this.o.governs(realm, s.authrole)) return;
      await this.checkOne(session, s, kind, id);
    } catch (err) {
      this.o.log.debug(
        { realm, session: sessionId, kind, id, err: describeWampError(err) },
        "checking a new subscription/registration failed",
      );
    }
  }

  private async sweepNow(s: WatchedSession): Promise<number> {
    const session = this.o.session(s.realm);
    if (!session) return 0;
    let removed = 0;
    for (const kind of ["subscription", "registration"] as const) {
      let ids: number[];
      try {
        ids = idsOf(await session.call<unknown>(`wamp.${kind}.list`, [s.id]));
      } catch (err) {
        // The session left meanwhile (no_such_session), or the service may not list.
        this.o.log.debug({ realm: s.realm, session: s.id, err: describeWampError(err) }, `listing a session's ${kind}s failed`);
        return removed;
      }
      for (const id of ids) {
        try {
          if (await this.checkOne(session, s, kind, id)) removed++;
        } catch (err) {
          this.o.log.warn({ realm: s.realm, session: s.id, kind, id, err: describeWampError(err) }, `checking a ${kind} failed`);
        }
      }
    }
    return removed;
  }

  /** Decides one subscription/registration of a session and removes it when denied. True when removed. */
  private async checkOne(session: WampSession, s: WatchedSession, kind: Kind, id: number): Promise<boolean> {
    const info = this.o.watch.known(s.realm, kind, id) ?? uriInfo(await session.call<unknown>(`wamp.${kind}.get`, [id]));
    if (!info) return false;
    const allowed = await this.o.allowed(s, { uri: info.uri, action: ACTION[kind], match: info.match });
    if (allowed !== false) return false;
    const ok = kind === "subscription" ? await this.removeSubscriber(session, id, s) : await this.removeCallee(session, id, s);
    if (ok) {
      this.o.log.info(
        { realm: s.realm, session: s.id, authid: s.authid, role: s.authrole, kind, uri: info.uri, match: info.match },
        `${kind} no longer allowed: removed`,
      );
      this.o.onRemoved?.(s, kind, info);
    }
    return ok;
  }

  private async removeSubscriber(session: WampSession, id: number, s: WatchedSession): Promise<boolean> {
    try {
      await session.call("wamp.subscription.remove_subscriber", [id, s.id], { reason: REASON });
      return true;
    } catch (err) {
      // Already gone (unsubscribed, left): nothing left to remove.
      if (gone(err)) return false;
      this.o.log.warn({ realm: s.realm, session: s.id, subscription: id, err: describeWampError(err) }, "removing a subscriber failed");
      return false;
    }
  }

  private async removeCallee(session: WampSession, id: number, s: WatchedSession): Promise<boolean> {
    let failure: unknown;
    try {
      await session.call("wamp.registration.remove_callee", [id, s.id], { reason: REASON });
      return true;
    } catch (err) {
      if (gone(err)) return false;
      failure = err;
    }
    // Crossbar 26.10.1 removes the callee, then fails while announcing it: ask who is still a callee.
    try {
      const callees = await session.call<unknown>("wamp.registration.list_callees", [id]);
      if (Array.isArray(callees) && !callees.includes(s.id)) return true;
    } catch (err) {
      // The registration is gone: the callee was its last one.
      if (gone(err)) return true;
    }
    this.o.log.warn({ realm: s.realm, session: s.id, registration: id, err: describeWampError(failure) }, "removing a callee failed");
    return false;
  }
}

/** The ids of every match kind from `wamp.subscription.list(session)` / `wamp.registration.list(session)`. */
function idsOf(v: unknown): number[] {
  if (typeof v !== "object" || v === null) return [];
  const out: number[] = [];
  for (const k of ["exact", "prefix", "wildcard"]) {
    const list = (v as Record<string, unknown>)[k];
    if (Array.isArray(list)) for (const id of list) if (typeof id === "number" && Number.isSafeInteger(id)) out.push(id);
  }
  return out;
}

function gone(err: unknown): boolean {
  const uri = wampErrorUri(err);
  return uri === "wamp.error.no_such_subscription" || uri === "wamp.error.no_such_registration" || uri === "wamp.error.no_such_session";
}
