/**
 * `npm run dev`: the whole thing locally. PostgreSQL (local server or embedded), migrations plus the
 * demo data, Crossbar with a generated config, and wamp-authd; prints how to connect; Ctrl-C stops all.
 */
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { loadConfig } from "../src/config/load.js";
import { createLogger } from "../src/log/logger.js";
import { Service } from "../src/service.js";
import { migrate } from "../src/store/migrate.js";
import { createPool } from "../src/store/pool.js";
import { crossbarConfig } from "./crossbarConfig.js";
import { startCrossbar } from "./crossbarProcess.js";
import { ensureDatabase, ensurePostgres } from "./postgres.js";

const root = resolve(fileURLToPath(new URL(".", import.meta.url)), "../..");
const stackDir = process.env.AUTHD_STACK_DIR ?? join(root, ".stack");
const dbName = process.env.AUTHD_DEMO_DB ?? "wamp_authd_demo";
const wsPort = Number(process.env.AUTHD_DEMO_WS_PORT ?? 8080);
const httpPort = Number(process.env.AUTHD_DEMO_HTTP_PORT ?? 9464);

async function main(): Promise<void> {
  const log = createLogger(process.env.AUTHD_LOG_LEVEL ?? "info");
  mkdirSync(stackDir, { recursive: true });
  const server = await ensurePostgres({ log: (m) => log.info(m) });
  const dbUrl = await ensureDatabase(server.adminUrl, dbName);
  const pool = createPool(dbUrl, log, 2);
  const r = await migrate(pool, log, { dataDir: join(root, "examples/demo/data") });
  await pool.end();
  log.info({ applied: r.applied }, "database ready");

  const socketPath = join(stackDir, "authd.sock");
  const cb = await startCrossbar(
    crossbarConfig({
      socketPath,
      wsPort,
      methods: ["ticket", "scram", "cryptosign", "anonymous"],
      realms: [{ name: "demo", roles: ["user", "guest"].map((name) => ({ name, authorizer: "authd.authorize" })) }],
    }),
    { dir: join(stackDir, "crossbar") },
  );
  const config = loadConfig({
    values: {
      database: { url: dbUrl },
      router: { url: `rawsocket+unix://${socketPath}`, authRealm: "authd", realms: ["demo"] },
      http: { port: httpPort },
    },
  });
  const service = new Service(config, log);
  await service.start();
  const stop = async () => {
    await service.stop().catch(() => undefined);
    await cb.stop().catch(() => undefined);
    process.exit(0);
  };
  process.on("SIGINT", () => void stop());
  process.on("SIGTERM", () => void stop());
  process.stdout.write(
    [
      "",
      "wamp-authd demo stack is up.",
      `  router (WebSocket): ws://127.0.0.1:${wsPort}/ws   realm: demo`,
      "  ticket and scram logins: alice / alice-secret (role user), bob / bob-secret (role guest), carol (disabled)",
      "  cryptosign: authid alice, private key (seed, demo only) 77616d702d61757468642064656d6f206b657920287075626c69632129000000",
      "  anonymous: role guest",
      "  admin CLI: AUTHD_DATABASE_URL=" + dbUrl + " node dist/src/cli/main.js --help",
      `  health: http://127.0.0.1:${httpPort}/readyz   metrics: http://127.0.0.1:${httpPort}/metrics`,
      `  database: ${dbUrl}`,
      `  Crossbar config: ${join(stackDir, "crossbar/.crossbar/config.json")}`,
      "Ctrl-C stops everything.",
      "",
    ].join("\n"),
  );
}

main().catch((err: Error) => {
  process.stderr.write(`dev stack failed: ${err.message}\n`);
  process.exit(1);
});
