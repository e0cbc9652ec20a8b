/**
 * API tokens through a real Crossbar with autobahn-js and autobahn-python: made by the CLI (printed
 * once), logging in with the ticket method with or without the authid, listed without their secret,
 * revoked (exactly that token's sessions end), expiring (refused, and their sessions end at expiry),
 * and two service instances that both honour a revocation.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Service } from "../../src/service.js";
import { bearerLogin, closedWithin, connect, loginDenied, type Joined } from "../helpers/client.js";
import { cliEnv, cliOk, runCli } from "../helpers/cli.js";
import { TOKENS_KEY } from "../helpers/idp.js";
import { abortOf as pyAbortOf, pyLogin, welcomeOf } from "../helpers/pyClient.js";
import { startStack, type Stack } from "../helpers/stack.js";

async function allowsAnswered(s: Service): Promise<number> {
  const m = await s.metrics.authenticate.get();
  return m.values
    .filter((v) => v.metricName === "authd_authenticate_seconds_count" && v.labels.outcome === "allow")
    .reduce((n, v) => n + v.value, 0);
}

describe("API tokens through Crossbar", () => {
  let stack: Stack;
  let env: NodeJS.ProcessEnv;
  const cli = (...args: string[]) => cliOk(args, { env });
  const create = async (authid: string, ...flags: string[]) => (await cli("tokens", "create", "app", authid, ...flags)).trim();

  before(async () => {
    stack = await startStack({
      realms: { app: ["user", "reader"], other: ["user"] },
      service: { tokens: { key: TOKENS_KEY, sweepMs: 1000 } },
    });
    env = cliEnv(stack.store.url, { AUTHD_TOKENS_KEY: TOKENS_KEY });
    for (const realm of ["app", "other"]) {
      await cli("realms", "add", realm);
      await cli("roles", "add", realm, "user");
    }
    await cli("roles", "add", "app", "reader");
    await cli("users", "add", "app", "alice", "--role", "user");
    await cli("users", "add", "app", "bob", "--role", "user");
    await cli("users", "add", "other", "alice", "--role", "user");
    await cliOk(["users", "passwd", "app", "alice"], { env, input: "alice-pw" });
    await stack.service!.reload();
  });

  after(async () => stack?.stop());

  it("create prints the token once in a recognisable format; list shows name, created, expires, last used, never the secret", async () => {
    const r = await runCli(["tokens", "create", "app", "alice", "--name", "ci", "--expires", "90d"], { env });
    assert.equal(r.code, 0, r.stderr);
    const token = r.stdout.trim();
    assert.match(token, /^authd_api_[a-z2-7]{16}_[a-z2-7]{59}$/);
    assert.match(r.stderr, /not shown again/);
    const secret = token.slice(27);
    const before = JSON.parse(await cli("tokens", "list", "app", "alice", "--json")) as Array<Record<string, unknown>>;
    const row = before.find((t) => t.name === "ci")!;
    assert.equal(row.kind, "api");
    assert.equal(row.last_used_at, null);
    assert.ok(Math.abs(new Date(row.expires_at as string).getTime() - Date.now() - 90 * 86400_000) < 60_000);
    const c = await bearerLogin(stack.wsUrl, "app", token);
    c.close();
    const listed = await cli("tokens", "list", "app", "alice");
    assert.match(listed, /ID\s+KIND\s+NAME\s+ROLE\s+CREATED\s+EXPIRES\s+LAST USED\s+REVOKED/);
    assert.ok(!listed.includes(secret) && !JSON.stringify(before).includes(secret), "the secret is never listed");
    const afterUse = JSON.parse(await cli("tokens", "list", "app", "alice", "--json")) as Array<Record<string, unknown>>;
    assert.notEqual(afterUse.find((t) => t.name === "ci")!.last_used_at, null, "last used is recorded");
    const { rows } = await stack.store.pool.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM authd.api_tokens WHERE position($1 in encode(secret_hash, 'escape')) > 0",
      [secret],
    );
    assert.equal(rows[0]!.n, 0, "only a hash is stored");
    const audit = await stack.store.pool.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM authd.audit WHERE audit::text LIKE '%' || $1 || '%'",
      [secret],
    );
    assert.equal(audit.rows[0]!.n, 0, "no audit row holds the secret");
    assert.equal(
      (await runCli(["tokens", "create", "app", "alice", "--name", "ci"], { env })).code,
      1,
      "names are unique among live tokens",
    );
  });

  it("logs in with autobahn-js and autobahn-python, with or without the authid; a --role token gets that role", async () => {
    const token = await create("alice", "--name", "js-py");
    for (const authid of [undefined, "alice"]) {
      const c = await bearerLogin(stack.wsUrl, "app", token, authid);
      assert.equal(c.welcome.authid, "alice");
      assert.equal(c.welcome.authrole, "user");
      c.close();
    }
    for (const authid of [undefined, "alice"]) {
      const w = welcomeOf(
        await pyLogin({ url: stack.wsUrl, realm: "app", authmethod: "ticket", ticket: token, ...(authid ? { authid } : {}) }),
      );
      assert.equal(w.authid, "alice");
    }
    const reader = await create("alice", "--name", "ro", "--role", "reader");
    const r = await bearerLogin(stack.wsUrl, "app", reader);
    assert.equal(r.welcome.authrole, "reader");
    r.close();
    assert.equal((await runCli(["tokens", "create", "app", "alice", "--name", "x", "--role", "trusted"], { env })).code, 1);
  });

  it("denied with the one denial: another user's authid, another realm, a changed character, an unknown id, no key", async () => {
    const token = await create("alice", "--name", "deny");
    await loginDenied(bearerLogin(stack.wsUrl, "app", token, "bob"), "bob's authid");
    await loginDenied(bearerLogin(stack.wsUrl, "other", token), "realm other");
    await loginDenied(bearerLogin(stack.wsUrl, "other", token, "alice"), "alice of realm other");
    const flipped = token.slice(0, 40) + (token[40] === "a" ? "b" : "a") + token.slice(41);
    await loginDenied(bearerLogin(stack.wsUrl, "app", flipped), "changed character");
    const other = await create("bob", "--name", "bob1");
    await loginDenied(bearerLogin(stack.wsUrl, "app", token.slice(0, 27) + other.slice(27)), "another token's secret");
    await loginDenied(bearerLogin(stack.wsUrl, "app", "authd_api_aaaaaaaaaaaaaaaa_" + "a".repeat(59)), "unknown token");
    const py = pyAbortOf(await pyLogin({ url: stack.wsUrl, realm: "app", authmethod: "ticket", ticket: flipped }));
    assert.equal(py.message, "authentication failed");
    const r = await runCli(["tokens", "create", "app", "alice", "--name", "nokey"], { env: cliEnv(stack.store.url) });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /tokens\.keyFile or tokens\.key/);
  });

  it("tokens revoke ends the sessions that logged in with that token, and only those", async () => {
    const a = await create("alice", "--name", "revoke-a");
    const b = await create("alice", "--name", "revoke-b");
    const withA = [await bearerLogin(stack.wsUrl, "app", a), await bearerLogin(stack.wsUrl, "app", a, "alice")];
    const withB = await bearerLogin(stack.wsUrl, "app", b);
    const withPassword = await connect({
      url: stack.wsUrl,
      realm: "app",
      authmethods: ["ticket"],
      authid: "alice",
      onchallenge: () => "alice-pw",
    });
    await cli("tokens", "revoke", "app", "alice", "revoke-a");
    for (const c of withA) assert.equal((await closedWithin(c, 3000)).details.reason, "wamp.close.logout");
    await new Promise((r) => setTimeout(r, 700));
    assert.equal(withB.session.isOpen, true, "another token's session stays");
    assert.equal(withPassword.session.isOpen, true, "the user's password session stays");
    withB.close();
    withPassword.close();
    await loginDenied(bearerLogin(stack.wsUrl, "app", a), "revoked token");
    const { rows } = await stack.store.pool.query("SELECT 1 FROM authd.audit WHERE kind = 'revoke' AND reason = 'token revoked'");
    assert.ok(rows.length >= 2, "each kill is audited");
  });

  it("an expired token is refused, and its sessions end at expiry", async () => {
    const token = await create("alice", "--name", "short", "--expires", "3s");
    const c = await bearerLogin(stack.wsUrl, "app", token);
    const closed = await closedWithin(c, 8000);
    assert.equal(closed.details.reason, "wamp.close.logout");
    await loginDenied(bearerLogin(stack.wsUrl, "app", token), "expired token");
  });

  it("rows of sessions that ended on their own are forgotten by comparing with wamp.session.list", async () => {
    const token = await create("alice", "--name", "reconcile");
    const live = await bearerLogin(stack.wsUrl, "app", token);
    await stack.store.pool.query(
      `INSERT INTO authd.token_sessions (session_id, realm, authid, kind, expires_at, created_at)
       VALUES (4242, 'app', 'alice', 'api', now() + interval '1 day', now() - interval '1 hour')`,
    );
    await stack.store.pool.query("UPDATE authd.token_sessions SET created_at = now() - interval '1 hour' WHERE kind = 'api'");
    await stack.service!.tokenSessions.reconcile();
    const { rows } = await stack.store.pool.query<{ session_id: string }>("SELECT session_id::text FROM authd.token_sessions");
    const ids = rows.map((r) => Number(r.session_id));
    assert.ok(!ids.includes(4242), "the ended session's row is gone");
    assert.ok(ids.includes(live.session.id!), "the live session's row stays");
    live.close();
    // A login that recorded its session while its token was being revoked: the same pass ends it.
    const raced = await create("alice", "--name", "raced");
    const id = raced.slice(10, 26);
    await cli("tokens", "revoke", "app", "alice", id);
    await stack.store.pool.query(
      `INSERT INTO authd.token_sessions (session_id, realm, authid, kind, token_id, expires_at)
       VALUES (4343, 'app', 'alice', 'api', $1, now() + interval '1 day')`,
      [id],
    );
    await stack.service!.tokenSessions.reconcile();
    const { rows: r2 } = await stack.store.pool.query<{ due: boolean; end_reason: string }>(
      "SELECT expires_at <= now() AS due, end_reason FROM authd.token_sessions WHERE session_id = 4343",
    );
    assert.deepEqual(r2[0], { due: true, end_reason: "token revoked" });
  });

  it("two instances: logins through both, and both honour a revocation", { timeout: 60_000 }, async () => {
    const second = await stack.startService();
    await stack.ready(second);
    const first = stack.service!;
    const token = await create("alice", "--name", "two");
    const base = await Promise.all([first, second].map(allowsAnswered));
    const sessions: Joined[] = [];
    for (let i = 0; i < 6; i++) sessions.push(await bearerLogin(stack.wsUrl, "app", token));
    const answered = await Promise.all([first, second].map(allowsAnswered));
    assert.ok(answered[0]! > base[0]! && answered[1]! > base[1]!, "both instances answered token logins");
    await cli("tokens", "revoke", "app", "alice", "two");
    for (const c of sessions) assert.equal((await closedWithin(c, 3000)).details.reason, "wamp.close.logout");
    for (let i = 0; i < 4; i++) await loginDenied(bearerLogin(stack.wsUrl, "app", token), `revoked token, attempt ${i}`);
    // Expiry without the instance that answered: the other one's sweep ends the session.
    const short = await create("alice", "--name", "two-short", "--expires", "4s");
    const c = await bearerLogin(stack.wsUrl, "app", short);
    const { rows } = await stack.store.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM authd.token_sessions WHERE kind = 'api'");
    assert.ok(rows[0]!.n >= 1);
    await second.stop();
    await first.stop().catch(() => undefined);
    const third = await stack.startService();
    await stack.ready(third);
    assert.equal((await closedWithin(c, 10_000)).details.reason, "wamp.close.logout", "a restarted instance ends it from the table");
  });
});
