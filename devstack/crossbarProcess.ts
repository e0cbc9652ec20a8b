/**
 * Runs a Crossbar.io node as a child process (tests, dev stack, benchmarks).
 *
 * - `crossbar start --cbdir <dir>/.crossbar --loglevel info --color false`, spawned detached, i.e. in its
 *   own session and process group: the controller forks router worker processes into that group, and
 *   stop() signals the whole group so no worker outlives it.
 * - stdout/stderr go into a line ring buffer (logs()); failures carry the log tail.
 * - Ready = the node logged NODE_BOOT_COMPLETE (all workers, realms, roles and transports started)
 *   AND every TCP endpoint in the config accepts connections AND every Unix socket endpoint exists.
 *   The TCP port alone is not enough: Crossbar binds a web transport's port before it attaches the
 *   transport's paths (/ws), and transports are started one after another.
 * - Safety net: if the owning Node process exits (normally, or on SIGINT/SIGTERM/SIGHUP) while a node is
 *   still running, its process group gets SIGTERM. The child and its pipes are unref'd, so a running
 *   Crossbar does not keep the owner's event loop alive by itself.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { access, constants, lstat, mkdir, writeFile } from "node:fs/promises";
import { connect, type Socket } from "node:net";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Readable } from "node:stream";
import { promisify } from "node:util";
import { removeTempDir, tempDir } from "./tempDirs.js";

export interface CrossbarHandle {
  /** the node's working directory; the Crossbar node directory (cbdir) is `<dir>/.crossbar` */
  dir: string;
  /** pid of the Crossbar controller = its process group id (changes on restart) */
  pid: number;
  /** captured stdout+stderr (last lines, across restarts) */
  logs(): string;
  /** SIGTERM the process group, wait for it to be gone (SIGKILL after ~10 s); removes a temp dir it made. Idempotent. */
  stop(): Promise<void>;
  /** stop(), then start again with the same config and directory (so the same ports and socket). */
  restart(): Promise<void>;
}

export interface StartCrossbarOptions {
  /** working directory (default: a fresh temp dir, removed again by stop()) */
  dir?: string;
  /** how long to wait for the node to be ready, default 60 s */
  timeoutMs?: number;
}

const execFileP = promisify(execFile);

const READY_MARKER = "NODE_BOOT_COMPLETE";
/** log lines worth quoting first when start-up fails (the tail is mostly Twisted traceback frames) */
const CAUSE_PATTERN =
  /ApplicationError|CannotListenError|InvalidConfigException|Invalid |invalid |already running|\[Errno \d+\]|No such file/;
/** known harmless noise in 26.10.1 (bjdata C extension built against NumPy 1.x; UBJSON falls back) */
const NOISE_PATTERN = /_ARRAY_API|NumPy|numpy|pybind11/;
const LOG_MAX_LINES = 5000;
const TAIL_LINES = 60;
const DEFAULT_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 10_000;
const KILL_WAIT_MS = 5_000;
const POLL_MS = 100;
/** sun_path is 108 bytes on Linux, including the terminating NUL */
const UNIX_PATH_MAX = 107;

// ---------------------------------------------------------------------------------------------
// locating the executable

let ensured: Promise<string> | undefined;

function repoRoot(): string {
  // compiled: <root>/dist/devstack/crossbarProcess.js; from source: <root>/devstack/crossbarProcess.ts
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, "scripts", "ensure-crossbar.sh"))) return dir;
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  throw new Error(
    `findCrossbar: cannot locate scripts/ensure-crossbar.sh above ${dirname(fileURLToPath(import.meta.url))}; set AUTHD_CROSSBAR`,
  );
}

async function checkExecutable(path: string, origin: string): Promise<string> {
  try {
    await access(path, constants.X_OK);
  } catch {
    throw new Error(`crossbar is not available: ${origin} points to ${JSON.stringify(path)}, which is not an executable file`);
  }
  return path;
}

/**
 * Path of the crossbar executable: $AUTHD_CROSSBAR if set, else whatever `bash scripts/ensure-crossbar.sh`
 * prints (it creates a cached virtualenv with the pinned Crossbar on first use, which takes minutes).
 */
