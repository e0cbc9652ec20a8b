import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Authenticator } from "../../src/auth/authenticator.js";
import { loadMethods } from "../../src/auth/registry.js";
import { AuthError } from "../../src/errors/authErrors.js";
import * as admin from "../../src/store/adminQueries.js";
import { Aborted, ticketLogin } from "../helpers/client.js";
import { quietLog } from "../helpers/db.js";
import { testHasher, userWithTicket } from "../helpers/seed.js";
import { startStack, type Stack } from "../helpers/stack.js";

describe("per-method authenticator procedures and authenticator-realm", () => {
  let stack: Stack;

  before(async () => {
    stack = await startStack({
      realms: { app: ["user"] },
      crossbar: {
        perMethodAuthenticators: true,
        // `fixed` is a realm wamp-authd does not join: its role has static permissions only.
        realms: [
          { name: "app", roles: [{ name: "user", authorizer: "authd.authorize" }] },
          {
            name: "fixed",
            roles: [
              {
                name: "user",
                permissions: [
                  {
                    uri: "",
                    match: "prefix",
                    allow: { call: true, register: true, publish: true, subscribe: true },
                    disclose: { caller: false, publisher: false },
                    cache: true,
                  },
                ],
              },
            ],
          },
        ],
      },
    });
    const db = stack.store.pool;
    for (const realm of ["app", "fixed"]) {
      await admin.addRealm(db, realm);
      await admin.addRole(db, realm, "user");
    }
    await userWithTicket(db, { realm: "app", authid: "alice", role: "user" }, "alice-ticket");
    await userWithTicket(db, { realm: "fixed", authid: "fred", role: "user", extra: { via: "auth realm" } }, "fred-ticket");
    await stack.service!.reload();
  });

  after(async () => stack?.stop());

  it("Crossbar configured with authd.authenticate.ticket logs ticket users in", async () => {
    const tickets = (
      stack.crossbarConfig as {
        workers: Array<{ transports: Array<{ paths?: Record<string, { auth?: Record<string, { authenticator?: string }> }> }> }>;
      }
    ).workers[0]!.transports[1]!.paths!.ws!.auth!;
    assert.equal(tickets.ticket!.authenticator, "authd.authenticate.ticket");
    const c = await ticketLogin(stack.wsUrl, "app", "alice", "alice-ticket");
    assert.equal(c.welcome.authrole, "user");
    c.close();
    await assert.rejects(
      ticketLogin(stack.wsUrl, "app", "alice", "wrong"),
      (e: unknown) => e instanceof Aborted && e.reason === "wamp.error.not_authorized",
    );
  });

  it("the session in the auth realm answers for a realm wamp-authd has not joined", async () => {
    assert.deepEqual(stack.service!.link.servedRealms.sort(), ["app", "authd"]);
    const c = await ticketLogin(stack.wsUrl, "fixed", "fred", "fred-ticket");
    try {
      assert.equal(c.welcome.realm ?? "fixed", "fixed");
      assert.equal(c.welcome.authextra.via, "auth realm");
      await c.session.register("com.example.fixed", () => 1);
    } finally {
      c.close();
    }
  });

  it("a per-method procedure refuses other methods", async () => {
    const authenticator = new Authenticator({
      methods: await loadMethods(),
      ctx: {
        pool: stack.store.pool,
        passwords: testHasher,
        config: stack.config,
        log: quietLog,
        decoys: { key: () => Promise.resolve(Buffer.alloc(32)), role: () => Promise.resolve(null) },
      },
      roleExists: () => true,
      deadlineMs: 3000,
      log: quietLog,
    });
    const details = { authmethod: "anonymous", transport: { peer: "tcp4:127.0.0.1:1" } };
    await assert.rejects(
      authenticator.authenticate(["app", "x", details], "ticket"),
      (e: unknown) => e instanceof AuthError && e.uri === "wamp.error.not_authorized",
    );
  });
});
