/**
 * Dependencies point one way. The decision core (src/authorize) imports nothing with I/O; the store
 * maps its rows to the core's shapes (store → authorize, never back); config and metrics stand apart
 * from the core. Read from the TypeScript sources, so a new import that breaks this fails here.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";

// dist/test/unit → the repository root
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const SRC = join(ROOT, "src");

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : [],
  );
}

/** The src/ folders (or top-level files) a module imports from, relative to src/. */
function importedFolders(file: string): Array<{ spec: string; folder: string }> {
  const text = readFileSync(file, "utf8");
  const out: Array<{ spec: string; folder: string }> = [];
  for (const m of text.matchAll(/^\s*(?:import|export)\b[^;]*?from\s+"([^"]+)"/gms)) {
    const spec = m[1]!;
    if (!spec.startsWith(".")) continue;
    const target = relative(SRC, resolve(dirname(file), spec));
    out.push({ spec, folder: target.split("/")[0]! });
  }
  return out;
}

function violations(folder: string, forbidden: (target: string) => boolean): string[] {
  return filesUnder(join(SRC, folder)).flatMap((f) =>
    importedFolders(f)
      .filter((i) => forbidden(i.folder))
      .map((i) => `${relative(ROOT, f)} imports ${i.spec}`),
  );
}

describe("layering", () => {
  it("finds the imports it checks (the scan itself works)", () => {
    const seen = importedFolders(join(SRC, "store", "ruleLoaders.ts")).map((i) => i.folder);
    assert.ok(seen.includes("authorize"), `store/ruleLoaders.ts imports the core: ${seen.join(", ")}`);
  });

  it("the decision core imports only itself and plain helpers (and the logger type it is given): no store, router, service, config or metrics", () => {
    const allowed = new Set(["authorize", "lib", "errors", "types", "log"]);
    assert.deepEqual(
      violations("authorize", (t) => !allowed.has(t)),
      [],
    );
  });

  it("config and metrics do not reach into the authorizer", () => {
    assert.deepEqual([...violations("config", (t) => t === "authorize"), ...violations("metrics", (t) => t === "authorize")], []);
  });

  it("the store does not import the router, the service or the auth methods", () => {
    assert.deepEqual(
      violations("store", (t) => ["router", "service", "service.ts", "auth", "cli", "http"].includes(t)),
      [],
    );
  });
});
