/**
 * Part "tokens": JWT and API token logins through a real Crossbar, side by side with Crossbar's own
 * static ticket logins (a static `ticket` principal: a plain compare in the router, no hashing) and
 * with a no-op dynamic authenticator (what any dynamic authenticator costs the router), on the same
 * machine, in interleaved rounds; and the cost of verifying a token inside the service, in process.
 */
import { join } from "node:path";
import { importJWK, jwtVerify, type JWK } from "jose";
import type pg from "pg";
import { loadTokenKeys, parseToken } from "../src/auth/tokens/apiTokens.js";
import { createToken, addIssuer } from "../src/admin/tokens.js";
import { createAuthenticator } from "../src/auth/createAuthenticator.js";
import { loadConfig } from "../src/config/load.js";
import { crossbarConfig } from "../devstack/crossbarConfig.js";
import { startCrossbar } from "../devstack/crossbarProcess.js";
import { removeTempDir, tempDir } from "../devstack/tempDirs.js";
import { freePort } from "../devstack/ports.js";
import { createLogger } from "../src/log/logger.js";
import * as admin from "../src/store/adminQueries.js";
import { connect } from "../test/helpers/client.js";
import { signingKey, startIdp, TOKENS_KEY } from "../test/helpers/idp.js";
import { forkChild } from "./child.js";
import { cpuDiff, cpuSnapshot } from "./cpu.js";
import { closedLoop, median, Samples } from "./stats.js";

const REALM = "tokbench";
const STATIC_TICKET = "static-bench-ticket";

export type TokenScenarioKey = "static" | "noop" | "jwt" | "api";

export interface TokenScenario {
  key: TokenScenarioKey;
  title: string;
  loginsPerSec: number;
  p50ms: number;
  p99ms: number;
  errors: number;
  rounds: number[];
  /** CPU per login, µs, by process group. */
  cpuUsPerLogin: Record<string, number>;
}

export interface InProcessRow {
  what: string;
  p50us: number;
  p99us: number;
  perSec: number;
}

export interface TokenBenchResult {
  scenarios: TokenScenario[];
  /** Median over rounds of JWT logins/s ÷ static ticket logins/s. */
  jwtRatio: number;
  apiRatio: number;
  /** The same for the no-op dynamic authenticator: the most any dynamic authenticator can reach. */
  noopRatio: number;
  inProcess: InProcessRow[];
}

export interface TokenBenchParams {
  concurrency: number;
  rounds: number;
  roundMs: number;
  warmupMs: number;
  inProcessRuns: number;
}

const TITLES: Record<TokenScenarioKey, string> = {
  static: "floor: Crossbar static ticket logins (plain compare)",
  noop: "floor: no-op dynamic authenticator (answers at once)",
  jwt: "JWT (RS256) logins, wamp-authd",
  api: "API token logins, wamp-authd",
};

