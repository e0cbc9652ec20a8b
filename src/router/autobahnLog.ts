/**
 * autobahn-js prints its warnings with console.warn, several lines each ("connection closed" with a
 * dump of the close details, "auto-reconnecting in …") on every router disconnect and reconnect, so a
 * process that logs JSON lines would not. Its connection code calls `log.warn(...)` through the
 * module object of lib/log.js, so replacing that export routes every warning, from every autobahn
 * connection in the process, through pino as one structured line. The last logger installed wins.
 */
import { createRequire } from "node:module";
import type { Logger } from "../log/logger.js";

type Warn = (...args: unknown[]) => void;

const require = createRequire(import.meta.url);
let target: Logger | null = null;

/** Reconnect chatter (the router link reports closes itself, "router connection closed"; disabling retries is how it stops): debug. */
const ROUTINE = /^(connection closed|auto-reconnecting in |auto-reconnect disabled)/;

const warn: Warn = (...args) => {
  const [first, ...rest] = args;
  const msg = typeof first === "string" ? first : "autobahn warning";
  const detail = typeof first === "string" ? rest : args;
  const fields = { source: "autobahn", ...(detail.length > 0 ? { detail } : {}) };
  if (ROUTINE.test(msg)) target?.debug(fields, msg);
  else target?.warn(fields, msg);
};

export function routeAutobahnLog(log: Logger): void {
  target = log;
  const mod = require("autobahn/lib/log.js") as { warn: Warn };
  mod.warn = warn;
}
