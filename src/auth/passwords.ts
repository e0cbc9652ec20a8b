import argon2 from "argon2";
import { randomBytes } from "node:crypto";
import { availableParallelism } from "node:os";
import { BoundedQueue, QueueRejected } from "../lib/boundedQueue.js";
import { lowerThreadpoolPriority } from "../lib/threadPriority.js";

export interface Argon2Params {
  memoryCost: number;
  timeCost: number;
  parallelism: number;
  /** Nice value for the threadpool that runs the hashes (lib/threadPriority.ts); 0 or absent: unchanged. */
  threadNice?: number;
}

export interface HasherLimits {
  /** Hashes computed at once; 0 (or absent): one per core. */
  concurrency?: number;
  /** Hashes waiting for a slot; 0 (or absent): 32 per concurrent hash. */
  maxQueued?: number;
}

/** Queued hashes per concurrent hash when maxQueued is 0: at OWASP cost (~40 ms) about 1.3 s of work. */
const QUEUE_PER_SLOT = 32;

/**
 * argon2id hashing through a bounded, deadline-aware queue (lib/boundedQueue.ts), and a dummy
 * verification for users that do not exist. A login whose deadline cannot be met is refused with
 * QueueRejected before any KDF work; so is one that finds the queue full.
 */
export class PasswordHasher {
  private readonly queue: BoundedQueue;
  private reniced: boolean;
  private readonly threadNice: number;
  /** Moving average of one computation (ms); 0 until the first one finished. */
  private runMs = 0;
  /** Logins admitted by `admit` and not yet released. */
  private admitted = 0;
  /** A PHC string with the current parameters and random salt and digest: verifying against it costs a real verification. */
  private readonly dummy: string;

  readonly params: Argon2Params;
  readonly concurrency: number;
  readonly maxQueued: number;

  /** `limits` as a number: the concurrency (older callers). */
  constructor(params: Argon2Params, limits: HasherLimits | number = {}) {
    const l = typeof limits === "number" ? { concurrency: limits } : limits;
    this.params = { memoryCost: params.memoryCost, timeCost: params.timeCost, parallelism: params.parallelism };
    this.concurrency = l.concurrency && l.concurrency > 0 ? l.concurrency : availableParallelism();
    this.maxQueued = l.maxQueued && l.maxQueued > 0 ? l.maxQueued : QUEUE_PER_SLOT * this.concurrency;
    this.queue = new BoundedQueue({ concurrency: this.concurrency, maxQueued: this.maxQueued, expectedRunMs: () => this.runMs });
    this.threadNice = Math.min(19, Math.max(0, params.threadNice ?? 0));
    this.reniced = this.threadNice === 0;
    this.dummy = dummyPhc(this.params);
  }

  /** argon2 computations running now (bounded by the concurrency). */
  get inFlight(): number {
    return this.queue.running;
  }

  /** Computations waiting for a slot (bounded by maxQueued). */
  get queued(): number {
    return this.queue.pending;
  }

  /** Moving average of one computation, ms (0 before the first). */
  get averageMs(): number {
    return this.runMs;
  }

  /**
   * Admits a login that will hash once (a verification or the dummy one), before any store work
   * for it: at most concurrency + maxQueued such logins are in flight, counted from arrival, so a
   * burst cannot get past this check while the earlier ones are still looking up their users.
   * Throws QueueRejected (full, or cannot start before `deadline`); else returns the release,
   * to be called once when the login has ended.
   */
  admit(deadline?: number): () => void {
    if (this.admitted >= this.concurrency + this.maxQueued) throw new QueueRejected("full");
    // Admitted logins not yet at the queue (still in the store) will be ahead of this one.
    const inStore = Math.max(0, this.admitted - this.queue.running - this.queue.pending);
    const why = this.queue.refusal(this.startBy(deadline), inStore);
    if (why) throw new QueueRejected(why);
    this.admitted++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.admitted--;
    };
  }

  /** `deadline` (performance.now() clock): when the caller's answer is due; absent: no deadline. */
  hash(password: string, deadline?: number): Promise<string> {
    return this.queue.run(() => this.timed(argon2.hash(password, { type: argon2.argon2id, ...this.params })), this.startBy(deadline));
  }

  /** False for a wrong password and for a malformed stored hash (fail closed). */
  async verify(phc: string, password: string, deadline?: number): Promise<boolean> {
    return this.queue.run(async () => {
      try {
        return await this.timed(argon2.verify(phc, password));
      } catch {
        return false;
      }
    }, this.startBy(deadline));
  }

  /**
   * Same work as a real verification (same queue, same rules, same parameters), so an unknown
   * user costs what a wrong password costs.
   */
  async burn(password: string, deadline?: number): Promise<void> {
    await this.verify(this.dummy, password, deadline);
  }

  needsRehash(phc: string): boolean {
    try {
      return argon2.needsRehash(phc, { ...this.params });
    } catch {
      return false;
    }
  }

  /** A computation must start one run time before the deadline, or its answer would come too late. */
  private startBy(deadline: number | undefined): number {
    return deadline === undefined ? Infinity : deadline - this.runMs;
  }

  private async timed<T>(work: Promise<T>): Promise<T> {
    // libuv starts its pool threads when the first work is queued: renice them right after.
    if (!this.reniced) this.reniced = lowerThreadpoolPriority(this.threadNice) > 0 || process.platform !== "linux";
    const t0 = performance.now();
    const result = await work;
    // Only finished computations count: a malformed PHC string fails at once and says nothing of the cost.
    const ms = performance.now() - t0;
    this.runMs = this.runMs === 0 ? ms : this.runMs * 0.8 + ms * 0.2;
    return result;
  }
}

/** `$argon2id$v=19$m=..,t=..,p=..$<salt>$<digest>` with random salt and digest (16 and 32 bytes, like argon2.hash). */
function dummyPhc(p: Argon2Params): string {
  const b64 = (n: number) => randomBytes(n).toString("base64").replace(/=+$/, "");
  return `$argon2id$v=19$m=${p.memoryCost},t=${p.timeCost},p=${p.parallelism}$${b64(16)}$${b64(32)}`;
}
