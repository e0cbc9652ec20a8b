/** Row 4: the permission matcher alone, in process, at 10, 1k and 10k rules per role. */
import { Authorizer } from "../src/authorize/authorizer.js";
import { PermissionIndex } from "../src/authorize/permissionIndex.js";
import { createLogger } from "../src/log/logger.js";
import { authorizeObserver, createMetrics } from "../src/metrics/metrics.js";
import { permissionRows, requestUris, ruleSet } from "./rules.js";
import { Samples } from "./stats.js";

export interface MatcherRow {
  rules: number;
  path: "index.answer" | "authorizer";
  buildMs: number;
  decisionsPerSec: number;
  p50us: number;
  p99us: number;
  allowedShare: number;
}

const SESSION = { session: 1234, authid: "alice", authrole: "user", authmethod: "ticket", authprovider: "dynamic", authextra: {} };

export function runMatcherBench(quick: boolean): MatcherRow[] {
  const out: MatcherRow[] = [];
  const queries = quick ? 50_000 : 300_000;
  for (const n of [10, 1000, 10_000]) {
    const t0 = performance.now();
    const index = PermissionIndex.fromRows(permissionRows("app", "user", ruleSet(n)));
    const buildMs = performance.now() - t0;
    const uris = requestUris(n, queries);
    // Warm up the JIT on a different slice so the timed loop runs optimised code.
    for (let i = 0; i < 20_000; i++) index.answer("app", "user", uris[i % uris.length] as string, "call");

    // Latency per decision (each one timed) and throughput (an untimed pass).
    const s = new Samples();
    let allowed = 0;
    for (const uri of uris) {
      const a = performance.now();
      const v = index.answer("app", "user", uri, "call");
      s.add((performance.now() - a) * 1000);
      if (v.allow) allowed++;
    }
    const b = performance.now();
    for (const uri of uris) index.answer("app", "user", uri, "call");
    const seconds = (performance.now() - b) / 1000;
    const sum = s.summary();
    out.push({
      rules: n,
      path: "index.answer",
      buildMs,
      decisionsPerSec: uris.length / seconds,
      p50us: sum.p50,
      p99us: sum.p99,
      allowedShare: allowed / uris.length,
    });

    // The whole authorize path the router's call reaches: argument checks, decision, metrics.
    const metrics = createMetrics();
    // As the service wires it (src/service.ts).
    const authorizer = new Authorizer(() => index, createLogger("silent"), authorizeObserver(metrics.authorize));
    const args = uris.map((uri) => [SESSION, uri, "call", { match: "exact" }]);
    for (let i = 0; i < 20_000; i++) authorizer.authorize("app", args[i % args.length]);
    const s2 = new Samples();
    allowed = 0;
    for (const a of args) {
      const t = performance.now();
      const d = authorizer.authorize("app", a);
      s2.add((performance.now() - t) * 1000);
      if (d.allow) allowed++;
    }
    const c = performance.now();
    for (const a of args) authorizer.authorize("app", a);
    const seconds2 = (performance.now() - c) / 1000;
    const sum2 = s2.summary();
    out.push({
      rules: n,
      path: "authorizer",
      buildMs,
      decisionsPerSec: args.length / seconds2,
      p50us: sum2.p50,
      p99us: sum2.p99,
      allowedShare: allowed / args.length,
    });
  }
  return out;
}
