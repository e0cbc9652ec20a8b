/**
 * A connection that dies without an error (a NAT or proxy timeout drops it silently) never tells
 * its client. A keepalive asks it something cheap every `intervalMs`; no answer within `deadlineMs`
 * (or an error) means the connection is gone, reported once through `onDead`.
 */
export interface Keepalive {
  stop(): void;
}

export function startKeepalive(o: {
  intervalMs: number;
  deadlineMs: number;
  probe: () => Promise<unknown>;
  onDead: (why: string) => void;
}): Keepalive {
  let stopped = false;
  let inFlight = false;
  let deadline: NodeJS.Timeout | null = null;
  const stop = () => {
    stopped = true;
    clearInterval(timer);
    if (deadline) clearTimeout(deadline);
  };
  const dead = (why: string) => {
    if (stopped) return;
    stop();
    o.onDead(why);
  };
  const tick = () => {
    if (stopped || inFlight) return;
    inFlight = true;
    deadline = setTimeout(() => dead(`keepalive: no answer within ${o.deadlineMs} ms`), o.deadlineMs);
    deadline.unref();
    o.probe().then(
      () => {
        if (deadline) clearTimeout(deadline);
        inFlight = false;
      },
      (err: unknown) => dead(`keepalive query failed: ${err instanceof Error ? err.message : String(err)}`),
    );
  };
  const timer = setInterval(tick, o.intervalMs);
  timer.unref();
  return { stop };
}
