import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { PasswordHasher } from "../../src/auth/passwords.js";
import { Semaphore } from "../../src/lib/semaphore.js";

describe("bounded argon2 work", () => {
  it("Semaphore never runs more than its limit at once, and runs everything", async () => {
    const gate = new Semaphore(3);
    let now = 0;
    let max = 0;
    const done = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        gate.run(async () => {
          now++;
          max = Math.max(max, now);
          await new Promise((r) => setTimeout(r, 5 + (i % 3)));
          now--;
          return i;
        }),
      ),
    );
    assert.equal(max, 3);
    assert.deepEqual(
      done,
      Array.from({ length: 20 }, (_, i) => i),
    );
    assert.equal(gate.running, 0);
    assert.equal(gate.pending, 0);
  });

  it("a failing task releases its slot", async () => {
    const gate = new Semaphore(1);
    await assert.rejects(gate.run(() => Promise.reject(new Error("boom"))));
    assert.equal(await gate.run(() => Promise.resolve("next")), "next");
  });

  it("PasswordHasher computes at most `concurrency` hashes at once (counted while 12 are queued)", async () => {
    const hasher = new PasswordHasher({ memoryCost: 4096, timeCost: 2, parallelism: 1 }, 2);
    let max = 0;
    const sampler = setInterval(() => (max = Math.max(max, hasher.inFlight)), 1);
    try {
      const phcs = await Promise.all(Array.from({ length: 12 }, (_, i) => hasher.hash(`pw-${i}`)));
      const checks = await Promise.all(phcs.map((p, i) => hasher.verify(p, `pw-${i}`)));
      assert.ok(checks.every(Boolean));
    } finally {
      clearInterval(sampler);
    }
    assert.equal(max, 2, `observed ${max} concurrent hashes`);
    assert.equal(hasher.inFlight, 0);
  });

  it("concurrency 0 means one hash per core", async () => {
    const { availableParallelism } = await import("node:os");
    const hasher = new PasswordHasher({ memoryCost: 1024, timeCost: 1, parallelism: 1 });
    let max = 0;
    const sampler = setInterval(() => (max = Math.max(max, hasher.inFlight)), 1);
    try {
      await Promise.all(Array.from({ length: 4 * availableParallelism() }, (_, i) => hasher.hash(`x${i}`)));
    } finally {
      clearInterval(sampler);
    }
    assert.ok(max <= availableParallelism(), `observed ${max}`);
  });
});
