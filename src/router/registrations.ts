import type { Logger } from "../log/logger.js";
import { wampErrorUri, type WampRegistration, type WampSession } from "./wamp.js";

/** Who called a procedure, as the router disclosed it (null when it did not). */
export interface Caller {
  session: number | null;
  authid: string | null;
  authrole: string | null;
}

export type Handler = (args: unknown[], caller: Caller) => unknown;

export interface Procedure {
  uri: string;
  handler: Handler;
  /**
   * Who may call it. "router": only the router itself (Crossbar's own calls to an authenticator or
   * authorizer come from its trusted service session, disclosed as caller_authrole "trusted"); any
   * other caller gets an error and no answer. "sessions": callers the authorizer let through.
   */
  callers: "router" | "sessions";
}

export interface RegistrationOptions {
  realm: string;
  log: Logger;
  /** Runs one invocation (the link counts it in flight and maps errors). */
  invoke: (p: Procedure, args: unknown[], caller: Caller) => Promise<unknown>;
  /** How often to verify with the router that every procedure is still registered to this session. */
  checkMs: number;
  /** All procedures are registered (again). */
  onReady: () => void;
  /** A procedure went missing while the session stayed open. */
  onMissing: (uri: string, why: string) => void;
}

interface Entry {
  procedure: Procedure;
  registration: WampRegistration | null;
}

const RETRY_MS = 2000;
const CHECK_CALL_TIMEOUT_MS = 2000;

/**
 * Keeps one realm's procedures registered to the current session, whatever the router does:
 * - registers them on every join;
 * - notices a router-initiated UNREGISTERED (another session's `force_reregister`) through the
 *   registration's on_unregister, and registers again;
 * - notices what the router does not announce: on the pinned Crossbar, `wamp.registration.remove_callee`
 *   drops the callee without an UNREGISTERED or a meta event, so a timer asks the router
 *   (`wamp.registration.list_callees`) whether this session is still a callee of each registration.
 * `ready` is false while any procedure is missing, so /readyz reports it.
 */
export class RealmRegistrations {
  private readonly entries = new Map<string, Entry>();
  private session: WampSession | null = null;
  private timer: NodeJS.Timeout | null = null;
  private retry: NodeJS.Timeout | null = null;
  private ensuring: Promise<void> | null = null;
  private checkRefused = false;
  private stopped = false;

  constructor(private readonly o: RegistrationOptions) {}

  get ready(): boolean {
    if (!this.session || this.entries.size === 0) return false;
    for (const e of this.entries.values()) if (!e.registration) return false;
    return true;
  }

  /** The procedure URIs this realm serves (registered or about to be). */
  get uris(): string[] {
    return [...this.entries.keys()];
  }

  /** Live registrations (for a graceful stop). */
  get registrations(): WampRegistration[] {
    return [...this.entries.values()].flatMap((e) => (e.registration ? [e.registration] : []));
  }

  add(procedures: Procedure[]): void {
    for (const p of procedures) if (!this.entries.has(p.uri)) this.entries.set(p.uri, { procedure: p, registration: null });
    if (this.session) this.ensureSoon(0);
  }

  /** A new session joined: register everything on it and start watching. */
  attach(session: WampSession): void {
    if (!guardDisclosure(session)) {
      this.o.log.error(
        { realm: this.o.realm },
        "cannot guard invocations against forwarded (spoofable) caller identities: autobahn changed",
      );
    }
    this.session = session;
    for (const e of this.entries.values()) e.registration = null;
    this.ensureSoon(0);
    if (!this.timer && this.o.checkMs > 0) {
      this.timer = setInterval(() => void this.check(), this.o.checkMs);
      this.timer.unref();
    }
  }

  /** The session is gone: nothing is registered any more. */
  detach(): void {
    this.session = null;
    for (const e of this.entries.values()) e.registration = null;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    if (this.retry) clearTimeout(this.retry);
    this.timer = this.retry = null;
  }

  private ensureSoon(delayMs: number): void {
    if (this.stopped || this.retry) return;
    this.retry = setTimeout(() => {
      this.retry = null;
      void this.ensure();
    }, delayMs);
    this.retry.unref?.();
  }

  /** Registers every missing procedure on the current session; one pass at a time. */
  private ensure(): Promise<void> {
    this.ensuring ??= this.registerMissing().finally(() => (this.ensuring = null));
    return this.ensuring;
  }

