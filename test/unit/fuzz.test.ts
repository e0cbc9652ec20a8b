/**
 * Fuzzes the two router-facing handlers in process against a real Postgres store: >= 100k
 * malformed authenticate payloads and >= 100k malformed authorize payloads from a seeded
 * generator. Every call must settle (an answer or an AuthError carrying a WAMP URI), nothing may
 * throw anything else, and nothing malformed may be allowed.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { AuthError } from "../../src/errors/authErrors.js";
import * as admin from "../../src/store/adminQueries.js";
import { freshStore, type TestStore } from "../helpers/db.js";
import { inProcess, type InProcess } from "../helpers/inProcess.js";
import { userWithTicket } from "../helpers/seed.js";
import { mulberry32 as rng } from "../helpers/rng.js";

const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed);
const AUTHENTICATE_CASES = Number(process.env.FUZZ_AUTHENTICATE ?? 100_000);
const AUTHORIZE_CASES = Number(process.env.FUZZ_AUTHORIZE ?? 100_000);

class Gen {
  constructor(readonly r: () => number) {}
  int(n: number): number {
    return Math.floor(this.r() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)] as T;
  }
  chance(p: number): boolean {
    return this.r() < p;
  }

  /** Strings that break naive code: NUL, lone surrogates, huge, control chars, URIs, SQL, JSON. */
  string(): string {
    switch (this.int(14)) {
      case 0:
        return "";
      case 1:
        return "a\u0000b";
      case 2:
        return "\ud800";
      case 3:
        return `x\udfff${"y".repeat(this.int(10))}`;
      case 4:
        return "A".repeat(this.pick([256, 1025, 4097, 70_000, 1_100_000]));
      case 5:
        return this.pick(["__proto__", "constructor", "prototype", "toString", "hasOwnProperty", "valueOf"]);
      case 6:
        return this.pick(["' OR 1=1 --", "'; DROP TABLE authd.users; --", "\\", "%s%s%n", "${x}", "{{x}}"]);
      case 7:
        return this.pick(["app", "alice", "authd", "trusted", "user", "ticket", "wampcra", "cryptosign", "scram", "tls", "anonymous"]);
      case 8:
        return this.pick(["tcp4:127.0.0.1:1", "tcp6:[::1]:2", "tcp4:999.1.1.1:3", "unix", "process:1", "tcp4::", "tcp6:::::::::0"]);
      case 9:
        return "\u202e\u200b\ufeff\u0007\r\n\t";
      case 10:
        return "🦀".repeat(this.int(50));
      case 11:
        return this.pick(["0", "-1", "1e309", "NaN", "null", "true", "[]", "{}"]);
      case 12:
        return "ab:".repeat(this.int(40));
      default: {
        let s = "";
        const n = this.int(40);
        for (let i = 0; i < n; i++) s += String.fromCharCode(this.int(0x10000));
        return s;
      }
    }
  }

  scalar(): unknown {
    switch (this.int(16)) {
      case 0:
        return null;
      case 1:
        return undefined;
      case 2:
        return true;
      case 3:
        return false;
      case 4:
        return this.pick([0, -0, 1, -1, 2 ** 53, -(2 ** 63), 1.5, NaN, Infinity, -Infinity]);
      case 5:
        return BigInt(this.int(1000)) * 10n ** 20n;
      case 6:
        return new Uint8Array(this.int(64));
      case 7:
        return new Date(this.int(2 ** 40));
      default:
        return this.string();
    }
  }

  /** Nested junk, including objects decoded from JSON with prototype-pollution keys. */
  value(depth = 0): unknown {
    if (depth > 6 || this.chance(0.55)) return this.scalar();
    switch (this.int(5)) {
      case 0: {
        const n = this.int(6);
        return Array.from({ length: n }, () => this.value(depth + 1));
      }
      case 1:
        return JSON.parse(`{"__proto__": {"authrole": "user", "authmethod": "ticket", "ticket": "x", "polluted": true}}`);
      case 2:
        return JSON.parse(`{"constructor": {"prototype": {"polluted": true}}, "authid": "alice"}`);
      case 3: {
        // deep nesting
        let v: unknown = this.scalar();
        for (let i = 0; i < this.int(200); i++) v = this.chance(0.5) ? [v] : { a: v };
        return v;
      }
      default: {
        const o: Record<string, unknown> = {};
        const n = this.int(6);
        for (let i = 0; i < n; i++) o[this.string().slice(0, 64)] = this.value(depth + 1);
        return o;
      }
    }
  }

  /** A valid-looking transport with one part mangled now and then. */
  transport(): unknown {
    if (this.chance(0.2)) return this.value();
    return {
      type: this.chance(0.8) ? "websocket" : this.value(),
      // Mostly distinct addresses, so the per-address lockout does not swallow everything.
      peer: this.chance(0.7)
        ? this.pick([`tcp4:10.${this.int(256)}.${this.int(256)}.${this.int(256)}:5000`, "tcp6:[2001:db8::1]:1", "unix"])
        : this.value(),
      http_headers_received: this.chance(0.5)
        ? { "x-forwarded-for": this.chance(0.5) ? "192.0.2.1, 10.0.0.1" : this.value() }
        : this.value(),
      peer_cert: this.chance(0.7)
        ? undefined
        : this.chance(0.5)
          ? { sha256: this.string(), subject: this.value(), issuer: this.value() }
          : this.value(),
    };
  }

  authextra(): unknown {
    if (this.chance(0.3)) return this.value();
    const o: Record<string, unknown> = {};
    for (const k of ["pubkey", "nonce", "channel_binding", "cbind_data", "challenge", "trustroot"]) {
      if (this.chance(0.3)) o[k] = this.chance(0.5) ? this.string() : this.value();
    }
    if (this.chance(0.2)) o.pubkey = "ab".repeat(32);
    return o;
  }

  /** Malformed or wrong-credential authenticate payloads (nothing here knows a real secret). */
  authenticateArgs(): unknown {
    const kind = this.int(10);
    if (kind === 0) return this.value();
    if (kind === 1) return Array.from({ length: this.pick([0, 1, 2, 4, 7]) }, () => this.value());
    if (kind >= 7) {
      // Near-valid: well-formed apart from (sometimes) one mangled field, so the store paths run.
      const details: Record<string, unknown> = {
        authmethod: this.pick(["ticket", "ticket", "wampcra", "cryptosign", "scram", "tls", "anonymous"]),
        ticket: this.string().slice(0, 200),
        authextra: this.chance(0.5)
          ? {}
          : { pubkey: this.chance(0.5) ? "cd".repeat(32) : this.string(), nonce: this.string(), channel_binding: null },
        transport: { type: "websocket", peer: `tcp4:10.${this.int(256)}.${this.int(256)}.${this.int(256)}:${this.int(65536)}` },
        session: this.int(2 ** 31),
      };
      if (this.chance(0.5)) details[this.pick(Object.keys(details))] = this.value();
      return [
        this.pick(["app", "app", "authd", "nope"]),
        this.pick(["alice", "bob-disabled", `nobody${this.int(5000)}`, "cra-less", "carol\u0000"]),
        details,
      ];
    }
    const realm = this.chance(0.5) ? this.pick(["app", "authd", "nope"]) : this.chance(0.5) ? this.scalar() : this.value();
    const authid = this.chance(0.5)
      ? this.pick(["alice", "bob-disabled", `nobody${this.int(5000)}`, "cra-less"])
      : this.chance(0.5)
        ? this.scalar()
        : this.value();
    const details: Record<string, unknown> = this.chance(0.1)
      ? (JSON.parse(`{"__proto__": {"authmethod": "ticket", "ticket": "alice-real-ticket"}}`) as Record<string, unknown>)
      : {};
    if (this.chance(0.9))
      details.authmethod = this.chance(0.8)
        ? this.pick(["ticket", "wampcra", "cryptosign", "scram", "tls", "anonymous", "cookie", ""])
        : this.value();
    if (this.chance(0.6)) details.ticket = this.chance(0.7) ? this.string() : this.value();
    if (this.chance(0.7)) details.authextra = this.authextra();
    if (this.chance(0.8)) details.transport = this.transport();
    if (this.chance(0.5)) details.session = this.chance(0.5) ? this.int(2 ** 31) : this.scalar();
    if (this.chance(0.1)) details.authid = this.value();
    return [realm, authid, this.chance(0.05) ? this.value() : details];
  }

  /** Authorize payloads that are malformed in at least one place (so no allow is ever legitimate). */
  authorizeArgs(): unknown {
    const goodSession = () => ({ session: this.int(1e9), authid: "alice", authrole: "user", authmethod: "ticket" });
    const goodUri = () => this.pick(["com.example.echo", "com.example.sub.x"]);
    const goodAction = () => this.pick(["call", "register", "publish", "subscribe"]);
    switch (this.int(6)) {
      case 0:
        return this.value();
      case 1:
        return Array.from({ length: this.int(3) }, () => (this.chance(0.5) ? goodSession() : goodUri()));
      case 2: {
        // the session is the broken part
        const s = this.pick<() => unknown>([
          () => this.value(),
          () => null,
          () => [goodSession()],
          () => {
            const role = this.chance(0.5) ? "trusted" : this.value();
            return { ...goodSession(), authrole: role === "user" ? "User" : role }; // "user" would be well-formed
          },
          () => ({ ...goodSession(), authrole: "user\u0000" }),
          () => ({ ...goodSession(), authrole: "x".repeat(300) }),
          () => JSON.parse(`{"session": 1, "__proto__": {"authrole": "user"}}`),
          () => Object.create({ authrole: "user" }),
        ])();
        return [s, goodUri(), goodAction(), {}];
      }
      case 3: {
        const uri = this.pick<() => unknown>([() => this.scalar(), () => this.value(), () => "c".repeat(70_000), () => ""])();
        return [goodSession(), uri, goodAction(), this.value()];
      }
      case 4: {
        const action = this.pick<() => unknown>([
          () => this.string(),
          () => this.value(),
          () => "CALL",
          () => "call\u0000",
          () => ["call"],
          () => ({ toString: "call" }),
        ])();
        if (typeof action === "string" && ["call", "register", "publish", "subscribe"].includes(action))
          return [goodSession(), goodUri(), 42, {}];
        return [goodSession(), goodUri(), action, this.value()];
      }
      default:
        return [this.value(), this.value(), this.value(), this.value(), this.value()];
    }
  }
}

