/**
 * `import-crossbar` gives the same allow/deny answers as the static config does in Crossbar:
 * the table is measured once against Crossbar running the static config, once against Crossbar
 * with wamp-authd serving the imported store.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { stringify } from "yaml";
import { planImport } from "../../src/admin/importCrossbar.js";
import type { Action } from "../../src/authorize/rules.js";
import { startCrossbar } from "../../devstack/crossbarProcess.js";
import { freePort } from "../../devstack/ports.js";
import { ticketLogin } from "../helpers/client.js";
import { cliEnv, cliOk } from "../helpers/cli.js";
import { startStack, type Stack } from "../helpers/stack.js";
import { removeTempDir, tempDir } from "../../devstack/tempDirs.js";

const ROLES = [
  {
    name: "frontend",
    permissions: [
      { uri: "com.example.public.*", allow: { call: true, subscribe: true } },
      { uri: "com.example.*.status", allow: { subscribe: true } },
      { uri: "com.example.profile.get", match: "exact", allow: { call: true }, disclose: { caller: true } },
      { uri: "com.example.chat.", match: "prefix", allow: { publish: true, subscribe: true }, disclose: { publisher: true }, cache: true },
    ],
  },
  {
    name: "backend",
    permissions: [
      {
        uri: "com.example.",
        match: "prefix",
        allow: { call: true, register: true, publish: true, subscribe: true },
        disclose: { caller: true, publisher: true },
      },
      { uri: "com.example.admin.", match: "prefix", allow: { call: true } },
      { uri: "com.example.admin.shutdown", match: "exact", allow: {} },
      { uri: "com.example..status", match: "wildcard", allow: { subscribe: true, publish: true } },
    ],
  },
];

const PRINCIPALS = {
  fe1: { ticket: "fe1-secret", role: "frontend" },
  be1: { ticket: "be1-secret", role: "backend" },
};

function staticConfig(wsPort: number): Record<string, unknown> {
  return {
    version: 2,
    controller: {},
    workers: [
      {
        type: "router",
        realms: [{ name: "app", roles: ROLES }],
        transports: [
          {
            type: "web",
            endpoint: { type: "tcp", port: wsPort, interface: "127.0.0.1" },
            paths: { ws: { type: "websocket", serializers: ["json"], auth: { ticket: { type: "static", principals: PRINCIPALS } } } },
          },
        ],
      },
    ],
  };
}

const URIS = [
  "com.example.public.news",
  "com.example.public",
  "com.example.public.status",
  "com.example.sensor.status",
  "com.example.sensor.temp",
  "com.example.profile.get",
  "com.example.profile.get.more",
  "com.example.chat.room1",
  "com.example.admin.reboot",
  "com.example.admin.shutdown",
  "com.example.admin.status",
  "com.example.anything",
  "org.other.thing",
];
const ACTIONS: Action[] = ["call", "register", "publish", "subscribe"];
const NOT_AUTHORIZED = "wamp.error.not_authorized";

function errorUri(err: unknown): string {
  return String((err as { error?: unknown }).error ?? err);
}

/** One row per (user, uri, action): "allow" or "deny", observed by a real client. */
async function measure(url: string): Promise<Record<string, string>> {
  const table: Record<string, string> = {};
  for (const [authid, p] of Object.entries(PRINCIPALS)) {
    const c = await ticketLogin(url, "app", authid, p.ticket);
    try {
      const s = c.session;
      for (const uri of URIS) {
        for (const action of ACTIONS) {
          let outcome: string;
          try {
            if (action === "call") {
              try {
                await s.call(uri);
              } catch (err) {
                // Authorized but nobody registered: the router got past the authorizer.
                if (errorUri(err) !== "wamp.error.no_such_procedure") throw err;
              }
            } else if (action === "register") {
              await s.unregister(await s.register(uri, () => null));
            } else if (action === "publish") {
              await s.publish(uri, [], {}, { acknowledge: true });
            } else {
              await s.unsubscribe(await s.subscribe(uri, () => undefined));
            }
            outcome = "allow";
          } catch (err) {
            const e = errorUri(err);
            if (e !== NOT_AUTHORIZED) throw new Error(`${authid} ${action} ${uri}: unexpected ${e}`, { cause: err });
            outcome = "deny";
          }
          table[`${authid} ${action} ${uri}`] = outcome;
        }
      }
    } finally {
      c.close();
    }
  }
  return table;
}

