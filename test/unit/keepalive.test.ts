import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { startKeepalive } from "../../src/store/keepalive.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("startKeepalive", () => {
  it("answered probes keep it quiet; one never answered is reported once, after the deadline", async () => {
    let calls = 0;
    let hang = false;
    const dead: string[] = [];
    const k = startKeepalive({
      intervalMs: 20,
      deadlineMs: 60,
      probe: () => {
        calls++;
        return hang ? new Promise(() => undefined) : Promise.resolve();
      },
      onDead: (why) => dead.push(why),
    });
    await sleep(250);
    assert.ok(calls >= 2, `probed every interval (${calls})`);
    assert.deepEqual(dead, []);
    hang = true;
    const before = calls;
    await sleep(500);
    assert.deepEqual(dead, ["keepalive: no answer within 60 ms"]);
    assert.equal(calls, before + 1, "no new probe while one is outstanding, none after the report");
    k.stop();
  });

  it("a failing probe is reported with its error; stop() ends it", async () => {
    const dead: string[] = [];
    startKeepalive({ intervalMs: 10, deadlineMs: 1000, probe: () => Promise.reject(new Error("boom")), onDead: (w) => dead.push(w) });
    await sleep(80);
    assert.deepEqual(dead, ["keepalive query failed: boom"]);

    let calls = 0;
    const k = startKeepalive({
      intervalMs: 10,
      deadlineMs: 1000,
      probe: () => Promise.resolve(void calls++),
      onDead: () => assert.fail("not dead"),
    });
    k.stop();
    await sleep(50);
    assert.equal(calls, 0);
  });
});
