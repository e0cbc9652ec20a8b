/** Forked helper processes (the service, the floor's callee) and their IPC messages. */
import { fork, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));

export interface Child {
  proc: ChildProcess;
  /** Resolves with the next message of this type (rejects on an error message or exit). */
  next<T = Record<string, unknown>>(type: string, timeoutMs?: number): Promise<T>;
  send(m: Record<string, unknown>): void;
  /** VmRSS and VmHWM (peak) in bytes, from /proc. */
  memory(): { rss: number; peak: number };
  stop(): Promise<void>;
}

export function forkChild(script: string, args: string[]): Child {
  // BENCH_PROFILE=<dir>: write V8 CPU profiles of the children there (finding hot spots).
  const prof = process.env.BENCH_PROFILE;
  // --expose-gc: memory readings after a full collection, not of whatever garbage is left.
  // --max-semi-space-size=2: as the image runs the service (Dockerfile), so memory rows measure that.
  const execArgv = ["--expose-gc", "--max-semi-space-size=2", ...(prof ? ["--cpu-prof", `--cpu-prof-dir=${prof}`] : [])];
  const proc = fork(join(here, script), args, { stdio: ["ignore", "inherit", "inherit", "ipc"], execArgv });
  const queue: Array<Record<string, unknown>> = [];
  const waiters: Array<{ type: string; resolve: (m: never) => void; reject: (e: Error) => void }> = [];
  let exited: Error | null = null;
  const deliver = () => {
    for (let i = 0; i < waiters.length; i++) {
      const w = waiters[i]!;
      if (exited) {
        waiters.splice(i--, 1);
        w.reject(exited);
        continue;
      }
      const j = queue.findIndex((m) => m.type === w.type || m.type === "error");
      if (j < 0) continue;
      const [m] = queue.splice(j, 1) as [Record<string, unknown>];
      waiters.splice(i--, 1);
      if (m.type === "error") w.reject(new Error(`${script}: ${String(m.message)}`));
      else w.resolve(m as never);
    }
  };
  proc.on("message", (m: Record<string, unknown>) => {
    queue.push(m);
    deliver();
  });
  proc.on("exit", (code, signal) => {
    exited = new Error(`${script} exited (${code ?? signal})`);
    deliver();
  });
  return {
    proc,
    next<T>(type: string, timeoutMs = 60_000): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${script}: no ${type} message within ${timeoutMs} ms`)), timeoutMs);
        waiters.push({
          type,
          resolve: (m) => {
            clearTimeout(timer);
            resolve(m);
          },
          reject: (e) => {
            clearTimeout(timer);
            reject(e);
          },
        });
        deliver();
      });
    },
    send(m) {
      if (proc.connected) proc.send(m);
    },
    memory() {
      const status = readFileSync(`/proc/${proc.pid}/status`, "utf8");
      const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, "m").exec(status)?.[1] ?? NaN) * 1024;
      return { rss: kb("VmRSS"), peak: kb("VmHWM") };
    },
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const gone = new Promise<void>((r) => proc.once("exit", () => r()));
      if (proc.connected) proc.send({ cmd: "stop" });
      const timer = setTimeout(() => proc.kill("SIGKILL"), 10_000);
      await gone;
      clearTimeout(timer);
    },
  };
}