describe("import-crossbar reproduces a static Crossbar config", () => {
  let stack: Stack | null = null;
  let dir: string | null = null;
  after(async () => {
    await stack?.stop();
    if (dir) await removeTempDir(dir);
  });

  it("the imported store answers the table exactly as the static config does", async () => {
    // 1. Crossbar alone with the static config.
    const wsPort = await freePort();
    const config = staticConfig(wsPort);
    const cb = await startCrossbar(config);
    let expected: Record<string, string>;
    try {
      expected = await measure(`ws://127.0.0.1:${wsPort}/ws`);
    } finally {
      await cb.stop();
    }
    const allows = Object.values(expected).filter((v) => v === "allow").length;
    assert.ok(allows > 10 && allows < Object.keys(expected).length - 10, "the table mixes allows and denies");

    // 2. The same config imported (as YAML) into the store, served by wamp-authd.
    stack = await startStack({ realms: { app: ROLES.map((r) => r.name) } });
    dir = tempDir("import");
    const file = join(dir, "crossbar.yaml");
    writeFileSync(file, stringify(config));
    const out = JSON.parse(await cliOk(["import-crossbar", file, "--apply", "--json"], { env: cliEnv(stack.store.url) }));
    assert.equal(out.applied, true);
    assert.deepEqual(out.plan.skipped, []);
    assert.deepEqual(out.result, { realmsCreated: 1, rolesCreated: 2, rules: 8, usersCreated: 2, usersExisting: [] });
    const s = stack.service!;
    const deadline = Date.now() + 10000;
    while (!s.permissionIndex.hasRole("app", "backend") || s.permissionIndex.ruleCount < 8) {
      if (Date.now() > deadline) throw new Error("the import did not reach the service");
      await new Promise((r) => setTimeout(r, 50));
    }
    const actual = await measure(stack.wsUrl);
    assert.deepEqual(actual, expected);
  });

  it("reports what it cannot import and plans principals of every static method", () => {
    const config = {
      version: 2,
      workers: [
        { type: "container" },
        {
          type: "router",
          realms: [
            {
              name: "app",
              roles: [...ROLES, { name: "audited", authorizer: "org.example.authorize" }, { name: "trusted", permissions: [] }],
            },
          ],
          transports: [
            {
              type: "universal",
              websocket: {
                ws: {
                  auth: {
                    ticket: { type: "dynamic", authenticator: "org.example.auth" },
                    wampcra: {
                      type: "static",
                      users: { cra1: { secret: "s3cr3t", role: "frontend", salt: "salt123", iterations: 100, keylen: 32 } },
                    },
                    cryptosign: {
                      type: "static",
                      principals: { cs1: { realm: "app", role: "backend", authorized_keys: ["AB".repeat(32), "nope"] } },
                    },
                    scram: {
                      type: "static",
                      principals: {
                        sc1: {
                          kdf: "argon2id-13",
                          iterations: 4096,
                          memory: 512,
                          salt: "00".repeat(16),
                          "stored-key": "11".repeat(32),
                          "server-key": "22".repeat(32),
                          role: "frontend",
                        },
                        sc2: { kdf: "pbkdf2", role: "frontend" },
                      },
                    },
                    cookie: { store: { type: "memory" } },
                    tls: { type: "static", role: "backend" },
                    anonymous: { type: "static", role: "frontend" },
                  },
                },
              },
            },
          ],
        },
      ],
    };
    const plan = planImport(config, { anonymousFromTransports: true });
    const why = plan.skipped.map((s) => `${s.where}: ${s.why}`).join("\n");
    assert.match(why, /workers\[0\]: .*not a router/);
    assert.match(why, /dynamic authorizer/);
    assert.match(why, /roles\[3\]: role name "trusted"/);
    assert.match(why, /auth\.ticket: ticket is dynamic/);
    assert.match(why, /auth\.cookie: cookie authentication cannot be imported/);
    assert.match(why, /auth\.tls: tls authentication cannot be imported/);
    assert.match(why, /principals\.sc2: not an argon2id-13 SCRAM principal/);
    assert.match(why, /principals\.cs1: some authorized_keys/);
    assert.deepEqual(
      plan.users.map((u) => [u.authid, u.role, u.credentials.map((c) => c.method)]),
      [
        ["cra1", "frontend", ["wampcra"]],
        ["cs1", "backend", ["cryptosign"]],
        ["sc1", "frontend", ["scram"]],
      ],
    );
    assert.equal(plan.realms[0]!.anonymousRole, "frontend");
    // Without the flag a transport's anonymous role is never a realm's anonymous policy.
    const strict = planImport(config);
    assert.equal(strict.realms[0]!.anonymousRole, null);
    assert.match(
      strict.skipped.map((s) => s.why).join("\n"),
      /static anonymous role \("frontend"\) is not made a realm's anonymous policy/,
    );
    assert.deepEqual(
      plan.realms[0]!.roles.map((r) => r.name),
      ["frontend", "backend"],
    );
  });
});

/**
 * Where wamp-authd answers differently from Crossbar's static matcher on purpose, measured on both:
 * (a) an exact and a prefix rule on the same URI (Crossbar keeps only the last one),
 * (b) a wildcard rule with a component autobahn's Pattern refuses (Crossbar never matches it),
 * (c) request URIs longer than 512 characters (wamp-authd denies them).
 * The import still takes every rule and warns about (a) and (b).
 */
