import pg from "pg";
import type { Server } from "node:http";
import { AuditRecorder } from "./audit/recorder.js";
import { Authenticator } from "./auth/authenticator.js";
import { PostgresThrottle } from "./auth/throttle.js";
import { PasswordHasher } from "./auth/passwords.js";
import { loadMethods } from "./auth/registry.js";
import { Authorizer } from "./authorize/authorizer.js";
import { PermissionIndex } from "./authorize/permissionIndex.js";
import { ReservedUris } from "./authorize/reserved.js";
import type { Config } from "./config/load.js";
import { startHttp } from "./http/server.js";
import type { Logger } from "./log/logger.js";
import { authorizeObserver, createMetrics, type Metrics } from "./metrics/metrics.js";
import { RouterLink } from "./router/link.js";
import { SessionRevoker } from "./router/revoker.js";
import { ChangeListener, type ChangeEvent } from "./store/changeListener.js";
import { pendingMigrations } from "./store/migrate.js";
import { createPool } from "./store/pool.js";
import { roleRules } from "./store/permissionRules.js";
import { listRealms, loadPermissions, ping, roleById } from "./store/queries.js";
import { pruneFailures } from "./store/throttleQueries.js";

/**
 * Composes the running service: store, permission index (kept fresh by LISTEN/NOTIFY),
 * authenticator, authorizer, router link and HTTP endpoints.
 */
export class Service {
  readonly pool: pg.Pool;
  readonly metrics: Metrics;
  readonly link: RouterLink;
  private index = PermissionIndex.empty();
  private listener: ChangeListener;
  private http: Server | null = null;
  private reloadTimer: NodeJS.Timeout | null = null;
  private reloading: Promise<void> | null = null;
  private reloadAgain: Promise<void> | null = null;
  private storeOk = false;
  /** False while the store is unreachable (the LISTEN connection is down). */
  private storeUp = false;
  private housekeeping: NodeJS.Timeout | null = null;
  readonly audit: AuditRecorder;
  readonly revoker: SessionRevoker;

  constructor(
    readonly config: Config,
    readonly log: Logger,
  ) {
    // A query still blocked (e.g. behind a table lock) well after the deadline is cancelled.
    this.pool = createPool(config.database.url, log, config.database.poolMax, { statementTimeoutMs: config.deadlineMs + 2000 });
    this.metrics = createMetrics();
    this.audit = new AuditRecorder(this.pool, log, config.audit.enabled);
    const everReady = new Set<string>();
    this.link = new RouterLink(config, log, {
      onReady: (realm) => {
        if (everReady.has(realm)) this.metrics.reconnects.inc();
        everReady.add(realm);
        log.info({ realm }, "realm ready");
      },
    });
    this.revoker = new SessionRevoker(this.link, config.router.authRealm, this.audit, this.metrics, log);
    this.listener = new ChangeListener(pg, {
      url: config.database.url,
      log,
      onChange: (e) => this.onChange(e),
      onResync: () => {
        if (!this.storeUp) log.info("store reachable again: reloading the permission index");
        this.setStoreUp(true);
        this.scheduleReload(0);
        // Realms added while the listener was away were not announced: join them now.
        void this.joinStoreRealms();
      },
      onLost: () => {
        if (this.storeUp) {
          log.error(
            { whenStoreDown: config.authorize.whenStoreDown },
            "store unreachable: logins are denied (unavailable) until it is back; authorize serves the in-memory index (serve-stale) or denies (fail-closed)",
          );
        }
        this.setStoreUp(false);
      },
    });
  }

  get permissionIndex(): PermissionIndex {
    return this.index;
  }