export async function findCrossbar(): Promise<string> {
  const fromEnv = process.env["AUTHD_CROSSBAR"];
  if (fromEnv) return checkExecutable(fromEnv, "AUTHD_CROSSBAR");
  ensured ??= (async () => {
    const root = repoRoot();
    let stdout: string;
    try {
      ({ stdout } = await execFileP("bash", [join(root, "scripts", "ensure-crossbar.sh")], {
        cwd: root,
        encoding: "utf8",
        maxBuffer: 64 * 1024 * 1024,
        timeout: 30 * 60_000,
      }));
    } catch (e) {
      const err = e as { code?: unknown; signal?: unknown; stderr?: string; message?: string };
      const stderr = (err.stderr ?? "").trim().split("\n").slice(-20).join("\n");
      throw new Error(
        `crossbar is not available: \`bash scripts/ensure-crossbar.sh\` failed (exit ${String(err.code ?? err.signal)}). ` +
          `Set AUTHD_CROSSBAR to a crossbar executable, or fix the install.\n${stderr || (err.message ?? "")}`,
        { cause: e },
      );
    }
    const path = stdout.trim().split("\n").pop()?.trim() ?? "";
    if (!path) throw new Error("crossbar is not available: scripts/ensure-crossbar.sh printed no path");
    return checkExecutable(path, "scripts/ensure-crossbar.sh");
  })();
  try {
    return await ensured;
  } catch (e) {
    ensured = undefined; // allow a later retry
    throw e;
  }
}

// ---------------------------------------------------------------------------------------------
// process groups

/**
 * Live (non-zombie) members of a process group. Linux: scans /proc (zombies would otherwise look
 * alive if nobody reaps re-parented workers); elsewhere: kill(-pgid, 0).
 */
export function processGroupMembers(pgid: number): number[] {
  if (!(pgid > 0)) return [];
  if (process.platform === "linux" && existsSync("/proc/self/stat")) {
    const members: number[] = [];
    let entries: string[];
    try {
      entries = readdirSync("/proc");
    } catch {
      entries = [];
    }
    for (const entry of entries) {
      if (!/^\d+$/.test(entry)) continue;
      let stat: string;
      try {
        stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      } catch {
        continue; // exited meanwhile
      }
      // "pid (comm) state ppid pgrp ..." — comm may contain spaces and parentheses
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const state = fields[0];
      if (Number(fields[2]) === pgid && state !== "Z" && state !== "X") members.push(Number(entry));
    }
    return members;
  }
  try {
    process.kill(-pgid, 0);
    return [pgid];
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM" ? [pgid] : [];
  }
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ESRCH") throw e;
  }
}

const liveGroups = new Set<number>();
let hooksInstalled = false;

function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  const killAll = () => {
    for (const pgid of liveGroups) {
      try {
        signalGroup(pgid, "SIGTERM");
      } catch {
        // best effort
      }
    }
    liveGroups.clear();
  };
  process.on("exit", killAll);
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    const handler = () => {
      killAll();
      // keep the default behaviour (terminate) unless somebody else handles the signal
      if (process.listenerCount(sig) === 1) {
        process.removeListener(sig, handler);
        process.kill(process.pid, sig);
      }
    };
    process.on(sig, handler);
  }
}

// ---------------------------------------------------------------------------------------------
// helpers

class LogRing {
  private lines: string[] = [];
  constructor(private readonly max: number) {}
  add(line: string): void {
    this.lines.push(line);
    if (this.lines.length > this.max + this.max / 4) this.lines.splice(0, this.lines.length - this.max);
  }
  text(): string {
    return this.lines.slice(-this.max).join("\n");
  }
  tail(n: number): string {
    return this.lines.slice(-n).join("\n");
  }
}

