/**
 * The authenticator and authorizer wired as Service wires them (real methods, real Postgres store,
 * real throttle), but called in process: for fuzzing, timing and throttle tests that need many
 * calls or synthetic transport details (peers, proxy headers) a real client cannot fake.
 */
import type pg from "pg";
import { Authenticator, type AuthOutcome } from "../../src/auth/authenticator.js";
import { PasswordHasher, type Argon2Params } from "../../src/auth/passwords.js";
import { loadMethods } from "../../src/auth/registry.js";
import { PostgresThrottle } from "../../src/auth/throttle.js";
import { Authorizer } from "../../src/authorize/authorizer.js";
import { PermissionIndex } from "../../src/authorize/permissionIndex.js";
import { ReservedUris } from "../../src/authorize/reserved.js";
import { loadConfig, type Config } from "../../src/config/load.js";
import { createPool } from "../../src/store/pool.js";
import { roleRules } from "../../src/store/permissionRules.js";
import { loadPermissions } from "../../src/store/queries.js";
import { quietLog } from "./db.js";

/** Counts argon2 work, so a test can tell whether an attempt cost a KDF computation. */
export class CountingHasher extends PasswordHasher {
  kdfCalls = 0;
  maxInFlight = 0;

  override async verify(phc: string, password: string): Promise<boolean> {
    this.kdfCalls++;
    return super.verify(phc, password);
  }

  override hash(password: string): Promise<string> {
    this.kdfCalls++;
    return super.hash(password);
  }
}

export interface InProcess {
  config: Config;
  pool: pg.Pool;
  hasher: CountingHasher;
  authenticator: Authenticator;
  authorizer: Authorizer;
  index: () => PermissionIndex;
  outcomes: AuthOutcome[];
  reload(): Promise<void>;
  close(): Promise<void>;
}

export const CHEAP_ARGON2: Argon2Params = { memoryCost: 1024, timeCost: 1, parallelism: 1 };

export async function inProcess(
  url: string,
  values: Record<string, unknown> = {},
  opts: { keepOutcomes?: boolean } = {},
): Promise<InProcess> {
  const config = loadConfig({
    env: {},
    values: { database: { url }, argon2: CHEAP_ARGON2, log: { level: "silent" }, http: { port: 0 }, ...values },
  });
  const pool = createPool(url, quietLog, config.database.poolMax, { statementTimeoutMs: config.deadlineMs + 2000 });
  let index = PermissionIndex.build(roleRules(await loadPermissions(pool)));
  const hasher = new CountingHasher(config.argon2, config.argon2.concurrency);
  const outcomes: AuthOutcome[] = [];
  const authenticator = new Authenticator({
    methods: await loadMethods(),
    ctx: { pool, passwords: hasher, config, log: quietLog },
    roleExists: (realm, role) => index.hasRole(realm, role),
    deadlineMs: config.deadlineMs,
    log: quietLog,
    ...(config.throttle.enabled ? { guard: new PostgresThrottle(pool, config.throttle, quietLog) } : {}),
    onOutcome: (o) => {
      if (opts.keepOutcomes) outcomes.push(o);
    },
  });
  const authorizer = new Authorizer({ index: () => index, reserved: ReservedUris.forProcedures(config.procedures), log: quietLog });
  return {
    config,
    pool,
    hasher,
    authenticator,
    authorizer,
    index: () => index,
    outcomes,
    async reload() {
      index = PermissionIndex.build(roleRules(await loadPermissions(pool)));
    },
    close: () => pool.end(),
  };
}

/** Crossbar's details for a ticket login from `peer`, optionally with HTTP headers. */
export function ticketDetails(ticket: string, peer = "tcp4:203.0.113.7:40000", headers?: Record<string, string>): Record<string, unknown> {
  return {
    authmethod: "ticket",
    ticket,
    session: 1234,
    authextra: {},
    transport: { type: "websocket", peer, ...(headers ? { http_headers_received: headers } : {}) },
  };
}
