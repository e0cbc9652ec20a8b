/**
 * The CLI for rules that follow the user: grants of users and groups, denials and time windows,
 * groups and their members (a cycle refused), `check --authid` naming the deciding rule and its
 * source, `export` listing what static permissions cannot express. A real store; the CLI run as
 * operators run it.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { cliEnv, cliOk, runCli } from "../helpers/cli.js";
import { freshStore, type TestStore } from "../helpers/db.js";

describe("CLI: user and group rules, denials, windows, templates", () => {
  let store: TestStore;
  let env: NodeJS.ProcessEnv;
  const ok = (...args: string[]) => cliOk(args, { env });
  const run = (...args: string[]) => runCli(args, { env });
  const fail = async (...args: string[]) => {
    const r = await run(...args);
    assert.equal(r.code, 1, `expected exit 1 for ${args.join(" ")}: ${r.stdout}`);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    return r.stderr.trim();
  };

  before(async () => {
    store = await freshStore();
    env = cliEnv(store.url);
    await ok("realms", "add", "app");
    await ok("roles", "add", "app", "user");
    await ok("grants", "add", "app", "user", "com.app.*", "--allow", "call,subscribe");
    await ok("users", "add", "app", "alice", "--role", "user", "--extra", '{"team":"blue"}');
    await ok("users", "add", "app", "bob", "--role", "user");
  });
  after(async () => store?.close());

  it("grants add --user (the issue's example) and the role form side by side", async () => {
    const out = await ok("grants", "add", "app", "--user", "alice", "com.app.alice.*", "--allow", "all");
    assert.match(out, /added prefix rule "com\.app\.alice\." for user alice in realm app/);
    const rows = JSON.parse(await ok("grants", "list", "app", "--user", "alice", "--json"));
    assert.deepEqual(
      rows.map((r: Record<string, unknown>) => [r.owner_kind, r.owner, r.uri, r.match, r.allow_register, r.role]),
      [["user", "alice", "com.app.alice.", "prefix", true, null]],
    );
    // The role-only form still works, and `grants list app user` still lists role rules only.
    const roleRules = JSON.parse(await ok("grants", "list", "app", "user", "--json"));
    assert.deepEqual(
      roleRules.map((r: Record<string, unknown>) => r.uri),
      ["com.app."],
    );
  });

  it("explicit denials and time windows; grants list shows them; every owner with --all", async () => {
    await ok("groups", "add", "app", "ops");
    const r = await run("grants", "add", "app", "--group", "ops", "com.app.secret", "--deny", "call,publish");
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /never cached by the router \(it is a group rule/);
    await ok("grants", "add", "app", "user", "com.app.promo", "--allow", "call", "--from", "2030-01-01", "--until", "2030-02-01T12:00:00Z");
    const all = JSON.parse(await ok("grants", "list", "app", "--all", "--json"));
    const deny = all.find((x: Record<string, unknown>) => x.uri === "com.app.secret");
    assert.deepEqual([deny.owner_kind, deny.deny_call, deny.deny_publish, deny.allow_call], ["group", true, true, false]);
    const promo = all.find((x: Record<string, unknown>) => x.uri === "com.app.promo");
    assert.deepEqual([promo.valid_from, promo.valid_until], ["2030-01-01T00:00:00.000Z", "2030-02-01T12:00:00.000Z"]);
    const table = await ok("grants", "list", "app", "--all");
    assert.match(table, /group ops\s+exact\s+com\.app\.secret\s+none\s+call,publish/);
    assert.match(table, /2030-01-01T00:00:00\.000Z\.\.2030-02-01T12:00:00\.000Z/);
  });

  it("bad input: one line, exit 1", async () => {
    assert.match(
      await fail("grants", "add", "app", "--user", "alice", "--group", "ops", "x", "--allow", "call"),
      /--user or --group, not both/,
    );
    assert.match(await fail("grants", "add", "app", "--user", "alice", "user", "x", "--allow", "call"), /give <realm> <uri> \(no role\)/);
    assert.match(await fail("grants", "add", "app", "com.x", "--allow", "call"), /<realm> <role> <uri>/);
    assert.match(await fail("grants", "add", "app", "user", "com.x"), /--allow and\/or --deny/);
    assert.match(await fail("grants", "add", "app", "user", "com.x", "--allow", "call", "--deny", "call"), /call both allowed and denied/);
    assert.match(
      await fail("grants", "add", "app", "--user", "alice", "com.x", "--allow", "call", "--cache"),
      /--cache applies to role rules only/,
    );
    assert.match(await fail("grants", "add", "app", "user", "com.x", "--allow", "call", "--from", "tomorrow"), /invalid --from/);
    assert.match(
      await fail("grants", "add", "app", "user", "com.x", "--allow", "call", "--from", "2030-02-01", "--until", "2030-01-01"),
      /--from must be before --until/,
    );
    assert.match(await fail("grants", "add", "app", "--user", "nobody", "com.x", "--allow", "call"), /no user "nobody" in realm "app"/);
    assert.match(await fail("grants", "add", "app", "--group", "nope", "com.x", "--allow", "call"), /no group "nope"/);
    assert.match(await fail("grants", "add", "app", "user", "com.{user}.x", "--allow", "call"), /unknown placeholder/);
    assert.match(await fail("grants", "remove", "app", "--user", "alice", "com.never"), /user "alice" in realm "app" has no exact rule/);
    assert.match(await fail("groups", "add", "app", "Bad Group"), /invalid group name/);
    assert.match(await fail("groups", "add-member", "app", "ops"), /--user <authid> or --group <name>/);
  });

  it("a templated prefix rule without a dot after the placeholder warns; templates are never cached", async () => {
    const r = await run("grants", "add", "app", "user", "com.app.home.{authid}*", "--allow", "call", "--cache");
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /prefix template "com\.app\.home\.\{authid\}" does not end with "\."/);
    assert.match(r.stderr, /--cache has no effect here: .*never cached by the router \(it is a template/);
    await ok("grants", "remove", "app", "user", "com.app.home.{authid}*");
  });

  it("groups: add, nest, members, list; a cycle is refused with a clear error", async () => {
    for (const g of ["g1", "g2", "g3", "g4"]) await ok("groups", "add", "app", g);
    await ok("groups", "add-member", "app", "g2", "--group", "g1");
    await ok("groups", "add-member", "app", "g3", "--group", "g2");
    await ok("groups", "add-member", "app", "g4", "--group", "g3");
    await ok("groups", "add-member", "app", "g1", "--user", "bob");
    assert.match(await ok("groups", "add-member", "app", "g1", "--user", "bob"), /already in/);
    const err = await fail("groups", "add-member", "app", "g1", "--group", "g4");
    assert.match(err, /group cycle: "g1" cannot contain "g4", which already contains "g1"/);
    assert.deepEqual(JSON.parse(await ok("groups", "members", "app", "g2", "--json")), { users: [], groups: ["g1"] });
    assert.deepEqual(JSON.parse(await ok("groups", "members", "app", "g1", "--json")), { users: ["bob"], groups: [] });
    assert.deepEqual(JSON.parse(await ok("users", "show", "app", "bob", "--json")).groups, ["g1"]);
    const list = JSON.parse(await ok("groups", "list", "app", "--json"));
    assert.deepEqual(list.find((g: { name: string }) => g.name === "g1").parents, ["g2"]);
    await ok("grants", "add", "app", "--group", "g4", "com.app.g4.*", "--allow", "publish");
    const c = await ok("check", "app", "com.app.g4.x", "publish", "--authid", "bob");
    assert.match(c, /^allow {2}publish com\.app\.g4\.x/);
    assert.match(c, /rule #\d+ prefix "com\.app\.g4\." \(group g4\)/);
    await ok("groups", "remove-member", "app", "g2", "--group", "g1");
    assert.match(await ok("check", "app", "com.app.g4.x", "publish", "--authid", "bob"), /^deny/);
    assert.match(await fail("groups", "remove-member", "app", "g2", "--group", "g1"), /not a member/);
  });

  it("check --authid names the deciding rule and its source: role, group, user or template; and when it can never be cached", async () => {
    await ok("grants", "add", "app", "user", "com.app.user.{authid}.*", "--allow", "all");
    await ok("groups", "add-member", "app", "ops", "--user", "bob");
    await ok("grants", "add", "app", "user", "com.app.secret", "--allow", "call");
    const t = JSON.parse(await ok("check", "app", "com.app.user.alice.inbox", "call", "--authid", "alice", "--json"));
    assert.deepEqual(
      [t.allow, t.rule.source, t.rule.templateOf, t.rule.template, t.rule.uri],
      [true, "template", "role", "com.app.user.{authid}.", "com.app.user.alice."],
    );
    assert.match(t.uncached, /template rule/);
    const text = await ok("check", "app", "com.app.user.alice.inbox", "call", "--authid", "alice");
    assert.match(text, /\(template "com\.app\.user\.\{authid\}\." of role user\)/);
    assert.match(text, /never cached: decided by a template rule/);
    assert.match(
      await ok("check", "app", "com.app.user.alice.inbox", "call", "--authid", "bob"),
      /^allow .*\n.*\(role user\)/,
      "bob: the role's prefix",
    );
    const u = JSON.parse(await ok("check", "app", "com.app.alice.x", "register", "--authid", "alice", "--json"));
    assert.deepEqual([u.allow, u.rule.source, u.rule.owner], [true, "user", "alice"]);
    const d = await ok("check", "app", "com.app.secret", "call", "--authid", "bob");
    assert.match(d, /^deny/);
    assert.match(d, /\(group ops\) denies call,publish/);
    assert.match(d, /\(role user\)/);
    assert.match(await ok("check", "app", "com.app.secret", "call", "--authid", "alice"), /^allow/);
    const roleOnly = await run("check", "app", "com.app.user.alice.inbox", "register", "--role", "user");
    assert.match(roleOnly.stdout, /^deny/);
    assert.match(roleOnly.stderr, /template rules, which apply per session: give --authid/);
  });

  it("export writes the role rules Crossbar can hold and lists the rest on stderr", async () => {
    await ok("grants", "add", "app", "user", "com.app.blocked", "--deny", "call");
    const r = await run("export", "app", "--json");
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout);
    const uris = doc.realms[0].roles.find((x: { name: string }) => x.name === "user").permissions.map((p: { uri: string }) => p.uri);
    assert.ok(uris.includes("com.app."));
    assert.ok(uris.includes("com.app.blocked"), "a role rule's denial becomes 'not allowed'");
    assert.ok(!uris.includes("com.app.user.{authid}."), "templates are left out");
    assert.ok(!uris.includes("com.app.promo"), "windowed rules are left out");
    assert.match(r.stderr, /not expressible .*user alice: prefix "com\.app\.alice\." .*left out/);
    assert.match(r.stderr, /not expressible .*group ops: exact "com\.app\.secret" allow none deny call,publish: left out/);
    assert.match(r.stderr, /not expressible .*"com\.app\.user\.\{authid\}\." .*a template/);
    assert.match(r.stderr, /not expressible .*"com\.app\.promo" .*time window/);
    assert.match(r.stderr, /not expressible .*"com\.app\.blocked" allow none deny call: exported with the denied actions not allowed/);
  });
});
