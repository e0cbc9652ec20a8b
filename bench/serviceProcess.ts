/**
 * Child process: one real wamp-authd Service (src/service.ts), configured from argv[2] (JSON config
 * values). Talks to the benchmark over the fork IPC channel: reports when it is registered in every
 * realm, times reloads of the permission index, reports its memory on request, and measures inside
 * the service: authorize decisions with session rules (the matcher alone and the full path) and how
 * long one user's rule change takes to apply.
 */
import "./quietConsole.js";
import "../src/cli/threadpool.js";
import { Decider } from "../src/authorize/decide.js";
import { ReservedUris } from "../src/authorize/reserved.js";
import { loadConfig } from "../src/config/load.js";
import { createLogger } from "../src/log/logger.js";
import { Service } from "../src/service.js";
import { type SessionScale, sampleAuthids, sessionRequests } from "./sessionScale.js";
import { measure } from "./stats.js";

type Msg =
  | { cmd: "reload" }
  | { cmd: "mem" }
  | { cmd: "stop" }
  | { cmd: "authz"; realm: string; role: string; scale: SessionScale; sessions: number; requests: number; roleUris: string[] }
  | { cmd: "watch"; realm: string; role: string; authid: string; uri: string };

const values = JSON.parse(process.argv[2] ?? "{}") as Record<string, unknown>;
const config = loadConfig({ env: {}, values });
const log = createLogger(config.log.level);
const service = new Service(config, log);
const send = (m: Record<string, unknown>) => process.send?.(m);
const epochNow = () => performance.timeOrigin + performance.now();

const t0 = performance.now();
await service.start();
const startMs = performance.now() - t0;
while (!service.link.isReady()) await new Promise((r) => setTimeout(r, 20));
send({ type: "ready", startMs, readyMs: performance.now() - t0, rules: service.permissionIndex.ruleCount });

async function authz(m: Extract<Msg, { cmd: "authz" }>): Promise<Record<string, unknown>> {
  const authids = sampleAuthids(m.sessions, m.scale);
  // What happens at login: each identity's users and rules are loaded once.
  const w = performance.now();
  for (const a of authids) await service.sessionRules.warm(m.realm, a);
  const warmMs = performance.now() - w;
  // Each session's overlay as its first request builds it; then the service's memory in that state.
  for (const a of authids) await service.sessionRules.provider(m.realm, m.role, a);
  global.gc?.();
  const held = process.memoryUsage();
  const requests = sessionRequests(m.requests, authids, m.roleUris, m.scale);
  const index = service.permissionIndex;
  const base = index.rules(m.realm, m.role);
  const decider = new Decider(ReservedUris.forProcedures(config.procedures));
  // The matcher alone: the role's set and the session's overlay at hand.
  const withOverlay = requests.map(([authid, uri]) => {
    const overlay = service.sessionRules.provider(m.realm, m.role, authid);
    if (overlay instanceof Promise) throw new Error(`overlay of ${authid} not loaded`);
    return { overlay, uri };
  });
  const warmup = Math.min(50_000, withOverlay.length * 2);
  const matcher = measure(withOverlay, (x) => decider.answerWith(base, x.overlay, x.uri, "call").allow, warmup);
  // The full path the router's call reaches: argument checks, overlay lookup, decision, metrics.
  const authorizer = service.authorize!;
  const args = requests.map(([authid, uri]) => [
    { session: 1, authid, authrole: m.role, authmethod: "ticket", authprovider: "dynamic", authextra: {} },
    uri,
    "call",
    {},
  ]);
  const full = measure(
    args,
    (x) => {
      const d = authorizer.authorize(m.realm, x);
      if (d instanceof Promise) throw new Error("an overlay was not loaded");
      return d.allow;
    },
    warmup,
  );
  return {
    matcher,
    full,
    warmMs,
    sessions: authids.length,
    cached: service.sessionRules.size,
    rss: held.rss,
    heapUsed: held.heapUsed,
    heapTotal: held.heapTotal,
    external: held.external,
  };
}

/** Resolves with the instant (epoch ms) the rule starts allowing; polls between I/O turns. */
async function watch(m: Extract<Msg, { cmd: "watch" }>, watching: () => void): Promise<number> {
  const args = [{ session: 1, authid: m.authid, authrole: m.role, authextra: {} }, m.uri, "call", {}];
  const authorizer = service.authorize!;
  const allowed = async () => (await authorizer.authorize(m.realm, args)).allow;
  if (await allowed()) throw new Error(`${m.uri} is already allowed`);
  watching();
  const until = Date.now() + 5000;
  while (Date.now() < until) {
    await new Promise((r) => setImmediate(r));
    if (await allowed()) return epochNow();
  }
  throw new Error(`${m.uri} was not allowed within 5 s`);
}

process.on("message", (m: Msg) => {
  void (async () => {
    switch (m.cmd) {
      case "reload": {
        const a = performance.now();
        await service.reload();
        send({ type: "reloaded", ms: performance.now() - a, rules: service.permissionIndex.ruleCount });
        break;
      }
      case "mem": {
        global.gc?.();
        const u = process.memoryUsage();
        send({ type: "mem", rss: u.rss, heapUsed: u.heapUsed });
        break;
      }
      case "authz":
        send({ type: "authz", ...(await authz(m)) });
        break;
      case "watch": {
        const loads = service.indexLoads;
        const at = await watch(m, () => send({ type: "watching" }));
        send({ type: "applied", at, indexLoads: service.indexLoads - loads });
        break;
      }
      case "stop":
        await service.stop();
        send({ type: "stopped" });
        process.exit(0);
    }
  })().catch((err: Error) => send({ type: "error", message: err.message }));
});
process.on("disconnect", () => process.exit(0));
