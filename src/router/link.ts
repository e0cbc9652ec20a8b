import { readFileSync } from "node:fs";
import type { Config } from "../config/load.js";
import { AuthError } from "../errors/authErrors.js";
import type { Logger } from "../log/logger.js";
import { routeAutobahnLog } from "./autobahnLog.js";
import { transportFor } from "./transport.js";
import { autobahn, type WampConnection, type WampRegistration, type WampSession } from "./wamp.js";

export type Handler = (args: unknown[]) => unknown;

export interface Procedure {
  uri: string;
  handler: Handler;
}

interface RealmState {
  realm: string;
  procedures: Procedure[];
  connection: WampConnection | null;
  session: WampSession | null;
  registrations: WampRegistration[];
  ready: boolean;
  reopenTimer: NodeJS.Timeout | null;
  inFlight: number;
}

export interface LinkEvents {
  onReady?: (realm: string) => void;
  onLost?: (realm: string) => void;
}

/**
 * One WAMP session per realm on the router's privileged transport. Registers the realm's procedures
 * on every join (so a router restart re-registers) and keeps reconnecting, also when the router is
 * not up yet at start (autobahn's websocket transport on Node 22 gives up there; we reopen ourselves).
 */
export class RouterLink {
  private readonly realms = new Map<string, RealmState>();
  private stopping = false;
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
    if (existing) {
      existing.procedures.push(...procedures);
      if (existing.session) void this.register(existing, existing.session, procedures);
      return;
    }
    const state: RealmState = {
      realm,
      procedures: [...procedures],
      connection: null,
      session: null,
      registrations: [],
      ready: false,
      reopenTimer: null,
      inFlight: 0,
    };
    this.realms.set(realm, state);
    this.open(state);
  }

  get servedRealms(): string[] {
    return [...this.realms.keys()];
  }

  /** True when every realm has a session with all its procedures registered. */
  isReady(): boolean {
    if (this.realms.size === 0) return false;
    for (const s of this.realms.values()) if (!s.ready) return false;
    return true;
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
        const session = s.session;
        if (session?.isOpen) {
          // Bounded: on a connection that died unnoticed the UNREGISTERED never comes.
          const unregistered = Promise.allSettled(s.registrations.map((r) => session.unregister(r)));
          await Promise.race([unregistered, new Promise((r) => setTimeout(r, Math.min(graceMs, 2000)).unref())]);
        }
        s.ready = false;
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
    const logError = (err: unknown, message: string) =>
      this.log.error({ realm: state.realm, err: err instanceof Error ? err.message : String(err) }, message);
    const connection = new autobahn.Connection({
      transports: [transportFor(c.url, c.serializer)],
      realm: state.realm,
      ...authOptions(this.config),
      max_retries: -1,
      initial_retry_delay: 0.2,
      max_retry_delay: c.maxRetryDelayMs / 1000,
      retry_delay_growth: 1.5,
      retry_delay_jitter: 0.1,
      // autobahn prints every error a handler throws to the console. Denials are WAMP errors the
      // authenticator/authorizer already logged; anything else is logged here, structured.
      on_user_error: (err: unknown, message: string) => {
        if (!(err instanceof autobahn.Error)) logError(err, message);
      },
      on_internal_error: logError,
    });
    state.connection = connection;
    connection.onopen = (session) => {
      state.session = session;
      this.log.info({ realm: state.realm, session: session.id }, "joined router realm");
      void this.register(state, session, state.procedures);
    };
    connection.onclose = (reason, details) => {
      const wasReady = state.ready;
      state.session = null;
      state.registrations = [];
      state.ready = false;
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

  private async register(state: RealmState, session: WampSession, procedures: Procedure[]): Promise<void> {
    try {
      for (const p of procedures) {
        const reg = await session.register(p.uri, (args) => this.invoke(state, p, args), { invoke: "roundrobin" });
        if (state.session !== session) return;
        state.registrations.push(reg);
        this.log.info({ realm: state.realm, procedure: p.uri }, "registered");
      }
      state.ready = true;
      this.events.onReady?.(state.realm);
    } catch (err) {
      // Typically a permission problem in the router config; retry, the operator may fix it live.
      this.log.error({ realm: state.realm, err: errorText(err) }, "registering procedures failed; retrying in 2 s");
      setTimeout(() => {
        if (state.session === session && session.isOpen && !this.stopping) {
          state.registrations = [];
          void this.register(state, session, state.procedures);
        }
      }, 2000);
    }
  }

  /** Every invocation settles: with the handler's one positional result, or a WAMP error. */
  private async invoke(state: RealmState, p: Procedure, args: unknown[]): Promise<unknown> {
    state.inFlight++;
    try {
      return await p.handler(args ?? []);
    } catch (err) {
      if (err instanceof AuthError) throw new autobahn.Error(err.uri, [err.message]);
      this.log.error({ err: errorText(err), procedure: p.uri }, "handler failed");
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
        onchallenge: (_session: unknown, method: string, extra: unknown) =>
          method === "cryptosign" ? autobahn.auth_cryptosign.sign_challenge(pair, extra) : "",
      };
    }
  }
}

function errorText(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (typeof err === "object" && err !== null && "error" in err) return String((err as { error: unknown }).error);
  return String(err);
}
