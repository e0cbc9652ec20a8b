/**
 * The authenticator (built by the same createAuthenticator() the service uses: real methods, real
 * Postgres store, real throttle) and the authorizer, called in process: for fuzzing, timing and
 * throttle tests that need many calls or synthetic transport details (peers, proxy headers) a real
 * client cannot fake.
 */
import type pg from "pg";
import { AuditRecorder } from "../../src/audit/recorder.js";
import type { Authenticator, AuthOutcome } from "../../src/auth/authenticator.js";
import { createAuthenticator } from "../../src/auth/createAuthenticator.js";
import { AuthError } from "../../src/errors/authErrors.js";
import type { ProofTracker } from "../../src/auth/proofTracker.js";
import { PasswordHasher, type Argon2Params } from "../../src/auth/passwords.js";
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
  /** The audit recorder, when asked for (opts.audit). */
  audit: AuditRecorder | null;
  /** Router-checked answers awaiting a join (none comes in process: each one fails after throttle.proofTimeoutMs). */
  proofs: ProofTracker;
  reload(): Promise<void>;
  close(): Promise<void>;
}

export const CHEAP_ARGON2: Argon2Params = { memoryCost: 1024, timeCost: 1, parallelism: 1 };

export async function inProcess(
  url: string,
  values: Record<string, unknown> = {},
  opts: { keepOutcomes?: boolean; audit?: boolean; watching?: (realm: string) => number | null; onOutcome?: (o: AuthOutcome) => void } = {},
): Promise<InProcess> {
  const config = loadConfig({
    env: {},
    values: { database: { url }, argon2: CHEAP_ARGON2, log: { level: "silent" }, http: { port: 0 }, ...values },
  });
  const pool = createPool(url, quietLog, config.database.poolMax, { statementTimeoutMs: config.deadlineMs + 2000 });
  let index = PermissionIndex.build(roleRules(await loadPermissions(pool)));
  const hasher = new CountingHasher(config.argon2, { concurrency: config.argon2.concurrency, maxQueued: config.argon2.maxQueued });
  const outcomes: AuthOutcome[] = [];
  const audit = opts.audit
    ? new AuditRecorder(pool, quietLog, { rollupWindowMs: config.audit.rollupWindowMs, knownRealm: (r) => index.hasRealm(r) })
    : null;
  const { authenticator, proofs } = await createAuthenticator({
    config,
    pool,
    log: quietLog,
    hasher,
    roleExists: (realm, role) => index.hasRole(realm, role),
    realmRoles: (realm) => index.roles(realm),
    // As if every realm were watched: answers of router-checked methods await a join (which never comes here).
    watching: opts.watching ?? (() => 0),
    onProofFailed: (f) => audit?.proofFailed(f),
    onOutcome: (o) => {
      if (opts.keepOutcomes) outcomes.push(o);
      opts.onOutcome?.(o);
      audit?.login(o);
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
    audit,
    proofs,
    async reload() {
      index = PermissionIndex.build(roleRules(await loadPermissions(pool)));
    },
    async close() {
      proofs.stop();
      await audit?.stop();
      await pool.end();
    },
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

/** The AuthError an in-process authenticate call was refused with; anything else fails the test. */
export async function denialOf(p: Promise<unknown>): Promise<AuthError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof AuthError) return err;
    throw err;
  }
  throw new Error("expected a denial");
}
