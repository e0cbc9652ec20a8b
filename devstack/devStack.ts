/**
 * `npm run dev`: the whole thing locally. PostgreSQL (local server or embedded), migrations plus the
 * demo data, Crossbar with a generated config, wamp-authd and a demo callee; prints how to connect;
 * Ctrl-C stops all.
 */
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createLogger } from "../src/log/logger.js";
import { startDemoStack } from "./demoStack.js";
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
  const demo = await startDemoStack({ dbUrl, stackDir, wsPort, httpPort, log });
  const stop = async () => {
    await demo.stop();
    process.exit(0);
  };
  process.on("SIGINT", () => void stop());
  process.on("SIGTERM", () => void stop());
  process.stdout.write(
    [
      "",
      "wamp-authd demo stack is up.",
      `  router (WebSocket): ${demo.wsUrl}   realm: demo`,
      "  ticket and scram logins: alice / alice-secret (role user), bob / bob-secret (role guest), carol (disabled)",
      "  cryptosign: authid alice, private key (seed, demo only) 77616d702d61757468642064656d6f206b657920287075626c69632129000000",
      "  anonymous: role guest",
      "  demo callee: demo.hello (users and guests), demo.add2 (users), registered by demo-backend",
      "  admin CLI: AUTHD_DATABASE_URL=" + dbUrl + " node dist/src/cli/main.js --help",
      `  health: http://127.0.0.1:${httpPort}/readyz   metrics: http://127.0.0.1:${httpPort}/metrics`,
      `  database: ${dbUrl}`,
      `  Crossbar config: ${demo.crossbarConfigFile}`,
      "Ctrl-C stops everything.",
      "",
    ].join("\n"),
  );
}

main().catch((err: Error) => {
  process.stderr.write(`dev stack failed: ${err.message}\n`);
  process.exit(1);
});
