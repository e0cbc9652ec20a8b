import argon2 from "argon2";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { userInfo } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { CraCipher, parseCraKeys } from "../../src/auth/craCipher.js";
import { openCraCredential } from "../../src/auth/craCredential.js";
import { deriveScramCredential } from "../../src/auth/scramCredential.js";
import { upsertRollups } from "../../src/store/auditQueries.js";
import { cliEnv, cliOk, runCli } from "../helpers/cli.js";
import { freshStore, type TestStore } from "../helpers/db.js";
import { removeTempDir, tempDir } from "../../devstack/tempDirs.js";

const CRA_KEY = "k1:" + "ab".repeat(32);
const PASSWORD = "correct horse battery staple";

describe("admin CLI against a real store", () => {
  let store: TestStore;
  let env: NodeJS.ProcessEnv;
  const ok = (args: string[], input?: string) => cliOk(args, { env, input });
  const fail = async (args: string[], input?: string) => {
    const r = await runCli(args, { env, input });
    assert.equal(r.code, 1, `expected exit 1 for ${args.join(" ")}: ${r.stdout}`);
    const lines = r.stderr.trim().split("\n");
    assert.equal(lines.length, 1, `one-line error expected, got: ${r.stderr}`);
    assert.doesNotMatch(r.stderr, /\bat .*\.js:\d+/, "no stack trace");
    return lines[0]!;
  };

  before(async () => {
    store = await freshStore();
    env = cliEnv(store.url, { AUTHD_CRA_KEY: CRA_KEY });
    await ok(["realms", "add", "app"]);
    await ok(["roles", "add", "app", "user"]);
    await ok(["roles", "add", "app", "ops", "--kill-on-change"]);
    await ok(["grants", "add", "app", "user", "com.app.*", "--allow", "call,subscribe", "--disclose", "caller"]);
    await ok(["grants", "add", "app", "user", "com.app.admin", "--allow", "none"]);
    await ok(["users", "add", "app", "alice", "--role", "user", "--extra", '{"team":"blue"}']);
  });

  const dirs: string[] = [];
  after(async () => {
    await store?.close();
    for (const d of dirs) await removeTempDir(d);
  });

  it("bad input gives a one-line error and exit 1", async () => {
    assert.match(await fail(["realms", "add", "Bad Realm"]), /invalid realm name/);
    assert.match(await fail(["realms", "add", "app"]), /already exists/);
    assert.match(await fail(["users", "add", "app", "bob", "--role", "nope"]), /no role "nope"/);
    assert.match(await fail(["users", "add", "app", "bob", "--role", "user", "--extra", "[1]"]), /JSON object/);
    assert.match(await fail(["users", "add", "app", "bob", "--role", "trusted"]), /trusted/);
    assert.match(await fail(["users", "add", "app", "bob"]), /--role/);
    assert.match(await fail(["users", "show", "app", "nobody"]), /no user "nobody"/);
    assert.match(await fail(["grants", "add", "app", "user", "com.x", "--allow", "fly"]), /unknown action "fly"/);
    assert.match(await fail(["grants", "add", "app", "user", "com.x", "--allow", "call", "--match", "fuzzy"]), /unknown match/);
    assert.match(await fail(["keys", "add", "app", "alice", "xyz"]), /64 hex/);
    assert.match(await fail(["tls", "bind", "app", "alice", "12:34"]), /SHA-256/);
    assert.match(await fail(["check", "app", "com.app.x", "dance", "--role", "user"]), /unknown action/);
    assert.match(await fail(["check", "app", "com.app.x", "call"]), /authid or --role/);
    assert.match(await fail(["audit", "--since", "yesterday-ish"]), /invalid --since/);
    assert.match(await fail(["users", "passwd", "app", "alice"], ""), /no password on stdin/);
    const r = await runCli(["realms", "list"], { env: cliEnv("postgres://postgres@127.0.0.1:1/none") });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^wamp-authd: cannot reach the database/);
  });

  it("passwd reads stdin and writes ticket hash, SCRAM and (cra.onPasswd) encrypted CRA secret together", async () => {
    const out = await cliOk(["users", "passwd", "app", "alice"], { env: { ...env, AUTHD_CRA_ON_PASSWD: "true" }, input: PASSWORD + "\n" });
    assert.match(out, /ticket, scram, wampcra/);
    const { rows } = await store.pool.query<{ method: string; data: Record<string, unknown> }>(
      "SELECT c.method, c.data FROM authd.credentials c JOIN authd.users u ON u.id = c.user_id WHERE u.authid = 'alice' ORDER BY c.method",
    );
    assert.deepEqual(
      rows.map((r) => r.method),
      ["scram", "ticket", "wampcra"],
    );
    const byMethod = Object.fromEntries(rows.map((r) => [r.method, r.data]));
    assert.equal(await argon2.verify(byMethod.ticket!.phc as string, PASSWORD), true, "the trailing newline is not part of the password");
    const scram = byMethod.scram!;
    const again = await deriveScramCredential(PASSWORD, { salt: scram.salt as string, iterations: 2, memory: 64 });
    assert.equal(scram.stored_key, again.stored_key);
    assert.equal(scram.server_key, again.server_key);
    const cipher = new CraCipher(parseCraKeys(CRA_KEY, "test"));
    assert.equal(openCraCredential(cipher, byMethod.wampcra!).secret, PASSWORD);
    for (const data of Object.values(byMethod)) assert.doesNotMatch(JSON.stringify(data), /horse/);
  });

  it("cra.onPasswd off (the default) writes no CRA secret and removes the old one; on without a key is refused", async () => {
    const methods = async () =>
      (
        await store.pool.query<{ method: string; data: { phc?: string } }>(
          "SELECT c.method, c.data FROM authd.credentials c JOIN authd.users u ON u.id = c.user_id WHERE u.authid = 'alice' ORDER BY c.method",
        )
      ).rows;
    assert.deepEqual(
      (await methods()).map((r) => r.method),
      ["scram", "ticket", "wampcra"],
      "alice has a CRA secret from the test before",
    );
    // A CRA key is configured (env), cra.onPasswd is not: the old password's CRA secret must not survive.
    const out = await ok(["users", "passwd", "app", "alice"], "second password");
    assert.match(out, /\(ticket, scram\); old wampcra secret removed \(cra\.onPasswd is off\)/);
    assert.deepEqual(
      (await methods()).map((r) => r.method),
      ["scram", "ticket"],
    );
    assert.doesNotMatch(await ok(["users", "passwd", "app", "alice"], "third password"), /removed/);
    const [audit] = JSON.parse(await ok(["audit", "--authid", "alice", "--kind", "admin", "--limit", "2", "--json"])) as Array<{
      detail: unknown;
    }>;
    assert.deepEqual(audit!.detail, { methods: ["ticket", "scram"], removed: [] });

    // On, but nothing to encrypt with: refused, nothing changed.
    const noKey = await runCli(["users", "passwd", "app", "alice"], {
      env: { ...env, AUTHD_CRA_KEY: "", AUTHD_CRA_ON_PASSWD: "true" },
      input: "fourth password",
    });
    assert.equal(noKey.code, 1);
    assert.match(noKey.stderr, /^wamp-authd: cra\.onPasswd is on but no WAMP-CRA key is configured \(cra\.keyFile or cra\.key\)\n$/);
    const ticket = (await methods()).find((r) => r.method === "ticket")!;
    assert.equal(await argon2.verify(ticket.data.phc!, "third password"), true);
  });

  it("--json shapes of list, show and check", async () => {
    const realms = JSON.parse(await ok(["realms", "list", "--json"]));
    assert.deepEqual(realms, [
      { name: "app", anonymous_allowed: false, anonymous_role: null, anonymous_cidrs: [], anonymous_authid: null, anonymous_extra: {} },
    ]);

    const users = JSON.parse(await ok(["users", "list", "app", "--json"]));
    assert.equal(users.length, 1);
    assert.equal(users[0].authid, "alice");
    assert.equal(users[0].role, "user");
    assert.deepEqual(users[0].extra, { team: "blue" });
    assert.equal(users[0].disabled, false);
    assert.ok(Array.isArray(users[0].methods));

    const shown = JSON.parse(await ok(["users", "show", "app", "alice", "--json"]));
    assert.equal(shown.authid, "alice");
    assert.ok(Array.isArray(shown.credentials));
    for (const c of shown.credentials)
      assert.deepEqual(Object.keys(c).sort(), ["created_at", "expires_at", "label", "lookup", "method", "pins", "revoked", "updated_at"]);

    const roles = JSON.parse(await ok(["roles", "list", "app", "--json"]));
    assert.deepEqual(
      roles.map((r: { name: string; kill_on_change: boolean; rules: number }) => [r.name, r.kill_on_change, r.rules]),
      [
        ["ops", true, 0],
        ["user", false, 2],
      ],
    );

    const grants = JSON.parse(await ok(["grants", "list", "app", "user", "--json"]));
    assert.deepEqual(
      grants.map((g: { uri: string; match: string; allow_call: boolean; disclose_caller: boolean }) => [
        g.uri,
        g.match,
        g.allow_call,
        g.disclose_caller,
      ]),
      [
        ["com.app.", "prefix", true, true],
        ["com.app.admin", "exact", false, false],
      ],
    );

    const allowed = JSON.parse(await ok(["check", "app", "com.app.x", "call", "--authid", "alice", "--json"]));
    assert.equal(allowed.allow, true);
    assert.equal(allowed.disclose, true);
    assert.equal(allowed.cache, false);
    assert.equal(allowed.role, "user");
    assert.deepEqual({ uri: allowed.rule.uri, match: allowed.rule.match }, { uri: "com.app.", match: "prefix" });
    const denied = JSON.parse(await ok(["check", "app", "com.app.admin", "call", "--role", "user", "--json"]));
    assert.equal(denied.allow, false);
    assert.equal(denied.rule.match, "exact");
    const nothing = JSON.parse(await ok(["check", "app", "org.other", "publish", "--role", "user", "--json"]));
    assert.equal(nothing.allow, false);
    assert.equal(nothing.rule, null);
  });

  it("grant and check warn on stderr about cached rules and say how to apply a change", async () => {
    const r = await runCli(["grants", "add", "app", "user", "com.cached", "--allow", "call", "--cache"], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /warning: .*cache: true.*cannot purge.*Crossbar restarts/);
    const c = await runCli(["check", "app", "com.cached", "call", "--role", "user"], { env });
    assert.equal(c.code, 0, c.stderr);
    assert.match(c.stdout, /^allow/);
    assert.match(c.stderr, /warning: .*cache: true/);
    const plain = await runCli(["grants", "add", "app", "user", "com.uncached", "--allow", "call"], { env });
    assert.equal(plain.stderr, "");
  });

  it("user lifecycle: set-role, set-extra, disable, enable, keys, tls, remove", async () => {
    await ok(["users", "add", "app", "carol", "--role", "user"]);
    await ok(["users", "set-role", "app", "carol", "ops"]);
    await ok(["users", "set-extra", "app", "carol", '{"desk":7}']);
    await ok(["users", "disable", "app", "carol"]);
    let u = JSON.parse(await ok(["users", "show", "app", "carol", "--json"]));
    assert.deepEqual([u.role, u.extra, u.disabled], ["ops", { desk: 7 }, true]);
    await ok(["users", "enable", "app", "carol"]);
    const key = "0f".repeat(32);
    await ok(["keys", "add", "app", "carol", key.toUpperCase(), "--label", "laptop", "--expires", "2099-01-01"]);
    const keys = JSON.parse(await ok(["keys", "list", "app", "carol", "--json"]));
    assert.equal(keys[0].lookup, key);
    assert.equal(keys[0].label, "laptop");
    await ok(["keys", "revoke", "app", "carol", key]);
    assert.equal(JSON.parse(await ok(["keys", "list", "app", "carol", "--json"]))[0].revoked, true);
    const fp = "a1".repeat(32);
    await ok(["tls", "bind", "app", "carol", fp, "--issuer-cn", "Test CA"]);
    const certs = JSON.parse(await ok(["tls", "list", "app", "carol", "--json"]));
    assert.equal(certs[0].lookup, fp.toUpperCase().match(/../g)!.join(":"));
    assert.deepEqual(certs[0].pins, { issuer_cn: "Test CA" });
    await ok(["tls", "unbind", "app", "carol", fp]);
    u = JSON.parse(await ok(["users", "show", "app", "carol", "--json"]));
    assert.equal(u.disabled, false);
    await ok(["users", "remove", "app", "carol"]);
    assert.match(await fail(["users", "show", "app", "carol"]), /no user/);
  });

  it("every change writes an admin audit row with the OS user and no secret", async () => {
    await ok(["users", "add", "app", "dave", "--role", "user"]);
    await cliOk(["users", "passwd", "app", "dave"], { env: { ...env, AUTHD_CRA_ON_PASSWD: "true" }, input: "dave-very-secret" });
    const rows = JSON.parse(await ok(["audit", "--kind", "admin", "--limit", "1000", "--json"]));
    const outcomes = rows.map((r: { outcome: string }) => r.outcome);
    for (const action of [
      "realm.add",
      "role.add",
      "grant.add",
      "user.add",
      "user.passwd",
      "user.set-role",
      "user.disable",
      "key.add",
      "key.revoke",
      "tls.bind",
      "user.remove",
    ]) {
      assert.ok(outcomes.includes(action), `audit row for ${action}`);
    }
    const actor = userInfo().username;
    for (const r of rows) {
      assert.equal(r.kind, "admin");
      assert.equal(r.actor, actor);
    }
    const dave = JSON.parse(await ok(["audit", "--authid", "dave", "--since", "1h", "--json"]));
    assert.deepEqual(
      dave.map((r: { outcome: string }) => r.outcome),
      ["user.passwd", "user.add"],
    );
    assert.deepEqual((dave as Array<{ detail: unknown }>)[0]!.detail, { methods: ["ticket", "scram", "wampcra"], removed: [] });
    const all = JSON.stringify((await store.pool.query("SELECT * FROM authd.audit")).rows);
    assert.doesNotMatch(all, /dave-very-secret|horse|argon2id\$|stored_key|ciphertext/);
  });

  it("audit --rollup shows counted denials (table and JSON), filters by kind and realm, escapes control characters", async () => {
    const w = new Date(Date.now() - 60_000);
    await upsertRollups(store.pool, [
      {
        windowStart: w,
        kind: "unknown",
        realm: "app",
        count: 1234,
        firstAt: w,
        lastAt: new Date(w.getTime() + 30_000),
        sample: { authid: "ghost\u001b[31mred", realm: "app", method: "ticket", peer: "tcp4:203.0.113.9:1", reason: "unknown user" },
      },
      {
        windowStart: w,
        kind: "locked_out",
        realm: "(other)",
        count: 7,
        firstAt: w,
        lastAt: w,
        sample: { authid: "x", realm: "r-random", method: "scram", peer: null, reason: "locked out" },
      },
    ]);
    const table = await ok(["audit", "--rollup"]);
    assert.match(table, /^WINDOW\s+KIND\s+REALM\s+COUNT\s+LAST\s+SAMPLE/);
    assert.match(table, /unknown\s+app\s+1234\s+\S+\s+ticket ghost\\u001b\[31mred tcp4:203\.0\.113\.9:1 \(unknown user\)/);
    assert.equal(table.includes("\u001b"), false, "no raw escape sequence reaches the terminal");
    assert.match(table, /locked_out\s+\(other\)\s+7\s+\S+\s+scram r-random x \(locked out\)/);
    const json = JSON.parse(await ok(["audit", "--rollup", "--kind", "unknown", "--since", "1h", "--json"])) as Array<{
      count: number;
      sample_authid: string;
    }>;
    assert.equal(json.length, 1);
    assert.equal(json[0]!.count, 1234);
    assert.equal(json[0]!.sample_authid, "ghost\u001b[31mred");
    assert.equal((JSON.parse(await ok(["audit", "--rollup", "--realm", "(other)", "--json"])) as unknown[]).length, 1);
    assert.match(await fail(["audit", "--rollup", "--kind", "login"]), /unknown rollup kind "login"/);
    assert.match(await fail(["audit", "--rollup", "--authid", "x"]), /do not apply to --rollup/);
  });

  it("hash-password prints a PHC string and SCRAM fields that verify, without a database", async () => {
    const out = JSON.parse(
      await cliOk(["hash-password", "--json"], { env: cliEnv("postgres://nobody@127.0.0.1:1/none"), input: "migrate-me\n" }),
    );
    assert.match(out.ticket.phc, /^\$argon2id\$v=19\$m=1024,p=1,t=1\$/);
    assert.equal(await argon2.verify(out.ticket.phc, "migrate-me"), true);
    const again = await deriveScramCredential("migrate-me", {
      salt: out.scram.salt,
      iterations: out.scram.iterations,
      memory: out.scram.memory,
    });
    assert.equal(out.scram.stored_key, again.stored_key);
    assert.equal(out.wampcra, undefined);
    const withCra = JSON.parse(await cliOk(["hash-password", "--json", "--cra"], { env, input: "migrate-me" }));
    assert.equal(openCraCredential(new CraCipher(parseCraKeys(CRA_KEY, "test")), withCra.wampcra).secret, "migrate-me");
    const noKey = await runCli(["hash-password", "--cra"], { env: cliEnv("postgres://nobody@127.0.0.1:1/none"), input: "x" });
    assert.equal(noKey.code, 1);
    assert.match(noKey.stderr, /needs a WAMP-CRA key/);
  });

  it("export prints a Crossbar realms block; import-crossbar dry run writes nothing", async () => {
    const exported = JSON.parse(await ok(["export", "app", "--json"]));
    const user = exported.realms[0].roles.find((r: { name: string }) => r.name === "user");
    assert.deepEqual(user.permissions[0], {
      uri: "com.app.",
      match: "prefix",
      allow: { call: true, register: false, publish: false, subscribe: true },
      disclose: { caller: true, publisher: false },
      cache: false,
    });
    const dir = tempDir("cli");
    dirs.push(dir);
    const file = join(dir, "config.json");
    writeFileSync(
      file,
      JSON.stringify({
        version: 2,
        workers: [
          { type: "router", realms: [{ name: "fresh", roles: [{ name: "r", permissions: [{ uri: "a.*", allow: { call: true } }] }] }] },
        ],
      }),
    );
    const before = (await store.pool.query("SELECT count(*)::int AS n FROM authd.realms")).rows[0].n;
    const plan = await ok(["import-crossbar", file]);
    assert.match(plan, /realm fresh/);
    assert.match(plan, /dry run/);
    assert.equal((await store.pool.query("SELECT count(*)::int AS n FROM authd.realms")).rows[0].n, before);
  });

  it("import-crossbar --apply stores principals of every static method in one go, and leaves existing users alone", async () => {
    const dir = tempDir("cli");
    dirs.push(dir);
    const file = join(dir, "node.json");
    const config = {
      version: 2,
      workers: [
        {
          type: "router",
          realms: [{ name: "imported", roles: [{ name: "r", permissions: [{ uri: "x.*", allow: { call: true } }] }] }],
          transports: [
            {
              type: "websocket",
              auth: {
                ticket: { type: "static", principals: { t1: { ticket: "t1-ticket", role: "r" } } },
                wampcra: { type: "static", users: { c1: { secret: "c1-secret", role: "r", salt: "s1", iterations: 10, keylen: 32 } } },
                cryptosign: { type: "static", principals: { k1: { role: "r", authorized_keys: ["cd".repeat(32)] } } },
              },
            },
          ],
        },
      ],
    };
    writeFileSync(file, JSON.stringify(config));
    const noKey = await runCli(["import-crossbar", file, "--apply"], { env: cliEnv(store.url) });
    assert.equal(noKey.code, 1);
    assert.match(noKey.stderr, /WAMP-CRA users: set cra.keyFile or cra.key/);
    const first = JSON.parse(await ok(["import-crossbar", file, "--apply", "--json"]));
    assert.equal(first.result.usersCreated, 3);
    const { rows } = await store.pool.query<{ authid: string; method: string; lookup: string | null; data: Record<string, unknown> }>(
      `SELECT u.authid, c.method, c.lookup, c.data FROM authd.users u JOIN authd.realms r ON r.id = u.realm_id
         JOIN authd.credentials c ON c.user_id = u.id WHERE r.name = 'imported' ORDER BY u.authid`,
    );
    assert.deepEqual(
      rows.map((r) => [r.authid, r.method]),
      [
        ["c1", "wampcra"],
        ["k1", "cryptosign"],
        ["t1", "ticket"],
      ],
    );
    assert.equal(await argon2.verify(rows[2]!.data.phc as string, "t1-ticket"), true);
    const cipher = new CraCipher(parseCraKeys(CRA_KEY, "test"));
    const cra = openCraCredential(cipher, rows[0]!.data);
    assert.deepEqual(cra, { secret: "c1-secret", salt: { salt: "s1", iterations: 10, keylen: 32 } });
    assert.equal(rows[1]!.lookup, "cd".repeat(32));
    const second = JSON.parse(await ok(["import-crossbar", file, "--apply", "--json"]));
    assert.deepEqual(second.result.usersExisting.sort(), ["imported/c1", "imported/k1", "imported/t1"]);
    const audit = JSON.stringify((await store.pool.query("SELECT detail FROM authd.audit WHERE outcome = 'import.crossbar'")).rows);
    assert.doesNotMatch(audit, /t1-ticket|c1-secret/);
  });

  it("check --match decides pattern subscriptions; reserved URIs and wamp. are named; templates are validated", async () => {
    type Checked = { allow: boolean; match: string; reason: string; rules: Array<{ uri: string }>; rule: { uri: string } | null };
    const check = async (...args: string[]) => JSON.parse(await ok(["check", "app", ...args, "--role", "pat", "--json"])) as Checked;
    await ok(["roles", "add", "app", "pat"]);
    await ok(["grants", "add", "app", "pat", "*", "--allow", "all"]);
    await ok(["grants", "add", "app", "pat", "com.feed.private.x", "--allow", "call"]);
    const exact = await check("com.feed", "subscribe");
    assert.deepEqual([exact.allow, exact.match, exact.rule?.uri], [true, "exact", ""]);
    // Under the pattern, com.feed.private.x is decided by a rule that does not allow subscribe.
    const prefix = await check("com.feed", "subscribe", "--match", "prefix");
    assert.deepEqual(
      [prefix.allow, prefix.match, prefix.reason, prefix.rule?.uri],
      [false, "prefix", "pattern-blocked", "com.feed.private.x"],
    );
    const text = await ok(["check", "app", "com.feed", "subscribe", "--role", "pat", "--match", "prefix"]);
    assert.match(text, /^deny {2}subscribe com\.feed \(prefix pattern\)/);
    assert.match(text, /rule #\d+ exact "com\.feed\.private\.x" \(role pat\)/);
    assert.equal((await check("com.other.", "subscribe", "--match", "prefix")).allow, true);
    assert.equal((await check("com..x", "subscribe", "--match", "wildcard")).allow, true);
    const reserved = await check("authd.authorize", "register");
    assert.deepEqual([reserved.allow, reserved.reason, reserved.rules], [false, "reserved", []]);
    assert.match(await ok(["check", "app", "wamp.session.kill_by_authrole", "call", "--role", "pat"]), /wamp\. meta namespace/);
    assert.match(await fail(["check", "app", "com.feed", "subscribe", "--role", "pat", "--match", "regex"]), /unknown match "regex"/);
    assert.match(
      await fail(["grants", "add", "app", "pat", "com.home.{user}.", "--match", "prefix", "--allow", "call"]),
      /unknown placeholder "\{user\}"/,
    );
    const loose = await runCli(["grants", "add", "app", "pat", "com.home.{authid}", "--match", "prefix", "--allow", "call"], { env });
    assert.equal(loose.code, 0, loose.stderr);
    assert.match(loose.stderr, /warning: prefix template "com\.home\.\{authid\}" does not end with "\."/);
  });
});
