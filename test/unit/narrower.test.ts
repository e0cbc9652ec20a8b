/**
 * Narrower and SessionWatch logic against a scripted meta API (what Crossbar 26.10.1 answers, as
 * test/integration/live-narrowing.test.ts shows through a real router): the decisions, what is left
 * alone, remove_callee's runtime_error, coalesced sweeps.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Request } from "../../src/authorize/rules.js";
import { createLogger } from "../../src/log/logger.js";
import { Narrower } from "../../src/router/narrower.js";
import { SessionWatch, type WatchedSession } from "../../src/router/sessionWatch.js";
import type { WampSession } from "../../src/router/wamp.js";

const log = createLogger("silent");
const OWN = 1;

interface Router {
  subs: Map<number, { uri: string; match: string; subscribers: Set<number> }>;
  regs: Map<number, { uri: string; match: string; callees: Set<number> }>;
  sessions: Map<number, { authid: string; authrole: string }>;
  calls: string[];
  /** ms every subscription list waits */
  delay: number;
  handlers: Map<string, (args: unknown[]) => void>;
}

function fakeRouter(): { router: Router; session: WampSession } {
  const router: Router = { subs: new Map(), regs: new Map(), sessions: new Map(), calls: [], delay: 0, handlers: new Map() };
  // autobahn rejects with its own Error class, which is not a JavaScript Error.
  // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
  const err = (error: string) => Promise.reject({ error, args: [] });
  const byMatch = <T extends { match: string }>(m: Map<number, T>, has: (x: T) => boolean) => {
    const out: Record<string, number[]> = { exact: [], prefix: [], wildcard: [] };
    for (const [id, x] of m) if (has(x)) out[x.match]!.push(id);
    return out;
  };
  const session = {
    id: OWN,
    isOpen: true,
    subscribe: (topic: string, handler: (args: unknown[]) => void) => {
      router.handlers.set(topic, handler);
      return Promise.resolve({});
    },
    call: (proc: string, args: unknown[] = []) => {
      router.calls.push(proc);
      const [a, b] = args as number[];
      switch (proc) {
        case "wamp.session.list":
          return Promise.resolve([...router.sessions.keys(), OWN]);
        case "wamp.session.get": {
          const s = router.sessions.get(a!);
          return s ? Promise.resolve({ session: a, ...s }) : err("wamp.error.no_such_session");
        }
        case "wamp.subscription.list": {
          const out = byMatch(router.subs, (x) => x.subscribers.has(a!));
          return new Promise((r) => setTimeout(() => r(out), router.delay));
        }
        case "wamp.registration.list":
          return Promise.resolve(byMatch(router.regs, (x) => x.callees.has(a!)));
        case "wamp.subscription.get":
        case "wamp.registration.get": {
          const x = (proc.includes("subscription") ? router.subs : router.regs).get(a!);
          return x ? Promise.resolve({ id: a, uri: x.uri, match: x.match }) : err("wamp.error.no_such_subscription");
        }
        case "wamp.subscription.remove_subscriber": {
          const x = router.subs.get(a!);
          if (!x || !x.subscribers.delete(b!)) return err("wamp.error.no_such_subscription");
          return Promise.resolve(null);
        }
        case "wamp.registration.remove_callee": {
          // Crossbar 26.10.1: removed, then the call fails.
          router.regs.get(a!)?.callees.delete(b!);
          return err("wamp.error.runtime_error");
        }
        case "wamp.registration.list_callees": {
          const x = router.regs.get(a!);
          return x ? Promise.resolve([...x.callees]) : err("wamp.error.no_such_registration");
        }
      }
      return err("wamp.error.no_such_procedure");
    },
  };
  return { router, session: session as unknown as WampSession };
}

/** Allows URIs starting with "ok." only; role "static" is not governed. */
async function setup() {
  const { router, session } = fakeRouter();
  router.sessions.set(10, { authid: "alice", authrole: "user" });
  router.sessions.set(11, { authid: "be", authrole: "static" });
  const watch = new SessionWatch(log);
  await watch.attach("app", session);
  const decisions: Request[] = [];
  let unknown = false;
  const narrower = new Narrower({
    session: () => session,
    watch,
    log,
    governs: (_realm, role) => role === "user",
    allowed: (_s: WatchedSession, r: Request) => {
      decisions.push(r);
      return Promise.resolve(unknown ? null : r.uri.startsWith("ok."));
    },
  });
  return { router, watch, narrower, decisions, setUnknown: (v: boolean) => (unknown = v) };
}

