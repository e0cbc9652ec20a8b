/**
 * The client address behind a trusted proxy and the canonical throttle key (src/auth/peer.ts):
 * the entry the trusted proxy appended wins over anything the client put in the header.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatIp, parseIp } from "../../src/auth/cidr.js";
import { clientIp, headerEntries, parseForwardedAddress, peerKey, type PeerKeyOptions } from "../../src/auth/peer.js";
import { parseTransport } from "../../src/auth/request.js";

const via = (xff: string | Record<string, string>, peer = "tcp4:10.0.0.1:5000") =>
  parseTransport({ peer, http_headers_received: typeof xff === "string" ? { "x-forwarded-for": xff } : xff });
const XFF: PeerKeyOptions = { trustedProxyHeader: "X-Forwarded-For" };

describe("peerKey without a proxy header", () => {
  it("gives one canonical text per client: IPv4 per address, IPv4-mapped IPv6 as IPv4, no key without an IP", () => {
    assert.equal(formatIp(parseIp("10.0.0.7")!), "10.0.0.7");
    assert.equal(peerKey(parseTransport({ peer: "tcp4:127.0.0.1:48638" })), "127.0.0.1");
    assert.equal(peerKey(parseTransport({ peer: "tcp6:::ffff:10.0.0.7:5555" })), "10.0.0.7");
    assert.equal(peerKey(parseTransport({ peer: "unix" })), null);
    assert.equal(peerKey(parseTransport({ peer: "process:1234" })), null);
    assert.equal(peerKey(parseTransport({})), null);
  });

  it("ignores a client-sent X-Forwarded-For unless the header is configured", () => {
    assert.equal(peerKey(via("198.51.100.9")), "10.0.0.1");
  });

  it("keys IPv6 clients by their /64 (default) or the configured prefix, so one host cannot rotate addresses", () => {
    const a = peerKey(parseTransport({ peer: "tcp6:2001:db8:1:2:aaaa::1:40000" }));
    const b = peerKey(parseTransport({ peer: "tcp6:2001:db8:1:2:ffff:1234:5678:9abc:40001" }));
    assert.equal(a, "2001:db8:1:2:0:0:0:0/64");
    assert.equal(b, a);
    assert.notEqual(peerKey(parseTransport({ peer: "tcp6:2001:db8:1:3::1:1" })), a, "the next /64 is another client");
    assert.equal(peerKey(parseTransport({ peer: "tcp6:2001:db8:1:2::1:1" }), { ipv6PrefixLength: 48 }), "2001:db8:1:0:0:0:0:0/48");
    assert.equal(peerKey(parseTransport({ peer: "tcp6:2001:db8::1:1" }), { ipv6PrefixLength: 128 }), "2001:db8:0:0:0:0:0:1/128");
    // IPv4 stays a single address whatever the IPv6 prefix, also when mapped.
    assert.equal(peerKey(parseTransport({ peer: "tcp6:::ffff:192.0.2.1:1" }), { ipv6PrefixLength: 48 }), "192.0.2.1");
  });
});

describe("the client address behind a trusted proxy", () => {
  it("takes the rightmost entry (what the proxy appended), not the client-chosen first one", () => {
    assert.equal(peerKey(via("203.0.113.66, 198.51.100.7"), XFF), "198.51.100.7");
    assert.equal(peerKey(via("1.1.1.1, 2.2.2.2, 3.3.3.3, 198.51.100.7"), XFF), "198.51.100.7");
    assert.equal(peerKey(via("198.51.100.7"), XFF), "198.51.100.7");
  });

  it("spoofed left entries change nothing: many first entries, one key", () => {
    const keys = new Set<string | null>();
    for (let i = 0; i < 50; i++) keys.add(peerKey(via(`10.${i}.0.1, 172.16.${i}.9, 198.51.100.7`), XFF));
    assert.deepEqual([...keys], ["198.51.100.7"]);
  });

  it("with hops N, the N-th entry from the right (the client as the outermost trusted proxy saw it)", () => {
    const two = { ...XFF, trustedProxyHops: 2 };
    assert.equal(peerKey(via("6.6.6.6, 198.51.100.7, 10.1.1.1"), two), "198.51.100.7");
    assert.equal(peerKey(via("198.51.100.7, 10.1.1.1"), two), "198.51.100.7");
    assert.equal(peerKey(via("9.9.9.9, 8.8.8.8, 198.51.100.7, 10.1.1.1, 10.2.2.2"), { ...XFF, trustedProxyHops: 3 }), "198.51.100.7");
  });

  it("too few entries, an empty or missing header: the transport peer (the proxy) counts", () => {
    const two = { ...XFF, trustedProxyHops: 2 };
    assert.equal(peerKey(via("198.51.100.7"), two), "10.0.0.1");
    assert.equal(peerKey(via(""), XFF), "10.0.0.1");
    assert.equal(peerKey(via({}), XFF), "10.0.0.1");
    assert.equal(peerKey(via({ "x-real-ip": "198.51.100.7" }), XFF), "10.0.0.1");
  });

  it("junk where the proxy's entry should be: the transport peer, never a left entry", () => {
    for (const junk of [
      "junk",
      "unknown",
      "_hidden",
      "1.2.3",
      "999.1.1.1",
      "1.2.3.4.5",
      "[::1",
      "[1.2.3.4]",
      "2001:db8::1::2",
      "-",
      ":::",
    ]) {
      assert.equal(peerKey(via(`198.51.100.99, ${junk}`), XFF), "10.0.0.1", junk);
    }
    assert.equal(peerKey(via("198.51.100.99,"), XFF), "10.0.0.1", "trailing comma: empty rightmost entry");
    // Junk further left is the client's business.
    assert.equal(peerKey(via("junk, <script>, 198.51.100.7"), XFF), "198.51.100.7");
    assert.equal(peerKey(via("a,,b, 198.51.100.7"), XFF), "198.51.100.7");
  });

  it("spaces, ports, brackets and IPv6 entries", () => {
    assert.equal(peerKey(via("  198.51.100.7   "), XFF), "198.51.100.7");
    assert.equal(peerKey(via("x,198.51.100.7:4711"), XFF), "198.51.100.7");
    assert.equal(peerKey(via("x, [2001:db8:a:b::5]:4711"), XFF), "2001:db8:a:b:0:0:0:0/64");
    assert.equal(peerKey(via("x, [2001:db8:a:b::5]"), XFF), "2001:db8:a:b:0:0:0:0/64");
    assert.equal(peerKey(via("x, 2001:db8:a:b::5"), XFF), "2001:db8:a:b:0:0:0:0/64");
    assert.equal(peerKey(via("x, ::ffff:198.51.100.7"), XFF), "198.51.100.7");
    assert.equal(peerKey(via("x, [::ffff:198.51.100.7]:80"), XFF), "198.51.100.7");
    assert.equal(peerKey(via("x, [2001:db8::5]:99999999"), XFF), "10.0.0.1", "port too long");
    assert.equal(peerKey(via("x, [2001:db8::5]garbage"), XFF), "10.0.0.1");
  });

  it("repeated headers arrive joined in order (autobahn): the last one's last entry wins", () => {
    // "X-Forwarded-For: 6.6.6.6" from the client and the proxy's own header line.
    assert.equal(peerKey(via("6.6.6.6, 203.0.113.1, 198.51.100.7"), XFF), "198.51.100.7");
  });

  it("the header name is case-insensitive in the config; the transport's header keys are lowercased", () => {
    const t = parseTransport({ peer: "tcp4:10.0.0.1:1", http_headers_received: { "X-Forwarded-For": "1.1.1.1, 198.51.100.7" } });
    assert.equal(peerKey(t, { trustedProxyHeader: "x-FORWARDED-for" }), "198.51.100.7");
  });

  it("an inherited property name as header is no header", () => {
    assert.equal(peerKey(via("1.1.1.1"), { trustedProxyHeader: "__proto__" }), "10.0.0.1");
    assert.equal(peerKey(via("1.1.1.1"), { trustedProxyHeader: "constructor" }), "10.0.0.1");
  });

  it("Forwarded (RFC 7239): the for= parameter of the appended element", () => {
    const fwd: PeerKeyOptions = { trustedProxyHeader: "forwarded" };
    const t = (v: string) => via({ forwarded: v });
    assert.equal(peerKey(t("for=6.6.6.6;proto=https, for=198.51.100.7;by=10.0.0.1"), fwd), "198.51.100.7");
    assert.equal(peerKey(t('for=6.6.6.6, For="[2001:db8:cafe::17]:4711"'), fwd), "2001:db8:cafe:0:0:0:0:0/64");
    assert.equal(peerKey(t("for=6.6.6.6, proto=http"), fwd), "10.0.0.1", "appended element without for=");
    assert.equal(peerKey(t("for=6.6.6.6, for=unknown"), fwd), "10.0.0.1");
    assert.equal(peerKey(t('for=6.6.6.6, for="_gazonk"'), fwd), "10.0.0.1");
  });

  it("clientIp falls back to the transport peer and gives null for non-IP peers", () => {
    assert.equal(clientIp(via("junk", "unix"), XFF), null);
    assert.deepEqual(clientIp(via("198.51.100.7", "unix"), XFF), parseIp("198.51.100.7"));
  });
});

describe("header entry parsing", () => {
  it("splits X-Forwarded-For by commas and keeps empty entries in place", () => {
    assert.deepEqual(headerEntries("x-forwarded-for", "a, b,,c "), ["a", "b", "", "c"]);
    assert.deepEqual(headerEntries("forwarded", "for=a;proto=x, by=b, FOR = c"), ["a", "", "c"]);
  });

  it("parseForwardedAddress accepts addresses with ports, brackets and quotes and nothing else", () => {
    assert.deepEqual(parseForwardedAddress("192.0.2.1:80"), parseIp("192.0.2.1"));
    assert.deepEqual(parseForwardedAddress('"[2001:db8::1]:80"'), parseIp("2001:db8::1"));
    for (const bad of ["", " ", "192.0.2.1:", "192.0.2.1:port", "[2001:db8::1", "2001:db8::1]", "[]", "x".repeat(100), "1.2.3.4/24"]) {
      assert.equal(parseForwardedAddress(bad), null, JSON.stringify(bad));
    }
  });
});
