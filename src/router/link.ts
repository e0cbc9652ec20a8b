import { readFileSync } from "node:fs";
import type { Config } from "../config/load.js";
import { AuthError } from "../errors/authErrors.js";
import type { Logger } from "../log/logger.js";
import { routeAutobahnLog } from "./autobahnLog.js";
import { transportFor } from "./transport.js";
import { RealmRegistrations, type Caller, type Procedure } from "./registrations.js";
import { autobahn, type WampConnection, type WampSession } from "./wamp.js";

export type { Caller, Procedure } from "./registrations.js";

interface RealmState {
  realm: string;
  connection: WampConnection | null;
  session: WampSession | null;
  registrations: RealmRegistrations;
  reopenTimer: NodeJS.Timeout | null;
  inFlight: number;
}

export interface LinkEvents {
  onReady?: (realm: string) => void;
  onLost?: (realm: string) => void;
  /** Every (re)join of a realm: the session and the role the router gave this service (WELCOME). */
  onJoin?: (realm: string, session: WampSession, authrole: string | null) => void;
}

/** A router-only procedure called by anyone else: refused at most this often in the log. */
const REFUSAL_LOG_EVERY_MS = 10_000;

/**
 * One WAMP session per realm on the router's privileged transport. Keeps the realm's procedures
 * registered (src/router/registrations.ts) and keeps reconnecting, also when the router is not up yet
 * at start (autobahn's websocket transport on Node 22 gives up there; we reopen ourselves).
 */
export class RouterLink {
  private readonly realms = new Map<string, RealmState>();
  private stopping = false;
  private lastRefusalLog = 0;
  reconnects = 0;

  constructor(
    private readonly config: Config,
    private readonly log: Logger,
    private readonly events: LinkEvents = {},
  ) {
    routeAutobahnLog(log);
  }

  serve(realm: string, procedures: Procedure[]): void {
    const existing = this.realms.get(realm);
    if (!existing) {
      const s: RealmState = {
        realm,
        connection: null,
        session: null,
        registrations: new RealmRegistrations({
          realm,
          log: this.log,
          invoke: (p, args, caller) => this.invoke(s, p, args, caller),
          checkMs: this.config.router.registrationCheckMs,
          onReady: () => this.events.onReady?.(realm),
          onMissing: (uri, why) => this.log.warn({ realm, procedure: uri, why }, "procedure no longer registered: registering it again"),
        }),
        reopenTimer: null,
        inFlight: 0,
      };
      this.realms.set(realm, s);
      s.registrations.add(procedures);
      this.open(s);
      return;
    }
    existing.registrations.add(procedures);
  }

  get servedRealms(): string[] {
    return [...this.realms.keys()];
  }

  /** True when every realm has a session with all its procedures registered. */
  isReady(): boolean {
    if (this.realms.size === 0) return false;
    for (const s of this.realms.values()) if (!s.registrations.ready) return false;
    return true;
  }

  /** The procedure URIs served in a realm. */
  procedures(realm: string): string[] {
    return this.realms.get(realm)?.registrations.uris ?? [];
  }

  session(realm: string): WampSession | null {
    const s = this.realms.get(realm)?.session;
    return s && s.isOpen ? s : null;
  }

