/**
 * Row 4: the permission matcher alone, in process, at 10, 1k and 10k rules per role; and at 10k
 * role rules with a per-session overlay (user rules, four nested groups' rules, substituted
 * templates): the matcher alone and the whole Authorizer path.
 */
import { Authorizer } from "../src/authorize/authorizer.js";
import { Decider } from "../src/authorize/decide.js";
import type { CompiledRules } from "../src/authorize/matcher.js";
import { buildOverlay } from "../src/authorize/overlay.js";
import { PermissionIndex } from "../src/authorize/permissionIndex.js";
import { ReservedUris } from "../src/authorize/reserved.js";
import type { Action, MatchKind, Rule, RuleSource } from "../src/authorize/rules.js";
import { createLogger } from "../src/log/logger.js";
import { authorizeObserver, createMetrics } from "../src/metrics/metrics.js";
import { requestUris, roleRulesOf, ruleSet } from "./rules.js";
import { measure } from "./stats.js";

export interface MatcherRow {
  rules: number;
  path: "index.answer" | "authorizer" | "overlay.answer" | "overlay.authorizer";
  /** Rules in the session's overlay (overlay rows), else 0. */
  overlayRules: number;
  buildMs: number;
  /** Overlay rows: time to build one session's overlay. */
  overlayBuildMs: number;
  decisionsPerSec: number;
  p50us: number;
  p99us: number;
  allowedShare: number;
}

const SESSION = { session: 1234, authid: "alice", authrole: "user", authmethod: "ticket", authprovider: "dynamic", authextra: {} };
const RESERVED = ReservedUris.forProcedures({
  authenticate: "authd.authenticate",
  authorize: "authd.authorize",
  userPrefix: "authd.tokens.",
});

export function runMatcherBench(quick: boolean): MatcherRow[] {
  const out: MatcherRow[] = [];
  const queries = quick ? 50_000 : 300_000;
  const decider = new Decider(RESERVED);
  for (const n of [10, 1000, 10_000]) {
    const t0 = performance.now();
    const index = PermissionIndex.build(roleRulesOf("app", "user", ruleSet(n)));
    const buildMs = performance.now() - t0;
    const base = index.rules("app", "user");
    const uris = requestUris(n, queries);
    const m = measure(uris, (uri) => decider.answer(base, uri, "call").allow);
    out.push(row(n, "index.answer", buildMs, m));

    // The whole authorize path the router's call reaches: argument checks, decision, metrics.
    const authorizer = new Authorizer({
      index: () => index,
      reserved: RESERVED,
      log: createLogger("silent"),
      // As the service wires it (src/service.ts).
      onOutcome: authorizeObserver(createMetrics().authorize),
    });
    const args = uris.map((uri) => [SESSION, uri, "call", { match: "exact" }]);
    const a = measure(args, (x) => (authorizer.authorize("app", x) as { allow: boolean }).allow);
    out.push(row(n, "authorizer", buildMs, a));
  }
  out.push(...overlayRows(queries, decider));
  return out;
}

function row(
  n: number,
  path: MatcherRow["path"],
  buildMs: number,
  m: ReturnType<typeof measure>,
  overlayRules = 0,
  overlayBuildMs = 0,
): MatcherRow {
  return {
    rules: n,
    path,
    overlayRules,
    buildMs,
    overlayBuildMs,
    decisionsPerSec: m.perSec,
    p50us: m.p50,
    p99us: m.p99,
    allowedShare: m.allowed,
  };
}

let nextId = 1_000_000;
function benchRule(uri: string, match: MatchKind, source: RuleSource, owner: string, allow: Action[], deny: Action[] = []): Rule {
  const flags = (xs: Action[]) => ({ call: xs.includes("call"), register: false, publish: false, subscribe: xs.includes("subscribe") });
  return {
    id: nextId++,
    uri,
    match,
    allow: flags(allow),
    deny: flags(deny),
    disclose: { caller: false, publisher: false },
    cache: false,
    source,
    owner,
    validFrom: null,
    validUntil: null,
  };
}

