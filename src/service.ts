import pg from "pg";
import type { Server } from "node:http";
import { AuditRecorder } from "./audit/recorder.js";
import { createAuthenticator } from "./auth/createAuthenticator.js";
import type { ProofTracker } from "./auth/proofTracker.js";
import { ReservedRoles } from "./auth/reservedRoles.js";
import { loadTokenKeys } from "./auth/tokens/apiTokens.js";
import { IssuerRegistry } from "./auth/tokens/issuers.js";
import { Authorizer } from "./authorize/authorizer.js";
import { Decider } from "./authorize/decide.js";
import { PermissionIndex } from "./authorize/permissionIndex.js";
import { ReservedUris } from "./authorize/reserved.js";
import type { Config } from "./config/load.js";
import { startHttp } from "./http/server.js";
import type { Logger } from "./log/logger.js";
import { authenticateObserver, authorizeObserver, createMetrics, type Metrics } from "./metrics/metrics.js";
import { JoinWatch } from "./router/joinWatch.js";
import { RouterLink, type Procedure } from "./router/link.js";
import { Narrower } from "./router/narrower.js";
import { SessionRevoker } from "./router/revoker.js";
import { SessionWatch } from "./router/sessionWatch.js";
import { AuthorizerRealms } from "./service/authorizerRealms.js";
import { ChangeHandler } from "./service/changeHandler.js";
import { DeviceTickets } from "./service/deviceTickets.js";
import { GroupKeeper } from "./service/groupKeeper.js";
import { Housekeeping } from "./service/housekeeping.js";
import { LiveNarrowing } from "./service/liveNarrowing.js";
import { PermissionKeeper } from "./service/permissionKeeper.js";
import { SessionRules } from "./service/sessionRules.js";
import { StoreHealth } from "./service/storeHealth.js";
import { TokenSessions } from "./service/tokenSessions.js";
import { WindowClock } from "./service/windowClock.js";
import { ChangeListener } from "./store/changeListener.js";
import { pendingMigrations } from "./store/migrate.js";
import { createPool } from "./store/pool.js";
import {
  type RoleTable,
  loadGroupGraph,
  loadIndex,
  loadSessionRoleKeys,
  loadSessionUsers,
  reloadGroupRules,
  roleKey,
} from "./store/ruleLoaders.js";
import { timedPool } from "./store/timedPool.js";

/**
 * The composition root: builds every part of the running service and wires them together. Each job
 * lives in a module of its own (src/service/, src/router/, src/auth/, ...); this file only connects them.
 */
export class Service {
  readonly pool: pg.Pool;
  readonly metrics: Metrics;
  readonly link: RouterLink;
  readonly audit: AuditRecorder;
  readonly revoker: SessionRevoker;
  readonly reserved: ReservedRoles;
  readonly issuers: IssuerRegistry;
  readonly tokenSessions: TokenSessions;
  private readonly devices: DeviceTickets;
  /** Each session's own rules (users, groups, templates), loaded per identity. */
  readonly sessionRules: SessionRules;
  /** Sessions per realm, from the router's meta API. */
  readonly watch: SessionWatch;
  readonly narrowing: LiveNarrowing;
  readonly narrower: Narrower;
  private readonly keeper: PermissionKeeper;
  private readonly groups: GroupKeeper;
  private readonly clock: WindowClock;
  private roleTable: RoleTable = { killOnChange: new Set(), byId: new Map() };
  private loadToken = 0;
  /** Roles whose users have rules or groups of their own (kept up to date from notifications; null: query at the next load). */
  private sessionRoleKeys: Set<string> | null = null;
  /** Permission index loads so far (a user's or a group's change must not cause one). */
  indexLoads = 0;
  private authorizer: Authorizer | null = null;
  private readonly health: StoreHealth;
  private readonly listener: ChangeListener;
  private readonly changes: ChangeHandler;
  private readonly housekeeping: Housekeeping;
  private readonly joins: JoinWatch;
  private proofs: ProofTracker | null = null;
  private realms: AuthorizerRealms | null = null;
  private http: Server | null = null;