  async start(): Promise<void> {
    const pending = await pendingMigrations(this.pool);
    if (pending.length > 0)
      throw new Error(`the database schema is not up to date (${pending.join(", ")} pending): run "wamp-authd migrate" first`);
    await this.reload();
    this.setStoreUp(true);
    const methods = await loadMethods();
    const hasher = new PasswordHasher(this.config.argon2, this.config.argon2.concurrency);
    const authenticator = new Authenticator({
      methods,
      ctx: { pool: this.timedPool, passwords: hasher, config: this.config, log: this.log },
      roleExists: (realm, role) => this.index.hasRole(realm, role),
      deadlineMs: this.config.deadlineMs,
      log: this.log,
      ...(this.config.throttle.enabled
        ? { guard: new PostgresThrottle(this.timedPool, this.config.throttle, this.log, () => this.metrics.lockouts.inc()) }
        : {}),
      onOutcome: (o) => {
        // Labels come from a closed set: client-chosen strings must not grow the metric series.
        const m = o.request?.details.authmethod;
        const r = o.request?.realm;
        this.metrics.authenticate.observe(
          {
            method: m === undefined ? "invalid" : methods.has(m) ? m : "other",
            realm: !r ? "none" : this.index.hasRealm(r) ? r : "other",
            outcome: o.error ? "deny" : "allow",
          },
          o.ms / 1000,
        );
        this.audit.login(o);
      },
    });
    // fail-closed: while the store is away, answer from an empty index (deny everything).
    const empty = PermissionIndex.empty();
    const failClosed = this.config.authorize.whenStoreDown === "fail-closed";
    const p = this.config.procedures;
    const authorizer = new Authorizer({
      index: () => (failClosed && !this.storeUp ? empty : this.index),
      reserved: ReservedUris.forProcedures(p),
      log: this.log,
      onOutcome: authorizeObserver(this.metrics.authorize),
    });
    const perMethod = p.perMethod
      ? [...methods.keys()].map((m) => ({ uri: `${p.authenticate}.${m}`, handler: (args: unknown) => authenticator.authenticate(args, m) }))
      : [];
    this.link.serve(this.config.router.authRealm, [
      { uri: p.authenticate, handler: (args) => authenticator.authenticate(args) },
      ...perMethod,
    ]);
    this.serveAuthorizer = (realm) => {
      if (this.authorizedRealms.has(realm)) return;
      this.authorizedRealms.add(realm);
      this.link.serve(realm, [{ uri: p.authorize, handler: (args) => authorizer.authorize(realm, args) }]);
    };
    const configured = this.config.router.realms;
    const realms = configured.length > 0 ? configured : (await listRealms(this.pool)).map((r) => r.name);
    for (const realm of realms) this.serveAuthorizer(realm);
    this.listener.start();
    this.housekeeping = setInterval(() => void this.houseKeep(), 3_600_000);
    this.housekeeping.unref();
    if (this.config.http.port > 0) {
      this.http = await startHttp(
        this.config.http.host,
        this.config.http.port,
        { ready: () => this.readiness() },
        this.metrics.registry,
        this.log,
      );
      this.log.info({ port: this.config.http.port }, "http endpoints up");
    }
  }

  private readonly authorizedRealms = new Set<string>();
  private serveAuthorizer: ((realm: string) => void) | null = null;

  /** Graceful: unregister (no new calls), finish in-flight answers, then close everything. */
  async stop(): Promise<void> {
    if (this.reloadTimer) clearTimeout(this.reloadTimer);
    if (this.housekeeping) clearInterval(this.housekeeping);
    await this.link.stop();
    await this.listener.stop();
    await this.audit.flush();
    await new Promise<void>((resolve) => (this.http ? this.http.close(() => resolve()) : resolve()));
    await this.pool.end();
  }

  async readiness(): Promise<{ ready: boolean; detail: Record<string, unknown> }> {
    try {
      await ping(this.pool);
      this.storeOk = true;
    } catch {
      this.storeOk = false;
    }
    if (!this.storeOk && this.storeUp) this.setStoreUp(false);
    else if (this.storeOk && !this.storeUp && this.listener.connected) this.setStoreUp(true);
    const router = this.link.isReady();
    return { ready: router && this.storeOk, detail: { router, store: this.storeOk, realms: this.link.servedRealms } };
  }

