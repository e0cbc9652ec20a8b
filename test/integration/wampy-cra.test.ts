/**
 * wampy (PyPI) over WAMP-CRA, with the router config wampy documents (written for Crossbar <= 23.1):
 * the static user's `secret` is the PBKDF2 key of password secret1 / salt salt123 / 100 iterations /
 * keylen 16, and wampy clients put that same string in WAMPYSECRET. wampy signs the challenge with
 * it as given and never derives from the CHALLENGE's salt.
 *
 * realm1 is imported with --cra-derived-secrets, realm2 (same users) without it. All logins go
 * through a real Crossbar 26.10.1 whose wampcra is delegated to wamp-authd.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { stringify } from "yaml";
import autobahn from "autobahn";
import { abortOf as jsAbortOf, connect, type Joined } from "../helpers/client.js";
import { cliEnv, cliOk } from "../helpers/cli.js";
import { abortOf, welcomeOf } from "../helpers/pyClient.js";
import { startStack, type Stack } from "../helpers/stack.js";
import { wampyLogin } from "../helpers/wampyClient.js";

const DERIVED = "prq7+YkJ1/KlW1X0YczMHw=="; // base64(PBKDF2-SHA256("secret1", "salt123", 100, 16))

/** The shape of wampy's documented static-auth router config, for one realm. */
function wampyConfig(realm: string): Record<string, unknown> {
  return {
    version: 2,
    workers: [
      {
        type: "router",
        realms: [
          {
            name: realm,
            roles: [
              {
                name: "wampy",
                permissions: [
                  { uri: "com.example.get_foo", match: "exact", allow: { call: true }, cache: true },
                  { uri: "com.example.", match: "prefix", allow: { publish: true }, cache: true },
                ],
              },
            ],
          },
        ],
        transports: [
          {
            type: "websocket",
            endpoint: { type: "tcp", port: 8080, interface: "localhost" },
            auth: {
              wampcra: {
                type: "static",
                users: {
                  joe: { secret: "secret2", role: "wampy" },
                  peter: { secret: DERIVED, role: "wampy", salt: "salt123", iterations: 100, keylen: 16 },
                },
              },
              anonymous: { type: "static", role: "wampy" },
            },
          },
        ],
      },
    ],
  };
}

/** autobahn-js as its docs show: derive the key when the CHALLENGE carries salt parameters, else sign with the secret. */
function autobahnCra(url: string, realm: string, authid: string, secret: string): Promise<Joined> {
  return connect({
    url,
    realm,
    authmethods: ["wampcra"],
    authid,
    onchallenge: (_s, _method, extra) => {
      const key =
        typeof extra.salt === "string"
          ? autobahn.auth_cra.derive_key(secret, extra.salt, extra.iterations as number, extra.keylen as number)
          : secret;
      return autobahn.auth_cra.sign(key, extra.challenge as string);
    },
  });
}

describe("wampy (PyPI) WAMP-CRA with wampy's documented config, imported with --cra-derived-secrets", () => {
  let stack: Stack;
  let dir: string;
  const craKey = `wampy-test:${randomBytes(32).toString("hex")}`;

  before(async () => {
    stack = await startStack({
      realms: { realm1: ["wampy"], realm2: ["wampy"] },
      methods: ["wampcra"],
      service: { cra: { key: craKey, secretMode: "plain" }, throttle: { enabled: false } },
    });
    dir = mkdtempSync(join(tmpdir(), "authd-wampy-"));
    const env = cliEnv(stack.store.url, { AUTHD_CRA_KEY: craKey });
    for (const [realm, flags] of [
      ["realm1", ["--cra-derived-secrets"]],
      ["realm2", []],
    ] as const) {
      const file = join(dir, `${realm}.yaml`);
      writeFileSync(file, stringify(wampyConfig(realm)));
      const out = JSON.parse(await cliOk(["import-crossbar", file, "--apply", "--json", ...flags], { env })) as {
        plan: { users: Array<{ authid: string; wampcra_derived_key?: boolean }>; warnings: Array<{ where: string; why: string }> };
        result: { usersCreated: number };
      };
      assert.equal(out.result.usersCreated, 2);
      const peter = out.plan.users.find((u) => u.authid === "peter");
      if (flags.length > 0) {
        assert.equal(peter?.wampcra_derived_key, true);
        assert.deepEqual(out.plan.warnings, []);
      } else {
        assert.equal(peter?.wampcra_derived_key, undefined);
        // Without the flag the import says what it suspects.
        assert.match(out.plan.warnings.map((w) => w.why).join("\n"), /looks like a PBKDF2-derived key.*--cra-derived-secrets/);
      }
    }
  });

  after(async () => {
    await stack?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("a wampy client with WAMPYSECRET = the documented derived key logs in; a wrong secret or the password does not", async () => {
    const ok = welcomeOf(await wampyLogin({ url: stack.wsUrl, realm: "realm1", authmethod: "wampcra", authid: "peter", secret: DERIVED }));
    assert.equal(ok.authid, "peter");
    assert.equal(ok.authrole, "wampy");
    assert.equal(ok.authmethod, "wampcra");
    assert.equal(ok.authprovider, "dynamic");
    assert.equal(ok.realm, "realm1");

    for (const secret of ["wrong", "secret1", "LG5/FwnS5WvgmlEyLPk/pQ=="]) {
      const denied = abortOf(await wampyLogin({ url: stack.wsUrl, realm: "realm1", authmethod: "wampcra", authid: "peter", secret }));
      assert.equal(denied.abort, "wamp.error.not_authorized", `WAMPYSECRET=${secret}`);
    }
    // Unsalted users are unaffected by the flag.
    assert.equal(
      welcomeOf(await wampyLogin({ url: stack.wsUrl, realm: "realm1", authmethod: "wampcra", authid: "joe", secret: "secret2" })).authid,
      "joe",
    );
    // Unknown users get a decoy CHALLENGE (wamp-authd) and then the router's wrong-signature ABORT.
    const unknown = abortOf(
      await wampyLogin({ url: stack.wsUrl, realm: "realm1", authmethod: "wampcra", authid: "nobody", secret: DERIVED }),
    );
    assert.equal(unknown.abort, "wamp.error.not_authorized");
  });

  it("imported without the flag, the same wampy client is refused: Crossbar >= 25.12 derives the key again", async () => {
    const r = abortOf(await wampyLogin({ url: stack.wsUrl, realm: "realm2", authmethod: "wampcra", authid: "peter", secret: DERIVED }));
    assert.equal(r.abort, "wamp.error.not_authorized");
    // There the CHALLENGE carries the salt and a deriving client gets in with that string as its password:
    // wampy does not derive, which is why it is refused.
    const js = await autobahnCra(stack.wsUrl, "realm2", "peter", DERIVED);
    assert.equal(js.welcome.authrole, "wampy");
    js.close();
  });

  it("clients that derive the key themselves: the CHALLENGE carries no salt, so they must sign with the derived key", async () => {
    // autobahn-js with the password: no salt in the CHALLENGE, so it signs with "secret1" itself and is refused.
    const refused = await jsAbortOf(autobahnCra(stack.wsUrl, "realm1", "peter", "secret1"), "autobahn-js with the password");
    assert.equal(refused.reason, "wamp.error.not_authorized");
    // Given the derived key (or deriving it with the salt parameters it knows), it logs in.
    const key = autobahn.auth_cra.derive_key("secret1", "salt123", 100, 16);
    assert.equal(key, DERIVED);
    const js = await autobahnCra(stack.wsUrl, "realm1", "peter", key);
    assert.equal(js.welcome.authid, "peter");
    js.close();
  });
});
