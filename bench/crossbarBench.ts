/**
 * Rows 1-3 and 6: calls and logins through a real Crossbar, with a real wamp-authd (forked) on the
 * privileged unix-socket transport and a wamp-authd-like callee (forked) registering the no-op.
 */
import argon2 from "argon2";
import { spawn, type ChildProcess } from "node:child_process";
import { availableParallelism } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type pg from "pg";
import { loadConfig } from "../src/config/load.js";
import { crossbarConfig } from "../devstack/crossbarConfig.js";
import { findCrossbar, startCrossbar, type CrossbarHandle } from "../devstack/crossbarProcess.js";
import { freePort } from "../devstack/ports.js";
import * as admin from "../src/store/adminQueries.js";
import { connect, type Joined } from "../test/helpers/client.js";
import { forkChild, type Child } from "./child.js";
import { cpuDiff, cpuSnapshot } from "./cpu.js";
import { ruleSet } from "./rules.js";
import { closedLoop, describe, median, Samples, sleep } from "./stats.js";
import { removeTempDir, tempDir } from "../devstack/tempDirs.js";

export const REALM = "bench";
export const TICKET = "bench-ticket-secret";
const PROCEDURE = "bench.noop";

/** The scenarios of rows 1-3, each a role in the bench realm. */
export const SCENARIOS = [
  { key: "static", title: "floor: static permissions, cache false", authorizer: null },
  { key: "staticc", title: "static permissions, cache true", authorizer: null },
  { key: "noopauthz", title: "floor: no-op dynamic authorizer", authorizer: "bench.noop_authorize" },
  { key: "dyn", title: "wamp-authd authorizer, cache false", authorizer: "authd.authorize" },
  {
    key: "dynt",
    title: "wamp-authd authorizer, cache false, decided by a template (user and group rules on)",
    authorizer: "authd.authorize",
  },
  { key: "dync", title: "wamp-authd authorizer, cache true", authorizer: "authd.authorize" },
  { key: "dynmp", title: "wamp-authd authorizer, cache false, msgpack link", authorizer: "authd.authorize_mp" },
  { key: "pyjson", title: "no-op authorizer, autobahn-python, json", authorizer: "bench.noop_authorize_json" },
  { key: "pymsgpack", title: "no-op authorizer, autobahn-python, msgpack", authorizer: "bench.noop_authorize_msgpack" },
] as const;
export type ScenarioKey = (typeof SCENARIOS)[number]["key"];

/** The rules every scenario's role has: the benchmark procedure plus filler of every kind. */
function benchRules(): Array<{ uri: string; match: "exact" | "prefix" | "wildcard" }> {
  return [{ uri: PROCEDURE, match: "exact" }, ...ruleSet(9, "f")];
}

function staticPermissions(cache: boolean): unknown[] {
  return benchRules().map((r) => ({
    uri: r.uri,
    match: r.match,
    allow: { call: true, register: false, publish: false, subscribe: true },
    disclose: { caller: false, publisher: false },
    cache,
  }));
}

export interface CrossbarStack {
  crossbar: CrossbarHandle;
  socketPath: string;
  wsUrl: string;
  callee: Child;
  /** autobahn-python no-op authorizers: json, msgpack */
  pyAuthorizers: ChildProcess[];
  service: Child | null;
  startService(
    dbUrl: string,
    extra?: Record<string, unknown>,
    router?: Record<string, unknown>,
  ): Promise<{ child: Child; readyMs: number; startMs: number }>;
  /** A second service on the msgpack link, answering authd.authorize_mp (the dynmp scenario). */
  serviceMp: Child | null;
  stop(): Promise<void>;
}

