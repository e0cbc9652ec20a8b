import type { Logger } from "../log/logger.js";
import type { WampSession } from "./wamp.js";

export const ON_JOIN = "wamp.session.on_join";

interface Watch {
  session: WampSession;
  epoch: number;
}

/**
 * Subscribes to `wamp.session.on_join` in every realm the service has a session in (on each
 * (re)join: RouterLink's onJoin) and hands each event's session details to `onJoin`. Only the
 * router publishes `wamp.*` topics (Crossbar refuses them from any non-trusted session), so an event
 * is the router's word that the session joined. `epoch(realm)` names the subscription that is live
 * now, so a waiter can tell whether it may have missed an event (reconnect in between).
 */
export class JoinWatch {
  private readonly watches = new Map<string, Watch>();
  private epochs = 0;

  constructor(
    private readonly log: Logger,
    private readonly onJoin: (realm: string, details: unknown) => void,
  ) {}

  attach(realm: string, session: WampSession): void {
    this.watches.delete(realm); // the old session's subscription is gone with it
    Promise.resolve(session.subscribe(ON_JOIN, (args) => this.onJoin(realm, args?.[0])))
      .then(() => {
        if (session.isOpen) this.watches.set(realm, { session, epoch: ++this.epochs });
      })
      .catch((err: unknown) => {
        const error = (err as { error?: unknown }).error ?? (err instanceof Error ? err.message : String(err));
        this.log.error(
          { realm, topic: ON_JOIN, error },
          "cannot subscribe to session joins: wampcra/cryptosign/scram proofs in this realm are not counted (the service role needs subscribe on wamp.session.)",
        );
      });
  }

  /** The live subscription's generation in `realm`, or null when there is none. */
  epoch(realm: string): number | null {
    const w = this.watches.get(realm);
    return w && w.session.isOpen ? w.epoch : null;
  }
}
