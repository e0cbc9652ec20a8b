import type { PermissionIndex } from "../authorize/permissionIndex.js";
import type { Logger } from "../log/logger.js";

export interface PermissionKeeperOptions {
  /** Reads the store and compiles a fresh index. */
  load: () => Promise<PermissionIndex>;
  /** The empty index to answer from before the first load. */
  initial: PermissionIndex;
  log: Logger;
  /** Observes each load's duration and the new index. */
  onLoaded?: (index: PermissionIndex, ms: number) => void;
  /** Runs after every successful *scheduled* reload (kill-on-change decisions need the new rules). */
  afterReload?: () => Promise<void> | void;
}

/**
 * Keeps the in-memory permission index in step with the store. A reload builds a new index and swaps
 * it in whole, so a decision never sees half an update; bursts of change notifications (a migration
 * touching many rows) coalesce into one reload.
 */
export class PermissionKeeper {
  private current: PermissionIndex;
  private reloading: Promise<void> | null = null;
  private reloadAgain: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(private readonly o: PermissionKeeperOptions) {
    this.current = o.initial;
  }

  get index(): PermissionIndex {
    return this.current;
  }

  /** Loads now. Concurrent calls share one load; a call during a load loads once more after it. */
  reload(): Promise<void> {
    if (this.reloading) {
      // A change may have committed after the running load read its rows: load once more after it.
      this.reloadAgain ??= this.reloading
        .catch(() => undefined)
        .then(() => {
          this.reloadAgain = null;
          return this.reload();
        });
      return this.reloadAgain;
    }
    this.reloading = (async () => {
      const started = performance.now();
      try {
        this.current = await this.o.load();
        this.o.onLoaded?.(this.current, performance.now() - started);
        this.o.log.debug({ rules: this.current.ruleCount }, "permission index loaded");
      } finally {
        this.reloading = null;
      }
    })();
    return this.reloading;
  }

  /** Reloads soon; a failed load is retried every second until it works. */
  schedule(delayMs = 20): void {
    if (this.timer || this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.reload().then(
        () => this.o.afterReload?.(),
        (err: unknown) => {
          this.o.log.error({ err }, "reloading permissions failed; retrying");
          this.schedule(1000);
        },
      );
    }, delayMs);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
