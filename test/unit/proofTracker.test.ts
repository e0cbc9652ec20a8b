/**
 * ProofTracker and PendingCounts (src/auth/): an answer of a router-checked method is a pending
 * failure until the session joins; a join confirms it, no join in time fails it, and a watch that
 * was interrupted leaves it uncounted. The guard here records calls; the store-backed throttle is
 * tested in test/integration/throttle.test.ts and proofs.test.ts.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { PendingCounts } from "../../src/auth/pendingCounts.js";
import { ProofTracker, type ProofFailure } from "../../src/auth/proofTracker.js";
import { parseAuthRequest, type AuthRequest } from "../../src/auth/request.js";
import type { LoginGuard } from "../../src/auth/throttle.js";
import type { Principal } from "../../src/auth/method.js";
import type { ThrottleKey } from "../../src/store/throttleQueries.js";
import { quietLog } from "../helpers/db.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ACCOUNT: ThrottleKey = { scope: "account", key: '["app","sam"]' };
const PEER: ThrottleKey = { scope: "peer", key: "192.0.2.1" };

function request(session: number, authid = "sam"): AuthRequest {
  return parseAuthRequest(["app", authid, { authmethod: "scram", session, authextra: {}, transport: { peer: "tcp4:192.0.2.1:1" } }]);
}

const principal = (p: Partial<Principal> = {}): Principal => ({ role: "user", authid: "sam", realm: "app", extra: {}, ...p });

class RecordingGuard implements LoginGuard {
  failedCalls: Array<[string | null, string]> = [];
  succeededCalls: Array<string | null> = [];
  /** Pending count of ACCOUNT seen while failed() ran. */
  pendingDuringFailed: number[] = [];
  constructor(private readonly counts: PendingCounts) {}
  check(): Promise<{ locked: boolean; hold: null }> {
    return Promise.resolve({ locked: false, hold: null });
  }
  holdFor(): Promise<ReturnType<PendingCounts["hold"]>> {
    return Promise.resolve(this.counts.hold([ACCOUNT, PEER]));
  }
  async failed(req: AuthRequest, code: string): Promise<void> {
    this.pendingDuringFailed.push(this.counts.count(ACCOUNT));
    await sleep(5);
    this.failedCalls.push([req.authid, code]);
  }
  succeeded(req: AuthRequest): Promise<void> {
    this.succeededCalls.push(req.authid);
    return Promise.resolve();
  }
}

function setup(o: { timeoutMs?: number; watching?: (realm: string) => number | null; maxPending?: number } = {}) {
  const counts = new PendingCounts();
  const guard = new RecordingGuard(counts);
  const failures: ProofFailure[] = [];
  const tracker = new ProofTracker({
    timeoutMs: o.timeoutMs ?? 60,
    log: quietLog,
    guard,
    watching: o.watching ?? (() => 1),
    onFailed: (f) => failures.push(f),
    ...(o.maxPending ? { maxPending: o.maxPending } : {}),
  });
  return { counts, guard, failures, tracker };
}

describe("PendingCounts", () => {
  it("counts holds per key; releasing twice is harmless", () => {
    const c = new PendingCounts();
    const a = c.hold([ACCOUNT, PEER]);
    const b = c.hold([ACCOUNT]);
    assert.equal(c.count(ACCOUNT), 2);
    assert.equal(c.count(PEER), 1);
    a.release();
    a.release();
    assert.equal(c.count(ACCOUNT), 1);
    assert.equal(c.count(PEER), 0);
    b.release();
    assert.equal(c.size, 0);
  });
});

