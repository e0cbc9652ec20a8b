/**
 * `npm run bench [-- --quick]`: wamp-authd through a real Crossbar, side by side with the floor, plus
 * the matcher alone, store scale and a login storm. Prints a table and writes it as JSON to
 * bench/results/<timestamp>.json and bench/results/latest.json.
 */
import "./quietConsole.js";
import "../src/cli/threadpool.js";
import argon2 from "argon2";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadConfig } from "../src/config/load.js";
import { createLogger } from "../src/log/logger.js";
import { createDatabase, ensurePostgres } from "../devstack/postgres.js";
import { migrate } from "../src/store/migrate.js";
import { createPool } from "../src/store/pool.js";
import {
  owaspParams,
  roundRatio,
  runCallScenarios,
  runLoginBurst,
  runLoginStorm,
  seedCrossbarStore,
  startCrossbarStack,
  TICKET,
  type CrossbarStack,
  type BurstResult,
  type ScenarioResult,
  type StormResult,
} from "./crossbarBench.js";
import { runMatcherBench, type MatcherRow } from "./matcherBench.js";
import { runScaleBench, type ScaleResult } from "./scaleBench.js";
import { runTokenBench, type TokenBenchResult } from "./tokenBench.js";
import { median } from "./stats.js";

const quick = process.argv.includes("--quick");
const only =
  process.argv
    .find((a) => a.startsWith("--only="))
    ?.slice("--only=".length)
    .split(",") ?? null;
const wants = (part: string) => !only || only.includes(part);
const P = quick
  ? {
      clientsPerRole: 2,
      concurrency: 8,
      rounds: 3,
      roundMs: 1500,
      warmupMs: 500,
      storm: { concurrent: 8, roundMs: 4000, rounds: 4, quietMs: 1000, hashRuns: 3, nices: [0, 10] },
      burst: { logins: 2000, freshLimitMs: 60_000 },
      users: 100_000,
      lookups: 1000,
      tokens: { concurrency: 8, rounds: 3, roundMs: 2000, warmupMs: 1000, inProcessRuns: 2000 },
      session: { users: 100_000, userRules: 10_000, groups: 1000, groupRules: 5, members: 20_000 },
      sessions: 2000,
      requests: 50_000,
    }
  : {
      clientsPerRole: 2,
      concurrency: 8,
      rounds: 6,
      roundMs: 3000,
      warmupMs: 1500,
      storm: { concurrent: 16, roundMs: 8000, rounds: 4, quietMs: 2000, hashRuns: 5, nices: [0, 10] },
      burst: { logins: 2000, freshLimitMs: 60_000 },
      users: 1_000_000,
      lookups: 5000,
      tokens: { concurrency: 8, rounds: 6, roundMs: 3000, warmupMs: 1500, inProcessRuns: 10_000 },
      session: { users: 1_000_000, userRules: 100_000, groups: 1000, groupRules: 5, members: 200_000 },
      sessions: 10_000,
      requests: 200_000,
    };

const here = dirname(fileURLToPath(import.meta.url));
// dist/bench -> <root>/bench/results
const resultsDir = join(here, "..", "..", "bench", "results");
const note = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);

interface Row {
  id: string;
  what: string;
  throughput: string;
  p50: string;
  p99: string;
  result: string;
  target: string;
  met: boolean | null;
}

/** Temp entries the project makes (`authd-*`): a run must leave none of its own behind. */
const ourTempEntries = () => new Set(readdirSync(tmpdir()).filter((e) => e.startsWith("authd-")));

