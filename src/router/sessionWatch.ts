/**
 * Which sessions live in each served realm, with their authid and role, and where their
 * subscriptions and registrations appear — from the router's meta API:
 *
 * - on every (re)join of a realm, the service subscribes to `wamp.session.on_join`/`on_leave`,
 *   `wamp.subscription.on_create`/`on_subscribe`/`on_delete` and `wamp.registration.on_create`/
 *   `on_register`/`on_delete`, then lists the sessions already there (`wamp.session.list`,
 *   `wamp.session.get`; those that leave meanwhile are skipped);
 * - `on_subscribe`/`on_register` are reported, so a subscription that an answer given just before a
 *   revocation let through is checked again once it exists;
 * - the URIs of subscriptions and registrations seen being created are remembered (until deleted)
 *   so a check needs no extra call.
 *
 * The service's own session is never listed. Without permission to subscribe to these topics (an
 * old router config), the watch logs one error per realm and stays empty there.
 */
import type { Logger } from "../log/logger.js";
import { describeWampError, type WampSession } from "./wamp.js";

export interface WatchedSession {
  id: number;
  realm: string;
  authid: string;
  authrole: string;
}

export interface UriInfo {
  uri: string;
  match: "exact" | "prefix" | "wildcard";
}

export interface SessionWatchEvents {
  joined?: (s: WatchedSession) => void;
  left?: (s: WatchedSession) => void;
  /** A session subscribed (`kind` "subscription") or registered (`kind` "registration"). */
  attached?: (realm: string, kind: "subscription" | "registration", sessionId: number, id: number) => void;
  /** The realm's list of sessions starts over (a new join of the realm). */
  reset?: (realm: string) => void;
}

interface RealmSessions {
  /** Bumped on every rejoin: work of an older join is discarded. */
  gen: number;
  own: number | null;
  sessions: Map<number, WatchedSession>;
  byAuthid: Map<string, Set<number>>;
  subscriptions: Map<number, UriInfo>;
  registrations: Map<number, UriInfo>;
}

const BOOTSTRAP_CONCURRENCY = 16;

export class SessionWatch {
  private readonly realms = new Map<string, RealmSessions>();

  constructor(
    private readonly log: Logger,
    private readonly events: SessionWatchEvents = {},
  ) {}

  /** Starts watching `realm` on a freshly joined session (every rejoin). */
  async attach(realm: string, session: WampSession): Promise<void> {
    const prev = this.realms.get(realm);
    const state: RealmSessions = {
      gen: (prev?.gen ?? 0) + 1,
      own: session.id,
      sessions: new Map(),
      byAuthid: new Map(),
      subscriptions: new Map(),
      registrations: new Map(),
    };
    this.realms.set(realm, state);
    this.events.reset?.(realm);
    const current = () => this.realms.get(realm) === state;
    const left = new Set<number>();
    const topics: Array<[string, (args: unknown[]) => void]> = [
      [
        "wamp.session.on_join",
        (a) => {
          const s = sessionOf(realm, a[0]);
          if (s && current()) this.add(state, s);
        },
      ],
      [
        "wamp.session.on_leave",
        (a) => {
          const id = Number(a[0]);
          if (!current() || !Number.isSafeInteger(id)) return;
          left.add(id);
          this.remove(state, id);
        },
      ],
      ["wamp.subscription.on_create", (a) => current() && remember(state.subscriptions, a)],
      ["wamp.subscription.on_delete", (a) => current() && state.subscriptions.delete(Number(a[1]))],
      ["wamp.registration.on_create", (a) => current() && remember(state.registrations, a)],
      ["wamp.registration.on_delete", (a) => current() && state.registrations.delete(Number(a[1]))],
      ["wamp.subscription.on_subscribe", (a) => current() && this.attached(realm, "subscription", a)],
      ["wamp.registration.on_register", (a) => current() && this.attached(realm, "registration", a)],
    ];
    try {
      await Promise.all(topics.map(([topic, handler]) => session.subscribe(topic, (args) => handler(Array.isArray(args) ? args : []))));
    } catch (err) {
      this.log.error(
        { realm, err: describeWampError(err) },
        "cannot watch sessions: the service role needs subscribe on wamp.session.*, wamp.subscription.* and wamp.registration.* meta topics (see README: Connecting Crossbar); narrowing live subscriptions is off in this realm",
      );
      return;
    }
    try {
      const ids = await session.call<unknown>("wamp.session.list");
      const list = Array.isArray(ids) ? ids.map(Number).filter((n) => Number.isSafeInteger(n) && n !== state.own) : [];
      let next = 0;
      const worker = async () => {
        while (next < list.length && current()) {
          const id = list[next++] as number;
          if (state.sessions.has(id) || left.has(id)) continue;
          try {
            const s = sessionOf(realm, await session.call<unknown>("wamp.session.get", [id]));
            if (s && current() && !left.has(id)) this.add(state, s);
          } catch {
            // gone meanwhile
          }
        }
      };
      await Promise.all(Array.from({ length: BOOTSTRAP_CONCURRENCY }, worker));
      if (current()) this.log.debug({ realm, sessions: state.sessions.size }, "sessions listed");
    } catch (err) {
      this.log.error(
        { realm, err: describeWampError(err) },
        "listing the realm's sessions failed (needs call on wamp.session.list and wamp.session.get)",
      );
    }
  }

