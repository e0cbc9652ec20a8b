import type { AuditRecorder } from "../audit/recorder.js";
import type { Logger } from "../log/logger.js";
import type { Queryable } from "../store/queries.js";
import { pruneFailures } from "../store/throttleQueries.js";

export interface HousekeepingOptions {
  db: Queryable;
  audit: AuditRecorder;
  log: Logger;
  retentionDays: number;
  throttleWindowMs: number;
  intervalMs?: number;
}

/** Hourly: prunes audit rows and rollups past their retention and idle failure counters. */
export class Housekeeping {
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly o: HousekeepingOptions) {}

  start(): void {
    this.timer = setInterval(() => void this.run(), this.o.intervalMs ?? 3_600_000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** One pass; never rejects (null when it failed, which is logged). */
  async run(): Promise<{ audit: number; rollups: number; counters: number } | null> {
    try {
      const { rows: audit, rollups } = await this.o.audit.prune(this.o.retentionDays);
      const counters = await pruneFailures(this.o.db, this.o.throttleWindowMs);
      this.o.log.debug({ audit, rollups, counters }, "housekeeping done");
      return { audit, rollups, counters };
    } catch (err) {
      this.o.log.warn({ err }, "housekeeping failed");
      return null;
    }
  }
}