async function main(): Promise<void> {
  const started = Date.now();
  const tempBefore = ourTempEntries();
  const log = createLogger("silent");
  let matcher: MatcherRow[] = [];
  let calls: ScenarioResult[] = [];
  let storm: StormResult[] = [];
  let burst: BurstResult[] = [];
  let scale: ScaleResult | null = null;
  let tokens: TokenBenchResult | null = null;

  if (wants("matcher")) {
    note("matcher alone (in process)");
    matcher = runMatcherBench(quick);
  }

  let stack: CrossbarStack | null = null;
  const server = await ensurePostgres();
  const db = await createDatabase(server.adminUrl, "authd_bench");
  const pool = createPool(db.url, log, 4);
  try {
    if (wants("calls") || wants("storm") || wants("scale")) {
      note("seeding the store, starting Crossbar, the callee and wamp-authd");
      await migrate(pool, log);
      const phc = await argon2.hash(TICKET, { type: argon2.argon2id, ...owaspParams() });
      await seedCrossbarStore(pool, phc, P.clientsPerRole, P.storm.concurrent);
      stack = await startCrossbarStack();
      await stack.startService(db.url);
      if (wants("calls")) {
        note(`calls: ${P.rounds} interleaved rounds of ${P.roundMs} ms per scenario`);
        stack.serviceMp = (
          await stack.startService(db.url, { procedures: { authorize: "authd.authorize_mp" } }, { serializer: "msgpack" })
        ).child;
        calls = await runCallScenarios(stack, P);
        await stack.serviceMp.stop();
        stack.serviceMp = null;
      }
      if (wants("storm")) {
        note(`login storm: ${P.storm.concurrent} concurrent ticket logins, ${P.storm.rounds} rounds of ${P.storm.roundMs} ms`);
        storm = await runLoginStorm(stack, db.url, P.storm);
        note(`login burst: ${P.burst.logins} concurrent ticket logins, then a fresh login`);
        burst = await runLoginBurst(stack, db.url, {
          logins: P.burst.logins,
          users: P.storm.concurrent,
          freshLimitMs: P.burst.freshLimitMs,
          variants: [
            { name: "one address, default limits", peerInFlight: loadConfig({ env: {}, values: {} }).throttle.peerInFlight },
            { name: "per-address limit off (as from many addresses)", peerInFlight: 0 },
          ],
        });
      }
      if (wants("scale")) {
        note(`store scale: ${P.users} users, 10k role rules, ${P.session.userRules} user rules, ${P.session.groups} groups (seeding)`);
        scale = await runScaleBench(stack, {
          users: P.users,
          rolesCount: 10,
          rulesPerRole: 1000,
          lookups: P.lookups,
          phc,
          session: P.session,
          sessions: P.sessions,
          requests: P.requests,
        });
      }
    }
  } finally {
    await stack?.stop().catch((err: Error) => note(`stopping the stack: ${err.message}`));
    await pool.end();
    await db.drop();
  }

  if (wants("tokens")) {
    note(
      `tokens: JWT and API token logins vs Crossbar's static ticket logins, ${P.tokens.rounds} interleaved rounds of ${P.tokens.roundMs} ms`,
    );
    const tdb = await createDatabase(server.adminUrl, "authd_tokbench");
    const tpool = createPool(tdb.url, log, 4);
    try {
      await migrate(tpool, log);
      tokens = await runTokenBench(tpool, tdb.url, P.tokens);
    } finally {
      await tpool.end();
      await tdb.drop();
    }
  }

  const rows = [...tableRows(matcher, calls, storm, scale, burst), ...tokenRows(tokens)];
  const machine = machineInfo();
  const seconds = (Date.now() - started) / 1000;
  print(rows, machine, seconds);
  const out = {
    when: new Date(started).toISOString(),
    quick,
    seconds,
    machine,
    params: P,
    rows,
    matcher,
    calls,
    storm,
    burst,
    scale,
    tokens,
  };
  mkdirSync(resultsDir, { recursive: true });
  const stamp = new Date(started).toISOString().replace(/[:.]/g, "-");
  const json = JSON.stringify(out, null, 2) + "\n";
  writeFileSync(join(resultsDir, `${stamp}.json`), json);
  writeFileSync(join(resultsDir, "latest.json"), json);
  note(`wrote bench/results/${stamp}.json and bench/results/latest.json`);
  const left = [...ourTempEntries()].filter((e) => !tempBefore.has(e));
  if (left.length > 0) throw new Error(`the benchmark left temp entries behind in ${tmpdir()}: ${left.join(", ")}`);
}

type Latency = ScaleResult["session"]["full"];
const f = (x: number, d = 0) => (Number.isFinite(x) ? x.toFixed(d) : "-");
const ms = (x: number) => (Number.isFinite(x) ? `${x.toFixed(x < 10 ? 2 : 1)} ms` : "-");
const us = (x: number) => `${x.toFixed(2)} µs`;
const mb = (b: number) => `${(b / 1024 / 1024).toFixed(0)} MB`;

