/**
 * Wakes the service when a rule's time window opens or closes: a rule that ends is treated like a
 * removed one (live subscriptions and registrations it allowed are narrowed), one that starts
 * may change whether the router can cache. Holds (instant, subject) pairs; one timer for the
 * earliest. Subjects due at the same instant are reported once.
 */
export type WindowSubject = { kind: "role"; realm: string; role: string } | { kind: "identity"; realm: string; authid: string };

export interface WindowClockOptions {
  onDue: (subjects: WindowSubject[]) => void;
  now?: () => number;
}

/** setTimeout's limit (about 24.8 days): farther instants are approached in steps. */
const MAX_DELAY = 2 ** 31 - 1;

export class WindowClock {
  private readonly due = new Map<string, { at: number; subject: WindowSubject }>();
  private timer: NodeJS.Timeout | null = null;
  private timerAt = Infinity;
  private stopped = false;
  private readonly now: () => number;

  constructor(private readonly o: WindowClockOptions) {
    this.now = o.now ?? Date.now;
  }

  /** Report `subject` at `at` (epoch ms). Several instants per subject are kept. */
  at(at: number, subject: WindowSubject): void {
    if (this.stopped || !Number.isFinite(at)) return;
    const key = `${at}\u0000${keyOf(subject)}`;
    if (this.due.has(key)) return;
    this.due.set(key, { at, subject });
    if (at < this.timerAt) this.arm(at);
  }

  get pending(): number {
    return this.due.size;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.due.clear();
  }

  private arm(at: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => this.fire(), Math.min(Math.max(0, at - this.now()), MAX_DELAY));
    this.timer.unref();
  }

  private fire(): void {
    this.timer = null;
    this.timerAt = Infinity;
    const now = this.now();
    const ready = new Map<string, WindowSubject>();
    let next = Infinity;
    for (const [key, d] of this.due) {
      if (d.at <= now) {
        this.due.delete(key);
        ready.set(keyOf(d.subject), d.subject);
      } else if (d.at < next) next = d.at;
    }
    if (next !== Infinity) this.arm(next);
    if (ready.size > 0) this.o.onDue([...ready.values()]);
  }
}

function keyOf(s: WindowSubject): string {
  return s.kind === "role" ? `r\u0000${s.realm}\u0000${s.role}` : `i\u0000${s.realm}\u0000${s.authid}`;
}
