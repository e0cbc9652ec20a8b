import assert from "node:assert/strict";
import { BlockList } from "node:net";
import { describe, it } from "node:test";
import { cidrContains, ipInCidrs, parseCidr, parseIp, peerIp } from "../../src/auth/cidr.js";

describe("parseIp", () => {
  it("parses IPv4 dotted quads and rejects malformed ones", () => {
    assert.deepEqual(parseIp("127.0.0.1"), { family: 4, value: 0x7f000001n });
    assert.deepEqual(parseIp("0.0.0.0"), { family: 4, value: 0n });
    assert.deepEqual(parseIp("255.255.255.255"), { family: 4, value: 0xffffffffn });
    for (const bad of ["256.0.0.1", "1.2.3", "1.2.3.4.5", "01.2.3.4", "1.2.3.-4", "", "a.b.c.d", " 1.2.3.4"]) {
      assert.equal(parseIp(bad), null, bad);
    }
  });

  it("parses IPv6 forms: full, compressed, embedded IPv4, zone", () => {
    assert.deepEqual(parseIp("::1"), { family: 6, value: 1n });
    assert.deepEqual(parseIp("::"), { family: 6, value: 0n });
    assert.deepEqual(parseIp("2001:db8::1"), { family: 6, value: (0x20010db8n << 96n) | 1n });
    assert.deepEqual(parseIp("2001:0db8:0000:0000:0000:0000:0000:0001"), parseIp("2001:db8::1"));
    assert.deepEqual(parseIp("fe80::1%eth0"), parseIp("fe80::1"));
    assert.deepEqual(parseIp("64:ff9b::1.2.3.4"), { family: 6, value: (0x64ff9bn << 96n) | 0x01020304n });
    assert.deepEqual(parseIp("1::"), { family: 6, value: 1n << 112n });
    for (const bad of ["1:2:3:4:5:6:7:8:9", "1::2::3", "12345::", ":1", "1:", "1:2:3:4:5:6:7::8", "g::1", "::1.2.3", ":::"]) {
      assert.equal(parseIp(bad), null, bad);
    }
  });

  it("treats an IPv4-mapped IPv6 address as the IPv4 address", () => {
    assert.deepEqual(parseIp("::ffff:10.1.2.3"), parseIp("10.1.2.3"));
    assert.deepEqual(parseIp("::ffff:a01:203"), parseIp("10.1.2.3"));
  });
});