export async function runTokenBench(pool: pg.Pool, dbUrl: string, o: TokenBenchParams): Promise<TokenBenchResult> {
  const log = createLogger("silent");
  const config = loadConfig({ env: {}, values: { database: { url: dbUrl }, tokens: { key: TOKENS_KEY } } });
  const ctx = { pool, config, actor: "bench" };
  const idp = await startIdp();
  const key = await signingKey("RS256");
  idp.keys = [key];
  await admin.addRealm(pool, REALM);
  await admin.addRole(pool, REALM, "user");
  const users = Math.max(1, o.concurrency);
  for (let i = 0; i < users; i++) await admin.addUser(pool, { realm: REALM, authid: `u${i}`, role: "user" });
  await addIssuer(ctx, { realm: REALM, name: "idp", iss: idp.issuer, audiences: ["wamp"], jwksUrl: idp.url, algorithms: ["RS256"] });
  const jwts = await Promise.all(Array.from({ length: users }, (_, i) => idp.sign(key, { sub: `u${i}` }, { expiresIn: 3600 })));
  const apiTokens: string[] = [];
  for (let i = 0; i < users; i++) apiTokens.push((await createToken(ctx, REALM, `u${i}`, { name: "bench", expires: "1d" })).token);

  const dir = tempDir("tokbench");
  const socketPath = join(dir, "authd.sock");
  const [wsPort, staticPort, noopPort] = [await freePort(), await freePort(), await freePort()];
  const principals = Object.fromEntries(Array.from({ length: users }, (_, i) => [`s${i}`, { ticket: STATIC_TICKET, role: "user" }]));
  const cfg = crossbarConfig({
    socketPath,
    wsPort,
    methods: ["ticket"],
    realms: [{ name: REALM, roles: [{ name: "user", authorizer: "authd.authorize" }] }],
    extraTransports: [
      {
        type: "web",
        endpoint: { type: "tcp", port: staticPort, interface: "127.0.0.1" },
        paths: { ws: { type: "websocket", serializers: ["json", "msgpack", "cbor"], auth: { ticket: { type: "static", principals } } } },
      },
      {
        type: "web",
        endpoint: { type: "tcp", port: noopPort, interface: "127.0.0.1" },
        paths: {
          ws: {
            type: "websocket",
            serializers: ["json", "msgpack", "cbor"],
            auth: { ticket: { type: "dynamic", authenticator: "bench.noop_authenticate", "authenticator-realm": "authd" } },
          },
        },
      },
    ],
  });
  // The no-op authenticator registers in the authenticator realm under the service's static role.
  const authRealm = (cfg.workers as Array<{ realms: Array<{ name: string; roles: Array<{ permissions: unknown[] }> }> }>)[0]!.realms.find(
    (r) => r.name === "authd",
  )!;
  authRealm.roles[0]!.permissions.push({
    uri: "bench.noop_authenticate",
    match: "exact",
    allow: { call: false, register: true, publish: false, subscribe: false },
    disclose: { caller: false, publisher: false },
    cache: true,
  });
  const crossbar = await startCrossbar(cfg, { dir: join(dir, "cb") });
  const noop = forkChild("calleeProcess.js", [socketPath, "authd", "authenticate"]);
  const service = forkChild("serviceProcess.js", [
    JSON.stringify({
      database: { url: dbUrl },
      router: { url: `rawsocket+unix://${socketPath}`, authRealm: "authd", realms: [REALM], maxRetryDelayMs: 500 },
      http: { port: 0 },
      tokens: { key: TOKENS_KEY },
      log: { level: process.env.BENCH_LOG_LEVEL ?? "warn" },
    }),
  ]);
  try {
    await service.next("ready");
    await noop.next("ready");
    const dyn = `ws://127.0.0.1:${wsPort}/ws`;
    const stat = `ws://127.0.0.1:${staticPort}/ws`;
    const noopUrl = `ws://127.0.0.1:${noopPort}/ws`;
    let n = 0;
    const loginOnce = async (url: string, ticket: string, authid?: string) => {
      const c = await connect({
        url,
        realm: REALM,
        authmethods: ["ticket"],
        ...(authid ? { authid } : {}),
        onchallenge: () => ticket,
        timeoutMs: 30_000,
      });
      c.close();
    };
    const callers: Record<TokenScenarioKey, () => Promise<unknown>> = {
      static: () => {
        const i = n++ % users;
        return loginOnce(stat, STATIC_TICKET, `s${i}`);
      },
      noop: () => loginOnce(noopUrl, STATIC_TICKET, `s${n++ % users}`),
      jwt: () => loginOnce(dyn, jwts[n++ % users]!),
      api: () => loginOnce(dyn, apiTokens[n++ % users]!),
    };
    const keys: TokenScenarioKey[] = ["static", "noop", "jwt", "api"];
    for (const k of keys) await closedLoop([callers[k]], o.concurrency, o.warmupMs, new Samples());
    interface Acc {
      samples: Samples;
      logins: number;
      seconds: number;
      errors: number;
      rounds: number[];
      cpu: Record<string, number>;
    }
    const acc = new Map<TokenScenarioKey, Acc>(
      keys.map((k) => [k, { samples: new Samples(), logins: 0, seconds: 0, errors: 0, rounds: [], cpu: {} }]),
    );
    const groups = { crossbarPgid: crossbar.pid, servicePid: service.proc.pid!, calleePid: noop.proc.pid!, pyPids: [] };
    for (let r = 0; r < o.rounds; r++) {
      for (let j = 0; j < keys.length; j++) {
        const k = keys[(r + j) % keys.length]!;
        const a = acc.get(k)!;
        const cpu0 = cpuSnapshot(groups);
        const res = await closedLoop([callers[k]], o.concurrency, o.roundMs, a.samples);
        for (const [g, v] of Object.entries(cpuDiff(cpu0, cpuSnapshot(groups), 1))) a.cpu[g] = (a.cpu[g] ?? 0) + v;
        a.logins += res.calls;
        a.seconds += res.seconds;
        a.errors += res.errors;
        a.rounds.push(res.calls / res.seconds);
      }
    }
    const scenarios = keys.map((k): TokenScenario => {
      const a = acc.get(k)!;
      const s = a.samples.summary();
      const cpuUsPerLogin: Record<string, number> = {};
      for (const g of ["crossbar", "service", "callee", "clients", "postgres"])
        cpuUsPerLogin[g] = Math.round(((a.cpu[g] ?? 0) / a.logins) * 1e6);
      return {
        key: k,
        title: TITLES[k],
        loginsPerSec: a.logins / a.seconds,
        p50ms: s.p50,
        p99ms: s.p99,
        errors: a.errors,
        rounds: a.rounds,
        cpuUsPerLogin,
      };
    });
    const ratio = (k: TokenScenarioKey) => {
      const base = acc.get("static")!.rounds;
      return median(acc.get(k)!.rounds.map((x, i) => x / base[i]!));
    };
    const inProcess = await verifyCost(pool, config, log, jwts, apiTokens, o.inProcessRuns);
    inProcess.push(...(await cryptoCost(key.publicJwk, idp.issuer, jwts[0]!, apiTokens[0]!, o.inProcessRuns)));
    return { scenarios, jwtRatio: ratio("jwt"), apiRatio: ratio("api"), noopRatio: ratio("noop"), inProcess };
  } finally {
    await service.stop().catch(() => undefined);
    await noop.stop().catch(() => undefined);
    await crossbar.stop().catch(() => undefined);
    await idp.close();
    await removeTempDir(dir);
  }
}

