/**
 * Two wamp-authd instances registered with invoke roundrobin (one in process, one a CLI child
 * process). The child is SIGKILLed while clients keep logging in: logins keep working through the
 * other instance; at most the calls in flight on the killed one fail.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ticketLogin } from "../helpers/client.js";
import { startCli, type CliInstance } from "../helpers/cliProcess.js";
import { seedAppWithAlice } from "../helpers/seed.js";
import { startStack, type Stack } from "../helpers/stack.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function count(text: string, outcome: string): number {
  let n = 0;
  for (const m of text.matchAll(/^authd_authenticate_seconds_count\{([^}]*)\} (\d+)$/gm))
    if (m[1]!.includes(`outcome="${outcome}"`)) n += Number(m[2]);
  return n;
}

describe("several instances (roundrobin), one killed under load", () => {
  let stack: Stack;
  let cli: CliInstance | null = null;

  before(async () => {
    stack = await startStack({ realms: { app: ["user"] } });
    await seedAppWithAlice(stack.store.pool);
    await stack.service!.reload();
  });

  after(async () => {
    cli?.kill();
    await stack?.stop();
  });

  it("SIGKILL of one instance: logins continue through the other", { timeout: 90_000 }, async () => {
    cli = await startCli({
      database: { url: stack.store.url },
      router: { url: `rawsocket+unix://${stack.socketPath}`, authRealm: "authd", realms: ["app"] },
      argon2: { memoryCost: 1024, timeCost: 1, parallelism: 1 },
      throttle: { accountThreshold: 50, peerThreshold: 10000 },
      log: { level: "warn" },
    });
    await cli.ready();

    const workers = 4;
    let ok = 0;
    let failed = 0;
    let okAfterKill = 0;
    let killed = false;
    let stop = false;
    const loop = async () => {
      while (!stop) {
        try {
          const c = await ticketLogin(stack.wsUrl, "app", "alice", "alice-ticket");
          await c.session.call("wamp.session.count").catch(() => undefined);
          c.close();
          ok++;
          if (killed) okAfterKill++;
        } catch {
          failed++;
        }
      }
    };
    const running = Array.from({ length: workers }, () => loop());
    await sleep(2500);
    const servedByChild = count(await cli.metrics(), "allow");
    cli.proc.kill("SIGKILL");
    killed = true;
    const failedAtKill = failed;
    await sleep(2500);
    stop = true;
    await Promise.all(running);
    assert.equal(await cli.exited, "SIGKILL");
    console.log(
      `logins: ${ok} ok (${okAfterKill} after the kill), ${failed} failed (${failed - failedAtKill} after the kill); the killed instance had answered ${servedByChild}`,
    );
    assert.ok(servedByChild > 0, "roundrobin: the child instance did serve logins");
    assert.equal(failedAtKill, 0, "no failures before the kill");
    assert.ok(failed <= workers, `at most the ${workers} calls in flight may fail, ${failed} did`);
    assert.ok(okAfterKill >= 10, `logins keep working after the kill (${okAfterKill})`);
  });
});
