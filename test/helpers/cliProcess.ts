/**
 * wamp-authd as an operator runs it: `node dist/src/cli/main.js --config <file> serve`, a child
 * process with its own HTTP port, for shutdown and multi-instance tests.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "../../devstack/ports.js";
import { removeTempDir, tempDir } from "../../devstack/tempDirs.js";

const MAIN = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "src", "cli", "main.js");

export interface CliInstance {
  proc: ChildProcess;
  pid: number;
  httpPort: number;
  /** stdout + stderr so far (pino JSON lines). */
  output(): string;
  /** Each stream alone (chunks of the two may interleave in output()). */
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (or the signal name) once the process is gone. */
  exited: Promise<number | string>;
  /** Waits for /readyz 200. */
  ready(timeoutMs?: number): Promise<void>;
  metrics(): Promise<string>;
  /** SIGKILL if still running (cleanup). */
  kill(): void;
}

export async function startCli(values: Record<string, unknown>): Promise<CliInstance> {
  const httpPort = await freePort();
  const dir = tempDir("cli");
  const file = join(dir, "config.json");
  writeFileSync(file, JSON.stringify({ ...values, http: { port: httpPort, host: "127.0.0.1" } }));
  const env = { ...process.env };
  delete env.UV_THREADPOOL_SIZE; // let the CLI size it, as in production
  const proc = spawn(process.execPath, [MAIN, "--config", file, "serve"], { stdio: ["ignore", "pipe", "pipe"], env });
  let out = "";
  let stdout = "";
  let stderr = "";
  proc.stdout.on("data", (d: Buffer) => {
    out += d.toString();
    stdout += d.toString();
  });
  proc.stderr.on("data", (d: Buffer) => {
    out += d.toString();
    stderr += d.toString();
  });
  const exited = new Promise<number | string>((r) => proc.on("exit", (code, signal) => r(code ?? signal ?? -1)));
  let gone = false;
  // The config file is read at start-up; the directory goes with the process.
  void exited.then(() => {
    gone = true;
    return removeTempDir(dir);
  });
  const base = `http://127.0.0.1:${httpPort}`;
  return {
    proc,
    pid: proc.pid!,
    httpPort,
    output: () => out,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    async ready(timeoutMs = 30_000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        if (gone) throw new Error(`wamp-authd exited before it was ready:\n${out.slice(-3000)}`);
        const ok = await fetch(`${base}/readyz`).then(
          (r) => r.status === 200,
          () => false,
        );
        if (ok) return;
        if (Date.now() > until) throw new Error(`wamp-authd not ready within ${timeoutMs} ms:\n${out.slice(-3000)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    metrics: () => fetch(`${base}/metrics`).then((r) => r.text()),
    kill() {
      if (!gone) proc.kill("SIGKILL");
    },
  };
}