describe("ProofTracker", () => {
  it("a join of the answered session confirms the proof: keys released, the account's counter cleared, nothing failed", async () => {
    const { counts, guard, failures, tracker } = setup();
    tracker.expect(request(11), principal(), await guard.holdFor());
    assert.equal(counts.count(ACCOUNT), 1);
    tracker.joined("app", { session: 11, authid: "sam", authrole: "user" });
    assert.equal(counts.count(ACCOUNT), 0);
    assert.deepEqual(guard.succeededCalls, ["sam"]);
    await sleep(100);
    assert.deepEqual(guard.failedCalls, []);
    assert.deepEqual(failures, []);
    assert.equal(tracker.size, 0);
  });

  it("no join in time: counted as the account's failure (still pending while it is stored), then audited", async () => {
    const { counts, guard, failures, tracker } = setup();
    tracker.expect(request(12), principal(), await guard.holdFor());
    await sleep(120);
    assert.deepEqual(guard.failedCalls, [["sam", "account"]]);
    assert.deepEqual(guard.pendingDuringFailed, [1], "the hold lasts until the failure is stored");
    assert.equal(counts.count(ACCOUNT), 0);
    assert.equal(failures.length, 1);
    assert.equal(failures[0]!.code, "account");
    assert.equal(failures[0]!.decoy, null);
    assert.match(failures[0]!.reason, /^proof failed: the session did not join within 60 ms$/);
    // A join after the fact changes nothing.
    tracker.joined("app", { session: 12, authid: "sam" });
    assert.deepEqual(guard.succeededCalls, []);
  });

  it("a decoy fails with its own code and reason, and a join claiming to be it is ignored", async () => {
    const { guard, failures, tracker } = setup();
    tracker.expect(
      request(13, "ghost"),
      principal({ authid: "ghost", decoy: { reason: "unknown user", code: "unknown" } }),
      await guard.holdFor(),
    );
    tracker.joined("app", { session: 13, authid: "ghost" });
    await sleep(120);
    assert.deepEqual(guard.succeededCalls, []);
    assert.deepEqual(guard.failedCalls, [["ghost", "unknown"]]);
    assert.equal(failures[0]!.code, "unknown");
    assert.equal(failures[0]!.reason, "unknown user (decoy answered; proof failed)");
  });

  it("joins that do not match (other realm, other authid, junk) are ignored", async () => {
    const { guard, tracker } = setup();
    tracker.expect(request(14), principal(), await guard.holdFor());
    for (const junk of [null, 14, "14", { session: "14" }, { session: 14.5 }, { session: 14, authid: "mallory" }, [{ session: 14 }]])
      tracker.joined("app", junk);
    tracker.joined("ops", { session: 14, authid: "sam" });
    assert.equal(tracker.size, 1);
    await sleep(120);
    assert.deepEqual(guard.failedCalls, [["sam", "account"]]);
  });

  it("a realm without a live join watch: not tracked, the hold is released at once", async () => {
    const { counts, guard, tracker } = setup({ watching: () => null });
    tracker.expect(request(15), principal(), await guard.holdFor());
    assert.equal(tracker.size, 0);
    assert.equal(counts.count(ACCOUNT), 0);
    await sleep(100);
    assert.deepEqual(guard.failedCalls, []);
  });

  it("a watch interrupted before the timeout (router reconnect): the outcome is unknown, nothing is counted", async () => {
    let epoch = 1;
    const { counts, guard, failures, tracker } = setup({ watching: () => epoch });
    tracker.expect(request(16), principal(), await guard.holdFor());
    epoch = 2;
    await sleep(120);
    assert.deepEqual(guard.failedCalls, []);
    assert.deepEqual(failures, []);
    assert.equal(counts.count(ACCOUNT), 0);
  });

  it("no session id: not tracked; stop() drops everything uncounted; `full` at maxPending", async () => {
    const { counts, guard, tracker } = setup({ maxPending: 2 });
    const noSession = parseAuthRequest(["app", "sam", { authmethod: "scram", authextra: {}, transport: { peer: "unix" } }]);
    tracker.expect(noSession, principal(), await guard.holdFor());
    assert.equal(tracker.size, 0);
    tracker.expect(request(17), principal(), await guard.holdFor());
    assert.equal(tracker.full, false);
    tracker.expect(request(18), principal(), await guard.holdFor());
    assert.equal(tracker.full, true);
    tracker.stop();
    assert.equal(tracker.size, 0);
    assert.equal(counts.size, 0);
    await sleep(100);
    assert.deepEqual(guard.failedCalls, []);
  });
});
