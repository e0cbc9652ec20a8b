import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import * as admin from "../../src/store/adminQueries.js";
import { errorOf, ticketLogin } from "../helpers/client.js";
import { cryptosignAttempt, keyPair, pubHex } from "../helpers/proofClients.js";
import { userWithTicket } from "../helpers/seed.js";
import { startStack, type Stack } from "../helpers/stack.js";

describe("router link with router.serializer msgpack (real Crossbar)", () => {
  let stack: Stack;
  const aliceKey = keyPair();

  before(async () => {
    stack = await startStack({
      realms: { app: ["user"] },
      methods: ["ticket", "cryptosign"],
      service: { router: { serializer: "msgpack" }, throttle: { proofTimeoutMs: 800 } },
    });
    const db = stack.store.pool;
    await admin.addRealm(db, "app");
    await admin.addRole(db, "app", "user");
    await admin.grant(db, "app", "user", { uri: "com.example.", match: "prefix", allow: ["call", "register"], discloseCaller: true });
    await admin.grant(db, "app", "user", { uri: "com.example.secret", match: "exact", allow: [] });
    const alice = await userWithTicket(
      db,
      { realm: "app", authid: "alice", role: "user", extra: { team: "blue", n: 2 ** 40 } },
      "alice-ticket",
    );
    await admin.addKeyedCredential(db, alice, "cryptosign", pubHex(aliceKey), "laptop", null);
    await stack.service!.reload();
  });

  after(async () => stack?.stop());

  it("authenticates and authorizes over msgpack: extra, disclosure and denials arrive intact", async () => {
    assert.equal(stack.service!.config.router.serializer, "msgpack");
    const callee = await ticketLogin(stack.wsUrl, "app", "alice", "alice-ticket");
    const caller = await ticketLogin(stack.wsUrl, "app", "alice", "alice-ticket");
    try {
      assert.equal(caller.welcome.authrole, "user");
      assert.equal(caller.welcome.authextra.team, "blue");
      assert.equal(caller.welcome.authextra.n, 2 ** 40, "an integer above 2^32 survives the msgpack link");
      let seen: unknown = null;
      await callee.session.register("com.example.echo", (args: unknown[], _kw: unknown, details: unknown) => {
        seen = (details as { caller_authid?: string }).caller_authid;
        return args[0];
      });
      assert.equal(await caller.session.call("com.example.echo", ["grüße"]), "grüße");
      assert.equal(seen, "alice");
      assert.equal(await errorOf(caller.session.call("com.example.secret")), "wamp.error.not_authorized");
    } finally {
      callee.close();
      caller.close();
    }
  });

  it(
    "session joins arrive over msgpack too: a good cryptosign login is confirmed, a wrong key is counted",
    { timeout: 30_000 },
    async () => {
      assert.equal((await cryptosignAttempt(stack.wsUrl, "app", "alice", aliceKey)).abort, null);
      assert.ok((await cryptosignAttempt(stack.wsUrl, "app", "alice", keyPair(), pubHex(aliceKey))).abort);
      await new Promise((r) => setTimeout(r, 1300));
      const { rows } = await stack.store.pool.query<{ failures: number }>(
        "SELECT failures FROM authd.login_failures WHERE scope = 'account' AND key = $1",
        [JSON.stringify(["app", "alice"])],
      );
      assert.deepEqual(rows, [{ failures: 1 }], "only the wrong key failed");
    },
  );
});
