/** Latency samples, percentiles and closed-loop load. */

/** Growable Float64 sample buffer (milliseconds); no per-sample allocation. */
export class Samples {
  private buf = new Float64Array(1 << 14);
  n = 0;

  add(v: number): void {
    if (this.n === this.buf.length) {
      const next = new Float64Array(this.buf.length * 2);
      next.set(this.buf);
      this.buf = next;
    }
    this.buf[this.n++] = v;
  }

  addAll(o: Samples): void {
    for (let i = 0; i < o.n; i++) this.add(o.buf[i] as number);
  }

  /** p in [0, 1]; nearest-rank on a sorted copy. NaN when empty. */
  percentile(p: number): number {
    if (this.n === 0) return Number.NaN;
    const sorted = this.buf.slice(0, this.n).sort();
    const rank = Math.min(this.n - 1, Math.max(0, Math.ceil(p * this.n) - 1));
    return sorted[rank] as number;
  }

  summary(): { p50: number; p99: number; max: number } {
    if (this.n === 0) return { p50: Number.NaN, p99: Number.NaN, max: Number.NaN };
    const sorted = this.buf.slice(0, this.n).sort();
    const at = (p: number) => sorted[Math.min(this.n - 1, Math.max(0, Math.ceil(p * this.n) - 1))] as number;
    return { p50: at(0.5), p99: at(0.99), max: sorted[this.n - 1] as number };
  }
}

export interface LoopResult {
  calls: number;
  errors: number;
  seconds: number;
}

/**
 * Closed loop: `concurrency` outstanding calls per caller, each one re-issued the moment the previous
 * one settles, for `durationMs`. Every settled call's latency goes into `samples`.
 */
export async function closedLoop(
  callers: Array<() => Promise<unknown>>,
  concurrency: number,
  durationMs: number,
  samples: Samples,
): Promise<LoopResult> {
  const started = performance.now();
  const until = started + durationMs;
  let calls = 0;
  let errors = 0;
  let firstError: unknown = null;
  const lane = async (call: () => Promise<unknown>) => {
    while (performance.now() < until) {
      const t0 = performance.now();
      try {
        await call();
        samples.add(performance.now() - t0);
        calls++;
      } catch (err) {
        errors++;
        firstError ??= err;
        if (errors > 100) throw new Error(`too many failed calls; first: ${describe(firstError)}`, { cause: err });
      }
    }
  };
  const lanes: Promise<void>[] = [];
  for (const c of callers) for (let i = 0; i < concurrency; i++) lanes.push(lane(c));
  await Promise.all(lanes);
  if (calls === 0 && errors > 0) throw new Error(`every call failed; first: ${describe(firstError)}`);
  return { calls, errors, seconds: (performance.now() - started) / 1000 };
}

export function describe(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (typeof err === "object" && err !== null && "error" in err) return String(err.error);
  return String(err);
}

export function median(xs: number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Times `fn` on every input (after a warm-up of `warmup` calls): p50/p99 per call in µs, calls per
 * second over a second untimed pass, and the share of inputs for which `fn` returned true.
 */
export function measure<T>(
  inputs: readonly T[],
  fn: (x: T) => boolean,
  warmup = 20_000,
): { p50: number; p99: number; perSec: number; allowed: number } {
  for (let i = 0; i < warmup; i++) fn(inputs[i % inputs.length] as T);
  const s = new Samples();
  let allowed = 0;
  for (const x of inputs) {
    const a = performance.now();
    const ok = fn(x);
    s.add((performance.now() - a) * 1000);
    if (ok) allowed++;
  }
  const b = performance.now();
  for (const x of inputs) fn(x);
  const seconds = (performance.now() - b) / 1000;
  const sum = s.summary();
  return { p50: sum.p50, p99: sum.p99, perSec: inputs.length / seconds, allowed: allowed / inputs.length };
}
