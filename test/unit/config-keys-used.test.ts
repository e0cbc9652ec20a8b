/**
 * Every documented configuration key does something: each leaf of src/config/schema.ts is read by
 * product code outside src/config/. Found with the TypeScript checker, not by grepping names (many
 * leaves share a name: `enabled`, `url`, `port`): a property access counts when the object's type is
 * `Config` or one of its sections, or a parameter type such a section was passed to (e.g.
 * `new PasswordHasher(config.argon2)` reads argon2.memoryCost through `this.params.memoryCost`).
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { dirname, join, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";
import ts from "typescript";
import { schema } from "../../src/config/schema.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

function schemaLeaves(node: Record<string, unknown>, prefix: string[] = []): string[] {
  const out: string[] = [];
  for (const [key, v] of Object.entries(node)) {
    if (v && typeof v === "object" && "doc" in v && "default" in v) out.push([...prefix, key].join("."));
    else if (v && typeof v === "object") out.push(...schemaLeaves(v as Record<string, unknown>, [...prefix, key]));
  }
  return out;
}

function program(): ts.Program {
  const file = join(ROOT, "tsconfig.build.json");
  assert.ok(existsSync(file), `${file} (the test runs from dist/test/unit)`);
  const parsed = ts.parseJsonConfigFileContent(ts.readConfigFile(file, (p) => ts.sys.readFile(p)).config, ts.sys, ROOT);
  return ts.createProgram(parsed.fileNames, { ...parsed.options, noEmit: true });
}

/** Config paths read by the given source files (those outside src/config/ unless told otherwise). */
function configReads(p: ts.Program, skip: (file: string) => boolean): Set<string> {
  const checker = p.getTypeChecker();
  const load = p.getSourceFile(join(ROOT, "src", "config", "load.ts"));
  assert.ok(load, "src/config/load.ts is in the program");
  const configSym = checker.getExportsOfModule(checker.getSymbolAtLocation(load)!).find((s) => s.name === "Config");
  assert.ok(configSym, "load.ts exports Config");

  // Config and each of its object-valued sections, by type.
  const paths = new Map<ts.Type, string>();
  const isSection = (t: ts.Type) => (t.flags & ts.TypeFlags.Object) !== 0 && !checker.isArrayType(t) && t.getProperties().length > 0;
  const addSections = (t: ts.Type, path: string) => {
    paths.set(t, path);
    for (const prop of t.getProperties()) {
      const pt = checker.getTypeOfSymbol(prop);
      if (isSection(pt)) addSections(pt, path ? `${path}.${prop.name}` : prop.name);
    }
  };
  addSections(checker.getDeclaredTypeOfSymbol(configSym), "");

  const reads = new Set<string>();
  const record = (t: ts.Type, name: string) => {
    const base = paths.get(t);
    if (base !== undefined) reads.add(base ? `${base}.${name}` : name);
  };
  const files = p.getSourceFiles().filter((f) => f.fileName.startsWith(join(ROOT, "src") + sep) && !skip(f.fileName));
  // Passing a section on widens the set of types that stand for it: repeat until nothing new.
  for (let grew = true; grew;) {
    grew = false;
    for (const f of files) {
      const visit = (n: ts.Node): void => {
        if (ts.isPropertyAccessExpression(n)) record(checker.getTypeAtLocation(n.expression), n.name.text);
        if (ts.isObjectBindingPattern(n)) {
          const t = checker.getTypeAtLocation(n);
          for (const el of n.elements) {
            const name = el.propertyName ?? el.name;
            if (ts.isIdentifier(name)) record(t, name.text);
          }
        }
        if ((ts.isCallExpression(n) || ts.isNewExpression(n)) && n.arguments) {
          for (const arg of n.arguments) {
            const path = paths.get(checker.getTypeAtLocation(arg));
            // An optional parameter (`o: Options = {}`) is `Options | undefined` to its callers.
            const contextual = checker.getContextualType(arg);
            const target = contextual && checker.getNonNullableType(contextual);
            if (path === undefined || !target || paths.has(target) || !isSection(target)) continue;
            // Only a parameter type made of the section's own keys stands for it (not `object`, not a map key).
            const own = new Set(
              checker
                .getTypeAtLocation(arg)
                .getProperties()
                .map((s) => s.name),
            );
            if (target.getProperties().every((s) => own.has(s.name))) {
              paths.set(target, path);
              grew = true;
            }
          }
        }
        ts.forEachChild(n, visit);
      };
      visit(f);
    }
  }
  return reads;
}

describe("configuration keys", () => {
  const leaves = schemaLeaves(schema);
  const p = program();
  const inConfigDir = (f: string) => f.startsWith(join(ROOT, "src", "config") + sep);

  it("every leaf of the schema is read by code outside src/config/", () => {
    assert.ok(leaves.length > 30, `the schema has its keys (${leaves.length})`);
    const reads = configReads(p, inConfigDir);
    assert.deepEqual(
      leaves.filter((k) => !reads.has(k)),
      [],
      "documented keys nothing reads",
    );
  });

  it("the check notices a key nobody reads (cra.onPasswd without src/admin/secrets.ts)", () => {
    const reads = configReads(p, (f) => inConfigDir(f) || f === join(ROOT, "src", "admin", "secrets.ts"));
    assert.equal(reads.has("cra.onPasswd"), false);
    assert.equal(reads.has("deadlineMs"), true);
    assert.equal(reads.has("argon2.memoryCost"), true, "read through PasswordHasher's own parameter type");
  });
});