function tableRows(
  matcher: MatcherRow[],
  calls: ScenarioResult[],
  storms: StormResult[],
  scale: ScaleResult | null,
  bursts: BurstResult[],
): Row[] {
  const rows: Row[] = [];
  const byKey = new Map(calls.map((c) => [c.key, c]));
  const callRow = (id: string, key: ScenarioResult["key"], result: string, target: string, met: boolean | null) => {
    const c = byKey.get(key);
    if (!c) return;
    const cpu = c.cpuUsPerCall;
    const py = key.startsWith("py") ? `, python ${cpu.python}` : "";
    const authd = key === "dynmp" ? cpu.serviceMp : cpu.service;
    const perCall = `CPU/call µs: crossbar ${cpu.crossbar}, authd ${authd}, callee ${cpu.callee}${py}, clients ${cpu.clients}`;
    rows.push({
      id,
      what: c.title,
      throughput: `${f(c.callsPerSec)} calls/s`,
      p50: ms(c.p50ms),
      p99: ms(c.p99ms),
      result: result === "-" ? perCall : `${result}; ${perCall}`,
      target,
      met,
    });
  };
  if (calls.length > 0) {
    const r2 = roundRatio(calls, "dyn", "static");
    const r2n = roundRatio(calls, "dyn", "noopauthz");
    const r3 = roundRatio(calls, "dync", "staticc");
    callRow("1", "static", "-", "", null);
    callRow("1b", "noopauthz", `${f(roundRatio(calls, "noopauthz", "static"), 3)} of (1)`, "", null);
    callRow("2", "dyn", `${f(r2, 3)} of (1); ${f(r2n, 3)} of (1b)`, ">= 0.90 of (1)", r2 >= 0.9);
    const rmp = roundRatio(calls, "dynmp", "static");
    callRow("2m", "dynmp", `${f(rmp, 3)} of (1); ${f(roundRatio(calls, "dynmp", "dyn"), 3)} of (2)`, ">= 0.90 of (1)", rmp >= 0.9);
    const r2t = roundRatio(calls, "dynt", "dyn");
    callRow("2t", "dynt", `${f(r2t, 3)} of (2); ${f(roundRatio(calls, "dynt", "static"), 3)} of (1)`, ">= 0.95 of (2)", r2t >= 0.95);
    callRow("1c", "staticc", `${f(roundRatio(calls, "staticc", "static"), 3)} of (1)`, "", null);
    callRow("3", "dync", `${f(r3, 3)} of (1c)`, ">= 0.95 of (1c)", r3 >= 0.95);
    callRow("s1", "pyjson", `${f(roundRatio(calls, "pyjson", "static"), 3)} of (1)`, "", null);
    callRow("s2", "pymsgpack", `${f(roundRatio(calls, "pymsgpack", "pyjson"), 3)} of (s1)`, "", null);
  }
  for (const m of matcher) {
    const limit = m.rules === 10_000 && m.path === "index.answer" ? 100 : m.path === "overlay.authorizer" ? 10 : null;
    const target = limit === null ? "" : `p99 <= ${limit} µs`;
    const overlay = m.overlayRules > 0 ? ` + ${m.overlayRules}-rule session overlay (built in ${f(m.overlayBuildMs * 1000)} µs)` : "";
    rows.push({
      id: "4",
      what: `matcher ${m.path}, ${m.rules} rules/role${overlay} (build ${f(m.buildMs, 1)} ms)`,
      throughput: `${f(m.decisionsPerSec / 1e6, 2)} M/s`,
      p50: us(m.p50us),
      p99: us(m.p99us),
      result: `${f(m.allowedShare * 100)}% allowed`,
      target,
      met: limit === null ? null : m.p99us <= limit,
    });
  }
  if (scale) {
    const l = scale.lookup;
    rows.push({
      id: "5",
      what: `findLogin, ${scale.users} users (1 at a time)`,
      throughput: "-",
      p50: ms(l.sequentialP50ms),
      p99: ms(l.sequentialP99ms),
      result: "",
      target: "",
      met: null,
    });
    rows.push({
      id: "5",
      what: `findLogin, ${scale.users} users (${l.concurrent} at once)`,
      throughput: `${f(l.perSec)} lookups/s`,
      p50: ms(l.concurrentP50ms),
      p99: ms(l.concurrentP99ms),
      result: "",
      target: "",
      met: null,
    });
    rows.push({
      id: "5",
      what: `service start-up / index reload, ${scale.rules} rules`,
      throughput: "-",
      p50: "-",
      p99: "-",
      result: `start ${ms(scale.serviceStartMs)}, reload ${ms(scale.reloadMs)}`,
      target: "",
      met: null,
    });
    rows.push({
      id: "5",
      what: "service RSS (store scale)",
      throughput: "-",
      p50: "-",
      p99: "-",
      result: `${mb(scale.serviceRss)} (peak ${mb(scale.servicePeakRss)}, at start ${mb(scale.serviceRssAtStart)}, heap ${mb(scale.serviceHeapUsed)})`,
      target: "<= 200 MB",
      met: scale.servicePeakRss <= 200 * 1024 * 1024,
    });
    rows.push({
      id: "5",
      what: "(seeding the store)",
      throughput: "-",
      p50: "-",
      p99: "-",
      result: `${f(scale.seedSeconds, 1)} s users and role rules, ${f(scale.session.seedSeconds, 1)} s session rules`,
      target: "",
      met: null,
    });
    const ss = scale.session;
    const store = `${ss.scale.users} users, ${ss.scale.userRules} user rules, ${ss.scale.groups} groups nested 4 deep (${ss.scale.groupRules} rules each), ${scale.rules} role rules`;
    const decisionRow = (what: string, l: Latency, target: string, limit: number | null) =>
      rows.push({
        id: "5s",
        what: `${what}, ${ss.sessions} sessions with overlays; ${store}`,
        throughput: `${f(l.perSec / 1e6, 2)} M/s`,
        p50: us(l.p50),
        p99: us(l.p99),
        result: `${f(l.allowed * 100)}% allowed`,
        target,
        met: limit === null ? null : l.p99 <= limit,
      });
    decisionRow("authorize in the service: matcher alone (Decider.answerWith)", ss.matcher, "", null);
    decisionRow("authorize in the service: full path (Authorizer.authorize + provider + metrics)", ss.full, "p99 <= 10 µs", 10);
    rows.push({
      id: "5s",
      what: `service RSS with ${ss.sessions} cached identities (store scale with session rules)`,
      throughput: "-",
      p50: "-",
      p99: "-",
      result: `${mb(ss.rssAfter)} with the overlays built (heap ${mb(ss.heapAfter)} used of ${mb(ss.heapTotalAfter)}, external ${mb(ss.externalAfter)}); peak ${mb(ss.peakRss)} (includes the benchmark's own request arrays); loading one identity ${ms(ss.warmMsPerIdentity)}`,
      target: "<= 200 MB",
      met: ss.rssAfter <= 200 * 1024 * 1024,
    });
    const apply = [...ss.applyMs].sort((a, b) => a - b);
    const applyMedian = median(apply);
    const applyMax = apply[apply.length - 1] ?? Number.NaN;
    rows.push({
      id: "5s",
      what: `one user's rule change applied (INSERT -> NOTIFY carrying the rule -> applied to the cached user -> answered), ${apply.length} runs`,
      throughput: "-",
      p50: ms(applyMedian),
      p99: ms(applyMax),
      result: `p50 ${ms(applyMedian)}, max ${ms(applyMax)}; the service's first change (cold) ${ms(ss.applyColdMs)}; index reloads meanwhile: ${ss.applyIndexLoads}`,
      target: "p50 <= 5 ms, no index reload",
      met: applyMedian <= 5 && ss.applyIndexLoads === 0,
    });
  }
  const first = storms[0];
  if (first) {
    rows.push({
      id: "6",
      what: `argon2id single verify (${first.cores} cores -> ${f(first.hashRatePerSec, 1)}/s)`,
      throughput: "-",
      p50: ms(first.hashMs),
      p99: "-",
      result: "",
      target: "",
      met: null,
    });
  }
  for (const storm of storms) {
    const tag = `threadNice ${storm.threadNice}${storm.threadNice === 0 ? " (default)" : ""}`;
    rows.push({
      id: "6",
      what: `login storm, ${storm.concurrentLogins} concurrent ticket logins, ${tag}`,
      throughput: `${f(storm.loginsPerSec, 1)} logins/s`,
      p50: ms(storm.loginP50ms),
      p99: ms(storm.loginP99ms),
      result: `${f(storm.ratioToHashRate, 3)} of hash rate${storm.loginErrors ? `, ${storm.loginErrors} errors` : ""}`,
      target: ">= 0.90",
      met: storm.ratioToHashRate >= 0.9,
    });
    const cpu = Object.entries(storm.cpu)
      .filter(([k, v]) => v !== 0 || (k !== "python" && k !== "serviceMp"))
      .map(([k, v]) => `${k} ${v.toFixed(2)}`)
      .join(", ");
    rows.push({
      id: "6",
      what: `cores used during the storm, ${tag}`,
      throughput: "-",
      p50: "-",
      p99: "-",
      result: cpu,
      target: "",
      met: null,
    });
    rows.push({
      id: "6",
      what: `authorized call, no storm, ${tag}`,
      throughput: "-",
      p50: ms(storm.quietCall.p50ms),
      p99: ms(storm.quietCall.p99ms),
      result: "",
      target: "",
      met: null,
    });
    rows.push({
      id: "6",
      what: `authorized call during the storm, ${tag}`,
      throughput: "-",
      p50: ms(storm.stormCall.p50ms),
      p99: ms(storm.stormCall.p99ms),
      result: `service peak RSS ${mb(storm.servicePeakRss)}`,
      target: "p99 <= 5 ms",
      met: storm.stormCall.p99ms <= 5,
    });
  }
  for (const b of bursts) {
    const kinds = Object.entries(b.otherKinds)
      .sort((x, y) => y[1] - x[1])
      .map(([k, n]) => `${n}× ${k.trim()}`)
      .join("; ");
    const other = b.otherErrors ? `, ${b.otherErrors} other (${kinds})` : "";
    const fresh = Number.isFinite(b.freshLoginMs) ? `${f(b.freshLoginMs)} ms` : "none within the limit";
    rows.push({
      id: "6b",
      what: `login burst, ${b.logins} concurrent ticket logins, ${b.variant}`,
      throughput: `${b.welcomed} welcomed`,
      p50: ms(b.call.p50ms),
      p99: ms(b.call.p99ms),
      result: `${b.unavailable} unavailable${other}, answered in ${f(b.burstSeconds, 1)} s; fresh login ${fresh} after the last answer; p50/p99: authorized call during the burst (${b.call.calls} calls); service peak RSS ${mb(b.servicePeakRss)}`,
      target: "fresh login <= 2 s",
      met: Number.isFinite(b.freshLoginMs) && b.freshLoginMs <= 2000,
    });
  }
  return rows;
}

