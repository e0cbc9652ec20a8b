/**
 * Graceful shutdown of the real CLI (`node dist/src/cli/main.js --config <file> serve`): on SIGTERM
 * it stops taking new calls (unregisters), still answers the call in flight, closes and exits 0.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { after, before, describe, it } from "node:test";
import pg from "pg";
import { Aborted, ticketLogin } from "../helpers/client.js";
import { startCli, type CliInstance } from "../helpers/cliProcess.js";
import { seedAlice } from "../helpers/seed.js";
import { startStack, type Stack } from "../helpers/stack.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("graceful shutdown of the CLI process", () => {
  let stack: Stack;
  const clis: CliInstance[] = [];
  const cliConfig = () => ({
    database: { url: stack.store.url },
    router: { url: `rawsocket+unix://${stack.socketPath}`, authRealm: "authd", realms: ["app"] },
    argon2: { memoryCost: 1024, timeCost: 1, parallelism: 1 },
    log: { level: "info" },
  });

  before(async () => {
    stack = await startStack({ realms: { app: ["user"] } });
    // Only the CLI process answers in this file.
    await stack.service!.stop();
    const db = stack.store.pool;
    await seedAlice(db);
  });

  after(async () => {
    for (const c of clis) c.kill();
    await stack?.stop();
  });

  it("SIGTERM: new logins are refused, the in-flight one is answered, the process exits 0", { timeout: 60_000 }, async () => {
    const cli = await startCli(cliConfig());
    clis.push(cli);
    await cli.ready();

    // libuv's threadpool was sized before first use (src/cli/threadpool.ts).
    const workers = readdirSync(`/proc/${cli.pid}/task`).filter((t) => {
      try {
        return readFileSync(`/proc/${cli.pid}/task/${t}/comm`, "utf8").trim() === "libuv-worker";
      } catch {
        return false;
      }
    }).length;
    assert.equal(workers, Math.max(4, availableParallelism() + 4), "UV_THREADPOOL_SIZE set by the CLI");

    const warm = await ticketLogin(stack.wsUrl, "app", "alice", "alice-ticket");
    warm.close();

    const locker = new pg.Client({ connectionString: stack.store.url });
    await locker.connect();
    try {
      await locker.query("BEGIN");
      await locker.query("LOCK TABLE authd.users IN ACCESS EXCLUSIVE MODE");
      const t0 = Date.now();
      const inFlight = ticketLogin(stack.wsUrl, "app", "alice", "alice-ticket").then(
        (c) => ({ ms: Date.now() - t0, joined: c, abort: null as Aborted | null }),
        (e: unknown) => ({ ms: Date.now() - t0, joined: null, abort: e as Aborted }),
      );
      await sleep(500); // the call has reached wamp-authd and waits for the lock
      cli.proc.kill("SIGTERM");
      await sleep(700);
      const late = await ticketLogin(stack.wsUrl, "app", "alice", "alice-ticket").then(
        (c) => {
          c.close();
          return null;
        },
        (e: unknown) => e,
      );
      assert.ok(late instanceof Aborted, "a login after SIGTERM is not served");
      await locker.query("COMMIT");
      const r = await inFlight;
      assert.equal(r.abort, null, `the in-flight login was answered: ${String(r.abort)}`);
      assert.equal(r.joined?.welcome.authid, "alice");
      r.joined?.close();
      console.log(`in-flight login answered after ${r.ms} ms (SIGTERM at 500 ms, lock released at ~1200 ms)`);
    } finally {
      await locker.query("COMMIT").catch(() => undefined);
      await locker.end();
    }
    const code = await Promise.race([cli.exited, sleep(15_000).then(() => "still running")]);
    assert.equal(code, 0, cli.output().slice(-2000));
    assert.match(cli.output(), /"signal":"SIGTERM".*"msg":"shutting down"/);
  });

  it("SIGINT on an idle instance exits 0 promptly", { timeout: 60_000 }, async () => {
    const cli = await startCli(cliConfig());
    clis.push(cli);
    await cli.ready();
    const t0 = Date.now();
    cli.proc.kill("SIGINT");
    const code = await Promise.race([cli.exited, sleep(15_000).then(() => "still running")]);
    assert.equal(code, 0, cli.output().slice(-2000));
    console.log(`SIGINT to exit: ${Date.now() - t0} ms`);
  });
});