describe("narrower", () => {
  it("the watch lists the realm's sessions, never its own", async () => {
    const t = await setup();
    assert.deepEqual(
      t.watch.sessions("app").map((s) => s.id),
      [10, 11],
    );
    assert.deepEqual(
      t.watch.byAuthid("app", "alice").map((s) => s.id),
      [10],
    );
  });

  it("removes what the rules deny (subscriptions of every match kind, registrations), keeps the rest", async () => {
    const t = await setup();
    t.router.subs.set(100, { uri: "ok.feed", match: "exact", subscribers: new Set([10]) });
    t.router.subs.set(101, { uri: "no.feed", match: "prefix", subscribers: new Set([10, 11]) });
    t.router.subs.set(102, { uri: "no..x", match: "wildcard", subscribers: new Set([10]) });
    t.router.regs.set(200, { uri: "no.proc", match: "exact", callees: new Set([10]) });
    t.router.regs.set(201, { uri: "ok.proc", match: "exact", callees: new Set([10]) });
    const r = await t.narrower.sweepRealm("app");
    assert.deepEqual(r, { sessions: 1, removed: 3 }, "the static role's session is not even looked at");
    assert.deepEqual([...t.router.subs.get(100)!.subscribers], [10]);
    assert.deepEqual([...t.router.subs.get(101)!.subscribers], [11], "the static role's subscription stays");
    assert.deepEqual([...t.router.subs.get(102)!.subscribers], []);
    assert.deepEqual([...t.router.regs.get(200)!.callees], [], "removed although remove_callee answered runtime_error");
    assert.deepEqual([...t.router.regs.get(201)!.callees], [10]);
    assert.deepEqual(
      t.decisions.map((d) => [d.uri, d.action, d.match]),
      [
        ["ok.feed", "subscribe", "exact"],
        ["no.feed", "subscribe", "prefix"],
        ["no..x", "subscribe", "wildcard"],
        ["no.proc", "register", "exact"],
        ["ok.proc", "register", "exact"],
      ],
    );
  });

  it("a decision that cannot be made now removes nothing", async () => {
    const t = await setup();
    t.router.subs.set(100, { uri: "no.feed", match: "exact", subscribers: new Set([10]) });
    t.setUnknown(true);
    assert.equal((await t.narrower.sweepRealm("app")).removed, 0);
    assert.deepEqual([...t.router.subs.get(100)!.subscribers], [10]);
  });

  it("a subscription that appears (on_subscribe) is checked; the service's own and ungoverned sessions are ignored", async () => {
    const t = await setup();
    t.router.subs.set(100, { uri: "no.feed", match: "exact", subscribers: new Set([10, 11, OWN]) });
    await t.narrower.check("app", "subscription", OWN, 100);
    await t.narrower.check("app", "subscription", 11, 100);
    assert.deepEqual([...t.router.subs.get(100)!.subscribers], [10, 11, OWN]);
    await t.narrower.check("app", "subscription", 10, 100);
    assert.deepEqual([...t.router.subs.get(100)!.subscribers], [11, OWN]);
    // A session that joined before the watch knew it is looked up (wamp.session.get).
    t.router.sessions.set(12, { authid: "late", authrole: "user" });
    t.router.subs.get(100)!.subscribers.add(12);
    await t.narrower.check("app", "subscription", 12, 100);
    assert.equal(t.router.subs.get(100)!.subscribers.has(12), false);
    assert.equal(t.watch.session("app", 12)?.authid, "late");
  });

  it("the watch's meta events: on_join/on_leave keep the list; on_subscribe is reported", async () => {
    const { router, session } = fakeRouter();
    const seen: string[] = [];
    const watch = new SessionWatch(log, {
      joined: (s) => seen.push(`+${s.id}`),
      left: (s) => seen.push(`-${s.id}`),
      attached: (_realm, kind, sid, id) => seen.push(`${kind}:${sid}:${id}`),
    });
    await watch.attach("app", session);
    router.handlers.get("wamp.session.on_join")!([{ session: 5, authid: "x", authrole: "user" }]);
    router.handlers.get("wamp.session.on_join")!([{ session: "bogus", authid: 1 }]);
    router.handlers.get("wamp.subscription.on_create")!([5, { id: 77, uri: "a.b", match: "prefix" }]);
    router.handlers.get("wamp.subscription.on_subscribe")!([5, 77]);
    router.handlers.get("wamp.session.on_leave")!([5]);
    assert.deepEqual(seen, ["+5", "subscription:5:77", "-5"]);
    assert.deepEqual(watch.known("app", "subscription", 77), { uri: "a.b", match: "prefix" });
    router.handlers.get("wamp.subscription.on_delete")!([5, 77]);
    assert.equal(watch.known("app", "subscription", 77), null);
  });

  it("sweeps of one session requested before one starts share it; those during a run get one more run", async () => {
    const t = await setup();
    t.router.subs.set(100, { uri: "ok.feed", match: "exact", subscribers: new Set([10]) });
    t.router.delay = 30;
    const s = t.watch.session("app", 10)!;
    const lists = () => t.router.calls.filter((c) => c === "wamp.subscription.list").length;
    await Promise.all([t.narrower.sweep(s), t.narrower.sweep(s)]);
    assert.equal(lists(), 1);
    const first = t.narrower.sweep(s);
    await new Promise((r) => setTimeout(r, 10)); // the run is waiting for the router
    const more = [t.narrower.sweep(s), t.narrower.sweep(s), t.narrower.sweep(s)];
    await Promise.all([first, ...more]);
    assert.equal(lists(), 3);
  });
});