/**
 * 10k role rules (ruleSet) plus five role templates; alice's overlay: 100 user rules, 4 nested
 * groups of 25 rules each (some on the role's URIs, some denying), and the templates substituted.
 * A fifth of the requests go to URIs the overlay decides.
 */
function overlayRows(queries: number, decider: Decider): MatcherRow[] {
  const n = 10_000;
  const templates = [
    benchRule("com.bench.home.{authid}.", "prefix", "role", "user", ["call", "subscribe"]),
    benchRule("com.bench.inbox.{authid}", "exact", "role", "user", ["call"]),
    benchRule("com.bench.{authid}..feed", "wildcard", "role", "user", ["subscribe", "call"]),
    benchRule("com.bench.realm.{realm}.", "prefix", "role", "user", ["call"]),
    benchRule("com.bench.team.{extra.team}.", "prefix", "role", "user", ["call"]),
  ];
  const t0 = performance.now();
  const [roleEntry] = roleRulesOf("app", "user", ruleSet(n));
  const index = PermissionIndex.build([{ ...roleEntry!, rules: [...roleEntry!.rules, ...templates], sessionRules: true }]);
  const buildMs = performance.now() - t0;
  const base = index.rules("app", "user");

  const own: Rule[] = [];
  for (let i = 0; i < 100; i++) {
    const k = i % 4;
    if (k === 0) own.push(benchRule(`com.bench.user.u${i}.get`, "exact", "user", "alice", ["call"]));
    else if (k === 1) own.push(benchRule(`com.bench.user.p${i}.`, "prefix", "user", "alice", ["call"]));
    else if (k === 2) own.push(benchRule(`com.bench.user.w${i}..get`, "wildcard", "user", "alice", ["call"]));
    // the same URIs as role rules: ties, merged
    else own.push(benchRule(`com.bench.r${i * 10}.get`, "exact", "user", "alice", ["call"]));
  }
  for (let g = 0; g < 4; g++) {
    for (let i = 0; i < 25; i++) {
      const deny = i % 5 === 0;
      own.push(benchRule(`com.bench.g${g}.s${i}.`, "prefix", "group", `g${g}`, deny ? [] : ["call"], deny ? ["call"] : []));
    }
  }
  const session = { authid: "alice", realm: "app", role: "user", extra: { team: "blue" } };
  const o0 = performance.now();
  let overlay: CompiledRules | null = null;
  for (let i = 0; i < 100; i++)
    overlay = buildOverlay({ session, rules: own, roleTemplates: base!.templates, options: { strictUris: true } }, Date.now());
  const overlayBuildMs = (performance.now() - o0) / 100;
  const overlayRules = overlay!.size;

  const baseUris = requestUris(n, queries);
  const uris = baseUris.map((u, j) => {
    if (j % 5 !== 0) return u;
    switch ((j / 5) % 6) {
      case 0:
        return `com.bench.user.u${(j % 25) * 4}.get`;
      case 1:
        return `com.bench.user.p${(j % 25) * 4 + 1}.x.y`;
      case 2:
        return `com.bench.home.alice.${j % 97}.x`;
      case 3:
        return `com.bench.g${j % 4}.s${j % 25}.op`;
      case 4:
        return `com.bench.alice.x${j % 13}.feed`;
      default:
        return `com.bench.r${(j % 25) * 40 + 30}.get`;
    }
  });
  const m = measure(uris, (uri) => decider.answerWith(base, overlay, uri, "call").allow);
  const overlays = new Map([["alice", overlay]]);
  const authorizer = new Authorizer({
    index: () => index,
    reserved: RESERVED,
    log: createLogger("silent"),
    onOutcome: authorizeObserver(createMetrics().authorize),
    // What a provider does on the hot path: one lookup of the session's cached overlay.
    sessionRules: (_realm, _role, authid) => overlays.get(authid) ?? null,
  });
  const args = uris.map((uri) => [SESSION, uri, "call", {}]);
  const a = measure(args, (x) => (authorizer.authorize("app", x) as { allow: boolean }).allow);
  return [
    row(n, "overlay.answer", buildMs, m, overlayRules, overlayBuildMs),
    row(n, "overlay.authorizer", buildMs, a, overlayRules, overlayBuildMs),
  ];
}
