/**
 * Wire-level fuzz of the router link: a fake router (rawsocket on a Unix socket, or WebSocket)
 * drives wamp-authd's RouterLink — its own transports inside real autobahn-js Connections and
 * Sessions — with thousands of generated frames: non-finite numbers, huge integers, lone
 * surrogates, invalid UTF-8, deep nesting, ext types, truncation, malformed INVOCATIONs and random
 * bytes, interleaved with valid INVOCATIONs. The link must never close, and every INVOCATION the
 * router could expect an answer for gets exactly one YIELD or ERROR.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { parseAuthRequest } from "../../src/auth/request.js";
import { loadConfig } from "../../src/config/load.js";
import { RouterLink } from "../../src/router/link.js";
import { encode } from "../../src/router/msgpack.js";
import { startFakeRouter, type FakeRouter, type FakeSerializer } from "../helpers/fakeRouter.js";
import { capturedLogger, waitFor } from "../helpers/logCapture.js";
import { mulberry32 as rng } from "../helpers/rng.js";

/** What the router must see for one frame. */
type Expect = "yield" | "deny" | "invalid" | "one" | "none";

interface Case {
  what: string;
  payload: Buffer;
  /** the request id a reply must carry, null when no reply is possible */
  id: number | null;
  expect: Expect;
}

/** A marker put into every payload: it must never show up in a log line. */
const MARKER = "payload-marker-7f3a";

/** Raw snippets spliced into an encoded message in place of a placeholder string. */
interface Raw {
  json: string | Buffer;
  msgpack: Buffer;
}

const f64 = (hex: string) => Buffer.from(`cb${hex}`, "hex");
const RAW: Record<string, Raw & { decodable: boolean; finite: boolean }> = {
  nan: { json: "NaN", msgpack: f64("7ff8000000000000"), decodable: true, finite: false },
  inf: { json: "Infinity", msgpack: f64("7ff0000000000000"), decodable: true, finite: false },
  ninf: { json: "-Infinity", msgpack: f64("fff0000000000000"), decodable: true, finite: false },
  e999: { json: "-1e999", msgpack: Buffer.from("ca7f800000", "hex"), decodable: true, finite: false },
  u64: { json: "18446744073709551615", msgpack: Buffer.from("cfffffffffffffffff", "hex"), decodable: true, finite: true },
  i64: { json: "-9223372036854775808", msgpack: Buffer.from("d38000000000000000", "hex"), decodable: true, finite: true },
  bignum: { json: "123456789012345678901234567890", msgpack: Buffer.from("cf7fffffffffffffff", "hex"), decodable: true, finite: true },
  loneSurrogate: { json: '"x\\ud800y"', msgpack: Buffer.from("a478eda080", "hex"), decodable: true, finite: true },
  invalidUtf8: { json: Buffer.from([0x22, 0xff, 0xfe, 0x22]), msgpack: Buffer.from("a2fffe", "hex"), decodable: false, finite: true },
  deepNaN: { json: `[NaN,${"[".repeat(100_000)}${"]".repeat(100_000)}]`, msgpack: Buffer.alloc(0), decodable: false, finite: true },
  deep: {
    json: `${"[".repeat(100_000)}${"]".repeat(100_000)}`,
    msgpack: Buffer.concat([Buffer.alloc(100_000, 0x91), Buffer.from([0xc0])]),
    decodable: true,
    finite: true,
  },
  ext: { json: "@", msgpack: Buffer.from("d40100", "hex"), decodable: false, finite: true },
};
// msgpack: a lone surrogate can only be sent as CESU-8 bytes, which are not UTF-8.
const decodableIn = (key: string, s: FakeSerializer): boolean =>
  key === "loneSurrogate" ? s === "json" : key === "deep" ? s === "json" : (RAW[key] as { decodable: boolean }).decodable;

function encodeWith(serializer: FakeSerializer, msg: unknown, raws: Array<string | Buffer>): Buffer {
  if (serializer === "json") {
    let text: Buffer = Buffer.from(JSON.stringify(msg));
    raws.forEach((r, i) => (text = splice(text, Buffer.from(`"@@RAW${i}@@"`), typeof r === "string" ? Buffer.from(r) : r)));
    return text;
  }
  let bytes: Buffer = encode(msg);
  raws.forEach((r, i) => (bytes = splice(bytes, encode(`@@RAW${i}@@`), r as Buffer)));
  return bytes;
}

function splice(buf: Buffer, placeholder: Buffer, raw: Buffer): Buffer {
  const at = buf.indexOf(placeholder);
  if (at < 0) throw new Error(`placeholder ${placeholder.toString()} not found`);
  return Buffer.concat([buf.subarray(0, at), raw, buf.subarray(at + placeholder.length)]);
}

function goodDetails(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    authmethod: "ticket",
    session: 12345,
    ticket: MARKER,
    authextra: { team: "blue", ...extra },
    transport: { peer: "tcp4:127.0.0.1:5555", channel_type: "tcp", http_headers_received: { "user-agent": MARKER } },
  };
}

