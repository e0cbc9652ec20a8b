import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CODECS } from "../../src/router/codecs.js";
import { check, encodeOutbound, screen } from "../../src/router/frames.js";
import { encode } from "../../src/router/msgpack.js";
import { capturedLogger } from "../helpers/logCapture.js";

const { json, msgpack } = CODECS;

describe("screening router frames", () => {
  it("delivers what autobahn-js can take, NaN and all", () => {
    const s = screen('[68,5,9,{"x":NaN},["app",null,{"authextra":{"a":Infinity}}]]', json);
    assert.equal(s.action, "deliver");
    assert.ok(s.action === "deliver" && Number.isNaN((s.msg[3] as { x: number }).x));
    assert.equal(screen(encode([68, 5, 9, { x: NaN }]), msgpack).action, "deliver");
    assert.equal(screen("[50,1,{},[true]]", json).action, "deliver", "a RESULT");
  });

  it("answers an INVOCATION it cannot read when the request id is readable", () => {
    assert.deepEqual({ ...screen('[68,77,9,{"a":@}]', json), reason: null }, { action: "answer", requestId: 77, reason: null });
    const ext = Buffer.concat([encode([68, 78, 9]).subarray(0, 4), Buffer.from([0xd4, 1, 0])]);
    assert.equal(ext[0], 0x93);
    ext[0] = 0x94;
    assert.deepEqual(screen(ext, msgpack), { action: "answer", requestId: 78, reason: "undecodable frame: unsupported type byte 0xd4" });
    assert.deepEqual(check([68, 79, 9, null, []]), { action: "answer", requestId: 79, reason: "malformed INVOCATION" });
    assert.deepEqual(screen(Buffer.from('[68,80,9,{"a":"\xff"}]', "latin1"), json).action, "answer", "invalid UTF-8");
  });

  it("drops what it can neither deliver nor answer", () => {
    for (const v of [{}, "x", [], [0], [69, 1, {}], [68, -1, 9, {}], [68, 2 ** 53, 9, {}], [68, "1", 9, {}]])
      assert.equal(check(v).action, "drop", JSON.stringify(v));
    assert.equal(screen("#garbage", json).action, "drop");
    assert.equal(screen("[68,9007199254740993,1,{@", json).action, "drop");
    assert.equal(screen(Buffer.from([0xc1]), msgpack).action, "drop");
    assert.equal(screen("text frame", msgpack).action, "drop");
  });
});

describe("encoding answers for the router", () => {
  const log = capturedLogger("info");

  it("passes normal messages through unchanged", () => {
    assert.equal(encodeOutbound([70, 1, {}, [true]], json, 1000, log.log), "[70,1,{},[true]]");
    assert.deepEqual(encodeOutbound([70, 1, {}, [true]], msgpack, 1000, log.log), encode([70, 1, {}, [true]]));
  });

  it("replaces a YIELD or ERROR the router would refuse with a short ERROR for the same request", () => {
    const big = [70, 42, {}, ["x".repeat(5000)]];
    assert.deepEqual(JSON.parse(encodeOutbound(big, json, 1000, log.log) as string), [
      8,
      68,
      42,
      {},
      "wamp.error.runtime_error",
      ["wamp-authd could not send its answer"],
    ]);
    const err = [8, 68, 43, {}, "x.y", ["é".repeat(600)]];
    assert.equal(
      (JSON.parse(encodeOutbound(err, json, 1000, log.log) as string) as unknown[])[4],
      "wamp.error.runtime_error",
      "bytes, not chars",
    );
    assert.equal((JSON.parse(encodeOutbound([70, 44, {}, [10n]], json, 1000, log.log) as string) as unknown[])[2], 44, "unencodable");
    assert.ok(log.records().some((r) => r.request === 42 && r.msg === "answer could not be sent to the router: sent an ERROR instead"));
  });

  it("throws for other messages (their sender handles the rejection)", () => {
    assert.throws(() => encodeOutbound([48, 1, {}, "x.y", ["x".repeat(5000)]], json, 1000, log.log), /exceeds the router's limit/);
  });
});
