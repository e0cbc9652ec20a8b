/**
 * Throttling behind a trusted proxy, through a real Crossbar: autobahn-python clients send
 * X-Forwarded-For as a proxy appending to a client-sent header would deliver it (spoofed entries
 * left, the proxy's entry right). Rotating the spoofed entries does not escape the lockout; IPv6
 * clients are one key per /64; a raw handshake shows how Crossbar joins repeated header lines.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { abortOf, pyLogin, welcomeOf, type PyResult } from "../helpers/pyClient.js";
import { rawTicketLogin } from "../helpers/rawHandshake.js";
import { seedAlice } from "../helpers/seed.js";
import { startStack, type Stack } from "../helpers/stack.js";

const rnd = () => randomBytes(1)[0]!;
const spoofed = () => `${rnd()}.${rnd()}.${rnd()}.${rnd()}`;

describe("X-Forwarded-For behind a trusted proxy, through a real Crossbar (autobahn-python)", () => {
  let stack: Stack;

  before(async () => {
    stack = await startStack({
      realms: { app: ["user"] },
      service: {
        throttle: { trustedProxyHeader: "X-Forwarded-For", peerThreshold: 3, accountThreshold: 1000, baseLockMs: 60_000 },
      },
    });
    const db = stack.store.pool;
    await seedAlice(db);
    await stack.service!.reload();
  });

  after(async () => stack?.stop());

  const login = (authid: string, ticket: string, xff: string): Promise<PyResult> =>
    pyLogin({ url: stack.wsUrl, realm: "app", authmethod: "ticket", authid, ticket, headers: { "X-Forwarded-For": xff } });

  async function peerRow(key: string) {
    const { rows } = await stack.store.pool.query<{ failures: number; locked: boolean }>(
      "SELECT failures, locked_until > now() AS locked FROM authd.login_failures WHERE scope = 'peer' AND key = $1",
      [key],
    );
    return rows[0] ?? null;
  }

  it("rotating spoofed left-most entries does not escape the lockout of the address the proxy wrote", { timeout: 120_000 }, async () => {
    // Four wrong tickets for random names, each with another spoofed first entry.
    const wrong = await Promise.all(
      Array.from({ length: 4 }, () => login(`ghost-${randomBytes(4).toString("hex")}`, "nope", `${spoofed()}, ${spoofed()}, 198.51.100.7`)),
    );
    for (const r of wrong) assert.equal(abortOf(r).abort, "wamp.error.not_authorized");
    const row = await peerRow("198.51.100.7");
    assert.equal(row?.failures, 4, "all four counted on the address the proxy appended");
    assert.equal(row?.locked, true);
    // Nothing was counted on the spoofed entries, nor on the transport peer (the "proxy").
    const { rows } = await stack.store.pool.query<{ key: string }>("SELECT key FROM authd.login_failures WHERE scope = 'peer'");
    assert.deepEqual(
      rows.map((r) => r.key),
      ["198.51.100.7"],
    );

    // The right ticket with yet another spoofed entry: locked out, the same ABORT as a wrong ticket.
    const locked = abortOf(await login("alice", "alice-ticket", `${spoofed()}, 198.51.100.7`));
    assert.equal(locked.abort, "wamp.error.not_authorized");
    assert.equal(locked.message, abortOf(wrong[0]!).message);

    // Another client behind the same proxy is not affected, whatever it claims further left.
    const other = welcomeOf(await login("alice", "alice-ticket", "198.51.100.7, 198.51.100.8"));
    assert.equal(other.authid, "alice");
  });

  it("the header on two lines (the client's, then the proxy's) arrives joined in order: the proxy's entry counts (raw handshake)", async () => {
    const denied = await rawTicketLogin(stack.wsUrl, "app", `ghost-${randomBytes(4).toString("hex")}`, "nope", [
      ["X-Forwarded-For", "6.6.6.6"],
      ["X-Forwarded-For", "198.51.100.30"],
    ]);
    assert.deepEqual(denied, { abort: "wamp.error.not_authorized" });
    assert.equal((await peerRow("198.51.100.30"))?.failures, 1);
    assert.equal(await peerRow("6.6.6.6"), null);
    // The raw client speaks WAMP properly: the right ticket gets in.
    const ok = await rawTicketLogin(stack.wsUrl, "app", "alice", "alice-ticket", [["x-forwarded-for", "198.51.100.31"]]);
    assert.ok("welcome" in ok && ok.welcome.authid === "alice", JSON.stringify(ok));
  });

  it("IPv6 clients rotating through their /64 are one key and get locked out together", { timeout: 120_000 }, async () => {
    const host = () => `[2001:db8:5:6:${randomBytes(2).toString("hex")}:${randomBytes(2).toString("hex")}::${rnd()}]:${1024 + rnd()}`;
    const wrong = await Promise.all(
      Array.from({ length: 4 }, () => login(`ghost6-${randomBytes(4).toString("hex")}`, "nope", `${spoofed()}, ${host()}`)),
    );
    for (const r of wrong) assert.equal(abortOf(r).abort, "wamp.error.not_authorized");
    const row = await peerRow("2001:db8:5:6:0:0:0:0/64");
    assert.equal(row?.failures, 4);
    assert.equal(row?.locked, true);
    assert.equal(abortOf(await login("alice", "alice-ticket", host())).abort, "wamp.error.not_authorized");
    // The neighbouring /64 is someone else.
    assert.equal(welcomeOf(await login("alice", "alice-ticket", "2001:db8:5:7::1")).authid, "alice");
  });
});
