import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

/** The built CLI (dist/src/cli/main.js), run as operators run it. */
export const CLI = fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Cheap hashing for tests; the CLI reads these like any other environment. */
export function cliEnv(databaseUrl: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, USER: process.env.USER };
  return {
    ...env,
    AUTHD_DATABASE_URL: databaseUrl,
    AUTHD_ARGON2_MEMORY_COST: "1024",
    AUTHD_ARGON2_TIME_COST: "1",
    AUTHD_SCRAM_ITERATIONS: "2",
    AUTHD_SCRAM_MEMORY: "64",
    AUTHD_LOG_LEVEL: "warn",
    ...extra,
  };
}

/** Runs `wamp-authd <args>`; stdin gets `input` (then EOF), so it is never a terminal. */
export function runCli(args: string[], o: { env: NodeJS.ProcessEnv; input?: string; timeoutMs?: number }): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: o.env, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`wamp-authd ${args.join(" ")} did not finish in time`));
    }, o.timeoutMs ?? 30000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(o.input ?? "");
  });
}

/** Runs and insists on exit 0, returning stdout. */
export async function cliOk(args: string[], o: { env: NodeJS.ProcessEnv; input?: string }): Promise<string> {
  const r = await runCli(args, o);
  if (r.code !== 0) throw new Error(`wamp-authd ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}
