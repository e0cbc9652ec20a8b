import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/** Prometheus metrics, one registry per service instance (tests run several in one process). */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const buckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
  return {
    registry,
    authenticate: new Histogram({
      name: "authd_authenticate_seconds",
      help: "authenticate calls by method, realm and outcome",
      labelNames: ["method", "realm", "outcome"],
      buckets,
      registers: [registry],
    }),
    authorize: new Histogram({
      name: "authd_authorize_seconds",
      help: "authorize calls by realm, action and outcome",
      labelNames: ["realm", "action", "outcome"],
      buckets,
      registers: [registry],
    }),
    rules: new Gauge({ name: "authd_index_rules", help: "rules in the in-memory permission index", registers: [registry] }),
    storeLatency: new Histogram({
      name: "authd_store_reload_seconds",
      help: "time to reload the permission index",
      buckets,
      registers: [registry],
    }),
    storeQuery: new Histogram({
      name: "authd_store_query_seconds",
      help: "store queries made while answering logins (lookups, throttle counters), by outcome",
      labelNames: ["outcome"],
      buckets,
      registers: [registry],
    }),
    storeUp: new Gauge({ name: "authd_store_up", help: "1 while the store is reachable (LISTEN connection up)", registers: [registry] }),
    reconnects: new Counter({
      name: "authd_router_reconnects_total",
      help: "router sessions re-established (per realm) after a lost connection",
      registers: [registry],
    }),
    lockouts: new Counter({ name: "authd_lockouts_total", help: "logins that started a lockout", registers: [registry] }),
    shed: new Counter({
      name: "authd_logins_shed_total",
      help: "logins answered unavailable before any KDF work: hash queue full, hash could not start before the deadline, or too many in flight from one client address",
      registers: [registry],
    }),
    revocations: new Counter({ name: "authd_revocations_total", help: "sessions killed after a revocation", registers: [registry] }),
    narrowed: new Counter({
      name: "authd_narrowed_total",
      help: "subscriptions and registrations removed from live sessions because the rules no longer allow them, by kind",
      labelNames: ["kind"],
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

type Observer = { observe(value: number): void };

/** One authorize decision as the authorizer reports it (structural: metrics does not depend on authorize/). */
export interface AuthorizeSample {
  realm: string;
  action: string | null;
  allow: boolean;
  ms: number;
}

const ACTION_LABELS = new Set(["call", "register", "publish", "subscribe"]);

/**
 * The authorize histogram's observer for Authorizer's onOutcome. Labelled children are looked up
 * once per (realm, action) and kept (prom-client would otherwise hash the label set on every call,
 * which costs more than the decision itself).
 */
export function authorizeObserver(h: Metrics["authorize"]): (o: AuthorizeSample) => void {
  const children = new Map<string, Map<string, [deny: Observer, allow: Observer]>>();
  return (o) => {
    let byAction = children.get(o.realm);
    if (!byAction) children.set(o.realm, (byAction = new Map<string, [deny: Observer, allow: Observer]>()));
    // A malformed request may carry any string as its action: label it "invalid", bounding the series.
    const action = o.action !== null && ACTION_LABELS.has(o.action) ? o.action : "invalid";
    let pair = byAction.get(action);
    if (!pair) {
      pair = [h.labels({ realm: o.realm, action, outcome: "deny" }), h.labels({ realm: o.realm, action, outcome: "allow" })];
      byAction.set(action, pair);
    }
    pair[o.allow ? 1 : 0].observe(o.ms / 1000);
  };
}

/**
 * The authenticate histogram's observer. Labels come from a closed set: client-chosen strings (the
 * method and realm a HELLO names) must not grow the metric series.
 */
export function authenticateObserver(
  h: Metrics["authenticate"],
  knownMethod: (method: string) => boolean,
  knownRealm: (realm: string) => boolean,
): (o: { method: string | undefined; realm: string | null | undefined; allowed: boolean; ms: number }) => void {
  return (o) => {
    h.observe(
      {
        method: o.method === undefined ? "invalid" : knownMethod(o.method) ? o.method : "other",
        realm: !o.realm ? "none" : knownRealm(o.realm) ? o.realm : "other",
        outcome: o.allowed ? "allow" : "deny",
      },
      o.ms / 1000,
    );
  };
}