export async function startCrossbarStack(): Promise<CrossbarStack> {
  const dir = tempDir("bench");
  const socketPath = join(dir, "authd.sock");
  const wsPort = await freePort();
  const cfg = crossbarConfig({
    socketPath,
    wsPort,
    methods: ["ticket"],
    realms: [
      {
        name: REALM,
        roles: SCENARIOS.map((s) =>
          s.authorizer ? { name: s.key, authorizer: s.authorizer } : { name: s.key, permissions: staticPermissions(s.key === "staticc") },
        ),
      },
    ],
  });
  // The service role also hosts the floor's callee in the bench realm: let it register there.
  const realms = (cfg.workers as Array<{ realms: Array<{ name: string; roles: Array<{ permissions: unknown[] }> }> }>)[0]!.realms;
  const serviceRole = realms.find((r) => r.name === REALM)!.roles[0]!;
  // The python authorizers speak msgpack or json on the privileged transport (autobahn-js: json only).
  (cfg.workers as Array<{ transports: Array<{ serializers?: string[] }> }>)[0]!.transports[0]!.serializers = ["json", "msgpack"];
  for (const uri of [
    PROCEDURE,
    "bench.noop_authorize",
    "bench.noop_authorize_json",
    "bench.noop_authorize_msgpack",
    "authd.authorize_mp",
  ]) {
    serviceRole.permissions.push({
      uri,
      match: "exact",
      allow: { call: false, register: true, publish: false, subscribe: false },
      disclose: { caller: false, publisher: false },
      cache: true,
    });
  }
  const crossbar = await startCrossbar(cfg, { dir: join(dir, "cb") });
  const callee = forkChild("calleeProcess.js", [socketPath, REALM]);
  await callee.next("ready");
  const python = join(dirname(await findCrossbar()), "python");
  const pyAuthorizers = await Promise.all(["json", "msgpack"].map((ser) => startPyAuthorizer(python, socketPath, ser)));
  const stack: CrossbarStack = {
    crossbar,
    socketPath,
    wsUrl: `ws://127.0.0.1:${wsPort}/ws`,
    callee,
    pyAuthorizers,
    service: null,
    serviceMp: null,
    async startService(dbUrl, extra = {}, router = {}) {
      const values = {
        database: { url: dbUrl },
        router: { url: `rawsocket+unix://${socketPath}`, authRealm: "authd", realms: [REALM], maxRetryDelayMs: 500, ...router },
        http: { port: 0 },
        log: { level: process.env.BENCH_LOG_LEVEL ?? "warn" },
        ...extra,
      };
      const child = forkChild("serviceProcess.js", [JSON.stringify(values)]);
      if (!("serializer" in router)) stack.service = child;
      const ready = await child.next<{ readyMs: number; startMs: number }>("ready");
      return { child, readyMs: ready.readyMs, startMs: ready.startMs };
    },
    async stop() {
      await stack.service?.stop().catch(() => undefined);
      await stack.serviceMp?.stop().catch(() => undefined);
      await callee.stop().catch(() => undefined);
      for (const p of pyAuthorizers) p.kill("SIGTERM");
      await crossbar.stop();
      await removeTempDir(dir);
    },
  };
  return stack;
}

const PY_AUTHORIZER = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "bench", "pyAuthorizer.py");

function startPyAuthorizer(python: string, socketPath: string, serializer: string): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    // stderr is kept for errors only: Crossbar's venv prints harmless NumPy noise on import.
    const p = spawn(python, [PY_AUTHORIZER, socketPath, REALM, serializer], { stdio: ["ignore", "pipe", "pipe"] });
    let err = "";
    p.stderr.on("data", (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
    const timer = setTimeout(() => reject(new Error(`pyAuthorizer ${serializer}: not ready in 30 s\n${err}`)), 30_000);
    let out = "";
    p.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.includes("ready")) {
        clearTimeout(timer);
        resolve(p);
      }
    });
    p.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`pyAuthorizer ${serializer} exited (${code})\n${err}`));
    });
  });
}

/** The default (OWASP) argon2id parameters from the config schema. */
export function owaspParams(): { memoryCost: number; timeCost: number; parallelism: number } {
  const a = loadConfig({ env: {}, values: {} }).argon2;
  return { memoryCost: a.memoryCost, timeCost: a.timeCost, parallelism: a.parallelism };
}

