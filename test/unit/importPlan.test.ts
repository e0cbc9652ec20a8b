/**
 * planImport on the configs operators actually have: the deploy config (wamp-authd's own privileged
 * transport and authenticator realm) and the layout of Crossbar's docs and examples (authenticator
 * registered in the app realm, reached over a privileged port with a static role). Nothing that
 * would let a client answer logins or authorizations may end up in the plan.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { parse as parseYaml } from "yaml";
import { planImport, type ImportPlan } from "../../src/admin/importCrossbar.js";

const deployConfig = (): unknown => parseYaml(readFileSync("deploy/crossbar/config.yaml", "utf8"));
const why = (plan: ImportPlan) => plan.skipped.map((s) => `${s.where}: ${s.why}`).join("\n");
const warned = (plan: ImportPlan) => plan.warnings.map((s) => `${s.where}: ${s.why}`).join("\n");
const roleNames = (plan: ImportPlan) => plan.realms.map((r) => [r.name, r.roles.map((x) => x.name), r.anonymousRole]);

/** Crossbar docs / crossbar-examples style: everything in realm1, the authenticator a client on port 8081. */
function docsLayout(): Record<string, unknown> {
  const allow = (a: Record<string, boolean>) => ({ call: false, register: false, publish: false, subscribe: false, ...a });
  return {
    version: 2,
    workers: [
      {
        type: "router",
        realms: [
          {
            name: "realm1",
            roles: [
              {
                name: "authenticator",
                permissions: [{ uri: "com.example.authenticate", match: "exact", allow: allow({ register: true }), cache: true }],
              },
              { name: "backend", permissions: [{ uri: "", match: "prefix", allow: allow({ call: true, register: true, publish: true }) }] },
              {
                name: "frontend",
                permissions: [
                  { uri: "com.example.add2", match: "exact", allow: allow({ call: true }) },
                  { uri: "com.example.", match: "prefix", allow: allow({ publish: true }) },
                ],
              },
            ],
          },
        ],
        transports: [
          {
            type: "web",
            endpoint: { type: "tcp", port: 8080 },
            paths: { ws: { type: "websocket", auth: { ticket: { type: "dynamic", authenticator: "com.example.authenticate" } } } },
          },
          {
            type: "websocket",
            endpoint: { type: "tcp", port: 8081, interface: "127.0.0.1" },
            auth: {
              anonymous: { type: "static", role: "authenticator" },
              ticket: {
                type: "static",
                principals: {
                  auth1: { ticket: "auth1-ticket", role: "authenticator" },
                  fe1: { ticket: "fe1-ticket", role: "frontend", realm: "realm1" },
                },
              },
            },
          },
        ],
      },
    ],
  };
}

