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
    jwksUp: new Gauge({
      name: "authd_jwks_up",
      help: "1 when the last load of a JWT issuer's keys (JWKS URL or file, HMAC secret file) succeeded; 0 while the last good keys are kept",
      labelNames: ["issuer"],
      registers: [registry],
    }),
    jwksLoads: new Counter({
      name: "authd_jwks_loads_total",
      help: "loads of JWT issuers' keys, by issuer (realm/name) and outcome",
      labelNames: ["issuer", "outcome"],
      registers: [registry],
    }),
    narrowed: new Counter({
      name: "authd_narrowed_total",
      help: "subscriptions and registrations removed from live sessions because the rules no longer allow them, by kind",
      labelNames: ["kind"],
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

/** One authorize decision as the authorizer reports it (structural: metrics does not depend on authorize/). */
export interface AuthorizeSample {
  realm: string;
  action: string | null;
  allow: boolean;
  ms: number;
}

const ACTION_LABELS = new Set(["call", "register", "publish", "subscribe"]);

/** What a prom-client histogram keeps per label set (lib/histogram.js createBaseValues). */
interface HistogramEntry {
  labels: Record<string, string>;
  bucketValues: Record<string, number>;
  sum: number;
  count: number;
}

/** Counts of one label set since the last scrape, kept in plain numbers. */
interface Pending {
  labels: Record<string, string>;
  buckets: Float64Array;
  sum: number;
  count: number;
  entry: HistogramEntry | null;
}

/**
 * The authorize histogram's observer for Authorizer's onOutcome. prom-client's labelled `observe`
 * validates and hashes the label set on every call — on the authorize path that cost more than the
 * decision. Here each (realm, action, outcome) counts into a few plain numbers, and the histogram's
 * `collect` hook (run by every read: /metrics, `get()`) adds them to the histogram's own entries, so
 * what is exported is exactly what `observe` would have produced.
 */
export function authorizeObserver(h: Metrics["authorize"]): (o: AuthorizeSample) => void {
  const internal = h as unknown as { upperBounds: readonly number[]; hashMap: Record<string, HistogramEntry>; collect?: () => unknown };
  const bounds = [...internal.upperBounds];
  const children = new Map<string, Map<string, [deny: Pending, allow: Pending]>>();
  const pending: Pending[] = [];
  const make = (realm: string, action: string, outcome: string): Pending => {
    const p: Pending = { labels: { realm, action, outcome }, buckets: new Float64Array(bounds.length), sum: 0, count: 0, entry: null };
    pending.push(p);
    return p;
  };
  const flush = () => {
    const live = new Set(Object.values(internal.hashMap));
    for (const p of pending) {
      if (p.count === 0) continue;
      if (p.entry === null || !live.has(p.entry)) {
        // Find (or create, via the public zero()) the histogram's entry for these labels.
        const same = (e: HistogramEntry) =>
          e.labels.realm === p.labels.realm && e.labels.action === p.labels.action && e.labels.outcome === p.labels.outcome;
        let entry = [...live].find(same);
        if (!entry) {
          h.zero(p.labels);
          entry = Object.values(internal.hashMap).find(same);
        }
        if (!entry) continue;
        p.entry = entry;
      }
      for (let i = 0; i < bounds.length; i++)
        p.entry.bucketValues[bounds[i] as number] = (p.entry.bucketValues[bounds[i] as number] ?? 0) + (p.buckets[i] as number);
      p.entry.sum += p.sum;
      p.entry.count += p.count;
      p.buckets.fill(0);
      p.sum = 0;
      p.count = 0;
    }
  };
  const previous = internal.collect;
  internal.collect = () => {
    flush();
    return previous?.call(h);
  };
  return (o) => {
    let byAction = children.get(o.realm);
    if (!byAction) children.set(o.realm, (byAction = new Map<string, [deny: Pending, allow: Pending]>()));
    // A malformed request may carry any string as its action: label it "invalid", bounding the series.
    const action = o.action !== null && ACTION_LABELS.has(o.action) ? o.action : "invalid";
    let pair = byAction.get(action);
    if (!pair) {
      pair = [make(o.realm, action, "deny"), make(o.realm, action, "allow")];
      byAction.set(action, pair);
    }
    const p = pair[o.allow ? 1 : 0];
    const seconds = o.ms / 1000;
    if (!Number.isFinite(seconds)) return;
    for (let i = 0; i < bounds.length; i++) {
      if (seconds <= (bounds[i] as number)) {
        p.buckets[i] = (p.buckets[i] as number) + 1;
        break;
      }
    }
    p.sum += seconds;
    p.count++;
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