/** Realm, roles, rules and users for rows 1-3 and 6. Every user shares one ticket hash. */
export async function seedCrossbarStore(pool: pg.Pool, phc: string, clientsPerRole: number, stormUsers: number): Promise<void> {
  await admin.addRealm(pool, REALM);
  for (const s of SCENARIOS) {
    await admin.addRole(pool, REALM, s.key);
    if (s.key === "dyn" || s.key === "dync" || s.key === "dynmp") {
      for (const r of benchRules())
        await admin.grant(pool, REALM, s.key, { uri: r.uri, match: r.match, allow: ["call", "subscribe"], cache: s.key === "dync" });
    }
    for (let i = 0; i < clientsPerRole; i++) {
      const id = await admin.addUser(pool, { realm: REALM, authid: `${s.key}${i}`, role: s.key });
      await admin.upsertSecretCredential(pool, id, "ticket", { phc });
    }
  }
  // dynt: the call is decided by a template substituted with the user's stored extra; the users
  // also have a rule of their own and a group with rules, so every piece of a session's overlay is there.
  for (const r of ruleSet(9, "f")) await admin.grant(pool, REALM, "dynt", { uri: r.uri, match: r.match, allow: ["call", "subscribe"] });
  for (const t of ["bench.{extra.fn}", "bench.home.{authid}.", "bench.{authid}..feed"])
    await admin.grant(pool, REALM, "dynt", {
      uri: t,
      match: t.endsWith(".") ? "prefix" : t.includes("..") ? "wildcard" : "exact",
      allow: ["call"],
    });
  await admin.addGroup(pool, REALM, "benchers");
  await admin.grantTo(pool, REALM, { kind: "group", name: "benchers" }, { uri: "bench.group.", match: "prefix", allow: ["call"] });
  for (let i = 0; i < clientsPerRole; i++) {
    await admin.setUserExtra(pool, REALM, `dynt${i}`, { fn: PROCEDURE.slice("bench.".length) });
    await admin.grantTo(pool, REALM, { kind: "user", authid: `dynt${i}` }, { uri: `bench.own.dynt${i}`, match: "exact", allow: ["call"] });
    await admin.addGroupUser(pool, REALM, "benchers", `dynt${i}`);
  }
  for (let i = 0; i < stormUsers; i++) {
    const id = await admin.addUser(pool, { realm: REALM, authid: `storm${i}`, role: "dyn" });
    await admin.upsertSecretCredential(pool, id, "ticket", { phc });
  }
}

function login(wsUrl: string, authid: string): Promise<Joined> {
  return connect({ url: wsUrl, realm: REALM, authmethods: ["ticket"], authid, onchallenge: () => TICKET, timeoutMs: 30_000 });
}

export interface ScenarioResult {
  key: ScenarioKey;
  title: string;
  callsPerSec: number;
  p50ms: number;
  p99ms: number;
  errors: number;
  roundCallsPerSec: number[];
  /** CPU per call, µs, by process group (crossbar, service, callee, clients, postgres). */
  cpuUsPerCall: Record<string, number>;
}

/**
 * Rows 1-3: every scenario gets `rounds` turns of `roundMs`, in rotating order, so slow drifts of a
 * noisy machine hit all scenarios alike; ratios are taken per round and their median reported.
 */
