import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseAuthRequest, parseTransport } from "../../src/auth/request.js";
import { AuthError } from "../../src/errors/authErrors.js";

const cert = { sha256: "AB:CD", subject: { cn: "client" } };

describe("parseTransport (details.transport, both formats)", () => {
  it("reads the current TransportDetails keys (Crossbar >= 22.4)", () => {
    const t = parseTransport({
      channel_type: "tls",
      channel_framing: "websocket",
      peer: "tcp4:10.1.2.3:5555",
      peer_cert: cert,
      http_cbtid: "cookie-id",
      http_headers_received: { "X-Forwarded-For": "1.2.3.4" },
    });
    assert.equal(t.channelType, "tls");
    assert.equal(t.framing, "websocket");
    assert.equal(t.peer, "tcp4:10.1.2.3:5555");
    assert.deepEqual(t.peerCert, cert);
    assert.equal(t.cbtid, "cookie-id");
    assert.equal(t.httpHeaders["x-forwarded-for"], "1.2.3.4");
  });

  it("reads the legacy keys (Crossbar <= 22.3): type, cbtid, client_cert", () => {
    const t = parseTransport({ type: "rawsocket", protocol: "wamp.2.json", peer: "unix", cbtid: "old", client_cert: cert });
    assert.equal(t.channelType, null);
    assert.equal(t.framing, "rawsocket");
    assert.equal(t.cbtid, "old");
    assert.deepEqual(t.peerCert, cert);
  });

  it("is empty for a missing transport and refuses wrong types", () => {
    assert.deepEqual(parseTransport(undefined).httpHeaders, {});
    assert.throws(() => parseTransport("tcp"), AuthError);
    assert.throws(() => parseTransport({ peer: 42 }), AuthError);
  });

  it("keeps a header named __proto__ as data", () => {
    const t = parseTransport({ http_headers_received: JSON.parse('{"__proto__": "x", "a": "b"}') as unknown });
    assert.equal(Object.getPrototypeOf(t.httpHeaders), null);
    assert.equal(t.httpHeaders["__proto__"], "x");
    assert.equal(t.httpHeaders.a, "b");
  });
});

describe("parseAuthRequest", () => {
  const details = { authmethod: "ticket", session: 1, ticket: "t", transport: { peer: "tcp4:127.0.0.1:1" } };

  it("accepts what Crossbar sends", () => {
    const r = parseAuthRequest(["app", "alice", details]);
    assert.equal(r.realm, "app");
    assert.equal(r.authid, "alice");
    assert.equal(r.details.ticket, "t");
    assert.deepEqual(r.details.authextra, {});
  });

  it("denies malformed requests with a denial, never a TypeError", () => {
    const bad: unknown[] = [
      null,
      [],
      ["app", "alice"],
      ["app", "alice", null],
      ["app", "alice", { ...details, authmethod: 7 }],
      ["app", "alice", { ...details, authmethod: undefined }],
      ["app", "alice", { ...details, session: 1.5 }],
      ["app", "alice", { ...details, authextra: [] }],
      ["app", "alice", { ...details, authextra: { big: "x".repeat(20000) } }],
      ["app", "al\u0000ice", details],
      ["app", "\ud800", details],
      [42, "alice", details],
      ["app", "a".repeat(300), details],
    ];
    for (const args of bad)
      assert.throws(
        () => parseAuthRequest(args),
        (e: unknown) => e instanceof AuthError && e.uri === "wamp.error.not_authorized",
        JSON.stringify(args)?.slice(0, 80),
      );
  });

  it("denies non-finite numbers anywhere in authextra or transport (what Crossbar forwards for a client's NaN)", () => {
    const deep = (n: number, leaf: unknown): unknown => {
      let v = leaf;
      for (let i = 0; i < n; i++) v = [v];
      return v;
    };
    const cases: Array<[string, unknown]> = [
      ["authextra NaN", { ...details, authextra: { a: NaN } }],
      ["authextra Infinity", { ...details, authextra: { a: Infinity } }],
      ["authextra -Infinity in a list", { ...details, authextra: { a: [1, { b: [-Infinity] }] } }],
      ["authextra NaN under __proto__", { ...details, authextra: JSON.parse('{"__proto__": {"x": 1e999}}') as unknown }],
      ["authextra NaN 20 levels down", { ...details, authextra: { a: deep(20, NaN) } }],
      ["authextra BigInt", { ...details, authextra: { a: 10n ** 30n } }],
      ["authextra 100k deep", { ...details, authextra: { a: deep(100_000, 1) } }],
      ["authextra 40 deep", { ...details, authextra: { a: deep(40, 1) } }],
      ["authextra 20k values", { ...details, authextra: { a: Array.from({ length: 20_000 }, () => 0) } }],
      ["transport NaN", { ...details, transport: { peer: "tcp4:127.0.0.1:1", own_pid: NaN } }],
      ["transport peer_cert Infinity", { ...details, transport: { peer: "unix", peer_cert: { not_after: Infinity } } }],
      ["transport 100k deep", { ...details, transport: { peer: "unix", x: deep(100_000, 1) } }],
    ];
    for (const [what, d] of cases) {
      assert.throws(
        () => parseAuthRequest(["app", "alice", d]),
        (e: unknown) =>
          e instanceof AuthError && e.uri === "wamp.error.not_authorized" && e.message.startsWith("invalid authentication request"),
        what,
      );
    }
  });

  it("accepts finite values, huge-but-finite numbers and moderate nesting", () => {
    const r = parseAuthRequest([
      "app",
      "alice",
      { ...details, authextra: { n: 2 ** 64, f: -1.5e300, list: [[[{ a: 0 }]]], s: "NaN" }, transport: { peer: "unix", own_pid: 7 } },
    ]);
    assert.deepEqual(r.details.authextra, { n: 2 ** 64, f: -1.5e300, list: [[[{ a: 0 }]]], s: "NaN" });
  });
});