  private async registerMissing(): Promise<void> {
    const session = this.session;
    if (!session?.isOpen || this.stopped) return;
    const missing = [...this.entries.values()].filter((e) => !e.registration);
    if (missing.length === 0) return;
    try {
      for (const e of missing) {
        const reg = await session.register(
          e.procedure.uri,
          (args, _kwargs, details) => this.o.invoke(e.procedure, args ?? [], callerOf(details)),
          {
            invoke: "roundrobin",
          },
        );
        if (this.session !== session) return;
        e.registration = reg;
        this.o.log.info({ realm: this.o.realm, procedure: e.procedure.uri, registration: reg.id }, "registered");
        // Another session's force_reregister makes the router send UNREGISTERED: register again.
        void reg.on_unregister.then((reason) => {
          if (e.registration !== reg || this.session !== session || this.stopped) return;
          e.registration = null;
          this.o.onMissing(e.procedure.uri, `unregistered by the router (${reason ?? "no reason"})`);
          this.ensureSoon(100);
        });
      }
      if (this.ready) this.o.onReady();
    } catch (err) {
      // Typically a permission problem in the router config; retry, the operator may fix it live.
      this.o.log.error({ realm: this.o.realm, err }, `registering procedures failed; retrying in ${RETRY_MS / 1000} s`);
      this.ensureSoon(RETRY_MS);
    }
  }

  /** Asks the router whether this session still serves every registration it thinks it holds. */
  private async check(): Promise<void> {
    const session = this.session;
    if (!session?.isOpen || this.stopped || this.checkRefused || this.ensuring) return;
    for (const e of this.entries.values()) {
      const reg = e.registration;
      if (!reg) continue;
      let present: boolean;
      try {
        const callees = await withTimeout(session.call<unknown>("wamp.registration.list_callees", [reg.id]), CHECK_CALL_TIMEOUT_MS);
        present = Array.isArray(callees) && callees.includes(session.id);
      } catch (err) {
        const uri = wampErrorUri(err);
        if (uri === "wamp.error.no_such_registration") present = false;
        else if (uri === "wamp.error.not_authorized" || uri === "wamp.error.no_such_procedure") {
          this.checkRefused = true;
          this.o.log.error(
            { realm: this.o.realm, err },
            "cannot verify the service's registrations: give its role call permission on wamp.registration.list_callees (a removed callee would then go unnoticed)",
          );
          return;
        } else continue; // a slow or failed check proves nothing; try again next time
      }
      if (this.session !== session || e.registration !== reg) return;
      if (!present) {
        e.registration = null;
        this.o.onMissing(e.procedure.uri, "this session is no longer a callee (removed by the router)");
        this.ensureSoon(0);
      }
    }
  }
}

const INVOCATION = 68;

/**
 * Crossbar (26.10.1) takes a CALL's `forward_for` option — meant for router-to-router links, but
 * accepted from any client — and discloses its first entry as the caller: any session may then pose
 * as any session id, authid and authrole (even `trusted`) to a callee. wamp-authd uses no router
 * links, so an invocation that carries `forward_for` has its disclosed caller removed before any
 * handler sees it: router-only procedures refuse it, session procedures treat it as undisclosed.
 * autobahn-js does not pass `forward_for` on to handlers, hence the hook on its INVOCATION handler.
 */
export function guardDisclosure(session: WampSession): boolean {
  const map = (session as unknown as { _MESSAGE_MAP?: Record<number, unknown> })._MESSAGE_MAP;
  const original = map?.[INVOCATION];
  if (!map || typeof original !== "function") return false;
  if ((original as { guarded?: boolean }).guarded) return true;
  const guarded = (msg: unknown[]): unknown => {
    const details = msg[3];
    if (typeof details === "object" && details !== null && "forward_for" in details) {
      const d = details as Record<string, unknown>;
      delete d.caller;
      delete d.caller_authid;
      delete d.caller_authrole;
    }
    return (original as (m: unknown[]) => unknown).call(session, msg);
  };
  map[INVOCATION] = Object.assign(guarded, { guarded: true });
  return true;
}

function callerOf(details: unknown): Caller {
  const d = (typeof details === "object" && details !== null ? details : {}) as Record<string, unknown>;
  return {
    session: typeof d.caller === "number" && Number.isSafeInteger(d.caller) ? d.caller : null,
    authid: typeof d.caller_authid === "string" ? d.caller_authid : null,
    authrole: typeof d.caller_authrole === "string" ? d.caller_authrole : null,
  };
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
