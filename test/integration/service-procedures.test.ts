/**
 * The service's own procedures through a real Crossbar, attacked by a session whose role has static
 * allow-everything permissions in Crossbar (what an operator's `admin` role with `*` all looks like):
 * - only the router may ask: calling authd.authorize directly gets an error, no decision;
 * - kicked and never back: after another session's force_reregister, or a wamp.registration.remove_callee
 *   (which the router does not announce), the service registers again within 2 s.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import * as admin from "../../src/store/adminQueries.js";
import { errorOf, ticketLogin, type Joined } from "../helpers/client.js";
import { capturedLogger, waitFor } from "../helpers/logCapture.js";
import { userWithTicket } from "../helpers/seed.js";
import { startStack, type Stack } from "../helpers/stack.js";

const ALL = { call: true, register: true, publish: true, subscribe: true };

describe("the service's procedures (real Crossbar)", () => {
  let stack: Stack;
  let root: Joined;
  let alice: Joined;
  const logs = capturedLogger("info");

  before(async () => {
    stack = await startStack({
      realms: { app: ["user"] },
      log: logs.log,
      crossbar: {
        realms: [
          {
            name: "app",
            roles: [
              { name: "user", authorizer: "authd.authorize" },
              {
                name: "admin",
                permissions: [{ uri: "", match: "prefix", allow: ALL, disclose: { caller: false, publisher: false }, cache: false }],
              },
            ],
          },
        ],
      },
    });
    const db = stack.store.pool;
    await admin.addRealm(db, "app");
    await admin.addRole(db, "app", "user");
    await admin.addRole(db, "app", "admin");
    await admin.grant(db, "app", "user", { uri: "com.example.", match: "prefix", allow: ["call"] });
    await userWithTicket(db, { realm: "app", authid: "alice", role: "user" }, "alice-ticket");
    await userWithTicket(db, { realm: "app", authid: "root", role: "admin" }, "root-ticket");
    await stack.service!.reload();
    root = await ticketLogin(stack.wsUrl, "app", "root", "root-ticket");
    alice = await ticketLogin(stack.wsUrl, "app", "alice", "alice-ticket");
    await root.session.register("com.example.echo", (args) => args[0]);
  });

  after(async () => {
    root?.close();
    alice?.close();
    await stack?.stop();
  });

  const serviceSession = () => stack.service!.link.session("app")!.id!;
  const callees = async (): Promise<number[]> => {
    const id = await root.session.call<number | null>("wamp.registration.lookup", ["authd.authorize"]);
    if (id === null) return [];
    return root.session.call<number[]>("wamp.registration.list_callees", [id]);
  };

  it("refuses a direct call of authd.authorize (no decision oracle), while the router's own calls are answered", async () => {
    const asked = root.session.call("authd.authorize", [{ session: 1, authid: "alice", authrole: "user" }, "com.example.echo", "call", {}]);
    assert.equal(await errorOf(asked), "wamp.error.not_authorized");
    // The router's own authorize calls (caller_authrole "trusted") still work: alice's call is authorized.
    assert.equal(await alice.session.call("com.example.echo", ["hi"]), "hi");
    assert.ok(logs.records().some((l) => l.msg === "refused a call that did not come from the router"));
  });

  it("registers again within 2 s after another session's force_reregister", { timeout: 30_000 }, async (t) => {
    assert.deepEqual(await callees(), [serviceSession()]);
    const hijack = await root.session.register("authd.authorize", () => ({ allow: true, disclose: false, cache: false }), {
      force_reregister: true,
      invoke: "roundrobin",
    });
    const kicked = performance.now();
    assert.ok(!(await callees()).includes(serviceSession()), "the router evicted the service");
    await waitFor("the service to be a callee again", async () => (await callees()).includes(serviceSession()), 5000, 20);
    const took = performance.now() - kicked;
    t.diagnostic(`force_reregister -> service a callee again: ${took.toFixed(0)} ms`);
    await waitFor("readiness", () => stack.service!.link.isReady(), 2000, 20);
    assert.ok(took < 2000, `took ${took.toFixed(0)} ms`);
    assert.ok(logs.records().some((l) => l.msg === "procedure no longer registered: registering it again"));
    await root.session.unregister(hijack);
    assert.deepEqual(await callees(), [serviceSession()]);
  });

  it("notices a wamp.registration.remove_callee (announced to nobody) and registers again within 2 s", { timeout: 30_000 }, async (t) => {
    const id = await root.session.call<number>("wamp.registration.lookup", ["authd.authorize"]);
    // The pinned Crossbar removes the callee, then answers its own caller with runtime_error.
    await root.session.call("wamp.registration.remove_callee", [id, serviceSession()]).catch(() => undefined);
    const removed = performance.now();
    assert.deepEqual(await callees(), [], "the callee is gone");
    await waitFor("the service to be a callee again", async () => (await callees()).includes(serviceSession()), 5000, 20);
    const took = performance.now() - removed;
    t.diagnostic(`remove_callee -> service a callee again: ${took.toFixed(0)} ms`);
    assert.ok(took < 2000, `took ${took.toFixed(0)} ms`);
    await waitFor("readiness", () => stack.service!.link.isReady(), 2000, 20);
    // And it answers again: alice's call is authorized through the new registration.
    assert.equal(await alice.session.call("com.example.echo", ["again"]), "again");
  });
});
