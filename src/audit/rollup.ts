/**
 * Aggregation of denials an attacker can repeat at will (unknown users, lockouts, malformed and
 * shed logins, failed decoy proofs): counted in memory per (time window, kind, realm) with the
 * first denial as a sample, and written as a handful of rows (authd.audit_rollup) instead of one
 * row per attempt. Pure: no I/O. Realm names in HELLO are client-chosen, so only realms the store
 * knows get their own row; everything else is counted under OTHER_REALM.
 */
import type { FailureCode } from "../errors/authErrors.js";

export const ROLLUP_KINDS = ["unknown", "policy", "locked_out", "bad_request", "overloaded", "proof_failed"] as const;
export type RollupKind = (typeof ROLLUP_KINDS)[number];

/** Realm column for realms the store does not know; not a valid realm name, so it cannot collide with one. */
export const OTHER_REALM = "(other)";
/** Realm column when the request named no realm. */
export const NO_REALM = "(none)";

export interface RollupSample {
  authid: string | null;
  realm: string | null;
  method: string | null;
  peer: string | null;
  reason: string | null;
}

export interface RollupRow {
  windowStart: Date;
  kind: RollupKind;
  realm: string;
  count: number;
  firstAt: Date;
  lastAt: Date;
  sample: RollupSample;
}

/**
 * Where a login outcome goes: null = its own audit row (every allow, every denial of a known
 * account, every unavailable answer), else the rollup kind.
 */
export function rollupKindOf(code: FailureCode | null): RollupKind | null {
  if (code === null || code === "account" || code === "unavailable") return null;
  return code;
}

/** Client-chosen text is cut to this length in samples. */
const SAMPLE_MAX = 256;

function clip(s: string | null): string | null {
  return s === null ? null : s.length > SAMPLE_MAX ? s.slice(0, SAMPLE_MAX) : s;
}

export class RollupBuffer {
  private rows = new Map<string, RollupRow>();

  /**
   * `maxRows` bounds memory if the store stays unreachable for long (the oldest windows are
   * dropped first); in normal operation a buffer holds a few windows × kinds × realms.
   */
  constructor(
    private readonly windowMs: number,
    private readonly knownRealm: (realm: string) => boolean,
    private readonly maxRows = 10_000,
  ) {}

  get size(): number {
    return this.rows.size;
  }

  add(kind: RollupKind, sample: RollupSample, at: Date = new Date()): void {
    const realm = !sample.realm ? NO_REALM : this.knownRealm(sample.realm) ? sample.realm : OTHER_REALM;
    const windowStart = new Date(Math.floor(at.getTime() / this.windowMs) * this.windowMs);
    const key = `${windowStart.getTime()}\u0000${kind}\u0000${realm}`;
    const row = this.rows.get(key);
    if (row) {
      row.count++;
      if (at < row.firstAt) row.firstAt = at;
      if (at > row.lastAt) row.lastAt = at;
      return;
    }
    const clipped: RollupSample = {
      authid: clip(sample.authid),
      realm: clip(sample.realm),
      method: clip(sample.method),
      peer: clip(sample.peer),
      reason: clip(sample.reason),
    };
    this.rows.set(key, { windowStart, kind, realm, count: 1, firstAt: at, lastAt: at, sample: clipped });
    this.trim();
  }

  /** Takes everything counted so far (to be written). */
  drain(): RollupRow[] {
    const out = [...this.rows.values()];
    this.rows = new Map();
    return out;
  }

  /** Puts rows back after a failed write; counts merge with what arrived meanwhile. */
  restore(rows: RollupRow[]): void {
    for (const r of rows) {
      const key = `${r.windowStart.getTime()}\u0000${r.kind}\u0000${r.realm}`;
      const cur = this.rows.get(key);
      if (!cur) {
        this.rows.set(key, r);
        continue;
      }
      cur.count += r.count;
      if (r.firstAt < cur.firstAt) {
        cur.firstAt = r.firstAt;
        cur.sample = r.sample;
      }
      if (r.lastAt > cur.lastAt) cur.lastAt = r.lastAt;
    }
    this.trim();
  }

  private trim(): void {
    if (this.rows.size <= this.maxRows) return;
    // Down to 90 %, so a long outage sorts once in a while rather than on every denial.
    const oldestFirst = [...this.rows.entries()].sort((a, b) => a[1].windowStart.getTime() - b[1].windowStart.getTime());
    for (const [key] of oldestFirst.slice(0, this.rows.size - Math.floor(this.maxRows * 0.9))) this.rows.delete(key);
  }
}
