import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { autobahn } from "../../src/router/wamp.js";
import { ticketLogin } from "../helpers/client.js";
import { seedAlice } from "../helpers/seed.js";
import { startStack, type Stack } from "../helpers/stack.js";
import { removeTempDir, tempDir } from "../../devstack/tempDirs.js";

const SEED = "11".repeat(32);

/**
 * wamp-authd's own login on the privileged transport: besides anonymous (the default, used by every
 * other test), a ticket or a cryptosign key from a file, against Crossbar static principals.
 */
describe("wamp-authd logs in to the router with ticket or cryptosign", () => {
  let stack: Stack;
  let socketPath: string;
  let keyFile: string;
  let dir: string;

  before(async () => {
    const pubkey = Buffer.from(autobahn.nacl.sign.keyPair.fromSeed(Buffer.from(SEED, "hex")).publicKey).toString("hex");
    dir = tempDir("login");
    socketPath = join(dir, "static.sock");
    keyFile = join(dir, "authd.key");
    writeFileSync(keyFile, `${SEED}\n`, { mode: 0o600 });
    stack = await startStack({
      realms: { app: ["user"] },
      crossbar: {
        extraTransports: [
          {
            type: "rawsocket",
            endpoint: { type: "unix", path: socketPath },
            serializers: ["json"],
            auth: {
              ticket: { type: "static", principals: { "svc-ticket": { ticket: "svc-secret", role: "authd" } } },
              cryptosign: { type: "static", principals: { "svc-key": { role: "authd", authorized_keys: [pubkey] } } },
            },
          },
        ],
      },
    });
    const db = stack.store.pool;
    await seedAlice(db);
    // The anonymous instance the stack started steps aside, so logins below prove the new one serves.
    await stack.service!.stop();
  });

  after(async () => {
    await stack?.stop();
    if (dir) await removeTempDir(dir);
  });

  for (const [method, extra] of [
    ["ticket", { authid: "svc-ticket", ticket: "svc-secret" }],
    ["cryptosign", { authid: "svc-key" }],
  ] as const) {
    it(`authmethod ${method}`, async () => {
      const router = {
        url: `rawsocket+unix://${socketPath}`,
        authmethod: method,
        ...extra,
        ...(method === "cryptosign" ? { keyFile } : {}),
      };
      const service = await stack.startService({ router });
      try {
        await stack.ready(service);
        const c = await ticketLogin(stack.wsUrl, "app", "alice", "alice-ticket");
        assert.equal(c.welcome.authrole, "user");
        c.close();
      } finally {
        await service.stop();
      }
    });
  }
});
