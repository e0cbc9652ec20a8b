/**
 * Temporary directories for tests, benchmarks and the tooling they start (`authd-<what>-XXXXXX` under
 * the OS temp dir). Each is removed by removeTempDir() — callers do that in their cleanup — and,
 * as a safety net, when the process exits (a failed test, an exception), so runs leave nothing behind.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

const live = new Set<string>();
let hooked = false;

export function tempDir(what: string): string {
  if (!/^[a-z0-9-]+$/.test(what)) throw new Error(`tempDir: bad name ${JSON.stringify(what)}`);
  const dir = mkdtempSync(join(tmpdir(), `authd-${what}-`));
  live.add(dir);
  if (!hooked) {
    hooked = true;
    process.on("exit", () => {
      for (const d of live) rmSync(d, { recursive: true, force: true, maxRetries: 2 });
    });
  }
  return dir;
}

export async function removeTempDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true, maxRetries: 2 });
  live.delete(dir);
}
