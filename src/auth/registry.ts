import { readdir } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import type { AuthMethod } from "./method.js";

/**
 * Loads every module in ./methods/: each default-exports one AuthMethod, so adding a method
 * means adding one file and nothing else.
 */
export async function loadMethods(): Promise<Map<string, AuthMethod>> {
  const dir = new URL("./methods/", import.meta.url);
  const files = (await readdir(fileURLToPath(dir))).filter((f) => /\.(js|ts)$/.test(f) && !f.endsWith(".d.ts")).sort();
  const methods = new Map<string, AuthMethod>();
  for (const file of files) {
    const mod = (await import(new URL(file, dir).href)) as { default?: AuthMethod };
    const m = mod.default;
    if (!m || typeof m.name !== "string" || typeof m.authenticate !== "function") {
      throw new Error(`auth method module ${file} must default-export { name, authenticate }`);
    }
    if (methods.has(m.name)) throw new Error(`two auth method modules are named "${m.name}"`);
    methods.set(m.name, m);
  }
  return methods;
}
