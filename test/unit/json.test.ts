import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { JsonDecodeError, jsonInvocationId, MAX_JSON_DEPTH, parseJson, parseTolerant } from "../../src/router/json.js";
import { mulberry32 as rng } from "../helpers/rng.js";

function randomValue(r: () => number, depth = 0): unknown {
  const k = Math.floor(r() * (depth > 4 ? 6 : 8));
  switch (k) {
    case 0:
      return null;
    case 1:
      return r() < 0.5;
    case 2:
      return Math.floor((r() - 0.5) * 2 ** 40);
    case 3:
      return (r() - 0.5) * 10 ** Math.floor(r() * 40 - 20);
    case 4:
      return String.fromCharCode(...Array.from({ length: Math.floor(r() * 12) }, () => Math.floor(r() * 0x10000)));
    case 5:
      return "plain";
    case 6:
      return Array.from({ length: Math.floor(r() * 5) }, () => randomValue(r, depth + 1));
    default:
      return Object.fromEntries(Array.from({ length: Math.floor(r() * 5) }, (_, i) => [`k${i}\u00e9"\\`, randomValue(r, depth + 1)]));
  }
}

describe("tolerant JSON (Python's NaN / Infinity / -Infinity)", () => {
  it("reads Python's non-finite tokens anywhere a value may stand", () => {
    const v = parseJson('[68, 1, 2, {"a": NaN, "b": [Infinity, -Infinity, {"c": NaN}]}, [NaN]]') as unknown[];
    const d = v[3] as { a: number; b: [number, number, { c: number }] };
    assert.ok(Number.isNaN(d.a));
    assert.equal(d.b[0], Infinity);
    assert.equal(d.b[1], -Infinity);
    assert.ok(Number.isNaN(d.b[2].c));
    assert.ok(Number.isNaN((v[4] as number[])[0]));
    assert.ok(Number.isNaN(parseJson("NaN")));
    assert.equal(parseJson(" -Infinity "), -Infinity);
  });

  it("keeps the tokens inside strings as strings, escapes included", () => {
    const v = parseJson('["NaN", "Infinity", "-Infinity", "a\\"NaN\\"b", NaN, "\\u004eaN", "\\\\", "x\\/y\\n\\t\\b\\f\\r"]') as unknown[];
    assert.deepEqual(v.slice(0, 4), ["NaN", "Infinity", "-Infinity", 'a"NaN"b']);
    assert.ok(Number.isNaN(v[4]));
    assert.deepEqual(v.slice(5), ["NaN", "\\", "x/y\n\t\b\f\r"]);
  });

  it("agrees with JSON.parse on everything JSON.parse reads (seeded random values)", () => {
    const r = rng(7);
    for (let i = 0; i < 2000; i++) {
      const text = JSON.stringify(randomValue(r), null, i % 3 === 0 ? 2 : undefined);
      assert.deepEqual(parseTolerant(text), JSON.parse(text) as unknown, text.slice(0, 80));
    }
    for (const text of ["0", "-0", "1.5e-7", "1E+2", '""', "[]", "{}", '{"a":[]}', "[[],[{}]]", '"\\ud800"', '{"a":1,"a":2}']) {
      assert.deepEqual(parseTolerant(text), JSON.parse(text) as unknown, text);
    }
  });

  it("overflows exponents to infinity, as JSON.parse does (1e999)", () => {
    assert.deepEqual(parseJson("[1e999, -1e999, 1e-999, NaN]"), [Infinity, -Infinity, 0, NaN]);
    assert.deepEqual(parseTolerant("[1e999, -1e999]"), [Infinity, -Infinity]);
  });

  it("keeps a key named __proto__ as data", () => {
    const v = parseJson('{"__proto__": {"polluted": NaN}, "a": 1}') as Record<string, unknown>;
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.deepEqual(Object.keys(v), ["__proto__", "a"]);
    assert.equal(Object.getPrototypeOf(v), Object.prototype);
  });

  it("fails 100k-deep nesting with a JsonDecodeError, not a stack overflow", () => {
    const deep = "[NaN," + "[".repeat(100_000) + "]".repeat(100_000) + "]";
    assert.throws(() => parseJson(deep), JsonDecodeError);
    const objects = '{"a":NaN,"b":' + '{"c":'.repeat(100_000) + "1" + "}".repeat(100_001);
    assert.throws(() => parseJson(objects), JsonDecodeError);
    // At the limit it still reads.
    const ok = "[NaN," + "[".repeat(MAX_JSON_DEPTH - 1) + "]".repeat(MAX_JSON_DEPTH - 1) + "]";
    assert.equal((parseJson(ok) as unknown[]).length, 2);
  });

  it("refuses what is not JSON, also with the tokens around", () => {
    const bad = [
      "",
      "[",
      "[NaN",
      "[NaN,]",
      "{NaN: 1}",
      '{"a" NaN}',
      '{"a":NaN,}',
      "[nan]",
      "[+Infinity]",
      "[-NaN]",
      "[Infinityx]",
      "[NaN] x",
      "[01, NaN]",
      '["a\nb", NaN]',
      '["\\x", NaN]',
      '["\\u12g4", NaN]',
      '["unterminated, NaN]',
      "[1.] ",
      "[.5, NaN]",
      "]",
      "[NaN]]",
    ];
    for (const text of bad) assert.throws(() => parseJson(text), JsonDecodeError, JSON.stringify(text));
  });

  it("recovers the request id from an INVOCATION head only", () => {
    assert.equal(jsonInvocationId('[68,123,456,{"a":NaN'), 123);
    assert.equal(jsonInvocationId(' [ 68 , 9007199254740991 , 1, {"x": ['), 9007199254740991);
    assert.equal(jsonInvocationId("[68,5]"), 5);
    assert.equal(jsonInvocationId("[68,9007199254740993,1,{}]"), null, "beyond 2^53 is not an id we can answer");
    assert.equal(jsonInvocationId("[68,-1,1,{}]"), null);
    assert.equal(jsonInvocationId('[68,"1",1,{}]'), null);
    assert.equal(jsonInvocationId("[70,1,{}]"), null);
    assert.equal(jsonInvocationId("[680,1,{}]"), null);
    assert.equal(jsonInvocationId("garbage"), null);
  });
});
