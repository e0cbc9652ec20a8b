/**
 * Through a real Crossbar: clients that send values Crossbar's Python JSON decoder accepts but
 * JSON.parse does not (NaN, Infinity, -Infinity, 1e999) and nesting deeper than our decoders take.
 * Crossbar forwards them to wamp-authd inside INVOCATIONs (HELLO authextra to the authenticator,
 * CALL/PUBLISH/SUBSCRIBE/REGISTER forward_for to the authorizer). The router link must not drop:
 * every victim login and call succeeds during the flood, and the service's router sessions are
 * the same ones before and after (no reconnect). Run with the json and the msgpack rawsocket link
 * and with a WebSocket link.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { freePort } from "../../devstack/ports.js";
import * as admin from "../../src/store/adminQueries.js";
import { ticketLogin, type Joined } from "../helpers/client.js";
import { capturedLogger } from "../helpers/logCapture.js";
import { helloText, RawWamp, rawTicketLogin } from "../helpers/rawWamp.js";
import { userWithTicket } from "../helpers/seed.js";
import { startStack, type Stack } from "../helpers/stack.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** authextra payloads a hostile client sends in its HELLO, as raw JSON text. */
const HOSTILE_EXTRA: Array<[string, string]> = [
  ["NaN", '{"a":NaN}'],
  ["Infinity", '{"a":Infinity}'],
  ["-Infinity", '{"a":[1,{"b":-Infinity}]}'],
  ["1e999", '{"a":1e999}'],
  ["300 deep", `{"a":${"[".repeat(300)}${"]".repeat(300)}}`],
  ["200 deep with NaN", `{"a":[NaN,${"[".repeat(200)}${"]".repeat(200)}]}`],
];

const FORWARD_FOR = '"forward_for":[{"session":1,"authid":"a","authrole":"b","x":NaN}]';

type Variant = { name: string; serializer: "json" | "msgpack"; websocket: boolean };
const VARIANTS: Variant[] = [
  { name: "json rawsocket link", serializer: "json", websocket: false },
  { name: "msgpack rawsocket link", serializer: "msgpack", websocket: false },
  { name: "json WebSocket link", serializer: "json", websocket: true },
];