/** The signature / HMAC check alone, without the store. */
async function cryptoCost(jwk: JWK, iss: string, jwt: string, apiToken: string, runs: number): Promise<InProcessRow[]> {
  const pub = await importJWK(jwk, "RS256");
  const keys = loadTokenKeys({ key: TOKENS_KEY, keyFile: "" })!;
  const parsed = parseToken(apiToken)!;
  const { keyId, hash } = keys.hash(parsed.id, parsed.secret);
  const rows: InProcessRow[] = [];
  const time = async (what: string, fn: () => unknown) => {
    for (let i = 0; i < 100; i++) await fn();
    const s = new Samples();
    const t0 = performance.now();
    for (let i = 0; i < runs; i++) {
      const t = performance.now();
      await fn();
      s.add((performance.now() - t) * 1000);
    }
    const sum = s.summary();
    rows.push({ what, p50us: sum.p50, p99us: sum.p99, perSec: runs / ((performance.now() - t0) / 1000) });
  };
  await time("JWT RS256 signature + claims check alone (jose)", () =>
    jwtVerify(jwt, pub, { issuer: iss, audience: "wamp", algorithms: ["RS256"] }),
  );
  await time("API token HMAC-SHA256 check alone", () => keys.verify(keyId, parsed.id, parsed.secret, hash));
  return rows;
}

/** The ticket method's whole token path (verify + store lookups + session row), one login at a time, in process. */
async function verifyCost(
  pool: pg.Pool,
  config: ReturnType<typeof loadConfig>,
  log: ReturnType<typeof createLogger>,
  jwts: string[],
  apiTokens: string[],
  runs: number,
): Promise<InProcessRow[]> {
  const { authenticator, issuers } = await createAuthenticator({ config, pool, log, roleExists: () => true, realmRoles: () => ["user"] });
  let session = 1;
  const args = (ticket: string) => [
    REALM,
    null,
    { authmethod: "ticket", ticket, session: session++, transport: { peer: "tcp4:127.0.0.1:1" } },
  ];
  const rows: InProcessRow[] = [];
  for (const [what, tickets] of [
    ["JWT RS256 verify + user lookup (in process)", jwts],
    ["API token HMAC verify + token lookup (in process)", apiTokens],
  ] as const) {
    for (let i = 0; i < 50; i++) await authenticator.authenticate(args(tickets[i % tickets.length]!));
    const s = new Samples();
    const t0 = performance.now();
    for (let i = 0; i < runs; i++) {
      const t = performance.now();
      await authenticator.authenticate(args(tickets[i % tickets.length]!));
      s.add((performance.now() - t) * 1000);
    }
    const sum = s.summary();
    rows.push({ what, p50us: sum.p50, p99us: sum.p99, perSec: runs / ((performance.now() - t0) / 1000) });
  }
  issuers.stop();
  return rows;
}
