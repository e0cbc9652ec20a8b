import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { describe, it } from "node:test";
import { decode, encode, MAX_MSGPACK_DEPTH, MsgpackError, msgpackInvocationId } from "../../src/router/msgpack.js";

// autobahn's own msgpack5 (forceFloat64, as autobahn configures it) as the reference implementation.
const msgpack5 = createRequire(import.meta.url)("msgpack5")({ forceFloat64: true }) as {
  encode(v: unknown): { slice(): Buffer };
  decode(b: Buffer): unknown;
};

const SAMPLES: unknown[] = [
  null,
  true,
  false,
  0,
  1,
  127,
  128,
  255,
  256,
  65535,
  65536,
  2 ** 32 - 1,
  2 ** 32,
  2 ** 53 - 1,
  -1,
  -32,
  -33,
  -128,
  -129,
  -32768,
  -32769,
  -(2 ** 31),
  -(2 ** 31) - 1,
  -(2 ** 53) + 1,
  0.5,
  -1.25,
  1e300,
  "",
  "a",
  "x".repeat(31),
  "x".repeat(32),
  "y".repeat(300),
  "z".repeat(70_000),
  "grüße ✓ 😀",
  Buffer.from([0, 1, 2, 255]),
  [],
  [1, [2, [3, []]]],
  Array.from({ length: 20 }, (_, i) => i),
  {},
  { a: 1, b: "two", c: [true, null], d: { e: {} } },
  Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`k${i}`, i])),
  // an authorize INVOCATION as Crossbar sends it
  [
    68,
    12345,
    67890,
    {},
    [
      {
        session: 7309124371712358,
        authid: "alice",
        authrole: "user",
        authmethod: "ticket",
        authprovider: "dynamic",
        authextra: { team: "blue" },
        transport: { type: "websocket", peer: "tcp4:127.0.0.1:5555", channel_id: {} },
      },
      "com.example.ping",
      "call",
      { match: "exact" },
    ],
  ],
];