describe("fuzzing the router-facing handlers (real Postgres store)", () => {
  let store: TestStore;
  let ip: InProcess;
  let decoys = 0;
  const realAllows: string[] = [];

  before(async () => {
    store = await freshStore();
    const db = store.pool;
    await admin.addRealm(db, "app");
    await admin.addRole(db, "app", "user");
    await admin.grant(db, "app", "user", { uri: "com.example.", match: "prefix", allow: ["call", "register", "subscribe", "publish"] });
    // Ticket credentials only: the payloads never carry these tickets, so any allow is a bug.
    await userWithTicket(db, { realm: "app", authid: "alice", role: "user" }, "alice-real-ticket-0f9a");
    await userWithTicket(db, { realm: "app", authid: "bob-disabled", role: "user", disabled: true }, "bob-real-ticket-77c1");
    await userWithTicket(db, { realm: "app", authid: "carol", role: "user" }, "carol-real-ticket-e2d4");
    await admin.addUser(db, { realm: "app", authid: "cra-less", role: "user" });
    ip = await inProcess(
      store.url,
      { deadlineMs: 10_000 },
      {
        keepOutcomes: !!process.env.FUZZ_DEBUG,
        // wampcra/cryptosign/scram answer unknown names with decoys (which no proof can pass): those are not allows.
        onOutcome: (o) => {
          if (o.error) return;
          if (o.principal?.decoy) decoys++;
          else realAllows.push(safeJson(o.request));
        },
      },
    );
  });

  after(async () => {
    await ip?.close();
    await store?.close();
  });

  it(`authenticate: ${AUTHENTICATE_CASES} malformed payloads, 0 crashes, 0 allows`, { timeout: 240_000 }, async () => {
    const g = new Gen(rng(SEED));
    const counts = { denied: 0, answered: 0, crashed: 0 };
    const crashes: string[] = [];
    const uris = new Map<string, number>();
    const one = async (args: unknown) => {
      try {
        await ip.authenticator.authenticate(args);
        counts.answered++;
      } catch (err) {
        if (err instanceof AuthError && /^wamp\.error\.[a-z_]+$/.test(err.uri) && typeof err.message === "string") {
          counts.denied++;
          uris.set(err.uri, (uris.get(err.uri) ?? 0) + 1);
        } else {
          counts.crashed++;
          if (crashes.length < 10) crashes.push(`${String(err)} for ${safeJson(args)}`);
        }
      }
    };
    // Several calls in flight, as the router would send them.
    const batch = 32;
    for (let i = 0; i < AUTHENTICATE_CASES; i += batch) {
      const n = Math.min(batch, AUTHENTICATE_CASES - i);
      await Promise.all(Array.from({ length: n }, () => one(g.authenticateArgs())));
    }
    if (process.env.FUZZ_DEBUG) {
      const reasons = new Map<string, number>();
      for (const o of ip.outcomes) {
        const r = (o.error?.reason ?? "allow").replace(/[^a-z ._]/gi, "").slice(0, 50);
        reasons.set(r, (reasons.get(r) ?? 0) + 1);
      }
      console.log([...reasons].sort((a, b) => b[1] - a[1]).slice(0, 40));
    }
    assert.deepEqual(crashes, []);
    assert.equal(counts.crashed, 0);
    // Every answer was a decoy (wampcra/cryptosign/scram for a name the store does not let in).
    assert.deepEqual(realAllows.slice(0, 5), []);
    assert.equal(counts.answered, decoys);
    assert.equal(counts.denied + counts.answered, AUTHENTICATE_CASES);
    // The handler still works for a real login afterwards (carol was never targeted).
    const ok = await ip.authenticator.authenticate([
      "app",
      "carol",
      { authmethod: "ticket", ticket: "carol-real-ticket-e2d4", transport: { peer: "tcp4:192.0.2.50:1" } },
    ]);
    assert.equal(ok.role, "user");
    // The payloads did reach the store-backed paths, not only the parser.
    assert.ok(ip.hasher.kdfCalls > AUTHENTICATE_CASES / 200, `KDF ran ${ip.hasher.kdfCalls} times`);
  });

  it(`authorize: ${AUTHORIZE_CASES} malformed payloads, 0 crashes, 0 allows`, () => {
    const g = new Gen(rng(SEED + 1));
    let allowed = 0;
    for (let i = 0; i < AUTHORIZE_CASES; i++) {
      const args = g.authorizeArgs();
      const d = ip.authorizer.authorize("app", args);
      assert.ok(!(d instanceof Promise), "no session-rules provider: the answer is synchronous");
      assert.equal(typeof d.allow, "boolean");
      if (d.allow) {
        allowed++;
        assert.fail(`allowed: ${safeJson(args)}`);
      }
    }
    assert.equal(allowed, 0);
    // And the same index allows a well-formed request.
    const ok = ip.authorizer.authorize("app", [{ session: 1, authid: "alice", authrole: "user" }, "com.example.echo", "call", {}]);
    assert.ok(!(ok instanceof Promise));
    assert.equal(ok.allow, true);
  });
});

function safeJson(v: unknown): string {
  try {
    const s = JSON.stringify(v, (_k, x: unknown) => (typeof x === "bigint" ? `${x}n` : x));
    return (s ?? String(v)).slice(0, 300);
  } catch {
    return String(v).slice(0, 300);
  }
}
