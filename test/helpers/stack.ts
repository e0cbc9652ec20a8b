import { join } from "node:path";
import { loadConfig, type Config } from "../../src/config/load.js";
import type { Logger } from "../../src/log/logger.js";
import { Service } from "../../src/service.js";
import { crossbarConfig, type CrossbarConfigOptions, type DynamicAuthMethod } from "../../devstack/crossbarConfig.js";
import { startCrossbar, type CrossbarHandle } from "../../devstack/crossbarProcess.js";
import { freePort } from "../../devstack/ports.js";
import { removeTempDir, tempDir } from "../../devstack/tempDirs.js";
import { freshStore, quietLog, type TestStore } from "./db.js";

export interface StackOptions {
  /** App realms and the roles Crossbar should know; every role is put under wamp-authd's authorizer. */
  realms: Record<string, string[]>;
  /** Roles with Crossbar static permissions (not under wamp-authd's authorizer), per realm. */
  staticRoles?: Record<string, Array<{ name: string; permissions: unknown[] }>>;
  methods?: DynamicAuthMethod[];
  /** Extra Crossbar options (TLS transport, extra transports). */
  crossbar?: Partial<CrossbarConfigOptions>;
  /** Config values for the service (deep-merged over the stack's). */
  service?: Record<string, unknown>;
  /** Start the service before Crossbar (to test that it keeps retrying). */
  serviceFirst?: boolean;
  /** Logger for the services (default: quiet); tests that inspect logs pass their own. */
  log?: Logger;
}

export interface Stack {
  store: TestStore;
  crossbar: CrossbarHandle | null;
  service: Service | null;
  wsUrl: string;
  socketPath: string;
  config: Config;
  crossbarConfig: Record<string, unknown>;
  startCrossbar(): Promise<CrossbarHandle>;
  startService(values?: Record<string, unknown>, log?: Logger): Promise<Service>;
  /** Waits until the service has registered in every realm. */
  ready(service?: Service, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** A real Postgres database, a real Crossbar and a real wamp-authd, wired together. */
export async function startStack(o: StackOptions): Promise<Stack> {
  const store = await freshStore();
  const dir = tempDir("stack");
  const socketPath = join(dir, "authd.sock");
  const wsPort = await freePort();
  const cbConfig = crossbarConfig({
    socketPath,
    wsPort,
    methods: o.methods ?? ["ticket"],
    realms: Object.entries(o.realms).map(([name, roles]) => ({
      name,
      roles: [...roles.map((r) => ({ name: r, authorizer: "authd.authorize" })), ...(o.staticRoles?.[name] ?? [])],
    })),
    ...o.crossbar,
  });
  const services: Service[] = [];
  const baseValues = {
    database: { url: store.url },
    router: { url: `rawsocket+unix://${socketPath}`, authRealm: "authd", realms: Object.keys(o.realms), maxRetryDelayMs: 500 },
    http: { port: 0 },
    argon2: { memoryCost: 1024, timeCost: 1, parallelism: 1 },
    log: { level: process.env.TEST_LOG_LEVEL ?? "silent" },
    // Every client of a test comes from 127.0.0.1: a per-address lockout after the production
    // default of 20 failures, or the per-address limit of logins in flight, would couple unrelated
    // tests. Throttle and storm tests set their own.
    throttle: { accountThreshold: 50, peerThreshold: 10000, peerInFlight: 10000 },
  };
  const config = loadConfig({ env: {}, values: merge(baseValues, o.service ?? {}) });
  const stack: Stack = {
    store,
    crossbar: null,
    service: null,
    wsUrl: `ws://127.0.0.1:${wsPort}/ws`,
    socketPath,
    config,
    crossbarConfig: cbConfig,
    async startCrossbar() {
      stack.crossbar = await startCrossbar(cbConfig, { dir: join(dir, "cb") });
      return stack.crossbar;
    },
    async startService(values = {}, log = o.log ?? quietLog) {
      const cfg = loadConfig({ env: {}, values: merge(merge(baseValues, o.service ?? {}), values) });
      const service = new Service(cfg, log);
      // A service that fails half-way (e.g. its HTTP port taken) must not keep retrying in the background.
      await service.start().catch(async (err: unknown) => {
        await service.stop().catch(() => undefined);
        throw err;
      });
      services.push(service);
      stack.service ??= service;
      return service;
    },
    async ready(service = stack.service ?? undefined, timeoutMs = 20000) {
      const until = Date.now() + timeoutMs;
      while (!service?.link.isReady()) {
        if (Date.now() > until) throw new Error("wamp-authd did not register in every realm in time");
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async stop() {
      for (const s of services) await s.stop().catch(() => undefined);
      await stack.crossbar?.stop().catch(() => undefined);
      await store.close();
      await removeTempDir(dir);
    },
  };
  if (o.serviceFirst) {
    await stack.startService();
  } else {
    await stack.startCrossbar();
    await stack.startService();
    await stack.ready();
  }
  return stack;
}

function merge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const cur = out[k];
    out[k] =
      v && typeof v === "object" && !Array.isArray(v) && cur && typeof cur === "object" && !Array.isArray(cur)
        ? merge(cur as Record<string, unknown>, v as Record<string, unknown>)
        : v;
  }
  return out;
}
