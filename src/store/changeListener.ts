import type pg from "pg";
import type { Logger } from "../log/logger.js";
import { startKeepalive, type Keepalive } from "./keepalive.js";
import { ping } from "./queries.js";

export interface ChangeEvent {
  table: string;
  op: string;
  realm?: string;
  revoke?: boolean;
  kill_authid?: string;
  kill_realm?: string;
  role_id?: number;
  [key: string]: unknown;
}

export interface ChangeListenerOptions {
  url: string;
  log: Logger;
  /** Called for every notification. */
  onChange: (e: ChangeEvent) => void;
  /** Called after (re)connecting: something may have been missed, reload everything. */
  onResync: () => void;
  /** Called when the connection is lost (the store may be down). */
  onLost?: () => void;
  retryMs?: number;
  /** A query on the LISTEN connection this often… */
  keepaliveMs?: number;
  /** …unanswered this long: the connection is treated as lost (destroyed, reconnected, resynced). */
  keepaliveDeadlineMs?: number;
}

/**
 * LISTENs on `authd_change` (fired by triggers, so hand-written SQL is covered) on a dedicated
 * connection. A dropped connection is re-established and followed by a full resync. A keepalive
 * query notices a connection that died silently (it would otherwise just stop delivering changes).
 */
export class ChangeListener {
  private client: pg.Client | null = null;
  private stopped = false;
  private timer: NodeJS.Timeout | null = null;
  private keepalive: Keepalive | null = null;
  connected = false;

  constructor(
    private readonly pgModule: typeof pg,
    private readonly o: ChangeListenerOptions,
  ) {}

  start(): void {
    void this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.keepalive?.stop();
    const c = this.client;
    this.client = null;
    this.connected = false;
    if (c) await closeClient(c, 1000);
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const client = new this.pgModule.Client({
      connectionString: this.o.url,
      application_name: "wamp-authd-listen",
      connectionTimeoutMillis: 5000,
    });
    this.client = client;
    const lost = (why: string) => {
      if (this.client !== client) return;
      this.client = null;
      this.connected = false;
      this.keepalive?.stop();
      this.keepalive = null;
      this.o.onLost?.();
      this.o.log.warn({ why }, "change listener lost its connection; reconnecting");
      void closeClient(client, 0);
      this.schedule();
    };
    client.on("error", (err) => lost(err.message));
    client.on("end", () => lost("connection ended"));
    client.on("notification", (msg) => {
      if (msg.channel !== "authd_change" || !msg.payload) return;
      try {
        this.o.onChange(JSON.parse(msg.payload) as ChangeEvent);
      } catch (err) {
        this.o.log.error({ err }, "bad change notification");
      }
    });
    try {
      await client.connect();
      await client.query("LISTEN authd_change");
      if (this.client !== client) return;
      this.connected = true;
      this.keepalive = startKeepalive({
        intervalMs: this.o.keepaliveMs ?? 5000,
        deadlineMs: this.o.keepaliveDeadlineMs ?? 5000,
        probe: () => ping(client),
        onDead: lost,
      });
      this.o.log.info("listening for store changes");
      this.o.onResync();
    } catch (err) {
      lost((err as Error).message);
    }
  }

  private schedule(): void {
    if (this.stopped || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.connect();
    }, this.o.retryMs ?? 1000);
  }
}

/**
 * end() waits for the server's goodbye, which a dead peer never sends: after `graceMs` the socket is
 * dropped outright.
 */
async function closeClient(client: pg.Client, graceMs: number): Promise<void> {
  const ended = client.end().catch(() => undefined);
  if (graceMs > 0) await Promise.race([ended, new Promise((r) => setTimeout(r, graceMs).unref())]);
  (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
}