function tokenRows(t: TokenBenchResult | null): Row[] {
  if (!t) return [];
  const rows: Row[] = [];
  for (const s of t.scenarios) {
    const cpu = s.cpuUsPerLogin;
    const authenticator = s.key === "noop" ? `no-op ${cpu.callee}` : `authd ${cpu.service}`;
    const perLogin = `CPU/login µs: crossbar ${cpu.crossbar}, ${authenticator}, postgres ${cpu.postgres}, clients ${cpu.clients}`;
    const ratio = s.key === "jwt" ? t.jwtRatio : s.key === "api" ? t.apiRatio : s.key === "noop" ? t.noopRatio : null;
    // Of the no-op's rate: how close the service comes to what any dynamic authenticator can reach.
    const ofNoop = ratio !== null && s.key !== "noop" && t.noopRatio > 0 ? `${f(ratio / t.noopRatio, 3)} of (7n); ` : "";
    rows.push({
      id: { static: "7", noop: "7n", jwt: "7j", api: "7a" }[s.key],
      what: s.title,
      throughput: `${f(s.loginsPerSec)} logins/s`,
      p50: ms(s.p50ms),
      p99: ms(s.p99ms),
      result: `${ratio === null ? "" : `${f(ratio, 3)} of (7); `}${ofNoop}${perLogin}${s.errors ? `; ${s.errors} errors` : ""}`,
      target: s.key === "jwt" ? ">= 0.80 of (7)" : "",
      met: s.key === "jwt" ? t.jwtRatio >= 0.8 : null,
    });
  }
  for (const r of t.inProcess) {
    rows.push({
      id: "7v",
      what: r.what,
      throughput: `${f(r.perSec)}/s`,
      p50: us(r.p50us),
      p99: us(r.p99us),
      result: "",
      target: "",
      met: null,
    });
  }
  return rows;
}