/** Splits a stream into lines (keeps a partial last line until it is completed or the stream ends). */
function lineReader(stream: Readable, onLine: (line: string) => void): void {
  let partial = "";
  stream.setEncoding("utf8");
  stream.on("data", (chunk: string) => {
    const parts = (partial + chunk).split(/\r?\n/);
    partial = parts.pop() ?? "";
    for (const p of parts) onLine(p);
  });
  stream.on("end", () => {
    if (partial) onLine(partial);
    partial = "";
  });
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function waitFor(cond: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (cond()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(POLL_MS);
  }
}

interface Endpoints {
  tcp: Array<{ host: string; port: number }>;
  unix: string[];
}

function asRecord(x: unknown): Record<string, unknown> | undefined {
  return typeof x === "object" && x !== null && !Array.isArray(x) ? (x as Record<string, unknown>) : undefined;
}

/** Listening endpoints of all router transports (ports given as env-var strings are skipped). */
function listeningEndpoints(config: Record<string, unknown>, cbdir: string): Endpoints {
  const out: Endpoints = { tcp: [], unix: [] };
  const workers = Array.isArray(config["workers"]) ? config["workers"] : [];
  for (const w of workers) {
    const transports = asRecord(w)?.["transports"];
    if (!Array.isArray(transports)) continue;
    for (const t of transports) {
      const ep = asRecord(asRecord(t)?.["endpoint"]);
      if (!ep) continue;
      if (ep["type"] === "tcp" && typeof ep["port"] === "number") {
        let host = typeof ep["interface"] === "string" ? ep["interface"].trim() : "";
        if (host === "" || host === "0.0.0.0") host = ep["version"] === 6 ? "::1" : "127.0.0.1";
        else if (host === "::") host = "::1";
        out.tcp.push({ host, port: ep["port"] });
      } else if (ep["type"] === "unix" && typeof ep["path"] === "string" && !ep["path"].includes("$")) {
        // Crossbar resolves relative socket paths against the cbdir
        out.unix.push(isAbsolute(ep["path"]) ? ep["path"] : join(cbdir, ep["path"]));
      }
    }
  }
  return out;
}

function tcpAccepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const socket: Socket = connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolvePromise(ok);
    };
    socket.setTimeout(1000);
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
    socket.once("timeout", () => done(false));
  });
}

async function isSocket(path: string): Promise<boolean> {
  try {
    return (await lstat(path)).isSocket();
  } catch {
    return false;
  }
}

async function endpointsReady(eps: Endpoints): Promise<boolean> {
  for (const p of eps.unix) if (!(await isSocket(p))) return false;
  for (const { host, port } of eps.tcp) if (!(await tcpAccepts(host, port))) return false;
  return true;
}

// ---------------------------------------------------------------------------------------------
// the handle

class CrossbarProcess implements CrossbarHandle {
  readonly dir: string;
  private readonly cbdir: string;
  private readonly ring = new LogRing(LOG_MAX_LINES);
  private child: ChildProcess | null = null;
  private childPid = 0;
  private exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  private booted = false;
  private causes: string[] = [];
  private stopping: Promise<void> | null = null;
  /** resolves when the child's stdio is closed (all its output has been read) */
  private closed: Promise<void> = Promise.resolve();

  constructor(
    private readonly exe: string,
    dir: string,
    private readonly config: Record<string, unknown>,
    private readonly timeoutMs: number,
    /** a temp dir made for this node: removed by stop() */
    private readonly ownsDir = false,
  ) {
    this.dir = dir;
    this.cbdir = join(dir, ".crossbar");
  }

  get pid(): number {
    return this.childPid;
  }

  logs(): string {
    return this.ring.text();
  }

  private args(): string[] {
    return ["start", "--cbdir", this.cbdir, "--loglevel", "info", "--color", "false"];
  }

  private failure(reason: string): Error {
    return new Error(
      `crossbar did not become ready: ${reason}\n` +
        `command: ${this.exe} ${this.args().join(" ")}\n` +
        (this.causes.length ? `--- likely cause ---\n${this.causes.join("\n")}\n` : "") +
        `--- last ${TAIL_LINES} log lines ---\n${this.ring.tail(TAIL_LINES)}`,
    );
  }

