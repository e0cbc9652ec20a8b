/**
 * Device tickets through a real Crossbar: a logged-in session asks authd.tokens.issue for a ticket
 * bound to its own user, logs in with it (autobahn-js and autobahn-python), lists and revokes only its
 * own. The caller's identity must be disclosed by the router (the rule's disclose flag — the REGISTER
 * option disclose_caller does nothing on Crossbar 26.10.1), and a forged `forward_for` (which Crossbar
 * turns into a disclosed caller) is not taken for the caller.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { closedWithin, connect, ticketLogin } from "../helpers/client.js";
import { cliEnv, cliOk } from "../helpers/cli.js";
import { TOKENS_KEY } from "../helpers/idp.js";
import { abortOf as pyAbortOf, pyLogin, welcomeOf } from "../helpers/pyClient.js";
import { startStack, type Stack } from "../helpers/stack.js";

interface Issued {
  token: string;
  id: string;
  label: string;
  expires_at: string;
}

async function callError(p: Promise<unknown>): Promise<{ error: string; message: string }> {
  try {
    await p;
  } catch (err) {
    const e = err as { error?: string; args?: unknown[] };
    const first = e.args?.[0];
    return { error: String(e.error), message: typeof first === "string" ? first : "" };
  }
  throw new Error("expected the call to fail");
}

describe("device tickets (authd.tokens.*) through Crossbar", () => {
  let stack: Stack;
  let env: NodeJS.ProcessEnv;
  const cli = (...args: string[]) => cliOk(args, { env });
  const login = (authid: string) => ticketLogin(stack.wsUrl, "app", authid, `${authid}-pw`);
  const deviceLogin = (token: string, authid?: string) =>
    connect({ url: stack.wsUrl, realm: "app", authmethods: ["ticket"], ...(authid ? { authid } : {}), onchallenge: () => token });

  before(async () => {
    stack = await startStack({
      realms: { app: ["user", "guest", "svc"] },
      methods: ["ticket", "anonymous"],
      service: { tokens: { key: TOKENS_KEY, sweepMs: 1000, deviceMaxPerUser: 3 } },
    });
    env = cliEnv(stack.store.url, { AUTHD_TOKENS_KEY: TOKENS_KEY });
    await cli("realms", "add", "app");
    for (const role of ["user", "guest", "svc"]) await cli("roles", "add", "app", role);
    await cli("grants", "add", "app", "user", "authd.tokens.*", "--allow", "call", "--disclose", "caller");
    await cli("grants", "add", "app", "guest", "authd.tokens.*", "--allow", "call");
    await cli("grants", "add", "app", "user", "com.example.who", "--allow", "call", "--disclose", "caller");
    await cli("grants", "add", "app", "user", "com.example.quiet", "--allow", "call");
    await cli("grants", "add", "app", "svc", "com.example.*", "--allow", "register");
    for (const [authid, role] of [
      ["alice", "user"],
      ["bob", "user"],
      ["gina", "guest"],
      ["svc", "svc"],
    ] as const) {
      await cli("users", "add", "app", authid, "--role", role);
      await cliOk(["users", "passwd", "app", authid], { env, input: `${authid}-pw` });
    }
    await stack.service!.reload();
  });

  after(async () => stack?.stop());

  it("a session gets a ticket for its own user; it logs in (autobahn-js and -python) and shows in the user's list", async () => {
    const alice = await login("alice");
    try {
      const t = await alice.session.call<Issued>("authd.tokens.issue", ["laptop"]);
      assert.match(t.token, /^authd_dev_[a-z2-7]{16}_[a-z2-7]{59}$/);
      assert.equal(t.label, "laptop");
      const ttl = new Date(t.expires_at).getTime() - Date.now();
      assert.ok(ttl > 604_700_000 && ttl <= 604_800_000, "the configured lifetime (7 days)");
      const d = await deviceLogin(t.token);
      assert.equal(d.welcome.authid, "alice");
      assert.equal(d.welcome.authrole, "user");
      // A ticket must not renew itself.
      assert.equal((await callError(d.session.call("authd.tokens.issue", ["again"]))).error, "wamp.error.not_authorized");
      d.close();
      const w = welcomeOf(await pyLogin({ url: stack.wsUrl, realm: "app", authmethod: "ticket", ticket: t.token, authid: "alice" }));
      assert.equal(w.authid, "alice");
      const list = await alice.session.call<Array<Record<string, unknown>>>("authd.tokens.list");
      const mine = list.find((x) => x.id === t.id)!;
      assert.equal(mine.label, "laptop");
      assert.notEqual(mine.last_used_at, null);
      assert.ok(!JSON.stringify(list).includes(t.token.slice(27)), "no secret in the list");
      const short = await alice.session.call<Issued>("authd.tokens.issue", ["phone", 120]);
      assert.ok(new Date(short.expires_at).getTime() - Date.now() <= 120_000);
      for (const bad of [[], [""], ["x".repeat(101)], ["a\nb"], [42], ["ok", 10], ["ok", 10 ** 9], ["ok", "60"]]) {
        assert.equal(
          (await callError(alice.session.call("authd.tokens.issue", bad))).error,
          "wamp.error.invalid_argument",
          JSON.stringify(bad),
        );
      }
    } finally {
      alice.close();
    }
  });

  it("at most deviceMaxPerUser live tickets per user", async () => {
    const bob = await login("bob");
    try {
      for (let i = 0; i < 3; i++) await bob.session.call("authd.tokens.issue", [`dev${i}`]);
      assert.equal((await callError(bob.session.call("authd.tokens.issue", ["one too many"]))).error, "authd.error.too_many_tokens");
      const list = await bob.session.call<Array<{ id: string }>>("authd.tokens.list");
      await bob.session.call("authd.tokens.revoke", [list[0]!.id]);
      await bob.session.call("authd.tokens.issue", ["fits again"]);
    } finally {
      bob.close();
    }
  });

  it("one user cannot list or revoke another's tickets; revoking one's own ends the sessions it opened", async () => {
    await cli("users", "add", "app", "carol", "--role", "user");
    await cliOk(["users", "passwd", "app", "carol"], { env, input: "carol-pw" });
    await cli("users", "add", "app", "dave", "--role", "user");
    await cliOk(["users", "passwd", "app", "dave"], { env, input: "dave-pw" });
    const carol = await login("carol");
    const dave = await login("dave");
    try {
      const t = await carol.session.call<Issued>("authd.tokens.issue", ["tablet"]);
      const davesList = await dave.session.call<Array<{ id: string }>>("authd.tokens.list");
      assert.ok(!davesList.some((x) => x.id === t.id), "not in another user's list");
      assert.equal((await callError(dave.session.call("authd.tokens.revoke", [t.id]))).error, "authd.error.no_such_token");
      assert.equal((await callError(dave.session.call("authd.tokens.revoke", ["not-an-id"]))).error, "wamp.error.invalid_argument");
      const d = await deviceLogin(t.token);
      assert.equal(
        await deviceLogin(t.token, "dave")
          .then((j) => (j.close(), "joined"))
          .catch(() => "denied"),
        "denied",
        "another user's authid",
      );
      const other = await deviceLogin((await carol.session.call<Issued>("authd.tokens.issue", ["desktop"])).token);
      await carol.session.call("authd.tokens.revoke", [t.id]);
      assert.equal((await closedWithin(d, 3000)).details.reason, "wamp.close.logout");
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(other.session.isOpen, true, "the other ticket's session stays");
      assert.equal(carol.session.isOpen, true, "the password session stays");
      other.close();
      const py = pyAbortOf(await pyLogin({ url: stack.wsUrl, realm: "app", authmethod: "ticket", ticket: t.token }));
      assert.equal(py.message, "authentication failed");
      // Admins see and revoke device tickets with the CLI.
      assert.match(await cli("tokens", "list", "app", "carol"), /device\s+desktop/);
    } finally {
      carol.close();
      dave.close();
    }
  });

  it("a caller the router does not disclose is refused (the rule must disclose the caller)", async () => {
    const gina = await login("gina");
    try {
      const e = await callError(gina.session.call("authd.tokens.issue", ["kiosk"]));
      assert.equal(e.error, "wamp.error.not_authorized");
      assert.match(e.message, /did not disclose the caller/);
      assert.equal((await callError(gina.session.call("authd.tokens.list"))).error, "wamp.error.not_authorized");
    } finally {
      gina.close();
    }
  });

  it("Crossbar 26.10.1: REGISTER disclose_caller does not disclose; a CALL's forward_for is disclosed as the caller — and wamp-authd does not take it", async () => {
    const svc = await login("svc");
    const alice = await login("alice");
    const bob = await login("bob");
    try {
      const who = (_a: unknown, _k: unknown, d: { caller?: number; caller_authid?: string }) => ({
        caller: d.caller ?? null,
        authid: d.caller_authid ?? null,
      });
      await svc.session.register("com.example.who", who);
      await svc.session.register("com.example.quiet", who, { disclose_caller: true });
      assert.deepEqual(await bob.session.call("com.example.quiet"), { caller: null, authid: null }, "REGISTER disclose_caller is ignored");
      assert.deepEqual(await bob.session.call("com.example.who"), { caller: bob.session.id, authid: "bob" });
      const forged = { forward_for: [{ session: alice.session.id, authid: "alice", authrole: "user" }] };
      assert.deepEqual(
        await bob.session.call("com.example.who", [], {}, forged),
        { caller: alice.session.id, authid: "alice" },
        "Crossbar discloses the forged caller",
      );
      const e = await callError(bob.session.call("authd.tokens.issue", ["stolen"], {}, forged));
      assert.equal(e.error, "wamp.error.not_authorized");
      assert.match(e.message, /did not disclose the caller/);
      const aliceList = await alice.session.call<Array<{ label: string }>>("authd.tokens.list");
      assert.ok(!aliceList.some((t) => t.label === "stolen"));
    } finally {
      svc.close();
      alice.close();
      bob.close();
    }
  });

  it("an anonymous session cannot get a ticket, even with an authid of a user", async () => {
    await cli("realms", "anonymous", "app", "--allow", "--role", "user", "--authid", "alice");
    const anon = await connect({ url: stack.wsUrl, realm: "app", authmethods: ["anonymous"] });
    try {
      assert.equal(anon.welcome.authid, "alice");
      assert.equal(anon.welcome.authrole, "user");
      const e = await callError(anon.session.call("authd.tokens.issue", ["anon"]));
      assert.equal(e.error, "wamp.error.not_authorized");
      assert.match(e.message, /not authenticated by wamp-authd with a credential/);
    } finally {
      anon.close();
      await cli("realms", "anonymous", "app", "--deny");
    }
  });

  it("tokens.deviceTickets false: an instance does not register the device ticket procedures", async () => {
    const second = await stack.startService({ tokens: { deviceTickets: false } });
    await stack.ready(second);
    assert.ok(stack.service!.link.procedures("app").includes("authd.tokens.issue"), "the default instance serves them");
    assert.deepEqual(second.link.procedures("app"), ["authd.authorize"], "the other one only the authorizer");
    await second.stop();
  });
});