export async function runCallScenarios(
  stack: CrossbarStack,
  o: { clientsPerRole: number; concurrency: number; rounds: number; roundMs: number; warmupMs: number },
): Promise<ScenarioResult[]> {
  const clients = new Map<ScenarioKey, Joined[]>();
  for (const s of SCENARIOS) {
    const list: Joined[] = [];
    for (let i = 0; i < o.clientsPerRole; i++) list.push(await login(stack.wsUrl, `${s.key}${i}`));
    clients.set(s.key, list);
  }
  try {
    const callers = (key: ScenarioKey) => clients.get(key)!.map((c) => () => c.session.call(PROCEDURE));
    // Warm-up (not recorded): JITs, Crossbar's caches, the cached scenario's cache entries.
    for (const s of SCENARIOS) await closedLoop(callers(s.key), o.concurrency, o.warmupMs, new Samples());
    const acc = new Map<
      ScenarioKey,
      { samples: Samples; calls: number; seconds: number; errors: number; rounds: number[]; cpu: Record<string, number> }
    >();
    for (const s of SCENARIOS) acc.set(s.key, { samples: new Samples(), calls: 0, seconds: 0, errors: 0, rounds: [], cpu: {} });
    const groups = {
      crossbarPgid: stack.crossbar.pid,
      servicePid: stack.service!.proc.pid!,
      calleePid: stack.callee.proc.pid!,
      pyPids: stack.pyAuthorizers.map((p) => p.pid!),
      serviceMpPid: stack.serviceMp?.proc.pid,
    };
    for (let r = 0; r < o.rounds; r++) {
      for (let k = 0; k < SCENARIOS.length; k++) {
        const s = SCENARIOS[(r + k) % SCENARIOS.length]!;
        const a = acc.get(s.key)!;
        const cpu0 = cpuSnapshot(groups);
        const res = await closedLoop(callers(s.key), o.concurrency, o.roundMs, a.samples);
        for (const [g, v] of Object.entries(cpuDiff(cpu0, cpuSnapshot(groups), 1))) a.cpu[g] = (a.cpu[g] ?? 0) + v;
        a.calls += res.calls;
        a.seconds += res.seconds;
        a.errors += res.errors;
        a.rounds.push(res.calls / res.seconds);
      }
    }
    return SCENARIOS.map((s) => {
      const a = acc.get(s.key)!;
      const sum = a.samples.summary();
      const cpuUsPerCall: Record<string, number> = {};
      for (const [g, v] of Object.entries(a.cpu)) if (g !== "machine" && g !== "other") cpuUsPerCall[g] = Math.round((v / a.calls) * 1e6);
      return {
        key: s.key,
        title: s.title,
        callsPerSec: a.calls / a.seconds,
        p50ms: sum.p50,
        p99ms: sum.p99,
        errors: a.errors,
        roundCallsPerSec: a.rounds,
        cpuUsPerCall,
      };
    });
  } finally {
    for (const list of clients.values()) for (const c of list) c.close();
  }
}

/** Median over rounds of a/b per round. */
export function roundRatio(results: ScenarioResult[], a: ScenarioKey, b: ScenarioKey): number {
  const ra = results.find((r) => r.key === a)!.roundCallsPerSec;
  const rb = results.find((r) => r.key === b)!.roundCallsPerSec;
  return median(ra.map((x, i) => x / (rb[i] as number)));
}

export interface StormResult {
  /** argon2.threadNice of the service in these rounds. */
  threadNice: number;
  cores: number;
  hashMs: number;
  hashRatePerSec: number;
  logins: number;
  loginErrors: number;
  seconds: number;
  loginsPerSec: number;
  ratioToHashRate: number;
  loginP50ms: number;
  loginP99ms: number;
  concurrentLogins: number;
  quietCall: { p50ms: number; p99ms: number; calls: number };
  stormCall: { p50ms: number; p99ms: number; calls: number };
  servicePeakRss: number;
  /** Cores used per process group during the storm windows. */
  cpu: Record<string, number>;
  firstError: string | null;
}

/** Time of one argon2id verification with the OWASP parameters (median of several, one at a time). */
export async function singleHashMs(runs: number): Promise<number> {
  const phc = await argon2.hash(TICKET, { type: argon2.argon2id, ...owaspParams() });
  await argon2.verify(phc, TICKET);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await argon2.verify(phc, TICKET);
    times.push(performance.now() - t);
  }
  return median(times);
}

interface StormAcc {
  logins: number;
  loginErrors: number;
  seconds: number;
  loginTimes: Samples;
  quiet: Samples;
  quietCalls: number;
  storm: Samples;
  stormCalls: number;
  cpuSeconds: Record<string, number>;
  peak: number;
  firstError: string | null;
}

/**
 * Row 6: `concurrent` login loops (ticket, OWASP argon2id) through Crossbar, while one client keeps
 * calling the authorized no-op (dynamic authorizer, cache false), one call at a time. Alternates the
 * service's argon2.threadNice between rounds (A B B A ...), restarting the service for each round.
 */
