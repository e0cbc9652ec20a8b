import type { ThrottleKey } from "../store/throttleQueries.js";

/** A claim on some throttle keys, counted until released (releasing twice is harmless). */
export interface Hold {
  readonly keys: readonly ThrottleKey[];
  release(): void;
}

export const keyId = (k: ThrottleKey): string => `${k.scope}\u0000${k.key}`;

/**
 * Failures that have not happened yet but may: logins whose proof the router still has to check
 * (an answered wampcra/cryptosign/scram HELLO whose session has not joined), and such logins while
 * wamp-authd is still deciding them. The lock check adds these to the stored counters, so a burst
 * of HELLOs is throttled before any of them is known to have failed. In memory, per instance.
 */
export class PendingCounts {
  private readonly counts = new Map<string, number>();

  count(k: ThrottleKey): number {
    return this.counts.get(keyId(k)) ?? 0;
  }

  /** Number of keys with something pending (tests, metrics). */
  get size(): number {
    return this.counts.size;
  }

  hold(keys: readonly ThrottleKey[]): Hold {
    for (const k of keys) this.counts.set(keyId(k), (this.counts.get(keyId(k)) ?? 0) + 1);
    let held = true;
    return {
      keys,
      release: () => {
        if (!held) return;
        held = false;
        for (const k of keys) {
          const id = keyId(k);
          const n = (this.counts.get(id) ?? 0) - 1;
          if (n > 0) this.counts.set(id, n);
          else this.counts.delete(id);
        }
      },
    };
  }
}