  /** Hourly (and callable): prunes audit rows past audit.retentionDays and idle failure counters. */
  async houseKeep(): Promise<{ audit: number; counters: number } | null> {
    try {
      const audit = await this.audit.prune(this.config.audit.retentionDays);
      const counters = await pruneFailures(this.pool, this.config.throttle.windowMs);
      this.log.debug({ audit, counters }, "housekeeping done");
      return { audit, counters };
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, "housekeeping failed");
      return null;
    }
  }

  private setStoreUp(up: boolean): void {
    this.storeUp = up;
    this.metrics.storeUp.set(up ? 1 : 0);
  }

  /** True while the store is reachable (as far as the LISTEN connection and readiness probes know). */
  get storeReachable(): boolean {
    return this.storeUp;
  }

  /** The pool, with every query on the login path timed into authd_store_query_seconds. */
  private get timedPool(): pg.Pool {
    this.timed ??= new Proxy(this.pool, {
      get: (target, key, receiver) => {
        if (key !== "query") return Reflect.get(target, key, receiver) as unknown;
        return (...args: unknown[]) => {
          const end = this.metrics.storeQuery.startTimer();
          const p = (target.query as (...a: unknown[]) => Promise<unknown> | undefined).apply(target, args);
          if (!p) return p; // callback style: not used on the login path
          p.then(
            () => end({ outcome: "ok" }),
            () => end({ outcome: "error" }),
          );
          return p;
        };
      },
    });
    return this.timed;
  }
  private timed: pg.Pool | null = null;

  /** Rebuilds the permission index from the store and swaps it in. Concurrent calls share one load. */
  async reload(): Promise<void> {
    if (this.reloading) {
      // A change may have committed after the running load read its rows: load once more after it.
      this.reloadAgain ??= this.reloading
        .catch(() => undefined)
        .then(() => {
          this.reloadAgain = null;
          return this.reload();
        });
      return this.reloadAgain;
    }
    this.reloading = (async () => {
      const end = this.metrics.storeLatency.startTimer();
      try {
        const rows = await loadPermissions(this.pool);
        this.index = PermissionIndex.build(roleRules(rows), Date.now());
        this.metrics.rules.set(this.index.ruleCount);
        this.log.debug({ rules: this.index.ruleCount }, "permission index loaded");
      } finally {
        end();
        this.reloading = null;
      }
    })();
    return this.reloading;
  }

  private scheduleReload(delayMs = 20): void {
    // Coalesce bursts (a migration touching many rows) into one reload.
    if (this.reloadTimer) return;
    this.reloadTimer = setTimeout(() => {
      this.reloadTimer = null;
      this.reload().then(
        () => this.killChangedRoles(),
        (err: Error) => {
          this.log.error({ err: err.message }, "reloading permissions failed; retrying");
          this.scheduleReload(1000);
        },
      );
    }, delayMs);
  }

  /** Roles whose rules changed since the last reload (kill-on-change is checked after it). */
  private changedRoles = new Set<number>();

  private onChange(e: ChangeEvent): void {
    if (e.table === "roles" || e.table === "permissions" || e.table === "realms") this.scheduleReload();
    if (e.table === "permissions" && typeof e.role_id === "number") this.changedRoles.add(e.role_id);
    if (e.table === "realms" && e.op === "INSERT" && typeof e.realm === "string" && this.config.router.realms.length === 0) {
      // A realm added to the store is joined live (when the config does not pin the realm list).
      this.serveAuthorizer?.(e.realm);
    }
    if (e.table === "realms" && e.op === "DELETE" && typeof e.realm === "string") {
      // Its users' rows go by cascade, when the realm's name is no longer there to revoke by:
      // close the sessions of every role the realm had (the index still holds them until the reload).
      for (const role of this.index.roles(e.realm)) void this.revoker.byAuthrole(e.realm, role);
    }
    if (e.revoke && typeof e.kill_authid === "string" && typeof e.kill_realm === "string") {
      void this.revoker.byAuthid(e.kill_realm, e.kill_authid);
    }
  }

  private async joinStoreRealms(): Promise<void> {
    if (this.config.router.realms.length > 0 || !this.serveAuthorizer) return;
    try {
      for (const r of await listRealms(this.pool)) this.serveAuthorizer(r.name);
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, "listing realms failed");
    }
  }

  /**
   * After the new rules are in the index: roles flagged kill_on_change lose their live sessions, so
   * clients reconnect under the new rules. (Answers Crossbar cached with cache: true survive this:
   * its cache is router-wide and has no purge.)
   */
  private async killChangedRoles(): Promise<void> {
    const ids = [...this.changedRoles];
    this.changedRoles.clear();
    for (const id of ids) {
      try {
        const role = await roleById(this.pool, id);
        if (role?.kill_on_change) await this.revoker.byAuthrole(role.realm, role.name);
      } catch (err) {
        this.log.error({ roleId: id, err: (err as Error).message }, "kill-on-change lookup failed");
      }
    }
  }
}