  constructor(
    readonly config: Config,
    readonly log: Logger,
  ) {
    // A query still blocked (e.g. behind a table lock) well after the deadline is cancelled.
    this.pool = createPool(config.database.url, log, config.database.poolMax, { statementTimeoutMs: config.deadlineMs + 2000 });
    this.metrics = createMetrics();
    this.audit = new AuditRecorder(this.pool, log, {
      enabled: config.audit.enabled,
      rollupWindowMs: config.audit.rollupWindowMs,
      // Realm names in HELLO are client-chosen: only the store's realms get rollup rows of their own.
      knownRealm: (realm) => this.keeper.index.hasRealm(realm),
    });
    const everReady = new Set<string>();
    this.reserved = new ReservedRoles(this.pool, log);
    // Sessions joining any realm the service is in settle the router-checked proofs awaiting them.
    this.joins = new JoinWatch(log, (realm, details) => this.proofs?.joined(realm, details));
    this.link = new RouterLink(config, log, {
      onJoin: (realm, session, authrole) => {
        void this.reserved.noteServiceRole(authrole, realm);
        this.joins.attach(realm, session);
        this.narrowing.noteServiceRole(authrole);
        if (this.realms?.has(realm)) void this.watch.attach(realm, session);
      },
      onReady: (realm) => {
        if (everReady.has(realm)) this.metrics.reconnects.inc();
        everReady.add(realm);
        log.info({ realm }, "realm ready");
      },
    });
    this.revoker = new SessionRevoker(this.link, config.router.authRealm, this.audit, this.metrics, log);
    const t = config.tokens;
    this.issuers = new IssuerRegistry({
      db: this.pool,
      log,
      keys: { refreshMs: t.jwksRefreshMs, cooldownMs: t.jwksCooldownMs, timeoutMs: t.jwksTimeoutMs },
      onKeyLoad: (issuer, ok) => {
        this.metrics.jwksUp.set({ issuer }, ok ? 1 : 0);
        this.metrics.jwksLoads.inc({ issuer, outcome: ok ? "ok" : "error" });
      },
    });
    this.tokenSessions = new TokenSessions({
      db: this.pool,
      log,
      revoker: this.revoker,
      session: (realm) => this.link.session(realm),
      realms: () => this.link.servedRealms,
      sweepMs: t.sweepMs,
      reconcileMs: t.reconcileMs,
    });
    this.devices = new DeviceTickets({
      db: this.pool,
      log,
      keys: loadTokenKeys(t),
      session: (realm) => this.link.session(realm),
      ttlSeconds: t.deviceTtlSeconds,
      maxPerUser: t.deviceMaxPerUser,
    });
    this.health = new StoreHealth({ db: this.pool, log, gauge: this.metrics.storeUp, whenStoreDown: config.authorize.whenStoreDown });
    this.keeper = new PermissionKeeper({
      load: async () => {
        this.loadToken = this.sessionRules.indexLoadStarting();
        this.sessionRoleKeys ??= await loadSessionRoleKeys(this.pool);
        const { index, roles } = await loadIndex(this.pool, Date.now(), this.sessionRoleKeys);
        this.roleTable = roles;
        return index;
      },
      initial: PermissionIndex.empty(),
      log,
      onLoaded: (index, ms) => {
        this.indexLoads++;
        this.narrowing.indexLoaded(this.loadToken);
        this.metrics.rules.set(index.ruleCount);
        this.metrics.storeLatency.observe(ms / 1000);
      },
      afterReload: () => this.changes.afterReload(),
    });
    this.groups = new GroupKeeper({
      loadAll: () => loadGroupGraph(this.pool),
      loadRules: (graph, id) => reloadGroupRules(this.pool, graph, id),
      log,
      onChanged: (before, after, changed) =>
        void this.narrowing.groupsChanged(before, after, changed).catch((err: unknown) => this.failed(err)),
    });
    this.sessionRules = new SessionRules({
      load: (realm, authid) => loadSessionUsers(this.pool, realm, authid),
      index: () => this.keeper.index,
      groups: () => this.groups.graph,
      options: { strictUris: config.authorize.strictUris },
      maxEntries: config.authorize.sessionCacheMax,
      log,
      onWindow: (realm, authid, at) => this.clock.at(at, { kind: "identity", realm, authid }),
    });
    this.watch = new SessionWatch(log, {
      joined: (s) => {
        this.sessionRules.joined(s.realm, s.authid);
        // Another instance (or none) answered the login: load the user before its first request.
        if (this.sessionRules.concerns(s.realm, s.authrole)) void this.sessionRules.warm(s.realm, s.authid);
      },
      left: (s) => this.sessionRules.left(s.realm, s.authid),
      reset: (realm) => this.sessionRules.resetLive(realm),
      attached: (realm, kind, sessionId, id) => void this.narrower.check(realm, kind, sessionId, id),
    });
    this.clock = new WindowClock({
      onDue: (subjects) => void this.narrowing.windowsDue(subjects).catch((err: unknown) => this.failed(err)),
    });
    this.narrowing = new LiveNarrowing({
      index: () => this.keeper.index,
      roles: () => this.roleTable,
      sessionRules: this.sessionRules,
      decider: new Decider(ReservedUris.forProcedures(config.procedures)),
      narrower: () => this.narrower,
      watch: this.watch,
      revoker: this.revoker,
      clock: this.clock,
      log,
      flagRole: (realm, role) => {
        this.sessionRoleKeys?.add(roleKey(realm, role));
        this.keeper.schedule();
      },
    });
    this.narrower = new Narrower({
      session: (realm) => this.link.session(realm),
      watch: this.watch,
      log,
      governs: (realm, role) => this.narrowing.governs(realm, role),
      allowed: (s, request) => this.narrowing.allowed(s, request),
      onRemoved: (_s, kind) => this.metrics.narrowed.inc({ kind }),
    });
    this.changes = new ChangeHandler({
      db: this.pool,
      log,
      revoker: this.revoker,
      index: () => this.keeper.index,
      scheduleReload: () => this.keeper.schedule(),
      // Realms and roles renamed or removed: which roles have session rules is read again.
      realmsOrRolesChanged: () => (this.sessionRoleKeys = null),
      realmAdded: (realm) => this.realms?.added(realm),
      tokensChanged: (e) => {
        if (e.table === "token_issuers") this.issuers.invalidate();
        if (e.sweep === true) this.tokenSessions.sweepNow();
      },
      identityChanged: (realm, authid, rules, patch) =>
        void this.narrowing.identityChanged(realm, authid, rules, patch).catch((err: unknown) => this.failed(err)),
      groupRulesChanged: (id) => this.groups.rulesChanged(id),
      groupsChanged: () => this.groups.structureChanged(),
      rolesChanged: (roles) => void this.narrowing.rolesChanged(roles).catch((err: unknown) => this.failed(err)),
    });
    this.listener = new ChangeListener(pg, {
      url: config.database.url,
      log,
      keepaliveMs: config.database.listenKeepaliveMs,
      keepaliveDeadlineMs: config.database.listenKeepaliveDeadlineMs,
      onChange: (e) => this.changes.handle(e),
      onResync: () => {
        this.health.markUp();
        // Changes may have been missed: reload everything, forget cached users, narrow every session after.
        this.sessionRules.invalidateAll();
        this.sessionRoleKeys = null;
        this.changes.resynced();
        this.keeper.schedule(0);
        this.groups.structureChanged();
        void this.realms?.resync();
        // Changes made while nobody listened: issuers may differ, revocations may be pending.
        this.issuers.invalidate();
        this.tokenSessions.sweepNow();
      },
      onLost: () => this.health.markDown(),
    });
    this.housekeeping = new Housekeeping({
      db: this.pool,
      audit: this.audit,
      log,
      retentionDays: config.audit.retentionDays,
      throttleWindowMs: config.throttle.windowMs,
    });
  }

