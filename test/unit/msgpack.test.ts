import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { describe, it } from "node:test";
import { decode, encode, MsgpackError } from "../../src/router/msgpack.js";

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
});
