import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import * as admin from "../../src/store/adminQueries.js";
import { abortOf, errorOf, ticketLogin } from "../helpers/client.js";
import { userWithTicket } from "../helpers/seed.js";
import { startStack, type Stack } from "../helpers/stack.js";

describe("ticket logins and authorization through a real Crossbar", () => {
  let stack: Stack;

  before(async () => {
    stack = await startStack({ realms: { app: ["user", "guest"], other: ["user"] } });
    const db = stack.store.pool;
    for (const realm of ["app", "other"]) await admin.addRealm(db, realm);
    await admin.addRole(db, "app", "user");
    await admin.addRole(db, "app", "guest");
    await admin.addRole(db, "other", "user");
    await admin.grant(db, "app", "user", {
      uri: "com.example.",
      match: "prefix",
      allow: ["call", "register", "subscribe", "publish"],
      discloseCaller: true,
    });
    await admin.grant(db, "app", "user", { uri: "com.example.secret", match: "exact", allow: [] });
    await admin.grant(db, "app", "guest", { uri: "com.example.public.", match: "prefix", allow: ["subscribe"] });
    await userWithTicket(db, { realm: "app", authid: "alice", role: "user", extra: { team: "blue" } }, "alice-ticket");
    await userWithTicket(db, { realm: "app", authid: "gus", role: "guest" }, "gus-ticket");
    await userWithTicket(db, { realm: "app", authid: "bob", role: "user", disabled: true }, "bob-ticket");
    await userWithTicket(
      db,
      { realm: "app", authid: "dave", role: "user", authidOverride: "dave@other", realmOverride: "other" },
      "dave-ticket",
    );
    await stack.service!.reload();
  });

  after(async () => stack?.stop());

  it("a good ticket gets WELCOME with the stored role, authid and extra", async () => {
    const c = await ticketLogin(stack.wsUrl, "app", "alice", "alice-ticket");
    try {
      assert.equal(c.welcome.authid, "alice");
      assert.equal(c.welcome.authrole, "user");
      assert.equal(c.welcome.authmethod, "ticket");
      assert.equal(c.welcome.authprovider, "dynamic");
      assert.equal(c.welcome.authextra.team, "blue");
    } finally {
      c.close();
    }
  });

  it("a wrong ticket, an unknown user and a disabled user get the same ABORT", async () => {
    const wrong = await abortOf(ticketLogin(stack.wsUrl, "app", "alice", "nope"));
    const unknown = await abortOf(ticketLogin(stack.wsUrl, "app", "mallory", "nope"));
    const disabled = await abortOf(ticketLogin(stack.wsUrl, "app", "bob", "bob-ticket"));
    assert.equal(wrong.reason, "wamp.error.not_authorized");
    assert.equal(wrong.abortMessage, "authentication failed");
    for (const other of [unknown, disabled]) {
      assert.equal(other.reason, wrong.reason);
      assert.equal(other.abortMessage, wrong.abortMessage);
    }
  });

  it("authid and realm overrides from the store move the session", async () => {
    const c = await ticketLogin(stack.wsUrl, "app", "dave", "dave-ticket");
    try {
      assert.equal(c.welcome.authid, "dave@other");
      assert.equal(c.welcome.authrole, "user");
      assert.equal(c.welcome.realm, "other");
    } finally {
      c.close();
    }
  });

  it("an allowed call passes, with the caller disclosed as the rule says", async () => {
    const callee = await ticketLogin(stack.wsUrl, "app", "alice", "alice-ticket");
    const caller = await ticketLogin(stack.wsUrl, "app", "alice", "alice-ticket");
    try {
      let seenCaller: unknown = null;
      await callee.session.register("com.example.echo", (args: unknown[], _kw: unknown, details: unknown) => {
        seenCaller = (details as { caller_authid?: string }).caller_authid;
        return args[0];
      });
      assert.equal(await caller.session.call("com.example.echo", ["hello"]), "hello");
      assert.equal(seenCaller, "alice");
    } finally {
      callee.close();
      caller.close();
    }
  });

  it("denied subscribe and call get wamp.error.not_authorized", async () => {
    const alice = await ticketLogin(stack.wsUrl, "app", "alice", "alice-ticket");
    const gus = await ticketLogin(stack.wsUrl, "app", "gus", "gus-ticket");
    try {
      await alice.session.register("com.example.ping", () => "pong");
      assert.equal(await errorOf(gus.session.call("com.example.ping")), "wamp.error.not_authorized");
      assert.equal(await errorOf(alice.session.subscribe("com.example.secret", () => undefined)), "wamp.error.not_authorized");
      assert.equal(await errorOf(gus.session.subscribe("com.example.private", () => undefined)), "wamp.error.not_authorized");
      await gus.session.subscribe("com.example.public.news", () => undefined);
    } finally {
      alice.close();
      gus.close();
    }
  });
});

describe("router started after wamp-authd", () => {
  let stack: Stack;
  after(async () => stack?.stop());

  it("wamp-authd keeps retrying and serves once the router is up", async () => {
    stack = await startStack({ realms: { app: ["user"] }, serviceFirst: true });
    const db = stack.store.pool;
    await admin.addRealm(db, "app");
    await admin.addRole(db, "app", "user");
    await userWithTicket(db, { realm: "app", authid: "late", role: "user" }, "late-ticket");
    await stack.service!.reload();
    await new Promise((r) => setTimeout(r, 1500)); // the router is down: the service is retrying
    assert.equal(stack.service!.link.isReady(), false);
    await stack.startCrossbar();
    await stack.ready();
    const c = await ticketLogin(stack.wsUrl, "app", "late", "late-ticket");
    assert.equal(c.welcome.authrole, "user");
    c.close();
  });
});