  get permissionIndex(): PermissionIndex {
    return this.keeper.index;
  }

  /** The authorizer as the router's calls reach it (after start). */
  get authorize(): Authorizer | null {
    return this.authorizer;
  }

  private failed(err: unknown): void {
    this.log.error({ err }, "narrowing live sessions failed");
  }

  /** True while the store is reachable (as far as the LISTEN connection and readiness probes know). */
  get storeReachable(): boolean {
    return this.health.up;
  }

  async start(): Promise<void> {
    const pending = await pendingMigrations(this.pool);
    if (pending.length > 0)
      throw new Error(`the database schema is not up to date (${pending.join(", ")} pending): run "wamp-authd migrate" first`);
    await this.keeper.reload();
    await this.groups.start();
    await this.reserved.refresh();
    await this.issuers.reload();
    this.health.markUp();
    const { config, log } = this;

    const observeLogin = authenticateObserver(
      this.metrics.authenticate,
      (m) => methods.has(m),
      (r) => this.keeper.index.hasRealm(r),
    );
    const { authenticator, methods, proofs } = await createAuthenticator({
      config,
      pool: timedPool(this.pool, () => this.metrics.storeQuery.startTimer()),
      log,
      roleExists: (realm, role) => this.keeper.index.hasRole(realm, role),
      realmRoles: (realm) => this.keeper.index.roles(realm),
      watching: (realm) => this.joins.epoch(realm),
      onProofFailed: (f) => this.audit.proofFailed(f),
      isReservedRole: (role) => this.reserved.has(role),
      isClosedRealm: (realm) => realm === config.router.authRealm && !this.authRealmIsAppRealm(),
      onLockout: () => this.metrics.lockouts.inc(),
      issuers: this.issuers,
      onTokenLogin: (req, principal) => this.tokenSessions.track(req, principal),
      onOutcome: (o) => {
        if (o.error?.code === "overloaded") this.metrics.shed.inc();
        observeLogin({
          method: o.request?.details.authmethod,
          realm: o.request?.realm,
          allowed: !o.error && !o.principal?.decoy,
          ms: o.ms,
        });
        this.audit.login(o);
        // The session is about to join: load its user's rules before its first request.
        const p = o.principal;
        if (!o.error && p && this.sessionRules.concerns(p.realm, p.role)) void this.sessionRules.warm(p.realm, p.authid);
      },
    });
    this.proofs = proofs;

    // fail-closed: while the store is away, answer from an empty index (deny everything).
    const empty = PermissionIndex.empty();
    const failClosed = config.authorize.whenStoreDown === "fail-closed";
    const p = config.procedures;
    const observe = authorizeObserver(this.metrics.authorize);
    const authorizer = new Authorizer({
      index: () => (failClosed && !this.health.up ? empty : this.keeper.index),
      reserved: ReservedUris.forProcedures(p),
      log,
      onOutcome: (o) => {
        observe(o);
        // A role the router asks about is under this service's authorizer: its sessions may be narrowed.
        if (o.role !== null) this.narrowing.noteAuthorized(o.realm, o.role);
      },
      sessionRules: this.sessionRules.provider,
      deadlineMs: config.deadlineMs,
    });
    this.authorizer = authorizer;

    const authenticate: Procedure[] = [
      { uri: p.authenticate, callers: "router", handler: (args) => authenticator.authenticate(args) },
      ...(p.perMethod
        ? [...methods.keys()].map((m): Procedure => ({
            uri: `${p.authenticate}.${m}`,
            callers: "router",
            handler: (args) => authenticator.authenticate(args, m),
          }))
        : []),
    ];
    this.link.serve(config.router.authRealm, authenticate);
    this.realms = new AuthorizerRealms({
      link: this.link,
      db: this.pool,
      log,
      configured: config.router.realms,
      procedures: (realm) => [
        { uri: p.authorize, callers: "router", handler: (args) => authorizer.authorize(realm, args) },
        ...(config.tokens.deviceTickets ? this.devices.procedures(realm) : []),
      ],
      onServe: (realm) => {
        // Already joined (the authenticator realm doubling as an app realm): watch it now; later joins come through onJoin.
        const session = this.link.session(realm);
        if (session) void this.watch.attach(realm, session);
      },
    });
    await this.realms.start();
    this.tokenSessions.start();

    this.listener.start();
    this.housekeeping.start();
    if (config.http.port > 0) {
      this.http = await startHttp(config.http.host, config.http.port, { ready: () => this.readiness() }, this.metrics.registry, log);
      log.info({ port: config.http.port }, "http endpoints up");
    }
  }