  /** Stops taking calls: unregisters, waits for in-flight answers (bounded), closes. */
  async stop(graceMs = 5000): Promise<void> {
    this.stopping = true;
    const states = [...this.realms.values()];
    await Promise.all(
      states.map(async (s) => {
        if (s.reopenTimer) clearTimeout(s.reopenTimer);
        s.registrations.stop();
        const session = s.session;
        if (session?.isOpen) {
          // Bounded: on a connection that died unnoticed the UNREGISTERED never comes.
          const unregistered = Promise.allSettled(s.registrations.registrations.map((r) => session.unregister(r)));
          await Promise.race([unregistered, new Promise((r) => setTimeout(r, Math.min(graceMs, 2000)).unref())]);
        }
        s.registrations.detach();
        const until = Date.now() + graceMs;
        while (s.inFlight > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
        try {
          s.connection?.close();
        } catch {
          // already closed
        }
      }),
    );
  }

  private open(state: RealmState): void {
    if (this.stopping) return;
    const c = this.config.router;
    const logError = (err: unknown, message?: string) => this.log.error({ realm: state.realm, err }, message ?? "autobahn error");
    const connection = new autobahn.Connection({
      use_es6_promises: true,
      transports: [transportFor(c.url, c.serializer, this.log.child({ realm: state.realm }))],
      realm: state.realm,
      ...authOptions(this.config),
      max_retries: -1,
      initial_retry_delay: 0.2,
      max_retry_delay: c.maxRetryDelayMs / 1000,
      retry_delay_growth: 1.5,
      retry_delay_jitter: 0.1,
      // autobahn prints every error a handler throws to the console. Denials are WAMP errors the
      // authenticator/authorizer already logged; anything else is logged here, structured.
      on_user_error: (err: unknown, message?: string) => {
        if (!(err instanceof autobahn.Error)) logError(err, message);
      },
      on_internal_error: logError,
    });
    state.connection = connection;
    connection.onopen = (session, details) => {
      state.session = session;
      const authrole = typeof details?.authrole === "string" ? details.authrole : null;
      this.log.info({ realm: state.realm, session: session.id, authrole }, "joined router realm");
      this.events.onJoin?.(state.realm, session, authrole);
      state.registrations.attach(session);
    };
    connection.onclose = (reason, details) => {
      const wasReady = state.registrations.ready;
      state.session = null;
      state.registrations.detach();
      if (wasReady) this.events.onLost?.(state.realm);
      if (this.stopping) return true; // true: autobahn stops retrying
      this.log.warn({ realm: state.realm, reason, message: details?.message, retry: details?.will_retry }, "router connection closed");
      if (!details?.will_retry) {
        // autobahn gave up (e.g. websocket on Node 22 with the router down at start): start afresh.
        state.reopenTimer = setTimeout(() => {
          state.reopenTimer = null;
          this.reconnects++;
          this.open(state);
        }, 500);
      } else {
        this.reconnects++;
      }
      return false;
    };
    connection.open();
  }

  /** Every invocation settles: with the handler's one positional result, or a WAMP error. */
  private async invoke(state: RealmState, p: Procedure, args: unknown[], caller: Caller): Promise<unknown> {
    if (p.callers === "router" && caller.authrole !== "trusted") {
      // Only the router asks the authenticator/authorizer; anyone else would get a free decision oracle.
      const now = Date.now();
      if (now - this.lastRefusalLog >= REFUSAL_LOG_EVERY_MS) {
        this.lastRefusalLog = now;
        this.log.warn({ realm: state.realm, procedure: p.uri, caller }, "refused a call that did not come from the router");
      }
      throw new autobahn.Error("wamp.error.not_authorized", [`${p.uri} answers the router only`]);
    }
    state.inFlight++;
    try {
      return await p.handler(args, caller);
    } catch (err) {
      if (err instanceof AuthError) throw new autobahn.Error(err.uri, [err.message]);
      this.log.error({ err, procedure: p.uri }, "handler failed");
      throw new autobahn.Error("wamp.error.authorization_failed", ["internal error"]);
    } finally {
      state.inFlight--;
    }
  }
}

function authOptions(config: Config): Record<string, unknown> {
  const r = config.router;
  switch (r.authmethod) {
    case "anonymous":
      return { authmethods: ["anonymous"] };
    case "ticket":
      return { authmethods: ["ticket"], authid: r.authid, onchallenge: () => r.ticket };
    case "cryptosign": {
      const seedHex = readFileSync(r.keyFile, "utf8").trim();
      if (!/^[0-9a-fA-F]{64}$/.test(seedHex)) throw new Error(`router.keyFile ${r.keyFile}: expected 64 hex chars (Ed25519 seed)`);
      const pair = autobahn.nacl.sign.keyPair.fromSeed(Buffer.from(seedHex, "hex"));
      return {
        authmethods: ["cryptosign"],
        authid: r.authid,
        authextra: { pubkey: Buffer.from(pair.publicKey).toString("hex") },
        onchallenge: (_session: unknown, method: string, extra: Record<string, unknown>) =>
          method === "cryptosign" && typeof extra.challenge === "string"
            ? autobahn.auth_cryptosign.sign_challenge(pair, { challenge: extra.challenge })
            : "",
      };
    }
  }
}