describe("parseCidr / cidrContains", () => {
  it("IPv4 blocks", () => {
    const lan = parseCidr("10.0.0.0/8")!;
    assert.equal(cidrContains(lan, parseIp("10.255.1.2")!), true);
    assert.equal(cidrContains(lan, parseIp("11.0.0.0")!), false);
    assert.equal(cidrContains(parseCidr("127.0.0.1/32")!, parseIp("127.0.0.1")!), true);
    assert.equal(cidrContains(parseCidr("127.0.0.1/32")!, parseIp("127.0.0.2")!), false);
    assert.equal(cidrContains(parseCidr("0.0.0.0/0")!, parseIp("203.0.113.9")!), true);
    assert.equal(cidrContains(parseCidr("192.168.1.128/25")!, parseIp("192.168.1.127")!), false);
    assert.equal(cidrContains(parseCidr("192.168.1.128/25")!, parseIp("192.168.1.200")!), true);
  });

  it("IPv6 blocks", () => {
    assert.equal(cidrContains(parseCidr("::1/128")!, parseIp("::1")!), true);
    assert.equal(cidrContains(parseCidr("::1/128")!, parseIp("::2")!), false);
    assert.equal(cidrContains(parseCidr("2001:db8::/32")!, parseIp("2001:db8:ffff::1")!), true);
    assert.equal(cidrContains(parseCidr("2001:db8::/32")!, parseIp("2001:db9::1")!), false);
    assert.equal(cidrContains(parseCidr("fe80::/10")!, parseIp("febf::1")!), true);
    assert.equal(cidrContains(parseCidr("fe80::/10")!, parseIp("fec0::1")!), false);
  });

  it("families never match each other, except IPv4-mapped addresses and blocks", () => {
    assert.equal(cidrContains(parseCidr("::/0")!, parseIp("10.0.0.1")!), false);
    assert.equal(cidrContains(parseCidr("0.0.0.0/0")!, parseIp("::1")!), false);
    assert.equal(cidrContains(parseCidr("10.0.0.0/8")!, parseIp("::ffff:10.9.9.9")!), true);
    assert.deepEqual(parseCidr("::ffff:10.0.0.0/104"), parseCidr("10.0.0.0/8"));
  });

  it("a bare address is a host block; host bits are cleared; bad input is null", () => {
    assert.deepEqual(parseCidr("10.1.2.3"), { family: 4, network: 0x0a010203n, prefix: 32 });
    assert.deepEqual(parseCidr("::1"), { family: 6, network: 1n, prefix: 128 });
    assert.deepEqual(parseCidr("10.1.2.3/8"), parseCidr("10.0.0.0/8"));
    for (const bad of ["10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/x", "10.0.0.0/-1", "nonsense/8", ""]) {
      assert.equal(parseCidr(bad), null, bad);
    }
  });

  it("agrees with node:net BlockList on a sample of addresses", () => {
    const blocks = ["10.0.0.0/8", "192.168.0.0/16", "172.16.0.0/12", "127.0.0.1/32", "2001:db8::/48", "::1/128", "fd00::/8"];
    const list = new BlockList();
    for (const b of blocks) {
      const [net, prefix] = b.split("/");
      list.addSubnet(net!, Number(prefix), net!.includes(":") ? "ipv6" : "ipv4");
    }
    const samples = [
      "10.1.1.1",
      "11.1.1.1",
      "192.168.5.5",
      "192.169.0.1",
      "172.31.255.255",
      "172.32.0.0",
      "127.0.0.1",
      "127.0.0.2",
      "2001:db8:0:1::1",
      "2001:db8:1::1",
      "::1",
      "::2",
      "fd12::1",
      "fe00::1",
    ];
    for (const s of samples) {
      assert.equal(ipInCidrs(s, blocks), list.check(s, s.includes(":") ? "ipv6" : "ipv4"), s);
    }
  });

  it("ipInCidrs skips invalid entries and rejects invalid addresses", () => {
    assert.equal(ipInCidrs("10.0.0.1", ["garbage", "10.0.0.0/8"]), true);
    assert.equal(ipInCidrs("10.0.0.1", ["garbage"]), false);
    assert.equal(ipInCidrs("not-an-ip", ["0.0.0.0/0"]), false);
    assert.equal(ipInCidrs("10.0.0.1", []), false);
  });
});

describe("peerIp (Crossbar's details.transport.peer)", () => {
  it("reads tcp4 and tcp6 peers as Crossbar writes them", () => {
    assert.deepEqual(peerIp("tcp4:127.0.0.1:48638"), parseIp("127.0.0.1"));
    assert.deepEqual(peerIp("tcp6:::1:48638"), parseIp("::1"));
    assert.deepEqual(peerIp("tcp6:2001:db8::5:443"), parseIp("2001:db8::5"));
    assert.deepEqual(peerIp("tcp6:::ffff:10.0.0.7:5555"), parseIp("10.0.0.7"));
  });

  it("accepts bracketed IPv6 and bare addresses", () => {
    assert.deepEqual(peerIp("tcp6:[::1]:48638"), parseIp("::1"));
    assert.deepEqual(peerIp("10.0.0.7"), parseIp("10.0.0.7"));
    assert.deepEqual(peerIp("[2001:db8::1]"), parseIp("2001:db8::1"));
  });

  it("gives null for peers without an IP address or garbage", () => {
    for (const p of [
      "unix",
      "unix:/tmp/x.sock",
      "process:1234",
      "pipe",
      "unknown",
      "",
      null,
      undefined,
      "tcp4:::1:80",
      "tcp4:1.2.3.4",
      "tcp4:999.1.1.1:80",
    ]) {
      assert.equal(peerIp(p), null, String(p));
    }
  });
});
