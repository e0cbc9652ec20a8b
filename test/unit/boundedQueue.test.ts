/**
 * The bounded, deadline-aware queue in front of argon2 (src/lib/boundedQueue.ts) and the
 * PasswordHasher that uses it: expired work never runs, the bound holds, FIFO otherwise.
 */
import assert from "node:assert/strict";
import { availableParallelism } from "node:os";
import { describe, it } from "node:test";
import { PasswordHasher } from "../../src/auth/passwords.js";
import { BoundedQueue, QueueRejected } from "../../src/lib/boundedQueue.js";

/** A task the test finishes by hand. */
function gate<T = void>() {
  let open!: (v: T) => void;
  const p = new Promise<T>((r) => (open = r));
  return { p, open };
}

const tick = () => new Promise((r) => setImmediate(r));

async function rejection(p: Promise<unknown>): Promise<QueueRejected> {
  try {
    await p;
  } catch (err) {
    if (err instanceof QueueRejected) return err;
    throw err;
  }
  throw new Error("expected a QueueRejected");
}

describe("BoundedQueue", () => {
  it("never runs more than its concurrency at once, runs everything, in FIFO order", async () => {
    const q = new BoundedQueue({ concurrency: 3, maxQueued: 100 });
    let now = 0;
    let max = 0;
    const order: number[] = [];
    const done = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        q.run(async () => {
          order.push(i);
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
    assert.deepEqual(
      order,
      Array.from({ length: 20 }, (_, i) => i),
      "started in arrival order",
    );
    assert.equal(q.running, 0);
    assert.equal(q.pending, 0);
  });

  it("a failing task releases its slot", async () => {
    const q = new BoundedQueue({ concurrency: 1, maxQueued: 1 });
    await assert.rejects(q.run(() => Promise.reject(new Error("boom"))));
    assert.equal(await q.run(() => Promise.resolve("next")), "next");
  });

  it("a full queue refuses at once, without running the task; the bound is never exceeded", async () => {
    const q = new BoundedQueue({ concurrency: 2, maxQueued: 3 });
    const hold = gate();
    let ran = 0;
    const task = async () => {
      ran++;
      await hold.p;
    };
    const accepted = Array.from({ length: 5 }, () => q.run(task));
    await tick();
    assert.equal(q.running, 2);
    assert.equal(q.pending, 3);
    const refused = await rejection(q.run(task));
    assert.equal(refused.why, "full");
    assert.equal(q.pending, 3);
    hold.open();
    await Promise.all(accepted);
    assert.equal(ran, 5, "the refused task never ran");
  });

  it("work whose start-by time has passed is dropped before it runs, in the queue or on arrival", async () => {
    let clock = 1000;
    const q = new BoundedQueue({ concurrency: 1, maxQueued: 10, now: () => clock });
    const hold = gate();
    const ran: string[] = [];
    const note = (name: string) => () => {
      ran.push(name);
      return Promise.resolve();
    };
    const blocker = q.run(async () => {
      ran.push("blocker");
      await hold.p;
    });
    const soon = q.run(note("soon"), 1500);
    const later = q.run(note("later"), 5000);
    const never = q.run(note("never"), Infinity);
    await tick();
    assert.equal((await rejection(q.run(note("late"), 900))).why, "late", "already late on arrival");
    clock = 2000; // "soon" has expired while waiting
    hold.open();
    await blocker;
    assert.equal((await rejection(soon)).why, "late");
    await later;
    await never;
    assert.deepEqual(ran, ["blocker", "later", "never"]);
    assert.equal(q.running, 0);
    assert.equal(q.pending, 0);
  });

  it("a full queue first makes room by dropping expired work", async () => {
    let clock = 0;
    const q = new BoundedQueue({ concurrency: 1, maxQueued: 2, now: () => clock });
    const hold = gate();
    const blocker = q.run(() => hold.p);
    const expiring = [q.run(() => Promise.resolve("a"), 10), q.run(() => Promise.resolve("b"), 10)];
    await tick();
    assert.equal((await rejection(q.run(() => Promise.resolve("c"), 100))).why, "full");
    clock = 20;
    const fresh = q.run(() => Promise.resolve("d"), 100);
    for (const e of expiring) assert.equal((await rejection(e)).why, "late");
    hold.open();
    await blocker;
    assert.equal(await fresh, "d");
  });

  it("with an expected run time, work that could not start in time is refused on arrival", async () => {
    const clock = 0;
    const q = new BoundedQueue({ concurrency: 2, maxQueued: 100, now: () => clock, expectedRunMs: () => 100 });
    const hold = gate();
    const running = [q.run(() => hold.p), q.run(() => hold.p)];
    // The 3rd and 4th may start as soon as a running task ends.
    const third = q.run(() => Promise.resolve("3"), 50);
    const fourth = q.run(() => Promise.resolve("4"), 50);
    // The 5th waits for at least one full run of the 3rd or 4th (100 ms) but must start by 90.
    assert.equal((await rejection(q.run(() => Promise.resolve("5"), 90))).why, "late");
    const fifth = q.run(() => Promise.resolve("5"), 250);
    hold.open();
    await Promise.all(running);
    assert.deepEqual(await Promise.all([third, fourth, fifth]), ["3", "4", "5"]);
  });

  it("refuses nonsense limits", () => {
    assert.throws(() => new BoundedQueue({ concurrency: 0, maxQueued: 1 }), RangeError);
    assert.throws(() => new BoundedQueue({ concurrency: 1, maxQueued: -1 }), RangeError);
  });
});

describe("PasswordHasher on the bounded queue", () => {
  it("computes at most `concurrency` hashes at once (counted while 12 are queued)", async () => {
    const hasher = new PasswordHasher({ memoryCost: 4096, timeCost: 2, parallelism: 1 }, { concurrency: 2 });
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
    assert.ok(hasher.averageMs > 0, "the run time estimate is learned");
  });

  it("concurrency 0 means one hash per core; the queue defaults to 32 per concurrent hash", async () => {
    const hasher = new PasswordHasher({ memoryCost: 1024, timeCost: 1, parallelism: 1 });
    assert.equal(hasher.concurrency, availableParallelism());
    assert.equal(hasher.maxQueued, 32 * availableParallelism());
    let max = 0;
    const sampler = setInterval(() => (max = Math.max(max, hasher.inFlight)), 1);
    try {
      await Promise.all(Array.from({ length: 4 * availableParallelism() }, (_, i) => hasher.hash(`x${i}`)));
    } finally {
      clearInterval(sampler);
    }
    assert.ok(max <= availableParallelism(), `observed ${max}`);
  });

  it("past the bound, verify and burn are refused at once (no KDF work); a passed deadline is refused too", async () => {
    const hasher = new PasswordHasher({ memoryCost: 4096, timeCost: 3, parallelism: 1 }, { concurrency: 1, maxQueued: 2 });
    const phc = await hasher.hash("right");
    const accepted = [hasher.verify(phc, "a"), hasher.verify(phc, "b"), hasher.burn("c")];
    assert.equal(hasher.queued, 2);
    const t0 = performance.now();
    assert.equal((await rejection(hasher.verify(phc, "right"))).why, "full");
    assert.equal((await rejection(hasher.burn("x"))).why, "full");
    assert.ok(performance.now() - t0 < 20, "refused without waiting");
    assert.deepEqual(await Promise.all(accepted), [false, false, undefined]);
    assert.equal((await rejection(hasher.verify(phc, "right", performance.now() - 1))).why, "late");
    assert.equal(await hasher.verify(phc, "right", performance.now() + 10_000), true);
  });

  it("admit bounds hashing logins from arrival (before their store lookups), and releases once", () => {
    const hasher = new PasswordHasher({ memoryCost: 1024, timeCost: 1, parallelism: 1 }, { concurrency: 1, maxQueued: 2 });
    const slots = [hasher.admit(), hasher.admit(), hasher.admit()];
    assert.throws(
      () => hasher.admit(),
      (e: unknown) => e instanceof QueueRejected && e.why === "full",
    );
    slots[0]!();
    slots[0]!();
    const again = hasher.admit();
    assert.throws(() => hasher.admit(), QueueRejected, "a second release of the same slot frees nothing");
    again();
    slots[1]!();
    slots[2]!();
    assert.throws(
      () => hasher.admit(performance.now() - 1),
      (e: unknown) => e instanceof QueueRejected && e.why === "late",
    );
    hasher.admit(performance.now() + 1000)();
  });

  it("burn verifies against a dummy hash with the configured parameters (never true, same work)", async () => {
    const hasher = new PasswordHasher({ memoryCost: 1024, timeCost: 1, parallelism: 1 }, 1);
    await hasher.burn("anything");
    await hasher.burn("");
    assert.equal(hasher.inFlight, 0);
  });
});
