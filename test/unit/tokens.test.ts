/**
 * The pure parts of tokens: the API token / device ticket format and keyed hash, JWT claim mapping,
 * JWKS parsing, telling JWTs, tokens and passwords apart, and the CLI's issuer option parsing.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { jwksUrl, leewaySeconds, roleMapEntry } from "../../src/admin/tokens.js";
import { base32, expiryFrom, isTokenShaped, newToken, parseToken, TokenKeys } from "../../src/auth/tokens/apiTokens.js";
import { authidFrom, claimAt, ClaimError, extraFrom, realmFrom, roleFrom } from "../../src/auth/tokens/claims.js";
import { KeySourceError, parseJwks, parseSecret } from "../../src/auth/tokens/jwks.js";
import { looksLikeJwt } from "../../src/auth/tokens/jwt.js";
import { TokenAuthenticator } from "../../src/auth/tokens/tokens.js";
import { AdminError } from "../../src/admin/context.js";
import { parseAuthRequest } from "../../src/auth/request.js";

const keys = new TokenKeys([
  { id: "k2", key: Buffer.alloc(32, 2) },
  { id: "k1", key: Buffer.alloc(32, 1) },
]);

describe("API token format", () => {
  it("base32 is RFC 4648 (lowercase, unpadded)", () => {
    assert.equal(base32(Buffer.from("foobar")), "mzxw6ytboi");
    assert.equal(base32(Buffer.from("f")), "my");
  });

  it("round-trips, with a recognisable prefix, and rejects any changed character", () => {
    for (const kind of ["api", "device"] as const) {
      const t = newToken(kind);
      assert.match(t.text, kind === "api" ? /^authd_api_[a-z2-7]{16}_[a-z2-7]{59}$/ : /^authd_dev_[a-z2-7]{16}_[a-z2-7]{59}$/);
      assert.deepEqual(parseToken(t.text), { kind, id: t.id, secret: t.secret });
      assert.ok(isTokenShaped(t.text));
      for (const i of [12, 30, t.text.length - 1]) {
        const c = t.text[i] === "a" ? "b" : "a";
        assert.equal(parseToken(t.text.slice(0, i) + c + t.text.slice(i + 1)), null, `changed at ${i}`);
      }
      assert.equal(parseToken(t.text + "a"), null);
      assert.equal(parseToken(t.text.toUpperCase()), null);
    }
  });

  it("ids and secrets are fresh every time", () => {
    const a = newToken("api");
    const b = newToken("api");
    assert.notEqual(a.id, b.id);
    assert.notEqual(a.secret, b.secret);
  });

  it("keyed hash: verifies with the key that made it, also after rotation; not with another id, secret or key id", () => {
    const t = newToken("api");
    const { keyId, hash } = keys.hash(t.id, t.secret);
    assert.equal(keyId, "k2");
    assert.equal(hash.length, 32);
    assert.ok(keys.verify(keyId, t.id, t.secret, hash));
    const other = t.secret.slice(0, -1) + (t.secret.endsWith("a") ? "b" : "a");
    assert.equal(keys.verify(keyId, t.id, other, hash), false);
    assert.equal(keys.verify(keyId, newToken("api").id, t.secret, hash), false);
    assert.equal(keys.verify("k1", t.id, t.secret, hash), false);
    assert.equal(keys.verify("gone", t.id, t.secret, hash), false);
    // A token hashed under the older key still verifies once a new key leads the file.
    const old = new TokenKeys([{ id: "k1", key: Buffer.alloc(32, 1) }]).hash(t.id, t.secret);
    assert.ok(keys.verify(old.keyId, t.id, t.secret, old.hash));
    assert.equal(keys.verify("k2", t.id, t.secret, Buffer.alloc(3)), false);
  });

  it("expiries: durations and future dates", () => {
    const now = new Date("2026-01-01T00:00:00Z");
    assert.equal(expiryFrom("90d", now)?.toISOString(), "2026-04-01T00:00:00.000Z");
    assert.equal(expiryFrom("12h", now)?.toISOString(), "2026-01-01T12:00:00.000Z");
    assert.equal(expiryFrom("2027-06-30", now)?.toISOString(), "2027-06-30T00:00:00.000Z");
    for (const bad of ["", "0d", "soon", "90 days", "-1d", "1y"]) assert.equal(expiryFrom(bad, now), null, bad);
  });
});

describe("what a ticket is", () => {
  const jwt = (header: object) => `${Buffer.from(JSON.stringify(header)).toString("base64url")}.eyJzdWIiOiJhIn0.c2ln`;

  it("JWTs by shape, our tokens by prefix, everything else is a password", () => {
    assert.equal(TokenAuthenticator.kindOf(jwt({ alg: "RS256", kid: "k" })), "jwt");
    assert.equal(TokenAuthenticator.kindOf(`${Buffer.from('{"alg":"none"}').toString("base64url")}.eyJzdWIiOiJhIn0.`), "jwt");
    assert.equal(TokenAuthenticator.kindOf(newToken("device").text), "token");
    assert.equal(TokenAuthenticator.kindOf("authd_api_garbage"), "token");
    for (const pw of ["alice-ticket", "a.b.c", "eyJ.eyJ.sig", "x".repeat(5000), jwt({ typ: "JWT" }), "a.b.c.d.e"]) {
      assert.equal(TokenAuthenticator.kindOf(pw), "password", pw.slice(0, 30));
    }
    assert.equal(looksLikeJwt(`${Buffer.from('"alg"').toString("base64url")}.e30.c2ln`), false);
  });

  it("an oversized ticket is flagged, not kept, and not a bad request", () => {
    const details = { authmethod: "ticket", ticket: "x".repeat(9000), transport: { peer: "tcp4:127.0.0.1:1" } };
    const r = parseAuthRequest(["app", "alice", details], { maxTicketLength: 8192 });
    assert.equal(r.details.ticket, null);
    assert.equal(r.details.ticketTooLong, true);
    const ok = parseAuthRequest(["app", "alice", { ...details, ticket: "x".repeat(8192) }], { maxTicketLength: 8192 });
    assert.equal(ok.details.ticket?.length, 8192);
    assert.equal(ok.details.ticketTooLong, false);
  });
});

describe("JWT claims → session", () => {
  const rules = {
    authidClaim: "sub",
    roleClaim: "realm_access.roles",
    roleMap: [
      { value: "admin", role: "ops" },
      { value: "staff", role: "user" },
    ],
    defaultRole: null,
    realmClaim: "tenant",
    extraClaims: ["email", "https://example.com/team", "__proto__"],
  };

  it("claims by exact name first (namespaced claims hold dots), then by dotted path, own properties only", () => {
    const p = JSON.parse('{"a.b": 1, "a": {"b": 2, "c": {"d": 3}}, "__proto__": {"x": 1}}') as Record<string, unknown>;
    assert.equal(claimAt(p, "a.b"), 1);
    assert.equal(claimAt(p, "a.c.d"), 3);
    assert.equal(claimAt(p, "a.toString"), undefined);
    assert.equal(claimAt(p, "constructor"), undefined);
    assert.equal(claimAt(p, "a.b.c"), undefined);
  });

  it("authid: a non-empty string of at most 255 printable characters", () => {
    assert.equal(authidFrom({ sub: "auth0|42" }, rules), "auth0|42");
    for (const bad of [undefined, "", 42, ["a"], "x".repeat(256), "a\u0000b", "a\nb", "\ud800"]) {
      assert.throws(() => authidFrom({ sub: bad }, rules), ClaimError);
    }
  });

  it("role: the first mapping entry (in table order) the claim holds; default or denial otherwise; never trusted", () => {
    const p = (roles: unknown) => ({ realm_access: { roles } });
    assert.equal(roleFrom(p(["staff", "admin"]), rules), "ops");
    assert.equal(roleFrom(p("staff"), rules), "user");
    assert.throws(() => roleFrom(p(["guest"]), rules), ClaimError);
    assert.throws(() => roleFrom(p([{ admin: true }, 1]), rules), ClaimError);
    assert.throws(() => roleFrom({}, rules), ClaimError);
    assert.equal(roleFrom(p(["guest"]), { ...rules, defaultRole: "guest" }), "guest");
    assert.equal(roleFrom(p(["admin"]), { ...rules, roleClaim: null }), null, "no role claim: the user's stored role");
    assert.throws(() => roleFrom(p(["x"]), { ...rules, roleMap: [{ value: "x", role: "trusted" }] }), ClaimError);
    assert.throws(() => roleFrom(p(["x"]), { ...rules, defaultRole: "trusted" }), ClaimError);
  });

  it("realm from a claim; extra takes the selected claims only, __proto__ as a plain key, bounded", () => {
    assert.equal(realmFrom({ tenant: "app2" }, rules), "app2");
    assert.equal(realmFrom({ tenant: "app2" }, { realmClaim: null }), null);
    assert.throws(() => realmFrom({}, rules), ClaimError);
    const payload = JSON.parse(
      '{"email": "a@x", "https://example.com/team": "blue", "secret": 1, "__proto__": {"polluted": true}}',
    ) as Record<string, unknown>;
    const extra = extraFrom(payload, rules);
    assert.deepEqual(Object.keys(extra).sort(), ["__proto__", "email", "https://example.com/team"]);
    assert.equal((extra as { polluted?: unknown }).polluted, undefined);
    assert.equal(Object.getPrototypeOf(extra), Object.prototype);
    assert.throws(() => extraFrom({ email: "x".repeat(5000) }, rules), ClaimError);
  });
});

describe("key material", () => {
  it("a JWKS keeps public signing keys only: no oct keys, nothing private", () => {
    const rsa = { kty: "RSA", kid: "a", n: "AQAB", e: "AQAB" };
    const jwks = parseJwks(
      JSON.stringify({
        keys: [rsa, { kty: "oct", kid: "h", k: "c2VjcmV0" }, { kty: "EC", kid: "p", crv: "P-256", x: "a", y: "b", d: "private" }, "junk"],
      }),
    );
    assert.deepEqual(jwks.keys, [rsa]);
    for (const bad of ["not json", "{}", '{"keys": {}}', '{"keys": [{"kty": "oct", "k": "abc"}]}']) {
      assert.throws(() => parseJwks(bad), KeySourceError, bad);
    }
  });

  it("an HMAC secret file: at least 32 bytes, one trailing newline dropped", () => {
    assert.equal(parseSecret(Buffer.from("x".repeat(32) + "\n")).length, 32);
    assert.equal(parseSecret(Buffer.from("x".repeat(40) + "\r\n")).length, 40);
    assert.throws(() => parseSecret(Buffer.from("short\n")), KeySourceError);
  });
});

describe("issuer options (CLI)", () => {
  it("JWKS URLs: https, or http on loopback only", () => {
    assert.equal(jwksUrl("https://idp.example.com/jwks"), "https://idp.example.com/jwks");
    assert.equal(jwksUrl("http://127.0.0.1:8080/jwks"), "http://127.0.0.1:8080/jwks");
    for (const bad of ["http://idp.example.com/jwks", "ftp://x/y", "nonsense", "http://10.0.0.1/jwks"])
      assert.throws(() => jwksUrl(bad), AdminError, bad);
  });

  it("leeway and role map entries", () => {
    assert.equal(leewaySeconds("30s"), 30);
    assert.equal(leewaySeconds("2m"), 120);
    assert.equal(leewaySeconds("0"), 0);
    for (const bad of ["11m", "-1", "x", "1h"]) assert.throws(() => leewaySeconds(bad), AdminError, bad);
    assert.deepEqual(roleMapEntry("a=b=user"), { value: "a=b", role: "user" });
    for (const bad of ["admin", "=user", "admin=", "x=trusted", "x=Bad Role"]) assert.throws(() => roleMapEntry(bad), AdminError, bad);
  });
});
