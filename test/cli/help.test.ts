import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { cliEnv, runCli } from "../helpers/cli.js";

// No database is touched: --help must work without one.
const env = cliEnv("postgres://nobody@127.0.0.1:1/none");

const COMMANDS = [
  [],
  ["migrate"],
  ["serve"],
  ["realms"],
  ["realms", "add"],
  ["realms", "list"],
  ["realms", "remove"],
  ["realms", "anonymous"],
  ["roles"],
  ["roles", "add"],
  ["roles", "list"],
  ["roles", "remove"],
  ["grants"],
  ["grants", "add"],
  ["grants", "remove"],
  ["grants", "list"],
  ["groups"],
  ...["add", "remove", "list", "members", "add-member", "remove-member"].map((c) => ["groups", c]),
  ["users"],
  ...["add", "list", "show", "set-role", "set-extra", "disable", "enable", "remove", "passwd"].map((c) => ["users", c]),
  ["keys"],
  ["keys", "add"],
  ["keys", "list"],
  ["keys", "revoke"],
  ["tls"],
  ["tls", "bind"],
  ["tls", "unbind"],
  ["tls", "list"],
  ["check"],
  ["hash-password"],
  ["import-crossbar"],
  ["export"],
  ["audit"],
];

describe("wamp-authd --help", () => {
  for (const path of COMMANDS) {
    it(`${["wamp-authd", ...path].join(" ")} --help exits 0 with usage`, async () => {
      const r = await runCli([...path, "--help"], { env });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^Usage: wamp-authd/);
      assert.equal(r.stderr, "");
    });
  }

  it("an unknown command is one line on stderr and exit 1", async () => {
    const r = await runCli(["frobnicate"], { env });
    assert.equal(r.code, 1);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
  });
});