  /** Graceful: unregister (no new calls), finish in-flight answers, then close everything. */
  async stop(): Promise<void> {
    this.keeper.stop();
    this.groups.stop();
    this.clock.stop();
    this.housekeeping.stop();
    this.tokenSessions.stop();
    this.issuers.stop();
    await this.link.stop();
    this.proofs?.stop();
    await this.listener.stop();
    await this.audit.stop();
    await new Promise<void>((resolve) => (this.http ? this.http.close(() => resolve()) : resolve()));
    await this.pool.end();
  }

  /** Rebuilds the permission index from the store now (tests, bench). */
  reload(): Promise<void> {
    return this.keeper.reload();
  }

  /** Hourly, and callable: prunes audit rows and rollups past audit.retentionDays and idle failure counters. */
  houseKeep(): Promise<{ audit: number; rollups: number; counters: number } | null> {
    return this.housekeeping.run();
  }

  /**
   * The classic layout registers the authenticator in the app realm itself; otherwise the
   * authenticator realm is a realm of its own, where no login may land.
   */
  private authRealmIsAppRealm(): boolean {
    const { authRealm, realms } = this.config.router;
    return realms.length > 0 ? realms.includes(authRealm) : this.keeper.index.hasRealm(authRealm);
  }

  async readiness(): Promise<{ ready: boolean; detail: Record<string, unknown> }> {
    const store = await this.health.probe(this.listener.connected);
    const router = this.link.isReady();
    const listener = this.listener.connected; // changes stop arriving without it
    // Issuers whose keys failed to load keep their last good keys: reported, not a reason to be unready.
    return {
      ready: router && store && listener,
      detail: { router, store, listener, realms: this.link.servedRealms, issuers: this.issuers.status() },
    };
  }
}
