/**
 * Bounded, deadline-aware FIFO for expensive work (argon2 hashes). At most `concurrency` tasks run;
 * at most `maxQueued` wait. Each task says by when it must have started (`startBy`, on the
 * `now()` clock): a task that cannot start in time is refused before it runs, so work whose caller
 * has given up never costs CPU, and a full queue refuses at once instead of growing without bound.
 */

export type RejectWhy = "full" | "late";

export class QueueRejected extends Error {
  override name = "QueueRejected";
  constructor(readonly why: RejectWhy) {
    super(why === "full" ? "queue full" : "cannot start before its deadline");
  }
}

interface Waiting {
  startBy: number;
  start: () => void;
  refuse: (e: QueueRejected) => void;
}

export interface BoundedQueueOptions {
  concurrency: number;
  maxQueued: number;
  /** Clock of `startBy` (default performance.now). */
  now?: () => number;
  /**
   * Expected run time of one task (ms), if known: a task whose predicted start (queue position ×
   * this ÷ concurrency) is past its `startBy` is refused on arrival rather than after waiting.
   */
  expectedRunMs?: () => number;
}

export class BoundedQueue {
  private active = 0;
  private waiting: Waiting[] = [];
  private readonly now: () => number;

  constructor(private readonly o: BoundedQueueOptions) {
    if (!(o.concurrency >= 1)) throw new RangeError("concurrency must be at least 1");
    if (!(o.maxQueued >= 0)) throw new RangeError("maxQueued must not be negative");
    this.now = o.now ?? (() => performance.now());
  }

  /** Tasks running now (never more than the concurrency). */
  get running(): number {
    return this.active;
  }

  /** Tasks waiting (never more than maxQueued). */
  get pending(): number {
    return this.waiting.length;
  }

  /** Runs `fn` when a slot is free; rejects with QueueRejected (and never calls `fn`) if it cannot start by `startBy`. */
  async run<T>(fn: () => Promise<T>, startBy = Infinity): Promise<T> {
    await this.admit(startBy);
    try {
      return await fn();
    } finally {
      this.active--;
      this.next();
    }
  }

  /**
   * Would a task with this `startBy` be refused if it arrived now? Lets a caller refuse early,
   * before other work it would do first (store lookups), for the same reasons `run` would.
   * `alsoAhead`: tasks the caller knows will arrive before this one (admitted, not queued yet).
   */
  refusal(startBy = Infinity, alsoAhead = 0): RejectWhy | null {
    const now = this.now();
    if (startBy <= now) return "late";
    const ahead = this.waiting.length + alsoAhead;
    if (this.active < this.o.concurrency && ahead === 0) return null;
    if (this.waiting.length >= this.o.maxQueued) {
      this.dropLate(now);
      if (this.waiting.length >= this.o.maxQueued) return "full";
    }
    const expected = this.o.expectedRunMs?.() ?? 0;
    // The earliest start: every `concurrency` tasks ahead need one full run first (the running ones
    // may be about to finish). Refuse only when even that is too late.
    if (expected > 0 && now + Math.floor(ahead / this.o.concurrency) * expected > startBy) return "late";
    return null;
  }

  private admit(startBy: number): Promise<void> | undefined {
    const why = this.refusal(startBy);
    if (why) throw new QueueRejected(why);
    if (this.active < this.o.concurrency && this.waiting.length === 0) {
      this.active++;
      return undefined;
    }
    return new Promise<void>((start, refuse) => this.waiting.push({ startBy, start, refuse }));
  }

  /** Starts waiting tasks while slots are free, refusing those whose time has passed. */
  private next(): void {
    while (this.active < this.o.concurrency && this.waiting.length > 0) {
      const w = this.waiting.shift()!;
      if (w.startBy <= this.now()) {
        w.refuse(new QueueRejected("late"));
        continue;
      }
      this.active++;
      w.start();
    }
  }

  private dropLate(now: number): void {
    const keep: Waiting[] = [];
    for (const w of this.waiting) {
      if (w.startBy <= now) w.refuse(new QueueRejected("late"));
      else keep.push(w);
    }
    this.waiting = keep;
  }
}
