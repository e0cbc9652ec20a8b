import type pg from "pg";

/** Ends a timer started for one query, with its outcome. */
export type QueryTimer = () => (labels: { outcome: "ok" | "error" }) => void;

/**
 * The pool, with every promise-style `query` timed (authd_store_query_seconds on the login path).
 * Everything else passes through untouched.
 */
export function timedPool(pool: pg.Pool, startTimer: QueryTimer): pg.Pool {
  return new Proxy(pool, {
    get(target, key, receiver) {
      if (key !== "query") return Reflect.get(target, key, receiver) as unknown;
      return (...args: unknown[]) => {
        const end = startTimer();
        const p = (target.query as (...a: unknown[]) => Promise<unknown> | undefined).apply(target, args);
        if (!p) return p; // callback style: not used on the login path
        p.then(
          () => end({ outcome: "ok" }),
          () => end({ outcome: "error" }),
        );
        return p;
      };
    },
  });
}
