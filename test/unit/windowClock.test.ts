import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { WindowClock, type WindowSubject } from "../../src/service/windowClock.js";

describe("window clock", () => {
  it("reports subjects when their instant passes, each once per instant, earliest first", async () => {
    const seen: WindowSubject[][] = [];
    const clock = new WindowClock({ onDue: (s) => seen.push(s) });
    const now = Date.now();
    const role: WindowSubject = { kind: "role", realm: "app", role: "user" };
    const who: WindowSubject = { kind: "identity", realm: "app", authid: "alice" };
    clock.at(now + 120, who);
    clock.at(now + 40, role);
    clock.at(now + 40, role);
    clock.at(Number.MAX_SAFE_INTEGER, role);
    await new Promise((r) => setTimeout(r, 250));
    assert.deepEqual(seen, [[role], [who]]);
    assert.equal(clock.pending, 1, "the far instant waits");
    clock.stop();
    assert.equal(clock.pending, 0);
  });
});