  async launch(): Promise<void> {
    if (this.child && !this.exit) throw new Error("crossbar is already running");
    const endpoints = listeningEndpoints(this.config, this.cbdir);
    for (const p of endpoints.unix) {
      if (Buffer.byteLength(p) > UNIX_PATH_MAX) {
        throw new Error(`crossbar: unix socket path is longer than ${UNIX_PATH_MAX} bytes: ${p}`);
      }
    }
    await mkdir(this.cbdir, { recursive: true });
    await writeFile(join(this.cbdir, "config.json"), JSON.stringify(this.config, null, 2) + "\n");

    this.exit = null;
    this.booted = false;
    this.causes = [];
    const child = spawn(this.exe, this.args(), {
      cwd: this.dir,
      detached: true, // own session + process group (setsid), so the whole tree can be signalled
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, PYTHONUNBUFFERED: "1" },
    });
    this.child = child;
    const onLine = (line: string) => {
      this.ring.add(line);
      if (line.includes(READY_MARKER)) this.booted = true;
      if (this.causes.length < 8 && CAUSE_PATTERN.test(line) && !NOISE_PATTERN.test(line)) {
        this.causes.push(line.length > 500 ? `${line.slice(0, 500)}...` : line);
      }
    };
    lineReader(child.stdout, onLine);
    lineReader(child.stderr, onLine);
    child.on("exit", (code, signal) => {
      this.exit = { code, signal };
      this.ring.add(`[crossbarProcess] controller ${String(child.pid)} exited (code=${String(code)}, signal=${String(signal)})`);
    });
    this.closed = new Promise((r) => child.once("close", () => r()));
    try {
      await new Promise<void>((ok, fail) => {
        child.once("spawn", ok);
        child.once("error", (e) => fail(new Error(`crossbar: cannot start ${this.exe}: ${e.message}`)));
      });
    } catch (e) {
      this.child = null;
      throw e;
    }
    child.on("error", (e) => this.ring.add(`[crossbarProcess] child process error: ${e.message}`));
    const pid = child.pid;
    if (pid === undefined) throw new Error(`crossbar: spawning ${this.exe} gave no pid`);
    this.childPid = pid;
    liveGroups.add(pid);
    installExitHooks();
    child.unref();
    (child.stdout as Socket | null)?.unref();
    (child.stderr as Socket | null)?.unref();

    const deadline = Date.now() + this.timeoutMs;
    for (;;) {
      if (this.exit) {
        const { code, signal } = this.exit;
        await this.stopProcess();
        await Promise.race([this.closed, sleep(1000)]);
        throw this.failure(`the crossbar process exited (code=${String(code)}, signal=${String(signal)})`);
      }
      if (this.booted && (await endpointsReady(endpoints))) return;
      if (Date.now() >= deadline) {
        const why = this.booted ? "node booted but its endpoints are not reachable" : `no ${READY_MARKER} in the log`;
        await this.stopProcess();
        await Promise.race([this.closed, sleep(1000)]);
        throw this.failure(`timed out after ${this.timeoutMs} ms (${why})`);
      }
      await sleep(POLL_MS);
    }
  }

  async stop(): Promise<void> {
    await this.stopProcess();
    if (this.ownsDir) await removeTempDir(this.dir);
  }

  private stopProcess(): Promise<void> {
    this.stopping ??= this.doStop().finally(() => {
      this.stopping = null;
    });
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    const pgid = this.childPid;
    if (!pgid) return;
    const gone = () => this.exit !== null && processGroupMembers(pgid).length === 0;
    if (!gone()) {
      signalGroup(pgid, "SIGTERM");
      if (!(await waitFor(gone, STOP_GRACE_MS))) {
        this.ring.add(`[crossbarProcess] process group ${pgid} still alive after ${STOP_GRACE_MS} ms, sending SIGKILL`);
        signalGroup(pgid, "SIGKILL");
        if (!(await waitFor(gone, KILL_WAIT_MS))) {
          throw new Error(`crossbar: process group ${pgid} survived SIGKILL (members: ${processGroupMembers(pgid).join(", ")})`);
        }
      }
    }
    liveGroups.delete(pgid);
  }

  async restart(): Promise<void> {
    await this.stopProcess();
    this.ring.add("[crossbarProcess] restarting");
    await this.launch();
  }
}

/**
 * Writes `<dir>/.crossbar/config.json`, starts Crossbar and resolves once it is ready (see the module
 * comment); rejects with the log tail if the process exits first or the timeout passes (the process
 * group is stopped in both cases).
 */
export async function startCrossbar(config: Record<string, unknown>, opts: StartCrossbarOptions = {}): Promise<CrossbarHandle> {
  const exe = await findCrossbar();
  const dir = opts.dir ? resolve(opts.dir) : tempDir("crossbar");
  const proc = new CrossbarProcess(exe, dir, config, opts.timeoutMs ?? DEFAULT_TIMEOUT_MS, !opts.dir);
  try {
    await proc.launch();
  } catch (err) {
    if (!opts.dir) await removeTempDir(dir);
    throw err;
  }
  return proc;
}
