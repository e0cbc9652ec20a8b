/**
 * `wamp-authd serve` writes JSON lines only, also while the router goes away and comes back
 * (autobahn-js would print multi-line console warnings then): the real CLI in a child process, a
 * real Crossbar restarted under it.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import * as admin from "../../src/store/adminQueries.js";
import { startCli, type CliInstance } from "../helpers/cliProcess.js";
import { ticketLogin } from "../helpers/client.js";
import { userWithTicket } from "../helpers/seed.js";
import { startStack, type Stack } from "../helpers/stack.js";

function nonJson(text: string): string[] {
  return text
    .split("\n")
    .filter((l) => l.trim() !== "")
    .filter((l) => {
      try {
        const v: unknown = JSON.parse(l);
        return v === null || typeof v !== "object" || Array.isArray(v);
      } catch {
        return true;
      }
    });
}

describe("serve output while Crossbar restarts", () => {
  let stack: Stack;
  let cli: CliInstance | undefined;

  before(async () => {
    stack = await startStack({ realms: { app: ["user"] } });
    await admin.addRealm(stack.store.pool, "app");
    await admin.addRole(stack.store.pool, "app", "user");
    await userWithTicket(stack.store.pool, { realm: "app", authid: "alice", role: "user" }, "alice-ticket");
    await stack.service!.stop(); // the CLI below answers instead
  });

  after(async () => {
    cli?.kill();
    await cli?.exited;
    await stack?.stop();
  });

  it("every stdout and stderr line is a JSON object; autobahn's warnings arrive as structured lines", { timeout: 120_000 }, async () => {
    cli = await startCli({
      database: { url: stack.store.url },
      router: { ...stack.config.router },
      argon2: { memoryCost: 1024, timeCost: 1, parallelism: 1 },
      log: { level: "debug" }, // autobahn's reconnect chatter is logged at debug
    });
    await cli.ready();
    await stack.crossbar!.restart();
    await cli.ready(30_000);
    const alice = await ticketLogin(stack.wsUrl, "app", "alice", "alice-ticket");
    alice.close();
    cli.proc.kill("SIGTERM");
    assert.equal(await cli.exited, 0);

    assert.deepEqual(nonJson(cli.stdout()), [], "stdout");
    assert.deepEqual(nonJson(cli.stderr()), [], "stderr");
    const records = cli
      .stdout()
      .split("\n")
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const fromAutobahn = records.filter((r) => r.source === "autobahn");
    assert.ok(
      fromAutobahn.some((r) => r.msg === "connection closed"),
      `autobahn's "connection closed" as a log record: ${JSON.stringify(fromAutobahn)}`,
    );
    assert.ok(records.some((r) => r.msg === "router connection closed"));
    assert.ok(records.some((r) => r.msg === "shutting down"));
  });
});