describe("matcher differences from Crossbar's static permissions", () => {
  let stack: Stack | null = null;
  let dir: string | null = null;
  after(async () => {
    await stack?.stop();
    if (dir) await removeTempDir(dir);
  });

  const PROBE = [
    // (a) prefix first, exact last: Crossbar keeps the exact rule, so longer URIs fall to its default deny.
    { uri: "com.a.get", match: "prefix", allow: { call: true } },
    { uri: "com.a.get", match: "exact", allow: { call: true } },
    // (a) exact first, prefix last: Crossbar keeps the prefix rule, which does not allow call.
    { uri: "com.b.get", match: "exact", allow: { call: true } },
    { uri: "com.b.get", match: "prefix", allow: { subscribe: true } },
    // (b) components outside [a-z0-9][a-z0-9_-]*; a hyphen is fine in both.
    { uri: "com.C..get", match: "wildcard", allow: { call: true } },
    { uri: "com._c..get", match: "wildcard", allow: { call: true } },
    { uri: "com.c-d..get", match: "wildcard", allow: { call: true } },
    // (c)
    { uri: "org.", match: "prefix", allow: { call: true } },
  ];
  const LONG = `org.${"x".repeat(509)}`; // 513 characters
  const CALLS = ["com.a.get", "com.a.get.more", "com.b.get", "com.C.x.get", "com._c.x.get", "com.c-d.x.get", "org.ok", LONG];

  async function callTable(url: string): Promise<Record<string, string>> {
    const c = await ticketLogin(url, "diff", "p1", "p1-secret");
    const out: Record<string, string> = {};
    try {
      for (const uri of CALLS) {
        try {
          await c.session.call(uri);
          out[uri] = "allow";
        } catch (err) {
          const e = errorUri(err);
          if (e === "wamp.error.no_such_procedure") out[uri] = "allow";
          else if (e === NOT_AUTHORIZED) out[uri] = "deny";
          else throw new Error(`call ${uri.slice(0, 40)}: unexpected ${e}`, { cause: err });
        }
      }
    } finally {
      c.close();
    }
    return out;
  }

  it("Crossbar and wamp-authd differ exactly on (a), (b) and (c); the import warns about (a) and (b)", async () => {
    const wsPort = await freePort();
    const config = {
      version: 2,
      controller: {},
      workers: [
        {
          type: "router",
          realms: [{ name: "diff", roles: [{ name: "probe", permissions: PROBE }] }],
          transports: [
            {
              type: "web",
              endpoint: { type: "tcp", port: wsPort, interface: "127.0.0.1" },
              paths: {
                ws: {
                  type: "websocket",
                  serializers: ["json"],
                  auth: { ticket: { type: "static", principals: { p1: { ticket: "p1-secret", role: "probe" } } } },
                },
              },
            },
          ],
        },
      ],
    };
    const cb = await startCrossbar(config);
    let crossbar: Record<string, string>;
    try {
      crossbar = await callTable(`ws://127.0.0.1:${wsPort}/ws`);
    } finally {
      await cb.stop();
    }

    stack = await startStack({ realms: { diff: ["probe"] } });
    dir = tempDir("import-diff");
    const file = join(dir, "crossbar.json");
    writeFileSync(file, JSON.stringify(config));
    const out = JSON.parse(await cliOk(["import-crossbar", file, "--apply", "--json"], { env: cliEnv(stack.store.url) })) as {
      plan: { warnings: Array<{ where: string; why: string }>; skipped: unknown[] };
      result: { rules: number };
    };
    assert.deepEqual(out.plan.skipped, []);
    assert.equal(out.result.rules, PROBE.length);
    const warnings = out.plan.warnings.map((w) => `${w.where}: ${w.why}`).join("\n");
    assert.match(
      warnings,
      /permissions\[0\], .*permissions\[1\]: "com\.a\.get" has an exact and a prefix rule: Crossbar keeps only the last of them \(exact\)/,
    );
    assert.match(
      warnings,
      /permissions\[2\], .*permissions\[3\]: "com\.b\.get" has an exact and a prefix rule: Crossbar keeps only the last of them \(prefix\)/,
    );
    assert.match(warnings, /permissions\[4\]: wildcard rule "com\.C\.\.get": Crossbar never matches/);
    assert.match(warnings, /permissions\[5\]: wildcard rule "com\._c\.\.get": Crossbar never matches/);
    assert.equal(out.plan.warnings.length, 4);

    const s = stack.service!;
    const deadline = Date.now() + 10000;
    while (!s.permissionIndex.hasRole("diff", "probe") || s.permissionIndex.ruleCount < PROBE.length) {
      if (Date.now() > deadline) throw new Error("the import did not reach the service");
      await new Promise((r) => setTimeout(r, 50));
    }
    const authd = await callTable(stack.wsUrl);
    assert.deepEqual(crossbar, {
      "com.a.get": "allow",
      "com.a.get.more": "deny",
      "com.b.get": "deny",
      "com.C.x.get": "deny",
      "com._c.x.get": "deny",
      "com.c-d.x.get": "allow",
      "org.ok": "allow",
      [LONG]: "allow",
    });
    assert.deepEqual(authd, {
      ...crossbar,
      "com.a.get.more": "allow",
      "com.b.get": "allow",
      "com.C.x.get": "allow",
      "com._c.x.get": "allow",
      [LONG]: "deny",
    });
  });
});
