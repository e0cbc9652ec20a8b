/**
 * Pure parts of login-audit aggregation and of the login hardening: which outcomes keep their
 * own audit row, the bounded in-memory rollup, the per-address in-flight limit, the bucket keys of
 * unknown accounts.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import { NO_REALM, OTHER_REALM, ROLLUP_KINDS, RollupBuffer, rollupKindOf, type RollupSample } from "../../src/audit/rollup.js";
import { PeerAdmission } from "../../src/auth/admission.js";
import { accountKeys } from "../../src/auth/throttle.js";
import type { FailureCode } from "../../src/errors/authErrors.js";

const sample = (over: Partial<RollupSample> = {}): RollupSample => ({
  authid: "ghost",
  realm: "app",
  method: "ticket",
  peer: "tcp4:203.0.113.1:1",
  reason: "unknown user",
  ...over,
});

describe("rollupKindOf: own row or rollup", () => {
  it("keeps allows, known-account denials and unavailable answers as rows; aggregates the rest", () => {
    const expected: Record<FailureCode, string | null> = {
      account: null,
      unavailable: null,
      unknown: "unknown",
      policy: "policy",
      locked_out: "locked_out",
      bad_request: "bad_request",
      overloaded: "overloaded",
    };
    assert.equal(rollupKindOf(null), null);
    for (const [code, kind] of Object.entries(expected)) assert.equal(rollupKindOf(code as FailureCode), kind, code);
    for (const kind of Object.values(expected)) if (kind) assert.ok((ROLLUP_KINDS as readonly string[]).includes(kind));
  });
});

describe("RollupBuffer", () => {
  it("random authids and realms give at most kinds × (known realms + 2) rows per window, and every denial is counted", () => {
    const known = new Set(["app", "ops"]);
    const buf = new RollupBuffer(60_000, (r) => known.has(r));
    const at = new Date(Date.UTC(2026, 0, 1, 12, 0, 10));
    let n = 0;
    for (let i = 0; i < 20_000; i++) {
      const kind = ROLLUP_KINDS[i % ROLLUP_KINDS.length]!;
      const realm = i % 7 === 0 ? null : i % 3 === 0 ? "app" : `realm-${randomBytes(6).toString("hex")}`;
      buf.add(kind, sample({ authid: randomBytes(12).toString("hex"), realm }), new Date(at.getTime() + (i % 40_000)));
      n++;
    }
    const rows = buf.drain();
    assert.ok(rows.length <= ROLLUP_KINDS.length * (known.size + 2), `${rows.length} rows`);
    assert.equal(
      rows.reduce((s, r) => s + r.count, 0),
      n,
    );
    assert.ok(rows.every((r) => r.realm === "app" || r.realm === OTHER_REALM || r.realm === NO_REALM));
    assert.equal(buf.size, 0, "drain empties the buffer");
  });

  it("one row per (window, kind, realm) with first/last time and the first denial as sample", () => {
    const buf = new RollupBuffer(60_000, (r) => r === "app");
    const t = (s: number) => new Date(Date.UTC(2026, 0, 1, 12, 0, 0) + s * 1000);
    buf.add("unknown", sample({ authid: "first" }), t(5));
    buf.add("unknown", sample({ authid: "second" }), t(50));
    buf.add("unknown", sample({ authid: "next-window" }), t(61));
    buf.add("locked_out", sample({ authid: "locked" }), t(6));
    const rows = buf.drain().sort((a, b) => a.windowStart.getTime() - b.windowStart.getTime() || a.kind.localeCompare(b.kind));
    assert.equal(rows.length, 3);
    const [locked, unknown, next] = [rows.find((r) => r.kind === "locked_out")!, rows[1]!, rows[2]!];
    assert.equal(unknown.kind, "unknown");
    assert.equal(unknown.count, 2);
    assert.deepEqual(unknown.windowStart, t(0));
    assert.deepEqual(unknown.firstAt, t(5));
    assert.deepEqual(unknown.lastAt, t(50));
    assert.equal(unknown.sample.authid, "first");
    assert.equal(next.count, 1);
    assert.deepEqual(next.windowStart, t(60));
    assert.equal(locked.sample.authid, "locked");
  });

  it("samples are clipped: a client cannot make a sample large", () => {
    const buf = new RollupBuffer(60_000, () => false);
    buf.add("bad_request", sample({ authid: "x".repeat(5000), realm: "r".repeat(5000), reason: "y".repeat(5000) }));
    const [row] = buf.drain();
    assert.equal(row!.realm, OTHER_REALM);
    assert.equal(row!.sample.authid!.length, 256);
    assert.equal(row!.sample.realm!.length, 256);
    assert.equal(row!.sample.reason!.length, 256);
  });

  it("restore merges a failed batch back (counts add up, the earlier sample wins); memory stays bounded", () => {
    const buf = new RollupBuffer(1000, () => true, 50);
    const t0 = Date.UTC(2026, 0, 1);
    buf.add("unknown", sample({ authid: "early" }), new Date(t0 + 10));
    const failed = buf.drain();
    buf.add("unknown", sample({ authid: "late" }), new Date(t0 + 500));
    buf.restore(failed);
    const [row] = buf.drain();
    assert.equal(row!.count, 2);
    assert.equal(row!.sample.authid, "early");
    // A long outage: windows pile up, the oldest are dropped.
    for (let w = 0; w < 500; w++) buf.add("unknown", sample(), new Date(t0 + w * 1000));
    assert.ok(buf.size <= 50, `${buf.size} rows kept`);
    const kept = buf.drain();
    assert.ok(
      kept.some((r) => r.windowStart.getTime() === t0 + 499_000),
      "the newest window is kept",
    );
  });
});

describe("PeerAdmission (logins in flight per client address)", () => {
  it("admits up to the limit per key, frees a slot on release (once), and forgets idle keys", () => {
    const gate = new PeerAdmission(2);
    const a1 = gate.enter("198.51.100.1");
    const a2 = gate.enter("198.51.100.1");
    assert.ok(a1 && a2);
    assert.equal(gate.enter("198.51.100.1"), null, "third in flight is refused");
    assert.ok(gate.enter("198.51.100.2"), "another address is independent");
    a1();
    a1(); // a second release must not free another slot
    assert.equal(gate.count("198.51.100.1"), 1);
    const a3 = gate.enter("198.51.100.1");
    assert.ok(a3);
    assert.equal(gate.enter("198.51.100.1"), null);
    a2();
    a3();
    assert.equal(gate.count("198.51.100.1"), 0);
    assert.equal(gate.peers, 1, "only 198.51.100.2 still has a login in flight");
  });

  it("no address (unix socket) or limit 0: never refused", () => {
    const gate = new PeerAdmission(1);
    for (let i = 0; i < 10; i++) assert.ok(gate.enter(null));
    const open = new PeerAdmission(0);
    for (let i = 0; i < 10; i++) assert.ok(open.enter("198.51.100.1"));
    assert.equal(open.peers, 0);
  });
});

describe("accountKeys (failure counters of unknown accounts)", () => {
  it("maps any number of authids onto at most `buckets` counters, keyed by a secret", () => {
    const secret = randomBytes(32);
    const buckets = new Set<string>();
    for (let i = 0; i < 5000; i++) buckets.add(accountKeys(secret, 16, "app", `ghost-${i}-${randomBytes(4).toString("hex")}`).bucket.key);
    assert.equal(buckets.size, 16);
    assert.ok([...buckets].every((k) => /^unknown:\d+$/.test(k)));
    const own = accountKeys(secret, 16, "app", "alice");
    assert.deepEqual(own.own, { scope: "account", key: JSON.stringify(["app", "alice"]) });
    assert.deepEqual(accountKeys(secret, 16, "app", "alice"), own, "stable for one secret");
    // Another secret spreads names differently: which names share a bucket is not computable without it.
    const other = randomBytes(32);
    let same = 0;
    for (let i = 0; i < 200; i++)
      if (accountKeys(secret, 65536, "app", `n${i}`).bucket.key === accountKeys(other, 65536, "app", `n${i}`).bucket.key) same++;
    assert.ok(same < 5, `${same} of 200 names in the same bucket under two secrets`);
  });
});