export async function runLoginStorm(
  stack: CrossbarStack,
  dbUrl: string,
  o: { concurrent: number; roundMs: number; rounds: number; quietMs: number; hashRuns: number; nices: number[] },
): Promise<StormResult[]> {
  const cores = availableParallelism();
  const hashMs = await singleHashMs(o.hashRuns);
  const acc = new Map<number, StormAcc>();
  for (const n of o.nices) {
    acc.set(n, {
      logins: 0,
      loginErrors: 0,
      seconds: 0,
      loginTimes: new Samples(),
      quiet: new Samples(),
      quietCalls: 0,
      storm: new Samples(),
      stormCalls: 0,
      cpuSeconds: {},
      peak: 0,
      firstError: null,
    });
  }
  for (let r = 0; r < o.rounds; r++) {
    // A B B A: each variant sees early and late rounds alike.
    const nice = o.nices[(r % 4 === 0 || r % 4 === 3 ? 0 : 1) % o.nices.length]!;
    const a = acc.get(nice)!;
    await stack.service?.stop();
    // Every loop comes from 127.0.0.1: the per-address limit of logins in flight is off, this row
    // measures hashing throughput (runLoginBurst measures the limits).
    await stack.startService(dbUrl, { argon2: { threadNice: nice }, throttle: { peerInFlight: 0 } });
    await stormRound(stack, o, a);
  }
  const rate = cores / (hashMs / 1000);
  return o.nices.map((nice) => {
    const a = acc.get(nice)!;
    const q = a.quiet.summary();
    const s = a.storm.summary();
    const lt = a.loginTimes.summary();
    const cpu: Record<string, number> = {};
    for (const [k, v] of Object.entries(a.cpuSeconds)) cpu[k] = Math.round((v / a.seconds) * 100) / 100;
    return {
      threadNice: nice,
      cores,
      hashMs,
      hashRatePerSec: rate,
      logins: a.logins,
      loginErrors: a.loginErrors,
      seconds: a.seconds,
      loginsPerSec: a.logins / a.seconds,
      ratioToHashRate: a.logins / a.seconds / rate,
      loginP50ms: lt.p50,
      loginP99ms: lt.p99,
      concurrentLogins: o.concurrent,
      quietCall: { p50ms: q.p50, p99ms: q.p99, calls: a.quietCalls },
      stormCall: { p50ms: s.p50, p99ms: s.p99, calls: a.stormCalls },
      servicePeakRss: a.peak,
      cpu,
      firstError: a.firstError,
    };
  });
}

async function stormRound(stack: CrossbarStack, o: { concurrent: number; roundMs: number; quietMs: number }, a: StormAcc): Promise<void> {
  const caller = await login(stack.wsUrl, "dyn0");
  try {
    const call = () => caller.session.call(PROCEDURE);
    // The service was just restarted: warm it (first hash, JIT of the authorize path) before the quiet baseline.
    (await login(stack.wsUrl, "storm0")).close();
    await closedLoop([call], 1, 500, new Samples());
    const quietRes = await closedLoop([call], 1, o.quietMs, a.quiet);
    a.quietCalls += quietRes.calls;
    let stop = false;
    let logins = 0;
    const loop = async (i: number) => {
      while (!stop) {
        const t = performance.now();
        try {
          const c = await login(stack.wsUrl, `storm${i}`);
          if (!stop) {
            a.loginTimes.add(performance.now() - t);
            logins++;
          }
          c.close();
        } catch (err) {
          a.loginErrors++;
          a.firstError ??= describe(err);
          await sleep(50);
        }
      }
    };
    const groups = {
      crossbarPgid: stack.crossbar.pid,
      servicePid: stack.service!.proc.pid!,
      calleePid: stack.callee.proc.pid!,
      pyPids: [],
    };
    const cpu0 = cpuSnapshot(groups);
    const started = performance.now();
    const loops = Array.from({ length: o.concurrent }, (_, i) => loop(i));
    const callRes = await closedLoop([call], 1, o.roundMs, a.storm);
    stop = true;
    const seconds = (performance.now() - started) / 1000;
    const used = cpuDiff(cpu0, cpuSnapshot(groups), 1);
    for (const [k, v] of Object.entries(used)) a.cpuSeconds[k] = (a.cpuSeconds[k] ?? 0) + v;
    a.logins += logins;
    a.seconds += seconds;
    a.stormCalls += callRes.calls;
    await Promise.all(loops);
    a.peak = Math.max(a.peak, stack.service!.memory().peak);
  } finally {
    caller.close();
  }
}