for (const v of VARIANTS) {
  describe(`hostile frames through Crossbar (${v.name})`, () => {
    let stack: Stack;
    const logs = capturedLogger("info");

    before(async () => {
      let crossbar = {};
      let router: Record<string, unknown> = { serializer: v.serializer };
      if (v.websocket) {
        // A privileged WebSocket transport, as an operator could configure instead of rawsocket.
        const port = await freePort();
        crossbar = {
          extraTransports: [
            {
              type: "web",
              endpoint: { type: "tcp", port, interface: "127.0.0.1" },
              paths: {
                ws: { type: "websocket", serializers: ["json", "msgpack"], auth: { anonymous: { type: "static", role: "authd" } } },
              },
            },
          ],
        };
        router = { ...router, url: `ws://127.0.0.1:${port}/ws` };
      }
      stack = await startStack({ realms: { app: ["user"] }, crossbar, service: { router }, log: logs.log });
      const db = stack.store.pool;
      await admin.addRealm(db, "app");
      await admin.addRole(db, "app", "user");
      await admin.grant(db, "app", "user", { uri: "com.example.", match: "prefix", allow: ["call", "register", "publish", "subscribe"] });
      for (const who of ["alice", "bob", "mallory"]) await userWithTicket(db, { realm: "app", authid: who, role: "user" }, `${who}-ticket`);
      await stack.service!.reload();
      if (v.websocket) assert.ok(stack.service!.config.router.url.startsWith("ws://"));
    });

    after(async () => stack?.stop());

    /** The service's router sessions and reconnect counters, to compare before and after. */
    async function linkState() {
      const service = stack.service!;
      const metric = (await service.metrics.reconnects.get()).values[0]?.value ?? 0;
      return {
        authd: service.link.session("authd")?.id,
        app: service.link.session("app")?.id,
        linkReconnects: service.link.reconnects,
        metricReconnects: metric,
      };
    }

    it(
      "80 HELLOs with non-finite or deep authextra in 8 s: every victim login succeeds, the link stays",
      { timeout: 120_000 },
      async () => {
        const before = await linkState();
        assert.ok(before.authd !== undefined && before.app !== undefined);
        const seenBefore = logs.records().length;

        let flooding = true;
        const victimResults: string[] = [];
        const victim = async () => {
          while (flooding) {
            try {
              const c = await ticketLogin(stack.wsUrl, "app", "alice", "alice-ticket");
              c.close();
              victimResults.push("ok");
            } catch (err) {
              victimResults.push(String(err));
            }
          }
        };
        const victims = [victim(), victim()];

        const outcomes: Array<Promise<[string, unknown[] | null]>> = [];
        for (let i = 0; i < 80; i++) {
          const [label, extra] = HOSTILE_EXTRA[i % HOSTILE_EXTRA.length] as [string, string];
          outcomes.push(
            (async (): Promise<[string, unknown[] | null]> => {
              const c = await RawWamp.open(stack.wsUrl);
              try {
                return [label, await rawTicketLogin(c, helloText("app", "mallory", extra), "mallory-ticket")];
              } finally {
                c.close();
              }
            })(),
          );
          await sleep(100);
        }
        const results = await Promise.all(outcomes);
        flooding = false;
        await Promise.all(victims);

        const byLabel = new Map<string, Set<string>>();
        for (const [label, m] of results) {
          const s = byLabel.get(label) ?? new Set<string>();
          s.add(m === null ? "no answer" : m[0] === 3 ? `ABORT ${String(m[2])}` : `message ${String(m[0])}`);
          byLabel.set(label, s);
        }
        console.log(`[${v.name}] hostile HELLOs: ${[...byLabel].map(([l, s]) => `${l}: ${[...s].join("/")}`).join("; ")}`);

        const failed = victimResults.filter((r) => r !== "ok");
        console.log(`[${v.name}] victim logins during the flood: ${victimResults.length}, failed ${failed.length}`);
        assert.ok(victimResults.length >= 10, `only ${victimResults.length} victim logins`);
        assert.deepEqual(failed, []);
        // And once more after it.
        (await ticketLogin(stack.wsUrl, "app", "bob", "bob-ticket")).close();

        assert.deepEqual(await linkState(), before, "same router sessions, no reconnect");
        // mallory's ticket is right: only the hostile values make each login fail (fail closed).
        for (const [label, m] of results) assert.equal(m?.[0], 3, `${label}: ${JSON.stringify(m)?.slice(0, 200)}`);

        // The non-finite HELLOs reached the authenticator and were denied there as bad requests.
        const records = logs.records().slice(seenBefore);
        const denied = records.filter((r) => r.msg === "authentication denied" && String(r.reason).includes("not finite"));
        assert.ok(denied.length >= 4 * Math.floor(80 / HOSTILE_EXTRA.length), `${denied.length} non-finite denials`);
        const unreadable = records.filter((r) => String(r.msg).startsWith("unreadable INVOCATION"));
        console.log(
          `[${v.name}] denied for non-finite values: ${denied.length}; unreadable INVOCATIONs answered with ERROR: ${unreadable.length}`,
        );
        assert.equal(
          records.filter((r) => (r.level as number) >= 50).length,
          0,
          JSON.stringify(records.filter((r) => (r.level as number) >= 50)),
        );
      },
    );

    it(
      "values Crossbar cannot re-serialise (lone surrogates; integers beyond 64 bits on msgpack) never log in and leave the link alone",
      { timeout: 60_000 },
      async () => {
        const before = await linkState();
        const cases: Array<[string, string]> = [
          ["lone surrogate in authextra", helloText("app", "mallory", '{"s":"\\ud800"}')],
          ["lone surrogate in authid", helloText("app", "mallory\udc00")],
          // On the json link Crossbar forwards 10^29 as written (a finite number; that login succeeds).
          ...(v.serializer === "msgpack"
            ? [["10^29 in authextra", helloText("app", "mallory", '{"n":123456789012345678901234567890}')] as [string, string]]
            : []),
        ];
        const outcomes: string[] = [];
        for (const [label, hello] of cases) {
          const c = await RawWamp.open(stack.wsUrl);
          try {
            const m = await rawTicketLogin(c, hello, "mallory-ticket", 3000);
            outcomes.push(
              `${label}: ${m === null ? "no answer in 3 s" : m[0] === 3 ? `ABORT ${String(m[2])}` : `message ${String(m[0])}`}`,
            );
            assert.notEqual(m?.[0], 2, `${label}: must not log in`);
          } finally {
            c.close();
          }
        }
        console.log(`[${v.name}] ${outcomes.join("; ")}`);
        (await ticketLogin(stack.wsUrl, "app", "alice", "alice-ticket")).close();
        assert.deepEqual(await linkState(), before, "same router sessions, no reconnect");
      },
    );

    it(
      "a joined session sending CALL/PUBLISH/SUBSCRIBE/REGISTER with a NaN in forward_for: victim calls keep working, the link stays",
      { timeout: 120_000 },
      async () => {
        const callee: Joined = await ticketLogin(stack.wsUrl, "app", "bob", "bob-ticket");
        const caller: Joined = await ticketLogin(stack.wsUrl, "app", "alice", "alice-ticket");
        const hostile = await RawWamp.open(stack.wsUrl);
        try {
          await callee.session.register("com.example.echo", (args: unknown[]) => args[0]);
          const welcome = await rawTicketLogin(hostile, helloText("app", "mallory"), "mallory-ticket");
          assert.equal(welcome?.[0], 2, "mallory joins");
          const before = await linkState();

          let calling = true;
          const victimResults: string[] = [];
          const victim = (async () => {
            let i = 0;
            while (calling) {
              try {
                const r = await caller.session.call("com.example.echo", [i]);
                victimResults.push(r === i ? "ok" : `wrong result ${String(r)}`);
              } catch (err) {
                victimResults.push(JSON.stringify(err));
              }
              i++;
            }
          })();

          // 4 kinds x 40, one every 25 ms (4 s); request ids 1..160.
          const sent: Array<[number, string]> = [];
          for (let i = 0; i < 40; i++) {
            const base = i * 4;
            const uri = i % 5 === 0 ? "com.secret.x" : "com.example.x";
            const frames: Array<[string, string]> = [
              ["call", `[48,${base + 1},{${FORWARD_FOR}},"${uri}",[1]]`],
              ["publish", `[16,${base + 2},{"acknowledge":true,${FORWARD_FOR}},"${uri}.topic",[1]]`],
              ["subscribe", `[32,${base + 3},{${FORWARD_FOR}},"${uri}.topic${i}"]`],
              ["register", `[64,${base + 4},{${FORWARD_FOR}},"${uri}.proc${i}"]`],
            ];
            for (const [kind, text] of frames) {
              hostile.send(text);
              sent.push([Number(/^\[\d+,(\d+)/.exec(text)?.[1]), `${kind} ${uri}`]);
              await sleep(25);
            }
          }
          // Every request gets its answer: a result or a denial, never authorization_failed (the authorizer erred or was away).
          const answers = new Map<number, string>();
          for (const [id, what] of sent) {
            const m = await hostile.next(
              (x) => (x[0] === 8 ? x[2] === id : x[1] === id && [17, 33, 50, 65].includes(x[0] as number)),
              10_000,
            );
            answers.set(id, m === null ? `${what}: no answer` : m[0] === 8 ? `${what}: ${String(m[4])}` : `${what}: ok`);
          }
          calling = false;
          await victim;

          const summary = new Map<string, number>();
          for (const a of answers.values()) summary.set(a, (summary.get(a) ?? 0) + 1);
          console.log(`[${v.name}] hostile forward_for requests: ${[...summary].map(([k, n]) => `${k} x${n}`).join("; ")}`);
          const failed = victimResults.filter((r) => r !== "ok");
          console.log(`[${v.name}] victim calls during the flood: ${victimResults.length}, failed ${failed.length}`);
          assert.ok(victimResults.length >= 10, `only ${victimResults.length} victim calls`);
          assert.deepEqual(failed, []);
          assert.equal(hostile.closed, false, "the hostile session itself was not dropped either");
          assert.deepEqual(await linkState(), before, "same router sessions, no reconnect");
          // Each got the authorizer's decision: allowed (a call then finds no callee) or not_authorized.
          for (const [id, a] of answers) {
            const secret = a.includes("com.secret.");
            const expected = secret ? "wamp.error.not_authorized" : a.startsWith("call ") ? "wamp.error.no_such_procedure" : "ok";
            assert.ok(a.endsWith(`: ${expected}`), `request ${id}: ${a}`);
          }
        } finally {
          hostile.close();
          callee.close();
          caller.close();
        }
      },
    );
  });
}