describe("planImport: deploy/crossbar/config.yaml", () => {
  it("imports neither the authenticator realm, nor the service's role, nor the privileged transport's anonymous role", () => {
    const plan = planImport(deployConfig());
    assert.deepEqual(roleNames(plan), [["demo", [], null]]);
    assert.deepEqual(plan.users, []);
    const w = why(plan);
    assert.match(w, /workers\[0\]\.realms\[0\]: realm "authd" is the authenticator realm \(named as authenticator-realm/);
    assert.match(
      w,
      /workers\[0\]\.realms\[1\]\.roles\[0\]: role "authd" may register authd\.authorize, authd\.tokens: it is the authenticator's\/authorizer's own role/,
    );
    assert.match(
      w,
      /workers\[0\]\.transports\[0\]\.auth\.anonymous: a transport's static anonymous role \("authd"\) is not made a realm's anonymous policy.*--anonymous-from-transports/,
    );
  });

  it("--anonymous-from-transports still never makes the service's role anyone's anonymous role", () => {
    const plan = planImport(deployConfig(), { anonymousFromTransports: true });
    assert.ok(plan.realms.every((r) => r.anonymousRole === null));
    assert.match(why(plan), /transports\[0\]\.auth\.anonymous: anonymous role "authd" is the service's own role in realm "demo"/);
    assert.equal(
      plan.realms.some((r) => r.name === "authd"),
      false,
    );
  });

  it("the realm in wamp-authd's router.authRealm is skipped even when no dynamic method names it", () => {
    const cfg = deployConfig() as { workers: Array<{ realms: Array<{ name: string }> }> };
    cfg.workers[0]!.realms[0]!.name = "auth_realm_2";
    const plan = planImport(cfg, {
      service: { authRealm: "demo", authenticate: "authd.authenticate", authorize: "authd.authorize", userPrefix: "authd.tokens." },
    });
    // "demo" is skipped whole; in "auth_realm_2" (named nowhere) the service's role is still left out.
    assert.deepEqual(roleNames(plan), [["auth_realm_2", [], null]]);
    assert.match(why(plan), /realm "demo" is the authenticator realm \(wamp-authd's router\.authRealm/);
  });

  it("custom procedure URIs from wamp-authd's config decide which role is the service's", () => {
    const cfg = {
      version: 2,
      workers: [
        {
          type: "router",
          realms: [
            {
              name: "app",
              roles: [
                { name: "svc", permissions: [{ uri: "acme.auth.", match: "prefix", allow: { register: true } }] },
                { name: "wild", permissions: [{ uri: "acme..check", match: "wildcard", allow: { register: true } }] },
                { name: "sub", permissions: [{ uri: "acme.auth.login.ticket", match: "exact", allow: { register: true } }] },
                { name: "caller", permissions: [{ uri: "acme.auth.login", match: "exact", allow: { call: true } }] },
                { name: "app", permissions: [{ uri: "com.acme.", match: "prefix", allow: { register: true } }] },
                // The authorizer other roles name is the service's procedure too.
                { name: "audited", authorizer: "com.acme.authz.check" },
                { name: "authz", permissions: [{ uri: "com.acme.authz.check", match: "exact", allow: { register: true } }] },
                // Registering under the user-facing prefix would hand out fake device tickets.
                { name: "tok", permissions: [{ uri: "acme.tokens.issue", match: "exact", allow: { register: true } }] },
              ],
            },
          ],
        },
      ],
    };
    const plan = planImport(cfg, {
      service: { authRealm: "authd", authenticate: "acme.auth.login", authorize: "acme.authz.check", userPrefix: "acme.tokens." },
    });
    assert.deepEqual(roleNames(plan), [["app", ["caller"], null]]);
    const w = why(plan);
    assert.match(w, /role "app" may register com\.acme\.authz\.check:/);
    assert.match(w, /role "authz" may register com\.acme\.authz\.check:/);
    assert.match(w, /role "svc" may register acme\.auth\.login:/);
    assert.match(w, /role "wild" may register acme\.authz\.check/);
    // wamp-authd also registers <authenticate>.<method>.
    assert.match(w, /role "sub" may register acme\.auth\.login:/);
    assert.match(w, /role "tok" may register acme\.tokens/);
  });
});

describe("planImport: the Crossbar-docs layout (authenticator in the app realm, privileged port)", () => {
  it("imports the app role, skips the authenticator's role, every role that may register it, and their principals", () => {
    const plan = planImport(docsLayout());
    assert.deepEqual(roleNames(plan), [["realm1", ["frontend"], null]]);
    assert.deepEqual(
      plan.users.map((u) => [u.realm, u.authid, u.role]),
      [["realm1", "fe1", "frontend"]],
    );
    const w = why(plan);
    assert.match(w, /roles\[0\]: role "authenticator" may register com\.example\.authenticate/);
    // A role allowed to register everything may register the authenticator too.
    assert.match(
      w,
      /roles\[1\]: role "backend" may register authd\.authenticate, authd\.authorize, authd\.tokens, com\.example\.authenticate/,
    );
    assert.match(w, /transports\[1\]\.auth\.anonymous: a transport's static anonymous role \("authenticator"\)/);
    assert.match(w, /principals\.auth1: principal "auth1" has the service's own role "authenticator"/);
  });

  it("with --anonymous-from-transports the privileged port's role still is not the realm's anonymous role", () => {
    const plan = planImport(docsLayout(), { anonymousFromTransports: true });
    assert.equal(plan.realms[0]!.anonymousRole, null);
    assert.match(why(plan), /anonymous role "authenticator" is the service's own role in realm "realm1"/);
  });

  it("router.authRealm = the app realm: imported as an app realm (Crossbar calls the authenticator there), with a warning", () => {
    const plan = planImport(docsLayout(), {
      service: {
        authRealm: "realm1",
        authenticate: "com.example.authenticate",
        authorize: "com.example.authorize",
        userPrefix: "com.example.tokens.",
      },
    });
    assert.deepEqual(roleNames(plan), [["realm1", ["frontend"], null]]);
    assert.match(warned(plan), /realm "realm1" is wamp-authd's router\.authRealm but dynamic auth here has no authenticator-realm/);
  });

  it("an app role a transport assigns statically is the realm's anonymous role only with the flag", () => {
    const cfg = docsLayout() as { workers: Array<{ transports: Array<{ auth?: Record<string, unknown> }> }> };
    cfg.workers[0]!.transports.push({ auth: { anonymous: { type: "static", role: "frontend" } } });
    assert.equal(planImport(cfg).realms[0]!.anonymousRole, null);
    assert.equal(planImport(cfg, { anonymousFromTransports: true }).realms[0]!.anonymousRole, "frontend");
  });
});

describe("planImport: matcher differences and CRA secrets", () => {
  const oneRole = (permissions: unknown[], auth: Record<string, unknown> = {}) => ({
    version: 2,
    workers: [
      { type: "router", realms: [{ name: "app", roles: [{ name: "r", permissions }] }], transports: [{ type: "websocket", auth }] },
    ],
  });

  it("warns about an exact and a prefix rule on the same URI (Crossbar keeps only the last) and still imports both", () => {
    const plan = planImport(
      oneRole([
        { uri: "com.example.", match: "prefix", allow: { call: true } },
        { uri: "com.example.", match: "exact", allow: { call: true } },
        { uri: "com.other.*", allow: { call: true } },
        { uri: "com.other.", match: "exact", allow: { subscribe: true } },
        { uri: "com.same", match: "exact", allow: { call: true } },
      ]),
    );
    assert.equal(plan.realms[0]!.roles[0]!.rules.length, 5);
    const w = warned(plan);
    assert.match(
      w,
      /permissions\[0\], .*permissions\[1\]: "com\.example\." has an exact and a prefix rule: Crossbar keeps only the last of them \(exact\)/,
    );
    assert.match(w, /"com\.other\." has an exact and a prefix rule: Crossbar keeps only the last of them \(exact\)/);
    assert.equal(plan.warnings.length, 2);
  });

  it("warns about wildcard rules with components Crossbar's pattern refuses (it never matches them)", () => {
    const plan = planImport(
      oneRole([
        { uri: "com.App..get", match: "wildcard", allow: { call: true } },
        { uri: "com._x.*.get", allow: { call: true } },
        { uri: "com.my-app..get", match: "wildcard", allow: { call: true } },
        { uri: "com.Upper.exact", match: "exact", allow: { call: true } },
      ]),
    );
    assert.equal(plan.realms[0]!.roles[0]!.rules.length, 4);
    const w = warned(plan);
    assert.match(w, /permissions\[0\]: wildcard rule "com\.App\.\.get": Crossbar never matches a wildcard with the component "App"/);
    assert.match(w, /permissions\[1\]: wildcard rule "com\._x\.\.get": .*"_x"/);
    assert.equal(plan.warnings.length, 2, "hyphens are fine, and exact rules are not patterns");
  });

  it("--cra-derived-secrets marks salted wampcra secrets as derived keys; warns when one does not look like a key", () => {
    const auth = {
      wampcra: {
        type: "static",
        users: {
          peter: { secret: "prq7+YkJ1/KlW1X0YczMHw==", role: "r", salt: "salt123", iterations: 100, keylen: 16 },
          paul: { secret: "not-a-key", role: "r", salt: "s", iterations: 10, keylen: 32 },
          mary: { secret: "unsalted", role: "r" },
          bad: { secret: "x", role: "r", salt: "s", iterations: "many", keylen: 16 },
        },
      },
    };
    const plan = planImport(oneRole([], auth), { craDerivedSecrets: true });
    assert.deepEqual(
      plan.users.map((u) => [u.authid, u.credentials[0]]),
      [
        ["peter", { method: "wampcra", secret: "prq7+YkJ1/KlW1X0YczMHw==", salt: "salt123", iterations: 100, keylen: 16, derived: true }],
        ["paul", { method: "wampcra", secret: "not-a-key", salt: "s", iterations: 10, keylen: 32, derived: true }],
        ["mary", { method: "wampcra", secret: "unsalted" }],
      ],
    );
    assert.match(warned(plan), /users\.paul: --cra-derived-secrets: the secret is not base64 of 32 bytes/);
    assert.match(why(plan), /users\.bad: iterations must be an integer/);

    const plain = planImport(oneRole([], auth));
    assert.equal(plain.users[0]!.credentials[0]!.method === "wampcra" && plain.users[0]!.credentials[0]!.derived, undefined);
    assert.match(warned(plain), /users\.peter: the secret looks like a PBKDF2-derived key .* import with --cra-derived-secrets/);
    assert.doesNotMatch(warned(plain), /users\.paul/);
  });
});
