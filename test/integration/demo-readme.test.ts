/**
 * The demo a new user meets: the dev stack's pieces (demo data, Crossbar, wamp-authd, the demo
 * callee; devstack/demoStack.ts, which `npm run dev` runs) on free ports, and README's two client
 * snippets, extracted from README.md and run as written with node and with the Crossbar venv's python.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { after, before, describe, it } from "node:test";
import { findCrossbar } from "../../devstack/crossbarProcess.js";
import { startDemoStack, type DemoStack } from "../../devstack/demoStack.js";
import { freePort } from "../../devstack/ports.js";
import { removeTempDir, tempDir } from "../../devstack/tempDirs.js";
import { errorOf, ticketLogin } from "../helpers/client.js";
import { freshStore, quietLog, type TestStore } from "../helpers/db.js";

const execFileP = promisify(execFile);
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

/** The fenced block right after `<!-- demo-client:<name> -->` in README.md. */
function snippet(name: string, lang: string): string {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const m = new RegExp(`<!-- demo-client:${name} -->\\n\`\`\`${lang}\\n([\\s\\S]*?)\\n\`\`\`\\n`).exec(readme);
  assert.ok(m, `README.md has a ${lang} block after <!-- demo-client:${name} -->`);
  return m[1]!;
}

describe("the demo: README's client snippets against the dev stack's pieces", () => {
  let store: TestStore;
  let dir: string;
  let demo: DemoStack;

  before(async () => {
    store = await freshStore({ migrated: false });
    dir = tempDir("demo");
    const [wsPort, httpPort] = [await freePort(), await freePort()];
    demo = await startDemoStack({ dbUrl: store.url, stackDir: dir, wsPort, httpPort, log: quietLog, env: {} });
  });

  after(async () => {
    await demo?.stop();
    await store?.close();
    if (dir) await removeTempDir(dir);
  });

  const env = () => ({ ...process.env, DEMO_URL: demo.wsUrl });

  it("the JavaScript snippet (autobahn-js) logs in as alice and gets results", { timeout: 60_000 }, async () => {
    const { stdout } = await execFileP(process.execPath, ["--input-type=module", "--eval", snippet("js", "js")], {
      cwd: ROOT, // resolves `autobahn` from the project's node_modules
      env: env(),
      timeout: 30_000,
    });
    assert.deepEqual(stdout.trim().split("\n"), ["Hello, alice!", "5"]);
  });

  it("the Python snippet (autobahn-python) logs in as alice and gets results", { timeout: 60_000 }, async () => {
    const python = join(dirname(await findCrossbar()), "python");
    const { stdout } = await execFileP(python, ["-c", snippet("python", "python")], { env: env(), timeout: 30_000 });
    assert.deepEqual(stdout.trim().split("\n"), ["Hello, alice!", "5"]);
  });

  it("guests may call demo.hello only; nobody but the backend registers under demo.; bad arguments are errors", async () => {
    const bob = await ticketLogin(demo.wsUrl, "demo", "bob", "bob-secret");
    const alice = await ticketLogin(demo.wsUrl, "demo", "alice", "alice-secret");
    try {
      assert.equal(await bob.session.call("demo.hello", ["bob"]), "Hello, bob!");
      assert.equal(await errorOf(bob.session.call("demo.add2", [1, 2])), "wamp.error.not_authorized");
      assert.equal(await errorOf(alice.session.register("demo.fake", () => 0)), "wamp.error.not_authorized");
      // Crossbar answers a REGISTER of a taken URI before it asks the authorizer; taken or not, alice cannot have it.
      assert.equal(await errorOf(alice.session.register("demo.add2", () => 0)), "wamp.error.procedure_already_exists");
      assert.equal(await alice.session.call("demo.add2", [2, 40]), 42, "still the backend's");
      for (const args of [[1], [1, "2"], [1, Infinity], [1, 2, 3], ["1", "2"], [{}, []]]) {
        assert.equal(await errorOf(alice.session.call("demo.add2", args)), "demo.error.invalid_argument", JSON.stringify(args));
      }
      for (const args of [[42], [""], ["x".repeat(101)], [{ name: "x" }]]) {
        assert.equal(await errorOf(alice.session.call("demo.hello", args)), "demo.error.invalid_argument", JSON.stringify(args));
      }
      assert.equal(await alice.session.call("demo.hello", []), "Hello, world!");
    } finally {
      bob.close();
      alice.close();
    }
    // The backend's own login is a demo credential like the others: a wrong ticket is refused.
    await assert.rejects(ticketLogin(demo.wsUrl, "demo", "demo-backend", "wrong"));
  });
});
