/**
 * Router restarts: wamp-authd (default router.maxRetryDelayMs) reconnects and re-registers within
 * 2 s of Crossbar being ready again; /readyz is 503 while the router is away.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { freePort } from "../../devstack/ports.js";
import { ticketLogin } from "../helpers/client.js";
import { waitFor } from "../helpers/logCapture.js";
import { seedAppWithAlice } from "../helpers/seed.js";
import { startStack, type Stack } from "../helpers/stack.js";

describe("router restart", () => {
  let stack: Stack;
  let base: string;

  before(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    // maxRetryDelayMs: the production default (the stack helper uses a shorter one).
    stack = await startStack({ realms: { app: ["user"] }, service: { http: { port }, router: { maxRetryDelayMs: 1000 } } });
    await seedAppWithAlice(stack.store.pool);
    await stack.service!.reload();
  });

  after(async () => stack?.stop());

  it("re-registers within 2 s of Crossbar being ready again (twice)", { timeout: 120_000 }, async () => {
    const measured: number[] = [];
    const allRealms: number[] = [];
    for (let round = 0; round < 2; round++) {
      await stack.crossbar!.stop();
      await waitFor("/readyz 503", async () => (await fetch(`${base}/readyz`)).status === 503, 10_000);
      // Stay down long enough for the reconnect back-off to reach its maximum.
      await new Promise((r) => setTimeout(r, 3000));
      await stack.crossbar!.restart();
      const ready = performance.now();
      for (;;) {
        const ok = await ticketLogin(stack.wsUrl, "app", "alice", "alice-ticket").then(
          (c) => {
            c.close();
            return true;
          },
          () => false,
        );
        if (ok) break;
        if (performance.now() - ready > 15_000) throw new Error("no successful login within 15 s of the router being ready");
        await new Promise((r) => setTimeout(r, 20));
      }
      measured.push(performance.now() - ready);
      // Every realm (the authorizer's too) re-registered: /readyz is green again.
      await waitFor("/readyz 200", async () => (await fetch(`${base}/readyz`)).status === 200, 10_000, 20);
      allRealms.push(performance.now() - ready);
    }
    console.log(
      `router ready -> first successful login: ${measured.map((m) => `${m.toFixed(0)} ms`).join(", ")}; -> /readyz 200: ${allRealms.map((m) => `${m.toFixed(0)} ms`).join(", ")}`,
    );
    for (const m of [...measured, ...allRealms]) assert.ok(m < 2000, `took ${m.toFixed(0)} ms`);
    // The authorizer is registered again too, and the metrics saw the reconnects.
    const c = await ticketLogin(stack.wsUrl, "app", "alice", "alice-ticket");
    await c.session.register("com.example.back", () => "back");
    assert.equal(await c.session.call("com.example.back"), "back");
    c.close();
    assert.equal((await fetch(`${base}/readyz`)).status, 200);
    const text = await (await fetch(`${base}/metrics`)).text();
    const reconnects = Number(/^authd_router_reconnects_total (\d+)/m.exec(text)?.[1]);
    assert.ok(
      reconnects >= 4,
      `2 realms x 2 restarts, metric says ${reconnects}: ${text
        .split("\n")
        .filter((l) => l.includes("reconnect"))
        .join(" | ")}`,
    );
  });
});
