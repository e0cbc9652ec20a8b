import argon2 from "argon2";
import { randomBytes } from "node:crypto";
import { availableParallelism } from "node:os";
import { Semaphore } from "../lib/semaphore.js";
import { lowerThreadpoolPriority } from "../lib/threadPriority.js";

export interface Argon2Params {
  memoryCost: number;
  timeCost: number;
  parallelism: number;
  /** Nice value for the threadpool that runs the hashes (lib/threadPriority.ts); 0 or absent: unchanged. */
  threadNice?: number;
}

/** argon2id hashing with bounded concurrency and a dummy hash for users that do not exist. */
export class PasswordHasher {
  private readonly gate: Semaphore;
  private dummy: Promise<string> | null = null;
  private reniced: boolean;
  private readonly threadNice: number;

  readonly params: Argon2Params;

  /** concurrency 0 (or omitted): one hash per core. */
  constructor(params: Argon2Params, concurrency = 0) {
    this.params = { memoryCost: params.memoryCost, timeCost: params.timeCost, parallelism: params.parallelism };
    this.gate = new Semaphore(concurrency > 0 ? concurrency : availableParallelism());
    this.threadNice = Math.min(19, Math.max(0, params.threadNice ?? 0));
    this.reniced = this.threadNice === 0;
  }

  /** argon2 computations running now (bounded by the concurrency). */
  get inFlight(): number {
    return this.gate.running;
  }

  hash(password: string): Promise<string> {
    return this.gate.run(() => this.lowPriority(argon2.hash(password, { type: argon2.argon2id, ...this.params })));
  }

  /** False for a wrong password and for a malformed stored hash (fail closed). */
  async verify(phc: string, password: string): Promise<boolean> {
    return this.gate.run(async () => {
      try {
        return await this.lowPriority(argon2.verify(phc, password));
      } catch {
        return false;
      }
    });
  }

  /** libuv starts its pool threads when the first work is queued: renice them right after. */
  private lowPriority<T>(work: Promise<T>): Promise<T> {
    if (!this.reniced) this.reniced = lowerThreadpoolPriority(this.threadNice) > 0 || process.platform !== "linux";
    return work;
  }

  needsRehash(phc: string): boolean {
    try {
      return argon2.needsRehash(phc, { ...this.params });
    } catch {
      return false;
    }
  }

  /** Same work as a real verification, so an unknown user costs what a wrong password costs. */
  async burn(password: string): Promise<void> {
    this.dummy ??= this.hash(randomBytes(16).toString("hex"));
    await this.verify(await this.dummy, password);
  }
}
