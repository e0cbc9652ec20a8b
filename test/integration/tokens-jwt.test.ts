/**
 * JWTs as WAMP tickets, through a real Crossbar with real clients (autobahn-js and autobahn-python):
 * an identity provider stand-in on loopback serves a JWKS of keys made here. Every way a token can be
 * wrong gets the one login denial; expiry and jti revocation end live sessions; keys rotate live; a
 * JWKS that cannot be fetched keeps the last good keys and shows in /readyz and metrics.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { SignJWT } from "jose";
import { bearerLogin, closedWithin, loginDenied } from "../helpers/client.js";
import { cliEnv, cliOk, runCli } from "../helpers/cli.js";
import { hs256Jwt, signingKey, startIdp, tamper, unsecuredJwt, type Idp, type SigningKey } from "../helpers/idp.js";
import { abortOf as pyAbortOf, pyLogin, welcomeOf } from "../helpers/pyClient.js";
import { capturedLogger } from "../helpers/logCapture.js";
import { startStack, type Stack } from "../helpers/stack.js";

describe("JWT logins through Crossbar", () => {
  let stack: Stack;
  let idp: Idp;
  let key: SigningKey;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const cli = (...args: string[]) => cliOk(args, { env });
  const logs = capturedLogger("info");

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "authd-jwt-"));
    idp = await startIdp();
    key = await signingKey("RS256");
    idp.keys = [key];
    stack = await startStack({
      realms: { app: ["user", "ops"], hmac: ["user"] },
      log: logs.log,
      service: { tokens: { jwksCooldownMs: 1500, jwksRefreshMs: 3_600_000, sweepMs: 1000 } },
    });
    env = cliEnv(stack.store.url);
    await cli("realms", "add", "app");
    await cli("roles", "add", "app", "user");
    await cli("roles", "add", "app", "ops");
    await cli("grants", "add", "app", "user", "com.example.*", "--allow", "call,register");
    await cli("users", "add", "app", "alice", "--role", "user", "--extra", '{"team":"blue"}');
    await cli("users", "add", "app", "bob", "--role", "user");
    await cli(
      "issuers", "add", "app", "corp", "--jwks-url", idp.url, "--iss", idp.issuer, "--aud", "wamp",
      "--leeway", "0s", "--role-claim", "realm_access.roles", "--role-map", "wamp-ops=ops", "--role-map", "wamp-user=user",
      "--extra-claims", "email",
    ); // prettier-ignore
    await stack.service!.reload();
  });

  after(async () => {
    await stack?.stop();
    await idp?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const claims = (sub: string, roles: string[] = ["wamp-user"]) => ({ sub, realm_access: { roles }, email: `${sub}@corp.test` });

  it("a valid JWT logs in with autobahn-js (with or without authid): authid from sub, role mapped, selected claims in authextra", async () => {
    const token = await idp.sign(key, claims("alice", ["offline", "wamp-user"]));
    for (const authid of [undefined, "alice"]) {
      const c = await bearerLogin(stack.wsUrl, "app", token, authid);
      assert.equal(c.welcome.authid, "alice");
      assert.equal(c.welcome.authrole, "user");
      assert.equal(c.welcome.authextra.email, "alice@corp.test");
      assert.equal(c.welcome.authextra.team, "blue", "the user's own extra stays");
      assert.equal(c.welcome.authextra.realm_access, undefined, "claims not selected stay out");
      c.close();
    }
    const ops = await bearerLogin(stack.wsUrl, "app", await idp.sign(key, claims("bob", ["wamp-user", "wamp-ops"])));
    assert.equal(ops.welcome.authrole, "ops", "the first mapping entry in table order wins");
    ops.close();
  });

  it("a valid JWT logs in with autobahn-python", async () => {
    const token = await idp.sign(key, claims("alice"));
    const w = welcomeOf(await pyLogin({ url: stack.wsUrl, realm: "app", authmethod: "ticket", ticket: token }));
    assert.equal(w.authid, "alice");
    assert.equal(w.authrole, "user");
    const bad = pyAbortOf(
      await pyLogin({ url: stack.wsUrl, realm: "app", authmethod: "ticket", ticket: tamper(token, (c) => ({ ...c, sub: "bob" })) }),
    );
    assert.equal(bad.abort, "wamp.error.not_authorized");
    assert.equal(bad.message, "authentication failed");
  });

  it("every bad token gets the one denial: expired, not yet valid, wrong aud or iss, alg none, HS256 with the RSA public key, unknown kid, tampered, oversized, unknown subject, another authid", async () => {
    const now = Math.floor(Date.now() / 1000);
    const good = claims("alice");
    const cases: Array<[string, string, string?]> = [
      ["expired", await idp.sign(key, { ...good, iat: now - 600 }, { expiresIn: -60 })],
      ["not yet valid", await idp.sign(key, good, { notBefore: now + 600 })],
      ["wrong aud", await idp.sign(key, { ...good, aud: "other" })],
      ["wrong iss", await idp.sign(key, { ...good, iss: "https://evil.test/" })],
      [
        "no exp",
        await new SignJWT({ ...good, iss: idp.issuer, aud: "wamp" })
          .setProtectedHeader({ alg: "RS256", kid: key.kid })
          .sign(key.privateKey),
      ],
      ["alg none", unsecuredJwt({ ...good, iss: idp.issuer, aud: "wamp", exp: now + 300 })],
      ["HS256 with the RSA public key", hs256Jwt({ ...good, iss: idp.issuer, aud: "wamp", exp: now + 300 }, key.publicPem, key.kid)],
      ["HS256 with the JWK modulus", hs256Jwt({ ...good, iss: idp.issuer, aud: "wamp", exp: now + 300 }, key.publicJwk.n!, key.kid)],
      ["unknown kid", await idp.sign(key, good, { kid: "no-such-kid" })],
      ["tampered payload", tamper(await idp.sign(key, claims("bob")), (c) => ({ ...c, sub: "alice" }))],
      ["tampered role", tamper(await idp.sign(key, good), (c) => ({ ...c, realm_access: { roles: ["wamp-ops"] } }))],
      ["oversized", await idp.sign(key, { ...good, pad: "x".repeat(9000) })],
      ["unknown subject", await idp.sign(key, claims("mallory"))],
      ["no role mapping matches", await idp.sign(key, claims("alice", ["other"]))],
      ["another authid in HELLO", await idp.sign(key, good), "bob"],
      ["another realm", await idp.sign(key, good)],
    ];
    for (const [what, token, authid] of cases) {
      await loginDenied(bearerLogin(stack.wsUrl, what === "another realm" ? "hmac" : "app", token, authid), what);
    }
    // Denials of unproven tokens are rolled up (an attacker can send them at will); each is logged with
    // its reason, and only verified tokens' denials keep an audit row of their own.
    const reasons = logs
      .records()
      .filter((r) => r.msg === "authentication denied")
      .map((r) => String(r.reason))
      .join("\n");
    await stack.service!.audit.flush();
    const signature = cases[0]![1].split(".")[2]!;
    for (const table of ["audit", "audit_rollup"]) {
      const leaked = await stack.store.pool.query(`SELECT 1 FROM authd.${table} t WHERE t::text LIKE '%' || $1 || '%'`, [signature]);
      assert.equal(leaked.rows.length, 0, `no ${table} row holds a token`);
    }
    for (const r of [
      "ERR_JWT_EXPIRED",
      "nbf",
      "aud",
      "iss",
      "ERR_JOSE_ALG_NOT_ALLOWED",
      "ERR_JWKS_NO_MATCHING_KEY",
      "ERR_JWS_SIGNATURE_VERIFICATION_FAILED",
      "ticket too long",
      "unknown subject",
    ]) {
      assert.match(reasons, new RegExp(r), `audited reason ${r}`);
    }
  });

  it("an unknown kid refetches the JWKS at most once per cooldown; a rotated key works live", async () => {
    await new Promise((r) => setTimeout(r, 1600)); // past the cooldown of earlier tests
    const before = idp.requests;
    for (let i = 0; i < 6; i++)
      await loginDenied(bearerLogin(stack.wsUrl, "app", await idp.sign(key, claims("alice"), { kid: `made-up-${i}` })), "made-up kid");
    assert.ok(idp.requests - before <= 1, `${idp.requests - before} JWKS requests for 6 unknown kids within the cooldown`);

    await new Promise((r) => setTimeout(r, 1600));
    const next = await signingKey("ES256");
    idp.keys = [key, next];
    const c = await bearerLogin(stack.wsUrl, "app", await idp.sign(next, claims("alice")));
    assert.equal(c.welcome.authid, "alice", "the new key was fetched on its first unknown kid");
    c.close();
    idp.keys = [next]; // the old key is retired at the IdP
    await new Promise((r) => setTimeout(r, 1600));
    await loginDenied(bearerLogin(stack.wsUrl, "app", await idp.sign(key, claims("alice"), { kid: "retired-probe" })), "probe");
    await loginDenied(bearerLogin(stack.wsUrl, "app", await idp.sign(key, claims("alice"))), "retired key");
    key = next;
  });

  it("a JWKS that cannot be fetched keeps the last good keys, and shows in /readyz detail and metrics", async () => {
    const s = stack.service!;
    idp.failing = true;
    try {
      await s.issuers.refresh();
      const r = await s.readiness();
      const st = (r.detail.issuers as Record<string, { ok: boolean; keys: number; lastError: string | null }>)["app/corp"]!;
      assert.equal(st.ok, false);
      assert.match(st.lastError ?? "", /HTTP 500/);
      assert.ok(st.keys >= 1, "the last good keys are kept");
      assert.equal(r.ready, true, "a failing JWKS does not make the service unready");
      const metrics = await s.metrics.registry.metrics();
      assert.match(metrics, /authd_jwks_up\{issuer="app\/corp"\} 0/);
      assert.match(metrics, /authd_jwks_loads_total\{issuer="app\/corp",outcome="error"\} [1-9]/);
      const c = await bearerLogin(stack.wsUrl, "app", await idp.sign(key, claims("alice")));
      assert.equal(c.welcome.authid, "alice");
      c.close();
    } finally {
      idp.failing = false;
    }
    await s.issuers.refresh();
    assert.match(await s.metrics.registry.metrics(), /authd_jwks_up\{issuer="app\/corp"\} 1/);
  });

  it("the session is closed with wamp.close.logout when the token expires", async () => {
    const token = await idp.sign(key, claims("alice"), { expiresIn: 3 });
    const { exp } = JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString()) as { exp: number };
    const c = await bearerLogin(stack.wsUrl, "app", token);
    const closed = await closedWithin(c, 8000);
    const at = Date.now() / 1000;
    assert.equal(closed.details.reason, "wamp.close.logout");
    assert.ok(at >= exp - 0.05 && at < exp + 2, `closed ${(at - exp).toFixed(2)} s after exp`);
    // The sweep deletes the row once the kill is answered (right after the client saw its close).
    const until = Date.now() + 3000;
    let left = 1;
    while (left > 0 && Date.now() < until) {
      left = (await stack.store.pool.query("SELECT 1 FROM authd.token_sessions WHERE authid = 'alice' AND expires_at <= now()")).rows
        .length;
      if (left > 0) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(left, 0, "the ended session's row is gone");
  });

  it("revoking a jti through the CLI ends its live sessions, and only those; it no longer logs in", async () => {
    const revoked = await idp.sign(key, { ...claims("alice"), jti: "jti-to-revoke" });
    const other = await idp.sign(key, claims("alice"));
    const a = await bearerLogin(stack.wsUrl, "app", revoked);
    const b = await bearerLogin(stack.wsUrl, "app", other);
    await cli("tokens", "revoke-jti", "app", "corp", "jti-to-revoke");
    assert.equal((await closedWithin(a, 3000)).details.reason, "wamp.close.logout");
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(b.session.isOpen, true, "the other token's session stays");
    b.close();
    await loginDenied(bearerLogin(stack.wsUrl, "app", revoked), "revoked jti");
  });

  it("no reserved role from a token: the CLI refuses trusted, the store refuses the service's role", async () => {
    const trusted = await runCli(
      [
        "issuers",
        "add",
        "app",
        "evil",
        "--jwks-url",
        idp.url,
        "--iss",
        "x",
        "--aud",
        "wamp",
        "--role-claim",
        "r",
        "--role-map",
        "a=trusted",
      ],
      { env },
    );
    assert.equal(trusted.code, 1);
    const service = await runCli(
      ["issuers", "add", "app", "evil", "--jwks-url", idp.url, "--iss", "x", "--aud", "wamp", "--default-role", "authd"],
      { env },
    );
    assert.equal(service.code, 1);
    assert.match(service.stderr, /rejected by the store/);
    await assert.rejects(
      stack.store.pool.query(
        `INSERT INTO authd.token_issuers (realm_id, name, iss, audiences, jwks_url, algorithms, role_claim, role_map)
         SELECT id, 'sql', 'x', '{wamp}', 'https://x/', '{RS256}', 'r', '[{"value": "a", "role": "trusted"}]' FROM authd.realms WHERE name = 'app'`,
      ),
      /reserved/,
    );
  });

  it("an HMAC issuer (secret file): its HS256 tokens log in, provisioned when unknown; a token with another secret or alg is denied", async () => {
    const secretFile = join(dir, "hmac.secret");
    const secret = "s".repeat(40);
    writeFileSync(secretFile, secret + "\n");
    await cli("realms", "add", "hmac");
    await cli("roles", "add", "hmac", "user");
    await cli(
      "issuers",
      "add",
      "hmac",
      "svc",
      "--secret-file",
      secretFile,
      "--iss",
      "svc",
      "--aud",
      "wamp",
      "--default-role",
      "user",
      "--provision",
    );
    const now = Math.floor(Date.now() / 1000);
    const c = await bearerLogin(stack.wsUrl, "hmac", hs256Jwt({ sub: "newbie", iss: "svc", aud: "wamp", exp: now + 60 }, secret));
    assert.equal(c.welcome.authid, "newbie");
    assert.equal(c.welcome.authrole, "user");
    c.close();
    const users = await cli("users", "list", "hmac", "--json");
    assert.match(users, /"newbie"/, "the unknown subject was provisioned");
    await loginDenied(
      bearerLogin(stack.wsUrl, "hmac", hs256Jwt({ sub: "newbie", iss: "svc", aud: "wamp", exp: now + 60 }, "t".repeat(40))),
      "other secret",
    );
    await loginDenied(
      bearerLogin(
        stack.wsUrl,
        "hmac",
        await new SignJWT({ sub: "newbie", iss: "svc", aud: "wamp" })
          .setProtectedHeader({ alg: "RS256" })
          .setExpirationTime(now + 60)
          .sign((await signingKey("RS256")).privateKey),
      ),
      "RS256 to an HMAC issuer",
    );
  });

  it("a realm taken from a claim: that realm must trust the same iss, and its issuer's rules apply", async () => {
    const idp2 = await startIdp("https://idp2.test/");
    const k2 = await signingKey("ES256");
    idp2.keys = [k2];
    try {
      for (const realm of ["app", "hmac"]) {
        await cli(
          "issuers",
          "add",
          realm,
          "multi",
          "--jwks-url",
          idp2.url,
          "--iss",
          idp2.issuer,
          "--aud",
          "wamp",
          "--realm-claim",
          "tenant",
          "--default-role",
          "user",
        );
      }
      const c = await bearerLogin(stack.wsUrl, "app", await idp2.sign(k2, { sub: "newbie", tenant: "hmac" }));
      assert.equal(c.welcome.authid, "newbie");
      assert.equal(c.welcome.realm, "hmac");
      c.close();
      const rows = await stack.store.pool.query<{ realm: string }>(
        "SELECT realm FROM authd.audit WHERE kind = 'login' AND outcome = 'allow' ORDER BY id DESC LIMIT 1",
      );
      assert.equal(rows.rows[0]!.realm, "app", "the client asked for app");
      const { rows: moved } = await stack.store.pool.query<{ to: string }>(
        "SELECT detail->>'to' AS to FROM authd.audit WHERE kind = 'login' AND outcome = 'allow' ORDER BY id DESC LIMIT 1",
      );
      assert.equal(moved[0]!.to, "hmac", "and landed in the realm the claim names");
      await loginDenied(
        bearerLogin(stack.wsUrl, "app", await idp2.sign(k2, { sub: "newbie", tenant: "nowhere" })),
        "a realm that does not trust the iss",
      );
      await loginDenied(bearerLogin(stack.wsUrl, "app", await idp2.sign(k2, { sub: "alice" })), "no realm claim");
    } finally {
      await idp2.close();
    }
  });

  it("removing an issuer closes the sessions its tokens opened", async () => {
    const now = Math.floor(Date.now() / 1000);
    const c = await bearerLogin(stack.wsUrl, "hmac", hs256Jwt({ sub: "newbie", iss: "svc", aud: "wamp", exp: now + 600 }, "s".repeat(40)));
    await cli("issuers", "remove", "hmac", "svc");
    assert.equal((await closedWithin(c, 3000)).details.reason, "wamp.close.logout");
    await loginDenied(
      bearerLogin(stack.wsUrl, "hmac", hs256Jwt({ sub: "newbie", iss: "svc", aud: "wamp", exp: now + 600 }, "s".repeat(40))),
      "removed issuer",
    );
  });
});