  /** The live sessions of a realm (never the service's own). */
  sessions(realm: string): WatchedSession[] {
    return [...(this.realms.get(realm)?.sessions.values() ?? [])];
  }

  session(realm: string, id: number): WatchedSession | null {
    return this.realms.get(realm)?.sessions.get(id) ?? null;
  }

  /** The live sessions of an identity. */
  byAuthid(realm: string, authid: string): WatchedSession[] {
    const st = this.realms.get(realm);
    const ids = st?.byAuthid.get(authid);
    if (!st || !ids) return [];
    return [...ids].flatMap((id) => st.sessions.get(id) ?? []);
  }

  isOwn(realm: string, sessionId: number): boolean {
    return this.realms.get(realm)?.own === sessionId;
  }

  /** What a subscription or registration seen being created is about, if remembered. */
  known(realm: string, kind: "subscription" | "registration", id: number): UriInfo | null {
    const st = this.realms.get(realm);
    return (kind === "subscription" ? st?.subscriptions : st?.registrations)?.get(id) ?? null;
  }

  /** Adds a session learnt elsewhere (wamp.session.get during a check). */
  learn(realm: string, s: WatchedSession): void {
    const st = this.realms.get(realm);
    if (st && st.own !== s.id && !st.sessions.has(s.id)) this.add(st, s);
  }

  private add(st: RealmSessions, s: WatchedSession): void {
    if (s.id === st.own || st.sessions.has(s.id)) return;
    st.sessions.set(s.id, s);
    let ids = st.byAuthid.get(s.authid);
    if (!ids) st.byAuthid.set(s.authid, (ids = new Set()));
    ids.add(s.id);
    this.events.joined?.(s);
  }

  private remove(st: RealmSessions, id: number): void {
    const s = st.sessions.get(id);
    if (!s) return;
    st.sessions.delete(id);
    const ids = st.byAuthid.get(s.authid);
    ids?.delete(id);
    if (ids?.size === 0) st.byAuthid.delete(s.authid);
    this.events.left?.(s);
  }

  private attached(realm: string, kind: "subscription" | "registration", a: unknown[]): void {
    const sessionId = Number(a[0]);
    const id = Number(a[1]);
    if (Number.isSafeInteger(sessionId) && Number.isSafeInteger(id)) this.events.attached?.(realm, kind, sessionId, id);
  }
}

/** A session from an on_join event or wamp.session.get: own string authid/authrole and a safe-integer id, else null. */
export function sessionOf(realm: string, v: unknown): WatchedSession | null {
  if (typeof v !== "object" || v === null) return null;
  const d = v as Record<string, unknown>;
  const id = d.session;
  if (typeof id !== "number" || !Number.isSafeInteger(id)) return null;
  if (typeof d.authid !== "string" || typeof d.authrole !== "string") return null;
  return { id, realm, authid: d.authid, authrole: d.authrole };
}

/** on_create's (session, details{id, uri, match}). */
function remember(map: Map<number, UriInfo>, a: unknown[]): void {
  const info = uriInfo(a[1]);
  if (info) map.set(info.id, { uri: info.uri, match: info.match });
}

/** `{id, uri, match}` as wamp.subscription.get / wamp.registration.get / on_create give it, or null. */
export function uriInfo(v: unknown): (UriInfo & { id: number }) | null {
  if (typeof v !== "object" || v === null) return null;
  const d = v as Record<string, unknown>;
  const match = d.match ?? "exact";
  if (typeof d.id !== "number" || typeof d.uri !== "string") return null;
  if (match !== "exact" && match !== "prefix" && match !== "wildcard") return null;
  return { id: d.id, uri: d.uri, match };
}