function generate(serializer: FakeSerializer, reg: number, count: number, seed: number): Case[] {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
  let nextId = 1;
  const cases: Case[] = [];
  const keys = Object.keys(RAW).filter((k) => serializer === "json" || k !== "deepNaN");
  const valid = (): Case => {
    const id = nextId++;
    return { what: "valid", id, expect: "yield", payload: encodeWith(serializer, [68, id, reg, {}, ["app", "alice", goodDetails()]], []) };
  };
  const hostile = (): Case => {
    const kind = Math.floor(r() * 6);
    const id = nextId++;
    if (kind === 0 || kind === 1) {
      // A hostile value somewhere in the request.
      const key = pick(keys);
      const raw = RAW[key] as (typeof RAW)[string];
      const where = pick(["authextra", "authextra-deep", "transport", "peer_cert", "details", "kwargs", "authid"] as const);
      const P = "@@RAW0@@";
      const d = goodDetails();
      let msg: unknown[] = [68, id, reg, {}, ["app", "alice", d]];
      if (where === "authextra") d.authextra = { team: P };
      else if (where === "authextra-deep") d.authextra = { a: [{ b: [P] }] };
      else if (where === "transport") d.transport = { peer: "unix", own_pid: P };
      else if (where === "peer_cert") d.transport = { peer: "unix", peer_cert: { not_after: P } };
      else if (where === "details") msg = [68, id, reg, { caller: P }, ["app", "alice", d]];
      else if (where === "kwargs") msg = [68, id, reg, {}, ["app", "alice", d], { x: P }];
      else msg = [68, id, reg, {}, ["app", P, d]];
      const rawBytes = serializer === "json" ? raw.json : raw.msgpack;
      const payload = encodeWith(serializer, msg, [rawBytes]);
      let expect: Expect;
      if (!decodableIn(key, serializer)) expect = "invalid";
      else if (where === "authid")
        expect = "deny"; // a number, or text that is not well-formed
      else if ((where === "details" || where === "kwargs") && key !== "deep") expect = "yield";
      else if (where === "details" || where === "kwargs") expect = "one";
      else if (!raw.finite || key === "deep") expect = "deny";
      else if (where === "transport" || where === "peer_cert") expect = "one";
      else expect = "yield";
      return { what: `${key} in ${where}`, id, expect, payload };
    }
    if (kind === 2) {
      // A well-formed head with a body that cannot be decoded: truncated.
      const full = encodeWith(serializer, [68, id, reg, {}, ["app", "alice", goodDetails()]], []);
      const head = serializer === "json" ? String(`[68,${id},`).length : 1 + 1 + (id < 128 ? 1 : id < 256 ? 2 : 3);
      const cut = head + Math.floor(r() * (full.length - head - 1));
      return { what: "truncated", id, expect: "invalid", payload: full.subarray(0, cut) };
    }
    if (kind === 3) {
      // Decodable, but not an INVOCATION autobahn-js could handle.
      const shape = pick([
        [68, id, reg, null, ["app", "alice", goodDetails()]],
        [68, id, reg, {}, "not a list"],
        [68, id, reg, {}, [], []],
        [68, id, reg, {}, [], {}, "extra"],
        [68, id, "reg", {}, []],
        [68, id, reg],
        [68, id, reg, [1, 2], []],
      ]);
      return { what: `malformed ${JSON.stringify(shape).slice(0, 40)}`, id, expect: "invalid", payload: encodeWith(serializer, shape, []) };
    }
    nextId--; // no id used
    if (kind === 4) {
      // Nothing to answer: not a WAMP message for a client, or an INVOCATION without a usable id.
      const v = pick<unknown>([
        { a: 1 },
        "text",
        42,
        null,
        [],
        [0],
        [99, 1],
        [69, 1, {}],
        [68, -1, reg, {}, []],
        [68, "7", reg, {}, []],
        [68, 1.5, reg, {}, []],
        [68, 2 ** 60, reg, {}, []],
      ]);
      return { what: `unanswerable ${JSON.stringify(v)}`, id: null, expect: "none", payload: encodeWith(serializer, v, []) };
    }
    // Random bytes behind a first byte no encoding of a WAMP message starts with.
    const n = Math.floor(r() * 64);
    const bytes = Buffer.from([serializer === "json" ? 0x23 : 0xc1, ...Array.from({ length: n }, () => Math.floor(r() * 256))]);
    return { what: "random bytes", id: null, expect: "none", payload: bytes };
  };
  for (let i = 0; i < count; i++) cases.push(i % 2 === 0 ? valid() : hostile());
  return cases;
}

function uriOf(reply: unknown[]): string | null {
  return reply[0] === 8 ? (reply[4] as string) : null;
}

const VARIANTS: Array<["rawsocket" | "websocket", FakeSerializer]> = [
  ["rawsocket", "json"],
  ["rawsocket", "msgpack"],
  ["websocket", "json"],
  ["websocket", "msgpack"],
];
const FRAMES = 3000;