describe("msgpack codec", () => {
  it("round-trips every WAMP value kind", () => {
    for (const v of SAMPLES) assert.deepEqual(decode(encode(v)), v, JSON.stringify(v)?.slice(0, 60));
  });

  it("reads what msgpack5 writes and msgpack5 reads what it writes", () => {
    for (const v of SAMPLES) {
      assert.deepEqual(decode(msgpack5.encode(v).slice()), v, `decode ${JSON.stringify(v)?.slice(0, 60)}`);
      assert.deepEqual(msgpack5.decode(encode(v)), v, `encode ${JSON.stringify(v)?.slice(0, 60)}`);
    }
  });

  it("drops undefined map values and encodes undefined as nil", () => {
    assert.deepEqual(decode(encode({ a: undefined, b: 1 })), { b: 1 });
    assert.equal(decode(encode(undefined)), null);
  });

  it("rejects truncated, trailing and unsupported input with MsgpackError", () => {
    const good = encode({ a: "bcd" });
    assert.throws(() => decode(good.subarray(0, good.length - 1)), MsgpackError);
    assert.throws(() => decode(Buffer.concat([good, Buffer.from([0])])), MsgpackError);
    assert.throws(() => decode(Buffer.from([0xc1])), MsgpackError);
    assert.throws(() => decode(Buffer.from([0xd4, 1, 2])), MsgpackError, "ext types are not WAMP");
    assert.throws(() => encode(() => 1), MsgpackError);
  });

  it("keeps a key named __proto__ as data", () => {
    const v = decode(encode(JSON.parse('{"__proto__": {"polluted": true}}'))) as Record<string, unknown>;
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.deepEqual(Object.keys(v), ["__proto__"]);
  });

  it("decodes non-finite floats (what Crossbar forwards for a client's NaN / Infinity)", () => {
    const nan = Buffer.from([0x93, 0xcb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0, 0xcb, 0x7f, 0xf0, 0, 0, 0, 0, 0, 0, 0xca, 0xff, 0x80, 0, 0]);
    const v = decode(nan) as number[];
    assert.ok(Number.isNaN(v[0]));
    assert.equal(v[1], Infinity);
    assert.equal(v[2], -Infinity);
  });

  it("decodes 64-bit integers beyond 2^53 to numbers that are never safe integers", () => {
    const u64 = decode(Buffer.from([0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])) as number;
    const i64 = decode(Buffer.from([0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0])) as number;
    const above = decode(Buffer.from([0xcf, 0, 0x20, 0, 0, 0, 0, 0, 1])) as number; // 2^53 + 1
    assert.equal(u64, 2 ** 64);
    assert.equal(i64, -(2 ** 63));
    for (const n of [u64, i64, above]) assert.equal(Number.isSafeInteger(n), false, String(n));
    assert.equal(decode(Buffer.from([0xcf, 0, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])), 2 ** 53 - 1);
  });

  it("fails nesting deeper than the limit with MsgpackError, not a stack overflow", () => {
    const nested = (n: number, open: number) => Buffer.concat([Buffer.alloc(n, open), Buffer.from([0xc0])]);
    assert.throws(() => decode(nested(100_000, 0x91)), MsgpackError);
    // maps: {"": {"": ...}}
    const maps = Buffer.concat([Buffer.from(Array.from({ length: 100_000 }, () => [0x81, 0xa0]).flat()), Buffer.from([0xc0])]);
    assert.throws(() => decode(maps), MsgpackError);
    assert.doesNotThrow(() => decode(nested(MAX_MSGPACK_DEPTH, 0x91)));
    assert.throws(() => decode(nested(MAX_MSGPACK_DEPTH + 1, 0x91)), MsgpackError);
  });

  it("refuses lengths the frame cannot hold without allocating them", () => {
    for (const bytes of [
      [0xdd, 0xff, 0xff, 0xff, 0xff],
      [0xdf, 0xff, 0xff, 0xff, 0xff, 0xa0],
      [0xdb, 0xff, 0xff, 0xff, 0xff, 0x41],
      [0xc6, 0x7f, 0xff, 0xff, 0xff],
      [0xdc, 0x00],
      [0xcb, 0, 0],
    ])
      assert.throws(() => decode(Buffer.from(bytes)), MsgpackError, Buffer.from(bytes).toString("hex"));
  });

  it("refuses every ext type and unknown type byte", () => {
    for (const b of [0xc1, 0xc7, 0xc8, 0xc9, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8]) {
      assert.throws(() => decode(Buffer.from([0x92, 0x01, b, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00])), MsgpackError);
    }
  });

  it("refuses invalid UTF-8 (an encoded lone surrogate, a stray continuation byte) and keeps a real U+FFFD", () => {
    assert.throws(() => decode(Buffer.from([0xa3, 0xed, 0xa0, 0x80])), MsgpackError, "CESU-8 lone surrogate");
    assert.throws(() => decode(Buffer.from([0xa2, 0x61, 0x80])), MsgpackError);
    assert.throws(() => decode(Buffer.from([0x81, 0xa1, 0xff, 0x01])), MsgpackError, "in a map key");
    assert.equal(decode(encode("a\uFFFDb")), "a\uFFFDb");
  });

  it("never throws anything but MsgpackError on random and mutated input (seeded)", () => {
    let seed = 42;
    const rand = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
    const base = encode(SAMPLES[SAMPLES.length - 1]);
    for (let i = 0; i < 20_000; i++) {
      let buf: Buffer;
      if (i % 2 === 0) {
        buf = Buffer.from(Array.from({ length: Math.floor(rand() * 40) }, () => Math.floor(rand() * 256)));
      } else {
        buf = Buffer.from(base);
        for (let k = 0; k < 3; k++) buf[Math.floor(rand() * buf.length)] = Math.floor(rand() * 256);
        buf = buf.subarray(0, Math.floor(rand() * (buf.length + 1)));
      }
      try {
        decode(buf);
      } catch (err) {
        assert.ok(err instanceof MsgpackError, `${buf.toString("hex")}: ${String(err)}`);
      }
    }
  });

  it("recovers the request id from an INVOCATION head only", () => {
    const inv = encode([68, 4242, 7, { a: 1 }, []]);
    assert.equal(msgpackInvocationId(inv.subarray(0, 6)), 4242, "truncated after the id");
    assert.equal(msgpackInvocationId(encode([68, 2 ** 53 - 1, 7])), 2 ** 53 - 1);
    assert.equal(msgpackInvocationId(Buffer.from([0xdc, 0, 3, 0xcc, 68, 0x05])), 5, "array16 header, uint8 type");
    assert.equal(msgpackInvocationId(Buffer.from([0x93, 0x44, 0xcf, 0, 0x20, 0, 0, 0, 0, 0, 1])), null, "id beyond 2^53");
    assert.equal(msgpackInvocationId(encode([68, -1, 7])), null);
    assert.equal(msgpackInvocationId(encode([68, "1", 7])), null);
    assert.equal(msgpackInvocationId(encode([70, 1, {}])), null);
    assert.equal(msgpackInvocationId(encode({ a: 68 })), null);
    assert.equal(msgpackInvocationId(Buffer.alloc(0)), null);
  });
});