function machineInfo(): { nproc: number; cpu: string; ramGiB: number; node: string } {
  let cpu = cpus()[0]?.model ?? "unknown";
  try {
    cpu = /^model name\s*:\s*(.+)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1] ?? cpu;
  } catch {
    // not Linux
  }
  return { nproc: cpus().length, cpu, ramGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10, node: process.version };
}

function print(rows: Row[], machine: ReturnType<typeof machineInfo>, seconds: number): void {
  const head = ["#", "measurement", "throughput", "p50", "p99", "result", "target", "met"];
  const cells = rows.map((r) => [r.id, r.what, r.throughput, r.p50, r.p99, r.result, r.target, r.met === null ? "" : r.met ? "yes" : "NO"]);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] as string).length)));
  const line = (c: string[]) => `| ${c.map((x, i) => x.padEnd(widths[i] as number)).join(" | ")} |`;
  const out = [line(head), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...cells.map(line)];
  process.stdout.write(
    `\n${out.join("\n")}\n\nmachine: ${machine.nproc} cores, ${machine.cpu}, ${machine.ramGiB} GiB RAM, node ${machine.node}; ${quick ? "quick" : "full"} run took ${seconds.toFixed(0)} s\n`,
  );
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    process.stderr.write(`bench failed: ${err.stack ?? err.message}\n`);
    process.exit(1);
  },
);