for (const [transport, serializer] of VARIANTS) {
  describe(`router link under hostile frames: ${transport}, ${serializer}`, () => {
    let router: FakeRouter;
    let link: RouterLink;
    const logs = capturedLogger("info");

    before(async () => {
      router = await startFakeRouter(transport, serializer);
      const config = loadConfig({
        env: {},
        // registrationCheckMs 0: the fake router answers no meta calls.
        values: { router: { url: router.url, serializer, authRealm: "authd", realms: [], maxRetryDelayMs: 500, registrationCheckMs: 0 } },
      });
      link = new RouterLink(config, logs.log);
      link.serve("authd", [
        {
          uri: "authd.authenticate",
          // The fake router discloses no caller: the frame handling, not the caller check, is under test.
          callers: "sessions",
          handler: (args) => {
            const req = parseAuthRequest(args);
            return { role: "user", authid: req.authid };
          },
        },
      ]);
      await waitFor("the link to register", () => link.isReady(), 10_000);
    });

    after(async () => {
      await link?.stop(500);
      await router?.close();
    });

    it(`answers every INVOCATION it can exactly once among ${FRAMES} generated frames and never drops the link`, async () => {
      const reg = router.registrationOf("authd.authenticate");
      assert.ok(reg !== undefined);
      const sessionId = link.session("authd")?.id;
      const cases = generate(serializer, reg, FRAMES, transport === "rawsocket" ? 1 : 2);
      const expected = new Map(cases.filter((c) => c.id !== null).map((c) => [c.id as number, c]));
      for (let i = 0; i < cases.length; i++) {
        router.sendPayload((cases[i] as Case).payload);
        // Let the link keep up, as a router with many clients would pace it.
        if (i % 100 === 99) await new Promise((r) => setImmediate(r));
      }
      await waitFor(
        `answers for ${expected.size} invocations`,
        () => [...expected.keys()].every((id) => router.replies.has(id)),
        30_000,
      ).catch(() => undefined);
      await new Promise((r) => setTimeout(r, 300)); // any duplicate answer would arrive by now

      const problems: string[] = [];
      for (const [id, c] of expected) {
        const got = router.replies.get(id) ?? [];
        if (got.length !== 1) {
          problems.push(`${c.what} (#${id}): ${got.length} answers`);
          continue;
        }
        const reply = got[0] as unknown[];
        const uri = uriOf(reply);
        const ok =
          c.expect === "one" ||
          (c.expect === "yield" && reply[0] === 70) ||
          (c.expect === "deny" && uri === "wamp.error.not_authorized") ||
          (c.expect === "invalid" && uri === "wamp.error.invalid_argument");
        if (!ok) problems.push(`${c.what} (#${id}): expected ${c.expect}, got ${JSON.stringify(reply).slice(0, 160)}`);
      }
      for (const id of router.replies.keys()) if (!expected.has(id)) problems.push(`an answer for request ${id}, which was never sent`);
      assert.deepEqual(problems.slice(0, 20), [], `${problems.length} problems`);

      assert.equal(router.connections, 1, "one connection, never reopened");
      assert.equal(router.closes, 0, "the connection was never closed");
      assert.equal(link.reconnects, 0);
      assert.ok(link.isReady());
      assert.equal(link.session("authd")?.id, sessionId);
      const counts = { yield: 0, deny: 0, invalid: 0, one: 0, none: 0 };
      for (const c of cases) counts[c.expect]++;
      assert.ok(counts.invalid > 100 && counts.deny > 100 && counts.none > 100, JSON.stringify(counts));
    });

    it("reconnects and re-registers after the router went away (down, then back)", { timeout: 30_000 }, async () => {
      await router.pause();
      await waitFor("the link to notice", () => !link.isReady(), 10_000);
      await new Promise((r) => setTimeout(r, 1000)); // connection attempts fail meanwhile
      await router.resume();
      await waitFor("the link to register again", () => link.isReady(), 15_000);
      assert.ok(router.connections >= 2);
      assert.ok(link.reconnects >= 1);
      const reg = router.registrationOf("authd.authenticate") as number;
      router.sendPayload(router.encode([68, 999_001, reg, {}, ["app", "alice", goodDetails()]]));
      await waitFor("the answer", () => router.replies.has(999_001), 5000);
      assert.equal((router.replies.get(999_001)?.[0] as unknown[])[0], 70);
    });

    it("logs rejected frames structured, without their payload, and no handler failures", () => {
      const records = logs.records();
      const rejected = records.filter((r) => String(r.msg).startsWith("unreadable"));
      assert.ok(rejected.length > 100, `${rejected.length} rejection lines`);
      const answered = rejected.find((r) => String(r.msg).includes("answered with an ERROR"));
      assert.equal(typeof answered?.request, "number");
      assert.equal(typeof answered?.bytes, "number");
      assert.equal(answered?.serializer, serializer);
      assert.ok(!logs.lines.some((l) => l.includes(MARKER)), "no payload content in any log line");
      assert.deepEqual(
        records.filter((r) => (r.level as number) >= 50).map((r) => r.msg),
        [],
      );
    });
  });
}
