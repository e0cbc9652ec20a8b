/**
 * Lowers the scheduling priority of libuv's threadpool workers (Linux: nice is per thread), where
 * argon2 hashes run. Under a login storm the hashes then take only CPU that routing does not need:
 * the router, the event loop answering authorize calls and Postgres go first. No-op elsewhere.
 */
import { readdirSync, readFileSync } from "node:fs";
import { setPriority } from "node:os";

/** Renices every thread named `libuv-worker` in this process; returns how many it changed. */
export function lowerThreadpoolPriority(nice: number): number {
  if (process.platform !== "linux") return 0;
  let changed = 0;
  let tids: string[];
  try {
    tids = readdirSync("/proc/self/task");
  } catch {
    return 0;
  }
  for (const tid of tids) {
    try {
      if (readFileSync(`/proc/self/task/${tid}/comm`, "utf8").trim() !== "libuv-worker") continue;
      setPriority(Number(tid), nice);
      changed++;
    } catch {
      // thread gone, or not permitted: leave it
    }
  }
  return changed;
}
