import convict from "convict";
import { readFileSync } from "node:fs";
import { extname } from "node:path";
import { parse as parseYaml } from "yaml";
import { registerFormats } from "./formats.js";
import { schema } from "./schema.js";
import { AuthdError } from "../errors/base.js";

export interface Config {
  database: { url: string; poolMax: number; listenKeepaliveMs: number; listenKeepaliveDeadlineMs: number };
  router: {
    url: string;
    serializer: "json" | "msgpack";
    authRealm: string;
    realms: string[];
    authmethod: "anonymous" | "ticket" | "cryptosign";
    authid: string;
    ticket: string;
    keyFile: string;
    maxRetryDelayMs: number;
    registrationCheckMs: number;
  };
  procedures: { authenticate: string; authorize: string; perMethod: boolean; userPrefix: string };
  log: { level: string };
  http: { port: number; host: string };
  argon2: { memoryCost: number; timeCost: number; parallelism: number; concurrency: number; maxQueued: number; threadNice: number };
  throttle: {
    enabled: boolean;
    accountThreshold: number;
    peerThreshold: number;
    windowMs: number;
    baseLockMs: number;
    maxLockMs: number;
    trustedProxyHeader: string;
    trustedProxyHops: number;
    ipv6PrefixLength: number;
    peerInFlight: number;
    proofTimeoutMs: number;
    unknownAccountBuckets: number;
  };
  audit: { enabled: boolean; retentionDays: number; rollupWindowMs: number };
  authorize: { whenStoreDown: "serve-stale" | "fail-closed"; sessionCacheMax: number; strictUris: boolean };
  cra: { secretMode: "plain" | "derived"; keyFile: string; key: string; onPasswd: boolean };
  scram: { iterations: number; memory: number };
  tokens: {
    maxTicketLength: number;
    keyFile: string;
    key: string;
    deviceTickets: boolean;
    deviceTtlSeconds: number;
    deviceMaxPerUser: number;
    lastUsedIntervalMs: number;
    sweepMs: number;
    reconcileMs: number;
    jwksRefreshMs: number;
    jwksCooldownMs: number;
    jwksTimeoutMs: number;
  };
  deadlineMs: number;
}

/** Keys that once existed: named with what to do instead of convict's generic "not declared". */
const REMOVED: Record<string, { env: string; why: string }> = {
  reloadOnStart: { env: "AUTHD_RELOAD_ON_START", why: "the permission index is always loaded before the authorizer registers" },
};

export class ConfigError extends AuthdError {
  readonly code = "CONFIG_INVALID";
}

let formatsRegistered = false;

export interface LoadOptions {
  file?: string | undefined;
  env?: NodeJS.ProcessEnv;
  args?: string[];
  /** Extra values (highest precedence below flags), used by tests and the dev stack. */
  values?: Record<string, unknown>;
}

/** Loads and strictly validates the configuration; any problem is one ConfigError naming the key. */
export function loadConfig(opts: LoadOptions = {}): Config {
  if (!formatsRegistered) {
    registerFormats();
    formatsRegistered = true;
  }
  const env = opts.env ?? process.env;
  for (const [key, r] of Object.entries(REMOVED)) {
    if (env[r.env] !== undefined) throw new ConfigError(`${r.env} (${key}) was removed: ${r.why}; unset it`);
  }
  const conf = convict(schema as never, { env, args: opts.args ?? [] });
  try {
    const file = opts.file ?? env.AUTHD_CONFIG;
    if (file) {
      const values = readConfigFile(file);
      for (const [key, r] of Object.entries(REMOVED)) {
        if (key in values) throw new ConfigError(`${key} was removed: ${r.why}; delete it from ${file}`);
      }
      conf.load(values);
    }
    // convict re-applies env and flags after every load, so they beat file values.
    if (opts.values) conf.load(opts.values);
    conf.validate({ allowed: "strict" });
  } catch (err) {
    throw new ConfigError(oneLine(err), { cause: err });
  }
  if (conf.get("router.authmethod" as never) === "ticket" && !conf.get("router.ticket" as never)) {
    throw new ConfigError("router.ticket: must be set when router.authmethod is ticket (AUTHD_ROUTER_TICKET)");
  }
  if (conf.get("router.authmethod" as never) === "cryptosign" && !conf.get("router.keyFile" as never)) {
    throw new ConfigError("router.keyFile: must be set when router.authmethod is cryptosign");
  }
  return conf.getProperties() as Config;
}

function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new Error(`config file ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
  }
  try {
    const ext = extname(file).toLowerCase();
    const value: unknown = ext === ".yaml" || ext === ".yml" ? parseYaml(text) : JSON.parse(text);
    if (value === null || typeof value !== "object" || Array.isArray(value)) throw new Error("top level must be an object");
    return value as Record<string, unknown>;
  } catch (err) {
    throw new Error(`config file ${file}: ${(err as Error).message}`, { cause: err });
  }
}

function oneLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  // convict joins several problems with newlines; report the first, which names its key.
  return (msg.split("\n").find((l) => l.trim()) ?? msg).trim();
}