export interface BurstVariant {
  name: string;
  /** throttle.peerInFlight of the service (0: off, as if the burst came from many addresses). */
  peerInFlight: number;
}

export interface BurstResult {
  variant: string;
  peerInFlight: number;
  logins: number;
  welcomed: number;
  /** ABORT wamp.error.authentication_failed ("authentication service unavailable"). */
  unavailable: number;
  /** Any other ABORT, timeouts, transport errors. */
  otherErrors: number;
  /** From the first login sent to the burst's last answer. */
  burstSeconds: number;
  /** From the burst's last answer to the first successful fresh login (NaN: none within the limit). */
  freshLoginMs: number;
  freshAttempts: number;
  /** The authorized no-op, called one at a time by an already logged-in client during the burst. */
  call: { p50ms: number; p99ms: number; calls: number; errors: number };
  servicePeakRss: number;
  /** The other answers by kind (client-side error text), for diagnosis. */
  otherKinds: Record<string, number>;
}

/**
 * Row 6b: `logins` concurrent ticket logins (valid tickets, OWASP argon2id, default service config)
 * at once, while one client keeps calling the authorized no-op; when every login has its answer, a
 * fresh login is retried until it succeeds. Reports the time from the burst's last answer to that
 * success (work whose caller was already answered must not delay it) and the call's latency during
 * the burst. One service per variant.
 */
export async function runLoginBurst(
  stack: CrossbarStack,
  dbUrl: string,
  o: { logins: number; users: number; variants: BurstVariant[]; freshLimitMs: number },
): Promise<BurstResult[]> {
  const out: BurstResult[] = [];
  for (const v of o.variants) {
    await stack.service?.stop();
    await stack.startService(dbUrl, { throttle: { peerInFlight: v.peerInFlight } });
    const caller = await login(stack.wsUrl, "dyn0");
    // Warm the service (first hash, JIT) outside the measurement.
    (await login(stack.wsUrl, "dyn1")).close();
    try {
      const samples = new Samples();
      let calling = true;
      let calls = 0;
      let callErrors = 0;
      const callLoop = (async () => {
        while (calling) {
          const t = performance.now();
          try {
            await caller.session.call(PROCEDURE);
            samples.add(performance.now() - t);
            calls++;
          } catch {
            callErrors++;
            await sleep(10);
          }
        }
      })();
      const counts = { welcomed: 0, unavailable: 0, other: 0 };
      const otherKinds: Record<string, number> = {};
      let last = 0;
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: o.logins }, async (_, i) => {
          try {
            const c = await login(stack.wsUrl, `storm${i % o.users}`);
            counts.welcomed++;
            c.close();
          } catch (err) {
            const reason = (err as { reason?: unknown }).reason;
            if (reason === "wamp.error.authentication_failed") counts.unavailable++;
            else {
              counts.other++;
              const kind = describe(err).slice(0, 80);
              otherKinds[kind] = (otherKinds[kind] ?? 0) + 1;
            }
          }
          last = Math.max(last, performance.now());
        }),
      );
      calling = false;
      await callLoop;
      // The fresh login: retried until it gets in.
      let attempts = 0;
      let freshLoginMs = Number.NaN;
      while (performance.now() - last < o.freshLimitMs) {
        attempts++;
        try {
          (await login(stack.wsUrl, "dyn1")).close();
          freshLoginMs = performance.now() - last;
          break;
        } catch {
          await sleep(20);
        }
      }
      const sum = samples.summary();
      out.push({
        variant: v.name,
        peerInFlight: v.peerInFlight,
        logins: o.logins,
        welcomed: counts.welcomed,
        unavailable: counts.unavailable,
        otherErrors: counts.other,
        burstSeconds: (last - t0) / 1000,
        freshLoginMs,
        freshAttempts: attempts,
        call: { p50ms: sum.p50, p99ms: sum.p99, calls, errors: callErrors },
        servicePeakRss: stack.service!.memory().peak,
        otherKinds,
      });
    } finally {
      caller.close();
    }
  }
  return out;
}
